"""The API's rows: what a user may see of each collection, filtered and paged, as GeoJSON features."""

import json
from datetime import date

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import func, select, true
from sqlalchemy.orm import Session, selectinload

from geodata.area import m2_to_mu
from inspection.accounts.models import User
from inspection.api.params import ApiError
from inspection.cases.access import case_scope, town_ids
from inspection.cases.lists import bbox_condition
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.reporting.exports import gis_frame, status_keys

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


# Collection id → (case kind or None for the grid, Chinese title, English description).
COLLECTIONS = {
    "issues": ("issue", "问题", "Issues found on patrol, reported or assigned"),
    "illegal_buildings": ("illegal_building", "违法建筑", "Illegal buildings"),
    "farmland": ("farmland", "复耕地块", "Farmland restoration parcels"),
    "grid": (
        None,
        "网格",
        "Grid cells: the town, its villages (村) and groups (组). They have no time: datetime"
        " is accepted and filters nothing.",
    ),
}


CASE_PROPERTIES = (
    *("id", "kind", "status", "status_label", "source", "category", "title"),
    *("found_on", "deadline_on", "done_on", "verified_on"),
    *("village_code", "village", "group_code", "group", "area_m2", "area_mu"),
)


def grid_scope(user: User):
    """A SQL condition selecting the grid cells the user works in and the cells inside them."""
    towns = town_ids(user)
    if towns is None:
        return true()
    ids = set()
    for cell in user.cells:
        ids |= {cell.id, *(c.id for c in cell.children)}
        ids |= {gc.id for c in cell.children for gc in c.children}
    return GridCell.id.in_(ids)


def conditions(session: Session, user: User, collection: str, args: dict) -> list:
    """The SQL conditions of a collection for a user and the parsed query parameters.

    The grid has no time: a datetime selects every cell. A bbox is tested exactly, in SQL.
    """
    kind = COLLECTIONS[collection][0]
    where = [grid_scope(user)] if kind is None else [case_scope(user), Case.kind == kind]
    if args.get("datetime") and kind is not None:
        start, end = args["datetime"]
        where += [Case.found_on >= start] if start else []
        where += [Case.found_on <= end] if end else []
    if args.get("status"):
        where.append(Case.status.in_(status_keys(args["status"])))
    if args.get("village"):
        village = session.scalar(
            select(GridCell.id).where(GridCell.code == args["village"], GridCell.level == "village")
        )
        if village is None:
            raise ApiError(400, "InvalidParameterValue", f"no village {args['village']}")
        where.append(Case.village_id == village)
    if args.get("bbox"):
        model = GridCell if kind is None else Case
        geom = GridCell.boundary if kind is None else Case.geom
        where.append(bbox_condition(session, model, geom, args["bbox"], *where))
    return where


def page(session: Session, collection: str, where: list, args: dict) -> tuple[int | None, list, bool]:
    """(number matched or None, the rows of this page, whether more follow), paged by the database.

    One row beyond the page tells whether there is a next one. The number matched is known for free
    on the last page (offset + rows); on the others it is left out, as OGC API Features allows:
    counting every match in a county (80 k cases in a town's bbox) cost more than the page itself.
    An empty page past the end is counted.
    """
    model = GridCell if COLLECTIONS[collection][0] is None else Case
    offset, limit = args["offset"], args["limit"]
    query = select(model).where(*where).offset(offset).limit(limit + 1)
    if model is GridCell:
        query = query.options(selectinload(GridCell.parent))
    else:
        query = query.options(selectinload(Case.village), selectinload(Case.group))
    rows = list(session.scalars(query.order_by(model.id)))
    more = len(rows) > limit
    rows = rows[:limit]
    if more:
        matched = None
    elif rows or offset == 0:
        matched = offset + len(rows)
    else:
        matched = session.scalar(select(func.count()).select_from(model).where(*where))
    return matched, rows, more


def extent(session: Session, user: User, collection: str) -> dict:
    """The spatial (CRS84) and temporal extent of what the user may see in a collection."""
    kind = COLLECTIONS[collection][0]
    model = GridCell if kind is None else Case
    where = conditions(session, user, collection, {})
    columns = [func.min(model.min_lon), func.min(model.min_lat)]
    columns += [func.max(model.max_lon), func.max(model.max_lat)]
    if kind is not None:
        columns += [func.min(Case.found_on), func.max(Case.found_on)]
    row = session.execute(select(*columns).where(*where)).one()
    bbox = [round(v, 7) for v in row[:4]] if row[0] is not None else [-180, -90, 180, 90]
    days = [None, None] if kind is None else [_instant(day) for day in row[4:]]
    return {"spatial": {"bbox": [bbox], "crs": CRS84}, "temporal": {"interval": [days]}}


def _instant(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00Z"


def geometry(shape) -> dict:
    """A shapely geometry (lon/lat) as a GeoJSON geometry with coordinates rounded to 7 decimals."""
    rounded = shapely.transform(shape, lambda xy: np.round(xy, 7))
    return json.loads(shapely.to_geojson(rounded))


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return None if value is pd.NaT else value


def case_features(cases: list[Case], kind: str) -> list[dict]:
    """Cases as GeoJSON features with the API's properties (the export's GIS columns)."""
    frame = gis_frame(cases, kind)[list(CASE_PROPERTIES)]
    frame = frame.rename(columns={"village": "village_name", "group": "group_name"})
    records = frame.to_dict("records")
    return [
        {
            "type": "Feature",
            "id": case.id,
            "geometry": geometry(case.geom),
            "properties": {key: _plain(value) for key, value in record.items()},
        }
        for case, record in zip(cases, records, strict=True)
    ]


def cell_features(cells: list[GridCell]) -> list[dict]:
    """Grid cells as GeoJSON features: level, code, name, parent_code and area (m², 亩)."""
    return [
        {
            "type": "Feature",
            "id": cell.id,
            "geometry": geometry(cell.boundary),
            "properties": {
                "id": cell.id,
                "level": cell.level,
                "code": cell.code,
                "name": cell.name,
                "parent_code": cell.parent.code if cell.parent else None,
                "area_m2": cell.area_m2,
                "area_mu": None if cell.area_m2 is None else float(m2_to_mu(cell.area_m2)),
            },
        }
        for cell in cells
    ]


def features(collection: str, rows: list) -> list[dict]:
    """The rows of a collection as GeoJSON features."""
    kind = COLLECTIONS[collection][0]
    return cell_features(rows) if kind is None else case_features(rows, kind)
