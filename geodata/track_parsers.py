"""Pull track fixes out of parsed GPX, KML and GeoJSON: lon/lat degrees, time text, accuracy in metres.

Each parser returns `Fixes`, plain lists in file order, with a segment break at the first fix of
every source segment (a GPX `trkseg` or `rte`, a KML `LineString` or `gx:Track`, a GeoJSON line).
Numbers and times are checked later, all at once (`geodata.tracks`). When a file holds both a
recorded track and another line, the recorded track wins: GPX `trk` over `rte` (a route is often
the plan, not the walk), KML `gx:Track` over `LineString` (apps write both for the same walk).
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from geodata.errors import FileFormatError

# Extension elements that hold a horizontal accuracy in metres (e.g. GPSLogger, OsmAnd-style
# writers). GPX's own <hdop>/<pdop> are dilutions of precision, unitless: never read as metres.
ACCURACY_ELEMENTS = frozenset({"accuracy", "hacc", "horizontal_accuracy"})
# Where GeoJSON trackers put per-coordinate times (togeojson, Strava and most GPX converters).
TIME_KEYS = ("times", "coordTimes")


@dataclass
class Fixes:
    """Fixes in file order: lon/lat degrees as text or numbers, time text or None, accuracy_m or None."""

    lon_deg: list = field(default_factory=list)
    lat_deg: list = field(default_factory=list)
    time: list = field(default_factory=list)
    accuracy_m: list = field(default_factory=list)
    segment_break: list = field(default_factory=list)

    def add_segment(self, lon, lat, times=None, accuracy=None) -> None:
        """Append one source segment (empty ones are ignored)."""
        n = len(lon)
        if not n:
            return
        self.lon_deg += list(lon)
        self.lat_deg += list(lat)
        self.time += list(times) if times is not None else [None] * n
        self.accuracy_m += list(accuracy) if accuracy is not None else [None] * n
        self.segment_break += [True] + [False] * (n - 1)


def _local(tag: str) -> str:
    """The element name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    """The direct children called `name`, in any namespace (GPX 1.0 and 1.1 differ only there)."""
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element, name: str) -> str | None:
    """The stripped text of the first child called `name`, or None."""
    found = _children(element, name)
    return (found[0].text or "").strip() or None if found else None


def _accuracy_m(point: ET.Element) -> str | None:
    """An explicit accuracy in metres from a point's <extensions>, or None (unknown)."""
    for extensions in _children(point, "extensions"):
        for element in extensions.iter():
            if _local(element.tag).lower() in ACCURACY_ELEMENTS and (element.text or "").strip():
                return element.text.strip()
    return None


def _gpx_segment(fixes: Fixes, points: list[ET.Element]) -> None:
    """Append the <trkpt> or <rtept> elements of one segment."""
    fixes.add_segment(
        [point.get("lon") for point in points],
        [point.get("lat") for point in points],
        [_text(point, "time") for point in points],
        [_accuracy_m(point) for point in points],
    )


def gpx_fixes(root: ET.Element) -> Fixes:
    """The fixes of a GPX 1.0 or 1.1 document: every trk/trkseg/trkpt, else every rte/rtept."""
    fixes = Fixes()
    for track in _children(root, "trk"):
        for segment in _children(track, "trkseg"):
            _gpx_segment(fixes, _children(segment, "trkpt"))
    if not fixes.lon_deg:
        for route in _children(root, "rte"):
            _gpx_segment(fixes, _children(route, "rtept"))
    return fixes


def _kml_tuples(text: str, label: str) -> tuple[list[str], list[str]]:
    """Split KML coordinates text ("lon,lat[,alt] …") into lon and lat texts."""
    tuples = [item.split(",") for item in text.split()]
    if any(len(item) < 2 for item in tuples):
        raise _bad_coordinates(label)
    return [item[0] for item in tuples], [item[1] for item in tuples]


def kml_fixes(root: ET.Element, label: str) -> Fixes:
    """The fixes of a KML document: every gx:Track (<when> + <gx:coord>), else every LineString."""
    fixes = Fixes()
    for track in (element for element in root.iter() if _local(element.tag) == "Track"):
        times = [(element.text or "").strip() for element in _children(track, "when")]
        coords = [(element.text or "").split() for element in _children(track, "coord")]
        if len(times) != len(coords):
            raise FileFormatError(
                "track_times_mismatch",
                f"KML 轨迹中时间（{len(times)} 个）与坐标（{len(coords)} 个）数目不符：{label}",
                f"A gx:Track in {label} has {len(times)} times but {len(coords)} coordinates.",
            )
        if any(len(coord) < 2 for coord in coords):
            raise _bad_coordinates(label)
        fixes.add_segment([c[0] for c in coords], [c[1] for c in coords], times)
    if fixes.lon_deg:
        return fixes
    for line in (element for element in root.iter() if _local(element.tag) == "LineString"):
        for coordinates in _children(line, "coordinates"):
            fixes.add_segment(*_kml_tuples(coordinates.text or "", label))
    return fixes


def _line_times(properties: dict, index: int | None, n: int, label: str) -> list | None:
    """The times of one line (the `index`-th of a MultiLineString) from a feature's properties."""
    holders = [properties, properties.get("coordinateProperties") or {}]
    times = next(
        (h[key] for h in holders if isinstance(h, dict) for key in TIME_KEYS if key in h), None
    )
    if times is None:
        return None
    if index is not None:
        times = times[index] if isinstance(times, list) and index < len(times) else None
    if not isinstance(times, list) or len(times) != n:
        raise FileFormatError(
            "track_times_mismatch",
            f"GeoJSON 的时间数组（properties.times/coordTimes）与坐标数目不符：{label}",
            f"The times array (properties.times/coordTimes) of {label} does not match its coordinates.",
        )
    if any(value is not None and not isinstance(value, str) for value in times):
        raise FileFormatError(
            "track_bad_time",
            f"GeoJSON 中的时间须为 ISO 8601 文本（如 2024-05-01T08:00:00Z）：{label}",
            f"Times in {label} must be ISO 8601 text such as 2024-05-01T08:00:00Z.",
        )
    return times


def _add_line(fixes: Fixes, coords, times, label: str) -> None:
    """Append one GeoJSON LineString's coordinates ([lon, lat, …] each)."""
    if not isinstance(coords, list) or any(not isinstance(c, list) or len(c) < 2 for c in coords):
        raise _bad_coordinates(label)
    fixes.add_segment([c[0] for c in coords], [c[1] for c in coords], times)


def _add_geometry(fixes: Fixes, geometry, properties: dict, label: str, depth: int = 0) -> None:
    """Append the lines of one GeoJSON geometry; points and polygons carry no track."""
    if not isinstance(geometry, dict) or depth > 8:
        return
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "LineString":
        n = len(coords) if isinstance(coords, list) else 0
        _add_line(fixes, coords, _line_times(properties, None, n, label), label)
    elif kind == "MultiLineString" and isinstance(coords, list):
        for index, line in enumerate(coords):
            n = len(line) if isinstance(line, list) else 0
            _add_line(fixes, line, _line_times(properties, index, n, label), label)
    elif kind == "GeometryCollection":
        for part in geometry.get("geometries") or []:
            _add_geometry(fixes, part, {}, label, depth + 1)


def geojson_fixes(document, label: str) -> Fixes:
    """The fixes of a GeoJSON document: its LineStrings and MultiLineStrings, with times if given."""
    fixes = Fixes()
    if not isinstance(document, dict):
        return fixes
    if document.get("type") == "FeatureCollection":
        features = document.get("features") or []
    elif document.get("type") == "Feature":
        features = [document]
    else:
        features = [{"geometry": document, "properties": {}}]
    for feature in features if isinstance(features, list) else []:
        if isinstance(feature, dict):
            properties = feature.get("properties")
            properties = properties if isinstance(properties, dict) else {}
            _add_geometry(fixes, feature.get("geometry"), properties, label)
    return fixes


def _bad_coordinates(label: str) -> FileFormatError:
    """The refusal for coordinates that are not lon,lat number pairs."""
    return FileFormatError(
        "track_bad_coordinates",
        f"轨迹坐标格式有误（应为经度,纬度）：{label}",
        f"{label} holds coordinates that are not longitude, latitude pairs.",
    )
