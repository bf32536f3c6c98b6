"""Write a status change: the one place a case's status moves and its history grows.

Also the one place a case's stored years are kept for the year figures: `found_year` and `fixed_year`
follow the dates (a mapper event sets them on every insert and update of a case, whichever way in
wrote it); `run_year` and `needs_history` follow the history, which only record_change writes.
"""

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from inspection import clock
from inspection.accounts.models import User
from inspection.cases.models import Case, StatusChange
from inspection.clock import utcnow
from inspection.vocab import STATUS_GROUPS, STATUSES

FIXED_STATUSES = frozenset(STATUS_GROUPS["fixed"])
OPEN_STATUSES = frozenset(STATUS_GROUPS["open"])


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


def history_columns(steps: list[tuple[str, date]]) -> dict:
    """run_year and needs_history of a case from its history, (to_status, on) in recorded order.

    run_year: the year of the change that began the current run of open statuses (reported,
    assigned, in_progress) or of settled ones (done, verified, void); None with no history.
    needs_history: the case was sent back (from a settled status to an open one) or a change is
    dated before the one before it, so its status on a day before its run may only be read from
    the history.
    """
    run_year, needs_history, last_on, last_open = None, False, None, None
    for to_status, on in steps:
        is_open = to_status in OPEN_STATUSES
        backwards = last_on is not None and on < last_on
        needs_history = needs_history or backwards or (last_open is False and is_open)
        if is_open is not last_open:
            run_year = on.year
        last_on, last_open = on, is_open
    return {"run_year": run_year, "needs_history": needs_history}


def stale_year_columns(session: Session) -> list[int]:
    """Ids of the cases whose stored years (or done_on) differ from the rules applied to their dates
    and history: a check for tests and the bench; empty when every way in kept them."""
    steps = defaultdict(list)
    for case_id, to_status, on in session.execute(
        select(StatusChange.case_id, StatusChange.to_status, StatusChange.on).order_by(
            StatusChange.id
        )
    ):
        steps[case_id].append((to_status, on))
    names = ("found_year", "fixed_year", "run_year", "needs_history")
    stale = []
    for case in session.execute(
        select(Case.id, Case.status, Case.found_on, Case.done_on, Case.verified_on)
        .add_columns(*(getattr(Case, n) for n in names))
        .order_by(Case.id)
    ):
        history = steps[case.id]
        expected = year_columns(case.status, case.found_on, case.done_on, case.verified_on)
        expected |= history_columns(history)
        dones = [on for to_status, on in history if to_status == "done"]
        done_kept = case.status not in FIXED_STATUSES or not dones or case.done_on == dones[-1]
        if not done_kept or {n: getattr(case, n) for n in names} != expected:
            stale.append(case.id)
    return stale


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _keep_year_columns(mapper, connection, case: Case) -> None:
    """Set a case's stored years from its dates just before it is written."""
    status = case.status or "reported"
    years = year_columns(status, case.found_on, case.done_on, case.verified_on)
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
    previous = case.history[-1] if case.history else None
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
    # Incrementally what history_columns gives for the whole history.
    is_open = to_status in OPEN_STATUSES
    was_open = previous.to_status in OPEN_STATUSES if previous is not None else None
    if previous is not None and (on < previous.on or (is_open and not was_open)):
        case.needs_history = True
    if is_open is not was_open:
        case.run_year = on.year
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
