"""The audit trail: every flushed change to a case, photo, user or grid cell leaves an audit row.

One session listener (after_flush) reads what the flush wrote and inserts the audit rows on the
flush's own connection, so a row commits and rolls back with its change and no write path can
forget it. Who acted: the actor set with `acting()` / `set_actor()` (the web layer sets the logged-in
user per request), else "system" — the command line, the demo loader and scripts.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.cases.models import Case, Photo
from inspection.clock import utcnow
from inspection.grid.models import GridCell
from inspection.journal import AuditEntry

SYSTEM = "system"
TEXT_LIMIT = 80  # characters of a text value kept in the log
UNKNOWN = "?"  # an old value the session never loaded
DELETED_KEY = "audit_deleted"  # session.info: rows deleted in the flush under way

# Columns never written to the log: keys, counters, timestamps and what the geometry implies.
NOISE = frozenset(
    {
        "id",
        "version",
        "created_at",
        "updated_at",
        "client_id",
        "session_version",
        "min_lon",
        "min_lat",
        "max_lon",
        "max_lat",
        "point_lon",
        "point_lat",
        # A case's stored years follow its dates and history (inspection.cases.history).
        "found_year",
        "fixed_year",
        "run_year",
        "needs_history",
    }
)
GEOMETRY = {Case: "geom", GridCell: "boundary"}
SECRET = {User: "password_hash"}
# Many-to-many collections logged as the codes / usernames they hold.
COLLECTIONS = {User: ("cells", "code"), GridCell: ("members", "username")}
PREFIX = {Case: "case", User: "user", GridCell: "grid"}


@dataclass(frozen=True)
class Actor:
    """Who made a change: the user's id and name (no id for the system) and the address."""

    user_id: int | None
    username: str | None
    address: str | None = None


_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def actor_of(user: User | None, *, name: str | None = None, address: str | None = None) -> Actor:
    """An Actor for a user (or, without one, for a name such as "system")."""
    if user is None:
        return Actor(None, name or SYSTEM, address)
    return Actor(user.id, user.username, address)


def set_actor(actor: Actor | None) -> Token:
    """Attribute the changes flushed from now on to the actor; reset with the returned token."""
    return _actor.set(actor)


def reset_actor(token: Token) -> None:
    """Go back to the actor before set_actor."""
    _actor.reset(token)


@contextmanager
def acting(user: User | None, *, name: str | None = None, address: str | None = None) -> Iterator:
    """Attribute the changes flushed inside the block to the user (or to a name, e.g. "cli")."""
    token = set_actor(actor_of(user, name=name, address=address))
    try:
        yield
    finally:
        reset_actor(token)


def current_actor() -> Actor:
    """Who the changes flushed now are attributed to."""
    return _actor.get() or Actor(None, SYSTEM)


def _short(value):
    """A value as it goes into the log: JSON-safe, texts cut, floats rounded."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, str) and len(value) > TEXT_LIMIT:
        return value[: TEXT_LIMIT - 1] + "…"
    if value is None or isinstance(value, bool | int | str):
        return value
    return _short(str(value))


def _area(value) -> str:
    if value is None:
        return "—"
    return UNKNOWN if value == UNKNOWN else f"{value:.1f}"


def _geometry_text(geom, area_m2) -> str:
    """A geometry as its type and area (m²), never its coordinates."""
    if geom is None:
        return ""
    return geom.geom_type + (f", {area_m2:.1f} m²" if area_m2 is not None else "")


def _old(state, key: str, history):
    """The value before the change; UNKNOWN when it had expired unread (None if never set)."""
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    # Not in the history: expired and never reloaded, or never set on a row inserted with NULL.
    return UNKNOWN if key in state.expired_attributes else None


def _geometry_change(state, key: str) -> str | None:
    """'changed, area 120.5 → 130.2 m²' (or the types when they differ); None if unchanged."""
    history = state.attrs[key].history
    if not history.has_changes():
        return None
    old, new = _old(state, key, history), state.dict.get(key)
    area = state.attrs.area_m2.history
    old_area, new_area = _old(state, "area_m2", area), state.dict.get("area_m2")
    text = "changed"
    if old not in (None, UNKNOWN) and new is not None and old.geom_type != new.geom_type:
        text += f", {old.geom_type} → {new.geom_type}"
    if area.has_changes():
        text += f", area {_area(old_area)} → {_area(new_area)} m²"
    elif new_area is not None:
        text += f", area {_area(new_area)} m²"
    return text


def _collection(state, cls, *, values: bool = False):
    """A many-to-many collection's change as [old, new] lists of names (or its names when values)."""
    key, name = COLLECTIONS.get(cls, (None, None))
    if key is None:
        return None
    history = state.attrs[key].history
    if values:
        items = list(history.added) + list(history.unchanged)
        return sorted(getattr(i, name) for i in items) or None
    if not (history.added or history.deleted):
        return None
    kept = [getattr(i, name) for i in history.unchanged]
    old = sorted(kept + [getattr(i, name) for i in history.deleted])
    new = sorted(kept + [getattr(i, name) for i in history.added])
    return [old, new] if old != new else None


def _keys(cls) -> list[str]:
    """The column attributes of a class that the log shows."""
    keys = _KEYS.get(cls)
    if keys is None:
        skip = NOISE | {GEOMETRY.get(cls), SECRET.get(cls)}
        keys = _KEYS[cls] = [p.key for p in inspect(cls).column_attrs if p.key not in skip]
    return keys


_KEYS: dict[type, list[str]] = {}


def values(obj) -> dict:
    """The fields of a new or deleted object worth logging (no secrets, geometry as a summary)."""
    cls, state = type(obj), inspect(obj)
    found = {k: _short(state.dict.get(k)) for k in _keys(cls)}
    found = {k: v for k, v in found.items() if v not in (None, "")}
    if cls in GEOMETRY:
        found.pop("area_m2", None)
        found["geometry"] = _geometry_text(state.dict.get(GEOMETRY[cls]), state.dict.get("area_m2"))
    members = _collection(state, cls, values=True)
    if members:
        found[COLLECTIONS[cls][0]] = members
    return found


def changes(obj) -> dict:
    """What a flush changed on an object: {field: [old, new]}, or a text for geometry and secrets."""
    cls, state = type(obj), inspect(obj)
    found: dict = {}
    for key in _keys(cls):
        history = state.attrs[key].history
        if history.has_changes():
            old, new = _short(_old(state, key, history)), _short(state.dict.get(key))
            if old != new:
                found[key] = [old, new]
    if cls in GEOMETRY and (text := _geometry_change(state, GEOMETRY[cls])):
        found.pop("area_m2", None)
        found["geometry"] = text
    if cls in SECRET and state.attrs[SECRET[cls]].history.has_changes():
        found["password"] = "changed"
    if (pair := _collection(state, cls)) is not None:
        found[COLLECTIONS[cls][0]] = pair
    return found


# Read from the state's dict, never through the attributes: after a DELETE, loading an expired
# attribute would fail the flush.
def _id(obj):
    state = inspect(obj)
    return state.identity[0] if state.identity else state.dict.get("id")


def _target(obj) -> str:
    found = inspect(obj).dict
    if isinstance(obj, Photo):
        return f"case:{found.get('case_id')}"
    if isinstance(obj, GridCell) and found.get("code"):
        return f"grid:{found['code']}"
    return f"{PREFIX[type(obj)]}:{_id(obj)}"


def _photo(photo: Photo) -> dict:
    found = inspect(photo).dict
    return {
        "photo": _id(photo),
        "stage": found.get("stage"),
        "size": f"{found.get('width')}×{found.get('height')}",
        "sha256": (found.get("sha256") or "")[:12],
    }


def entries(session: Session) -> list[dict]:
    """The audit rows (event, target, details) of the flush under way in the session."""
    rows = []
    deleted = session.info.pop(DELETED_KEY, [])
    deleted_cases = {_id(o) for o in deleted if isinstance(o, Case)}
    for obj in session.new:
        if isinstance(obj, Photo):
            rows.append(("case.photo", _target(obj), {"values": _photo(obj)}))
        elif type(obj) in PREFIX:
            rows.append((f"{PREFIX[type(obj)]}.create", _target(obj), {"values": values(obj)}))
    for obj in session.dirty:
        if type(obj) in PREFIX and (found := changes(obj)):
            kind = PREFIX[type(obj)]
            event_name = "case.status" if kind == "case" and "status" in found else f"{kind}.update"
            rows.append((event_name, _target(obj), {"changes": found}))
    for obj in deleted:
        if isinstance(obj, Photo) and inspect(obj).dict.get("case_id") not in deleted_cases:
            rows.append(("case.photo_delete", _target(obj), {"values": _photo(obj)}))
        elif type(obj) in PREFIX:
            rows.append((f"{PREFIX[type(obj)]}.delete", _target(obj), {"values": values(obj)}))
    return [{"event": e, "target": t, "details": d, "town_id": _town_of(session, t)} for e, t, d in rows]


def _town_of(session: Session, target: str | None) -> int | None:
    """The town id of the case a target names ("case:12"), else None (county-wide or system)."""
    if not target or not target.startswith("case:"):
        return None
    case_id = target.partition(":")[2]
    if not case_id.isdigit():
        return None
    case = session.identity_map.get(session.identity_key(Case, int(case_id)))
    if case is not None:
        return inspect(case).dict.get("town_id")
    return session.connection().scalar(select(Case.town_id).where(Case.id == int(case_id)))


@event.listens_for(Session, "before_flush")
def _town_of_logged_entries(session: Session, _flush_context, _instances) -> None:
    """Give each entry that journal.log() added about a case the town of that case."""
    for obj in session.new:
        if isinstance(obj, AuditEntry) and obj.town_id is None:
            obj.town_id = _town_of(session, obj.target)


def _note_delete(_mapper, _connection, target) -> None:
    """Remember a deleted row for the flush's audit rows (orphans and cascades included)."""
    inspect(target).session.info.setdefault(DELETED_KEY, []).append(target)


for _cls in (Case, Photo, User, GridCell):
    event.listen(_cls, "after_delete", _note_delete)


@event.listens_for(Session, "before_flush")
def _forget_deletes(session: Session, _flush_context, _instances) -> None:
    """Start each flush with no deletes noted (a failed flush may have left some)."""
    session.info.pop(DELETED_KEY, None)


@event.listens_for(Session, "after_flush")
def _write_entries(session: Session, _flush_context) -> None:
    """Insert the flush's audit rows on its own connection (the session is mid-flush)."""
    rows = entries(session)
    if not rows:
        return
    actor, at = current_actor(), utcnow()
    for row in rows:
        row.update(at=at, user_id=actor.user_id, username=actor.username, address=actor.address)
    session.connection().execute(insert(AuditEntry.__table__), rows)
