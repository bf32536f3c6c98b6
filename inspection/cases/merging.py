"""A supervisor merges a duplicate case into the one that survives: counted once, nothing lost.

The duplicate is closed as void (it then counts nowhere in the year figures, see reporting.figures)
with a history row saying where it went, and points to the survivor (`merged_into_id`); its photos
move to the survivor (a picture both hold stays once). Its own history stays on it and is shown on
the survivor's page. Both cases must be of one kind, visible to the supervisor, neither merged yet.
A new, open report merged into a closed (verified) case is the problem found back: the survivor is
reopened as 复发 (cases.recurrence), found once, its recurrence counted.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.nearby import same_ground
from inspection import clock
from inspection.accounts.models import User
from inspection.cases.access import can_see
from inspection.cases.duplicates import RADIUS_M
from inspection.cases.history import record_change
from inspection.cases.models import Case
from inspection.cases.records import save_case, stale_case
from inspection.cases.recurrence import reopen_as_recurrence
from inspection.db import begin_write
from inspection.errors import Conflict, InvalidInput, NotAllowed
from inspection.params import form_number
from inspection.vocab import STATUS_GROUPS

MERGERS = frozenset({"supervisor", "admin"})


def _refuse(code: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput(code, zh, en)


def _check(actor: User, survivor: Case, duplicate: Case | None) -> Case:
    """Refuse a merge the actor may not make or that makes no sense; the duplicate when it is fine."""
    if actor.role not in MERGERS:
        raise NotAllowed(
            "merge_role", "只有镇领导或管理员可以合并案件", "Only supervisors may merge cases"
        )
    if duplicate is None or not can_see(actor, duplicate):
        raise _refuse("merge_unknown", "没有这个编号的案件", "No case has that number")
    if duplicate.id == survivor.id:
        raise _refuse("merge_self", "不能与自身合并", "A case cannot be merged into itself")
    if duplicate.kind != survivor.kind:
        raise _refuse("merge_kind", "只能合并同一类的案件", "Only cases of one kind can be merged")
    if survivor.merged_into_id is not None or duplicate.merged_into_id is not None:
        raise Conflict("merge_done", "其中一件已合并到其他案件", "One of them was merged already")
    return duplicate


def merge_cases(
    session: Session,
    survivor: Case,
    duplicate_id: int,
    actor: User,
    *,
    reason: str,
    expected_version=None,
) -> Case:
    """Merge case `duplicate_id` into `survivor` (whose version the form showed); the caller commits."""
    begin_write(session)
    if actor.role not in MERGERS:
        raise NotAllowed(
            "merge_role", "只有镇领导或管理员可以合并案件", "Only supervisors may merge cases"
        )
    if expected_version is not None and str(expected_version) != str(survivor.version):
        raise stale_case()
    duplicate = _check(actor, survivor, session.get(Case, duplicate_id))
    reason = (reason or "").strip()
    if not reason:
        raise _refuse("merge_reason", "请说明为何是同一处", "Say why they are the same")
    reported_anew = survivor.status == "verified" and duplicate.status in STATUS_GROUPS["open"]
    note = f"与 #{survivor.id} 为同一处，已合并到 #{survivor.id}：{reason[:500]}"
    _fold(session, survivor, duplicate, actor, note)
    if reported_anew:
        reopen_as_recurrence(
            session, survivor, actor, via="report", note=reason[:500], ref={"case": duplicate.id}
        )
    save_case(session)
    return duplicate


def _fold(session: Session, survivor: Case, duplicate: Case, actor: User, note: str) -> None:
    """Close the duplicate as void pointing to the survivor, and move its photos (each once)."""
    record_change(session, duplicate, "void", actor, note=note, on=clock.town_today())
    duplicate.merged_into_id = survivor.id
    known = {p.sha256 for p in survivor.photos}
    for photo in list(duplicate.photos):
        if photo.sha256 not in known:
            photo.case = survivor
            known.add(photo.sha256)


def report_as_recurrence(session: Session, report: Case, closed_id, reporter: User) -> Case:
    """A report that says "this closed case is back": reopen it as 复发 and fold the report into it.

    The reporter must see the closed case; it must be of the report's kind, closed (verified) and on
    the same ground (duplicates.same_ground's rule). Returns the reopened case; the caller commits.
    """
    number = form_number(closed_id)
    closed = session.get(Case, number) if number is not None else None
    if closed is None or not can_see(reporter, closed) or closed.kind != report.kind:
        raise _refuse(
            "recurrence_unknown", "没有这个编号的同类案件", "No case of this kind has that number"
        )
    if closed.status != "verified":
        raise _refuse(
            "recurrence_not_closed",
            f"案件 #{closed.id} 尚未销号：请在原案件中继续办理，不作复发上报",
            f"Case #{closed.id} is not closed; carry on with it instead",
        )
    if not same_ground(report.geom, [closed.geom], radius_m=RADIUS_M)[0]:
        raise _refuse(
            "recurrence_elsewhere",
            f"上报位置与案件 #{closed.id} 不在同一处（相距超过{RADIUS_M:.0f}米或不相交），不能作为复发",
            f"The report is not on the ground of case #{closed.id}",
        )
    _fold(session, closed, report, reporter, f"复发上报，已并入原案件 #{closed.id}")
    text = report.description or report.title
    reopen_as_recurrence(
        session, closed, reporter, via="report", note=text, ref={"case": report.id}
    )
    save_case(session)
    return closed


def merged_cases(session: Session, survivor: Case) -> list[Case]:
    """The cases merged into this one, oldest first."""
    return list(
        session.scalars(select(Case).where(Case.merged_into_id == survivor.id).order_by(Case.id))
    )
