"""Make GDAL in this process able to open only our formats, and never the network.

GDAL picks a driver by content, and pyogrio offers no driver argument for reading, so a file that
calls itself KML could be opened as an OGR VRT that reads /etc/passwd or fetches a URL. We take that
choice away from GDAL: every vector driver but the few we read and write is deregistered
(`GDAL_SKIP`, applied by re-running GDAL's driver registration), and the network file systems and
HTTP fetches are refused by configuration. `restrict()` runs when `geodata.io` is imported, so
nothing reads a file before it; `check()` fails closed if something registered a driver since.
"""

import os
import threading
import warnings

import pyogrio
from pyogrio import _ogr

from geodata.errors import FileFormatError

# Every vector driver this process may use: the readers of `geodata.ways.DRIVERS`, and "KML",
# which our KML export writes with (reading .kml goes to LIBKML, which GDAL registers first).
ALLOWED_DRIVERS = frozenset({"GeoJSON", "TopoJSON", "LIBKML", "KML", "ESRI Shapefile", "GPKG", "GPX"})

# Configuration that keeps GDAL off the network even if a path ever named a URL: /vsicurl/ opens
# no file name (no extension matches), no HTTP retries, tiny timeouts, no external KML styles,
# no GML xlink resolution, no SQLite VirtualOGR reached from a view or trigger.
NO_NETWORK_OPTIONS = {
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".no-network-access",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "LIBKML_RESOLVE_STYLE": "NO",
    "LIBKML_EXTERNAL_STYLE": "NO",
    "GML_SKIP_RESOLVE_ELEMS": "ALL",
    "ALLOW_VIRTUAL_OGR_FROM_TRIGGER_AND_VIEW": "NO",
}

_lock = threading.Lock()


def restrict() -> None:
    """Deregister every vector driver outside ALLOWED_DRIVERS and turn off GDAL's network access."""
    os.environ.setdefault("PROJ_NETWORK", "OFF")
    with _lock:
        extra = sorted(set(pyogrio.list_drivers()) - ALLOWED_DRIVERS)
        if not extra:
            return
        pyogrio.set_gdal_config_options({**NO_NETWORK_OPTIONS, "GDAL_SKIP": ",".join(extra)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _ogr._register_drivers()  # GDALAllRegister() ends by unloading the GDAL_SKIP drivers


def check() -> None:
    """Refuse to read anything if a driver outside ALLOWED_DRIVERS is registered (fail closed)."""
    extra = set(pyogrio.list_drivers()) - ALLOWED_DRIVERS
    if extra:
        restrict()
        extra = set(pyogrio.list_drivers()) - ALLOWED_DRIVERS
    if extra:
        raise FileFormatError(
            "reader_unsafe",
            "文件读取器未能限制 GDAL 驱动，出于安全原因拒绝读取；请联系管理员。",
            f"The file reader could not restrict GDAL's drivers ({', '.join(sorted(extra))}); "
            "refusing to read.",
        )


def opened_by(path: os.PathLike, layer: str | int, expected: str, label: str) -> dict:
    """The layer's info (pyogrio.read_info); refused when GDAL opened it with another driver than
    `expected` (the sniffed format's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        info = pyogrio.read_info(path, layer=layer)
    driver = info["driver"]
    if driver != expected:
        raise FileFormatError(
            "driver_mismatch",
            f"文件内容与其格式不符，拒绝读取：{label}",
            f"{label} was opened as {driver}, not {expected}; refused.",
        )
    return info
