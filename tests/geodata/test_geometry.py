"""Tests for geodata.geometry and geodata.parse: every geometry row of BAD_INPUT.md, and the accepted forms."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely

from geodata.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geodata.errors import CRSError, GeodataError, GeometryError
from geodata.geometry import geometry_from_lonlat, parse_geometry, validate_geometry

ROOT = Path(__file__).resolve().parents[2]

# A 0.01° square near 113.1°E 30.2°N, anticlockwise, as GeoJSON positions.
SQUARE = [[113.1, 30.2], [113.11, 30.2], [113.11, 30.21], [113.1, 30.21], [113.1, 30.2]]


def polygon(*rings) -> dict:
    """Return a GeoJSON Polygon dict from rings of [lon, lat] positions."""
    return {"type": "Polygon", "coordinates": [list(ring) for ring in rings]}


def feature_collection(geometry: dict, count: int = 1, crs_name: str | None = None) -> dict:
    """Return a FeatureCollection holding `count` copies of geometry, with an optional legacy crs member."""
    fc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"名称": "一组"}, "geometry": geometry}]
        * count,
    }
    if crs_name:
        fc["crs"] = {"type": "name", "properties": {"name": crs_name}}
    return fc


DEEP_JSON = '{"type": "Polygon", "coordinates": ' + "[" * 100_000 + "]" * 100_000 + "}"

# (BAD_INPUT row, input, parse_geometry keyword arguments, error class, code, fragment of message_zh)
BAD = [
    (1, "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))", {}, GeometryError, "self_intersection", "0.5, 0.5"),
    (
        1,
        "POLYGON ((113 30, 113.001 30.001, 113.001 30, 113 30.001, 113 30))",
        {},
        GeometryError,
        "self_intersection",
        "面自相交（位置约 113.0005, 30.0005）",
    ),
    (2, polygon(SQUARE[:-1]), {}, GeometryError, "ring_not_closed", "没有闭合"),
    (
        2,
        "POLYGON ((113.1 30.2, 113.11 30.2, 113.11 30.21, 113.1 30.21))",
        {},
        GeometryError,
        "ring_not_closed",
        "没有闭合",
    ),
    (
        3,
        polygon([[113.1, 30.2], [113.2, 30.2], [113.1, 30.2], [113.1, 30.2]]),
        {},
        GeometryError,
        "too_few_points",
        "面至少需要3个不同顶点",
    ),
    (
        3,
        polygon([[113.1, 30.2], [113.1, 30.2]]),
        {},
        GeometryError,
        "too_few_points",
        "3个不同顶点",
    ),
    (
        4,
        polygon(SQUARE, [[113.2, 30.2], [113.21, 30.2], [113.21, 30.21], [113.2, 30.2]]),
        {},
        GeometryError,
        "hole_outside_shell",
        "内洞",
    ),
    (
        5,
        polygon([[113.1, 30.2], [113.2, 30.3], [113.3, 30.4], [113.1, 30.2]]),
        {},
        GeometryError,
        "zero_area",
        "面积为0",
    ),
    (
        6,
        "MULTIPOLYGON (((113 30, 113.2 30, 113.2 30.2, 113 30.2, 113 30)),"
        " ((113.1 30.1, 113.3 30.1, 113.3 30.3, 113.1 30.3, 113.1 30.1)))",
        {},
        GeometryError,
        "overlapping_parts",
        "重叠",
    ),
    (7, '{"type": "Point", "coordinates": [NaN, 30.2]}', {}, GeometryError, "non_finite", "非数值"),
    (
        7,
        '{"type": "Point", "coordinates": [113.1, Infinity]}',
        {},
        GeometryError,
        "non_finite",
        "NaN",
    ),
    (
        7,
        '{"type": "Point", "coordinates": [1e999, 30.2]}',
        {},
        GeometryError,
        "non_finite",
        "非数值",
    ),
    (
        7,
        {"type": "Point", "coordinates": [float("nan"), 30.2]},
        {},
        GeometryError,
        "non_finite",
        "非数值",
    ),
    (7, "nan,30.2", {}, GeometryError, "non_finite", "非数值"),
    (7, "POINT (113.1 inf)", {}, GeometryError, "non_finite", "非数值"),
    (8, "200,95", {}, GeometryError, "out_of_range", "超出范围"),
    (8, "-181, 10", {}, GeometryError, "out_of_range", "-181, 10"),
    (9, "30.2,113.1", {}, GeometryError, "swapped_lonlat", "经纬度可能写反了"),
    (9, "40.5, 80.5", {}, GeometryError, "swapped_lonlat", "经纬度可能写反了"),  # 新疆, swapped
    (9, polygon([[p[1], p[0]] for p in SQUARE]), {}, GeometryError, "swapped_lonlat", "写反"),
    (10, "113.1,30.2", {"crs": "GCJ2"}, CRSError, "unknown_crs", "无法识别的坐标系"),
    (
        11,
        feature_collection(polygon(SQUARE), crs_name="EPSG:4526"),  # degrees declared as metres
        {},
        CRSError,
        "outside_crs_area",
        "适用范围",
    ),
    (
        11,
        feature_collection(polygon(SQUARE), crs_name="urn:ogc:def:crs:EPSG::99999"),
        {},
        CRSError,
        "unknown_crs",
        "无法识别的坐标系",
    ),
    (
        11,
        {**polygon(SQUARE), "crs": {"type": "link", "properties": {"href": "http://x/crs"}}},
        {},
        CRSError,
        "unknown_crs",
        "crs",
    ),
    (
        11,
        feature_collection(polygon(SQUARE), crs_name="EPSG:4526"),
        {"crs": "GCJ02"},
        CRSError,
        "crs_conflict",
        "坐标系矛盾",
    ),
    (12, '{"type": "Polygon", "coordinates": []}', {}, GeometryError, "empty", "为空"),
    (12, "POLYGON EMPTY", {}, GeometryError, "empty", "为空"),
    (
        12,
        {"type": "Feature", "properties": {}, "geometry": None},
        {},
        GeometryError,
        "empty",
        "为空",
    ),
    (12, "   ", {}, GeometryError, "empty", "为空"),
    (
        14,
        '{"type": "GeometryCollection", "geometries": []}',
        {},
        GeometryError,
        "unsupported_type",
        "GeometryCollection",
    ),
    (14, "LINESTRING (113.1 30.2, 113.2 30.3)", {}, GeometryError, "unsupported_type", "不支持"),
    (14, DEEP_JSON, {}, GeometryError, "too_deep", "嵌套"),
    (14, "[" * 100_000, {}, GeometryError, "too_deep", "嵌套"),
    (14, "x" * 1_000_001, {}, GeometryError, "too_large", "输入过大"),
    (
        15,
        polygon([[113.1 + i * 1e-6, 30.2] for i in range(20_000)] + [[113.1, 30.3], [113.1, 30.2]]),
        {},
        GeometryError,
        "too_many_vertices",
        "上限 20,000",
    ),
    (
        None,
        feature_collection(polygon(SQUARE), count=2),
        {},
        GeometryError,
        "feature_count",
        "2 个",
    ),
    (None, '{"type": "Point", "coordinates": [113.1, 30.2]', {}, GeometryError, "bad_json", "JSON"),
    (None, "POLYGON ((113 30, 114 30, 114 31, 113 30)", {}, GeometryError, "bad_wkt", "WKT"),
    (None, "北京市", {}, GeometryError, "unrecognized_format", "经度,纬度"),
    (
        None,
        {"type": "Point", "coordinates": ["113.1", "30.2"]},
        {},
        GeometryError,
        "bad_coordinates",
        "坐标格式",
    ),
]


@pytest.mark.parametrize(
    "row, value, kwargs, error_class, code, fragment_zh",
    BAD,
    ids=[f"row{row}-{code}" for row, _, _, _, code, _ in BAD],
)
def test_bad_input_is_refused_with_a_specific_reason(
    row, value, kwargs, error_class, code, fragment_zh
):
    with pytest.raises(error_class) as caught:
        parse_geometry(value, **kwargs)

    error = caught.value
    assert error.code == code
    assert fragment_zh in error.message_zh
    assert error.message_en and not re.search(r"[\u4e00-\u9fff]", error.message_en)
    assert str(error) == error.message_zh


def test_each_error_code_has_its_own_message():
    messages = {}
    for _, value, kwargs, _, code, _ in BAD:
        with pytest.raises(GeodataError) as caught:
            parse_geometry(value, **kwargs)
        messages.setdefault(code, set()).add(caught.value.message_en.split(":")[0][:25])

    firsts = [min(texts) for texts in messages.values()]
    assert len(set(firsts)) == len(firsts)


@pytest.mark.parametrize(
    "text",
    ["113.1,30.2", "113.1， 30.2", "113.1 30.2", " 113.1 , 30.2 ", "113.1，30.2", "+113.1,30.2"],
)
def test_lonlat_text_forms_give_the_same_point(text):
    assert parse_geometry(text).equals_exact(shapely.Point(113.1, 30.2), 0)


@pytest.mark.parametrize(
    "text",
    [
        "POINT Z (113.1 30.2 12.5)",
        "point z(113.1 30.2 12.5)",
        "POINT (113.1 30.2 12.5)",
        "POINT M (113.1 30.2 7)",
        "SRID=4326;POINT (113.1 30.2)",
        '{"type": "Point", "coordinates": [113.1, 30.2, 12.5]}',
    ],
)
def test_z_and_m_are_dropped(text):
    point = parse_geometry(text)

    assert not point.has_z
    assert point.equals_exact(shapely.Point(113.1, 30.2), 0)


def test_polygon_wkt_with_z_comes_back_2d():
    geom = parse_geometry(
        "POLYGON Z ((113.1 30.2 5, 113.11 30.2 5, 113.11 30.21 5, 113.1 30.21 5, 113.1 30.2 5))"
    )

    assert not geom.has_z
    assert geom.equals_exact(shapely.Polygon(SQUARE), 0)


@pytest.mark.parametrize(
    "value",
    [
        polygon(SQUARE),
        {"type": "Feature", "properties": {"名称": "一组"}, "geometry": polygon(SQUARE)},
        feature_collection(polygon(SQUARE)),
        json.dumps(feature_collection(polygon(SQUARE)), ensure_ascii=False),
        json.dumps(feature_collection(polygon(SQUARE))).encode("utf-8"),
        feature_collection(polygon(SQUARE), crs_name="urn:ogc:def:crs:OGC:1.3:CRS84"),
        feature_collection(polygon(SQUARE), crs_name="EPSG:4490"),
    ],
    ids=["geometry", "feature", "collection", "text", "bytes", "crs84", "cgcs2000"],
)
def test_geojson_forms_give_the_same_polygon(value):
    assert parse_geometry(value).equals_exact(shapely.Polygon(SQUARE), 0)


def test_legacy_crs_in_gauss_kruger_metres_is_converted_to_degrees():
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4526", always_xy=True)
    ring_m = [list(to_gk.transform(lon, lat)) for lon, lat in SQUARE]
    text = json.dumps(feature_collection(polygon(ring_m), crs_name="urn:ogc:def:crs:EPSG::4526"))

    geom = parse_geometry(text)

    assert ring_m[0][0] > 38_000_000  # the input really is in metres
    assert shapely.equals_exact(geom, shapely.Polygon(SQUARE), tolerance=1e-9)


def test_crs_argument_reprojects_gauss_kruger_wkt():
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)
    x_m, y_m = to_gk.transform(113.1, 30.2)

    point = parse_geometry(f"POINT ({x_m} {y_m})", crs="EPSG:4547")

    assert (point.x, point.y) == pytest.approx((113.1, 30.2), abs=1e-9)


def test_gcj02_input_is_converted_to_wgs84():
    gcj = wgs84_to_gcj02(113.1, 30.2)

    point = parse_geometry(f"{gcj[0]},{gcj[1]}", crs="GCJ02")

    assert abs(gcj[0] - 113.1) > 1e-3  # the offset is real, and undone
    assert (point.x, point.y) == pytest.approx((113.1, 30.2), abs=1e-7)
    assert point.equals_exact(geometry_from_lonlat(*gcj, crs="GCJ02"), 1e-12)


def test_gcj02_polygon_is_converted_vertex_by_vertex():
    ring_gcj = [list(wgs84_to_gcj02(lon, lat)) for lon, lat in SQUARE]

    geom = parse_geometry(polygon(ring_gcj), crs="GCJ02")

    expected = [gcj02_to_wgs84(lon, lat) for lon, lat in ring_gcj]
    assert shapely.equals_exact(geom, shapely.Polygon(expected), tolerance=1e-12)


def test_clockwise_polygon_comes_back_counter_clockwise_with_clockwise_holes():
    hole_ccw = [[113.102, 30.202], [113.104, 30.202], [113.104, 30.204], [113.102, 30.202]]
    shell_cw = SQUARE[::-1]

    geom = parse_geometry(polygon(shell_cw, hole_ccw))

    assert geom.exterior.is_ccw
    assert not geom.interiors[0].is_ccw
    assert geom.area == pytest.approx(shapely.Polygon(shell_cw, [hole_ccw]).area)


def test_multipolygon_parts_are_each_oriented():
    far = [[lon + 0.1, lat] for lon, lat in SQUARE]
    value = {"type": "MultiPolygon", "coordinates": [[SQUARE[::-1]], [far]]}

    geom = parse_geometry(value)

    assert [part.exterior.is_ccw for part in geom.geoms] == [True, True]


def test_nearly_closed_ring_is_closed_exactly():
    ring = [*SQUARE[:-1], [113.1 + 5e-8, 30.2 - 5e-8]]

    geom = parse_geometry(polygon(ring))

    assert geom.exterior.coords[0] == geom.exterior.coords[-1] == (113.1, 30.2)


def test_deep_json_is_refused_quickly_in_a_separate_process():
    script = (
        "from geodata.geometry import parse_geometry\n"
        "from geodata.errors import GeometryError\n"
        f"text = {DEEP_JSON[:40]!r} + '[' * 100_000 + ']' * 100_000 + '}}'\n"
        "try:\n    parse_geometry(text)\nexcept GeometryError as e:\n    print(e.code)\n"
    )
    started = time.perf_counter()

    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "too_deep"
    assert time.perf_counter() - started < 20


def test_deep_json_is_refused_in_under_a_second():
    started = time.perf_counter()
    with pytest.raises(GeometryError, match="嵌套"):
        parse_geometry(DEEP_JSON)
    assert time.perf_counter() - started < 1.0


def test_a_million_vertices_are_refused_by_the_cap_before_any_work():
    ring = [[113.1, 30.2]] + [[113.2, 30.3]] * 1_000_000 + [[113.1, 30.2]]
    started = time.perf_counter()

    with pytest.raises(GeometryError) as caught:
        parse_geometry(polygon(ring))

    assert caught.value.code == "too_many_vertices"
    assert "1,000,002" in caught.value.message_zh
    assert time.perf_counter() - started < 0.5


def test_a_million_vertex_shapely_polygon_is_refused_by_validate():
    lon = np.linspace(113.1, 113.2, 1_000_000)
    big = shapely.polygons(np.column_stack([lon, 30.2 + (np.arange(lon.size) % 2) * 1e-7]))

    with pytest.raises(GeometryError) as caught:
        validate_geometry(big)

    assert caught.value.code == "too_many_vertices"


def test_a_million_vertex_text_is_refused_by_the_size_cap():
    text = (
        '{"type": "Polygon", "coordinates": [[' + "[113.1234567, 30.2345678]," * 1_000_000 + "]]}"
    )

    with pytest.raises(GeometryError) as caught:
        parse_geometry(text)

    assert caught.value.code == "too_large"


def test_max_vertices_can_be_lowered():
    with pytest.raises(GeometryError, match="上限 4"):
        parse_geometry(polygon(SQUARE), max_vertices=4)


def test_validate_geometry_drops_z_and_refuses_other_types():
    assert not validate_geometry(shapely.Point(113.1, 30.2, 9.0)).has_z
    with pytest.raises(GeometryError) as caught:
        validate_geometry(shapely.LineString([(113.1, 30.2), (113.2, 30.3)]))
    assert caught.value.code == "unsupported_type"
    with pytest.raises(GeometryError) as caught:
        validate_geometry(shapely.GeometryCollection([shapely.Point(113.1, 30.2)]))
    assert caught.value.code == "unsupported_type"


def test_validate_geometry_refuses_a_bow_tie_built_in_shapely():
    bow_tie = shapely.Polygon([(113, 30), (113.001, 30.001), (113.001, 30), (113, 30.001)])

    with pytest.raises(GeometryError, match="113.0005, 30.0005"):
        validate_geometry(bow_tie)


def test_geometry_from_lonlat():
    assert geometry_from_lonlat(113.1, 30.2).equals_exact(shapely.Point(113.1, 30.2), 0)
    with pytest.raises(GeometryError, match="写反"):
        geometry_from_lonlat(30.2, 113.1)
    with pytest.raises(GeometryError) as caught:
        geometry_from_lonlat(True, 30.2)
    assert caught.value.code == "bad_coordinates"


def test_geodata_imports_no_web_or_database_code():
    script = (
        "import sys, geodata.geometry, geodata.crs, geodata.parse, geodata.errors\n"
        "banned = {'flask', 'sqlalchemy', 'geoalchemy2', 'inspection'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & banned))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_thin_but_real_parcel_is_accepted():
    # A 1 km long, 1 m wide strip near lon 113: thin, yet far above the collinear-noise threshold.
    strip = "POLYGON((113 30, 113.0104 30, 113.0104 30.000009, 113 30.000009, 113 30))"

    assert parse_geometry(strip).area > 0
