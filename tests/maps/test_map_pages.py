"""Map pages through the Flask client: who may open which map, and filters in the URL change the data."""

import functools
import json
import re
from datetime import date, timedelta

import pytest
import shapely

from geodata import assets
from geodata import maps as geomaps
from geodata.area import geodesic_area_m2
from inspection import clock, db, vocab
from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.maps import data as map_data
from inspection.reporting.figures import year_figures
from tests.conftest import login

TODAY = clock.town_today()
KIND_CYCLE = ("issue", "illegal_building", "farmland")
STATUS_CYCLE = ("reported", "assigned", "in_progress", "done", "verified", "void")
SOURCE_CYCLE = ("patrol", "superior", "public", "hotline")
USERS = {
    "zhangzhen": ("supervisor", None),
    "liuwei": ("officer", None),
    "cz_pg01": ("grid_member", "PG01"),
    "wgy_pg01_01": ("grid_member", "PG01-01"),
    "wgy_pg02_02": ("grid_member", "PG02-02"),
    "nobody": ("grid_member", None),
}


@functools.cache
def password_hash() -> str:
    """One hash of the test password for every user (hashing is slow on purpose)."""
    user = User()
    user.set_password("demo1234")
    return user.password_hash


def case_specs() -> list[dict]:
    """Eight cases per group: every kind, status and source, some overdue, found 2023 or this year."""
    specs = []
    n = 0
    for v in (1, 2):
        for gr in (1, 2):
            for k in range(8):
                kind = KIND_CYCLE[n % 3]
                status = STATUS_CYCLE[(n // 3) % 6]  # every kind meets every status
                overdue_deadline = n % 4 == 0
                specs.append(
                    {
                        "group": f"PG0{v}-0{gr}",
                        "kind": kind,
                        "status": status,
                        "source": SOURCE_CYCLE[n % 4],
                        "found_on": date(2023, 5, 1) if n % 2 else date(TODAY.year, 1, 2),
                        "deadline_on": TODAY - timedelta(days=3)
                        if overdue_deadline
                        else TODAY + timedelta(days=30),
                        # points on a 4 × 2 lattice inside the group's box
                        "lon": 113.0 + (v - 1) * 0.01 + 0.001 + (k % 4) * 0.002,
                        "lat": 30.0 + (gr - 1) * 0.005 + 0.0015 + (k // 4) * 0.002,
                    }
                )
                n += 1
    return specs


def expected_ids(app, predicate) -> set[int]:
    """Ids of the seeded cases a predicate (on the Case row) selects."""
    with app.app_context():
        return {c.id for c in db.session().query(Case).all() if predicate(c)}


def is_overdue(c: Case) -> bool:
    return c.deadline_on is not None and c.deadline_on < TODAY and vocab.is_open(c.status)


def seed_town(app) -> None:
    """平岗镇: two villages of two groups (boxes), the users above, case_specs() as cases."""
    with app.app_context():
        s = db.session()
        town = GridCell(level="town", code="PG", name="平岗镇")
        town.set_boundary(shapely.box(113.0, 30.0, 113.02, 30.01))
        cells = {"PG": town}
        for v, vname in ((1, "平岗村"), (2, "石桥村")):
            village = GridCell(level="village", code=f"PG0{v}", name=vname, parent=town)
            west = 113.0 + (v - 1) * 0.01
            village.set_boundary(shapely.box(west, 30.0, west + 0.01, 30.01))
            cells[village.code] = village
            for gr, gname in ((1, "一组"), (2, "二组")):
                group = GridCell(level="group", code=f"PG0{v}-0{gr}", name=gname, parent=village)
                south = 30.0 + (gr - 1) * 0.005
                group.set_boundary(shapely.box(west, south, west + 0.01, south + 0.005))
                cells[group.code] = group
        s.add_all(cells.values())
        for username, (role, code) in USERS.items():
            user = User(username=username, display_name=username, role=role)
            user.password_hash = password_hash()
            user.cells = [cells[code]] if code else ([town] if role == "supervisor" else [])
            s.add(user)
        s.flush()
        for n, spec in enumerate(case_specs()):
            group = cells[spec["group"]]
            point = shapely.Point(spec["lon"], spec["lat"])
            geom = point if spec["kind"] == "issue" else point.buffer(0.0002, cap_style="square")
            case = Case(
                kind=spec["kind"],
                status=spec["status"],
                source=spec["source"],
                title=f"案件{n} <b>",
                found_on=spec["found_on"],
                deadline_on=spec["deadline_on"],
                town_id=town.id,
                village_id=group.parent_id,
                group_id=group.id,
            )
            case.set_geometry(geom, None if geom.geom_type == "Point" else geodesic_area_m2(geom))
            s.add(case)
        s.commit()


@pytest.fixture
def town(app):
    """The app with the seeded town."""
    seed_town(app)
    return app


def feed(client, query: str = "") -> dict:
    """The JSON feed for a query string, parsed."""
    response = client.get(f"/map/data.geojson{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/geo+json"
    return json.loads(response.get_data(as_text=True))


def feed_ids(client, query: str = "") -> set[int]:
    data = feed(client, query)
    assert data["mode"] == "features"
    return {f["properties"]["i"] for f in data["features"]}


# ------------------------------------------------------------------ pages and access


def test_map_pages_need_login(client):
    for path in ("/map", "/map/village/PG01", "/map/data.geojson"):
        response = client.get(path)

        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]


def test_town_map_for_supervisor(town, client):
    login(client, "zhangzhen")

    response = client.get("/map")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "平岗村" in html and "石桥村" in html  # village labels in the cell data
    assert "MapApp.cells" in html and "MapApp.cases" in html and "MapApp.legend" in html
    assert "/map/data.geojson" in html and "/map/village/{code}" in html
    assert "/cases/{id}" in html
    assert 'class="folium-map"' in html
    assert re.search(r'id="map-total">\D*32\D', html)


@pytest.mark.parametrize(
    "username, path, status",
    [
        ("zhangzhen", "/map/village/PG02", 200),
        ("zhangzhen", "/map/group/PG02-01", 200),
        ("liuwei", "/map/village/PG01", 200),
        ("cz_pg01", "/map/village/PG01", 200),
        ("cz_pg01", "/map/group/PG01-02", 200),
        ("cz_pg01", "/map/village/PG02", 404),
        ("cz_pg01", "/map/group/PG02-01", 404),
        ("wgy_pg01_01", "/map/group/PG01-01", 200),
        ("wgy_pg01_01", "/map/group/PG01-02", 404),
        ("wgy_pg01_01", "/map/village/PG01", 404),
        ("zhangzhen", "/map/village/PG01-01", 404),  # a group code on the village route
        ("zhangzhen", "/map/group/NOPE", 404),
        ("nobody", "/map/village/PG01", 404),
    ],
)
def test_who_may_open_which_map(town, client, username, path, status):
    login(client, username)

    assert client.get(path).status_code == status


@pytest.mark.parametrize(
    "username, target",
    [("wgy_pg01_01", "/map/group/PG01-01"), ("cz_pg01", "/map/village/PG01")],
)
def test_field_staff_start_on_their_own_map(town, client, username, target):
    login(client, username)

    response = client.get("/map?kind=issue&status=open")

    assert response.status_code == 302
    assert response.headers["Location"] == f"{target}?kind=issue&status=open"


def test_user_without_cells_sees_an_empty_town_map(town, client):
    login(client, "nobody")

    assert client.get("/map").status_code == 200
    assert feed_ids(client) == set()


def test_feed_for_a_cell_outside_the_grid_of_the_user_is_404(town, client):
    login(client, "wgy_pg01_01")

    assert client.get("/map/data.geojson?cell=PG01-02").status_code == 404
    assert client.get("/map/data.geojson?cell=PG01").status_code == 404


def test_feed_holds_only_the_cases_the_user_may_see(town, app, client):
    login(client, "wgy_pg01_01")

    with app.app_context():
        group_id = db.session().query(GridCell).filter_by(code="PG01-01").one().id

    assert feed_ids(client) == expected_ids(app, lambda c: c.group_id == group_id)


def test_village_map_feed_keeps_to_the_village(town, app, client):
    login(client, "zhangzhen")
    with app.app_context():
        village_id = db.session().query(GridCell).filter_by(code="PG02").one().id

    html = client.get("/map/village/PG02").get_data(as_text=True)
    url = re.search(r'"url":"(/map/data\.geojson[^"]*)"', html).group(1)

    assert "cell=PG02" in url
    assert feed_ids(client, url.removeprefix("/map/data.geojson")) == expected_ids(
        app, lambda c: c.village_id == village_id
    )


# ------------------------------------------------------------------ filters


FILTERS = [
    ("", lambda c: True),
    ("?kind=issue", lambda c: c.kind == "issue"),
    ("?kind=issue&kind=farmland", lambda c: c.kind in ("issue", "farmland")),
    ("?kind=issue,farmland", lambda c: c.kind in ("issue", "farmland")),
    ("?status=open", lambda c: c.status in ("reported", "assigned", "in_progress")),
    ("?status=done&status=void", lambda c: c.status in ("done", "void")),
    ("?status=assigned", lambda c: c.status == "assigned"),
    ("?source=superior", lambda c: c.source == "superior"),
    ("?year=2023", lambda c: c.found_on.year == 2023),
    ("?overdue=1", is_overdue),
    ("?kind=farmland&status=open&overdue=1", lambda c: c.kind == "farmland" and is_overdue(c)),
    ("?kind=nonsense&status=bogus&year=abc", lambda c: True),  # unknown values are dropped
]


@pytest.mark.parametrize("query, predicate", FILTERS)
def test_filters_in_the_url_change_the_data(town, app, client, query, predicate):
    login(client, "zhangzhen")

    ids = feed_ids(client, query)

    assert ids == expected_ids(app, predicate)


@pytest.mark.parametrize("query, predicate", FILTERS)
def test_sql_filters_agree_with_geodata_filters(town, app, query, predicate):
    from werkzeug.datastructures import MultiDict

    args = MultiDict(
        [tuple(pair.split("=", 1)) for pair in query.lstrip("?").split("&") if "=" in pair]
    )
    filters = map_data.filters_from(args)
    with app.app_context():
        user = db.session().query(User).filter_by(username="zhangzhen").one()
        every = map_data.case_table(db.session(), user, geomaps.CaseFilters(), TODAY)
        in_sql = map_data.case_table(db.session(), user, filters, TODAY)

    assert set(filters.apply(every, TODAY)["id"]) == set(in_sql["id"])


def test_the_page_shows_the_filters_and_the_count(town, client):
    login(client, "zhangzhen")

    html = client.get("/map?kind=issue&overdue=1").get_data(as_text=True)

    assert re.search(r'value="issue"\s+checked', html)
    assert re.search(r'name="overdue" value="1"\s+checked', html)
    assert "kind=issue" in html and "overdue=1" in html  # in the feed URL
    issues_overdue = sum(
        1
        for s in case_specs()
        if s["kind"] == "issue"
        and s["deadline_on"] < TODAY
        and s["status"] in ("reported", "assigned", "in_progress")
    )
    assert re.search(rf'id="map-total">\D*{issues_overdue}\D', html)


def test_feed_properties_and_polygons_by_zoom(town, client):
    login(client, "zhangzhen")

    near = feed(client, "?kind=farmland&zoom=16")
    far = feed(client, "?kind=farmland&zoom=12")

    assert {f["geometry"]["type"] for f in near["features"]} == {"Polygon"}
    assert {f["geometry"]["type"] for f in far["features"]} == {"Point"}
    props = near["features"][0]["properties"]
    assert {"i", "k", "s", "t", "a", "w", "p"} <= set(props)
    assert props["w"] in {"平岗村 / 一组", "平岗村 / 二组", "石桥村 / 一组", "石桥村 / 二组"}
    assert "id" not in near["features"][0] and "bbox" not in near["features"][0]


def test_feed_keeps_to_the_bbox(town, app, client):
    login(client, "zhangzhen")

    ids = feed_ids(client, "?bbox=113.0,30.0,113.01,30.005&zoom=16")

    with app.app_context():
        group_id = db.session().query(GridCell).filter_by(code="PG01-01").one().id
    assert ids == expected_ids(app, lambda c: c.group_id == group_id)


def test_feed_refuses_a_bad_bbox(town, client):
    login(client, "zhangzhen")

    assert client.get("/map/data.geojson?bbox=1,2,3").status_code == 422
    assert client.get("/map/data.geojson?bbox=10,50,5,60").status_code == 422


def test_feed_clusters_when_many(town, client, monkeypatch):
    monkeypatch.setattr(map_data, "FEATURE_LIMIT", 5)
    login(client, "zhangzhen")

    data = feed(client, "?zoom=13&kind=issue")

    assert data["mode"] == "clusters"
    assert sum(f["properties"]["n"] for f in data["features"]) == data["total"]
    assert data["total"] == sum(1 for s in case_specs() if s["kind"] == "issue")
    assert {f["properties"]["k"] for f in data["features"]} == {"issue"}


@pytest.mark.parametrize("zoom", [10, 13, 15, 17])
def test_clusters_counted_by_the_database_match_geodata(town, app, zoom):
    with app.app_context():
        user = db.session().query(User).filter_by(username="zhangzhen").one()
        every = map_data.case_table(db.session(), user, geomaps.CaseFilters(), TODAY)
        in_sql = map_data.cluster_rows(db.session(), user, geomaps.CaseFilters(), TODAY, zoom)
    in_pandas = geomaps.cluster_table(every, zoom=zoom, today=TODAY)

    def key(frame):
        return sorted(
            (r.kind, int(r.n), round(r.lon, 7), round(r.lat, 7), int(r.o), int(r.open))
            for r in frame.itertuples()
        )

    assert key(in_sql) == key(in_pandas)
    assert in_sql["n"].sum() == len(every)


def test_town_map_shades_villages_by_open_cases_and_restored_mu(town, client):
    login(client, "zhangzhen")

    html = client.get("/map?shade=mu").get_data(as_text=True)

    cells = [json.loads(m.group(1)) for m in re.finditer(r"MapApp\.cells\(\w+, (\{.*?\})\);", html)]
    villages = cells[1]
    assert villages["shade"] == "mu" and villages["shadeSwitch"] is True
    by_code = {f["properties"]["code"]: f["properties"] for f in villages["data"]["features"]}
    open_pg01 = sum(
        1
        for s in case_specs()
        if s["group"].startswith("PG01") and s["status"] in ("reported", "assigned", "in_progress")
    )
    assert by_code["PG01"]["open"] == open_pg01
    assert by_code["PG01"]["mu"] > 0  # farmland done or verified


def cells_options(html: str) -> list[dict]:
    """The options of every MapApp.cells call of a page: its own boundary first, then those below."""
    return [json.loads(m.group(1)) for m in re.finditer(r"MapApp\.cells\(\w+, (\{.*?\})\);", html)]


def shown_stat(html: str, stat: str) -> dict:
    """A statistic (open, mu, n) of each cell below the map's own, by code."""
    below = cells_options(html)[1]["data"]["features"]
    return {f["properties"]["code"]: f["properties"][stat] for f in below}


@pytest.fixture
def demo(app):
    """The app with the demo town (inspection.demo) loaded."""
    from inspection.ops.demo import load_demo

    with app.app_context():
        load_demo(db.session(), today=clock.town_today())
        db.session.commit()
    return app


def test_restored_mu_of_a_year_agrees_with_the_year_figures(demo, client):
    login(client, "zhangzhen")
    with demo.app_context():
        figures = year_figures(db.session(), 2022, groups=True)
        restored = {
            c.id: c
            for c in db.session()
            .query(Case)
            .filter(Case.kind == "farmland", Case.status.in_(("done", "verified")))
        }
        found_2022 = {}  # the old rule: restored parcels found in 2022
        for c in restored.values():
            if c.found_on.year == 2022:
                code = c.village.code
                found_2022[code] = found_2022.get(code, 0.0) + c.area_m2 / vocab.M2_PER_MU
        every = {}
        for c in restored.values():
            every[c.village.code] = every.get(c.village.code, 0.0) + c.area_m2 / vocab.M2_PER_MU
    villages = {v["code"]: v for v in figures["villages"] if v["code"]}

    in_2022 = shown_stat(client.get("/map?year=2022&shade=mu").get_data(as_text=True), "mu")
    all_years = shown_stat(client.get("/map?shade=mu").get_data(as_text=True), "mu")
    pg01 = client.get("/map/village/PG01?year=2022").get_data(as_text=True)

    assert in_2022 == {
        code: round(v["farmland"]["restored_area_mu"], 2) for code, v in villages.items()
    }
    assert all_years == {code: round(every.get(code, 0.0), 2) for code in villages}
    # The demo has parcels found in 2022 and restored later: found-year shading was wrong.
    assert any(round(found_2022.get(code, 0.0), 2) != mu for code, mu in in_2022.items())
    groups = {g["code"]: g for g in villages["PG01"]["groups"] if g["code"]}
    assert shown_stat(pg01, "mu") == {
        code: round(g["farmland"]["restored_area_mu"], 2) for code, g in groups.items()
    }
    assert "2022年复耕亩数" in pg01


@pytest.mark.parametrize(
    "path, own",
    [("/map", "PG"), ("/map/village/PG01", "PG01"), ("/map/group/PG01-01", "PG01-01")],
)
def test_a_map_labels_its_own_boundary_at_its_top(town, client, path, own):
    login(client, "zhangzhen")

    cells = cells_options(client.get(path).get_data(as_text=True))

    assert cells[0]["labels"] is True and cells[0]["labelAt"] == "top"
    assert [f["properties"]["code"] for f in cells[0]["data"]["features"]] == [own]
    assert all(c["labels"] is True and c["labelAt"] == "inside" for c in cells[1:])


# ------------------------------------------------------------------ basemaps and assets


def test_page_with_no_basemap_loads_nothing_from_elsewhere(town, client):
    login(client, "zhangzhen")

    html = client.get("/map/village/PG01").get_data(as_text=True)

    assert assets.external_asset_urls(html) == []
    code = re.sub(r"^\s*//.*$", "", html, flags=re.M)  # folium's comments cite GitHub issues
    assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+/", code) == []
    assert '"layers":[]' in html


def test_tianditu_basemap_shows_its_layers_and_the_review_number(town, app, client):
    app.config.update(
        BASEMAP="tianditu", TIANDITU_KEY="abc123", BASEMAP_REVIEW_NUMBER="GS(2099)0001号"
    )
    login(client, "zhangzhen")

    html = client.get("/map").get_data(as_text=True)

    assert "tianditu.gov.cn/vec_w/wmts" in html and "tianditu.gov.cn/cia_w/wmts" in html
    assert "tk=abc123" in html
    assert "审图号：GS(2099)0001号" in html


def test_tianditu_without_a_key_warns_and_draws_no_tiles(town, app, client):
    app.config.update(BASEMAP="tianditu", TIANDITU_KEY="")
    login(client, "zhangzhen")

    html = client.get("/map").get_data(as_text=True)

    assert "TIANDITU_KEY" in html
    assert "tianditu.gov.cn" not in html


def test_gaode_basemap_shifts_the_view_for_display(town, app, client):
    app.config.update(BASEMAP="gaode")
    login(client, "zhangzhen")

    html = client.get("/map").get_data(as_text=True)

    assert '"shift":"gcj02"' in html
    fit = re.search(r"fitBounds\(\s*\[\[([\d.]+), ([\d.]+)\]", html)
    south, west = float(fit.group(1)), float(fit.group(2))
    assert west > 113.0 + 0.003 and south < 30.0  # GCJ-02 lies ≈ 500 m east and south here


def test_english_map_words(town, client):
    login(client, "zhangzhen")

    html = client.get("/map?lang=en").get_data(as_text=True)

    assert "Legend" in html and "Overdue" in html and "Illegal building" in html


def script_calls(html: str, call: str) -> list[dict]:
    """The JSON options of every MapApp.<call>(map, {...}) in a page or script part."""
    return [
        json.loads(m.group(1)) for m in re.finditer(rf"MapApp\.{call}\(\w+, (\{{.*?\}})\);", html)
    ]


def test_case_map_parts_for_the_case_page(town, app):
    from inspection.cases.case_map import case_map

    reported = shapely.box(113.0009, 30.0009, 113.0012, 30.0012)
    with app.test_request_context("/cases/3"):
        case = db.session().get(Case, 3)
        status, group_code = case.status, case.group.code
        plain = case_map(case)
        redrawn = case_map(case, json.loads(shapely.to_geojson(reported)))

    assert "/static/vendor/leaflet/leaflet.js" in plain.header
    assert "leaflet-measure" not in plain.header  # it needs eval, which the case page refuses
    assert 'class="folium-map"' in plain.html
    (setup,) = script_calls(plain.script, "setup")
    assert setup["colors"] == geomaps.GROUP_COLORS and setup["groups"] == geomaps.MAP_GROUPS
    (drawn,) = script_calls(plain.script, "cases")
    assert [f["properties"]["s"] for f in drawn["data"]["features"]] == [status]
    assert [f["properties"]["i"] for f in drawn["data"]["features"]] == [3]
    assert drawn["link"] is None  # the popup does not link to the page it is on
    (group,) = script_calls(plain.script, "cells")
    assert group["level"] == "group" and group["labels"] and group["labelAt"] == "top"
    assert [f["properties"]["code"] for f in group["data"]["features"]] == [group_code]
    (legend,) = script_calls(plain.script, "legend")
    assert "map-legend-outline" not in legend["html"]
    assert script_calls(plain.script, "outline") == []
    (outline,) = script_calls(redrawn.script, "outline")
    assert shapely.geometry.shape(outline["data"]).equals(reported)
    assert outline["name"] == "原上报图斑（虚线）"
    assert "map-legend-outline" in script_calls(redrawn.script, "legend")[0]["html"]
    assert assets.external_asset_urls(plain.header + plain.html) == []


def test_case_map_embeds_with_the_partial(town, app):
    from flask import render_template_string

    from inspection.cases.case_map import case_map

    page = (
        "{% from 'maps/_embed.html' import map_head, map_body, map_script %}"
        "<head>{{ map_head(p) }}</head><body>{{ map_body(p) }}{{ map_script(p) }}</body>"
    )
    with app.test_request_context("/cases/3"):
        html = render_template_string(page, p=case_map(db.session().get(Case, 3)))

    assert html.count("/static/vendor/leaflet/leaflet.js") == 1
    assert html.index("leaflet.js") < html.index('class="folium-map"') < html.index("MapApp.cases")
    assert assets.external_asset_urls(html) == []


def test_the_case_page_embeds_the_case_map(town, app, client):
    login(client, "zhangzhen")
    with app.app_context():
        case = db.session().get(Case, 5)
        status, group_code = case.status, case.group.code

    response = client.get("/cases/5")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    section = html[html.index('id="case-map"') :]
    assert section.index('class="folium-map"') < section.index("</div>")
    (drawn,) = script_calls(html, "cases")
    assert [(f["properties"]["i"], f["properties"]["s"]) for f in drawn["data"]["features"]] == [
        (5, status)
    ]
    (group,) = script_calls(html, "cells")
    assert [f["properties"]["code"] for f in group["data"]["features"]] == [group_code]
    assert len(script_calls(html, "legend")) == 1
    assert html.count("vendor/leaflet/leaflet.js") == 1 and "js/map.js" in html
    assert "js/report_geo.js" not in html  # the redraw's helpers only where it is offered
    assert assets.external_asset_urls(html) == []
    code = re.sub(r"^\s*//.*$", "", html, flags=re.M)  # folium's comments cite GitHub issues
    assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+/", code) == []
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline if "json" not in attrs)


def test_geodata_tables_mirror_the_vocabulary():
    assert geomaps.MAP_GROUPS == vocab.MAP_GROUPS
    assert set(geomaps.KIND_SHAPES) == set(vocab.KINDS)
