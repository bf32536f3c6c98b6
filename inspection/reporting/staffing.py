"""Who works the grid in a year: certified enforcement staff and the grid's villages, groups and 网格员.

Rules (the year summary's "其中有N名执法人员取得行政执法证" and "全镇划分N个村、M个村民小组，配备K名网格员"):

- certified: people (any role) with a certificate number whose certificate is valid on at least one day
  of the year (`cert_expires_on` on or after 1 January; certificates carry no issue date). A person
  counts in a town when tied to a cell of it (the town, a village or a group); everyone counts in the
  whole deployment (a lone town's or the county's figure), the untied too.
- grid: the town's villages and groups as stored now; grid_members = active users with the role
  `grid_member` tied to at least one group (组) of the town (village heads tied to a village only are
  not 网格员 of a group).
"""

from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from inspection.accounts.models import User, user_cells


def _town_of(cells) -> dict:
    """Each cell id → the id of its town (None above the towns), from rows of (id, level, parent_id)."""
    by_id = {c.id: c for c in cells}
    towns: dict = {}
    for cell in cells:
        node, seen = cell, 0
        while node is not None and node.level != "town" and seen < 10:
            node, seen = by_id.get(node.parent_id), seen + 1
        towns[cell.id] = node.id if node is not None and node.level == "town" else None
    return towns


def staffing(session: Session, year: int, cells) -> dict:
    """The staffing figures per town id and for the whole (key None), from the grid's cell rows.

    `cells` are rows with id, level and parent_id (as year_figures reads them). Each value is
    {"certified_officers": n, "grid": {"villages", "groups", "grid_members"}}; two grouped statements.
    """
    town_of = _town_of(cells)
    result: dict = {None: _empty()}
    for cell in cells:
        if cell.level == "town":
            result.setdefault(cell.id, _empty())
    for cell in cells:
        if cell.level in ("village", "group"):
            key = "villages" if cell.level == "village" else "groups"
            result[None]["grid"][key] += 1
            if town_of[cell.id] in result:
                result[town_of[cell.id]]["grid"][key] += 1

    certified = and_(User.cert_number.is_not(None), User.cert_number != "")
    valid = and_(certified, User.cert_expires_on >= date(year, 1, 1))
    result[None]["certified_officers"] = session.scalar(select(func.count(User.id)).where(valid))
    tied = session.execute(
        select(user_cells.c.cell_id, user_cells.c.user_id)
        .join(User, User.id == user_cells.c.user_id)
        .where(valid)
    ).all()
    _count_by_town(result, tied, town_of, "certified_officers")

    groups = [c.id for c in cells if c.level == "group"]
    members = session.execute(
        select(user_cells.c.cell_id, user_cells.c.user_id)
        .join(User, User.id == user_cells.c.user_id)
        .where(User.role == "grid_member", User.active.is_(True), user_cells.c.cell_id.in_(groups))
    ).all()
    result[None]["grid"]["grid_members"] = len({user_id for _, user_id in members})
    _count_by_town(result, members, town_of, "grid_members")
    return result


def _count_by_town(result: dict, pairs, town_of: dict, key: str) -> None:
    """Count the distinct users of (cell_id, user_id) pairs per town into result[town][…key]."""
    per_town: dict = {}
    for cell_id, user_id in pairs:
        per_town.setdefault(town_of.get(cell_id), set()).add(user_id)
    for town_id, users in per_town.items():
        if town_id is None or town_id not in result:
            continue
        target = result[town_id] if key == "certified_officers" else result[town_id]["grid"]
        target[key] = len(users)


def _empty() -> dict:
    return {"certified_officers": 0, "grid": {"villages": 0, "groups": 0, "grid_members": 0}}
