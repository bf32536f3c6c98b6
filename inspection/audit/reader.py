"""Read the audit log: entries filtered by user, action and target, newest first, a page at a time."""

from dataclasses import dataclass

from sqlalchemy import false, func, or_, select, true
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.cases.access import town_ids
from inspection.grid.models import GridCell
from inspection.journal import AuditEntry

PAGE_SIZE = 50
READERS = frozenset({"admin", "supervisor", "county"})
# Id fields shown with the name they point to.
USER_FIELDS = frozenset({"responsible_id", "reporter_id", "uploaded_by_id"})
CELL_FIELDS = frozenset({"town_id", "village_id", "group_id", "parent_id"})


@dataclass(frozen=True)
class Filters:
    """What the log is narrowed to: a username, an action (or its family, e.g. "case") and a target."""

    user: str = ""
    action: str = ""
    target: str = ""

    @classmethod
    def from_args(cls, args) -> "Filters":
        """Read the filters from query arguments, trimmed to the column sizes."""
        return cls(
            user=(args.get("user") or "").strip()[:64],
            action=(args.get("action") or "").strip()[:40],
            target=(args.get("target") or "").strip()[:100],
        )


def may_read(user) -> bool:
    """True if the user may read the audit log (admins, supervisors and the county)."""
    return user.role in READERS


def _conditions(filters: Filters) -> list:
    conditions = []
    if filters.user:
        conditions.append(func.lower(AuditEntry.username) == filters.user.lower())
    if filters.action:
        conditions.append(
            or_(
                AuditEntry.event == filters.action,
                AuditEntry.event.startswith(filters.action.rstrip(".") + ".", autoescape=True),
            )
        )
    if filters.target:
        conditions.append(AuditEntry.target == filters.target)
    return conditions


def scope(reader: User):
    """A SQL condition on the entries a reader may read: all for the county and admins, else his towns'.

    A town's staff read the lines about the cases of their towns; lines about no case (logins, the
    grid, accounts, settings) are the county's and the admins'.
    """
    towns = town_ids(reader)
    if towns is None:
        return true()
    return AuditEntry.town_id.in_(sorted(towns)) if towns else false()


def find_entries(
    session: Session, filters: Filters, page: int = 1, reader: User | None = None
) -> tuple[list[AuditEntry], bool]:
    """One page of matching entries the reader may read, newest first, and whether an older page exists."""
    page = max(page, 1)
    rows = session.scalars(
        select(AuditEntry)
        .where(*_conditions(filters), scope(reader) if reader is not None else true())
        .order_by(AuditEntry.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return list(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE


def known_actions(session: Session) -> list[str]:
    """Every action that occurs in the log, for the filter's choices."""
    return list(session.scalars(select(AuditEntry.event).distinct().order_by(AuditEntry.event)))


def _fields(details: dict | None) -> dict:
    """The field → value pairs of an entry's details, old and new values alike."""
    found: dict[str, list] = {}
    for key in ("changes", "values"):
        for field, value in ((details or {}).get(key) or {}).items():
            found.setdefault(field, []).extend(value if isinstance(value, list) else [value])
    return found


def id_names(session: Session, entries: list[AuditEntry]) -> dict[str, dict[int, str]]:
    """Names of the users and grid cells the entries' id fields point to, two queries at most."""
    users, cells = set(), set()
    for entry in entries:
        for field, found in _fields(entry.details).items():
            ids = {v for v in found if isinstance(v, int) and not isinstance(v, bool)}
            if field in USER_FIELDS:
                users |= ids
            elif field in CELL_FIELDS:
                cells |= ids
    names: dict[str, dict[int, str]] = {"user": {}, "cell": {}}
    if users:
        rows = session.execute(select(User.id, User.display_name).where(User.id.in_(users)))
        names["user"] = dict(rows.all())
    if cells:
        rows = session.execute(select(GridCell.id, GridCell.name).where(GridCell.id.in_(cells)))
        names["cell"] = dict(rows.all())
    return names


def _named(field: str, value, names: dict) -> object:
    table = "user" if field in USER_FIELDS else "cell" if field in CELL_FIELDS else None
    if table and isinstance(value, int) and value in names.get(table, {}):
        return f"{names[table][value]} (#{value})"
    return value


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def detail_lines(details: dict | None, names: dict | None = None) -> list[str]:
    """An entry's details as short lines: 'field: old → new' for changes, 'field: value' otherwise.

    `names` (from id_names) shows an id field as the name it points to.
    """
    names = names or {}
    lines = []
    for key, value in (details or {}).items():
        if key == "changes" and isinstance(value, dict):
            for field, change in value.items():
                if isinstance(change, list) and len(change) == 2:
                    old, new = (_text(_named(field, v, names)) for v in change)
                    lines.append(f"{field}: {old} → {new}")
                else:
                    lines.append(f"{field}: {_text(change)}")
        elif key == "values" and isinstance(value, dict):
            lines.extend(f"{f}: {_text(_named(f, v, names))}" for f, v in value.items())
        else:
            lines.append(f"{key}: {_text(value)}")
    return lines
