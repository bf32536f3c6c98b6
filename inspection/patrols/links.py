"""Cases found on a patrol: linked by the patrol's client id when reported from a running patrol, by time on import.

The report form of a phone on patrol carries `patrol_client_id` (static/js/patrol_link.js); the
cases package announces each new report (`inspection.cases.signals.case_reported`) and the link
is written in the same transaction. A case may arrive before its patrol (both wait offline in
separate queues), so the link names the patrol's client id, and a link counts only when the
patrol's 网格员 is the case's reporter.
"""

from flask import Flask
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from inspection.cases.models import Case
from inspection.cases.signals import case_reported
from inspection.patrols.models import Patrol, PatrolCase

FORM_FIELD = "patrol_client_id"


def link_case(session: Session, case: Case, patrol_client_id: str) -> PatrolCase | None:
    """Link a new case to the patrol its reporter was on (by the patrol's client id)."""
    patrol_client_id = (patrol_client_id or "").strip()
    if not patrol_client_id or len(patrol_client_id) > 64:
        return None
    patrol = session.scalar(select(Patrol).where(Patrol.client_id == patrol_client_id))
    if patrol is not None and patrol.user_id != case.reporter_id:
        return None  # another 网格员's patrol: never linked
    link = session.get(PatrolCase, case.id)
    if link is None:
        link = PatrolCase(case_id=case.id, patrol_client_id=patrol_client_id)
        session.add(link)
    return link


def link_cases_by_time(session: Session, patrol: Patrol) -> int:
    """Link the cases the patrol's 网格员 reported between its first and last fix (not linked yet)."""
    if patrol.started_at is None or patrol.ended_at is None:
        return 0
    linked = select(PatrolCase.case_id)
    cases = session.scalars(
        select(Case.id).where(
            Case.reporter_id == patrol.user_id,
            Case.created_at >= patrol.started_at,
            Case.created_at <= patrol.ended_at,
            Case.id.not_in(linked),
        )
    ).all()
    session.add_all(
        PatrolCase(case_id=case_id, patrol_client_id=patrol.client_id) for case_id in cases
    )
    return len(cases)


def patrol_cases(session: Session, patrol: Patrol) -> list[Case]:
    """The cases linked to a patrol and reported by its 网格员, oldest first."""
    return list(
        session.scalars(
            select(Case)
            .join(PatrolCase, PatrolCase.case_id == Case.id)
            .where(
                and_(
                    PatrolCase.patrol_client_id == patrol.client_id,
                    Case.reporter_id == patrol.user_id,
                )
            )
            .order_by(Case.id)
        )
    )


def _on_case_reported(_sender, *, session: Session, case: Case, form) -> None:
    """Link a case just reported from a patrol (its form named the patrol)."""
    value = form.get(FORM_FIELD) if form is not None else None
    if value:
        link_case(session, case, value)


def init_app(app: Flask) -> None:
    """Listen for new reports (once per process: blinker keeps the receiver)."""
    case_reported.connect(_on_case_reported)
