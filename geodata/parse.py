"""Read "lon,lat" text, WKT or GeoJSON (text or dict) into a plain geometry mapping, within size and depth limits."""

import json
import math
import re

import numpy as np

from geodata.errors import CRSError, GeometryError

# FeatureCollection → features → Feature → geometry → four levels of MultiPolygon coordinates is 8;
# properties may nest a little more. Far below Python's recursion limit.
MAX_JSON_DEPTH = 32
ALLOWED_TYPES = {"point": "Point", "polygon": "Polygon", "multipolygon": "MultiPolygon"}
_WKT_DEPTH = {"Point": 1, "Polygon": 2, "MultiPolygon": 3}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf(?:inity)?)"
_LONLAT_RE = re.compile(rf"\s*({_NUMBER})\s*(?:[,，]\s*|\s+)({_NUMBER})\s*", re.IGNORECASE)
_WKT_RE = re.compile(
    r"\s*(?:SRID=(\d{1,6})\s*;)?\s*([A-Za-z]{1,40}?)\s*(ZM|Z|M)?\s*(\(.*\)|EMPTY)\s*", re.S | re.I
)
_WKT_TOKEN_RE = re.compile(r"\(|\)|,|[^\s(),]+")
_JSON_ESCAPE_RE = re.compile(r"\\.", re.S)
_JSON_STRING_RE = re.compile(r'"[^"]*"')


def _error(code: str, zh: str, en: str) -> GeometryError:
    """Build a GeometryError (a shorthand used throughout this module)."""
    return GeometryError(code, zh, en)


def empty_error() -> GeometryError:
    """Build the refusal for an empty geometry (BAD_INPUT row 12)."""
    return _error(
        "empty", "几何为空，请绘制或填写位置", "The geometry is empty; draw or enter a location"
    )


def unsupported_error(kind: object) -> GeometryError:
    """Build the refusal for a geometry type other than Point / Polygon / MultiPolygon (row 14)."""
    shown = str(kind)[:40]
    return _error(
        "unsupported_type",
        f"不支持的几何类型 {shown}：只接受点（Point）、面（Polygon）或多面（MultiPolygon）",
        f"Unsupported geometry type {shown}: only Point, Polygon and MultiPolygon are accepted",
    )


def json_depth(text: str) -> int:
    """Return the deepest bracket nesting of JSON text, counted without recursion or parsing."""
    # Dropping escape pairs first leaves every '"' a real string delimiter, so strings strip in one pass.
    bare = _JSON_STRING_RE.sub("", _JSON_ESCAPE_RE.sub("", text))
    codes = np.frombuffer(bare.encode("utf-8"), dtype=np.uint8)
    steps = np.zeros(codes.shape, dtype=np.int64)
    steps[(codes == ord("[")) | (codes == ord("{"))] = 1
    steps[(codes == ord("]")) | (codes == ord("}"))] = -1
    return int(np.cumsum(steps).max(initial=0))


def non_finite_error() -> GeometryError:
    """Build the refusal for a NaN or infinite coordinate (row 7)."""
    return _error(
        "non_finite",
        "坐标含有非数值（NaN 或无穷大）",
        "A coordinate is not a finite number (NaN or Infinity)",
    )


def _finite_float(text: str) -> float:
    """Parse a JSON number, refusing one too large to be finite such as 1e999 (row 7)."""
    value = float(text)
    if not math.isfinite(value):
        raise non_finite_error()
    return value


def _refuse_constant(name: str) -> float:
    """Refuse the NaN / Infinity / -Infinity literals Python's json would accept (row 7)."""
    raise non_finite_error()


def _load_json(text: str) -> object:
    """Parse JSON text after checking its nesting depth; NaN and Infinity are refused."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise _error(
            "too_deep",
            f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层，不是有效的几何",
            f"The JSON nests deeper than {MAX_JSON_DEPTH} levels; it is not a valid geometry",
        )
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        where = (
            f"（第 {exc.lineno} 行第 {exc.colno} 列）"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise _error("bad_json", f"JSON 格式错误{where}", f"The JSON is malformed: {exc}") from exc


def _legacy_crs(obj: dict) -> str | None:
    """Return the CRS named by a GeoJSON 2008 `crs` member, or None when there is none (row 11)."""
    member = obj.get("crs")
    if member is None:
        return None
    props = member.get("properties") if isinstance(member, dict) else None
    props = props if isinstance(props, dict) else {}
    if (
        isinstance(member, dict)
        and member.get("type") == "name"
        and isinstance(props.get("name"), str)
    ):
        return props["name"]
    if (
        isinstance(member, dict)
        and member.get("type") == "EPSG"
        and isinstance(props.get("code"), int | str)
    ):
        return f"EPSG:{props['code']}"
    raise CRSError(
        "unknown_crs",
        "GeoJSON 的 crs 成员无法识别，请去掉它并使用 WGS-84 经纬度，或写明 EPSG 代码",
        "The GeoJSON crs member is not understood; drop it and use WGS-84 lon/lat, or name an EPSG code",
    )


def _from_geojson(obj: object) -> tuple[dict, str | None]:
    """Unwrap a GeoJSON geometry, Feature or one-feature FeatureCollection into (mapping, declared CRS)."""
    if not isinstance(obj, dict):
        raise _error("bad_geojson", "GeoJSON 应为一个对象", "GeoJSON must be an object")
    declared = _legacy_crs(obj)
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features")
        count = len(features) if isinstance(features, list) else 0
        if count != 1:
            raise _error(
                "feature_count",
                f"要素集合中应恰好有 1 个要素，实际 {count} 个",
                f"The FeatureCollection must hold exactly one feature, not {count}",
            )
        obj = features[0]
        if not isinstance(obj, dict):
            raise _error("bad_geojson", "要素应为一个对象", "A feature must be an object")
        declared = _legacy_crs(obj) or declared
        kind = obj.get("type")
    if kind == "Feature":
        obj = obj.get("geometry")
        if obj is None:
            raise empty_error()
        if not isinstance(obj, dict):
            raise _error(
                "bad_geojson",
                "要素的 geometry 应为一个对象",
                "A feature's geometry must be an object",
            )
        declared = _legacy_crs(obj) or declared
        kind = obj.get("type")
    if not isinstance(kind, str):
        raise _error("bad_geojson", "GeoJSON 缺少 type 成员", "The GeoJSON has no type member")
    if kind.lower() not in ALLOWED_TYPES:
        raise unsupported_error(kind)
    if "coordinates" not in obj:
        raise _error(
            "bad_geojson", "GeoJSON 缺少 coordinates 成员", "The GeoJSON has no coordinates member"
        )
    return {"type": ALLOWED_TYPES[kind.lower()], "coordinates": obj["coordinates"]}, declared


def _wkt_body(body: str, max_depth: int) -> list:
    """Turn the parenthesised WKT body into nested lists of float positions, without recursion."""
    stack: list[list] = []
    numbers: list[float] = []
    result: list | None = None
    for token in _WKT_TOKEN_RE.findall(body):
        if token == "(":
            if result is not None or numbers or len(stack) >= max_depth:
                raise _bad_wkt()
            stack.append([])
        elif token in (")", ","):
            if not stack:
                raise _bad_wkt()
            if numbers:
                stack[-1].append(numbers)
                numbers = []
            if token == ")":
                done = stack.pop()
                if stack:
                    stack[-1].append(done)
                else:
                    result = done
        else:
            try:
                numbers.append(float(token))
            except ValueError as exc:
                raise _bad_wkt() from exc
    if stack or numbers or result is None:
        raise _bad_wkt()
    return result


def _bad_wkt() -> GeometryError:
    """Build the refusal for malformed WKT (this includes an unclosed ring, row 2)."""
    return _error(
        "bad_wkt",
        "WKT 格式错误，请检查括号和坐标，例如 POLYGON ((113.1 30.2, 113.2 30.2, 113.2 30.3, 113.1 30.2))",
        "The WKT is malformed; check brackets and coordinates, e.g. POLYGON ((113.1 30.2, 113.2 30.2, ...))",
    )


def _from_wkt(match: re.Match) -> tuple[dict, str | None]:
    """Read a matched WKT (or EWKT with SRID=) into (mapping, declared CRS); M values are dropped."""
    srid, keyword, dims, body = match.groups()
    kind = ALLOWED_TYPES.get(keyword.lower())
    if kind is None:
        raise unsupported_error(keyword.upper())
    if body.upper() == "EMPTY":
        raise empty_error()
    coords = _wkt_body(body, _WKT_DEPTH[kind])
    dims = (dims or "").upper()
    if dims in ("M", "ZM"):
        keep = 2 if dims == "M" else 3
        coords = _trim_positions(coords, _WKT_DEPTH[kind], keep)
    if kind == "Point":
        if len(coords) != 1:
            raise _bad_wkt()
        coords = coords[0]
    return {"type": kind, "coordinates": coords}, (f"EPSG:{srid}" if srid else None)


def _trim_positions(coords: list, depth: int, keep: int) -> list:
    """Cut every position at `depth` levels down to its first `keep` numbers."""
    if depth == 1:
        return [position[:keep] if isinstance(position, list) else position for position in coords]
    return [
        _trim_positions(part, depth - 1, keep) if isinstance(part, list) else part
        for part in coords
    ]


def load_geometry_mapping(value: object, *, max_bytes: int = 1_000_000) -> tuple[dict, str | None]:
    """Read "lon,lat", WKT or GeoJSON (str, bytes or dict) into ({"type", "coordinates"}, declared CRS or None).

    Coordinates stay in the input CRS and are not yet checked; the declared CRS comes from a
    GeoJSON legacy `crs` member or an EWKT `SRID=`.
    """
    if isinstance(value, dict):
        return _from_geojson(value)
    if isinstance(value, bytes | bytearray):
        if len(value) > max_bytes:
            raise _too_large(len(value), max_bytes)
        try:
            value = bytes(value).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _error(
                "bad_encoding", "输入不是 UTF-8 文本", "The input is not UTF-8 text"
            ) from exc
    if not isinstance(value, str):
        raise _error(
            "bad_input",
            "位置应为文本或 GeoJSON 对象",
            "A location must be text or a GeoJSON object",
        )
    if len(value) > max_bytes or len(value.encode("utf-8")) > max_bytes:
        raise _too_large(len(value.encode("utf-8")), max_bytes)
    text = value.strip()
    if not text:
        raise empty_error()
    if text[0] in "{[":
        return _from_geojson(_load_json(text))
    if match := _LONLAT_RE.fullmatch(text):
        return {"type": "Point", "coordinates": [float(match[1]), float(match[2])]}, None
    if match := _WKT_RE.fullmatch(text):
        return _from_wkt(match)
    raise _error(
        "unrecognized_format",
        "无法识别的位置格式：请填写“经度,纬度”（如 113.1,30.2）、WKT 或 GeoJSON",
        'Unrecognised location format: give "lon,lat" (e.g. 113.1,30.2), WKT or GeoJSON',
    )


def _too_large(size_bytes: int, max_bytes: int) -> GeometryError:
    """Build the refusal for input over the byte cap."""
    return _error(
        "too_large",
        f"输入过大（{size_bytes:,} 字节，上限 {max_bytes:,} 字节），请简化边界",
        f"The input is too large ({size_bytes:,} bytes, limit {max_bytes:,}); simplify the boundary",
    )
