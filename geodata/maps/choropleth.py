"""Towns coloured by a count (overdue cases): count classes, their colours, the layer and its legend.

The classes are computed here, so the page carries each town's colour and the JavaScript only
draws: a polygon per town, a label with its name and count, a tooltip, a popup, a click-through.
"""

import math
from collections.abc import Sequence

import folium
from branca.element import MacroElement
from folium.template import Template

from geodata.maps.elements import ensure_setup, script_json
from geodata.maps.geojson import cell_features

# 0 first (nothing late), then light to dark red for more cases.
CLASS_COLORS = ("#e9ecef", "#ffc9c9", "#ff8787", "#f03e3e", "#a61e1e")
NICE_STEPS = (1, 2, 5)


def _nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5 × 10^k (an integer ≥ 1) that is at least raw."""
    if raw <= 1:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    for step in NICE_STEPS:
        if step * power >= raw:
            return int(step * power)
    return int(10 * power)


def count_classes(counts: Sequence[int], n_classes: int = 4) -> list[tuple[int, int | None]]:
    """Classes (low, high) of counts, both inclusive, high None for the open top class.

    The first class is (0, 0); then up to n_classes of one round width (1, 2, 5 × 10^k) from 1
    to the largest count, the last open-ended. Every count ≥ 0 falls in exactly one class.
    """
    if not 1 <= n_classes <= len(CLASS_COLORS) - 1:
        raise ValueError(f"n_classes must be 1–{len(CLASS_COLORS) - 1}, not {n_classes}")
    top = max((int(c) for c in counts), default=0)
    classes: list[tuple[int, int | None]] = [(0, 0)]
    if top <= 0:
        return classes
    step = _nice_step(top / n_classes)
    low = 1
    while low <= top and len(classes) < n_classes:
        high = step * len(classes)
        classes.append((low, high))
        low = high + 1
    if low <= top:
        classes.append((low, None))
    else:
        classes[-1] = (classes[-1][0], None)
    return classes


def class_index(count: int, classes: list[tuple[int, int | None]]) -> int:
    """The index of the class a count falls in (counts below 0 count as 0)."""
    for index, (low, high) in enumerate(classes):
        if count <= low or high is None or count <= high:
            return index
    return len(classes) - 1


def class_label(low: int, high: int | None) -> str:
    """A class as text: "0", "3", "1–4" or "10+"."""
    if high is None:
        return f"{low}+"
    return str(low) if low == high else f"{low}–{high}"


def _escape(text) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def choropleth_legend_html(classes: list[tuple[int, int | None]], title: str) -> str:
    """The legend as HTML: one colour swatch and range per class, under the title."""
    rows = [f"<summary><strong>{_escape(title)}</strong></summary>"]
    for index, (low, high) in enumerate(classes):
        rows.append(
            f'<div class="map-class" data-class="{index}"><i class="map-class-swatch" '
            f'style="background:{CLASS_COLORS[index]}"></i> {_escape(class_label(low, high))}</div>'
        )
    return '<details class="map-legend map-choropleth-legend" open>' + "".join(rows) + "</details>"


def choropleth_features(cells, counts: dict[str, int], classes) -> dict:
    """Cells (code, name, geometry lon/lat EPSG:4326) as GeoJSON with count c, class k, colour f."""
    data = cell_features(cells)
    for feature in data["features"]:
        props = feature["properties"]
        count = int(counts.get(props["code"], 0))
        index = class_index(count, classes)
        props.update({"c": count, "k": index, "f": CLASS_COLORS[index]})
    return data


class Choropleth(MacroElement):
    """Cells filled with their class colour, labelled "name count", a tooltip, a popup, a click."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, o) {
            var esc = function (t) {
                return String(t).replace(/[&<>"']/g, function (c) {
                    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
                });
            };
            var toLatLng = function (c) { return MapApp.fromWgs84(map, c[0], c[1]); };
            var go = function (code) {
                window.location.href = o.link.replace("{code}", encodeURIComponent(code));
            };
            var line = function (p) {
                return esc(o.words.count) + esc(o.words.colon) + p.c;
            };
            var layer = L.geoJSON(o.data, {
                coordsToLatLng: toLatLng,
                style: function (f) {
                    return {color: "#1d2530", weight: 2, fillColor: f.properties.f,
                            fillOpacity: 0.75, className: "map-town map-town-" + f.properties.code};
                },
                onEachFeature: function (f, l) {
                    var p = f.properties;
                    l.bindTooltip("<strong>" + esc(p.name) + "</strong><br>" + line(p), {sticky: true});
                    l.bindPopup('<div class="map-popup"><strong>' + esc(p.name) + "</strong><br>" +
                        line(p) + '<br><a class="map-popup-link map-town-link" href="' +
                        esc(o.link.replace("{code}", encodeURIComponent(p.code))) + '">' +
                        esc(o.words.open_town) + "</a></div>");
                    if (o.link) l.on("click", function () { go(p.code); });
                }
            }).addTo(map);
            var labels = L.layerGroup().addTo(map);
            layer.eachLayer(function (l) {
                var p = l.feature.properties;
                L.marker(toLatLng(p.lp), {
                    pane: "mapLabels", keyboard: false, interactive: !!o.link,
                    icon: L.divIcon({className: "map-label map-label-town map-label-link",
                        iconSize: null,
                        html: '<span data-code="' + esc(p.code) + '" data-count="' + p.c + '">' +
                              esc(p.name) + " <b>" + p.c + "</b></span>"})
                }).on("click", function () { if (o.link) go(p.code); }).addTo(labels);
            });
            if (map._mapApp && map._mapApp.control) {
                map._mapApp.control.addOverlay(L.layerGroup([layer, labels]), esc(o.name));
            }
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "map-legend-box");
                div.innerHTML = o.legend;
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo(map);
            var el = map.getContainer();
            el.dataset.towns = o.data.features.length;
            el.dataset.mapState = "ready";
            el.dispatchEvent(new CustomEvent("mapapp:ready", {detail: {towns: o.data.features.length}}));
        })({{ this._parent.get_name() }}, /*choropleth*/{{ this.options_json() }}/*end*/);
        {% endmacro %}
        """
    )

    def __init__(self, options: dict):
        super().__init__()
        self._name = "Choropleth"
        self.options = options

    def options_json(self) -> str:
        """The options as JSON that is safe inside a <script> element (and holds no comment end)."""
        return script_json(self.options).replace("*/", "*\\u002f")


DEFAULT_WORDS = {
    "count": "Overdue cases",
    "colon": ": ",
    "open_town": "Open the town's map",
    "legend": "Overdue cases now",
    "layer": "Towns",
}


def add_choropleth(
    m: folium.Map,
    cells,
    counts: dict[str, int],
    *,
    link: str | None = None,
    words: dict | None = None,
    n_classes: int = 4,
) -> list[tuple[int, int | None]]:
    """Draw cells (code, name, geometry lon/lat EPSG:4326) coloured by counts[code], with a legend.

    link ({code}) is opened by a click on a cell or its label; words overrides DEFAULT_WORDS.
    Returns the classes (see count_classes) the colours stand for.
    """
    ensure_setup(m)
    words = {**DEFAULT_WORDS, **(words or {})}
    codes = list(cells["code"]) if len(cells) else []
    classes = count_classes([counts.get(code, 0) for code in codes], n_classes)
    options = {
        "data": choropleth_features(cells, counts, classes),
        "link": link,
        "words": words,
        "name": words["layer"],
        "legend": choropleth_legend_html(classes, words["legend"]),
    }
    Choropleth(options).add_to(m)
    return classes
