"""When a 回头看 is due: some days after a closure, or at once when a new 图斑 covers the closed ground.

A re-check follows one closure (the case's `verified_on`) of an illegal-building or farmland case:
`schedule_rechecks` (the daily `flask rechecks schedule`) creates those whose day has come, for the
网格员 of the case's 组, due `window_days` later. A 图斑 batch linked to a closed case brings its
re-check forward to the batch deadline (`bring_forward`, called as the batch is imported).
"""

from datetime import date, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from inspection.cases.models import Case
from inspection.cases.records import default_responsibles
from inspection.rechecks.models import Recheck
from inspection.tuban.models import Tuban, TubanBatch, tuban_cases

KINDS = ("illegal_building", "farmland")  # the 违法 cases closed by demolition or restoration


def _new_recheck(case: Case, due_on: date, assignees: dict, **more) -> Recheck:
    member = assignees.get(case.group_id)
    return Recheck(
        case=case,
        closed_on=case.verified_on,
        due_on=due_on,
        town_id=case.town_id,
        village_id=case.village_id,
        group_id=case.group_id,
        assignee_id=member.id if member is not None else case.responsible_id,
        **more,
    )


def _existing(session: Session, cases: list[Case]) -> dict:
    """The re-checks of these cases' current closures, by case id."""
    if not cases:
        return {}
    closed_on = {c.id: c.verified_on for c in cases}
    found = {}
    for start in range(0, len(cases), 500):
        ids = [c.id for c in cases[start : start + 500]]
        for recheck in session.scalars(select(Recheck).where(Recheck.case_id.in_(ids))):
            if recheck.closed_on == closed_on[recheck.case_id]:
                found[recheck.case_id] = recheck
    return found


def schedule_rechecks(
    session: Session, today: date, *, days: int, window_days: int
) -> list[Recheck]:
    """Create the 回头看 of every closed 违法 case verified `days` or more days ago; the caller commits.

    Idempotent: a closure that has its re-check gets no second one. Due `window_days` after the
    day it became due, or after today for a closure found late (the first run, an old case).
    """
    has_recheck = exists().where(
        Recheck.case_id == Case.id, Recheck.closed_on == Case.verified_on
    )  # the unique key's index answers it
    waiting = list(
        session.scalars(
            select(Case)
            .where(
                Case.kind.in_(KINDS),
                Case.status == "verified",
                Case.verified_on <= today - timedelta(days=days),
                Case.merged_into_id.is_(None),
                ~has_recheck,
            )
            .order_by(Case.id)
        )
    )
    assignees = default_responsibles(session, [c.group_id for c in waiting])
    created = []
    for case in waiting:
        became_due = case.verified_on + timedelta(days=days)
        due_on = max(became_due, today) + timedelta(days=window_days)
        created.append(_new_recheck(case, due_on, assignees, origin="schedule"))
    session.add_all(created)
    session.flush()
    return created


def bring_forward(session: Session, batch: TubanBatch) -> list[int]:
    """Re-check now the closed 违法 cases a 图斑 of this batch is linked to; their case ids.

    A new re-check is due on the batch deadline; an open one already due later is moved to it.
    """
    rows = session.execute(
        select(Case, Tuban.id)
        .join(tuban_cases, tuban_cases.c.case_id == Case.id)
        .join(Tuban, Tuban.id == tuban_cases.c.tuban_id)
        .where(Tuban.batch_id == batch.id, Case.kind.in_(KINDS), Case.status == "verified")
        .order_by(Case.id, Tuban.id)
    ).all()
    first_tuban: dict[int, tuple[Case, int]] = {}
    for case, tuban_id in rows:
        first_tuban.setdefault(case.id, (case, tuban_id))
    cases = [case for case, _ in first_tuban.values()]
    existing = _existing(session, cases)
    assignees = default_responsibles(session, [c.group_id for c in cases if c.id not in existing])
    brought = []
    for case, tuban_id in first_tuban.values():
        recheck = existing.get(case.id)
        if recheck is None:
            session.add(
                _new_recheck(case, batch.deadline_on, assignees, origin="tuban", tuban_id=tuban_id)
            )
        elif recheck.status == "open" and recheck.due_on > batch.deadline_on:
            recheck.due_on, recheck.origin, recheck.tuban_id = batch.deadline_on, "tuban", tuban_id
        else:
            continue
        brought.append(case.id)
    session.flush()
    return brought


def on_batch_imported(_sender, *, session: Session, batch: TubanBatch, report) -> None:
    """Listener of tuban.signals.batch_imported: bring the covered closed cases' re-checks forward."""
    report.rechecks.extend(bring_forward(session, batch))
