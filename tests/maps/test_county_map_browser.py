"""The county map in headless Chromium: towns drawn with their counts, a click opens the town's map,
a click there its village's; no error, nothing from other hosts."""

import pytest

from tests.browser_support import make_app, serving
from tests.maps.test_county_map import SQ_OTHER, SQ_OVERDUE, overdue_by_code, seed_county
from tests.maps.test_map_browser import MAP, Watch, login

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The two-town county of test_county_map, served."""
    app = make_app(tmp_path_factory.mktemp("county"))
    seed_county(app)
    with serving(app) as base:
        yield app, base


def test_clicking_a_town_then_a_village_drills_down(live, browser):
    app, base = live
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    watch = Watch(page)
    login(page, base, "xian")

    page.goto(f"{base}/map")
    page.wait_for_url(f"{base}/map/county")
    page.wait_for_selector(".folium-map[data-map-state=ready]", timeout=15000)
    drawn = {
        el.get_attribute("data-code"): int(el.get_attribute("data-count"))
        for el in page.locator(".map-label-town span").element_handles()
    }
    assert drawn == overdue_by_code(app)
    assert page.locator("path.map-town").count() == 2
    assert page.locator(".map-choropleth-legend .map-class").count() >= 2

    page.click(".map-label-town span[data-code=SQ]")

    page.wait_for_url(f"{base}/map/town/SQ")
    page.wait_for_selector(".folium-map[data-map-state=ready]", timeout=15000)
    assert page.evaluate(f"MapApp.stats({MAP})")["cases"] == SQ_OVERDUE + SQ_OTHER
    assert page.locator(".map-crumbs a[href='/map/county']").count() == 1

    page.click(".map-label span[data-code=SQ01]")

    page.wait_for_url(f"{base}/map/village/SQ01")
    page.wait_for_selector(".folium-map[data-map-state=ready]", timeout=15000)
    assert page.locator(".map-label span[data-code='SQ01-01']").count() == 1
    assert watch.errors == [] and watch.foreign == []
    context.close()


def test_clicking_a_town_polygon_opens_its_map(live, browser):
    _app, base = live
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    login(page, base, "admin")
    page.goto(f"{base}/map/county")
    page.wait_for_selector(".folium-map[data-map-state=ready]", timeout=15000)

    box = page.locator("path.map-town-PG").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.8)

    page.wait_for_url(f"{base}/map/town/PG")
    context.close()
