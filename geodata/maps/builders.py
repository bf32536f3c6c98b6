"""Folium map builders: a table of cases (lon/lat, EPSG:4326) in, a folium map out, styled in the browser.

The layers are drawn by static/js/map.js (MapApp): the page carries compact GeoJSON, or the URL
of an endpoint serving it by bounding box and zoom, and map.js colours each case from its status
property, so a page does not grow one JavaScript branch per case (folium's style_function does).
Sections: filters, compact GeoJSON and clusters, folium elements and builders, page parts.
"""

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium import plugins
from folium.elements import JSCSSMixin
from folium.template import Template
from shapely.geometry import shape

from geodata import assets, tiles
from geodata.crs import is_wgs84_lonlat

# Legend groups: each status falls in exactly one (mirrors inspection.vocab.MAP_GROUPS).
MAP_GROUPS = {
    "reported": "open",
    "assigned": "open",
    "in_progress": "open",
    "done": "done",
    "verified": "verified",
    "void": "void",
}
GROUP_COLORS = {"open": "#d9480f", "done": "#2b8a3e", "verified": "#1971c2", "void": "#868e96"}
OVERDUE_COLOR = "#e03131"
KIND_SHAPES = {"issue": "circle", "illegal_building": "square", "farmland": "diamond"}
OUTLINE_COLOR = "#5b6573"  # a parcel as first reported, drawn dashed under the one that stands now
LABEL_PLACES = ("inside", "top")  # a cell's label: at a point inside it, or atop its part in view
COORD_DECIMALS = 5  # ≈ 1 m on the ground: enough for a map, a third smaller than 6 decimals
POLYGON_MIN_ZOOM = (
    13  # below it (a whole town in view) polygon cases are drawn, and clustered, as points
)
CLUSTER_PX = 100  # server-side cluster cell, in screen pixels at the requested zoom
SCRIPT = "js/map.js"
_SCRIPT_FILE = Path(__file__).resolve().parents[2] / "static" / SCRIPT
_TRUE = {"1", "true", "on", "yes"}
_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# folium's page-wide rules would restyle our layout around the map; its own #id rule stays.
_PAGE_RULES = re.compile(
    r'<meta name="viewport"[^>]*>|<style>\s*html, body \{.*?</style>|<style>\s*#map \{.*?</style>',
    re.S,
)

# ------------------------------------------------------------------ filters


def _values(args, name: str) -> list[str]:
    """All values of a query parameter, repeated (?k=a&k=b) or comma-separated (?k=a,b)."""
    raw = args.getlist(name) if hasattr(args, "getlist") else args.get(name, [])
    if isinstance(raw, str):
        raw = [raw]
    return [v.strip() for item in raw for v in str(item).split(",") if v.strip()]


@dataclass(frozen=True)
class CaseFilters:
    """What a map shows: kinds, statuses (keys or legend groups), sources, year found, overdue only."""

    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    year: int | None = None
    overdue: bool = False

    @classmethod
    def from_query(
        cls,
        args: Mapping,
        *,
        kinds: Iterable[str] = KIND_SHAPES,
        sources: Iterable[str] | None = None,
    ) -> "CaseFilters":
        """Read filters from URL query arguments, dropping values nobody knows (a shared link stays valid)."""
        known_kinds, known_statuses = set(kinds), set(MAP_GROUPS) | set(GROUP_COLORS)
        known_sources = set(sources) if sources is not None else None
        year_text = _values(args, "year")[:1]
        year = int(year_text[0]) if year_text and year_text[0].isdigit() else None
        return cls(
            kinds=tuple(dict.fromkeys(k for k in _values(args, "kind") if k in known_kinds)),
            statuses=tuple(
                dict.fromkeys(s for s in _values(args, "status") if s in known_statuses)
            ),
            sources=tuple(
                dict.fromkeys(
                    s
                    for s in _values(args, "source")
                    if _TOKEN.match(s) and (known_sources is None or s in known_sources)
                )
            ),
            year=year if year is not None and 1900 <= year <= 2999 else None,
            overdue=any(v.lower() in _TRUE for v in _values(args, "overdue")),
        )

    @property
    def status_keys(self) -> frozenset[str]:
        """The statuses selected, with legend groups (open …) expanded to their statuses."""
        return frozenset(
            s for s, g in MAP_GROUPS.items() if s in self.statuses or g in self.statuses
        )

    def query(self) -> list[tuple[str, str]]:
        """The filters as URL query pairs (the inverse of from_query)."""
        pairs = [("kind", k) for k in self.kinds]
        pairs += [("status", s) for s in self.statuses]
        pairs += [("source", s) for s in self.sources]
        if self.year is not None:
            pairs.append(("year", str(self.year)))
        if self.overdue:
            pairs.append(("overdue", "1"))
        return pairs

    def apply(self, cases: pd.DataFrame, today: date) -> pd.DataFrame:
        """The rows of a case table that pass (columns kind, status, source, found_on, deadline_on)."""
        keep = np.ones(len(cases), dtype=bool)
        if self.kinds:
            keep &= cases["kind"].isin(self.kinds).to_numpy()
        if self.statuses:
            keep &= cases["status"].isin(self.status_keys).to_numpy()
        if self.sources:
            keep &= cases["source"].isin(self.sources).to_numpy()
        if self.year is not None:
            keep &= (pd.to_datetime(cases["found_on"]).dt.year == self.year).to_numpy()
        if self.overdue:
            keep &= overdue_mask(cases, today)
        return cases[keep]


def overdue_mask(cases: pd.DataFrame, today: date) -> np.ndarray:
    """True per case past its deadline_on and still open; an `overdue` column, if any, wins."""
    if "overdue" in cases:
        return cases["overdue"].fillna(False).to_numpy(dtype=bool)
    if "deadline_on" not in cases or len(cases) == 0:
        return np.zeros(len(cases), dtype=bool)
    deadline = pd.to_datetime(cases["deadline_on"])
    still_open = cases["status"].map(MAP_GROUPS).eq("open")
    return ((deadline < pd.Timestamp(today)) & still_open).to_numpy(dtype=bool)


# ------------------------------------------------------------------ compact GeoJSON and clusters


def case_frame(cases) -> pd.DataFrame:
    """A case table with lon/lat of each case's representative point, in EPSG:4326 degrees."""
    if isinstance(cases, gpd.GeoDataFrame):
        if cases.crs is not None and not is_wgs84_lonlat(cases.crs):
            cases = cases.to_crs("EPSG:4326")
        frame = pd.DataFrame(cases.drop(columns=cases.geometry.name))
        frame["geometry"] = cases.geometry.array.to_numpy()
    else:
        frame = pd.DataFrame(cases)
    if not {"lon", "lat"} <= set(frame.columns):
        geoms = np.asarray(frame["geometry"], dtype=object)
        points = shapely.point_on_surface(geoms)
        frame["lon"], frame["lat"] = shapely.get_x(points), shapely.get_y(points)
    return frame[frame["lon"].notna() & frame["lat"].notna()]


def _round_coords(coords: np.ndarray) -> np.ndarray:
    return np.round(coords, COORD_DECIMALS)


def _collection(features: list[str], **members) -> str:
    """A FeatureCollection as JSON text from features already encoded, with extra members."""
    head = "".join(f"{json.dumps(k)}:{json.dumps(v)}," for k, v in members.items())
    return '{"type":"FeatureCollection",' + head + '"features":[' + ",".join(features) + "]}"


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value) -> str | None:
    """A string value of a table cell, or None for missing ones."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    return str(value)


def case_geojson(cases, *, today: date, polygons: bool = True, **members) -> str:
    """Cases as compact GeoJSON text: coordinates to 5 decimals (≈1 m), short property names.

    The table needs id, kind, status and a geometry (lon/lat, EPSG:4326) or lon/lat columns;
    title, deadline_on, area_m2 (m²), village and group (names) show in the popup when present.
    Properties: i id, k kind, s status, o 1 if overdue, t title, d deadline, a area m²,
    w village / group, p [lon, lat] of a polygon's representative point. Polygons stay
    polygons when `polygons` is true, else they become that point.
    """
    frame = case_frame(cases)
    n = len(frame)
    over = overdue_mask(frame, today)
    lons = np.round(frame["lon"].to_numpy(float), COORD_DECIMALS).tolist()
    lats = np.round(frame["lat"].to_numpy(float), COORD_DECIMALS).tolist()
    shapes: list[str | None] = [None] * n
    if polygons and "geometry" in frame and n:
        geoms = np.asarray(frame["geometry"], dtype=object)
        is_area = np.isin(shapely.get_type_id(geoms), (3, 6))
        if is_area.any():
            rounded = shapely.transform(geoms[is_area], _round_coords)
            for pos, text in zip(np.flatnonzero(is_area), shapely.to_geojson(rounded), strict=True):
                shapes[pos] = text

    def column(name: str) -> list:
        return frame[name].tolist() if name in frame else [None] * n

    titles, deadlines, areas = column("title"), column("deadline_on"), column("area_m2")
    villages, groups = column("village"), column("group")
    features = []
    for pos, (case_id, kind, status) in enumerate(
        zip(frame["id"].tolist(), frame["kind"].tolist(), frame["status"].tolist(), strict=True)
    ):
        props: dict = {"i": int(case_id), "k": kind, "s": status}
        if over[pos]:
            props["o"] = 1
        if (title := _text(titles[pos])) is not None:
            props["t"] = title
        if (deadline := _text(deadlines[pos])) is not None:
            props["d"] = deadline[:10]
        area = areas[pos]
        if area is not None and not pd.isna(area) and area > 0:
            props["a"] = round(float(area), 2)
        where = " / ".join(t for t in (_text(villages[pos]), _text(groups[pos])) if t)
        if where:
            props["w"] = where
        point = f'{{"type":"Point","coordinates":[{lons[pos]!r},{lats[pos]!r}]}}'
        if shapes[pos] is not None:
            props["p"] = [lons[pos], lats[pos]]
        geometry = shapes[pos] or point
        features.append(f'{{"type":"Feature","geometry":{geometry},"properties":{_dump(props)}}}')
    return _collection(features, mode="features", total=n, polygons=polygons, **members)


CLUSTER_COLUMNS = ("kind", "x", "y", "n", "lon", "lat", "w", "s", "e", "nn", "o", *GROUP_COLORS)


def cluster_size_deg(zoom: int, lat_deg: float, cell_px: int = CLUSTER_PX) -> tuple[float, float]:
    """A cluster cell's (width, height) in degrees: cell_px screen pixels at zoom near lat_deg.

    The latitude is rounded to a whole degree so cells stay put while the map pans in a town.
    """
    width = 360.0 / (256 * 2 ** int(zoom)) * cell_px
    return width, width * float(np.cos(np.radians(round(float(lat_deg)))))


def cluster_table(cases, *, zoom: int, today: date, cell_px: int = CLUSTER_PX) -> pd.DataFrame:
    """Cases grouped per kind into cluster cells (see cluster_size_deg): CLUSTER_COLUMNS per cell.

    x, y number the cell, n counts the cases, lon/lat is their mean, w/s/e/nn their bounds
    (EPSG:4326 degrees), o the overdue ones, and open/done/verified/void those of each group.
    """
    frame = case_frame(cases)
    if len(frame) == 0:
        return pd.DataFrame({name: [] for name in CLUSTER_COLUMNS})
    lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    width, height = cluster_size_deg(zoom, float(np.mean(lat)), cell_px)
    table = pd.DataFrame(
        {
            "kind": frame["kind"].to_numpy(),
            "x": np.floor((lon + 180) / width).astype(np.int64),
            "y": np.floor((lat + 90) / height).astype(np.int64),
            "lon": lon,
            "lat": lat,
            "o": overdue_mask(frame, today).astype(np.int64),
        }
    )
    group = frame["status"].map(MAP_GROUPS).to_numpy()
    for name in GROUP_COLORS:
        table[name] = (group == name).astype(np.int64)
    agg = table.groupby(["kind", "x", "y"], sort=False).agg(
        n=("lon", "size"),
        lon=("lon", "mean"),
        lat=("lat", "mean"),
        w=("lon", "min"),
        s=("lat", "min"),
        e=("lon", "max"),
        nn=("lat", "max"),
        o=("o", "sum"),
        **{name: (name, "sum") for name in GROUP_COLORS},
    )
    return agg.reset_index()[list(CLUSTER_COLUMNS)]


def clusters_geojson(clusters: pd.DataFrame, **members) -> str:
    """Cluster cells (CLUSTER_COLUMNS) as compact GeoJSON points at their mean positions.

    Properties: n count, k kind, c the cell ("x_y": clusters of several kinds in one cell can be
    merged), gs the counts per legend group (open, done, verified, void), o overdue count and
    b bounds [W, S, E, N] (EPSG:4326 degrees) for zooming to the cluster.
    """
    names = list(GROUP_COLORS)
    if len(clusters) == 0:
        return _collection([], mode="clusters", total=0, **members)
    counts = clusters[names].to_numpy(dtype=np.int64).tolist()

    def num(value) -> str:
        return repr(round(float(value), COORD_DECIMALS))

    features = [
        '{"type":"Feature","geometry":{"type":"Point","coordinates":'
        f"[{num(row.lon)},{num(row.lat)}]}},"
        f'"properties":{{"n":{int(row.n)},"k":{json.dumps(row.kind)},"c":"{int(row.x)}_{int(row.y)}",'
        f'"gs":{json.dumps(gs)},"o":{int(row.o)},'
        f'"b":[{num(row.w)},{num(row.s)},{num(row.e)},{num(row.nn)}]}}}}'
        for row, gs in zip(clusters.itertuples(), counts, strict=True)
    ]
    total = int(clusters["n"].sum())
    return _collection(features, mode="clusters", total=total, **members)


def cluster_geojson(cases, *, zoom: int, today: date, cell_px: int = CLUSTER_PX, **members) -> str:
    """Cases grouped per kind into clusters of about cell_px pixels at zoom, as compact GeoJSON."""
    return clusters_geojson(
        cluster_table(cases, zoom=zoom, today=today, cell_px=cell_px), **members
    )


def cell_features(cells) -> dict:
    """Grid cells (code, name, geometry lon/lat EPSG:4326; optional open, mu) as a FeatureCollection.

    Outlines are simplified to about 1 m and rounded to 5 decimals (surveyed boundaries can have
    thousands of vertices); lp is the label point inside each cell.
    """
    frame = cells if isinstance(cells, gpd.GeoDataFrame) else gpd.GeoDataFrame(cells)
    if frame.crs is not None and not is_wgs84_lonlat(frame.crs):
        frame = frame.to_crs("EPSG:4326")
    outlines = shapely.simplify(
        frame.geometry.array.to_numpy(), 10**-COORD_DECIMALS, preserve_topology=True
    )
    geoms = shapely.transform(outlines, _round_coords)
    labels = shapely.point_on_surface(frame.geometry.array.to_numpy())
    features = []
    for pos, row in enumerate(frame.itertuples()):
        props = {"code": row.code, "name": row.name}
        for stat in ("open", "mu", "n"):
            value = getattr(row, stat, None)
            if value is not None and not pd.isna(value):
                props[stat] = round(float(value), 2)
        props["lp"] = [round(shapely.get_x(labels[pos]), 6), round(shapely.get_y(labels[pos]), 6)]
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geoms[pos])),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------ folium elements and builders


@dataclass(frozen=True)
class MapText:
    """The words a map shows, in one language (English defaults; the app passes its own)."""

    lang: str = "en"
    groups: dict = field(
        default_factory=lambda: {
            "open": "Open",
            "done": "Done",
            "verified": "Verified",
            "void": "Void",
        }
    )
    kinds: dict = field(
        default_factory=lambda: {
            "issue": "Issue",
            "illegal_building": "Illegal building",
            "farmland": "Farmland restoration",
        }
    )
    statuses: dict = field(default_factory=dict)  # kind → status → label (else the group's)
    words: dict = field(
        default_factory=lambda: {
            "legend": "Legend",
            "overdue": "Overdue",
            "deadline": "Deadline",
            "area": "Area",
            "mu": "mu",
            "where": "Village / group",
            "open_case": "Open the case",
            "polygon": "Parcel or footprint",
            "reported": "Parcel as first reported",
            "boundaries": "Boundaries",
            "shade": "Shade",
            "shade_none": "None",
            "shade_open": "Open cases",
            "shade_mu": "Restored mu",
            "shade_mu_year": "Restored mu in {year}",
            "load_error": "Could not load the cases",
            "full_screen": "Full screen",
            "exit_full_screen": "Exit full screen",
        }
    )

    def js(self) -> dict:
        """The words as plain data for map.js."""
        return {
            "groups": self.groups,
            "kinds": self.kinds,
            "statuses": self.statuses,
            "words": self.words,
        }


@dataclass(frozen=True)
class MapParts:
    """The three pieces of a rendered map to embed in a page: <head> links, the <div>, the script."""

    header: str
    html: str
    script: str


def _script_json(data, raw: str | None = None) -> str:
    """JSON for inside a <script>: compact UTF-8 with <, >, & escaped; raw replaces "@raw@"."""
    text = _dump(data)
    if raw is not None:
        text = text.replace('"@raw@"', raw, 1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _MapElement(MacroElement):
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
            return _script_json(self.options)
        return _script_json({**self.options, "data": "@raw@"}, self.raw_data)


class _Setup(JSCSSMixin, _MapElement):
    """Load map.js and MarkerCluster, then set up basemaps, the layer switch and the display shift."""

    _call = "setup"
    default_js = list(plugins.MarkerCluster.default_js)
    default_css = list(plugins.MarkerCluster.default_css)

    def __init__(self, options: dict, static_url: str = "/static"):
        super().__init__(options)
        self.default_js = [*type(self).default_js, ("map_app", script_url(static_url))]


class _Cells(_MapElement):
    """Grid boundaries with labels; a click opens the cell's own map when a link is given."""

    _call = "cells"


class _Cases(_MapElement):
    """Cases by kind: points clustered, polygons as polygons, coloured from their status."""

    _call = "cases"


class _Outline(_MapElement):
    """A geometry drawn as a dashed outline, not clickable: a parcel as it was first reported."""

    _call = "outline"


class _Legend(_MapElement):
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


def _setup_options(basemap: tiles.Basemap, text: MapText) -> dict:
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
    m = folium.Map(tiles=None, height=height, control_scale=True, maxZoom=basemap.max_zoom)
    # Leaflet is all the page needs: folium's Bootstrap and jQuery would restyle our layout.
    m.default_js = [js for js in folium.Map.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in folium.Map.default_css if css[0] == "leaflet_css"]
    _Setup(_setup_options(basemap, text), static_url).add_to(m)
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


def _ensure_setup(m: folium.Map) -> None:
    """Give a map made elsewhere (a plain folium.Map) the MapApp setup, first among its children."""
    if any(isinstance(child, _Setup) for child in m._children.values()):
        return
    setup = _Setup(_setup_options(tiles.basemap("none"), MapText()))
    setup.add_to(m)
    m._children.move_to_end(setup.get_name(), last=False)


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
    """Draw grid cells (see cell_features) with labels; link ({code}) opens a clicked cell's map.

    shade "open" or "mu" colours the cells by their open cases or restored 亩 (properties open
    and mu); shade_switch lets the user change it; name labels the layer in the layer switch.
    label_at "inside" puts a label at a point inside its cell; "top" keeps it in view, just
    inside the top of the cell's visible part (for the map's own boundary, around the others).
    """
    if label_at not in LABEL_PLACES:
        raise ValueError(f"label_at must be one of {LABEL_PLACES}, not {label_at!r}")
    _ensure_setup(m)
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
    _Cells(options).add_to(m)
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
    """Draw cases from a table (see case_geojson for its columns) or fetched from data_url.

    A table is filtered and embedded in the page; with data_url, map.js fetches compact GeoJSON
    for the visible extent (adding bbox=W,S,E,N and zoom=Z) whenever the view changes.
    """
    if (cases is None) == (data_url is None):
        raise ValueError("add_cases needs exactly one of cases or data_url")
    _ensure_setup(m)
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
    _Cases(options, raw).add_to(m)
    return m


def add_outline(m: folium.Map, geometry, *, name: str | None = None) -> folium.Map:
    """Draw a geometry (shapely or GeoJSON mapping, lon/lat EPSG:4326) as a dashed outline.

    Coordinates are rounded to 5 decimals (≈1 m); name labels the layer in the layer switch.
    """
    _ensure_setup(m)
    geom = geometry if isinstance(geometry, shapely.Geometry) else shape(geometry)
    data = json.loads(shapely.to_geojson(shapely.transform(geom, _round_coords)))
    _Outline({"data": data, "name": name}).add_to(m)
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
    _ensure_setup(m)
    _Legend({"html": legend_html(text, kinds, outline=outline)}).add_to(m)
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
    """One call, like GeoDataFrame.explore(): cases (and cells) on a new map, or stacked on m."""
    if m is None:
        m = new_map(bounds_of(cells, cases), basemap=basemap, text=text)
    if cells is not None:
        add_cells(m, cells, level=cell_level)
    add_cases(m, cases, today=today, filters=filters, case_link=case_link)
    if legend:
        add_legend(m, text)
    return m


# ------------------------------------------------------------------ page parts


def map_parts(m: folium.Map, static_url: str = "/static") -> MapParts:
    """Render a map into header, body and script parts, every asset served from static_url."""
    assets.localize(m, f"{static_url.rstrip('/')}/vendor")
    root = m.get_root()
    root.render()
    header = _PAGE_RULES.sub("", root.header.render())
    html = root.html.render()
    external = assets.external_asset_urls(header + html)
    if external:
        raise assets.ExternalAssetError(
            "The map still loads from the internet: " + ", ".join(external)
        )
    return MapParts(header.strip(), html.strip(), root.script.render().strip())
