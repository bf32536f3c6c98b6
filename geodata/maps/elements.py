"""The folium elements that call static/js/map.js (MapApp), one call with JSON options per layer.

The page carries compact GeoJSON, or the URL of an endpoint serving it by bounding box and zoom,
and map.js colours each case from its status property, so a page does not grow one JavaScript
branch per case (folium's style_function does).
"""

import hashlib
from functools import cache
from pathlib import Path

import folium
from branca.element import MacroElement
from folium import plugins
from folium.elements import JSCSSMixin
from folium.template import Template

from geodata import tiles
from geodata.maps.geojson import dump_json
from geodata.maps.styles import (
    GROUP_COLORS,
    KIND_SHAPES,
    MAP_GROUPS,
    OUTLINE_COLOR,
    OVERDUE_COLOR,
    POLYGON_MIN_ZOOM,
    MapText,
)

SCRIPT = "js/map.js"
_SCRIPT_FILE = Path(__file__).resolve().parents[2] / "static" / SCRIPT


def script_json(data, raw: str | None = None) -> str:
    """JSON for inside a <script>: compact UTF-8 with <, >, & escaped; raw replaces "@raw@"."""
    text = dump_json(data)
    if raw is not None:
        text = text.replace('"@raw@"', raw, 1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class MapElement(MacroElement):
    """A map element whose script is one MapApp call with JSON options (data may be raw JSON text)."""

    _call = ""
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            MapApp.{{ this._call }}({{ this._parent.get_name() }}, {{ this.options_json() }});
        {% endmacro %}
        """
    )

    def __init__(self, options: dict, raw_data: str | None = None):
        super().__init__()
        self._name = f"MapApp_{self._call}"
        self.options = options
        self.raw_data = raw_data

    def options_json(self) -> str:
        """The options as JSON that is safe inside a <script> element."""
        if self.raw_data is None:
            return script_json(self.options)
        return script_json({**self.options, "data": "@raw@"}, self.raw_data)


class Setup(JSCSSMixin, MapElement):
    """Load map.js and MarkerCluster, then set up basemaps, the layer switch and the display shift."""

    _call = "setup"
    default_js = list(plugins.MarkerCluster.default_js)
    default_css = list(plugins.MarkerCluster.default_css)

    def __init__(self, options: dict, static_url: str = "/static"):
        super().__init__(options)
        self.default_js = [*type(self).default_js, ("map_app", script_url(static_url))]


class Cells(MapElement):
    """Grid boundaries with labels; a click opens the cell's own map when a link is given."""

    _call = "cells"


class Cases(MapElement):
    """Cases by kind: points clustered, polygons as polygons, coloured from their status."""

    _call = "cases"


class Outline(MapElement):
    """A geometry drawn as a dashed outline, not clickable: a parcel as it was first reported."""

    _call = "outline"


class Legend(MapElement):
    """The legend: one colour per status group, the overdue mark, one shape per kind."""

    _call = "legend"


@cache
def _script_version() -> str:
    """A short hash of map.js, so browsers fetch it again after an upgrade."""
    try:
        return hashlib.sha256(_SCRIPT_FILE.read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def script_url(static_url: str = "/static") -> str:
    """The URL of static/js/map.js under static_url, with a version query."""
    return f"{static_url.rstrip('/')}/{SCRIPT}?v={_script_version()}"


def setup_options(basemap: tiles.Basemap, text: MapText) -> dict:
    """MapApp.setup's options: basemap, words, colours, groups, shapes and the polygon zoom."""
    return {
        "basemap": basemap.js_config(text.lang),
        "text": text.js(),
        "colors": GROUP_COLORS,
        "overdueColor": OVERDUE_COLOR,
        "outlineColor": OUTLINE_COLOR,
        "groups": MAP_GROUPS,
        "shapes": KIND_SHAPES,
        "polygonZoom": POLYGON_MIN_ZOOM,
    }


def ensure_setup(m: folium.Map) -> None:
    """Give a map made elsewhere (a plain folium.Map) the MapApp setup, first among its children."""
    if any(isinstance(child, Setup) for child in m._children.values()):
        return
    setup = Setup(setup_options(tiles.basemap("none"), MapText()))
    setup.add_to(m)
    m._children.move_to_end(setup.get_name(), last=False)
