"""Map pages: the town, a village, a group, the JSON feed of cases, and the small map of a case."""

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from inspection import db, map_context
from inspection.maps import data as map_data

bp = Blueprint("maps", __name__)


def _with_query(url: str) -> str:
    """url with this request's query string (the filters) kept."""
    query = request.query_string.decode()
    return f"{url}?{query}" if query else url


@bp.route("/map")
@login_required
def town():
    """Show the town map; field staff go to their own village or group instead."""
    own = map_data.default_cell(current_user)
    if own is not None:
        return redirect(_with_query(url_for(f"maps.{own.level}", code=own.code)))
    page = map_data.map_page(db.session(), current_user, None, request.args, map_context.context())
    return render_template("maps/map.html", page=page)


@bp.route("/map/village/<code>")
@login_required
def village(code: str):
    """Show a village's map with its groups (404 outside the user's grid)."""
    cell = map_data.cell_or_404(db.session(), current_user, "village", code)
    page = map_data.map_page(db.session(), current_user, cell, request.args, map_context.context())
    return render_template("maps/map.html", page=page)


@bp.route("/map/group/<code>")
@login_required
def group(code: str):
    """Show a group's map (404 outside the user's grid)."""
    cell = map_data.cell_or_404(db.session(), current_user, "group", code)
    page = map_data.map_page(db.session(), current_user, cell, request.args, map_context.context())
    return render_template("maps/map.html", page=page)


@bp.route("/map/data.geojson")
@login_required
def data():
    """Compact GeoJSON of the user's cases passing the filters in bbox, clustered when many."""
    text = map_data.case_feed(db.session(), current_user, request.args, map_context.context())
    return Response(text, mimetype="application/geo+json")
