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

from inspection import clock
from inspection.accounts.models import User
from inspection.cases.access import can_see
from inspection.cases.history import record_change
from inspection.cases.models import Case
from inspection.cases.records import save_case, stale_case
from inspection.cases.recurrence import reopen_as_recurrence
from inspection.db import begin_write
from inspection.errors import Conflict, InvalidInput, NotAllowed
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
    record_change(session, duplicate, "void", actor, note=note, on=clock.town_today())
    duplicate.merged_into_id = survivor.id
    known = {p.sha256 for p in survivor.photos}
    for photo in list(duplicate.photos):
        if photo.sha256 not in known:
            photo.case = survivor
            known.add(photo.sha256)
    if reported_anew:
        reopen_as_recurrence(
            session, survivor, actor, via="report", note=reason[:500], ref={"case": duplicate.id}
        )
    save_case(session)
    return duplicate


def merged_cases(session: Session, survivor: Case) -> list[Case]:
    """The cases merged into this one, oldest first."""
    return list(
        session.scalars(select(Case).where(Case.merged_into_id == survivor.id).order_by(Case.id))
    )
