"""Map pages in headless Chromium: no errors, nothing from other hosts, drawn counts, clicks and popups."""

from urllib.parse import urlsplit

import pytest

from geodata.crs import wgs84_to_gcj02
from inspection import db
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from tests.browser_support import make_app, serving
from tests.maps.test_map_pages import case_specs, is_overdue, seed_town

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")
MAP = "window[document.querySelector('.folium-map').id]"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with the hand-made town of test_map_pages, served."""
    app = make_app(tmp_path_factory.mktemp("live"))
    seed_town(app)
    with serving(app) as base:
        yield app, base


@pytest.fixture(scope="module")
def demo_live(tmp_path_factory):
    """The app with the demo town 平岗镇 (inspection.ops.demo), served."""
    from inspection.ops import demo

    app = make_app(tmp_path_factory.mktemp("demo"))
    with app.app_context():
        session = db.session()
        demo.load_demo(session)
        session.commit()
    with serving(app) as base:
        yield app, base, demo


class Watch:
    """Console errors, page errors and requests to other hosts (aborted) seen by a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.route("**/*", self._route)

    def _route(self, route):
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()


@pytest.fixture
def page(live, browser):
    """A logged-in supervisor's page that records errors and foreign requests."""
    _app, base = live
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.watch = Watch(page)
    login(page, base, "zhangzhen")
    yield page
    context.close()


def login(page, base: str, username: str) -> None:
    """Log in through the form."""
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def open_map(page, url: str) -> dict:
    """Open a map page, wait until its cases are drawn, and return MapApp.stats."""
    page.goto(url)
    page.wait_for_selector(".folium-map[data-map-state=ready]", timeout=15000)
    return page.evaluate(f"MapApp.stats({MAP})")


def count(app, predicate) -> int:
    """How many seeded cases a predicate selects."""
    with app.app_context():
        return sum(1 for c in db.session().query(Case).all() if predicate(c))


@pytest.mark.parametrize("path", ["/map", "/map/village/PG01", "/map/group/PG02-01"])
def test_each_map_page_loads_cleanly_and_stays_on_this_server(live, page, path):
    _app, base = live

    stats = open_map(page, base + path)

    assert page.watch.errors == []
    assert page.watch.foreign == []
    assert stats["cases"] > 0
    assert page.locator(".leaflet-control-zoom-fullscreen, .leaflet-control-fullscreen").count()
    assert page.locator(".leaflet-control-measure").count() == 1
    assert page.locator(".map-legend").count() == 1


def label_at(page, code: str) -> dict:
    """Where a cell's label sits: its screen box, the map's, and the lon/lat of its middle."""
    label = page.locator(f".map-label-top span[data-code='{code}']")
    label.wait_for()
    box = label.bounding_box()
    frame = page.locator(".folium-map").bounding_box()
    x, y = box["x"] + box["width"] / 2 - frame["x"], box["y"] + box["height"] / 2 - frame["y"]
    lon, lat = page.evaluate(
        f"([x, y]) => {{ const p = {MAP}.containerPointToLatLng([x, y]); return [p.lng, p.lat]; }}",
        [x, y],
    )
    return {"box": box, "frame": frame, "lon": lon, "lat": lat}


def within(inner: dict, outer: dict) -> bool:
    """True if the screen box inner lies inside the screen box outer."""
    return (
        outer["x"] <= inner["x"]
        and outer["y"] <= inner["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


@pytest.mark.parametrize(
    "path, own", [("/map", "PG"), ("/map/village/PG01", "PG01"), ("/map/group/PG02-01", "PG02-01")]
)
def test_a_map_labels_its_own_boundary_and_keeps_the_label_in_view(live, page, path, own):
    app, base = live
    with app.app_context():
        cell = db.session().query(GridCell).filter_by(code=own).one()
        west, south, east, north = cell.min_lon, cell.min_lat, cell.max_lon, cell.max_lat
    open_map(page, base + path)

    fitted = label_at(page, own)
    page.evaluate(f"{MAP}.setView([{south}, {west}], {MAP}.getZoom() + 2, {{animate: false}})")
    # The label moves on the map's moveend; on a busy machine that may come a few frames later.
    page.wait_for_function(
        """(code) => {
          const label = document.querySelector(`.map-label-top span[data-code='${code}']`);
          const frame = document.querySelector('.folium-map').getBoundingClientRect();
          return label && label.getBoundingClientRect().top - frame.top < 40;
        }""",
        arg=own,
        timeout=5000,
    )
    zoomed = label_at(page, own)

    for at in (fitted, zoomed):
        assert within(at["box"], at["frame"])
        assert west <= at["lon"] <= east and south <= at["lat"] <= north
    # Centred on the cell's south-west corner, the cell fills the view's top right quarter: the
    # label follows it there (its lon/lat above) and stays at the top.
    assert zoomed["box"]["x"] > zoomed["frame"]["x"] + zoomed["frame"]["width"] / 2
    assert zoomed["box"]["y"] - zoomed["frame"]["y"] < 40
    assert page.locator(f".map-label:not(.map-label-top) span[data-code='{own}']").count() == 0
    assert page.watch.errors == [] and page.watch.foreign == []


@pytest.mark.parametrize(
    "query, predicate",
    [
        ("", lambda c: True),
        ("?kind=issue", lambda c: c.kind == "issue"),
        ("?status=open", lambda c: c.status in ("reported", "assigned", "in_progress")),
        (
            "?kind=farmland&status=done,verified",
            lambda c: c.kind == "farmland" and c.status in ("done", "verified"),
        ),
        ("?overdue=1", is_overdue),
        (
            "?source=superior&year=2023",
            lambda c: c.source == "superior" and c.found_on.year == 2023,
        ),
    ],
)
def test_features_drawn_equal_the_cases_the_filter_selects(live, page, query, predicate):
    app, base = live

    stats = open_map(page, f"{base}/map{query}")

    assert stats["cases"] == count(app, predicate)
    assert stats["bubbles"] == 0  # few enough to draw each case


def test_polygons_are_drawn_as_polygons_when_zoomed_in(live, page):
    app, base = live

    open_map(page, f"{base}/map/group/PG01-01?kind=farmland")
    page.evaluate(f"{MAP}.setZoom(17)")
    page.wait_for_function(f"MapApp.stats({MAP}).polygons > 0")

    with app.app_context():
        group_id = db.session().query(GridCell).filter_by(code="PG01-01").one().id
    expected = count(app, lambda c: c.kind == "farmland" and c.group_id == group_id)
    assert page.evaluate(f"MapApp.stats({MAP}).polygons") == expected
    assert page.locator("path.map-case-area").count() == expected
    assert page.watch.errors == []


def test_clicking_a_village_opens_its_map(live, page):
    _app, base = live
    open_map(page, f"{base}/map?kind=issue")

    page.click(".map-label span[data-code=PG02]")

    page.wait_for_url(f"{base}/map/village/PG02?kind=issue")
    page.wait_for_selector(".folium-map[data-map-state=ready]")
    assert page.locator(".map-label span[data-code='PG02-01']").count() == 1


def test_a_popup_links_to_its_case(live, page):
    app, base = live
    with app.app_context():
        case = db.session().query(Case).filter_by(kind="issue").order_by(Case.id.desc()).first()
        case_id, title, group_code = case.id, case.title, case.group.code
    open_map(page, f"{base}/map/group/{group_code}")

    # Zoom until the marker stands alone, then click it as a person would.
    page.evaluate(
        f"new Promise(done => {{ const hit = MapApp.find({MAP}, {case_id});"
        " hit.cluster.zoomToShowLayer(hit.layer, done); })"
    )
    page.click(f".map-case [data-case='{case_id}']")

    link = page.locator(".leaflet-popup .map-popup-link")
    link.wait_for()
    assert link.get_attribute("href") == f"/cases/{case_id}"
    assert title in page.locator(".leaflet-popup").inner_text()  # shown as text, not markup


def test_filter_form_puts_the_filters_in_the_url(live, page):
    app, base = live
    open_map(page, f"{base}/map")

    page.click(".map-filters summary")
    page.check("input[name=kind][value=illegal_building]")
    page.click(".map-filters button[type=submit]")

    page.wait_for_url(f"{base}/map?kind=illegal_building")  # empty fields stay out of the URL
    page.wait_for_selector(".folium-map[data-map-state=ready]")
    stats = page.evaluate(f"MapApp.stats({MAP})")
    assert stats["cases"] == count(app, lambda c: c.kind == "illegal_building")


def test_shade_switch_is_kept_in_the_url(live, page):
    _app, base = live
    open_map(page, f"{base}/map")

    page.check(".map-shade input[value=mu]")

    assert page.evaluate("location.search") == "?shade=mu"
    fills = page.evaluate(
        "Array.from(document.querySelectorAll('path.map-cell-village')).map(p => p.getAttribute('fill-opacity'))"
    )
    assert fills and set(fills) == {"0.6"}


def test_js_gcj02_shift_matches_python(live, page):
    _app, base = live
    open_map(page, f"{base}/map/group/PG01-01")
    points = [(113.62, 29.85), (116.397, 39.908), (121.47, 31.23), (2.35, 48.85)]

    shifted = page.evaluate("pts => pts.map(p => MapApp.gcj02.fromWgs84(p[0], p[1]))", points)
    back = page.evaluate("pts => pts.map(p => MapApp.gcj02.toWgs84(p[0], p[1]))", shifted)

    for (lon, lat), (js_lon, js_lat), (back_lon, back_lat) in zip(
        points, shifted, back, strict=True
    ):
        py_lon, py_lat = wgs84_to_gcj02(lon, lat)
        assert abs(js_lon - py_lon) < 1e-9 and abs(js_lat - py_lat) < 1e-9
        assert abs(back_lon - lon) < 1e-8 and abs(back_lat - lat) < 1e-8


def test_field_worker_lands_on_his_group(live, browser):
    app, base = live
    context = browser.new_context()
    page = context.new_page()
    watch = Watch(page)
    login(page, base, "wgy_pg01_01")

    stats = open_map(page, f"{base}/map")

    assert page.url == f"{base}/map/group/PG01-01"
    with app.app_context():
        group_id = db.session().query(GridCell).filter_by(code="PG01-01").one().id
    assert stats["cases"] == count(app, lambda c: c.group_id == group_id)
    assert watch.errors == [] and watch.foreign == []
    context.close()


def test_seed_has_every_kind(live):
    assert {s["kind"] for s in case_specs()} == {"issue", "illegal_building", "farmland"}


# ------------------------------------------------------------------ the demo town


def test_demo_town_maps_draw_every_case_of_their_cell(demo_live, browser):
    app, base, _demo = demo_live
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    watch = Watch(page)
    login(page, base, "zhangzhen")
    with app.app_context():
        cells = db.session().query(GridCell).filter(GridCell.level != "group").all()
        wanted = {
            cell.code: (
                f"/map/village/{cell.code}" if cell.level == "village" else "/map",
                count(
                    app,
                    (lambda c, i=cell.id: c.village_id == i)
                    if cell.level == "village"
                    else (lambda c: True),
                ),
            )
            for cell in cells
        }

    for code, (path, expected) in sorted(wanted.items()):
        page.goto(base + path)
        page.wait_for_selector(".folium-map[data-map-state=ready]", timeout=15000)
        # Zoomed out, some cases may sit in server clusters: they still count once each.
        assert page.evaluate(f"MapApp.stats({MAP}).cases") == expected, code

    assert watch.errors == [] and watch.foreign == []
    context.close()


def test_demo_village_head_starts_on_his_village(demo_live, browser):
    _app, base, demo = demo_live
    context = browser.new_context()
    page = context.new_page()
    watch = Watch(page)
    login(page, base, demo.head_username("PG01"))

    open_map(page, f"{base}/map")

    assert page.url == f"{base}/map/village/PG01"
    assert page.locator(".map-label span[data-code^='PG01-']").count() >= 4
    assert watch.errors == [] and watch.foreign == []
    context.close()
