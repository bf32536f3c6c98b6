"""Who may see a patrol's track: its 网格员, his village head, supervisors of his town, admins; 404 to anyone else.

Tracks say where a person was and when, so the rule is narrower than the cases': officers and
county staff, who see every case, see no track (the county's figures are counts, not tracks), and
another 网格员 of the same village sees none. A village head is a user tied to a village cell:
he sees the patrols of the users tied to that village or to its groups. A supervisor sees the
patrols of his town (`Patrol.town_id`; the whole deployment while it holds one town, as for cases).
"""

from flask import abort, g
from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

from inspection.accounts.models import User, user_cells
from inspection.cases.access import town_ids
from inspection.grid.models import GridCell
from inspection.patrols.models import Patrol


def _headed_villages(user: User) -> set[int]:
    """The ids of the village cells the user heads."""
    return {cell.id for cell in user.cells if cell.level == "village"}


def patrol_scope(user: User):
    """A SQL condition selecting the patrols whose tracks the user may see."""
    if user.role == "admin":
        return true()
    conditions = [Patrol.user_id == user.id]
    villages = _headed_villages(user)
    if villages:
        members = (
            select(user_cells.c.user_id)
            .join(GridCell, GridCell.id == user_cells.c.cell_id)
            .where(or_(GridCell.id.in_(sorted(villages)), GridCell.parent_id.in_(sorted(villages))))
        )
        conditions.append(Patrol.user_id.in_(members))
    if user.role == "supervisor":
        towns = town_ids(user)
        if towns is None:
            return true()
        if towns:
            conditions.append(Patrol.town_id.in_(sorted(towns)))
    return or_(*conditions) if conditions else false()


def can_see_patrol(user: User, patrol: Patrol) -> bool:
    """True if the user may see the patrol's track (the same rule as patrol_scope, for one patrol)."""
    if user.role == "admin" or patrol.user_id == user.id:
        return True
    villages = _headed_villages(user)
    if villages and any(c.id in villages or c.parent_id in villages for c in patrol.user.cells):
        return True
    if user.role == "supervisor":
        towns = town_ids(user)
        return towns is None or patrol.town_id in towns
    return False


def patrol_or_404(session: Session, patrol_id: int, user: User) -> Patrol:
    """Load a patrol the user may see; any other id answers 404, so ids and tracks don't leak."""
    patrol = session.get(Patrol, patrol_id)
    if patrol is None or not can_see_patrol(user, patrol):
        if patrol is not None:  # the audit log notes the refusal
            g.audit_refused_target = f"patrol:{patrol_id}"
        abort(404)
    return patrol


def may_upload_for(user: User, owner: User) -> bool:
    """True if the user may import a track file as `owner`'s patrol: his own, or anyone's for admins."""
    return user.id == owner.id or user.role == "admin"
