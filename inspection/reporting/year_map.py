"""The year report's map: the villages of the town (or county) with the buildings demolished and the
parcels restored in the year (the figures' rule: fixed now, last done in the year), as a PNG."""

import geopandas as gpd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.static_map import LEGEND_ZH, town_map_png
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.vocab import STATUS_GROUPS


def _frame(rows) -> gpd.GeoDataFrame:
    rows = list(rows)
    return gpd.GeoDataFrame({"name": [r[1] for r in rows]}, geometry=[r[0] for r in rows], crs=4326)


def year_map_png(session: Session, year: int, town_ids=None) -> bytes | None:
    """The PNG of the villages of `town_ids` (None: all) with the year's demolished and restored cases.

    Geometries are lon/lat EPSG:4326 as stored; None when there is no village and no such case.
    """
    villages = select(GridCell.boundary, GridCell.name).where(GridCell.level == "village")
    fixed = select(Case.geom, Case.title).where(
        Case.fixed_year == year,
        Case.status.in_(sorted(STATUS_GROUPS["fixed"])),
        Case.found_year <= year,
    )
    if town_ids is not None:
        villages = villages.where(GridCell.parent_id.in_(sorted(town_ids)))
        fixed = fixed.where(Case.town_id.in_(sorted(town_ids)))
    village_frame = _frame(session.execute(villages.order_by(GridCell.code)))
    demolished = _frame(session.execute(fixed.where(Case.kind == "illegal_building")))
    restored = _frame(session.execute(fixed.where(Case.kind == "farmland")))
    if not (len(village_frame) or len(demolished) or len(restored)):
        return None
    return town_map_png(village_frame, demolished, restored)


def year_map_caption(place: str, year: int) -> str:
    """The caption under the map: what it shows and what each colour means."""
    colours = "，".join(LEGEND_ZH[key][1] for key in ("villages", "demolished", "restored"))
    return f"{place}{year}年拆除违法建筑与复耕地块分布示意图（{colours}）"
