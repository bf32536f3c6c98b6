"""CRS constants and plain functions: parsing, Gauss-Krüger zones, GCJ-02 / BD-09 offsets, reprojection to WGS-84."""

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pyproj
import pyproj.exceptions
from numpy.typing import ArrayLike

from geodata.errors import CRSError

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
GCJ02 = "GCJ02"
BD09 = "BD09"

# Rough bounding box of China (lon_min, lat_min, lon_max, lat_max), degrees; used to spot swapped axes.
CHINA_BBOX_DEG = (73.0, 18.0, 135.0, 54.0)
# The box inside which the map providers apply the GCJ-02 offset (degrees).
_GCJ02_BBOX_DEG = (72.004, 0.8293, 137.8347, 55.8271)
_KRASOVSKY_A_M = 6378245.0
_KRASOVSKY_E2 = 0.00669342162296594323
_BD09_X_PI = np.pi * 3000.0 / 180.0
_WGS84_ALIASES = {"EPSG:4326", "EPSG:4490", "OGC:CRS84", "CRS84", "WGS84", "WGS-84", "CGCS2000"}
_OFFSET_ALIASES = {"GCJ02": GCJ02, "GCJ-02": GCJ02, "BD09": BD09, "BD-09": BD09}
# Coordinates may stray this far outside a CRS's published area of use (degrees) before we refuse.
_AREA_OF_USE_MARGIN_DEG = 2.0
_MAX_CRS_TEXT_CHARS = 20_000


@dataclass(frozen=True)
class GKZone:
    """One CGCS2000 3-degree Gauss-Krüger zone: EPSG code, zone number, central meridian (°E)."""

    epsg: int
    zone: int
    central_meridian_deg: int
    zone_prefix: bool
    label_zh: str


@cache
def gauss_kruger_zones() -> tuple[GKZone, ...]:
    """List the 42 CGCS2000 3-degree GK zones: EPSG:4513–4533 (easting with zone prefix), 4534–4554 (without)."""
    zones = []
    for zone in range(25, 46):
        meridian = 3 * zone
        zones.append(
            GKZone(
                4513 + zone - 25,
                zone,
                meridian,
                True,
                f"CGCS2000 3度带 第{zone}带（中央经线{meridian}°E，X坐标含带号）",
            )
        )
    for zone in range(25, 46):
        meridian = 3 * zone
        zones.append(
            GKZone(
                4534 + zone - 25,
                zone,
                meridian,
                False,
                f"CGCS2000 3度带 中央经线{meridian}°E（X坐标不含带号）",
            )
        )
    return tuple(zones)


def guess_gk_epsg(x_m: float, y_m: float) -> int | None:
    """Guess the CGCS2000 3-degree GK EPSG code of easting x_m / northing y_m (metres), or None.

    Only the 8-digit form with a zone prefix (e.g. 38 500 000 m) names its zone; a 6-digit easting
    could be in any zone, and a file whose X is the northing (survey convention) gives None too.
    """
    if not (np.isfinite(x_m) and np.isfinite(y_m)):
        return None
    zone, easting_m = divmod(x_m, 1_000_000)
    # Northings of China run from about 2 000 km (Hainan) to 6 000 km (Mohe); eastings stay near 500 km.
    if 25 <= zone <= 45 and 200_000 <= easting_m <= 800_000 and 1_500_000 <= y_m <= 6_200_000:
        return 4513 + int(zone) - 25
    return None


def is_in_china(lon_deg: ArrayLike, lat_deg: ArrayLike) -> np.ndarray:
    """Tell whether WGS-84 lon/lat degrees fall in China's rough bounding box (lon 73–135, lat 18–54)."""
    lon, lat = np.asarray(lon_deg, dtype=float), np.asarray(lat_deg, dtype=float)
    lon_min, lat_min, lon_max, lat_max = CHINA_BBOX_DEG
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


def _gcj02_offset_deg(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS-84 lon/lat degrees; zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    )
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _KRASOVSKY_E2 * np.sin(rad_lat) ** 2
    dlat = (
        dlat * 180.0 / ((_KRASOVSKY_A_M * (1.0 - _KRASOVSKY_E2)) / (magic * np.sqrt(magic)) * np.pi)
    )
    dlon = dlon * 180.0 / (_KRASOVSKY_A_M / np.sqrt(magic) * np.cos(rad_lat) * np.pi)
    lon_min, lat_min, lon_max, lat_max = _GCJ02_BBOX_DEG
    inside = (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return float arrays of lon and lat broadcast to one shape."""
    return np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def _like_input(lon_in: ArrayLike, lat_in: ArrayLike, lon: np.ndarray, lat: np.ndarray):
    """Return Python floats for scalar input, arrays otherwise."""
    if np.ndim(lon_in) == 0 and np.ndim(lat_in) == 0:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(lon_deg: ArrayLike, lat_deg: ArrayLike):
    """Convert WGS-84 lon/lat degrees (EPSG:4326) to GCJ-02 (高德/腾讯) lon/lat degrees; vectorised."""
    lon, lat = _as_arrays(lon_deg, lat_deg)
    dlon, dlat = _gcj02_offset_deg(lon, lat)
    return _like_input(lon_deg, lat_deg, lon + dlon, lat + dlat)


def gcj02_to_wgs84(lon_deg: ArrayLike, lat_deg: ArrayLike, *, tolerance_deg: float = 1e-9):
    """Convert GCJ-02 lon/lat degrees to WGS-84 (EPSG:4326) by fixed-point iteration to tolerance_deg."""
    gcj_lon, gcj_lat = _as_arrays(lon_deg, lat_deg)
    lon, lat = gcj_lon.copy(), gcj_lat.copy()
    for _ in range(30):
        dlon, dlat = _gcj02_offset_deg(lon, lat)
        err_lon, err_lat = lon + dlon - gcj_lon, lat + dlat - gcj_lat
        lon, lat = lon - err_lon, lat - err_lat
        if not np.any(np.abs(err_lon) > tolerance_deg) and not np.any(
            np.abs(err_lat) > tolerance_deg
        ):
            break
    return _like_input(lon_deg, lat_deg, lon, lat)


def gcj02_to_bd09(lon_deg: ArrayLike, lat_deg: ArrayLike):
    """Convert GCJ-02 lon/lat degrees to BD-09 (百度) lon/lat degrees; vectorised."""
    lon, lat = _as_arrays(lon_deg, lat_deg)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD09_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD09_X_PI)
    return _like_input(lon_deg, lat_deg, z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon_deg: ArrayLike, lat_deg: ArrayLike):
    """Convert BD-09 (百度) lon/lat degrees to GCJ-02 lon/lat degrees; vectorised, exact to ~1e-9°."""
    bd_lon, bd_lat = _as_arrays(lon_deg, lat_deg)
    x, y = bd_lon - 0.0065, bd_lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD09_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD09_X_PI)
    lon, lat = z * np.cos(theta), z * np.sin(theta)
    # The usual closed form is only good to ~2e-6°; a few fixed-point steps make it exact.
    for _ in range(5):
        back_lon, back_lat = gcj02_to_bd09(lon, lat)
        lon, lat = lon - (back_lon - bd_lon), lat - (back_lat - bd_lat)
    return _like_input(lon_deg, lat_deg, lon, lat)


def _unknown(text: object) -> CRSError:
    """Build the refusal for a CRS nobody recognises."""
    shown = str(text)[:80]
    return CRSError(
        "unknown_crs",
        f"无法识别的坐标系：{shown}。请填写 EPSG 代码，例如 EPSG:4326（WGS-84）或 EPSG:4526（CGCS2000 3度带第38带）",
        f"Unknown coordinate reference system: {shown}. Give an EPSG code such as EPSG:4326 or EPSG:4526",
    )


def parse_crs(text: str | int | pyproj.CRS) -> pyproj.CRS:
    """Parse an EPSG code, URN, WKT or PROJ text into a pyproj.CRS, refusing unknown input with CRSError."""
    if isinstance(text, pyproj.CRS):
        return text
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise _unknown(text)
    if isinstance(text, str):
        text = text.strip()
        if not text:
            raise CRSError("missing_crs", "未指定坐标系", "No coordinate reference system given")
        if len(text) > _MAX_CRS_TEXT_CHARS:
            raise _unknown(text)
        if text.upper() in _OFFSET_ALIASES:
            raise CRSError(
                "offset_crs",
                f"{text} 是地图服务商的加偏坐标，不是标准坐标系，只能用于输入时转换",
                f"{text} is a map provider's offset system, not a standard CRS; it is only converted on input",
            )
        if text.upper() == "CGCS2000":
            text = CGCS2000
    try:
        return pyproj.CRS.from_user_input(text)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise _unknown(text) from exc


@lru_cache(maxsize=64)
def _is_wgs84_lonlat(crs: str | int) -> bool:
    """Tell whether crs is WGS-84 or CGCS2000 longitude/latitude (centimetres apart; no transform needed)."""
    if isinstance(crs, str) and crs.strip().upper() in _WGS84_ALIASES:
        return True
    parsed = parse_crs(crs)
    return parsed.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True) or parsed.equals(
        pyproj.CRS.from_epsg(4490), ignore_axis_order=True
    )


def is_wgs84_lonlat(crs: str | int | pyproj.CRS) -> bool:
    """Tell whether crs is WGS-84 (EPSG:4326, CRS84) or CGCS2000 (EPSG:4490) lon/lat degrees."""
    if isinstance(crs, pyproj.CRS):
        crs = crs.to_wkt()
    return _is_wgs84_lonlat(crs)


@lru_cache(maxsize=64)
def _cached_transformer(crs: str | int) -> pyproj.Transformer:
    """Build the transformer from crs to WGS-84 lon/lat (thread-safe in pyproj >= 3.1)."""
    parsed = parse_crs(crs)
    if not (parsed.is_geographic or parsed.is_projected):
        raise CRSError(
            "unsupported_crs",
            f"不支持的坐标系：{parsed.name}（只支持经纬度或平面投影坐标）",
            f"Unsupported CRS: {parsed.name} (only geographic or projected CRSs are accepted)",
        )
    return pyproj.Transformer.from_crs(parsed, WGS84, always_xy=True)


def to_wgs84_transformer(crs: str | int | pyproj.CRS) -> pyproj.Transformer:
    """Return a cached pyproj Transformer from crs to WGS-84 (EPSG:4326) with x = lon, y = lat (always_xy)."""
    if isinstance(crs, pyproj.CRS):
        crs = crs.to_wkt()
    return _cached_transformer(crs)


def offset_system(crs: object) -> str | None:
    """Return GCJ02 or BD09 when crs names a map provider's offset lon/lat system, else None."""
    return _OFFSET_ALIASES.get(crs.strip().upper()) if isinstance(crs, str) else None


def _check_area_of_use(crs: str | int | pyproj.CRS, lon: np.ndarray, lat: np.ndarray) -> None:
    """Refuse WGS-84 lon/lat degrees that fall far outside the area of use of the CRS they came from."""
    parsed = parse_crs(crs)
    area = parsed.area_of_use
    finite = np.isfinite(lon).all() and np.isfinite(lat).all()
    if finite and area is None:
        return
    margin = _AREA_OF_USE_MARGIN_DEG
    if finite:
        west, south, east, north = area.bounds
        lon_ok = (
            (lon >= west - margin) & (lon <= east + margin)
            if west <= east
            else np.ones_like(lon, bool)
        )
        lat_ok = (lat >= south - margin) & (lat <= north + margin)
        if (lon_ok & lat_ok).all():
            return
    raise CRSError(
        "outside_crs_area",
        f"坐标不在坐标系 {parsed.name} 的适用范围内，请确认坐标系是否选对（例如把经纬度当成了米）",
        f"The coordinates fall outside the area of use of {parsed.name}; check that the right CRS was chosen",
    )


def to_wgs84(
    x: ArrayLike, y: ArrayLike, crs: str | int | pyproj.CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Convert x/y in crs (metres or degrees; GCJ02 and BD09 accepted) to WGS-84 lon/lat degrees (EPSG:4326)."""
    xs, ys = _as_arrays(x, y)
    offset = offset_system(crs)
    if offset == GCJ02:
        return gcj02_to_wgs84(xs, ys)
    if offset == BD09:
        return gcj02_to_wgs84(*bd09_to_gcj02(xs, ys))
    if is_wgs84_lonlat(crs):
        return xs, ys
    lon, lat = to_wgs84_transformer(crs).transform(xs, ys)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    _check_area_of_use(crs, lon, lat)
    return lon, lat
