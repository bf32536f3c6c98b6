"""Map pages: the county, a town, a village, a group, the JSON feed of cases, and the small map of a case."""

from dataclasses import replace

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from inspection import db, map_context
from inspection.maps import county as county_data
from inspection.maps import data as map_data

bp = Blueprint("maps", __name__)


def _with_query(url: str) -> str:
    """url with this request's query string (the filters) kept."""
    query = request.query_string.decode()
    return f"{url}?{query}" if query else url


def _town_url() -> str:
    """The URL template of a town's map, {code} for its code."""
    return url_for("maps.town_map", code="__code__").replace("__code__", "{code}")


def _context():
    """The map context with the county's and the towns' map URLs among the cell URLs."""
    ctx = map_context.context()
    urls = {**(ctx.cell_urls or {}), "town": _town_url(), "county": url_for("maps.county")}
    return replace(ctx, cell_urls=urls)


def _county_name(session) -> str | None:
    """The county atop the breadcrumbs, or None in a one-town grid."""
    return county_data.county_name(session) if county_data.is_county(session) else None


@bp.route("/map")
@login_required
def town():
    """The start map: field staff their village or group, the county its county map, a town's
    staff their town (in a county); in a one-town grid the town map, as it always was."""
    own = map_data.default_cell(current_user)
    if own is not None:
        return redirect(_with_query(url_for(f"maps.{own.level}", code=own.code)))
    session = db.session()
    start = county_data.start_map(session, current_user)
    if start is not None:
        level, code = start
        target = (
            url_for("maps.county") if level == "county" else url_for("maps.town_map", code=code)
        )
        return redirect(_with_query(target) if level == "town" else target)
    page = map_data.map_page(
        session, current_user, None, request.args, _context(), county=_county_name(session)
    )
    return render_template("maps/map.html", page=page)


def _cell_map(level: str, code: str):
    """The map page of one cell of that level (404 outside the user's grid)."""
    session = db.session()
    cell = map_data.cell_or_404(session, current_user, level, code)
    page = map_data.map_page(
        session, current_user, cell, request.args, _context(), county=_county_name(session)
    )
    return render_template("maps/map.html", page=page)


@bp.route("/map/county")
@login_required
def county():
    """Every town coloured by its overdue cases now (county users and admins; 404 for a town's staff)."""
    if not county_data.can_open_county(current_user):
        abort(404)
    page = county_data.county_page(db.session(), current_user, _context(), _town_url())
    return render_template("maps/county.html", page=page)


@bp.route("/map/town/<code>")
@login_required
def town_map(code: str):
    """Show a town's map with its villages (404 outside the user's grid)."""
    return _cell_map("town", code)


@bp.route("/map/village/<code>")
@login_required
def village(code: str):
    """Show a village's map with its groups (404 outside the user's grid)."""
    return _cell_map("village", code)


@bp.route("/map/group/<code>")
@login_required
def group(code: str):
    """Show a group's map (404 outside the user's grid)."""
    return _cell_map("group", code)


@bp.route("/map/data.geojson")
@login_required
def data():
    """Compact GeoJSON of the user's cases passing the filters in bbox, clustered when many."""
    text = map_data.case_feed(db.session(), current_user, request.args, map_context.context())
    return Response(text, mimetype="application/geo+json")
