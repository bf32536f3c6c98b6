"""geodata.maps and geodata.tiles without the app: filters, compact GeoJSON, clusters, rendered HTML."""

import json
import re
from datetime import date

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata import assets, maps, tiles
from geodata.crs import gcj02_to_wgs84, wgs84_to_gcj02

TODAY = date(2024, 6, 1)


def square(lon: float, lat: float, half_deg: float = 0.0002):
    """A small square around lon/lat (EPSG:4326 degrees)."""
    return shapely.box(lon - half_deg, lat - half_deg, lon + half_deg, lat + half_deg)


def table() -> gpd.GeoDataFrame:
    """Six hand-made cases, one per status, with every kind and an overdue one (EPSG:4326)."""
    rows = [
        # id, kind, status, source, found_on, deadline_on, geometry
        (
            1,
            "issue",
            "reported",
            "patrol",
            date(2024, 3, 1),
            date(2024, 4, 1),
            shapely.Point(113.001, 30.001),
        ),
        (
            2,
            "issue",
            "assigned",
            "superior",
            date(2023, 5, 2),
            date(2024, 9, 1),
            shapely.Point(113.002, 30.002),
        ),
        (
            3,
            "illegal_building",
            "in_progress",
            "public",
            date(2024, 1, 5),
            None,
            square(113.003, 30.003),
        ),
        (
            4,
            "illegal_building",
            "done",
            "hotline",
            date(2023, 7, 7),
            date(2023, 8, 1),
            square(113.004, 30.004),
        ),
        (
            5,
            "farmland",
            "verified",
            "patrol",
            date(2024, 2, 2),
            None,
            square(113.005, 30.005, 0.001),
        ),
        (
            6,
            "farmland",
            "void",
            "superior",
            date(2022, 9, 9),
            date(2022, 10, 1),
            square(113.006, 30.006),
        ),
    ]
    frame = pd.DataFrame(
        rows, columns=["id", "kind", "status", "source", "found_on", "deadline_on", "geometry"]
    )
    frame["title"] = [f"案件{i} <script>" for i in frame["id"]]
    frame["area_m2"] = [None, None, 1900.5, 1900.5, 21000.0, 1900.5]
    frame["village"] = "平岗村"
    frame["group"] = "一组"
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def features(text: str) -> dict:
    return {f["properties"]["i"]: f for f in json.loads(text)["features"]}


def rendered(m: folium.Map) -> str:
    return assets.render_local(m)


def script_options(html: str, call: str) -> list[dict]:
    """The JSON options of every MapApp.<call>(map, {...}) in a rendered page."""
    return [
        json.loads(m.group(1)) for m in re.finditer(rf"MapApp\.{call}\(\w+, (\{{.*?\}})\);", html)
    ]


# ------------------------------------------------------------------ filters


def args(**values):
    from werkzeug.datastructures import MultiDict

    return MultiDict(
        [(k, v) for k, vs in values.items() for v in (vs if isinstance(vs, list) else [vs])]
    )


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, maps.CaseFilters()),
        ({"kind": ["issue", "farmland"]}, maps.CaseFilters(kinds=("issue", "farmland"))),
        ({"kind": "issue,farmland,issue"}, maps.CaseFilters(kinds=("issue", "farmland"))),
        ({"kind": "rocket"}, maps.CaseFilters()),
        (
            {"status": ["open", "void", "assigned"]},
            maps.CaseFilters(statuses=("open", "void", "assigned")),
        ),
        ({"status": "closed-ish"}, maps.CaseFilters()),
        ({"source": "patrol"}, maps.CaseFilters(sources=("patrol",))),
        ({"source": "DROP TABLE"}, maps.CaseFilters()),
        ({"year": "2024"}, maps.CaseFilters(year=2024)),
        ({"year": "24x"}, maps.CaseFilters()),
        ({"year": "99999"}, maps.CaseFilters()),
        ({"overdue": "1"}, maps.CaseFilters(overdue=True)),
        ({"overdue": "on"}, maps.CaseFilters(overdue=True)),
        ({"overdue": "0"}, maps.CaseFilters()),
    ],
)
def test_filters_from_the_query(query, expected):
    assert maps.CaseFilters.from_query(args(**query)) == expected


def test_filters_drop_sources_not_in_the_known_list():
    filters = maps.CaseFilters.from_query(args(source=["patrol", "rumour"]), sources={"patrol"})

    assert filters.sources == ("patrol",)


def test_filters_round_trip_through_the_query():
    filters = maps.CaseFilters(("issue",), ("open", "done"), ("patrol",), 2024, True)

    again = maps.CaseFilters.from_query(args(**_pairs_to_dict(filters.query())))

    assert again == filters


def _pairs_to_dict(pairs):
    out: dict = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


@pytest.mark.parametrize(
    "filters, ids",
    [
        (maps.CaseFilters(), {1, 2, 3, 4, 5, 6}),
        (maps.CaseFilters(kinds=("farmland",)), {5, 6}),
        (maps.CaseFilters(statuses=("open",)), {1, 2, 3}),
        (maps.CaseFilters(statuses=("done", "void")), {4, 6}),
        (maps.CaseFilters(statuses=("assigned",)), {2}),
        (maps.CaseFilters(sources=("superior",)), {2, 6}),
        (maps.CaseFilters(year=2023), {2, 4}),
        (maps.CaseFilters(overdue=True), {1}),  # 4 and 6 are past due but fixed or void
        (maps.CaseFilters(kinds=("issue",), year=2024), {1}),
    ],
)
def test_filters_select_rows(filters, ids):
    assert set(filters.apply(table(), TODAY)["id"]) == ids


def test_overdue_mask_prefers_an_overdue_column():
    frame = pd.DataFrame({"status": ["done", "assigned"], "overdue": [True, None]})

    assert maps.overdue_mask(frame, TODAY).tolist() == [True, False]


# ------------------------------------------------------------------ compact GeoJSON


def test_case_geojson_is_compact_and_rounded():
    text = maps.case_geojson(table(), today=TODAY)
    data = json.loads(text)

    assert data["mode"] == "features" and data["total"] == 6
    point = features(text)[1]
    assert point["geometry"] == {"type": "Point", "coordinates": [113.001, 30.001]}
    assert set(point) == {"type", "geometry", "properties"}  # no per-feature id or bbox
    assert point["properties"] == {
        "i": 1,
        "k": "issue",
        "s": "reported",
        "o": 1,
        "t": "案件1 <script>",
        "d": "2024-04-01",
        "w": "平岗村 / 一组",
    }
    coordinates = re.findall(r"-?\d+\.\d+", text)
    assert coordinates and all(len(c.split(".")[1]) <= 5 for c in coordinates)
    assert "\\u" not in text  # Chinese stays UTF-8, a third of the bytes of \\u escapes


def test_case_geojson_keeps_polygons_or_makes_them_points():
    near = features(maps.case_geojson(table(), today=TODAY))
    far = features(maps.case_geojson(table(), today=TODAY, polygons=False))

    assert near[5]["geometry"]["type"] == "Polygon"
    assert near[5]["properties"]["p"] == pytest.approx([113.005, 30.005])
    assert near[5]["properties"]["a"] == 21000.0
    assert far[5]["geometry"]["type"] == "Point" and "p" not in far[5]["properties"]


def test_case_geojson_reads_lon_lat_columns_and_other_crs():
    plain = pd.DataFrame(
        {"id": [7], "kind": ["issue"], "status": ["void"], "lon": [113.1], "lat": [30.1]}
    )
    projected = table().to_crs("EPSG:3857")

    assert features(maps.case_geojson(plain, today=TODAY))[7]["geometry"]["coordinates"] == [
        113.1,
        30.1,
    ]
    again = features(maps.case_geojson(projected, today=TODAY))
    assert again[1]["geometry"]["coordinates"] == pytest.approx([113.001, 30.001])


def test_clusters_count_every_case_once_per_kind():
    rng = np.random.default_rng(1)
    n = 500
    frame = pd.DataFrame(
        {
            "id": range(n),
            "kind": rng.choice(["issue", "farmland"], n),
            "status": rng.choice(list(maps.MAP_GROUPS), n),
            "lon": rng.uniform(113.0, 113.05, n),
            "lat": rng.uniform(30.0, 30.04, n),
            "deadline_on": [date(2024, 1, 1)] * n,
        }
    )

    data = json.loads(maps.cluster_geojson(frame, zoom=14, today=TODAY))

    assert data["mode"] == "clusters" and data["total"] == n
    props = [f["properties"] for f in data["features"]]
    assert sum(p["n"] for p in props) == n
    assert all(sum(p["gs"]) == p["n"] for p in props)
    issues = sum(p["n"] for p in props if p["k"] == "issue")
    assert issues == (frame["kind"] == "issue").sum()
    open_overdue = frame["status"].map(maps.MAP_GROUPS).eq("open").sum()
    assert sum(p["o"] for p in props) == open_overdue
    for p in props:
        west, south, east, north = p["b"]
        assert west <= east and south <= north


def test_cluster_cells_shrink_as_the_map_zooms_in():
    w13, h13 = maps.cluster_size_deg(13, 30.2)
    w14, h14 = maps.cluster_size_deg(14, 30.4)

    assert w14 == pytest.approx(w13 / 2) and h14 == pytest.approx(h13 / 2)
    assert h13 == pytest.approx(w13 * np.cos(np.radians(30)))


def test_cell_features_carry_label_points_and_stats():
    cells = gpd.GeoDataFrame(
        {"code": ["PG01"], "name": ["平岗村"], "open": [3], "mu": [12.345]},
        geometry=[shapely.box(113.0, 30.0, 113.0123456789, 30.01)],
        crs="EPSG:4326",
    )

    (feature,) = maps.cell_features(cells)["features"]

    assert feature["properties"]["open"] == 3 and feature["properties"]["mu"] == 12.35
    assert shapely.Point(feature["properties"]["lp"]).within(cells.geometry[0])
    assert [113.01235, 30.0] in feature["geometry"]["coordinates"][0]


# ------------------------------------------------------------------ rendered maps


def test_map_colours_cases_by_status_group_and_has_a_legend():
    html = rendered(maps.explore_cases(table(), today=TODAY))

    (setup,) = script_options(html, "setup")
    assert setup["colors"] == maps.GROUP_COLORS
    assert setup["groups"] == maps.MAP_GROUPS
    assert setup["shapes"] == {
        "issue": "circle",
        "illegal_building": "square",
        "farmland": "diamond",
    }
    (legend,) = script_options(html, "legend")
    for group, color in maps.GROUP_COLORS.items():
        assert f"background:{color}" in legend["html"]
        assert maps.MapText().groups[group] in legend["html"]
    assert "map-mk-overdue" in legend["html"] and "Overdue" in legend["html"]
    for shape in ("circle", "square", "diamond"):
        assert f"map-mk-{shape}" in legend["html"]
    (cases,) = script_options(html, "cases")
    statuses = {f["properties"]["i"]: f["properties"]["s"] for f in cases["data"]["features"]}
    assert statuses == {
        1: "reported",
        2: "assigned",
        3: "in_progress",
        4: "done",
        5: "verified",
        6: "void",
    }


def test_map_applies_filters_before_drawing():
    filters = maps.CaseFilters(
        kinds=("farmland", "illegal_building"), statuses=("done", "verified")
    )

    html = rendered(maps.explore_cases(table(), today=TODAY, filters=filters))

    (cases,) = script_options(html, "cases")
    assert {f["properties"]["i"] for f in cases["data"]["features"]} == {4, 5}
    assert "案件1" not in html


def test_map_escapes_text_inside_the_script():
    html = rendered(maps.explore_cases(table(), today=TODAY))

    assert '<script>"' not in html and "案件1 \\u003cscript\\u003e" in html


def test_style_is_one_function_not_a_branch_per_case():
    many = pd.DataFrame(
        {
            "id": range(2000),
            "kind": "issue",
            "status": "assigned",
            "lon": np.linspace(113.0, 113.05, 2000),
            "lat": 30.0,
        }
    )

    html = rendered(maps.explore_cases(many, today=TODAY))

    assert html.count("MapApp.cases(") == 1
    assert "switch" not in html and html.count("#d9480f") < 5


def test_map_loads_only_vendored_assets_and_no_tiles():
    html = rendered(maps.explore_cases(table(), today=TODAY))

    assert assets.external_asset_urls(html) == []
    assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in html
    assert re.search(r'src="/static/js/map\.js\?v=\w+"', html)
    assert "bootstrap" not in html and "jquery" not in html
    (setup,) = script_options(html, "setup")
    assert setup["basemap"]["layers"] == [] and setup["basemap"]["shift"] is None


def test_layers_stack_on_a_map_passed_in():
    m = maps.explore_cases(table(), today=TODAY)
    more = table().assign(id=lambda t: t["id"] + 100)

    maps.explore_cases(more, m, today=TODAY, legend=False)

    html = rendered(m)
    assert html.count("MapApp.cases(") == 2 and html.count("MapApp.setup(") == 1


def test_a_plain_folium_map_gets_the_setup_first():
    m = folium.Map(tiles=None, maxZoom=19)
    folium.Marker([30.0, 113.0]).add_to(m)

    maps.add_cases(m, table(), today=TODAY)

    html = rendered(m)
    assert html.index("MapApp.setup(") < html.index("L.marker(") < html.index("MapApp.cases(")


def test_an_outline_is_dashed_rounded_and_in_the_legend():
    parcel = shapely.box(113.0012345678, 30.0, 113.003, 30.002)
    m = maps.new_map(parcel.bounds)
    maps.add_cases(m, table(), today=TODAY)

    maps.add_outline(m, json.loads(shapely.to_geojson(parcel)), name="As reported")
    maps.add_legend(m, kinds=["farmland"], outline=True)

    html = rendered(m)
    (setup,) = script_options(html, "setup")
    (outline,) = script_options(html, "outline")
    (legend,) = script_options(html, "legend")
    assert setup["outlineColor"] == maps.OUTLINE_COLOR
    assert outline["name"] == "As reported"
    assert [113.00123, 30.0] in outline["data"]["coordinates"][0]
    assert "map-legend-outline" in legend["html"] and "Parcel as first reported" in legend["html"]
    assert f"border-color:{maps.OUTLINE_COLOR}" in legend["html"]
    assert "map-mk-diamond" in legend["html"] and "map-mk-circle map-mk-plain" not in legend["html"]
    assert "map-legend-outline" not in maps.legend_html()


def test_cell_labels_go_inside_or_atop_the_cell():
    m = maps.new_map()
    cells = gpd.GeoDataFrame(
        {"code": ["PG"], "name": ["平岗镇"]}, geometry=[shapely.box(113, 30, 113.02, 30.01)]
    )

    maps.add_cells(m, cells, level="town", label_at="top")
    maps.add_cells(m, cells, level="town")

    top, inside = script_options(rendered(m), "cells")
    assert (top["labelAt"], inside["labelAt"]) == ("top", "inside")
    with pytest.raises(ValueError):
        maps.add_cells(m, cells, level="town", label_at="middle")


def test_add_cases_needs_a_table_or_a_url():
    m = maps.new_map()
    with pytest.raises(ValueError):
        maps.add_cases(m)
    with pytest.raises(ValueError):
        maps.add_cases(m, table(), data_url="/x")


def test_remote_cases_name_the_feed_and_the_case_link():
    m = maps.new_map((113.0, 30.0, 113.01, 30.01))

    maps.add_cases(m, data_url="/map/data.geojson?kind=issue", case_link="/app/cases/{id}")

    (cases,) = script_options(rendered(m), "cases")
    assert cases == {"link": "/app/cases/{id}", "fit": False, "url": "/map/data.geojson?kind=issue"}


def test_measure_and_full_screen_tools_speak_the_language():
    text = maps.MapText(
        lang="zh", words={**maps.MapText().words, "mu": "亩", "full_screen": "全屏"}
    )

    html = rendered(maps.new_map(text=text))

    assert "new L.Control.Measure(" in html and '"localization": "cn"' in html
    assert f'"display": {json.dumps("亩")}' in html and '"factor": 0.0015' in html
    assert "L.control.fullscreen(" in html and "全屏" in html


def test_map_parts_split_the_page_and_drop_page_wide_styles():
    parts = maps.map_parts(maps.explore_cases(table(), today=TODAY))

    assert '<script src="/static/vendor/leaflet/leaflet.js"></script>' in parts.header
    assert "html, body" not in parts.header and 'name="viewport"' not in parts.header
    assert parts.html.startswith('<div class="folium-map"')
    assert parts.script.startswith("var map_") and "<script" not in parts.script


def test_map_parts_honour_a_static_prefix():
    parts = maps.map_parts(maps.new_map(static_url="/town/static"), "/town/static")

    urls = assets.asset_urls(parts.header)
    assert urls and all(u.startswith("/town/static/") for u in urls)


# ------------------------------------------------------------------ basemaps


def test_no_basemap_has_no_layers_and_zoom_19():
    base = tiles.basemap("none")

    assert base.layers == () and base.max_zoom == 19 and not base.shifted


def test_osm_basemap_credits_openstreetmap():
    base = tiles.basemap("osm")

    assert "OpenStreetMap" in base.credits()
    assert base.js_config()["layers"][0]["sources"][0]["url"].startswith(
        "https://tile.openstreetmap.org/"
    )


def test_tianditu_has_map_and_imagery_with_labels_and_the_review_number():
    base = tiles.basemap("tianditu", tianditu_key="k&y", review_number="GS(2099)0001号")

    layers = base.js_config("zh")["layers"]
    assert [layer["name"] for layer in layers] == ["天地图 矢量", "天地图 影像"]
    urls = [[s["url"] for s in layer["sources"]] for layer in layers]
    assert [
        "vec_w" in urls[0][0],
        "cva_w" in urls[0][1],
        "img_w" in urls[1][0],
        "cia_w" in urls[1][1],
    ] == [True] * 4
    assert all("tk=k%26y" in url for pair in urls for url in pair)
    assert base.credits().endswith("审图号：GS(2099)0001号")
    assert not base.shifted and base.max_zoom == 18


def test_review_number_is_shown_as_given_and_escaped():
    base = tiles.basemap("osm", review_number="审图号：<b>X</b>")

    assert base.credits().endswith("审图号：&lt;b&gt;X&lt;/b&gt;")


@pytest.mark.parametrize(
    "key, kwargs", [("tianditu", {}), ("bing", {}), ("tianditu", {"tianditu_key": " "})]
)
def test_unusable_basemap_settings_are_refused(key, kwargs):
    with pytest.raises(tiles.BasemapError):
        tiles.basemap(key, **kwargs)


def test_gaode_shifts_geometry_for_display_and_back():
    base = tiles.basemap("gaode")
    lon, lat = 113.62, 29.85

    shown = tiles.to_display(lon, lat, base)
    back = tiles.from_display(*shown, base)

    assert base.shifted and base.js_config()["shift"] == "gcj02"
    assert shown == pytest.approx(wgs84_to_gcj02(lon, lat))
    assert 300 < abs(shown[0] - lon) * 96_000 + abs(shown[1] - lat) * 111_000 < 1500  # metres
    assert back == pytest.approx((lon, lat), abs=1e-8)
    assert gcj02_to_wgs84(*shown) == pytest.approx((lon, lat), abs=1e-8)
    moved = tiles.display_geometries(shapely.Point(lon, lat), base)
    assert (moved.x, moved.y) == pytest.approx(shown)
    same = tiles.display_geometries(shapely.Point(lon, lat), tiles.basemap("osm"))
    assert (same.x, same.y) == (lon, lat)


def test_gaode_map_fits_the_shifted_bounds():
    base = tiles.basemap("gaode")
    bounds = (113.6, 29.8, 113.7, 29.9)

    html = rendered(maps.new_map(bounds, basemap=base))

    west, south, _east, _north = tiles.display_bounds(bounds, base)
    assert f"[[{south}, {west}]" in html.replace("\n", "").replace("  ", "")
