"""Write a status change: the one place a case's status moves and its history grows."""

from datetime import date, datetime

from sqlalchemy.orm import Session

from inspection import clock
from inspection.accounts.models import User
from inspection.cases.models import Case, StatusChange
from inspection.clock import utcnow
from inspection.vocab import STATUSES


def record_change(
    session: Session,
    case: Case,
    to_status: str,
    actor: User | None,
    *,
    note: str = "",
    on: date | None = None,
    at: datetime | None = None,
    details: dict | None = None,
    timezone: str | None = None,
) -> StatusChange:
    """Move a case to a status and append the history row (no permission check: see workflow)."""
    if to_status not in STATUSES:
        raise ValueError(f"unknown status {to_status!r}")
    at = at or utcnow()
    on = on or clock.local_day(at, timezone or clock.town_timezone())
    change = StatusChange(
        case=case,
        from_status=case.status if case.history else None,
        to_status=to_status,
        actor=actor,
        at=at,
        on=on,
        note=note,
        details=details,
    )
    case.status = to_status
    if to_status == "done":
        case.done_on = on
    elif to_status == "verified":
        case.verified_on = on
    elif to_status == "in_progress":  # returned after a failed check: no longer done
        case.done_on = None
        case.verified_on = None
    session.add(change)
    return change
