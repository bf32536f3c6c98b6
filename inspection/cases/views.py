"""The cases blueprint: the case list, the case page, its photos, the grid for the forms' maps.

The report forms add their routes to this blueprint (cases.report_views).
"""

import json
from pathlib import Path

import shapely
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from inspection import clock, db
from inspection.cases import action_views
from inspection.cases.access import case_or_404
from inspection.cases.lists import case_page, list_filters, visible_villages
from inspection.cases.models import Photo
from inspection.cases.photos import photo_path
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell
from inspection.map_context import basemap

bp = Blueprint("cases", __name__)


PAGE_SIZE = 50


STATIC = Path(__file__).resolve().parents[2] / "static"


def page_lang() -> str:
    return getattr(g, "lang", "zh")


@bp.route("/cases")
@login_required
def case_list():
    """List the cases the user may see, filtered (all in the URL), a page per keyset cursor."""
    session = db.session()
    today = clock.town_today()
    errors = []
    try:
        filters = list_filters(session, current_user, request.args)
    except InvalidInput as exc:  # a stale or foreign village: say so, list without it (400)
        errors.append(exc.message(page_lang()))
        filters = list_filters(session, current_user, request.args.to_dict() | {"village": ""})
    after, before = request.args.get("after"), request.args.get("before")
    try:
        page = case_page(session, current_user, filters, today, after=after, before=before,
                         size=PAGE_SIZE)  # fmt: skip
    except InvalidInput as exc:  # a damaged or foreign cursor: say so, show the first page (400)
        errors.append(exc.message(page_lang()))
        page = case_page(session, current_user, filters, today, size=PAGE_SIZE)
    html = render_template(
        "cases/list.html",
        cases=page.cases,
        filters=filters,
        kind=filters.kind,
        villages=visible_villages(session, current_user),
        today=today,
        filter_error="；".join(errors) if errors else None,
        next_cursor=page.next_cursor,
        prev_cursor=page.prev_cursor,
    )
    return html, 400 if errors else 200


@bp.route("/cases/<int:case_id>")
@login_required
def detail(case_id: int):
    """Show one case the user may see (404 otherwise)."""
    case = case_or_404(db.session(), case_id, current_user)
    geometry = json.loads(shapely.to_geojson(case.geom))
    return render_template(
        "cases/detail.html",
        case=case,
        geometry=geometry,
        basemap=basemap(),
        **action_views.page_context(case),
    )


@bp.route("/cases/grid.json")
@login_required
def grid_geojson():
    """The village and group boundaries (lon/lat, simplified to about 1 m) for the report map."""
    cells = db.session.scalars(
        select(GridCell).where(GridCell.level.in_(("village", "group"))).order_by(GridCell.code)
    ).all()
    features = [
        {
            "type": "Feature",
            "properties": {"level": c.level, "code": c.code, "name": c.name},
            "geometry": json.loads(shapely.to_geojson(c.boundary.simplify(1e-5))),
        }
        for c in cells
    ]
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/cases/<int:case_id>/photos/<int:photo_id>/<any(full, thumb):size>.jpg")
@login_required
def photo(case_id: int, photo_id: int, size: str):
    """Serve a stored photo (or its thumbnail) of a case the user may see."""
    case = case_or_404(db.session(), case_id, current_user)
    row = db.session.get(Photo, photo_id)
    if row is None or row.case_id != case.id:
        abort(404)
    path = photo_path(current_app.config["PHOTO_DIR"], row.sha256, thumb=size == "thumb")
    if not path.is_file():
        abort(404)
    # Small files, read whole: no file handle outlives the request.
    response = Response(path.read_bytes(), mimetype="image/jpeg")
    response.set_etag(f"{row.sha256}-{size}")
    response.cache_control.private = True
    response.cache_control.max_age = 365 * 86400
    response.cache_control.immutable = True
    response.make_conditional(request)
    return response


@bp.route("/sw.js")
def service_worker():
    """The service worker that keeps the report pages and their scripts usable offline."""
    response = Response((STATIC / "sw.js").read_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response
