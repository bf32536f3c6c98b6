"""Serve folium's and Leaflet's JS/CSS from static/vendor instead of public CDNs (intranet use)."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

from branca.element import Link

# Where scripts/vendor_assets.sh puts the files, and the URL folium pages load them from by
# default. Behind a URL prefix pass e.g. url_for("static", filename="vendor") instead.
VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
STATIC_URL = "/static/vendor"

# Every CDN URL that folium 0.20.0 uses for the Map and the plugins we use, mapped to its copy
# under static/vendor. A folium upgrade that changes a URL (a version bump) makes localize()
# raise until the copy is refreshed with scripts/vendor_assets.sh and this table is updated.
CDN_TO_LOCAL: dict[str, str] = {
    # folium.Map default_js
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/js/bootstrap.bundle.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "leaflet.awesome-markers/leaflet.awesome-markers.min.js"
    ),
    # folium.Map default_css
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap/css/bootstrap.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "bootstrap-glyphicons/css/bootstrap-glyphicons.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "fontawesome-free/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "leaflet.awesome-markers/leaflet.awesome-markers.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        "leaflet.awesome.rotate/leaflet.awesome.rotate.min.css"
    ),
    # folium.plugins.MarkerCluster and FastMarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster/MarkerCluster.Default.css"
    ),
    # folium.plugins.Fullscreen (npm 3.0.0 has no .min.js; the plain file is 8 kB)
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        "leaflet.fullscreen/Control.FullScreen.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        "leaflet.fullscreen/Control.FullScreen.css"
    ),
    # folium.plugins.MeasureControl
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js": (
        "leaflet-measure/leaflet-measure.min.js"
    ),
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css": (
        "leaflet-measure/leaflet-measure.css"
    ),
    # folium.plugins.Draw
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": (
        "leaflet-draw/leaflet.draw.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": (
        "leaflet-draw/leaflet.draw.css"
    ),
}

# Paths relative to the Flask static folder, for templates that use Leaflet directly:
#   {% for p in LEAFLET_CSS %}<link rel="stylesheet" href="{{ url_for('static', filename=p) }}">
# Load order within each tuple matters (library before its plugins).
LEAFLET_JS = ("vendor/leaflet/leaflet.js",)
LEAFLET_CSS = ("vendor/leaflet/leaflet.css",)
MARKERCLUSTER_JS = ("vendor/leaflet.markercluster/leaflet.markercluster.js",)
MARKERCLUSTER_CSS = (
    "vendor/leaflet.markercluster/MarkerCluster.css",
    "vendor/leaflet.markercluster/MarkerCluster.Default.css",
)
DRAW_JS = ("vendor/leaflet-draw/leaflet.draw.js",)
DRAW_CSS = ("vendor/leaflet-draw/leaflet.draw.css",)
FULLSCREEN_JS = ("vendor/leaflet.fullscreen/Control.FullScreen.js",)
FULLSCREEN_CSS = ("vendor/leaflet.fullscreen/Control.FullScreen.css",)
MEASURE_JS = ("vendor/leaflet-measure/leaflet-measure.min.js",)
MEASURE_CSS = ("vendor/leaflet-measure/leaflet-measure.css",)
AWESOME_MARKERS_JS = ("vendor/leaflet.awesome-markers/leaflet.awesome-markers.min.js",)
AWESOME_MARKERS_CSS = (
    "vendor/fontawesome-free/css/all.min.css",
    "vendor/bootstrap-glyphicons/css/bootstrap-glyphicons.css",
    "vendor/leaflet.awesome-markers/leaflet.awesome-markers.css",
    "vendor/leaflet.awesome.rotate/leaflet.awesome.rotate.min.css",
)
FONTAWESOME_CSS = ("vendor/fontawesome-free/css/all.min.css",)
JQUERY_JS = ("vendor/jquery/jquery.min.js",)
BOOTSTRAP_JS = ("vendor/bootstrap/js/bootstrap.bundle.min.js",)
BOOTSTRAP_CSS = ("vendor/bootstrap/css/bootstrap.min.css",)
CHART_JS = ("vendor/chart.js/chart.umd.min.js",)
GEODESIC_JS = ("vendor/geographiclib-geodesic/geographiclib-geodesic.min.js",)

_E = TypeVar("_E")


class ExternalAssetError(KeyError):
    """An element wants a JS/CSS file from outside the server and there is no vendored copy."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def is_external(url: str) -> bool:
    """Tell whether a URL points off this server (http:, https: or protocol-relative //)."""
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://", "//"))


def local_js_css(static_url: str = STATIC_URL) -> dict[str, str]:
    """Map every known CDN URL to the URL of its vendored copy under static_url."""
    base = static_url.rstrip("/")
    return {cdn: f"{base}/{rel}" for cdn, rel in CDN_TO_LOCAL.items()}


def local_url(url: str, static_url: str = STATIC_URL, *, needed_by: str = "") -> str:
    """Return the vendored URL for a CDN URL, a local URL unchanged, or raise ExternalAssetError."""
    if not is_external(url):
        return url
    rel = CDN_TO_LOCAL.get(url.strip())
    if rel is None:
        who = f" (needed by {needed_by})" if needed_by else ""
        raise ExternalAssetError(
            f"No vendored copy of {url}{who}: pages must not load from the internet. "
            "Add the package to scripts/vendor_assets.sh, rerun it, and map the URL in "
            "geodata.assets.CDN_TO_LOCAL."
        )
    return f"{static_url.rstrip('/')}/{rel}"


def _walk(root: Any) -> Iterator[Any]:
    """Yield root and every element below it, including a Figure's header, html and script."""
    stack = [root]
    seen: set[int] = set()
    while stack:
        element = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        yield element
        stack.extend(getattr(element, "_children", {}).values())
        for part in ("header", "html", "script"):
            child = getattr(element, part, None)
            if child is not None and hasattr(child, "_children"):
                stack.append(child)


def localize(element: _E, static_url: str = STATIC_URL) -> _E:
    """Point every element in element's document at the vendored JS/CSS, and return element."""
    # Walks the whole tree from element.get_root(), so calling it with a Map also fixes links
    # already in its Figure's header. Each element with default_js / default_css gets an
    # instance-level copy with local URLs; JavascriptLink / CssLink get their url rewritten.
    # Class attributes are never changed (folium's add_js_link mutates the list it finds, so
    # a class-level rewrite would leak into every other map and test in the process).
    # Call it after the map is built, right before rendering: children added later are not
    # covered. render_local() does both. Raises ExternalAssetError (a KeyError) for an
    # external URL that has no local copy.
    get_root = getattr(element, "get_root", None)
    root = get_root() if callable(get_root) else element
    for node in _walk(root):
        owner = type(node).__name__
        for attr in ("default_js", "default_css"):
            links = getattr(node, attr, None)
            if isinstance(links, list | tuple):
                setattr(
                    node,
                    attr,
                    [(name, local_url(url, static_url, needed_by=owner)) for name, url in links],
                )
        if isinstance(node, Link) and isinstance(node.url, str):
            node.url = local_url(node.url, static_url, needed_by=owner)
    return element


class _AssetLinks(HTMLParser):
    """Collect the src of <script> tags and the href of <link> tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for key, value in attrs:
            if key == wanted and value:
                self.urls.append(value)


def asset_urls(html: str) -> list[str]:
    """List the src of every <script> and the href of every <link> in an HTML page, in order."""
    parser = _AssetLinks()
    parser.feed(html)
    parser.close()
    return parser.urls


def external_asset_urls(html: str) -> list[str]:
    """List the <script src> / <link href> URLs of an HTML page that point off this server."""
    return [url for url in asset_urls(html) if is_external(url)]


def render_local(element: Any, static_url: str = STATIC_URL) -> str:
    """Localize element's document, render it as a full HTML page, and refuse any external asset."""
    # The check after rendering catches links some folium classes add while rendering
    # (e.g. Vega), which localize() cannot see beforehand. Tile URLs in the JS are not checked.
    localize(element, static_url)
    html = element.get_root().render()
    external = external_asset_urls(html)
    if external:
        raise ExternalAssetError(
            "The rendered page still loads from the internet: " + ", ".join(external)
        )
    return html


def missing_files() -> list[str]:
    """List vendored paths that CDN_TO_LOCAL or the *_JS/*_CSS tuples name but that are not on disk."""
    wanted = set(CDN_TO_LOCAL.values())
    for paths in (
        LEAFLET_JS,
        LEAFLET_CSS,
        MARKERCLUSTER_JS,
        MARKERCLUSTER_CSS,
        DRAW_JS,
        DRAW_CSS,
        FULLSCREEN_JS,
        FULLSCREEN_CSS,
        MEASURE_JS,
        MEASURE_CSS,
        AWESOME_MARKERS_JS,
        AWESOME_MARKERS_CSS,
        FONTAWESOME_CSS,
        JQUERY_JS,
        BOOTSTRAP_JS,
        BOOTSTRAP_CSS,
        CHART_JS,
        GEODESIC_JS,
    ):
        wanted.update(p.removeprefix("vendor/") for p in paths)
    return sorted(rel for rel in wanted if not (VENDOR_DIR / rel).is_file())
