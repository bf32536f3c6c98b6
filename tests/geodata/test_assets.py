"""Folium maps render with vendored JS/CSS only, and static/vendor is complete and licensed."""

import functools
import hashlib
import http.server
import re
import threading
from pathlib import Path

import folium
import pytest
from branca.element import Figure, JavascriptLink, MacroElement
from folium import plugins
from folium.elements import JSCSSMixin

from geodata import assets

VENDOR = assets.VENDOR_DIR
CSS_URL = re.compile(r"url\(\s*([^)]*?)\s*\)")


def build_map() -> folium.Map:
    """A map using every folium feature the app relies on, without a tile layer."""
    # Without a tile layer Leaflet has no maxZoom, and MarkerCluster throws
    # "Map has no maxZoom specified": it must be set on the map itself.
    m = folium.Map(location=[30.59, 114.30], zoom_start=14, tiles=None, maxZoom=19)
    folium.Marker([30.590, 114.300], tooltip="default Leaflet icon").add_to(m)
    folium.Marker([30.592, 114.302], icon=folium.Icon(icon="info-sign")).add_to(m)
    folium.Marker([30.588, 114.298], icon=folium.Icon(icon="car", prefix="fa", angle=45)).add_to(m)
    cluster = plugins.MarkerCluster().add_to(m)
    for i in range(5):
        folium.Marker([30.58 + i / 1000, 114.31]).add_to(cluster)
    plugins.FastMarkerCluster([[30.60, 114.29], [30.601, 114.291]]).add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.MeasureControl().add_to(m)
    plugins.Draw(export=False).add_to(m)
    return m


def local_file(url: str, static_url: str = assets.STATIC_URL) -> Path:
    """The file under static/vendor that a localized URL points at."""
    assert url.startswith(static_url.rstrip("/") + "/"), url
    return VENDOR / url[len(static_url.rstrip("/")) + 1 :]


def css_references(css: Path) -> list[str]:
    """The url(...) targets of a CSS file, minus data: URIs and same-document #fragments."""
    refs = []
    for raw in CSS_URL.findall(css.read_text(encoding="utf-8")):
        url = raw.strip("'\"")
        if url and not url.startswith(("data:", "#")):
            refs.append(url)
    return refs


# ------------------------------------------------------------------ localize / render


def test_localized_map_loads_nothing_from_the_internet():
    m = build_map()
    html = assets.localize(m).get_root().render()
    urls = assets.asset_urls(html)
    assert len(urls) == 19  # Map: 4 js + 6 css, cluster 3, fullscreen 2, measure 2, draw 2
    assert assets.external_asset_urls(html) == []
    assert not [u for u in urls if u.startswith(("http://", "https://", "//"))]
    for url in urls:
        assert local_file(url).is_file(), url
    names = {Path(u).name for u in urls}
    for expected in (
        "leaflet.js",
        "leaflet.css",
        "leaflet.markercluster.js",
        "Control.FullScreen.js",
        "leaflet-measure.min.js",
        "leaflet.draw.js",
        "all.min.css",
        "bootstrap-glyphicons.css",
    ):
        assert expected in names


def test_localize_leaves_folium_classes_alone():
    m = build_map()
    assets.localize(m)
    assert m.default_js is not folium.Map.default_js
    assert all(assets.is_external(url) for _, url in folium.Map.default_js)
    assert all(assets.is_external(url) for _, url in plugins.Draw.default_css)
    # a map that was not localized still renders folium's CDN links
    other = folium.Map(tiles=None)
    assert assets.external_asset_urls(other.get_root().render())


def test_localize_is_idempotent_and_honours_static_url():
    m = build_map()
    assets.localize(m, "/township/static/vendor/")
    assets.localize(m, "/township/static/vendor/")
    urls = assets.asset_urls(m.get_root().render())
    assert urls and all(u.startswith("/township/static/vendor/") for u in urls)
    assert not [u for u in urls if "//" in u]
    for url in urls:
        assert local_file(url, "/township/static/vendor").is_file()


def test_render_local_returns_the_page():
    html = assets.render_local(build_map())
    assert html.startswith("<!DOCTYPE html>")
    assert "/static/vendor/leaflet/leaflet.js" in html


def test_localize_also_rewrites_links_already_in_the_header():
    m = folium.Map(tiles=None)
    m.get_root().header.add_child(
        JavascriptLink("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"), name="x"
    )
    assets.localize(m)
    assert m.get_root().header._children["x"].url == "/static/vendor/leaflet/leaflet.js"


class _NewPlugin(JSCSSMixin):
    """Stands for a plugin nobody has vendored yet."""

    default_js = [("new_plugin", "https://cdn.example.com/new-plugin@1.0/new-plugin.min.js")]


def test_unvendored_external_url_is_refused():
    m = folium.Map(tiles=None)
    _NewPlugin().add_to(m)
    with pytest.raises(KeyError) as caught:
        assets.localize(m)
    assert isinstance(caught.value, assets.ExternalAssetError)
    message = str(caught.value)
    assert "https://cdn.example.com/new-plugin@1.0/new-plugin.min.js" in message
    assert "_NewPlugin" in message
    assert "vendor_assets.sh" in message


class _LateLink(MacroElement):
    """Adds a CDN script while rendering, as folium's Vega classes do."""

    def render(self, **kwargs):
        figure = self.get_root()
        assert isinstance(figure, Figure)
        figure.header.add_child(JavascriptLink("https://cdn.example.com/late.js"), name="late")
        super().render(**kwargs)


def test_render_local_catches_links_added_while_rendering():
    m = folium.Map(tiles=None)
    _LateLink().add_to(m)
    with pytest.raises(assets.ExternalAssetError, match="late.js"):
        assets.render_local(m)


@pytest.mark.parametrize(
    "cls",
    [
        folium.Map,
        plugins.MarkerCluster,
        plugins.FastMarkerCluster,
        plugins.Fullscreen,
        plugins.MeasureControl,
        plugins.Draw,
    ],
)
def test_every_folium_default_url_has_a_local_copy(cls):
    for _, url in [*cls.default_js, *cls.default_css]:
        assert url in assets.CDN_TO_LOCAL, f"{cls.__name__}: {url} (folium upgraded?)"
        assert (VENDOR / assets.CDN_TO_LOCAL[url]).is_file()


def test_local_js_css_and_local_url():
    mapping = assets.local_js_css("/s/vendor/")
    assert mapping.keys() == assets.CDN_TO_LOCAL.keys()
    assert all(v.startswith("/s/vendor/") and "//" not in v for v in mapping.values())
    assert assets.local_url("/static/app.js") == "/static/app.js"
    assert assets.local_url("vendor/x.js") == "vendor/x.js"
    with pytest.raises(assets.ExternalAssetError):
        assets.local_url("//cdn.example.com/x.js")


def test_external_asset_urls_only_looks_at_script_and_link_tags():
    html = (
        '<link rel="stylesheet" href="https://cdn.example.com/a.css">'
        '<script src="//cdn.example.com/b.js"></script>'
        '<script src="/static/vendor/c.js"></script>'
        '<a href="https://leafletjs.com">Leaflet</a>'
        '<script>L.tileLayer("https://tile.example.com/{z}/{x}/{y}.png")</script>'
    )
    assert assets.external_asset_urls(html) == [
        "https://cdn.example.com/a.css",
        "//cdn.example.com/b.js",
    ]


def test_template_path_lists_exist():
    assert assets.missing_files() == []
    for paths in (
        assets.LEAFLET_JS,
        assets.LEAFLET_CSS,
        assets.CHART_JS,
        assets.DRAW_JS,
        assets.GEODESIC_JS,
    ):
        for rel in paths:
            assert rel.startswith("vendor/")
            assert (VENDOR.parent / rel).is_file()


# ------------------------------------------------------------------ static/vendor itself


def package_dirs() -> list[Path]:
    return sorted(p for p in VENDOR.iterdir() if p.is_dir())


def test_vendor_folder_is_populated():
    names = {p.name for p in package_dirs()}
    assert {
        "leaflet",
        "leaflet.markercluster",
        "leaflet-draw",
        "leaflet.fullscreen",
        "leaflet-measure",
        "leaflet.awesome-markers",
        "leaflet.awesome.rotate",
        "fontawesome-free",
        "bootstrap",
        "bootstrap-glyphicons",
        "jquery",
        "chart.js",
        "geographiclib-geodesic",
    } <= names


def test_every_vendored_package_has_a_licence():
    for pkg in package_dirs():
        licence = pkg / "LICENSE"
        assert licence.is_file(), f"{pkg.name} has no LICENSE"
        assert licence.stat().st_size > 100, f"{pkg.name}/LICENSE looks empty"


def test_css_url_references_resolve_inside_vendor():
    css_files = sorted(VENDOR.rglob("*.css"))
    assert len(css_files) >= 10
    checked = 0
    for css in css_files:
        for url in css_references(css):
            assert not re.match(r"^(?:[a-z]+:)?//", url, re.I), f"{css}: external {url}"
            target = (css.parent / re.split(r"[?#]", url, maxsplit=1)[0]).resolve()
            assert target.is_file(), f"{css.relative_to(VENDOR)}: {url} does not exist"
            assert target.is_relative_to(VENDOR.resolve()), f"{css}: {url} leaves static/vendor"
            checked += 1
        assert "@import" not in css.read_text(encoding="utf-8"), css
    assert checked >= 20  # fonts, marker sprites, draw/measure icons, leaflet layers


def test_woff2_fonts_are_vendored():
    fa = VENDOR / "fontawesome-free" / "webfonts"
    assert (fa / "fa-solid-900.woff2").is_file()
    assert (VENDOR / "bootstrap-glyphicons/fonts/glyphicons-halflings-regular.woff2").is_file()


def test_no_source_maps_and_size_is_reasonable():
    files = [p for p in VENDOR.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix == ".map"]
    for p in files:
        if p.suffix in (".js", ".css"):
            assert "sourceMappingURL" not in p.read_text(encoding="utf-8"), p
    assert sum(p.stat().st_size for p in files) < 5 * 1024 * 1024


def test_sha256sums_match_the_files():
    listed = {}
    for line in (VENDOR / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    on_disk = {
        p.relative_to(VENDOR).as_posix()
        for p in VENDOR.rglob("*")
        if p.is_file() and p.name not in ("SHA256SUMS", "README.md")
    }
    assert set(listed) == on_disk, "rerun scripts/vendor_assets.sh instead of editing by hand"
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


# ------------------------------------------------------------------ in a real browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.mark.browser
def test_map_page_works_offline_in_chromium(tmp_path, browser):
    # The session's Chromium (conftest): a second Playwright in one process would find its loop running.
    (tmp_path / "static").symlink_to(VENDOR.parent, target_is_directory=True)
    (tmp_path / "map.html").write_text(assets.render_local(build_map()), encoding="utf-8")
    (tmp_path / "chart.html").write_text(
        f'<script src="/static/{assets.CHART_JS[0]}"></script>', encoding="utf-8"
    )
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    outside, failed, loaded = [], [], []
    try:
        page = browser.new_page()
        try:

            def guard(route):
                if route.request.url.startswith(origin):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.on(
                "response",
                lambda r: (failed if r.status >= 400 else loaded).append(r.url),
            )
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{origin}/map.html", wait_until="networkidle")
            page.evaluate("document.fonts.ready.then(() => true)")
            page.wait_for_load_state("networkidle")
            ok = page.evaluate(
                """() => ({
                    leaflet: typeof L === 'object' && L.version,
                    cluster: typeof L.markerClusterGroup === 'function',
                    draw: typeof L.Control.Draw === 'function',
                    measure: typeof L.Control.Measure === 'function',
                    fullscreen: typeof L.Control.FullScreen === 'function',
                    awesome: typeof L.AwesomeMarkers === 'object',
                    jquery: typeof jQuery === 'function',
                    glyph: document.fonts.check('14px "Glyphicons Halflings"'),
                    fa: document.fonts.check('900 14px "Font Awesome 6 Free"'),
                    controls: document.querySelectorAll(
                        '.leaflet-draw, .leaflet-control-measure, .leaflet-control-zoom-fullscreen'
                    ).length,
                })"""
            )
            page.goto(f"{origin}/chart.html", wait_until="networkidle")
            chart = page.evaluate("typeof Chart === 'function' && Chart.version")
        finally:
            page.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    assert outside == []
    assert failed == []
    assert errors == []
    assert ok == {
        "leaflet": "1.9.3",
        "cluster": True,
        "draw": True,
        "measure": True,
        "fullscreen": True,
        "awesome": True,
        "jquery": True,
        "glyph": True,
        "fa": True,
        "controls": 3,
    }
    assert chart and chart.startswith("4.")
    fetched = {u.rsplit("/", 1)[-1] for u in loaded}
    for name in (
        "glyphicons-halflings-regular.woff2",
        "fa-solid-900.woff2",
        "markers-soft.png",
        "marker-icon.png",
    ):
        assert name in fetched, f"{name} was never loaded"
