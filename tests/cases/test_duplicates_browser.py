"""The report form in Chromium names a case already reported on the same ground, with a link to it."""

import pytest
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.cases.history import record_change
from inspection.cases.models import Case
from inspection.cases.records import create_case
from tests.cases.test_report_browser import (  # noqa: F401  (the fixtures `page` and `served`)
    SUBMIT,
    fill_issue,
    member_and_group,
    open_form,
    page,
    served,
)

pytestmark = pytest.mark.browser


def test_the_form_lists_the_case_on_the_same_ground(page, served):  # noqa: F811
    app, _base = served
    username, group = member_and_group(app)
    with app.app_context():
        member = db.session.scalar(select(User).where(User.username == username))
        point = group.boundary.representative_point()
        case, _ = create_case(
            db.session(), "issue", point, {"title": "桥头垃圾堆", "category": "garbage"}, member
        )
        db.session.commit()
        case_id = case.id

    open_form(page, "issue")
    fill_issue(page, group)
    page.wait_for_selector("#similar:not([hidden])")

    assert "桥头垃圾堆" in page.text_content("#similar")
    assert page.get_attribute("#similar a", "href") == f"/cases/{case_id}"


def test_a_closed_case_back_again_is_reported_as_its_recurrence(page, served):  # noqa: F811
    app, base = served
    username, group = member_and_group(app)
    with app.app_context():
        s = db.session()
        member = s.scalar(select(User).where(User.username == username))
        point = group.boundary.representative_point()
        case, _ = create_case(
            s, "issue", point, {"title": "渠边垃圾", "category": "garbage"}, member
        )
        record_change(s, case, "verified", None)
        s.commit()
        case_id, before = case.id, s.query(Case).count()

    open_form(page, "issue")
    fill_issue(page, group, description="垃圾又堆起来了")
    page.wait_for_selector("#similar input.recurrence-of")
    page.check("#similar input.recurrence-of")
    page.click(SUBMIT)
    page.wait_for_url(f"{base}/cases/{case_id}")

    with app.app_context():
        s = db.session()
        case = s.get(Case, case_id)
        report = s.scalar(select(Case).where(Case.merged_into_id == case_id))
        assert (
            case.status == "reported" and case.history[-1].details["recurrence"]["via"] == "report"
        )
        assert report.status == "void" and s.query(Case).count() == before + 1
