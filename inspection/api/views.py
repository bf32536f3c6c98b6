"""OGC API – Features (Part 1 Core, GeoJSON): the cases and the grid, read-only, with the app's permissions."""

import json
from datetime import UTC, datetime
from html import escape

from flask import Blueprint, Response, current_app, g, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from inspection import db
from inspection.accounts import tokens
from inspection.api.features import COLLECTIONS, CRS84, conditions, extent, features, page
from inspection.api.openapi import openapi_document
from inspection.api.params import (
    GEOJSON,
    JSON,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    ApiError,
    parse_bbox,
    parse_datetime,
    parse_int,
)
from inspection.cases.models import Case
from inspection.errors import DomainError
from inspection.grid.models import GridCell
from inspection.params import MAX_INT, MAX_PAGE

bp = Blueprint("api", __name__, url_prefix="/api")


CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)


OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


HTML = "text/html"


CASE_PARAMS = frozenset({"f", "limit", "offset", "bbox", "datetime", "status", "village"})


GRID_PARAMS = frozenset({"f", "limit", "offset", "bbox", "datetime"})


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
        tokens.log_refused(session, token, request.remote_addr, request.path)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.exception("could not write api_token_refused to the audit log")


@bp.before_request
def _authenticate() -> None:
    """Find the user from a Bearer token, else the session cookie; neither answers 401."""
    token = tokens.bearer_token(request.headers.get("Authorization"))
    if token is not None:
        g.api_user = tokens.user_for_token(db.session(), token) if token else None
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
    matched, rows, more = page(session, collection_id, where, args)
    offset, limit = args["offset"], args["limit"]
    links = [_page_link(collection_id, "self", offset, limit)]
    if more:
        links.append(_page_link(collection_id, "next", offset + limit, limit))
    if offset > 0:
        links.append(_page_link(collection_id, "prev", max(0, offset - limit), limit))
    links.append(_link("api.collection", "collection", collection_id=collection_id))
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = {
        "type": "FeatureCollection",
        "features": features(collection_id, rows),
        **({"numberMatched": matched} if matched is not None else {}),
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
