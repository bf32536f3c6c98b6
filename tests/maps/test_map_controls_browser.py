"""Issue 20 (4): the map's own controls in Chromium on a phone (390×844, touch) and a desktop: metric scale
only, zoom, basemap and full-screen labels and the credit in the page's language, one full-screen icon."""

import pytest

from tests.maps import test_map_browser as town_browser

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")
live = town_browser.live  # the hand-made town, served
login = town_browser.login

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
ZH = {"zoom_in": "放大", "zoom_out": "缩小", "layers": "底图", "full_screen": "全屏", "credit": "地图库"}
EN = {"zoom_in": "Zoom in", "zoom_out": "Zoom out", "layers": "Basemaps", "full_screen": "Full screen",
      "credit": "Map library"}  # fmt: skip


def controls(page) -> dict:
    """What the map's controls say and show."""
    return page.evaluate(
        """() => {
          const q = s => document.querySelector(s);
          const icon = q('.fullscreen-icon');
          const before = getComputedStyle(icon, '::before');
          return {
            scale: [...document.querySelectorAll('.leaflet-control-scale-line')].map(e => e.textContent),
            zoom_in: q('.leaflet-control-zoom-in').title,
            zoom_in_label: q('.leaflet-control-zoom-in').getAttribute('aria-label'),
            zoom_out: q('.leaflet-control-zoom-out').title,
            layers: q('.leaflet-control-layers-toggle').title,
            layers_label: q('.leaflet-control-layers-toggle').getAttribute('aria-label'),
            full_screen: icon.title,
            credit: q('.leaflet-control-attribution').textContent,
            icon_background: getComputedStyle(icon).backgroundImage,
            icon_box: [parseFloat(before.width), parseFloat(before.height)],
            button_box: [icon.getBoundingClientRect().width, icon.getBoundingClientRect().height],
            icon_position: before.backgroundPosition,
          };
        }"""
    )


@pytest.mark.parametrize(
    ("size", "lang", "words"),
    [(PHONE, "zh", ZH), (DESKTOP, "zh", ZH), (DESKTOP, "en", EN)],
    ids=["phone-zh", "desktop-zh", "desktop-en"],
)
def test_map_controls_are_metric_and_in_the_page_language(live, browser, size, lang, words):
    _app, base = live
    context = browser.new_context(**size)
    page = context.new_page()
    login(page, base, "zhangzhen")
    page.goto(f"{base}/map?lang={lang}")
    page.wait_for_selector(".folium-map[data-map-state=ready]", timeout=15000)

    seen = controls(page)

    assert len(seen["scale"]) == 1 and seen["scale"][0].endswith(("m", "km"))  # no ft, no mi
    for key in ("zoom_in", "zoom_out", "layers", "full_screen"):
        assert seen[key] == words[key], key
    assert seen["zoom_in_label"] == words["zoom_in"] and seen["layers_label"] == words["layers"]
    assert seen["credit"].startswith(words["credit"])
    # One icon at a time: the sprite is drawn in a 26 px box inside the (touch-sized) button.
    assert seen["icon_background"] == "none" and seen["icon_box"] == [26, 26]
    assert seen["button_box"][0] >= 26 and seen["button_box"][1] >= 26
    assert seen["icon_position"] == "0px 0px"
    context.close()


def test_on_a_phone_the_town_fills_the_map_panels_fold_and_villages_are_listed(live, browser):
    _app, base = live
    context = browser.new_context(**PHONE)
    page = context.new_page()
    login(page, base, "zhangzhen")
    page.goto(f"{base}/map")
    page.wait_for_selector(".folium-map[data-map-state=ready]", timeout=15000)

    seen = page.evaluate(
        f"""() => {{
          const map = {town_browser.MAP};
          const size = map.getSize();
          const box = document.querySelector('.folium-map').getBoundingClientRect();
          const shade = document.querySelector('.map-shade details');
          return {{
            zoom: map.getZoom(),
            labels_z: +map.getPane('mapLabels').style.zIndex,
            markers_z: +getComputedStyle(map.getPane('markerPane')).zIndex,
            shade_open: shade ? shade.open : null,
            map_bottom: box.bottom, width: size.x,
          }};
        }}"""
    )
    span = page.evaluate(
        f"""() => {{ const map = {town_browser.MAP};
          const town = L.latLngBounds([[30.0, 113.0], [30.01, 113.02]]);
          const a = map.latLngToContainerPoint(town.getSouthWest()), b = map.latLngToContainerPoint(town.getNorthEast());
          return Math.abs(b.x - a.x) / map.getSize().x; }}"""
    )

    assert seen["labels_z"] > seen["markers_z"]  # village labels stay readable above clusters
    assert seen["shade_open"] is False  # the panel is folded: the map first
    assert seen["map_bottom"] <= 844  # the whole map, its legend button and credit, above the fold
    assert span > 0.7 or seen["zoom"] % 1 != 0  # fitted at quarter steps, not left at half width
    hint = page.locator(".map-children .hint")
    assert "点击地图上的村" in hint.inner_text()
    page.locator(".map-children a", has_text="石桥村").click()
    page.wait_for_url(f"{base}/map/village/PG02")
    context.close()
