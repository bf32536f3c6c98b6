"""The start page's field tasks: the user's open 图斑 核查 tasks and 回头看 re-checks, and how many are late."""

from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.rechecks.models import Recheck
from inspection.tuban.models import Tuban


def my_field_tasks(session: Session, user: User, today: date) -> dict:
    """{"tuban": (open, late), "rechecks": (open, late)} of the tasks assigned to the user."""
    late = func.sum(case((Tuban.due_on < today, 1), else_=0))
    tuban = session.execute(
        select(func.count(), late).where(
            Tuban.assignee_id == user.id,
            Tuban.outcome == "task",
            Tuban.review.in_(("open", "returned")),
        )
    ).one()
    late = func.sum(case((Recheck.due_on < today, 1), else_=0))
    rechecks = session.execute(
        select(func.count(), late).where(Recheck.assignee_id == user.id, Recheck.status == "open")
    ).one()
    return {
        "tuban": (int(tuban[0]), int(tuban[1] or 0)),
        "rechecks": (int(rechecks[0]), int(rechecks[1] or 0)),
    }
