"""Place geometries in the 镇/村/组 grid stored in the database."""

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.grid import GridIndex
from inspection.grid.models import GridCell

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


def grid_frame(session: Session) -> gpd.GeoDataFrame:
    """The stored grid as a frame: id, level, code, name, parent_code, geometry (EPSG:4326)."""
    cells = session.scalars(select(GridCell).order_by(GridCell.id)).all()
    code_of = {c.id: c.code for c in cells}
    return gpd.GeoDataFrame(
        {
            "id": [c.id for c in cells],
            "level": [c.level for c in cells],
            "code": [c.code for c in cells],
            "name": [c.name for c in cells],
            "parent_code": pd.Series([code_of.get(c.parent_id) for c in cells], dtype=object),
        },
        geometry=[c.boundary for c in cells],
        crs="EPSG:4326",
    )


def grid_index(session: Session) -> tuple[GridIndex, dict[str, int]]:
    """The spatial index of the grid and its code → id map, rebuilt only when the grid changes."""
    # Cheap fingerprint of the grid: ids, codes, parents, extents and areas of every cell.
    stamp = hash(
        tuple(
            session.execute(
                select(
                    GridCell.id,
                    GridCell.code,
                    GridCell.parent_id,
                    GridCell.min_lon,
                    GridCell.min_lat,
                    GridCell.max_lon,
                    GridCell.max_lat,
                    GridCell.area_m2,
                ).order_by(GridCell.id)
            ).all()
        )
    )
    key = (str(session.get_bind().url), stamp)
    if key not in _cache:
        _cache.clear()
        frame = grid_frame(session)
        _cache[key] = (GridIndex(frame), dict(zip(frame["code"], frame["id"], strict=True)))
    return _cache[key]


def place(session: Session, geom) -> Placement:
    """Find the cells of one geometry (lon/lat, EPSG:4326): a polygon goes by a point on it."""
    return place_many(session, [geom])[0]


def place_many(session: Session, geoms) -> list[Placement]:
    """Find the cells of many geometries at once with the grid's spatial index."""
    index, id_of = grid_index(session)
    if not id_of:
        return [Placement(None, None, None) for _ in geoms]
    lineage = index.lineage(index.assign(geoms))
    return [
        Placement(id_of.get(town), id_of.get(village), id_of.get(group))
        for town, village, group in zip(
            lineage["town_code"], lineage["village_code"], lineage["group_code"], strict=True
        )
    ]
