"""The small map of one 图斑 on its task page: the polygon outlined in its 组, tiles optional."""

from geodata import maps
from inspection import map_context, vocab
from inspection.grid.cells import cell_frame
from inspection.tuban.models import Tuban

MIN_SPAN_DEG = 0.002  # at least ≈ 200 m around the 图斑
VIEW_SCALE = 1.6


def build_tuban_map(tuban: Tuban, ctx: map_context.MapContext) -> maps.MapParts:
    """A map of one 图斑 (lon/lat EPSG:4326): its polygon dashed, its group outlined and labelled."""
    basemap, _warning = ctx.basemap_or_none()
    bounds = maps.view_bounds(tuban.geom.bounds, scale=VIEW_SCALE, min_span_deg=MIN_SPAN_DEG)
    m = maps.new_map(
        bounds,
        basemap=basemap,
        text=ctx.text,
        static_url=ctx.static_url,
        height="45vh",
        measure=False,
    )
    if tuban.group is not None:
        name = vocab.label(vocab.LEVELS, tuban.group.level, ctx.lang)
        maps.add_cells(m, cell_frame([tuban.group]), level="group", label_at="top", name=name)
    maps.add_outline(m, tuban.geom, name=f"图斑 {tuban.number}")
    return maps.map_parts(m, ctx.static_url)
