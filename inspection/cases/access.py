"""Who may see which cases and cells: the county all, town staff their town, others their cells.

- `county` users and admins see the whole deployment, every town and the cases outside the grid.
- Town staff (`supervisor`, `officer`) see their town: the town cells they are tied to. While the
  deployment holds a single town they see it, and what lies outside the grid, whether tied or not
  (a one-town database works as it always has); once there are several towns, an untied town user
  sees no case at all (fail closed) until an admin ties him to his town.
- Everyone else sees the cells he is tied to and what lies inside them: a town cell its town, a
  village its village, a group its group.
"""

from flask import abort, g
from sqlalchemy import false, func, or_, select, true
from sqlalchemy.orm import Session, object_session

from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.grid.models import GridCell

WIDE_ROLES = frozenset({"county", "admin"})
TOWN_ROLES = frozenset({"supervisor", "officer"})


def single_town(session: Session | None) -> bool:
    """True while the deployment holds at most one town (the town staff's fallback rule).

    Counted once per session (a request), which is as long as a grid import takes to show.
    """
    if session is None:
        return False
    if "town_count" not in session.info:
        count = session.scalar(select(func.count()).where(GridCell.level == "town"))
        session.info["town_count"] = count or 0
    return session.info["town_count"] <= 1


def town_ids(user: User) -> frozenset[int] | None:
    """The ids of the towns whose every case the user sees; None for all towns and the outside."""
    if user.role in WIDE_ROLES or any(cell.level == "county" for cell in user.cells):
        return None
    tied = [cell.id for cell in user.cells if cell.level == "town"]
    if (user.role in TOWN_ROLES or tied) and single_town(object_session(user)):
        return None
    return frozenset(tied)


def sees_all(user: User) -> bool:
    """True for the county, admins and (in a one-town deployment) the town's staff."""
    return town_ids(user) is None


def sees_whole_town(user: User) -> bool:
    """True if the user sees at least one whole town (every village of it)."""
    towns = town_ids(user)
    return towns is None or bool(towns)


def case_scope(user: User):
    """A SQL condition selecting the cases the user may see."""
    towns = town_ids(user)
    if towns is None:
        return true()
    conditions = [Case.town_id.in_(sorted(towns))] if towns else []
    for cell in user.cells:
        if cell.level == "village":
            conditions.append(Case.village_id == cell.id)
        elif cell.level == "group":
            conditions.append(Case.group_id == cell.id)
    return or_(*conditions) if conditions else false()


def can_see(user: User, case: Case) -> bool:
    """True if the user may see the case (the same rule as case_scope, for one loaded case)."""
    towns = town_ids(user)
    if towns is None or case.town_id in towns:
        return True
    return any(
        (cell.level == "village" and case.village_id == cell.id)
        or (cell.level == "group" and case.group_id == cell.id)
        for cell in user.cells
    )


def sees_cell(user: User, cell: GridCell) -> bool:
    """True if the user may open the cell (its map, its figures): his cells, what is in them, or all."""
    if sees_all(user):
        return True
    mine = {c.id for c in user.cells}
    node: GridCell | None = cell
    while node is not None:
        if node.id in mine:
            return True
        node = node.parent
    return False


def visible_towns(session: Session, user: User) -> list[GridCell]:
    """The towns the user sees whole, by code (every town for the county and admins)."""
    towns = town_ids(user)
    query = select(GridCell).where(GridCell.level == "town").order_by(GridCell.code)
    if towns is not None:
        query = query.where(GridCell.id.in_(sorted(towns)))
    return list(session.scalars(query))


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
