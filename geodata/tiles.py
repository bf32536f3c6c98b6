"""Basemap tile providers as data (none, OSM, 天地图, 高德) and the GCJ-02 display shift of 高德."""

from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import shapely

from geodata.crs import gcj02_to_wgs84, wgs84_to_gcj02

BASEMAP_KEYS = ("none", "osm", "tianditu", "gaode")
WGS84_DISPLAY = "WGS84"  # tiles drawn in lon/lat as stored (OSM; 天地图's CGCS2000 differs by cm)
GCJ02_DISPLAY = "GCJ02"  # tiles drawn in 高德's offset system: our geometries are shifted to match
MAX_ZOOM_NO_TILES = 19  # Leaflet needs a maxZoom even with no tiles (MarkerCluster fails without)

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/%(layer)s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=%(layer)s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%(key)s"
)
_GAODE_ROAD = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
_GAODE_IMAGE = "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}"
_GAODE_LABELS = "https://webst0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}"
_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

_ATTRIBUTION = {
    "osm": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    "tianditu": '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a> 国家地理信息公共服务平台',
    "gaode": "&copy; 高德地图 AutoNavi",
}


class BasemapError(ValueError):
    """A basemap setting that cannot work (unknown name, 天地图 without a key)."""


@dataclass(frozen=True)
class TileSource:
    """One tile layer: a URL template ({z}/{x}/{y}, {s} = a subdomain) and its zoom limit."""

    url: str
    subdomains: str = "abc"
    max_zoom: int = 18


@dataclass(frozen=True)
class BaseLayer:
    """A base layer the user picks from the layer switch: tile sources drawn together (image + labels)."""

    key: str
    name_zh: str
    name_en: str
    sources: tuple[TileSource, ...]

    def name(self, lang: str = "zh") -> str:
        """The layer's name in the UI language."""
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class Basemap:
    """A configured basemap: its base layers, the system its tiles are drawn in, its credits."""

    key: str
    layers: tuple[BaseLayer, ...] = ()
    display_crs: str = WGS84_DISPLAY
    attribution: str = ""
    review_number: str = ""  # 审图号, exactly as the setting gives it

    @property
    def shifted(self) -> bool:
        """True when geometries must be shifted to GCJ-02 to sit on the tiles (高德)."""
        return self.display_crs == GCJ02_DISPLAY

    @property
    def max_zoom(self) -> int:
        """The deepest zoom every base layer has tiles for (19 with no tiles)."""
        zooms = [s.max_zoom for layer in self.layers for s in layer.sources]
        return min(zooms) if zooms else MAX_ZOOM_NO_TILES

    def credits(self) -> str:
        """Attribution HTML with the 审图号 appended when the setting gives one."""
        review = self.review_number.strip()
        if review and not review.startswith("审图号"):
            review = f"审图号：{review}"
        return " | ".join(part for part in (self.attribution, _escape(review)) if part)

    def js_config(self, lang: str = "zh") -> dict:
        """The basemap as plain data for static/js/map.js (MapApp.setup)."""
        return {
            "key": self.key,
            "shift": "gcj02" if self.shifted else None,
            "maxZoom": self.max_zoom,
            "attribution": self.credits(),
            "layers": [
                {
                    "key": layer.key,
                    "name": layer.name(lang),
                    "sources": [
                        {"url": s.url, "subdomains": s.subdomains, "maxZoom": s.max_zoom}
                        for s in layer.sources
                    ],
                }
                for layer in self.layers
            ],
        }


def _escape(text: str) -> str:
    """Escape text for HTML (the 审图号 comes from a setting, not from us)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tianditu(layer: str, key: str) -> TileSource:
    """A 天地图 Web-Mercator WMTS layer (vec, cva, img, cia) with the key tk."""
    return TileSource(_TIANDITU % {"layer": layer, "key": quote(key, safe="")}, "01234567", 18)


def basemap(key: str = "none", *, tianditu_key: str = "", review_number: str = "") -> Basemap:
    """The basemap a BASEMAP setting names; BasemapError for an unknown name or 天地图 without a key."""
    key = (key or "none").strip().lower()
    if key == "none":
        return Basemap("none")
    if key == "osm":
        layer = BaseLayer("osm", "OpenStreetMap", "OpenStreetMap", (TileSource(_OSM, "", 19),))
        return Basemap("osm", (layer,), WGS84_DISPLAY, _ATTRIBUTION["osm"], review_number)
    if key == "tianditu":
        if not tianditu_key.strip():
            raise BasemapError("BASEMAP=tianditu needs TIANDITU_KEY (the 天地图 key, tk)")
        tk = tianditu_key.strip()
        layers = (
            BaseLayer(
                "vector",
                "天地图 矢量",
                "Tianditu map",
                (_tianditu("vec", tk), _tianditu("cva", tk)),
            ),
            BaseLayer(
                "image",
                "天地图 影像",
                "Tianditu imagery",
                (_tianditu("img", tk), _tianditu("cia", tk)),
            ),
        )
        return Basemap("tianditu", layers, WGS84_DISPLAY, _ATTRIBUTION["tianditu"], review_number)
    if key == "gaode":
        layers = (
            BaseLayer("vector", "高德 地图", "Gaode map", (TileSource(_GAODE_ROAD, "1234", 18),)),
            BaseLayer(
                "image",
                "高德 影像",
                "Gaode imagery",
                (TileSource(_GAODE_IMAGE, "1234", 18), TileSource(_GAODE_LABELS, "1234", 18)),
            ),
        )
        return Basemap("gaode", layers, GCJ02_DISPLAY, _ATTRIBUTION["gaode"], review_number)
    raise BasemapError(f"Unknown BASEMAP {key!r}: choose one of {', '.join(BASEMAP_KEYS)}")


def to_display(lon_deg, lat_deg, base: Basemap):
    """WGS-84 lon/lat degrees (EPSG:4326) → the lon/lat the basemap's tiles use (GCJ-02 on 高德)."""
    if base.shifted:
        return wgs84_to_gcj02(lon_deg, lat_deg)
    return lon_deg, lat_deg


def from_display(lon_deg, lat_deg, base: Basemap):
    """A lon/lat picked on the basemap (GCJ-02 on 高德) → WGS-84 degrees (EPSG:4326) to store."""
    if base.shifted:
        return gcj02_to_wgs84(lon_deg, lat_deg)
    return lon_deg, lat_deg


def display_geometries(geoms, base: Basemap):
    """Shift shapely geometries (lon/lat, EPSG:4326) onto the basemap's tiles; unchanged unless 高德."""
    if not base.shifted:
        return geoms

    def shift(coords: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, shift)


def display_bounds(bounds, base: Basemap) -> tuple[float, float, float, float]:
    """(west, south, east, north) degrees, WGS-84 → as drawn on the basemap (GCJ-02 on 高德)."""
    west, south, east, north = (float(v) for v in bounds)
    lons, lats = to_display(np.array([west, east]), np.array([south, north]), base)
    return float(lons[0]), float(lats[0]), float(lons[1]), float(lats[1])
