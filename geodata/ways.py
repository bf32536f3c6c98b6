"""The ways a file enters and what each allows: formats, file-name extensions and ZIP members.

A format is chosen, never guessed: the content's sniffed format must be one the way in allows *and*
agree with the extension of the file's name. Inside a ZIP only the members of the allowed formats
are unpacked; known clutter (metadata, spatial-index and readme files) is skipped and anything else
refuses the archive, so no other file ever reaches GDAL.
"""

from dataclasses import dataclass
from pathlib import PurePosixPath

from geodata import sniff
from geodata.errors import FileFormatError

GPX = sniff.GPX

# The one GDAL driver that opens each format (checked against what GDAL reports after opening).
DRIVERS = {
    sniff.GEOJSON: "GeoJSON",
    sniff.TOPOJSON: "TopoJSON",
    sniff.KML: "LIBKML",
    sniff.SHAPEFILE: "ESRI Shapefile",
    sniff.GEOPACKAGE: "GPKG",
    GPX: "GPX",
}

# Which formats a file-name extension may hold.
EXTENSIONS = {
    ".geojson": {sniff.GEOJSON},
    ".json": {sniff.GEOJSON, sniff.TOPOJSON},
    ".topojson": {sniff.TOPOJSON},
    ".kml": {sniff.KML},
    ".gpkg": {sniff.GEOPACKAGE},
    ".shp": {sniff.SHAPEFILE},
    ".gpx": {GPX},
    ".zip": {sniff.ZIP},
    ".kmz": {sniff.ZIP},
}

# The ZIP members each format brings (a Shapefile is several files).
MEMBER_EXTENSIONS = {
    sniff.SHAPEFILE: {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix"},
    sniff.GEOJSON: {".geojson", ".json"},
    sniff.TOPOJSON: {".topojson", ".json"},
    sniff.KML: {".kml"},
    sniff.GEOPACKAGE: {".gpkg"},
    GPX: {".gpx"},
}

# Files that GIS programs put beside the data and that no reader needs: skipped, never unpacked.
CLUTTER_EXTENSIONS = {
    ".xml", ".txt", ".md", ".pdf", ".htm", ".html", ".rtf", ".doc", ".docx", ".log", ".ini",
    ".sbn", ".sbx", ".fbn", ".fbx", ".ain", ".aih", ".atx", ".ixs", ".mxs", ".qpj", ".qmd",
    ".qml", ".sld", ".lyr", ".lyrx", ".png", ".jpg", ".jpeg", ".gif", ".bmp",
}


@dataclass(frozen=True)
class Way:
    """One way in: the formats a file may be (`formats`) and those a ZIP may hold (`zip_formats`)."""

    name: str
    formats: frozenset[str]
    zip_formats: frozenset[str] = frozenset()

    @property
    def member_extensions(self) -> set[str]:
        """The ZIP member extensions this way unpacks."""
        return {ext for fmt in self.zip_formats for ext in MEMBER_EXTENSIONS[fmt]}

    def names_zh(self) -> str:
        """The allowed formats as a person would list them, in Chinese."""
        names = [sniff.FORMAT_NAMES.get(fmt, fmt.upper()) for fmt in sorted(self.formats - {sniff.ZIP})]
        names += [f"{sniff.FORMAT_NAMES[fmt]} 压缩包" for fmt in sorted(self.zip_formats)]
        return "、".join(names)

    def names_en(self) -> str:
        """The allowed formats as a person would list them, in English."""
        names = [sniff.FORMAT_NAMES.get(fmt, fmt.upper()) for fmt in sorted(self.formats - {sniff.ZIP})]
        names += [f"zipped {sniff.FORMAT_NAMES[fmt]}" for fmt in sorted(self.zip_formats)]
        return ", ".join(names)


# The report form's location upload and its preview.
WEB_LOCATION = Way(
    "web_location",
    frozenset({sniff.GEOJSON, sniff.KML, sniff.GEOPACKAGE, sniff.ZIP}),
    frozenset({sniff.SHAPEFILE, sniff.KML}),
)
# flask import-grid: the web formats, TopoJSON, and a .shp with its sidecar files.
GRID_IMPORT = Way(
    "grid_import",
    frozenset({sniff.GEOJSON, sniff.TOPOJSON, sniff.KML, sniff.GEOPACKAGE, sniff.SHAPEFILE, sniff.ZIP}),
    frozenset({sniff.SHAPEFILE, sniff.GEOJSON, sniff.TOPOJSON, sniff.KML, sniff.GEOPACKAGE}),
)
# flask import-cases (GIS files; Excel ledgers are read by openpyxl, see inspection's ledger import).
CASE_IMPORT = Way(
    "case_import",
    frozenset({sniff.GEOJSON, sniff.KML, sniff.GEOPACKAGE, sniff.SHAPEFILE, sniff.ZIP}),
    frozenset({sniff.SHAPEFILE, sniff.GEOJSON, sniff.KML, sniff.GEOPACKAGE}),
)

# flask import-patrol and the patrol upload page: tracks from GPS units and apps, KMZ as a ZIP
# (read by geodata.tracks, not GDAL).
PATROL_IMPORT = Way(
    "patrol_import",
    frozenset({GPX, sniff.KML, sniff.GEOJSON, sniff.ZIP}),
    frozenset({GPX, sniff.KML}),
)

# flask import-tuban and the 图斑 upload page: the bureau's change polygons (zipped Shapefile most often).
TUBAN_IMPORT = Way(
    "tuban_import",
    frozenset({sniff.GEOJSON, sniff.GEOPACKAGE, sniff.SHAPEFILE, sniff.ZIP}),
    frozenset({sniff.SHAPEFILE, sniff.GEOJSON, sniff.GEOPACKAGE}),
)

WAYS = (WEB_LOCATION, GRID_IMPORT, CASE_IMPORT, PATROL_IMPORT, TUBAN_IMPORT)


def check_name(way: Way, fmt: str, label: str) -> None:
    """Refuse content of format `fmt` named `label` unless the way allows it and the extension agrees."""
    suffix = PurePosixPath(label.replace("\\", "/")).suffix.lower()
    if fmt not in way.formats:
        raise FileFormatError(
            "format_not_allowed",
            f"此处不接受 {sniff.FORMAT_NAMES.get(fmt, fmt)} 文件（可用格式：{way.names_zh()}）：{label}",
            f"{sniff.FORMAT_NAMES.get(fmt, fmt)} files are not accepted here "
            f"(accepted: {way.names_en()}): {label}",
        )
    if fmt not in EXTENSIONS.get(suffix, set()):
        raise FileFormatError(
            "extension_mismatch",
            f"文件扩展名与内容不符：内容是 {sniff.FORMAT_NAMES.get(fmt, fmt)}，"
            f"文件名却是“{suffix or '无扩展名'}”；请用正确的扩展名重新导出：{label}",
            f"The file name's extension ({suffix or 'none'}) does not match its content "
            f"({sniff.FORMAT_NAMES.get(fmt, fmt)}): {label}",
        )


def member_action(way: Way, member: str) -> str:
    """Say what to do with one ZIP member: "extract", "skip" (clutter) or "refuse"."""
    suffix = PurePosixPath(member.replace("\\", "/")).suffix.lower()
    if suffix in way.member_extensions:
        return "extract"
    if suffix in CLUTTER_EXTENSIONS or member.endswith("/"):
        return "skip"
    return "refuse"
