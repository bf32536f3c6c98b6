"""Lists of cases: the /cases filters, the SQL conditions exports share, and home overdue lists."""

import json
from dataclasses import dataclass, field
from datetime import date

import shapely
from sqlalchemy import Select, and_, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from inspection import vocab
from inspection.accounts.models import User
from inspection.cases import keyset
from inspection.cases.access import case_scope, sees_cell, sees_whole_town, town_ids
from inspection.cases.deadlines import overdue_condition
from inspection.cases.models import Case
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell

HOME_LIMIT = 20  # overdue cases listed on a home page; the rest are one link away
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class ListFilters:
    """What /cases shows: one kind or all, a village, group, source, category, only the overdue."""

    kind: str | None = None
    village: GridCell | None = None
    overdue: bool = False
    source: str | None = None
    category: str | None = None  # a category key or a category group (environment)
    group: GridCell | None = None
    mine: bool = False  # only the cases the viewer is responsible for

    def query_args(self, **changes) -> dict:
        """The filters as URL query arguments (empty ones left out), with some changed."""
        args = {
            "kind": self.kind,
            "village": self.village.code if self.village is not None else None,
            "group": self.group.code if self.group is not None else None,
            "source": self.source,
            "category": self.category,
            "overdue": "1" if self.overdue else None,
            "mine": "1" if self.mine else None,
        } | changes
        return {key: value for key, value in args.items() if value}

    def download_args(self) -> dict:
        """The filters as query arguments of a ledger download (the kind goes in its path)."""
        return self.query_args(kind=None)


def category_keys(text: str | None) -> frozenset[str] | None:
    """A category key, its Chinese or English name, or a group (environment) as keys; None if unknown."""
    text = (text or "").strip()
    if text in vocab.CATEGORY_GROUPS:
        return vocab.CATEGORY_GROUPS[text][1]
    key = vocab.category_key(text)
    return frozenset({key}) if key else None


def box_shape(bbox) -> shapely.Geometry:
    """A lon/lat box as a geometry: a polygon, or a line or point when it has no width or height."""
    west, south, east, north = bbox
    if west == east and south == north:
        return shapely.Point(west, south)
    if west == east or south == north:
        return shapely.LineString([(west, south), (east, north)])
    return shapely.box(west, south, east, north)


def bbox_condition(session: Session, model, geom, bbox, *where):
    """Rows of model whose geometry column intersects a lon/lat box, tested by the database.

    PostGIS: ST_Intersects with the box (GiST index). SQLite: the bounding-box columns, with an
    exact shapely test only for the few shapes whose bounding box crosses the box's edge.
    """
    west, south, east, north = bbox
    shape = box_shape(bbox)
    if session.get_bind().dialect.name == "postgresql":
        return func.ST_Intersects(geom, func.ST_GeomFromWKB(shapely.to_wkb(shape), 4326))
    overlap = and_(
        model.max_lon >= west,
        model.min_lon <= east,
        model.max_lat >= south,
        model.min_lat <= north,
    )
    crossing = or_(
        model.min_lon < west, model.max_lon > east, model.min_lat < south, model.max_lat > north
    )
    rows = session.execute(select(model.id, geom).where(overlap, crossing, *where))
    misses = [row_id for row_id, found in rows if not found.intersects(shape)]
    if not misses:
        return overlap
    listed = func.json_each(json.dumps(misses)).table_valued("value")
    return and_(overlap, model.id.not_in(select(listed.c.value)))


def case_conditions(
    user: User | None,
    today: date,
    *,
    kind: str | None = None,
    village: GridCell | None = None,
    group: GridCell | None = None,
    source: str | None = None,
    category: str | None = None,
    overdue: bool = False,
    responsible: User | None = None,
) -> list:
    """SQL conditions: the cases the user may see (all when None) passing the list filters."""
    conditions = [case_scope(user) if user is not None else true()]
    if kind:
        conditions.append(Case.kind == kind)
    if village is not None:
        conditions.append(Case.village_id == village.id)
    if group is not None:
        conditions.append(Case.group_id == group.id)
    if source:
        conditions.append(Case.source == source)
    if category:
        conditions.append(Case.category.in_(sorted(category_keys(category) or ())))
    if overdue:
        conditions.append(overdue_condition(today))
    if responsible is not None:
        conditions.append(Case.responsible_id == responsible.id)
    return conditions


def visible_villages(session: Session, user: User) -> list[GridCell]:
    """The villages whose cases the user may see, by code: every one of his towns, else his own."""
    villages = session.scalars(
        select(GridCell).where(GridCell.level == "village").order_by(GridCell.code)
    ).all()
    towns = town_ids(user)
    if towns is None:
        return list(villages)
    mine = {v.id for v in villages if v.parent_id in towns}
    mine |= {c.id for c in user.cells if c.level == "village"}
    mine |= {c.parent_id for c in user.cells if c.level == "group"}
    return [v for v in villages if v.id in mine]


def visible_cell(session: Session, user: User | None, level: str, code: str) -> GridCell | None:
    """The village or group of that code if the user may see its cases (any for None), else None."""
    cell = session.scalar(select(GridCell).where(GridCell.level == level, GridCell.code == code))
    if cell is None or user is None or sees_cell(user, cell):
        return cell
    if level == "village" and any(c.parent_id == cell.id for c in user.cells):
        return cell  # a 网格员 of one of its groups: the village's list shows his groups' cases
    return None


def list_filters(session: Session, user: User, args) -> ListFilters:
    """Read the /cases filters from query arguments; a village the user cannot see is refused.

    An unknown kind, source, category or group is dropped, as on the maps, so an old link still
    opens.
    """
    kind = (args.get("kind") or "").strip()
    overdue = (args.get("overdue") or "").strip().lower() in TRUE_WORDS
    mine = (args.get("mine") or "").strip().lower() in TRUE_WORDS
    source = (args.get("source") or "").strip()
    category = (args.get("category") or "").strip()
    group_code = (args.get("group") or "").strip()
    group = visible_cell(session, user, "group", group_code) if group_code else None
    code = (args.get("village") or "").strip()
    village = None
    if code:
        village = next((v for v in visible_villages(session, user) if v.code == code), None)
        if village is None:
            raise InvalidInput(
                "bad_village",
                f"没有编码为“{code[:32]}”的村，或您无权查看该村",
                f"No village with the code “{code[:32]}”, or you may not see it",
            )
    return ListFilters(
        kind if kind in vocab.KINDS else None,
        village,
        overdue,
        source if source in vocab.SOURCES else None,
        category if category_keys(category) else None,
        group,
        mine,
    )


def case_list_query(user: User, filters: ListFilters, today: date) -> Select:
    """The cases the user may see that pass the filters: newest first, or most overdue first."""
    query = select(Case).where(
        *case_conditions(
            user,
            today,
            kind=filters.kind,
            village=filters.village,
            group=filters.group,
            source=filters.source,
            category=filters.category,
            overdue=filters.overdue,
            responsible=user if filters.mine else None,
        )
    )
    if filters.overdue:
        query = query.order_by(Case.deadline_on, Case.id)
    else:
        query = query.order_by(Case.id.desc())
    return query.options(selectinload(Case.village), selectinload(Case.group))


def case_page(
    session: Session,
    user: User,
    filters: ListFilters,
    today: date,
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = 50,
) -> keyset.Page:
    """One page of the list from an `after` or `before` cursor (the first page without one).

    InvalidInput when a cursor is malformed, of the other order, or both are given. A cursor
    whose side holds no row any more (all of it deleted) gives the first page.
    """
    order = keyset.order_of(filters.overdue)
    if after and before:
        raise keyset.bad_cursor()
    after_at = keyset.decode(after, order) if after else None
    before_at = keyset.decode(before, order) if before else None
    query = case_list_query(user, filters, today)
    rows = list(session.scalars(keyset.seek(query, order, after_at, before_at, size)))
    if not rows and (after_at or before_at):
        rows, after_at, before_at = (
            list(session.scalars(keyset.seek(query, order, None, None, size))),
            None,
            None,
        )
    return keyset.make_page(rows, order, size, after=after_at, before=before_at)


@dataclass(frozen=True)
class OverdueList:
    """The overdue cases a home page shows: whose (mine, village, town), the first few and all."""

    scope: str
    cases: list[Case]
    total: int
    villages: list[GridCell] = field(default_factory=list)
    link_args: dict = field(default_factory=dict)


def home_overdue(session: Session, user: User, today: date) -> OverdueList:
    """The overdue cases of the user's home page, most overdue first.

    The town's staff get the town's; a village head his village's; a 网格员 those he is
    responsible for.
    """
    heads = sorted((c for c in user.cells if c.level == "village"), key=lambda c: c.code)
    query = select(Case).where(overdue_condition(today), case_scope(user))
    if sees_whole_town(user):
        scope, link_args = "town", {"overdue": "1"}
    elif heads:
        scope = "village"
        link_args = {"overdue": "1"} | ({"village": heads[0].code} if len(heads) == 1 else {})
    else:
        scope, link_args = "mine", {"overdue": "1", "mine": "1"}
        query = query.where(Case.responsible_id == user.id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    cases = session.scalars(
        query.options(selectinload(Case.village), selectinload(Case.group))
        .order_by(Case.deadline_on, Case.id)
        .limit(HOME_LIMIT)
    ).all()
    return OverdueList(scope, list(cases), total or 0, heads, link_args)


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """bbox=W,S,E,N in degrees (EPSG:4326), or None when absent; InvalidInput when malformed."""
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        west = east = float("nan")
        south = north = 0.0
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput(
            "bad_bbox",
            "bbox 应为 西,南,东,北（经纬度）",
            "bbox must be west,south,east,north degrees",
        )
    return west, south, east, north
