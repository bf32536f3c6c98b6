"""Layers added to a map: grid boundaries, cases (embedded or fetched), a reported outline, the legend."""

import json
from collections.abc import Iterable
from datetime import date

import folium
import shapely
from shapely.geometry import shape

from geodata.maps.elements import Cases, Cells, Legend, Outline, ensure_setup
from geodata.maps.filters import CaseFilters
from geodata.maps.geojson import case_frame, case_geojson, cell_features, round_coords
from geodata.maps.styles import GROUP_COLORS, KIND_SHAPES, LABEL_PLACES, OUTLINE_COLOR, MapText


def add_cells(
    m: folium.Map,
    cells,
    *,
    level: str,
    link: str | None = None,
    shade: str | None = None,
    shade_switch: bool = False,
    labels: bool = True,
    label_at: str = "inside",
    name: str | None = None,
) -> folium.Map:
    """Draw grid cells (lon/lat EPSG:4326; see cell_features) with labels; a click opens link ({code}).

    shade "open" or "mu" colours the cells by their open cases or restored 亩 (properties open
    and mu); shade_switch lets the user change it; name labels the layer in the layer switch.
    label_at "inside" puts a label at a point inside its cell; "top" keeps it in view, just
    inside the top of the cell's visible part (for the map's own boundary, around the others).
    """
    if label_at not in LABEL_PLACES:
        raise ValueError(f"label_at must be one of {LABEL_PLACES}, not {label_at!r}")
    ensure_setup(m)
    options = {
        "data": cell_features(cells),
        "level": level,
        "link": link,
        "labels": labels,
        "labelAt": label_at,
        "shade": shade,
        "shadeSwitch": shade_switch,
        "name": name,
    }
    Cells(options).add_to(m)
    return m


def add_cases(
    m: folium.Map,
    cases=None,
    *,
    data_url: str | None = None,
    today: date | None = None,
    filters: CaseFilters | None = None,
    case_link: str | None = "/cases/{id}",
    fit: bool = False,
) -> folium.Map:
    """Draw cases (lon/lat EPSG:4326) from a table (columns: see case_geojson) or from data_url.

    A table is filtered and embedded in the page; with data_url, map.js fetches compact GeoJSON
    for the visible extent (adding bbox=W,S,E,N and zoom=Z) whenever the view changes.
    """
    if (cases is None) == (data_url is None):
        raise ValueError("add_cases needs exactly one of cases or data_url")
    ensure_setup(m)
    options: dict = {"link": case_link, "fit": fit}
    raw = None
    if data_url is not None:
        options["url"] = data_url
    else:
        today = today or date.today()
        table = case_frame(cases)
        if filters is not None:
            table = filters.apply(table, today)
        raw = case_geojson(table, today=today)
    Cases(options, raw).add_to(m)
    return m


def add_outline(m: folium.Map, geometry, *, name: str | None = None) -> folium.Map:
    """Draw a geometry (shapely or GeoJSON mapping, lon/lat EPSG:4326) as a dashed outline.

    Coordinates are rounded to 5 decimals (≈1 m); name labels the layer in the layer switch.
    """
    ensure_setup(m)
    geom = geometry if isinstance(geometry, shapely.Geometry) else shape(geometry)
    data = json.loads(shapely.to_geojson(shapely.transform(geom, round_coords)))
    Outline({"data": data, "name": name}).add_to(m)
    return m


def _html_escape(text) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def legend_html(
    text: MapText | None = None, kinds: Iterable[str] | None = None, *, outline: bool = False
) -> str:
    """The legend as HTML: status-group colours, the overdue mark, a shape per kind (and outline)."""
    text = text or MapText()
    rows = [f"<summary><strong>{_html_escape(text.words['legend'])}</strong></summary>"]

    def row(classes: str, style: str, label: str) -> str:
        return f'<div><i class="{classes}" style="{style}"></i> {_html_escape(label)}</div>'

    for group, color in GROUP_COLORS.items():
        rows.append(row("map-mk map-mk-circle", f"background:{color}", text.groups[group]))
    rows.append(
        row(
            "map-mk map-mk-circle map-mk-overdue",
            f"background:{GROUP_COLORS['open']}",
            text.words["overdue"],
        )
    )
    for kind in kinds or KIND_SHAPES:
        rows.append(row(f"map-mk map-mk-{KIND_SHAPES[kind]} map-mk-plain", "", text.kinds[kind]))
    rows.append(
        row("map-legend-area", f"border-color:{GROUP_COLORS['open']}", text.words["polygon"])
    )
    if outline:
        rows.append(
            row(
                "map-legend-area map-legend-outline",
                f"border-color:{OUTLINE_COLOR}",
                text.words["reported"],
            )
        )
    return '<details class="map-legend" open>' + "".join(rows) + "</details>"


def add_legend(
    m: folium.Map, text: MapText | None = None, kinds=None, *, outline: bool = False
) -> folium.Map:
    """Add the legend (status-group colours, overdue mark, kind shapes, outline) in the corner."""
    ensure_setup(m)
    Legend({"html": legend_html(text, kinds, outline=outline)}).add_to(m)
    return m
