"""Who may see which cases: 网格员 their cells, village heads their village, the town for the rest."""

from flask import abort, g
from sqlalchemy import false, or_, true
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.cases.models import Case

TOWN_ROLES = frozenset({"supervisor", "admin", "officer"})


def case_scope(user: User):
    """A SQL condition selecting the cases the user may see."""
    if user.role in TOWN_ROLES:
        return true()
    conditions = []
    for cell in user.cells:
        if cell.level == "town":
            return true()
        if cell.level == "village":
            conditions.append(Case.village_id == cell.id)
        else:
            conditions.append(Case.group_id == cell.id)
    return or_(*conditions) if conditions else false()


def can_see(user: User, case: Case) -> bool:
    """True if the user may see the case (the same rule as case_scope, for one loaded case)."""
    if user.role in TOWN_ROLES:
        return True
    for cell in user.cells:
        if cell.level == "town":
            return True
        if cell.level == "village" and case.village_id == cell.id:
            return True
        if cell.level == "group" and case.group_id == cell.id:
            return True
    return False


def case_or_404(session: Session, case_id: int, user: User) -> Case:
    """Load a case the user may see; any other id answers 404, not 403, so ids don't leak."""
    case = session.get(Case, case_id)
    if case is None or not can_see(user, case):
        if case is not None:  # outside the user's grid: the audit log notes the refusal
            g.audit_refused_target = f"case:{case_id}"
        abort(404)
    return case


def is_village_head(user: User) -> bool:
    """A village head is a user tied to a village cell."""
    return any(cell.level == "village" for cell in user.cells)
