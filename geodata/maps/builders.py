"""Whole maps: an empty map with basemap and tools, its bounds, and explore_cases' one-call map."""

from datetime import date

import folium
import numpy as np
import shapely
from folium import plugins

from geodata import tiles
from geodata.maps.elements import Setup, setup_options
from geodata.maps.filters import CaseFilters
from geodata.maps.layers import add_cases, add_cells, add_legend
from geodata.maps.styles import MapText


def view_bounds(bounds, *, scale: float = 1.0, min_span_deg: float = 0.0) -> tuple:
    """A view around (west, south, east, north) in degrees (EPSG:4326): `scale` × its extent, at
    least `min_span_deg` each way, on the same centre."""
    west, south, east, north = bounds
    half_lon = max(min_span_deg, (east - west) * scale) / 2
    half_lat = max(min_span_deg, (north - south) * scale) / 2
    mid_lon, mid_lat = (west + east) / 2, (south + north) / 2
    return (mid_lon - half_lon, mid_lat - half_lat, mid_lon + half_lon, mid_lat + half_lat)

def new_map(
    bounds=None,
    *,
    basemap: tiles.Basemap | None = None,
    text: MapText | None = None,
    static_url: str = "/static",
    height: str = "70vh",
    measure: bool = True,
    fullscreen: bool = True,
    max_fit_zoom: int = 18,
) -> folium.Map:
    """An empty map fitted to (west, south, east, north) degrees (EPSG:4326), with basemap and tools."""
    basemap = basemap or tiles.basemap("none")
    text = text or MapText()
    # The scale bar is map.js's: metric only (folium's shows feet and miles too).
    # zoomSnap 0.25: a town or village fills the map on a phone instead of half of it.
    m = folium.Map(
        tiles=None, height=height, control_scale=False, maxZoom=basemap.max_zoom, zoomSnap=0.25
    )
    # Leaflet is all the page needs: folium's Bootstrap and jQuery would restyle our layout.
    m.default_js = [js for js in folium.Map.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in folium.Map.default_css if css[0] == "leaflet_css"]
    Setup(setup_options(basemap, text), static_url).add_to(m)
    if fullscreen:
        plugins.Fullscreen(
            title=text.words["full_screen"], title_cancel=text.words["exit_full_screen"]
        ).add_to(m)
    if measure:
        plugins.MeasureControl(
            position="topleft",
            primary_length_unit="meters",
            secondary_length_unit="kilometers",
            primary_area_unit="sqmeters",
            secondary_area_unit="mu",
            units={"mu": {"factor": 0.0015, "display": text.words["mu"], "decimals": 2}},
            localization="cn" if text.lang == "zh" else "en",
        ).add_to(m)
    if bounds is not None:
        west, south, east, north = tiles.display_bounds(bounds, basemap)
        m.location = [(south + north) / 2, (west + east) / 2]
        m.fit_bounds([[south, west], [north, east]], max_zoom=max_fit_zoom)
    return m


def bounds_of(*tables) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) degrees (EPSG:4326) around the geometries or lon/lat of tables."""
    boxes = []
    for table in tables:
        if table is None or len(table) == 0:
            continue
        if "geometry" in table:
            boxes.append(shapely.total_bounds(np.asarray(table["geometry"], dtype=object)))
        else:
            lon, lat = table["lon"], table["lat"]
            boxes.append([lon.min(), lat.min(), lon.max(), lat.max()])
    box = np.array([b for b in boxes if np.isfinite(b).all()], dtype=float)
    if len(box) == 0:
        return None
    return (box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max())


def explore_cases(
    cases,
    m: folium.Map | None = None,
    *,
    cells=None,
    cell_level: str = "village",
    today: date | None = None,
    filters: CaseFilters | None = None,
    basemap: tiles.Basemap | None = None,
    text: MapText | None = None,
    case_link: str | None = "/cases/{id}",
    legend: bool = True,
) -> folium.Map:
    """Like GeoDataFrame.explore(): cases (and cells), lon/lat EPSG:4326, on a new map or on m."""
    if m is None:
        m = new_map(bounds_of(cells, cases), basemap=basemap, text=text)
    if cells is not None:
        add_cells(m, cells, level=cell_level)
    add_cases(m, cases, today=today, filters=filters, case_link=case_link)
    if legend:
        add_legend(m, text)
    return m
