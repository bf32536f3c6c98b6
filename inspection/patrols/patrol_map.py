"""The map of one patrol on its page: the kept track by segment, start and end, the 网格员's groups, its cases."""

import numpy as np
import pandas as pd
from flask_babel import gettext as _

from geodata import maps
from geodata.maps.tracks import add_track
from inspection import clock, map_context, vocab
from inspection.cases.models import Case
from inspection.grid.cells import cell_frame
from inspection.patrols import packing
from inspection.patrols.models import Patrol

MIN_SPAN_DEG = 0.002  # at least ≈ 200 m around the track


def track_lines(patrol: Patrol) -> list[np.ndarray]:
    """Each segment's kept fixes as an (n, 2) array of lon/lat degrees (EPSG:4326)."""
    lines = []
    for segment in patrol.tracks:
        fixes = packing.unpack(segment.data)
        lines.append(np.column_stack([fixes.lon_deg, fixes.lat_deg]))
    return lines


def build_patrol_map(
    patrol: Patrol, cases: list[Case], ctx: map_context.MapContext
) -> maps.MapParts:
    """The patrol's map: its segments as lines, start and end marked, the 网格员's groups, its cases."""
    basemap, _warning = ctx.basemap_or_none()
    groups = [c for c in patrol.user.cells if c.boundary is not None]
    boxes = [(c.min_lon, c.min_lat, c.max_lon, c.max_lat) for c in groups if c.min_lon is not None]
    if patrol.min_lon is not None:
        boxes = [(patrol.min_lon, patrol.min_lat, patrol.max_lon, patrol.max_lat)]
    bounds = None
    if boxes:
        extent = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        bounds = maps.view_bounds(extent, min_span_deg=MIN_SPAN_DEG)
    m = maps.new_map(
        bounds,
        basemap=basemap,
        text=ctx.text,
        static_url=ctx.static_url,
        height="55vh",
        measure=False,  # leaflet-measure needs eval, which this page's CSP does not allow
    )
    if groups:
        level = groups[0].level
        name = vocab.label(vocab.LEVELS, level, ctx.lang)
        maps.add_cells(m, cell_frame(groups), level=level, label_at="top", name=name)
    add_track(m, track_lines(patrol), name=_("Track"), ends=(_("Start"), _("End")))
    if cases:
        table = pd.DataFrame(
            [
                {
                    "id": c.id,
                    "kind": c.kind,
                    "status": c.status,
                    "title": c.title,
                    "deadline_on": c.deadline_on,
                    "area_m2": c.area_m2,
                    "village": c.village.name if c.village else None,
                    "group": c.group.name if c.group else None,
                    "geometry": c.geom,
                }
                for c in cases
            ]
        )
        maps.add_cases(m, table, today=ctx.today or clock.town_today(), case_link=ctx.case_url)
    return maps.map_parts(m, ctx.static_url)
