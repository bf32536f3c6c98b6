"""Finding cells: a cell by its code, cells as a table for the maps."""

import geopandas as gpd
from sqlalchemy import select
from sqlalchemy.orm import Session

from inspection.grid.models import GridCell


def cell_by_code(session: Session, code: str) -> GridCell | None:
    """The cell with this code, or None."""
    return session.scalars(select(GridCell).where(GridCell.code == code)).first()


def cell_frame(cells: list[GridCell], stats: dict | None = None) -> gpd.GeoDataFrame:
    """Cells as a table for geodata.maps (code, name, open, mu, n; boundary lon/lat EPSG:4326)."""
    stats = stats or {}
    empty = {"open": 0, "mu": 0.0, "n": 0}
    rows = [{"code": c.code, "name": c.name, **stats.get(c.id, empty)} for c in cells]
    return gpd.GeoDataFrame(rows, geometry=[c.boundary for c in cells], crs="EPSG:4326")
