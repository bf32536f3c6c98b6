"""Write a status change: the one place a case's status moves and its history grows.

Also the one place a case's stored years (`found_year`, `fixed_year`) are kept: a mapper event sets
them from the dates on every insert and update of a case, whichever way in wrote it.
"""

from datetime import date, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from inspection import clock
from inspection.accounts.models import User
from inspection.cases.models import Case, StatusChange
from inspection.clock import utcnow
from inspection.vocab import STATUS_GROUPS, STATUSES

FIXED_STATUSES = frozenset(STATUS_GROUPS["fixed"])


def year_columns(
    status: str, found_on: date | None, done_on: date | None, verified_on: date | None
) -> dict:
    """The stored years of a case: found_year of found_on; fixed_year of done_on (else verified_on)
    while the case is done or verified, else None."""
    fixed_on = done_on or verified_on
    fixed = status in FIXED_STATUSES and fixed_on is not None
    return {
        "found_year": found_on.year if found_on is not None else None,
        "fixed_year": fixed_on.year if fixed else None,
    }


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _keep_year_columns(mapper, connection, case: Case) -> None:
    """Set a case's stored years from its dates just before it is written."""
    years = year_columns(case.status or "reported", case.found_on, case.done_on, case.verified_on)
    for name, value in years.items():
        if getattr(case, name) != value:
            setattr(case, name, value)


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
