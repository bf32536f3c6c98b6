"""Create cases: validate the fields, measure the geometry, place it in the grid, start its history."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from geodata.area import geodesic_area_m2
from inspection import clock
from inspection.accounts.models import User
from inspection.cases.access import can_see
from inspection.cases.history import record_change
from inspection.cases.models import Case
from inspection.cases.photos import attach_photos
from inspection.db import begin_write
from inspection.errors import Conflict, InvalidInput, NotAllowed
from inspection.grid.models import GridCell
from inspection.grid.placement import place
from inspection.vocab import CATEGORIES, KINDS, SOURCES, STRUCTURES

# Fields a caller may set on a new case, by kind (beside the common ones).
COMMON_FIELDS = ("source", "title", "description", "doc_number", "batch", "deadline_on", "remarks")
KIND_FIELDS = {
    "issue": ("category", "measures"),
    "illegal_building": (
        "party",
        "structure",
        "floors",
        "building_area_m2",
        "land_type",
        "enforcement_doc_no",
    ),
    "farmland": ("land_type", "crop", "parcel_no"),
}
GEOMETRY_TYPES = {
    "issue": {"Point", "Polygon", "MultiPolygon"},
    "illegal_building": {"Point", "Polygon", "MultiPolygon"},
    "farmland": {"Polygon", "MultiPolygon"},
}


def _check_fields(kind: str, geom, fields: dict) -> None:
    if kind not in KINDS:
        raise InvalidInput("bad_kind", f"未知的类型：{kind}", f"Unknown kind: {kind}")
    if geom.geom_type not in GEOMETRY_TYPES[kind]:
        raise InvalidInput(
            "bad_geometry_type",
            "复耕地块必须是面（多边形）" if kind == "farmland" else "位置必须是点或面",
            "A farmland parcel must be a polygon"
            if kind == "farmland"
            else "The location must be a point or a polygon",
        )
    allowed = set(COMMON_FIELDS) | set(KIND_FIELDS[kind]) | {"stated_area_m2"}
    unknown = set(fields) - allowed
    if unknown:
        names = ", ".join(sorted(unknown))
        raise InvalidInput("bad_field", f"该类型没有这些字段：{names}", f"Unknown fields: {names}")
    if not (fields.get("title") or "").strip():
        raise InvalidInput("title_required", "请填写标题", "A title is required")
    if fields.get("source", "patrol") not in SOURCES:
        raise InvalidInput("bad_source", "来源无效", "Unknown source")
    if kind == "issue" and fields.get("category") not in CATEGORIES:
        raise InvalidInput("bad_category", "请选择问题类别", "Choose an issue category")
    if fields.get("structure") and fields["structure"] not in STRUCTURES:
        raise InvalidInput("bad_structure", "结构类型无效", "Unknown structure")


def _area_m2(kind: str, geom, stated_area_m2: float | None) -> float | None:
    if geom.geom_type != "Point":
        return geodesic_area_m2(geom)
    if kind == "illegal_building":
        if not stated_area_m2 or stated_area_m2 <= 0:
            raise InvalidInput(
                "area_required",
                "以点标注的违法建筑须填写占地面积（㎡）",
                "An illegal building given as a point needs its footprint area (m²)",
            )
        return float(stated_area_m2)
    return None


def default_responsible(session: Session, group_id: int | None) -> User | None:
    """The 网格员 of a group: its first active grid member, else None."""
    if group_id is None:
        return None
    group = session.get(GridCell, group_id)
    members = sorted(
        (u for u in group.members if u.role == "grid_member" and u.active), key=lambda u: u.id
    )
    return members[0] if members else None


def default_responsibles(session: Session, group_ids) -> dict[int, User]:
    """The 网格员 of many groups at once (default_responsible's rule): group id → user, in one query."""
    from inspection.accounts.models import user_cells

    ids = sorted({g for g in group_ids if g is not None})
    if not ids:
        return {}
    rows = session.execute(
        select(user_cells.c.cell_id, User)
        .join(User, User.id == user_cells.c.user_id)
        .where(user_cells.c.cell_id.in_(ids), User.role == "grid_member", User.active)
        .order_by(user_cells.c.cell_id, User.id)
    ).all()
    first: dict[int, User] = {}
    for cell_id, user in rows:
        first.setdefault(cell_id, user)
    return first


def find_by_client_id(session: Session, client_id: str | None) -> Case | None:
    """The case a form with this client-generated id already created, if any."""
    if not client_id:
        return None
    return session.scalars(select(Case).where(Case.client_id == client_id)).first()


def create_case(
    session: Session,
    kind: str,
    geom,
    fields: dict,
    reporter: User | None,
    *,
    client_id: str | None = None,
    found_on: date | None = None,
    allow_outside: bool = False,
) -> tuple[Case, bool]:
    """Create a reported case from a validated geometry (lon/lat, EPSG:4326); idempotent by client_id.

    Returns (case, created). A second call with the same client_id returns the first case.
    """
    begin_write(session)
    existing = find_by_client_id(session, client_id)
    if existing is not None:
        return existing, False
    fields = {k: v for k, v in fields.items() if v not in (None, "")}
    _check_fields(kind, geom, fields)
    stated = fields.pop("stated_area_m2", None)
    placement = place(session, geom)
    if placement.outside and not allow_outside:
        raise InvalidInput(
            "outside_grid",
            "位置不在本镇任何网格（组）内，请检查位置",
            "The location lies outside every grid group of the town",
        )
    case = Case(kind=kind, client_id=client_id, found_on=found_on or clock.town_today(), **fields)
    case.set_geometry(geom, _area_m2(kind, geom, stated))
    case.town_id, case.village_id, case.group_id = (
        placement.town_id,
        placement.village_id,
        placement.group_id,
    )
    case.reporter = reporter
    case.responsible = default_responsible(session, placement.group_id)
    session.add(case)
    record_change(session, case, "reported", reporter, on=found_on, note="")
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Another request with the same client_id won the race: answer with its case.
        session.expunge(case)
        existing = find_by_client_id(session, client_id)
        if existing is None:
            raise
        return existing, False
    return case, True


# A report's details may be corrected until the work starts; after that the history speaks.
EDITABLE_STATUSES = ("reported", "assigned")
EDIT_ROLES = ("grid_member", "supervisor", "admin")  # officers act on cases, they don't edit them


def may_edit(user: User | None, case: Case) -> bool:
    """True if the user may correct the case's details: he sees it, has an editing role, and
    the case is still reported or assigned (a 网格员 his groups', a village head his village's)."""
    return (
        user is not None
        and user.is_active
        and user.role in EDIT_ROLES
        and case.status in EDITABLE_STATUSES
        and can_see(user, case)
    )


def edit_details(
    session: Session,
    case: Case,
    user: User,
    fields: dict,
    *,
    found_on: date | None,
    expected_version,
    photos=(),
    photo_dir=None,
) -> Case:
    """Correct a case's ledger fields (not its place or status) and add "before" photos.

    Checks the right, the version the form showed and the fields as create_case does; the audit
    trail records every changed field. The caller commits.
    """
    begin_write(session)  # a read transaction ends here: the case reloads under the write lock
    if not may_edit(user, case):
        raise NotAllowed(
            "not_editable",
            "只有本网格人员、村负责人和镇领导可以在整改开始前修改案件信息",
            "Only the grid's staff, the village head and supervisors may edit a case, "
            "and only before the work starts",
        )
    if str(expected_version or "").strip() != str(case.version):
        raise stale_case()
    fields = {k: v for k, v in fields.items() if k != "stated_area_m2"}
    if case.status != "reported":  # once assigned, the deadline moves only by the workflow
        fields["deadline_on"] = case.deadline_on
    if not fields.get("title"):
        fields["title"] = case.title
    _check_fields(case.kind, case.geom, fields)
    if found_on is not None and found_on != case.found_on:
        if found_on > clock.town_today():
            raise InvalidInput(
                "found_in_future", "发现日期不能晚于今天", "The day found lies in the future"
            )
        case.found_on = found_on
    editable = set(COMMON_FIELDS) | set(KIND_FIELDS[case.kind])
    for name in sorted(editable):
        value = fields.get(name)
        setattr(case, name, None if value in ("", None) else value)
    if case.deadline_on is not None and case.deadline_on < case.found_on:
        raise InvalidInput(
            "deadline_before_found",
            "整改期限早于发现日期",
            "The deadline lies before the day found",
        )
    if photos:
        attach_photos(session, case, list(photos), photo_dir, user, stage="before")
    save_case(session)
    return case


def stale_case() -> Conflict:
    """The refusal of a change to a case someone else changed first (409)."""
    return Conflict(
        "stale",
        "该案件已被他人修改，请刷新后重试",
        "Someone else changed this case; reload and try again",
    )


def save_case(session: Session) -> None:
    """Flush; a write that lost the race to another user's becomes Conflict (nothing is kept)."""
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        raise stale_case() from exc
    except OperationalError as exc:
        # SQLite: a reader whose snapshot another writer has overtaken cannot write
        # (SQLITE_BUSY_SNAPSHOT), or the lock wait ran out. Either way: reload and retry.
        if "locked" not in str(exc.orig):
            raise
        session.rollback()
        raise stale_case() from exc
