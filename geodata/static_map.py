"""Static map pictures (PNG) for documents: a town's villages with its demolished buildings and restored
parcels, and the locator of one case on its 组 and 村. No tiles, no network: matplotlib's Agg canvas.

Inputs are in lon/lat degrees (EPSG:4490 CGCS2000 or EPSG:4326 WGS-84, centimetres apart); drawing is
in the CGCS2000 3-degree Gauss-Krüger zone of the centroid (EPSG:4534–4554, metres), or its UTM zone
outside China's zones. The scale bar is measured on the ellipsoid (pyproj.Geod, GRS80) from its
left end; the north arrow points to true north (the GK grid north differs by the meridian convergence).
Chinese text (legend, village names) is drawn only when a CJK font is installed (plot_fonts);
otherwise the picture carries no words but the scale ("500 m") and "N", and the document's caption
says what the colours are (LEGEND_ZH).
"""

from io import BytesIO

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from geodata.plot_fonts import has_cjk_font, text_properties

GEOD = pyproj.Geod(ellps="GRS80")
LONLAT_EPSG = (4326, 4490)
# Colours: village outlines, demolished buildings, restored farmland, the case of a locator.
VILLAGE_EDGE = "#4a4a4a"
VILLAGE_FILL = "#f3f1ea"
GROUP_EDGE = "#1f6fb2"
DEMOLISHED = "#c62828"
RESTORED = "#2e7d32"
CASE = "#d81b60"
# Each layer: its legend label in the picture, the sentence a caption says of it, its colour.
LEGEND_ZH = {
    "villages": ("村界", "灰色线为村界", VILLAGE_EDGE),
    "demolished": ("已拆除违法建筑", "红色为已拆除违法建筑", DEMOLISHED),
    "restored": ("已复耕地块", "绿色为已复耕地块", RESTORED),
    "groups": ("村民小组界", "蓝色线为村民小组界", GROUP_EDGE),
    "case": ("案件位置", "品红色为案件位置", CASE),
}
_NICE_STEPS = (1, 2, 5)


def projected_epsg(lon_deg: float, lat_deg: float) -> int:
    """The EPSG code to draw a place at lon/lat (degrees) in: its CGCS2000 3° GK zone, else UTM."""
    zone = int(np.floor(lon_deg / 3 + 0.5))  # zone n spans 3n ± 1.5 °E
    if 25 <= zone <= 45 and 0 <= lat_deg <= 60:
        return 4534 + zone - 25  # CGCS2000 / 3-degree Gauss-Kruger CM 3n°E (no zone prefix)
    utm = int((lon_deg + 180) // 6) % 60 + 1
    return (32600 if lat_deg >= 0 else 32700) + utm


def _lonlat(frame: gpd.GeoDataFrame | gpd.GeoSeries | None, what: str):
    """The frame's non-empty geometries, checked to be in lon/lat (EPSG:4326 or 4490)."""
    if frame is None:
        return None
    if frame.crs is None or frame.crs.to_epsg() not in LONLAT_EPSG:
        raise ValueError(f"{what}: expected lon/lat EPSG:4326 or EPSG:4490, got {frame.crs}")
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    keep = ~(geoms.isna() | geoms.is_empty)
    return frame[keep.to_numpy()]


def nice_length_m(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10ⁿ metres) of at most a quarter of `span_m` metres."""
    target = max(span_m / 4, 1.0)
    power = 10 ** np.floor(np.log10(target))
    return float(max(step * power for step in _NICE_STEPS if step * power <= target))


def _length_label(length_m: float) -> str:
    return f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"


class _Canvas:
    """One picture: a figure whose axes are in a projected CRS (metres), filled layer by layer."""

    def __init__(self, epsg: int, width_in: float, height_in: float, dpi: int):
        self.crs = pyproj.CRS.from_epsg(epsg)
        self.to_map = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
        self.to_lonlat = pyproj.Transformer.from_crs(epsg, 4326, always_xy=True)
        self.figure = Figure(figsize=(width_in, height_in), dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes((0.02, 0.02, 0.96, 0.96))
        self.axes.set_axis_off()
        self.axes.set_aspect("equal")
        self.legend: list[Patch] = []

    def layer(self, frame, legend_zh: str | None = None, **style) -> None:
        """Draw a lon/lat frame's geometries (projected), and name it in the legend if asked."""
        if frame is None or len(frame) == 0:
            return
        frame.to_crs(self.crs).plot(ax=self.axes, **style)
        if legend_zh:
            face = style.get("color", style.get("facecolor", "none"))
            edge = style.get("edgecolor", face)
            self.legend.append(Patch(facecolor=face, edgecolor=edge, label=legend_zh))

    def frame_to(self, bounds_lonlat: tuple[float, float, float, float], margin: float) -> None:
        """Set the view to lon/lat bounds (degrees) projected, with a margin (share of the span)."""
        west, south, east, north = bounds_lonlat
        xs, ys = self.to_map.transform([west, east, west, east], [south, south, north, north])
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        span = max(x1 - x0, y1 - y0, 50.0)  # at least 50 m across, for a single point
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half = span * (0.5 + margin)
        self.axes.set_xlim(cx - half, cx + half)
        self.axes.set_ylim(cy - half, cy + half)

    def scale_bar(self) -> None:
        """A scale bar at the lower left: a round length in metres, measured on the ellipsoid."""
        (x0, x1), (y0, y1) = self.axes.get_xlim(), self.axes.get_ylim()
        start_x, start_y = x0 + 0.06 * (x1 - x0), y0 + 0.06 * (y1 - y0)
        lon, lat = self.to_lonlat.transform(start_x, start_y)
        west_lon, _ = self.to_lonlat.transform(x0, start_y)
        east_lon, _ = self.to_lonlat.transform(x1, start_y)
        _, _, span_m = GEOD.inv(west_lon, lat, east_lon, lat)
        length_m = nice_length_m(span_m)
        end_lon, end_lat, _ = GEOD.fwd(lon, lat, 90.0, length_m)
        end_x, end_y = self.to_map.transform(end_lon, end_lat)
        self.axes.plot([start_x, end_x], [start_y, end_y], color="black", linewidth=3,
                       solid_capstyle="butt")  # fmt: skip
        for x in (start_x, end_x):
            self.axes.plot([x, x], [start_y, start_y + 0.015 * (y1 - y0)], color="black", lw=1)
        self.axes.text((start_x + end_x) / 2, start_y + 0.02 * (y1 - y0), _length_label(length_m),
                       ha="center", va="bottom", fontsize=8)  # fmt: skip

    def north_arrow(self) -> None:
        """An arrow with "N" at the upper right, pointing to true north at that spot."""
        (x0, x1), (y0, y1) = self.axes.get_xlim(), self.axes.get_ylim()
        base_x, base_y = x0 + 0.92 * (x1 - x0), y0 + 0.82 * (y1 - y0)
        lon, lat = self.to_lonlat.transform(base_x, base_y)
        north_x, north_y = self.to_map.transform(lon, lat + 0.001)
        dx, dy = north_x - base_x, north_y - base_y
        scale = 0.08 * (y1 - y0) / np.hypot(dx, dy)
        tip = (base_x + dx * scale, base_y + dy * scale)
        self.axes.annotate("", xy=tip, xytext=(base_x, base_y),
                           arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5})  # fmt: skip
        self.axes.text(tip[0], tip[1] + 0.01 * (y1 - y0), "N", ha="center", va="bottom",
                       fontsize=10, fontweight="bold")  # fmt: skip

    def labels(self, frame, column: str) -> None:
        """Each geometry's name at its representative point (only with a CJK font)."""
        if not has_cjk_font() or frame is None or column not in frame:
            return
        points = frame.to_crs(self.crs).representative_point()
        for point, name in zip(points, frame[column], strict=True):
            self.axes.text(point.x, point.y, str(name), ha="center", va="center", fontsize=7,
                           color="#333333", **text_properties())  # fmt: skip

    def png(self) -> bytes:
        """Finish (legend with a CJK font, scale bar, north arrow) and return the PNG bytes."""
        if self.legend and has_cjk_font():
            self.axes.legend(handles=self.legend, loc="lower right", fontsize=7, framealpha=0.9,
                             prop={"family": text_properties()["fontfamily"], "size": 7})  # fmt: skip
        self.scale_bar()
        self.north_arrow()
        buffer = BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()


def _bounds(*frames) -> tuple[float, float, float, float] | None:
    boxes = [f.total_bounds for f in frames if f is not None and len(f)]
    if not boxes:
        return None
    stack = np.vstack(boxes)
    return (*stack[:, :2].min(axis=0), *stack[:, 2:].max(axis=0))


def _centre(bounds) -> tuple[float, float]:
    west, south, east, north = bounds
    return (west + east) / 2, (south + north) / 2


def town_map_png(
    villages: gpd.GeoDataFrame,
    demolished: gpd.GeoDataFrame | None = None,
    restored: gpd.GeoDataFrame | None = None,
    *,
    name_column: str = "name",
    width_in: float = 6.4,
    height_in: float = 6.4,
    dpi: int = 150,
) -> bytes:
    """A PNG of a town: village boundaries, demolished buildings (red), restored parcels (green).

    All frames in lon/lat (EPSG:4490 or 4326); buildings may be footprints or points. Drawn in the
    GK zone of the centre (metres), with a geodesic scale bar and a north arrow. ValueError when
    there is nothing to draw or a frame is in another CRS.
    """
    villages = _lonlat(villages, "villages")
    demolished = _lonlat(demolished, "demolished")
    restored = _lonlat(restored, "restored")
    bounds = _bounds(villages, demolished, restored)
    if bounds is None:
        raise ValueError("nothing to draw: no village boundary and no case")
    canvas = _Canvas(projected_epsg(*_centre(bounds)), width_in, height_in, dpi)
    canvas.layer(
        villages,
        LEGEND_ZH["villages"][0],
        facecolor=VILLAGE_FILL,
        edgecolor=VILLAGE_EDGE,
        linewidth=0.8,
    )
    canvas.labels(villages, name_column)
    for frame, key, colour in (
        (restored, "restored", RESTORED),
        (demolished, "demolished", DEMOLISHED),
    ):
        if frame is None:
            continue
        points = frame[frame.geometry.geom_type.isin(["Point", "MultiPoint"]).to_numpy()]
        shapes = frame[~frame.geometry.geom_type.isin(["Point", "MultiPoint"]).to_numpy()]
        label = LEGEND_ZH[key][0]
        canvas.layer(shapes, label, color=colour, edgecolor=colour, linewidth=0.6)
        if key == "demolished" and len(shapes):
            # A footprint of a few hundred m² is a dot at town scale: a marker shows where it was.
            marks = gpd.GeoDataFrame(
                geometry=shapes.geometry.representative_point(), crs=shapes.crs
            )
            points = gpd.GeoDataFrame(geometry=[*points.geometry, *marks.geometry], crs=shapes.crs)
        canvas.layer(points, None if len(shapes) else label, color=colour, markersize=14)
    canvas.frame_to(bounds, margin=0.04)
    return canvas.png()


def case_locator_png(
    case_geom,
    group_geom=None,
    village_geom=None,
    *,
    width_in: float = 4.0,
    height_in: float = 4.0,
    dpi: int = 150,
) -> bytes:
    """A PNG locating one case (point or polygon, lon/lat EPSG:4326) on its 组 and 村 outlines.

    The view is the group (else the village, else the case and 200 m around it); the village is
    drawn as far as it shows. Metres in the GK zone of the case, geodesic scale bar, north arrow.
    """
    if case_geom is None or shapely.is_empty(case_geom):
        raise ValueError("the case has no geometry")

    def series(geom):
        if geom is None or shapely.is_empty(geom):
            return None
        return gpd.GeoSeries([geom], crs=4326)

    case, group, village = series(case_geom), series(group_geom), series(village_geom)
    view = _bounds(group) or _bounds(village) or _bounds(case)
    view = _bounds(case, gpd.GeoSeries([shapely.box(*view)], crs=4326))
    point = case_geom if case_geom.geom_type == "Point" else case_geom.representative_point()
    canvas = _Canvas(projected_epsg(point.x, point.y), width_in, height_in, dpi)
    canvas.layer(
        village,
        LEGEND_ZH["villages"][0],
        facecolor=VILLAGE_FILL,
        edgecolor=VILLAGE_EDGE,
        linewidth=1.0,
    )
    canvas.layer(
        group, LEGEND_ZH["groups"][0], facecolor="none", edgecolor=GROUP_EDGE, linewidth=1.4
    )
    if case_geom.geom_type in ("Point", "MultiPoint"):
        canvas.layer(case, LEGEND_ZH["case"][0], color=CASE, markersize=60, marker="*")
    else:
        canvas.layer(case, LEGEND_ZH["case"][0], color=CASE, edgecolor=CASE, linewidth=1.2)
    canvas.frame_to(view, margin=0.08)
    return canvas.png()
