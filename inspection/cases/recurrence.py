"""复发: a closed case whose problem is found back on the same ground is reopened, never counted twice.

A 回头看 (re-check), a new 图斑 checked on the ground, or a new report merged into it by a supervisor
reopens a verified case (已销号/已验收) to `reported` (待核实), and the town confirms it again in the
normal workflow. The ground stays one case: it is found once (its `found_on`); it counts as
demolished, restored or rectified in the year of its latest done, and in no year while the
recurrence is open, as a case sent back does (reporting.figures). The change verified → reported is
the recurrence: only this function writes it, and the year figures count it (`recurred`) in the year
it is recorded. The earlier closure's dates, deadline and demolished area stay in the history row.
"""

from datetime import date

from sqlalchemy.orm import Session

from inspection import clock
from inspection.accounts.models import User
from inspection.cases.access import can_see
from inspection.cases.history import record_change
from inspection.cases.models import Case, StatusChange
from inspection.cases.records import save_case
from inspection.db import begin_write
from inspection.errors import Conflict, NotAllowed

REOPENED_FROM = "verified"
REOPENED_TO = "reported"
# The ways a recurrence is found (details["recurrence"]["via"]).
WAYS = {
    "recheck": ("回头看", "re-check"),
    "tuban": ("卫片图斑", "satellite 图斑"),
    "report": ("新上报", "new report"),
}


def is_recurrence(change: StatusChange) -> bool:
    """True if this history row reopened a closed case as 复发."""
    return change.from_status == REOPENED_FROM and change.to_status == REOPENED_TO


def reopen_as_recurrence(
    session: Session,
    case: Case,
    actor: User,
    *,
    via: str,
    note: str,
    ref: dict | None = None,
    today: date | None = None,
) -> StatusChange:
    """Reopen a verified case as 复发, found by `via` (WAYS) with `ref` (ids); the caller commits."""
    begin_write(session)
    if via not in WAYS:
        raise ValueError(f"unknown way {via!r}")
    if not can_see(actor, case):
        raise NotAllowed(
            "not_visible", "您无权查看或办理该案件", "You may not see or act on this case"
        )
    if case.status != REOPENED_FROM:
        raise Conflict(
            "recurrence_not_closed",
            f"案件 #{case.id} 尚未销号，不能作为复发重新立案（请在原案件中继续办理）",
            f"Case #{case.id} is not closed; carry on with it instead of reopening it",
        )
    previous = {
        "done_on": case.done_on.isoformat() if case.done_on else None,
        "verified_on": case.verified_on.isoformat() if case.verified_on else None,
        "deadline_on": case.deadline_on.isoformat() if case.deadline_on else None,
        "demolished_area_m2": case.demolished_area_m2,
    }
    way_zh, _ = WAYS[via]
    text = f"复发（{way_zh}发现）：{(note or '').strip()[:1000]}".rstrip("：")
    details = {"recurrence": {"via": via, **(ref or {})}, "previous": previous}
    change = record_change(
        session,
        case,
        REOPENED_TO,
        actor,
        note=text,
        on=today or clock.town_today(),
        details=details,
    )
    # Open again: no longer done nor verified (the year figures' fixed_year follows), due anew.
    case.done_on = case.verified_on = case.deadline_on = None
    case.demolished_area_m2 = None  # counted again only when the demolition is reported anew
    save_case(session)
    return change

