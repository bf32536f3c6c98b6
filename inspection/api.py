"""OGC API – Features (Part 1 Core, GeoJSON): the cases and the grid, read-only, with the app's permissions."""

import json
from datetime import UTC, date, datetime
from html import escape

import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, Response, current_app, g, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, true
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from geodata.area import m2_to_mu
from inspection import api_tokens, db
from inspection.access import TOWN_ROLES, case_scope
from inspection.case_lists import bbox_condition
from inspection.errors import DomainError
from inspection.exports import gis_frame, status_keys
from inspection.models import Case, GridCell, User
from inspection.params import MAX_INT, MAX_PAGE

bp = Blueprint("api", __name__, url_prefix="/api")

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
JSON, GEOJSON = "application/json", "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
HTML = "text/html"
LIMIT_DEFAULT, LIMIT_MAX = 100, 1000
# Collection id → (case kind or None for the grid, Chinese title, English description).
COLLECTIONS = {
    "issues": ("issue", "问题", "Issues found on patrol, reported or assigned"),
    "illegal_buildings": ("illegal_building", "违法建筑", "Illegal buildings"),
    "farmland": ("farmland", "复耕地块", "Farmland restoration parcels"),
    "grid": (
        None,
        "网格",
        "Grid cells: the town, its villages (村) and groups (组). They have no time: datetime"
        " is accepted and filters nothing.",
    ),
}
CASE_PROPERTIES = (
    *("id", "kind", "status", "status_label", "source", "category", "title"),
    *("found_on", "deadline_on", "done_on", "verified_on"),
    *("village_code", "village", "group_code", "group", "area_m2", "area_mu"),
)
CASE_PARAMS = frozenset({"f", "limit", "offset", "bbox", "datetime", "status", "village"})
GRID_PARAMS = frozenset({"f", "limit", "offset", "bbox", "datetime"})


class ApiError(Exception):
    """A refused request, answered as an OGC exception: {"code", "description"} with an HTTP status."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


# --- Parameters: strings in, values out, ApiError(400) on anything else ---------------------


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


# --- Queries: which rows a user may see, filtered and paged ---------------------------------


def grid_scope(user: User):
    """A SQL condition selecting the grid cells the user works in and the cells inside them."""
    if user.role in TOWN_ROLES or any(cell.level == "town" for cell in user.cells):
        return true()
    ids = set()
    for cell in user.cells:
        ids |= {cell.id, *(c.id for c in cell.children)}
        ids |= {gc.id for c in cell.children for gc in c.children}
    return GridCell.id.in_(ids)


def conditions(session: Session, user: User, collection: str, args: dict) -> list:
    """The SQL conditions of a collection for a user and the parsed query parameters.

    The grid has no time: a datetime selects every cell. A bbox is tested exactly, in SQL.
    """
    kind = COLLECTIONS[collection][0]
    where = [grid_scope(user)] if kind is None else [case_scope(user), Case.kind == kind]
    if args.get("datetime") and kind is not None:
        start, end = args["datetime"]
        where += [Case.found_on >= start] if start else []
        where += [Case.found_on <= end] if end else []
    if args.get("status"):
        where.append(Case.status.in_(status_keys(args["status"])))
    if args.get("village"):
        village = session.scalar(
            select(GridCell.id).where(GridCell.code == args["village"], GridCell.level == "village")
        )
        if village is None:
            raise ApiError(400, "InvalidParameterValue", f"no village {args['village']}")
        where.append(Case.village_id == village)
    if args.get("bbox"):
        model = GridCell if kind is None else Case
        geom = GridCell.boundary if kind is None else Case.geom
        where.append(bbox_condition(session, model, geom, args["bbox"], *where))
    return where


def page(session: Session, collection: str, where: list, args: dict) -> tuple[int, list]:
    """(number matched, the rows of this page), counted and paged by the database."""
    model = GridCell if COLLECTIONS[collection][0] is None else Case
    matched = session.scalar(select(func.count()).select_from(model).where(*where))
    query = select(model).where(*where).offset(args["offset"]).limit(args["limit"])
    if model is GridCell:
        query = query.options(selectinload(GridCell.parent))
    else:
        query = query.options(selectinload(Case.village), selectinload(Case.group))
    return matched, list(session.scalars(query.order_by(model.id)))


def extent(session: Session, user: User, collection: str) -> dict:
    """The spatial (CRS84) and temporal extent of what the user may see in a collection."""
    kind = COLLECTIONS[collection][0]
    model = GridCell if kind is None else Case
    where = conditions(session, user, collection, {})
    columns = [func.min(model.min_lon), func.min(model.min_lat)]
    columns += [func.max(model.max_lon), func.max(model.max_lat)]
    if kind is not None:
        columns += [func.min(Case.found_on), func.max(Case.found_on)]
    row = session.execute(select(*columns).where(*where)).one()
    bbox = [round(v, 7) for v in row[:4]] if row[0] is not None else [-180, -90, 180, 90]
    days = [None, None] if kind is None else [_instant(day) for day in row[4:]]
    return {"spatial": {"bbox": [bbox], "crs": CRS84}, "temporal": {"interval": [days]}}


# --- GeoJSON ----------------------------------------------------------------------------------


def _instant(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00Z"


def geometry(shape) -> dict:
    """A shapely geometry (lon/lat) as a GeoJSON geometry with coordinates rounded to 7 decimals."""
    rounded = shapely.transform(shape, lambda xy: np.round(xy, 7))
    return json.loads(shapely.to_geojson(rounded))


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return None if value is pd.NaT else value


def case_features(cases: list[Case], kind: str) -> list[dict]:
    """Cases as GeoJSON features with the API's properties (the export's GIS columns)."""
    frame = gis_frame(cases, kind)[list(CASE_PROPERTIES)]
    frame = frame.rename(columns={"village": "village_name", "group": "group_name"})
    records = frame.to_dict("records")
    return [
        {
            "type": "Feature",
            "id": case.id,
            "geometry": geometry(case.geom),
            "properties": {key: _plain(value) for key, value in record.items()},
        }
        for case, record in zip(cases, records, strict=True)
    ]


def cell_features(cells: list[GridCell]) -> list[dict]:
    """Grid cells as GeoJSON features: level, code, name, parent_code and area (m², 亩)."""
    return [
        {
            "type": "Feature",
            "id": cell.id,
            "geometry": geometry(cell.boundary),
            "properties": {
                "id": cell.id,
                "level": cell.level,
                "code": cell.code,
                "name": cell.name,
                "parent_code": cell.parent.code if cell.parent else None,
                "area_m2": cell.area_m2,
                "area_mu": None if cell.area_m2 is None else float(m2_to_mu(cell.area_m2)),
            },
        }
        for cell in cells
    ]


def features(collection: str, rows: list) -> list[dict]:
    """The rows of a collection as GeoJSON features."""
    kind = COLLECTIONS[collection][0]
    return cell_features(rows) if kind is None else case_features(rows, kind)


# --- Views --------------------------------------------------------------------------------------


def _respond(data: dict, mimetype: str = JSON, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = Response(body, status=status, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _link(endpoint: str, rel: str, mimetype: str = JSON, title: str = "", **values) -> dict:
    link = {"href": url_for(endpoint, _external=True, **values), "rel": rel, "type": mimetype}
    return link | ({"title": title} if title else {})


def _collection_or_404(collection_id: str) -> str:
    if collection_id not in COLLECTIONS:
        raise ApiError(404, "NotFound", f"no collection {collection_id}")
    return collection_id


def _check_params(allowed: frozenset) -> None:
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise ApiError(400, "InvalidParameterValue", f"unknown parameter: {', '.join(unknown)}")
    if request.args.get("f", "json") not in ("json", "geojson"):
        raise ApiError(400, "InvalidParameterValue", "f must be json")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    response = _respond({"code": exc.code, "description": exc.description}, status=exc.status)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    return _respond({"code": exc.code, "description": exc.message_en}, status=400)


def _log_bad_token(token: str) -> None:
    """Note a refused token in the audit log; a failure to write it does not change the 401."""
    session = db.session()
    try:
        api_tokens.log_refused(session, token, request.remote_addr, request.path)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.exception("could not write api_token_refused to the audit log")


@bp.before_request
def _authenticate() -> None:
    """Find the user from a Bearer token, else the session cookie; neither answers 401."""
    token = api_tokens.bearer_token(request.headers.get("Authorization"))
    if token is not None:
        g.api_user = api_tokens.user_for_token(db.session(), token) if token else None
        if g.api_user is None:
            _log_bad_token(token)
            raise ApiError(401, "Unauthorized", "invalid or revoked API token")
    elif current_user.is_authenticated:
        g.api_user = current_user._get_current_object()
    else:
        raise ApiError(401, "Unauthorized", "log in or send Authorization: Bearer <token>")


@bp.get("/", strict_slashes=False)
def landing() -> Response:
    """The landing page: links to itself, the API definition, conformance and the collections."""
    _check_params(frozenset({"f"}))
    links = [
        _link("api.landing", "self", title="This document"),
        _link("api.openapi", "service-desc", OPENAPI, title="The API definition (OpenAPI 3.0)"),
        _link("api.docs", "service-doc", HTML, title="The API documentation"),
        _link("api.conformance", "conformance", title="Conformance classes"),
        _link("api.collections", "data", title="Collections"),
    ]
    return _respond({"title": "网格巡查 OGC API", "description": "网格巡查数据", "links": links})


def _parameter(name: str, schema: dict, description: str, where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "style": "form",
        "explode": False,
        "description": description,
    } | ({"style": "simple"} if where == "path" else {})


def _json_response(description: str, mimetype: str = JSON) -> dict:
    return {"description": description, "content": {mimetype: {"schema": {"type": "object"}}}}


def _operation(operation_id: str, summary: str, responses: dict, parameters=()) -> dict:
    errors = {
        "400": _json_response("A bad parameter: {code, description}"),
        "401": _json_response("No session and no valid API token"),
    }
    operation = {"operationId": operation_id, "summary": summary, "responses": responses | errors}
    if parameters:
        operation["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in parameters]
    return {"get": operation}


def openapi_document(server_url: str) -> dict:
    """The OpenAPI 3.0 definition of this API: its paths, parameters and security schemes."""
    number = {"type": "number"}
    parameters = {
        "f": _parameter("f", {"type": "string", "enum": ["json", "geojson"]}, "Encoding"),
        "limit": _parameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
            f"Features per page; above {LIMIT_MAX} it is clamped",
        ),
        "offset": _parameter(
            "offset", {"type": "integer", "minimum": 0, "default": 0}, "Features to skip"
        ),
        "bbox": _parameter(
            "bbox",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": number},
            "minlon,minlat,maxlon,maxlat in CRS84: features whose geometry intersects it",
        ),
        "datetime": _parameter(
            "datetime",
            {"type": "string"},
            "RFC 3339 instant or interval (open ends ..) of the day a case was found (found_on);"
            " the grid has no time, so it filters nothing there",
        ),
        "status": _parameter(
            "status",
            {"type": "string"},
            "Cases only: a status key (reported … void) or group (open, fixed, closed)",
        ),
        "village": _parameter("village", {"type": "string"}, "Cases only: a village (村) code"),
        "collectionId": _parameter(
            "collectionId", {"type": "string", "enum": list(COLLECTIONS)}, "Collection", "path"
        ),
        "featureId": _parameter(
            "featureId", {"type": "integer"}, "The feature's id in its collection", "path"
        ),
    }
    items_params = ("collectionId", "f", "limit", "offset", "bbox", "datetime", "status")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "网格巡查 OGC API – Features",
            "version": "1.0.0",
            "description": "Read-only cases and grid cells (GeoJSON, CRS84). The grid collection"
            " has no time; status and village apply to the case collections only.",
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "security": [{"bearerToken": []}, {"session": []}],
        "paths": {
            "/": _operation("getLandingPage", "Landing page", {"200": _json_response("Links")}),
            "/conformance": _operation(
                "getConformance",
                "Conformance classes",
                {"200": _json_response("conformsTo")},
                ("f",),
            ),
            "/collections": _operation(
                "getCollections",
                "The collections: issues, illegal_buildings, farmland, grid",
                {"200": _json_response("Collections with extents")},
                ("f",),
            ),
            "/collections/{collectionId}": _operation(
                "describeCollection",
                "One collection",
                {"200": _json_response("The collection"), "404": _json_response("No such")},
                ("collectionId", "f"),
            ),
            "/collections/{collectionId}/items": _operation(
                "getFeatures",
                "A page of features, with next and prev links",
                {"200": _json_response("A FeatureCollection", GEOJSON)},
                (*items_params, "village"),
            ),
            "/collections/{collectionId}/items/{featureId}": _operation(
                "getFeature",
                "One feature; one the user may not see answers 404",
                {
                    "200": _json_response("A Feature", GEOJSON),
                    "404": _json_response("No such feature, or hidden from the user"),
                },
                ("collectionId", "featureId", "f"),
            ),
        },
        "components": {
            "parameters": parameters,
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


@bp.get("/openapi")
def openapi() -> Response:
    """The API definition (OpenAPI 3.0, JSON): the landing page's service-desc."""
    _check_params(frozenset({"f"}))
    document = openapi_document(url_for("api.landing", _external=True))
    return _respond(document, OPENAPI)


@bp.get("/docs")
def docs() -> Response:
    """A short HTML page documenting the API's paths and parameters: the service-doc."""
    _check_params(frozenset({"f"}))
    document = openapi_document(url_for("api.landing", _external=True))
    server = document["servers"][0]["url"]
    rows = []
    for path, methods in document["paths"].items():
        operation = methods["get"]
        names = [ref["$ref"].rsplit("/", 1)[-1] for ref in operation.get("parameters", [])]
        rows.append(
            f"<tr><td><code>GET {escape(server + path)}</code></td>"
            f"<td>{escape(operation['summary'])}</td><td>{escape(', '.join(names))}</td></tr>"
        )
    params = "".join(
        f"<li><code>{escape(name)}</code>: {escape(p['description'])}</li>"
        for name, p in document["components"]["parameters"].items()
    )
    body = (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>{escape(document['info']['title'])}</title></head><body>"
        f"<h1>{escape(document['info']['title'])}</h1>"
        f"<p>{escape(document['info']['description'])}</p>"
        "<p>Authenticate with the session of a logged-in user or "
        "<code>Authorization: Bearer &lt;token&gt;</code> (<code>flask api-token create</code>)."
        f' The definition: <a href="{escape(url_for("api.openapi"))}">OpenAPI 3.0</a>.</p>'
        f"<table><tr><th>Path</th><th>What</th><th>Parameters</th></tr>{''.join(rows)}</table>"
        f"<ul>{params}</ul></body></html>"
    )
    response = Response(body, mimetype=HTML)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/conformance")
def conformance() -> Response:
    """The conformance classes this API implements."""
    _check_params(frozenset({"f"}))
    return _respond({"conformsTo": list(CONFORMANCE)})


def _collection(collection_id: str) -> dict:
    _kind, title, description = COLLECTIONS[collection_id]
    return {
        "id": collection_id,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": extent(db.session(), g.api_user, collection_id),
        "links": [
            _link("api.collection", "self", collection_id=collection_id),
            _link("api.items", "items", GEOJSON, title, collection_id=collection_id),
        ],
    }


@bp.get("/collections")
def collections() -> Response:
    """The four collections with their extents."""
    _check_params(frozenset({"f"}))
    links = [_link("api.collections", "self")]
    return _respond({"links": links, "collections": [_collection(c) for c in COLLECTIONS]})


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    """One collection's description."""
    _check_params(frozenset({"f"}))
    return _respond(_collection(_collection_or_404(collection_id)))


def _items_args(collection_id: str) -> dict:
    _check_params(GRID_PARAMS if COLLECTIONS[collection_id][0] is None else CASE_PARAMS)
    return {
        "limit": parse_int("limit", request.args.get("limit"), LIMIT_DEFAULT, 1, LIMIT_MAX),
        "offset": parse_int("offset", request.args.get("offset"), 0, 0, MAX_PAGE, clamp=False),
        "bbox": parse_bbox(request.args.get("bbox")),
        "datetime": parse_datetime(request.args.get("datetime")),
        "status": request.args.get("status"),
        "village": request.args.get("village"),
    }


def _page_link(collection_id: str, rel: str, offset: int, limit: int) -> dict:
    values = request.args.to_dict() | {"offset": offset, "limit": limit}
    return _link("api.items", rel, GEOJSON, collection_id=collection_id, **values)


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    """A page of a collection's features, filtered by bbox, datetime, status and village."""
    args = _items_args(_collection_or_404(collection_id))
    session = db.session()
    where = conditions(session, g.api_user, collection_id, args)
    matched, rows = page(session, collection_id, where, args)
    offset, limit = args["offset"], args["limit"]
    links = [_page_link(collection_id, "self", offset, limit)]
    if offset + len(rows) < matched:
        links.append(_page_link(collection_id, "next", offset + limit, limit))
    if offset > 0:
        links.append(_page_link(collection_id, "prev", max(0, offset - limit), limit))
    links.append(_link("api.collection", "collection", collection_id=collection_id))
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = {
        "type": "FeatureCollection",
        "features": features(collection_id, rows),
        "numberMatched": matched,
        "numberReturned": len(rows),
        "timeStamp": stamp,
        "links": links,
    }
    return _respond(body, GEOJSON)


def _hidden_target(session: Session, collection_id: str, feature_id: int) -> str | None:
    """The audit target of a feature that exists in the collection, else None."""
    kind = COLLECTIONS[collection_id][0]
    if kind is None:
        code = session.scalar(select(GridCell.code).where(GridCell.id == feature_id))
        return f"grid:{code}" if code is not None else None
    found = session.scalar(select(Case.id).where(Case.id == feature_id, Case.kind == kind))
    return f"case:{found}" if found is not None else None


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    """One feature; ids the user may not see answer 404 like ids that do not exist."""
    _collection_or_404(collection_id)
    _check_params(frozenset({"f"}))
    session = db.session()
    model = GridCell if COLLECTIONS[collection_id][0] is None else Case
    where = conditions(session, g.api_user, collection_id, {})
    rows = []
    is_id = feature_id.isdigit() and int(feature_id) <= MAX_INT
    if is_id:
        query = select(model).where(model.id == int(feature_id), *where)
        rows = list(session.scalars(query))
    if not rows:
        if is_id:  # hidden from this user, not missing: the audit log notes it
            g.audit_refused_target = _hidden_target(session, collection_id, int(feature_id))
        raise ApiError(404, "NotFound", f"no feature {feature_id} in {collection_id}")
    feature = features(collection_id, rows)[0]
    feature["links"] = [
        _link("api.item", "self", GEOJSON, collection_id=collection_id, feature_id=feature_id),
        _link("api.collection", "collection", collection_id=collection_id),
    ]
    return _respond(feature, GEOJSON)
