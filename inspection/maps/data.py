"""Map pages' data: which cells a user may open, his cases as tables for geodata.maps, the JSON feed."""

from dataclasses import replace
from datetime import date
from urllib.parse import urlencode

import pandas as pd
from flask import abort
from sqlalchemy import Integer, and_, case, cast, func, or_, select, true
from sqlalchemy.orm import Session, object_session

from geodata import maps
from inspection import clock, vocab
from inspection.accounts.models import User
from inspection.cases.access import case_scope, sees_all, sees_cell, sees_whole_town, single_town
from inspection.cases.deadlines import overdue_condition
from inspection.cases.lists import parse_bbox
from inspection.cases.models import Case
from inspection.grid.cells import cell_frame
from inspection.grid.models import GridCell
from inspection.map_context import MapContext
from inspection.patrols.map_layers import add_patrol_layers

FEATURE_LIMIT = 2000  # more cases than this in view come as server-side clusters
LEVEL_BELOW = {"town": "village", "village": "group"}


def filters_from(args) -> maps.CaseFilters:
    """The map filters in URL query arguments, unknown values dropped."""
    return maps.CaseFilters.from_query(args, kinds=vocab.KINDS, sources=vocab.SOURCES)


# ------------------------------------------------------------------ cells


def cell_or_404(session: Session, user: User, level: str, code: str) -> GridCell:
    """The cell of that level and code if the user may see it; otherwise 404, so codes don't leak."""
    from flask import g

    cell = session.scalars(
        select(GridCell).where(GridCell.level == level, GridCell.code == code)
    ).first()
    if cell is None or not sees_cell(user, cell):
        if cell is not None:  # outside the user's grid: the audit log notes the refusal
            g.audit_refused_target = f"grid:{cell.code}"
        abort(404)
    return cell


def default_cell(user: User) -> GridCell | None:
    """The map a field worker starts on (his village, else his group); None means the town map."""
    if sees_whole_town(user):
        return None
    for level in ("village", "group"):
        cells = sorted((c for c in user.cells if c.level == level), key=lambda c: c.code)
        if cells:
            return cells[0]
    return None


def _town(session: Session) -> GridCell | None:
    return session.scalars(select(GridCell).where(GridCell.level == "town")).first()


# ------------------------------------------------------------------ cases


def _conditions(user: User, filters: maps.CaseFilters, today: date, cell=None, bbox=None) -> list:
    """SQL conditions: the user's scope, the filters, the cell and the bounding box."""
    conditions = [case_scope(user)]
    if filters.kinds:
        conditions.append(Case.kind.in_(filters.kinds))
    if filters.statuses:
        conditions.append(Case.status.in_(sorted(filters.status_keys)))
    if filters.sources:
        conditions.append(Case.source.in_(filters.sources))
    if filters.year is not None:
        conditions.append(
            Case.found_on.between(date(filters.year, 1, 1), date(filters.year, 12, 31))
        )
    if filters.overdue:
        conditions.append(overdue_condition(today))
    if cell is not None and cell.level == "town" and not single_town(object_session(cell)):
        conditions.append(Case.town_id == cell.id)  # one of several towns: its cases only
    elif cell is not None and cell.level == "village":
        conditions.append(Case.village_id == cell.id)
    elif cell is not None and cell.level == "group":
        conditions.append(Case.group_id == cell.id)
    if bbox is not None:
        west, south, east, north = bbox
        conditions += [
            Case.max_lon >= west,
            Case.min_lon <= east,
            Case.max_lat >= south,
            Case.min_lat <= north,
        ]
    return conditions


def count_cases(session: Session, user: User, filters, today: date, cell=None, bbox=None) -> int:
    """How many cases the user may see pass the filters (in the cell and box)."""
    query = select(func.count(Case.id)).where(*_conditions(user, filters, today, cell, bbox))
    return session.scalar(query)


def _frame(session: Session, columns: list, conditions: list) -> pd.DataFrame:
    """Run a Core select of labelled columns and return the rows as a DataFrame (fast path)."""
    query = select(*columns).where(*conditions).order_by(Case.id)
    rows = session.connection().execute(query).all()
    names = [c.name for c in columns]
    if not rows:
        return pd.DataFrame({name: [] for name in names})
    return pd.DataFrame(dict(zip(names, map(list, zip(*rows, strict=True)), strict=True)))


def cluster_rows(
    session: Session, user: User, filters, today: date, zoom: int, *, cell=None, bbox=None
) -> pd.DataFrame:
    """The filtered cases counted per kind and cluster cell by the database (maps.CLUSTER_COLUMNS)."""
    conditions = _conditions(user, filters, today, cell, bbox)
    if bbox is not None:
        lat = (bbox[1] + bbox[3]) / 2
    else:
        lat = session.scalar(select(func.avg(Case.point_lat)).where(*conditions)) or 0.0
    width, height = maps.cluster_size_deg(zoom, lat)
    if session.get_bind().dialect.name == "sqlite":  # CAST truncates: floor for these positives
        x = cast((Case.point_lon + 180.0) / width, Integer)
        y = cast((Case.point_lat + 90.0) / height, Integer)
    else:
        x = func.floor((Case.point_lon + 180.0) / width)
        y = func.floor((Case.point_lat + 90.0) / height)
    flags = [
        case(
            (Case.status.in_(sorted(s for s, g in vocab.MAP_GROUPS.items() if g == group)), 1),
            else_=0,
        ).label(group)
        for group in maps.GROUP_COLORS
    ]
    inner = (
        select(
            Case.kind.label("kind"),
            x.label("x"),
            y.label("y"),
            Case.point_lon.label("lon"),
            Case.point_lat.label("lat"),
            case((overdue_condition(today), 1), else_=0).label("o"),
            *flags,
        )
        .where(*conditions)
        .subquery()
    )
    query = select(
        inner.c.kind,
        inner.c.x,
        inner.c.y,
        func.count().label("n"),
        func.avg(inner.c.lon).label("lon"),
        func.avg(inner.c.lat).label("lat"),
        func.min(inner.c.lon).label("w"),
        func.min(inner.c.lat).label("s"),
        func.max(inner.c.lon).label("e"),
        func.max(inner.c.lat).label("nn"),
        func.sum(inner.c.o).label("o"),
        *(func.sum(inner.c[group]).label(group) for group in maps.GROUP_COLORS),
    ).group_by(inner.c.kind, inner.c.x, inner.c.y)
    rows = session.connection().execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(maps.CLUSTER_COLUMNS))


def case_table(
    session: Session,
    user: User,
    filters: maps.CaseFilters,
    today: date,
    *,
    cell: GridCell | None = None,
    bbox=None,
    details: bool = False,
    geometry: bool = False,
) -> pd.DataFrame:
    """The user's cases passing the filters as a table (lon/lat of a point, EPSG:4326).

    Always id, kind, status, source, found_on, deadline_on, lon, lat; details adds title,
    area_m2 (m²), village and group names; geometry adds the stored geometry.
    """
    columns = [
        Case.id,
        Case.kind,
        Case.status,
        Case.source,
        Case.found_on,
        Case.deadline_on,
        Case.point_lon.label("lon"),
        Case.point_lat.label("lat"),
    ]
    if details:
        columns += [Case.title, Case.area_m2, Case.village_id, Case.group_id]
    if geometry:
        columns.append(Case.geom.label("geometry"))
    frame = _frame(session, columns, _conditions(user, filters, today, cell, bbox))
    if details:
        names = dict(session.execute(select(GridCell.id, GridCell.name)).all())
        frame["village"] = frame.pop("village_id").map(names)
        frame["group"] = frame.pop("group_id").map(names)
    return frame


def restored_condition(year: int | None = None):
    """SQL condition: a farmland parcel restored (done or verified), in `year` if one is given.

    A year takes the rule of reporting.figures.year_figures: the parcel's last change to done (done_on, else
    verified_on) falls in the year, and it was found by 31 December of it.
    """
    fixed = and_(Case.kind == "farmland", Case.status.in_(sorted(vocab.STATUS_GROUPS["fixed"])))
    if year is None:
        return fixed
    start, end = date(year, 1, 1), date(year, 12, 31)
    fixed_on = func.coalesce(Case.done_on, Case.verified_on)
    return and_(fixed, fixed_on >= start, fixed_on <= end, Case.found_on <= end)


def cell_stats(session: Session, user: User, filters, today: date, cell: GridCell) -> dict:
    """Per cell of the level below: open cases, restored 亩 (see restored_condition), all cases.

    With a year, open and all cases are those found in it, and 亩 those restored in it (geodesic
    area m² / (10000/15)); the other filters apply to all three.
    """
    column = Case.village_id if cell.level == "town" else Case.group_id
    restored = restored_condition(filters.year)
    conditions = _conditions(user, replace(filters, year=None), today, cell)
    if filters.year is None:
        found = true()
    else:
        found = Case.found_on.between(date(filters.year, 1, 1), date(filters.year, 12, 31))
        conditions.append(or_(found, restored))
    is_open = and_(found, Case.status.in_(sorted(vocab.STATUS_GROUPS["open"])))
    query = (
        select(
            column,
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((restored, Case.area_m2), else_=0.0)),
            func.sum(case((found, 1), else_=0)),
        )
        .where(*conditions)
        .group_by(column)
    )
    return {
        cell_id: {
            "open": int(n_open or 0),
            "mu": round((m2 or 0) / vocab.M2_PER_MU, 2),
            "n": int(n or 0),
        }
        for cell_id, n_open, m2, n in session.execute(query)
        if cell_id is not None
    }


def case_feed(session: Session, user: User, args, ctx: MapContext) -> str:
    """Compact GeoJSON of the user's filtered cases in bbox: each case, or clusters when too many."""
    filters = filters_from(args)
    cell = None
    if args.get("cell"):
        cell = session.scalars(select(GridCell).where(GridCell.code == args["cell"])).first()
        if cell is None or not sees_cell(user, cell):
            abort(404)
    bbox = parse_bbox(args.get("bbox"))
    zoom_text = args.get("zoom", "")
    zoom = min(max(int(zoom_text), 0), 22) if zoom_text.isdigit() else 22
    today = ctx.today or clock.town_today()
    extra = {"bbox": list(bbox)} if bbox else {}
    if count_cases(session, user, filters, today, cell, bbox) > FEATURE_LIMIT:
        clusters = cluster_rows(session, user, filters, today, zoom, cell=cell, bbox=bbox)
        return maps.clusters_geojson(clusters, **extra)
    polygons = zoom >= maps.POLYGON_MIN_ZOOM
    table = case_table(
        session, user, filters, today, cell=cell, bbox=bbox, details=True, geometry=polygons
    )
    return maps.case_geojson(table, today=today, polygons=polygons, **extra)


# ------------------------------------------------------------------ pages


def _crumbs(
    user: User, cell: GridCell | None, ctx: MapContext, county: str | None = None
) -> list[tuple[str, str | None]]:
    """(name, URL or None) from the county (named `county`, if any) down to the cell.

    Links only where the user may look: the county map for those who see every town, a town's
    map (/map/town/<code> in a county, /map in a one-town grid), villages and groups in his grid.
    """
    chain = []
    node = cell
    while node is not None:
        chain.insert(0, node)
        node = node.parent
    urls = ctx.cell_urls or {}
    crumbs = []
    if county is not None and (not chain or chain[0].level != "county"):
        crumbs.append((county, urls.get("county") if sees_all(user) else None))
    for node in chain:
        if node.level == "county":
            url = urls.get("county") if county is not None and sees_all(user) else None
            if county is not None:
                crumbs.append((node.name, url))
            continue
        if node.level == "town":
            if county is not None and "town" in urls:
                url = urls["town"].format(code=node.code) if sees_cell(user, node) else None
            else:
                url = ctx.town_url if default_cell(user) is None else None
        else:
            url = urls[node.level].format(code=node.code) if sees_cell(user, node) else None
        crumbs.append((node.name, url))
    return crumbs


def _years(session: Session, user: User, today: date) -> list[int]:
    """The years the user's cases were found in, newest first (at least this year)."""
    first, last = session.execute(
        select(func.min(Case.found_on), func.max(Case.found_on)).where(case_scope(user))
    ).one()
    first_year = first.year if first else today.year
    last_year = max(last.year if last else today.year, today.year)
    return list(range(last_year, first_year - 1, -1))


def map_page(
    session: Session,
    user: User,
    cell: GridCell | None,
    args,
    ctx: MapContext,
    *,
    county: str | None = None,
) -> dict:
    """Everything a map page shows: the rendered map parts, filters, counts and breadcrumbs.

    county names the county atop the breadcrumbs (None in a one-town grid).
    """
    filters = filters_from(args)
    today = ctx.today or clock.town_today()
    cell = cell or _town(session)
    text = ctx.text
    basemap, warning = ctx.basemap_or_none()
    level = cell.level if cell is not None else "town"
    bounds = (cell.min_lon, cell.min_lat, cell.max_lon, cell.max_lat) if cell is not None else None
    if filters.year is not None and "shade_mu_year" in text.words:
        words = {**text.words, "shade_mu": text.words["shade_mu_year"].format(year=filters.year)}
        text = replace(text, words=words)
    m = maps.new_map(bounds, basemap=basemap, text=text, static_url=ctx.static_url)
    shade = args.get("shade") if args.get("shade") in ("open", "mu") else None
    children = []  # the cells one level down, listed under the map with links (drill-down)
    if cell is not None:
        maps.add_cells(m, cell_frame([cell]), level=level, label_at="top")
        if level in LEVEL_BELOW and cell.children:
            stats = cell_stats(session, user, filters, today, cell)
            below = LEVEL_BELOW[level]
            children = [
                {
                    "name": c.name,
                    "url": ctx.cell_urls[below].replace("{code}", c.code),
                    "open": stats.get(c.id, {}).get("open", 0),
                }
                for c in sorted(cell.children, key=lambda c: c.code)
            ]
            maps.add_cells(
                m,
                cell_frame(list(cell.children), stats),
                level=below,
                link=ctx.cell_urls[below],
                shade=shade,
                shade_switch=True,
                name=vocab.label(vocab.LEVELS, below, ctx.lang),
            )
    patrols = add_patrol_layers(m, session, user, cell, args)  # tracks and coverage (巡查)
    query = [*filters.query(), *([("cell", cell.code)] if cell is not None else [])]
    data_url = ctx.data_url + ("?" + urlencode(query) if query else "")
    maps.add_cases(m, data_url=data_url, case_link=ctx.case_url)
    maps.add_legend(m, text)
    return {
        "parts": maps.map_parts(m, ctx.static_url),
        "text": text,
        "cell": cell,
        "level": level,
        "crumbs": _crumbs(user, cell, ctx, county),
        "filters": filters,
        "shade": shade,
        "years": _years(session, user, today),
        "total": count_cases(session, user, filters, today, cell),
        "warning": warning,
        "data_url": data_url,
        "my_cells": [c for c in sorted(user.cells, key=lambda c: c.code) if c.level != "town"],
        "patrols": patrols,
        "children": children,
        "children_level": LEVEL_BELOW.get(level),
    }
