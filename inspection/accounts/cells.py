"""The grid as admins see it: the 镇 → 村 → 组 tree with its people, and editing a cell's name and people."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inspection import journal
from inspection.accounts.models import User
from inspection.accounts.users import UserError, require_admin
from inspection.db import begin_write
from inspection.grid.models import GridCell

LEVEL_ORDER = {"town": 0, "village": 1, "group": 2}


@dataclass
class Node:
    """One cell of the tree with its responsible users and its child cells."""

    cell: GridCell
    members: list[User]
    children: list["Node"] = field(default_factory=list)


def grid_tree(session: Session) -> list[Node]:
    """The cells as a forest by parent (towns first; a cell whose parent is missing is a root)."""
    cells = session.scalars(
        select(GridCell).options(selectinload(GridCell.members)).order_by(GridCell.code)
    ).all()
    nodes = {
        c.id: Node(c, sorted(c.members, key=lambda u: (not u.active, u.username))) for c in cells
    }
    roots = []
    for cell in cells:
        parent = nodes.get(cell.parent_id) if cell.parent_id is not None else None
        (parent.children if parent else roots).append(nodes[cell.id])
    roots.sort(key=lambda n: (LEVEL_ORDER.get(n.cell.level, 9), n.cell.code))
    return roots


def update_grid_cell(
    session: Session,
    actor: User,
    cell: GridCell,
    name: str,
    member_ids: list[int],
    *,
    address: str | None = None,
) -> list[str]:
    """Rename a cell and set the users responsible for it (admin only); audited. Caller commits."""
    begin_write(session)
    require_admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise UserError(
            "name", "bad_cell_name", "网格名称须为1至100个字", "A name is 1 to 100 chars"
        )
    wanted = sorted(set(member_ids))
    users = session.scalars(select(User).where(User.id.in_(wanted))).all() if wanted else []
    if len(users) != len(wanted):
        raise UserError(
            "member_ids",
            "unknown_user",
            "所选人员不存在，请刷新页面",
            "A chosen user no longer exists",
        )
    before = {"name": cell.name, "members": sorted(u.username for u in cell.members)}
    cell.name = name
    cell.members = sorted(users, key=lambda u: u.id)
    after = {"name": cell.name, "members": sorted(u.username for u in users)}
    changed = [key for key in before if before[key] != after[key]]
    if changed:
        journal.log(
            session,
            "grid_cell_updated",
            user=actor,
            address=address,
            target=f"grid:{cell.code}",
            details={
                "code": cell.code,
                "changed": changed,
                "before": {k: before[k] for k in changed},
                "after": {k: after[k] for k in changed},
            },
        )
    session.flush()
    return changed
