"""Tell a vector file's format from its first bytes, never from its name."""

import re

HEAD_BYTES = 64 * 1024

ZIP = "zip"
GEOPACKAGE = "gpkg"
SHAPEFILE = "shp"
KML = "kml"
GEOJSON = "geojson"
TOPOJSON = "topojson"
GPX = "gpx"

# What a person uploading the file would call each format.
FORMAT_NAMES = {
    ZIP: "ZIP",
    GEOPACKAGE: "GeoPackage",
    SHAPEFILE: "Shapefile",
    KML: "KML",
    GEOJSON: "GeoJSON",
    TOPOJSON: "TopoJSON",
    GPX: "GPX",
}

_SQLITE_MAGIC = b"SQLite format 3\x00"
# GeoPackage writes its application_id at offset 68; GP10/GP11 are from the 1.0/1.1 drafts.
_GPKG_APPLICATION_IDS = {b"GPKG", b"GP10", b"GP11"}
# Shapefile main-file code 9994, big-endian, at offset 0.
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_KML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?kml[\s>/]")
_GPX_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?gpx[\s>/]")
_TOPOLOGY = re.compile(rb'"type"\s*:\s*"Topology"')
_GEOJSON_TYPE = re.compile(
    rb'"type"\s*:\s*"(?:FeatureCollection|Feature|Point|MultiPoint|LineString|'
    rb'MultiLineString|Polygon|MultiPolygon|GeometryCollection)"'
)
_XML_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def sniff_format(head: bytes) -> str | None:
    """Return the format key for a file starting with `head`, or None when it is none we read."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return ZIP
    if head.startswith(_SQLITE_MAGIC):
        return GEOPACKAGE if head[68:72] in _GPKG_APPLICATION_IDS else None
    if head.startswith(_SHP_MAGIC):
        return SHAPEFILE
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return _xml_format(text)
    if text.startswith(b"{"):
        if _TOPOLOGY.search(text):
            return TOPOJSON
        if _GEOJSON_TYPE.search(text):
            return GEOJSON
    return None


def _xml_format(text: bytes) -> str | None:
    """KML or GPX by the root element that comes first (a GPX may quote KML in a CDATA note)."""
    found = [
        (match.start(), fmt)
        for fmt, root in ((KML, _KML_ROOT), (GPX, _GPX_ROOT))
        if (match := root.search(text))
    ]
    return min(found)[1] if found else None


def has_xml_declarations(data: bytes) -> bool:
    """Say whether XML text declares a DOCTYPE or an ENTITY (XXE, billion laughs)."""
    return _XML_DECLARATION.search(data) is not None
