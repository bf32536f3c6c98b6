"""Map pages: the town, a village, a group, the JSON feed of cases, and the small map of a case."""

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from geodata.maps import MapParts, MapText
from inspection import clock, db, map_data, vocab
from inspection.models import Case

bp = Blueprint("maps", __name__)
REVIEW_NUMBER_SETTING = "BASEMAP_REVIEW_NUMBER"  # 审图号 shown beside the basemap's attribution


def map_text(lang: str) -> MapText:
    """The words of a map in the UI language (domain labels from vocab, the rest translated)."""
    return MapText(
        lang=lang,
        groups={
            "open": _("Open (not yet done)"),
            "done": _("Done, awaiting check"),
            "verified": _("Verified and closed"),
            "void": _("Void (not substantiated)"),
        },
        kinds={kind: vocab.label(vocab.KINDS, kind, lang) for kind in vocab.KINDS},
        statuses={
            kind: {s: vocab.status_label(s, kind, lang) for s in vocab.STATUSES}
            for kind in vocab.KINDS
        },
        words={
            "legend": _("Legend"),
            "overdue": _("Overdue"),
            "deadline": _("Deadline"),
            "area": _("Area"),
            "mu": _("mu"),
            "colon": _(": "),
            "where": _("Village / group"),
            "open_case": _("Open the case"),
            "polygon": _("Parcel or building footprint"),
            "reported": _("Parcel as first reported"),
            "boundaries": _("Boundaries"),
            "shade": _("Shade by"),
            "shade_none": _("Nothing"),
            "shade_open": _("Open cases"),
            "shade_mu": _("Restored mu"),
            "shade_mu_year": _("Restored mu in {year}"),
            "load_error": _("The cases could not be loaded. Reload the page."),
            "full_screen": _("Full screen"),
            "exit_full_screen": _("Exit full screen"),
        },
    )


def context() -> map_data.MapContext:
    """The map context of this request: settings, today in the town, language and URLs."""
    config = current_app.config
    lang = getattr(g, "lang", "zh")

    def template(endpoint: str) -> str:
        return url_for(endpoint, code="__code__").replace("__code__", "{code}")

    return map_data.MapContext(
        basemap=config.get("BASEMAP", "none"),
        tianditu_key=config.get("TIANDITU_KEY", ""),
        review_number=config.get(REVIEW_NUMBER_SETTING, ""),
        today=clock.town_today(),
        lang=lang,
        static_url=url_for("static", filename="").rstrip("/"),
        data_url=url_for("maps.data"),
        cell_urls={"village": template("maps.village"), "group": template("maps.group")},
        case_url=request.script_root + "/cases/{id}",
        town_url=url_for("maps.town"),
        text=map_text(lang),
    )


def case_map(case: Case, reported_geometry=None) -> MapParts:
    """The small map of a case for its page (header, body, script parts); see map_data.case_map."""
    return map_data.case_map(case, context(), reported_geometry)


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
    page = map_data.map_page(db.session(), current_user, None, request.args, context())
    return render_template("maps/map.html", page=page)


@bp.route("/map/village/<code>")
@login_required
def village(code: str):
    """Show a village's map with its groups (404 outside the user's grid)."""
    cell = map_data.cell_or_404(db.session(), current_user, "village", code)
    page = map_data.map_page(db.session(), current_user, cell, request.args, context())
    return render_template("maps/map.html", page=page)


@bp.route("/map/group/<code>")
@login_required
def group(code: str):
    """Show a group's map (404 outside the user's grid)."""
    cell = map_data.cell_or_404(db.session(), current_user, "group", code)
    page = map_data.map_page(db.session(), current_user, cell, request.args, context())
    return render_template("maps/map.html", page=page)


@bp.route("/map/data.geojson")
@login_required
def data():
    """Compact GeoJSON of the user's cases passing the filters in bbox, clustered when many."""
    text = map_data.case_feed(db.session(), current_user, request.args, context())
    return Response(text, mimetype="application/geo+json")
