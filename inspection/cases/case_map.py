"""The small map of one case on its page: the case in its status colour, its group labelled."""

import pandas as pd
import shapely

from geodata import maps
from inspection import clock, map_context, vocab
from inspection.cases.models import Case
from inspection.grid.cells import cell_frame

MIN_SPAN_DEG = 0.002  # a case map shows at least ≈ 200 m around the case
CASE_VIEW_SCALE = 1.4  # and spans 1.4 × the case, leaving room at the top for its group's label


def build_case_map(case_: Case, ctx: map_context.MapContext, reported_geometry=None) -> maps.MapParts:
    """A small map of one case for its page: the case in its status colour, its group labelled.

    reported_geometry (GeoJSON lon/lat, EPSG:4326), the parcel as first reported when it was
    redrawn, is drawn dashed. The view holds both: CASE_VIEW_SCALE × their extent, at least
    MIN_SPAN_DEG degrees each way.
    """
    today = ctx.today or clock.town_today()
    basemap, _warning = ctx.basemap_or_none()
    reported = shapely.geometry.shape(reported_geometry) if reported_geometry else None
    shown = shapely.union_all([g for g in (case_.geom, reported) if g is not None])
    bounds = maps.view_bounds(shown.bounds, scale=CASE_VIEW_SCALE, min_span_deg=MIN_SPAN_DEG)
    m = maps.new_map(
        bounds,
        basemap=basemap,
        text=ctx.text,
        static_url=ctx.static_url,
        height="50vh",
        measure=False,  # leaflet-measure needs eval, which the case page's CSP does not allow
    )
    around = case_.group or case_.village
    if around is not None:
        name = vocab.label(vocab.LEVELS, around.level, ctx.lang)
        maps.add_cells(m, cell_frame([around]), level=around.level, label_at="top", name=name)
    table = pd.DataFrame(
        [
            {
                "id": case_.id,
                "kind": case_.kind,
                "status": case_.status,
                "title": case_.title,
                "deadline_on": case_.deadline_on,
                "area_m2": case_.area_m2,
                "village": case_.village.name if case_.village else None,
                "group": case_.group.name if case_.group else None,
                "geometry": case_.geom,
            }
        ]
    )
    maps.add_cases(m, table, today=today, case_link=None)
    if reported is not None:
        maps.add_outline(m, reported, name=ctx.text.words["reported"])
    maps.add_legend(m, ctx.text, kinds=[case_.kind], outline=reported is not None)
    return maps.map_parts(m, ctx.static_url)


def case_map(case: Case, reported_geometry=None) -> maps.MapParts:
    """The small map of a case for its page (header, body, script parts); see build_case_map."""
    return build_case_map(case, map_context.context(), reported_geometry)
