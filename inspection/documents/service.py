"""The 整改通知书 of one case as .docx bytes, with its download names: what the view and command call."""

from datetime import date

from inspection.cases.models import Case
from inspection.documents.case_notice import locator_png, notice_facts
from inspection.documents.notice import build_notice, notice_filename


def case_notice_docx(case: Case, *, case_url: str, issued_on: date) -> tuple[bytes, str, str]:
    """The notice's bytes, its Chinese file name and an ASCII fallback."""
    facts = notice_facts(case, case_url=case_url, issued_on=issued_on)
    name, ascii_name = notice_filename(facts)
    return build_notice(facts, locator_png(case)), name, ascii_name
