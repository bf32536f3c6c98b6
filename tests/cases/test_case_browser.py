"""The case page in headless Chromium, under the real CSP: a supervisor redraws a parcel and accepts it."""

import re
from urllib.parse import urlsplit

import pytest
import shapely
from pyproj import Geod

from geodata.maps import GROUP_COLORS, OUTLINE_COLOR
from inspection import db, vocab
from inspection.cases.models import Case
from tests.browser_support import make_app, serving
from tests.cases.test_acceptance_redraw import ACCEPTED, PARCEL, done_parcel, seed
from tests.cases.test_case_actions import as_user, post

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")
GRS80 = Geod(ellps="GRS80")
# PARCEL's corners are at 113.001/113.003 E, 30.001/30.003 N; its north-east corner is dragged here.
DRAGGED_TO = (113.0038, 30.0036)
VERIFY = "details[data-action=verify]"


def grs80_m2(geom) -> float:
    """Geodesic area (m²) on GRS80 by pyproj, independent of the app's own formula."""
    return abs(GRS80.geometry_area_perimeter(shapely.geometry.polygon.orient(geom))[0])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on 127.0.0.1 in a thread, on a temporary SQLite database with the test town."""
    app = make_app(tmp_path_factory.mktemp("case-browser"))
    app.config["IDS"] = seed(app)
    with serving(app) as base:
        yield app, base


def console_error(message) -> bool:
    """A console error other than a failed load (those are judged by failed())."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def failed(response) -> bool:
    """A response that went wrong: any 5xx, or a 4xx other than a refused parcel's preview."""
    if response.status >= 500:
        return True
    expected = "/favicon.ico" in response.url or "/cases/preview" in response.url
    return response.status >= 400 and not expected


@pytest.fixture
def page(browser, served):
    """A logged-in supervisor's page under the real CSP; console and page errors fail the test."""
    _app, base = served
    context = browser.new_context(viewport={"width": 1000, "height": 900}, base_url=base)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if console_error(m) else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if failed(r) else None)
    page.on("pageerror", lambda exc: errors.append(f"{exc} {exc.stack}"))
    page.goto("/auth/login")
    page.fill("input[name=username]", "zhangzhen")
    page.fill("input[name=password]", "demo1234")
    page.click(".narrow button[type=submit]")
    page.wait_for_url(f"{base}/")
    yield page
    context.close()
    assert errors == []


def open_verify(page, case_id: int) -> None:
    """Open the case page and its 验收 form, whose map is then drawn."""
    page.goto(f"/cases/{case_id}")
    page.click(f"{VERIFY} > summary")
    page.wait_for_selector(f"{VERIFY} .redraw-map .leaflet-interactive")
    # Mouse drags go by screen position: the whole map must be on the screen, whatever comes below it.
    page.locator(f"{VERIFY} .redraw-map").scroll_into_view_if_needed()


def screen_point(page, lon: float, lat: float) -> tuple[float, float]:
    """Where a lon/lat lies on the screen in the redraw map (the test basemap is WGS-84)."""
    box = page.locator(f"{VERIFY} .redraw-map").bounding_box()
    x, y = page.evaluate(
        "([lon, lat]) => { const p = caseRedraws[0].map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lon, lat],
    )
    return box["x"] + x, box["y"] + y


def stored(app, case_id) -> Case:
    with app.app_context():
        return db.session.get(Case, case_id)


def shown_m2(text: str) -> float:
    """The m² figure of an area text such as "面积：1,234.56 m²（1.85 亩）"."""
    return float(re.search(r"([\d,]+\.\d+)\s*m²", text).group(1).replace(",", ""))


def test_a_supervisor_drags_a_corner_and_accepts_the_parcel(page, served):
    app, _base = served
    case_id = done_parcel(app)
    open_verify(page, case_id)
    area_box = page.locator(f"{VERIFY} .redraw-area")
    assert "原图斑面积" in area_box.inner_text()

    page.click(f"{VERIFY} .redraw-edit")
    page.wait_for_selector(f"{VERIFY} .leaflet-editing-icon")
    x0, y0 = screen_point(page, 113.003, 30.003)
    x1, y1 = screen_point(page, *DRAGGED_TO)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    live_during_drag = area_box.inner_text()
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    page.wait_for_selector(f"{VERIFY} .redraw-status.ok")
    live = area_box.inner_text()
    status = page.locator(f"{VERIFY} .redraw-status").inner_text()
    posted = page.input_value(f"{VERIFY} textarea[name=accepted_geometry]")
    page.fill(f"{VERIFY} textarea[name=note]", "现场核实，东北角以实际耕作范围为准")
    page.click(f"{VERIFY} button[type=submit]")
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))

    case = stored(app, case_id)
    expected = shapely.Polygon(
        [(113.001, 30.001), (113.003, 30.001), DRAGGED_TO, (113.001, 30.003)]
    )
    assert case.status == "verified"
    assert '"Polygon"' in posted and page.url.endswith(f"/cases/{case_id}")
    assert case.area_m2 == pytest.approx(grs80_m2(expected), rel=0.01)  # a pixel or so off
    assert case.area_m2 > grs80_m2(PARCEL) * 1.1
    assert "m²" in live_during_drag and "亩" in live_during_drag
    assert shown_m2(live) == pytest.approx(case.area_m2, rel=0.005)  # display formula vs GRS80
    assert "平岗村" in status and "一组" in status
    accepted = page.locator(".accepted-area").inner_text()
    reported = page.locator(".reported-area").inner_text()
    assert f"{case.area_m2:,.2f} m²" in accepted
    assert f"{grs80_m2(PARCEL):,.2f} m²" in reported


def test_a_supervisor_draws_the_parcel_anew(page, served):
    app, _base = served
    case_id = done_parcel(app)
    open_verify(page, case_id)
    corners = [(113.0015, 30.0015), (113.0035, 30.0015), (113.0035, 30.0030), (113.0015, 30.0030)]

    page.click(f"{VERIFY} .redraw-draw")
    points = [screen_point(page, *c) for c in corners]
    for x, y in [*points, points[0]]:
        page.mouse.move(x, y, steps=3)
        page.wait_for_timeout(100)
        page.mouse.click(x, y)
    page.wait_for_selector(f"{VERIFY} .redraw-status.ok")
    page.click(f"{VERIFY} button[type=submit]")
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))

    case = stored(app, case_id)
    assert case.status == "verified"
    assert case.area_m2 == pytest.approx(grs80_m2(shapely.Polygon(corners)), rel=0.01)


def test_a_pasted_shape_that_crosses_itself_is_refused_before_submit(page, served):
    app, _base = served
    case_id = done_parcel(app)
    before = stored(app, case_id)
    open_verify(page, case_id)
    bow_tie = (
        "POLYGON ((113.001 30.001, 113.003 30.003, 113.003 30.001, 113.001 30.003, 113.001 30.001))"
    )

    page.click(f"{VERIFY} .redraw-text > summary")
    page.fill(f"{VERIFY} textarea[name=accepted_geometry]", bow_tie)
    page.wait_for_selector(f"{VERIFY} .redraw-status.error")
    reason = page.locator(f"{VERIFY} .redraw-status").inner_text()
    page.click(f"{VERIFY} button[type=submit]")
    page.wait_for_timeout(300)

    assert "自相交" in reason
    assert "请先修正验收图斑" in page.locator(f"{VERIFY} .redraw-status").inner_text()
    after = stored(app, case_id)
    assert (after.status, after.version, after.area_m2) == ("done", before.version, before.area_m2)

    page.click(f"{VERIFY} .redraw-reset")  # keep the recorded parcel: accepted as reported
    page.click(f"{VERIFY} button[type=submit]")
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    accepted = stored(app, case_id)
    assert (accepted.status, accepted.area_m2) == ("verified", before.area_m2)


def test_the_case_map_draws_the_case_in_its_status_colour_on_its_labelled_group(page, served):
    app, _base = served
    assert app.config.get("BASEMAP", "none") == "none"
    case_id = done_parcel(app)
    foreign = []

    def local_only(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.goto(f"/cases/{case_id}")
    page.wait_for_selector("#case-map .folium-map[data-map-state=ready]")
    parcel = page.locator(f"#case-map path.map-case-area.map-case-{case_id}")
    group = page.locator("#case-map path.map-cell-group.map-cell-PG01-01")
    label = page.locator("#case-map .map-label-top span[data-code='PG01-01']")
    map_box = page.locator("#case-map .folium-map").bounding_box()
    label_box = label.bounding_box()

    assert (parcel.get_attribute("stroke"), parcel.get_attribute("fill")) == (
        GROUP_COLORS["done"],
        GROUP_COLORS["done"],
    )
    assert group.count() == 1 and label.inner_text() == "一组" and label.is_visible()
    assert map_box["x"] <= label_box["x"] and label_box["y"] >= map_box["y"]
    assert label_box["x"] + label_box["width"] <= map_box["x"] + map_box["width"]
    assert label_box["y"] + label_box["height"] <= map_box["y"] + map_box["height"]
    assert page.locator("#case-map .map-legend").count() == 1
    assert page.locator("#case-map path.map-outline").count() == 0  # never redrawn
    parcel.click()
    popup = page.locator(f"#case-map .map-popup[data-case='{case_id}']")
    assert vocab.status_label("done", "farmland", "zh") in popup.inner_text()
    assert popup.locator("a").count() == 0  # no link to the page it is on

    supervisor = as_user(app, "zhangzhen")
    assert post(supervisor, case_id, "verify", accepted_geometry=ACCEPTED.wkt).status_code == 303
    page.goto(f"/cases/{case_id}")
    page.wait_for_selector("#case-map .folium-map[data-map-state=ready]")
    reported = page.locator("#case-map path.map-outline")

    assert parcel.get_attribute("stroke") == GROUP_COLORS["verified"]
    assert reported.count() == 1 and reported.get_attribute("stroke") == OUTLINE_COLOR
    assert reported.get_attribute("stroke-dasharray") == "6 4"
    assert page.locator("#case-map .map-legend-outline").count() == 1
    assert foreign == []
