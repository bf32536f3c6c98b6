"""The API's query parameters: strings in, values out, ApiError (400) on anything else."""

from datetime import date, datetime

import numpy as np

JSON, GEOJSON = "application/json", "application/geo+json"
LIMIT_DEFAULT, LIMIT_MAX = 100, 1000


class ApiError(Exception):
    """A refused request, answered as an OGC exception: {"code", "description"} with an HTTP status."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


def parse_int(name: str, text: str | None, default: int, low: int, high: int, *, clamp=True) -> int:
    """An integer parameter ≥ low; above high it is clamped to high (as OGC API asks for limit),
    or refused when not `clamp`; more than 20 digits is never a number we take."""
    if text is None:
        return default
    try:
        value = int(text) if len(text.strip()) <= 20 else None
    except ValueError:
        value = None
    if value is None:
        raise ApiError(400, "InvalidParameterValue", f"{name} must be an integer") from None
    if value < low:
        raise ApiError(400, "InvalidParameterValue", f"{name} must be at least {low}")
    if value > high and not clamp:
        raise ApiError(400, "InvalidParameterValue", f"{name} must be at most {high}")
    return min(value, high)


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """`minlon,minlat,maxlon,maxlat` in degrees (CRS84; a 6-number 3D bbox drops its heights)."""
    if text is None:
        return None
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise ApiError(400, "InvalidParameterValue", "bbox must be four numbers") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(np.isfinite(numbers)):
        raise ApiError(400, "InvalidParameterValue", "bbox must be minlon,minlat,maxlon,maxlat")
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ApiError(400, "InvalidParameterValue", "bbox is outside lon/lat or min > max")
    return min_lon, min_lat, max_lon, max_lat


def _parse_day(text: str) -> date | None:
    if text in ("", ".."):
        return None
    try:
        return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text)
    except ValueError:
        raise ApiError(400, "InvalidParameterValue", f"datetime: not RFC 3339: {text}") from None


def parse_datetime(text: str | None) -> tuple[date | None, date | None] | None:
    """An instant or an interval (`start/end`, open ends `..`) as (first day, last day) of found_on."""
    if text is None:
        return None
    parts = text.split("/")
    if len(parts) == 1:
        day = _parse_day(text)
        if day is None:
            raise ApiError(400, "InvalidParameterValue", "datetime: an instant cannot be open")
        return day, day
    if len(parts) != 2:
        raise ApiError(400, "InvalidParameterValue", "datetime: use an instant or start/end")
    start, end = _parse_day(parts[0]), _parse_day(parts[1])
    if start is not None and end is not None and start > end:
        raise ApiError(400, "InvalidParameterValue", "datetime: start is after end")
    return start, end
