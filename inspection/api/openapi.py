"""The OpenAPI 3.0 document of the API."""

from inspection.api.features import COLLECTIONS
from inspection.api.params import GEOJSON, JSON, LIMIT_DEFAULT, LIMIT_MAX


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
