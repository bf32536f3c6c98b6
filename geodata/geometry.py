"""Parse and validate input geometry into clean 2-D WGS-84 lon/lat (EPSG:4326) points and polygons."""

import numbers
import re

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata import crs as crs_module
from geodata.errors import CRSError, GeometryError
from geodata.parse import empty_error, load_geometry_mapping, non_finite_error, unsupported_error

MAX_VERTICES = 20_000
# First and last vertex of a ring this close (degrees, about 1 cm) count as the same point.
RING_CLOSE_TOLERANCE_DEG = 1e-7
# A polygon whose area is this small relative to its extent squared is a line or a point.
# Area below this share of the extent² is float noise of a collinear ring, not a shape: a real
# parcel 1 km long would need to be under 1 µm wide to fall below it.
_ZERO_AREA_RATIO = 1e-9
_REASON_RE = re.compile(r"(.*?)\[(\S+) (\S+)\]")


def _where(lon_deg: float, lat_deg: float) -> str:
    """Format a lon/lat location in degrees for a message, to about 0.1 m."""
    return ", ".join(f"{value:.6f}".rstrip("0").rstrip(".") for value in (lon_deg, lat_deg))


def _bad_coordinates() -> GeometryError:
    """Build the refusal for coordinates that are not lists of numbers."""
    return GeometryError(
        "bad_coordinates",
        "坐标格式错误：每个点应为 [经度, 纬度] 两个数字",
        "Malformed coordinates: each position must be two numbers [lon, lat]",
    )


def _too_many_vertices(count: int, max_vertices: int) -> GeometryError:
    """Build the refusal for more vertices than the cap (row 15)."""
    return GeometryError(
        "too_many_vertices",
        f"顶点过多（{count:,} 个，上限 {max_vertices:,} 个），请简化边界后再提交",
        f"Too many vertices ({count:,}; the limit is {max_vertices:,}); simplify the boundary",
    )


def _too_few_points(distinct: int) -> GeometryError:
    """Build the refusal for a ring with fewer than 3 distinct vertices (row 3)."""
    return GeometryError(
        "too_few_points",
        f"面至少需要3个不同顶点（这里只有 {distinct} 个）",
        f"A polygon needs at least 3 distinct vertices (this ring has {distinct})",
    )


def _is_number(value: object) -> bool:
    """Tell whether a value is a real number (bool is not)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _positions(ring: object) -> np.ndarray:
    """Return an (n, 2) float array from a list of [x, y] or [x, y, z] positions, dropping Z (row 13)."""
    if not isinstance(ring, list | tuple):
        raise _bad_coordinates()
    out = np.empty((len(ring), 2))
    for i, position in enumerate(ring):
        if not isinstance(position, list | tuple) or not 2 <= len(position) <= 3:
            raise _bad_coordinates()
        if not all(_is_number(value) for value in position):
            raise _bad_coordinates()
        try:
            values = [float(value) for value in position]
        except OverflowError as exc:  # an integer with hundreds of digits
            raise non_finite_error() from exc
        if not all(np.isfinite(values)):
            raise non_finite_error()
        out[i] = values[:2]
    return out


def _nested_rings(mapping: dict, max_vertices: int) -> list[list[np.ndarray]]:
    """Return polygons → rings → (n, 2) arrays in the input CRS; a point is one ring of one position."""
    kind, coords = mapping["type"], mapping["coordinates"]
    if kind == "Point":
        if isinstance(coords, list | tuple) and len(coords) == 0:
            raise empty_error()
        return [[_positions([coords])]]
    if not isinstance(coords, list | tuple):
        raise _bad_coordinates()
    polygons = [coords] if kind == "Polygon" else coords
    if len(polygons) == 0:
        raise empty_error()
    count = 0
    for polygon in polygons:
        if not isinstance(polygon, list | tuple) or not all(
            isinstance(r, list | tuple) for r in polygon
        ):
            raise _bad_coordinates()
        if len(polygon) == 0 or len(polygon[0]) == 0:
            raise empty_error()
        count += sum(len(ring) for ring in polygon)
    # Counted before any position is read, so a million vertices cost nothing (row 15).
    if count > max_vertices:
        raise _too_many_vertices(count, max_vertices)
    return [[_positions(ring) for ring in polygon] for polygon in polygons]


def _to_wgs84(polygons: list[list[np.ndarray]], source_crs: str) -> list[list[np.ndarray]]:
    """Convert every ring from source_crs to WGS-84 lon/lat degrees (EPSG:4326) in one call."""
    rings = [ring for polygon in polygons for ring in polygon]
    xy = np.concatenate(rings)
    lon, lat = crs_module.to_wgs84(xy[:, 0], xy[:, 1], source_crs)
    converted = iter(np.split(np.column_stack([lon, lat]), np.cumsum([len(r) for r in rings])[:-1]))
    return [[next(converted) for _ in polygon] for polygon in polygons]


def _closed_ring(ring_deg: np.ndarray) -> np.ndarray:
    """Return a ring of lon/lat degrees closed exactly, refusing one whose ends are apart (rows 2, 3)."""
    if len(ring_deg) >= 2 and not np.array_equal(ring_deg[0], ring_deg[-1]):
        gap_deg = np.abs(ring_deg[0] - ring_deg[-1]).max()
        if gap_deg > RING_CLOSE_TOLERANCE_DEG:
            raise GeometryError(
                "ring_not_closed",
                f"面的边界没有闭合：起点（{_where(*ring_deg[0])}）与终点（{_where(*ring_deg[-1])}）不同，"
                "请让最后一个点与第一个点相同",
                f"The polygon ring is not closed: it starts at {_where(*ring_deg[0])} but ends at "
                f"{_where(*ring_deg[-1])}; repeat the first point at the end",
            )
        ring_deg = np.vstack([ring_deg[:-1], ring_deg[:1]])
    distinct = len(np.unique(ring_deg[:-1], axis=0)) if len(ring_deg) > 1 else len(ring_deg)
    if distinct < 3:
        raise _too_few_points(distinct)
    return ring_deg


def _source_crs(crs: str, declared: str | None) -> str:
    """Choose the input CRS: a declared one (GeoJSON crs member, EWKT SRID) unless it contradicts crs."""
    if declared is None:
        return crs
    if crs_module.offset_system(crs) is None:
        if crs_module.is_wgs84_lonlat(crs):
            return declared
        if crs_module.parse_crs(crs).equals(crs_module.parse_crs(declared), ignore_axis_order=True):
            return declared
    raise CRSError(
        "crs_conflict",
        f"坐标系矛盾：数据自带 {declared}，但提交时选择了 {crs}",
        f"Conflicting CRS: the data declares {declared} but {crs} was chosen",
    )


def parse_geometry(
    value: object,
    *,
    crs: str = crs_module.WGS84,
    max_vertices: int = MAX_VERTICES,
    max_bytes: int = 1_000_000,
) -> BaseGeometry:
    """Parse "lon,lat", WKT or GeoJSON given in crs into a valid 2-D WGS-84 lon/lat (EPSG:4326) geometry.

    crs may be any CRS pyproj knows (e.g. EPSG:4526 metres), or GCJ02 / BD09 for points picked on
    高德 / 百度 maps. Raises GeometryError or CRSError with a reason a person understands.
    """
    mapping, declared = load_geometry_mapping(value, max_bytes=max_bytes)
    source_crs = _source_crs(crs, declared)
    polygons = _to_wgs84(_nested_rings(mapping, max_vertices), source_crs)
    if mapping["type"] == "Point":
        geom = shapely.Point(polygons[0][0][0])
    else:
        parts = [
            shapely.Polygon(_closed_ring(rings[0]), [_closed_ring(hole) for hole in rings[1:]])
            for rings in polygons
        ]
        geom = parts[0] if mapping["type"] == "Polygon" else shapely.MultiPolygon(parts)
    return validate_geometry(geom, max_vertices=max_vertices)


def geometry_from_lonlat(
    lon_deg: float, lat_deg: float, *, crs: str = crs_module.WGS84
) -> BaseGeometry:
    """Build a validated WGS-84 (EPSG:4326) Point from lon/lat degrees given in crs (e.g. GCJ02)."""
    if not (_is_number(lon_deg) and _is_number(lat_deg)):
        raise _bad_coordinates()
    if not (np.isfinite(lon_deg) and np.isfinite(lat_deg)):
        raise non_finite_error()
    lon, lat = crs_module.to_wgs84(lon_deg, lat_deg, crs)
    return validate_geometry(shapely.Point(float(lon), float(lat)))


def _check_lonlat(coords_deg: np.ndarray) -> None:
    """Refuse lon/lat degrees out of range (row 8), or apparently swapped (row 9)."""
    lon, lat = coords_deg[:, 0], coords_deg[:, 1]
    in_range = (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    fits_swapped = (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
    china_swapped = (
        not crs_module.is_in_china(lon, lat).any() and crs_module.is_in_china(lat, lon).all()
    )
    if in_range.all() and not china_swapped:
        return
    bad = coords_deg[np.argmin(in_range)] if not in_range.all() else coords_deg[0]
    if fits_swapped.all():
        raise GeometryError(
            "swapped_lonlat",
            f"经纬度可能写反了：收到（{_where(*bad)}），应先写经度再写纬度，例如 113.1,30.2",
            f"Longitude and latitude look swapped: got ({_where(*bad)}); give longitude first, e.g. 113.1,30.2",
        )
    raise GeometryError(
        "out_of_range",
        f"坐标超出范围：经度应在 -180～180，纬度应在 -90～90，收到（{_where(*bad)}）",
        f"Coordinates out of range: longitude must be within ±180 and latitude within ±90, got ({_where(*bad)})",
    )


def _validity_error(reason: str, *, multipart: bool) -> GeometryError:
    """Turn a GEOS validity reason such as "Self-intersection[x y]" into a bilingual refusal (rows 1, 3, 4, 6)."""
    match = _REASON_RE.fullmatch(reason)
    what, where = (match[1], _where(float(match[2]), float(match[3]))) if match else (reason, "?")
    if multipart:
        return GeometryError(
            "overlapping_parts",
            f"多面的各部分相互重叠或共用边界（位置约 {where}），请合并或分开绘制",
            f"Parts of the multipolygon overlap or share an edge near {where}; merge them or draw them apart",
        )
    if what in ("Self-intersection", "Ring Self-intersection"):
        return GeometryError(
            "self_intersection",
            f"面自相交（位置约 {where}），请检查绘制的边界",
            f"The polygon crosses itself near {where}; check the drawn boundary",
        )
    if what == "Hole lies outside shell":
        return GeometryError(
            "hole_outside_shell",
            f"面的内洞位于外边界之外（位置约 {where}）",
            f"A hole of the polygon lies outside its outer boundary near {where}",
        )
    if what.startswith("Too few points"):
        return _too_few_points(2)
    return GeometryError(
        "invalid_geometry",
        f"几何无效（{what}，位置约 {where}），请检查边界",
        f"The geometry is invalid ({what} near {where}); check the boundary",
    )


def _check_polygon(polygon: shapely.Polygon) -> None:
    """Refuse an empty, degenerate, zero-area or invalid polygon in lon/lat degrees (rows 1, 3, 4, 5, 12)."""
    if polygon.is_empty:
        raise empty_error()
    for ring in [polygon.exterior, *polygon.interiors]:
        distinct = len(np.unique(np.asarray(ring.coords)[:-1], axis=0))
        if distinct < 3:
            raise _too_few_points(distinct)
    min_x, min_y, max_x, max_y = polygon.bounds
    extent_sq_deg2 = max(max_x - min_x, max_y - min_y) ** 2
    # The hull tells a collinear ring (area 0) from a bow-tie, whose signed halves also sum to 0.
    # Measured about the first vertex, so that the size of lon ≈ 113 adds no rounding noise.
    origin = np.asarray(polygon.exterior.coords[0])
    local = shapely.transform(polygon, lambda xy: xy - origin)
    zero_area = local.convex_hull.area <= _ZERO_AREA_RATIO * extent_sq_deg2
    reason = shapely.is_valid_reason(polygon)
    if not zero_area and reason != "Valid Geometry":
        raise _validity_error(reason, multipart=False)
    if zero_area or local.area <= _ZERO_AREA_RATIO * extent_sq_deg2:
        raise GeometryError(
            "zero_area",
            "面积为0：各顶点在一条直线上或重合，请重新绘制",
            "The polygon has zero area: its vertices lie on one line or coincide",
        )


def validate_geometry(geom: BaseGeometry, *, max_vertices: int = MAX_VERTICES) -> BaseGeometry:
    """Check a geometry in WGS-84 lon/lat degrees (EPSG:4326); return it 2-D, valid, exteriors counter-clockwise."""
    if not isinstance(geom, BaseGeometry):
        raise GeometryError("bad_input", "不是几何对象", "Not a geometry object")
    if geom.geom_type not in ("Point", "Polygon", "MultiPolygon"):
        raise unsupported_error(geom.geom_type)
    if geom.is_empty:
        raise empty_error()
    count = shapely.get_num_coordinates(geom)
    if count > max_vertices:
        raise _too_many_vertices(count, max_vertices)
    geom = shapely.force_2d(geom)
    coords_deg = shapely.get_coordinates(geom)
    if not np.isfinite(coords_deg).all():
        raise non_finite_error()
    _check_lonlat(coords_deg)
    if geom.geom_type == "Point":
        return geom
    for polygon in getattr(geom, "geoms", [geom]):
        _check_polygon(polygon)
    if geom.geom_type == "MultiPolygon" and not geom.is_valid:
        raise _validity_error(shapely.is_valid_reason(geom), multipart=True)
    return shapely.orient_polygons(geom, exterior_cw=False)
