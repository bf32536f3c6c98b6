"""Place geometries in the 镇/村/组 grid stored in the database."""

from dataclasses import dataclass

import geopandas as gpd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodata.grid import GridIndex
from inspection.models import GridCell

_cache: dict = {}


@dataclass(frozen=True)
class Placement:
    """The town, village and group cell ids a geometry falls in (None outside the grid)."""

    town_id: int | None
    village_id: int | None
    group_id: int | None

    @property
    def outside(self) -> bool:
        """True when the geometry lies in no group."""
        return self.group_id is None


def _grid_frame(session: Session) -> gpd.GeoDataFrame:
    cells = session.scalars(select(GridCell).order_by(GridCell.id)).all()
    by_id = {c.id: c for c in cells}
    return gpd.GeoDataFrame(
        {
            "id": [c.id for c in cells],
            "level": [c.level for c in cells],
            "code": [c.code for c in cells],
            "name": [c.name for c in cells],
            "parent_code": [by_id[c.parent_id].code if c.parent_id else None for c in cells],
        },
        geometry=[c.boundary for c in cells],
        crs="EPSG:4326",
    )


def grid_index(session: Session) -> tuple[GridIndex, gpd.GeoDataFrame]:
    """The spatial index of the grid, rebuilt only when the grid table changes."""
    stamp = session.execute(
        select(func.count(GridCell.id), func.max(GridCell.id), func.sum(GridCell.area_m2))
    ).one()
    key = (str(session.get_bind().url), tuple(stamp))
    if key not in _cache:
        _cache.clear()
        frame = _grid_frame(session)
        _cache[key] = (GridIndex(frame), frame)
    return _cache[key]


def place(session: Session, geom) -> Placement:
    """Find the cells of one geometry (lon/lat, EPSG:4326): a polygon goes by a point on it."""
    return place_many(session, [geom])[0]


def place_many(session: Session, geoms) -> list[Placement]:
    """Find the cells of many geometries at once with the grid's spatial index."""
    index, frame = grid_index(session)
    if len(frame) == 0:
        return [Placement(None, None, None) for _ in geoms]
    positions = index.assign(geoms)
    ids = frame["id"].tolist()
    parent = dict(zip(frame["code"], frame["parent_code"], strict=True))
    id_of = dict(zip(frame["code"], ids, strict=True))
    level_of = dict(zip(frame["code"], frame["level"], strict=True))
    codes = frame["code"].tolist()
    result = []
    for pos in positions:
        if pos < 0:
            result.append(Placement(None, None, None))
            continue
        found = {}
        code = codes[pos]
        while code is not None:
            found[level_of[code]] = id_of[code]
            code = parent.get(code)
        result.append(Placement(found.get("town"), found.get("village"), found.get("group")))
    return result
