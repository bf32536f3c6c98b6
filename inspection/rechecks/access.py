"""Who sees which re-checks: those of the cases he may see (cases.access), and his own tasks."""

from sqlalchemy import or_

from inspection.accounts.models import User
from inspection.cases.access import can_see, case_scope
from inspection.rechecks.models import Recheck


def recheck_scope(user: User):
    """A SQL condition on Recheck joined to Case: the re-checks the user may see."""
    return or_(case_scope(user), Recheck.assignee_id == user.id)


def can_see_recheck(user: User, recheck: Recheck) -> bool:
    """True if the user may open this re-check (recheck_scope for one loaded row)."""
    return recheck.assignee_id == user.id or can_see(user, recheck.case)
