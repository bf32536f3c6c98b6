"""Who sees which 图斑 and batches: the same rule as cases (inspection.cases.access), by 村/组/镇."""

from sqlalchemy import false, or_, true

from inspection.accounts.models import User
from inspection.cases.access import town_ids
from inspection.tuban.models import Tuban, TubanBatch

MANAGERS = frozenset({"supervisor", "county", "admin"})  # import batches, review 举证


def tuban_scope(user: User):
    """A SQL condition selecting the 图斑 the user may see (his towns, villages or groups)."""
    towns = town_ids(user)
    if towns is None:
        return true()
    conditions = [Tuban.town_id.in_(sorted(towns))] if towns else []
    for cell in user.cells:
        if cell.level == "village":
            conditions.append(Tuban.village_id == cell.id)
        elif cell.level == "group":
            conditions.append(Tuban.group_id == cell.id)
    conditions.append(Tuban.assignee_id == user.id)
    return or_(*conditions) if conditions else false()


def can_see_tuban(user: User, tuban: Tuban) -> bool:
    """True if the user may see this 图斑 (tuban_scope for one loaded row)."""
    towns = town_ids(user)
    if towns is None or tuban.town_id in towns or tuban.assignee_id == user.id:
        return True
    return any(
        (cell.level == "village" and tuban.village_id == cell.id)
        or (cell.level == "group" and tuban.group_id == cell.id)
        for cell in user.cells
    )


def can_see_batch(user: User, batch: TubanBatch) -> bool:
    """True if the user may open a batch's page: a county batch or one of his towns (managers)."""
    if user.role not in MANAGERS:
        return False
    towns = town_ids(user)
    return towns is None or batch.town_id is None or batch.town_id in towns


def can_manage(user: User, tuban: Tuban) -> bool:
    """True if the user may review this 图斑's 举证: a supervisor of its town, the county, an admin."""
    return user.role in MANAGERS and can_see_tuban(user, tuban)
