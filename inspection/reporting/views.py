"""The dashboard (统计), the year report page (年度报告) and ledger (台账) downloads."""

from io import BytesIO
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_login import current_user, login_required

from inspection import clock, db
from inspection.cases.access import sees_all, sees_whole_town, town_ids, visible_towns
from inspection.cases.deadlines import overdue_cases
from inspection.documents.downloads import docx_response
from inspection.patrols.yearly import year_patrol_figures
from inspection.reporting.dashboard_data import (
    LEDGER_TYPES,
    chart_data,
    ledger_filename,
    ledger_filters,
    scoped_figures,
    village_names,
    years_with_cases,
)
from inspection.reporting.exports import FORMAT_CHOICES, KIND_CHOICES, export_cases
from inspection.reporting.figures import year_figures
from inspection.reporting.ranking import SORTS, town_ranking
from inspection.reporting.year_docx import build_year_report, report_filename, year_report_content

bp = Blueprint("dashboard", __name__)


def _today():
    return clock.town_today()


def _year() -> int:
    """The year asked for in ?year= (1990–2100), else this year in the town; 404 for others."""
    year = request.args.get("year", type=int)
    if year is None:
        return _today().year
    if not 1990 <= year <= 2100:
        abort(404)
    return year


def _figures(year: int) -> dict:
    """The year figures the user may see: the county, his towns, or his villages and groups."""
    towns = town_ids(current_user)
    figures = year_figures(db.session(), year, groups=True, town_ids=towns or None)
    return scoped_figures(figures, current_user)


def _page_context(year: int) -> dict:
    session = db.session()
    return {
        "year": year,
        "years": years_with_cases(session, max(_today().year, year)),
        "figures": _figures(year),
        "town_view": sees_whole_town(current_user),
        "ledger_formats": FORMAT_CHOICES,
    }


@bp.route("/dashboard")
@login_required
def index():
    """Figures by village and group, monthly and restored-亩 charts, and the overdue list."""
    context = _page_context(_year())
    session = db.session()
    context["chart"] = chart_data(session, context["figures"], current_user)
    context["overdue"] = overdue_cases(session, today=_today(), viewer=current_user)
    context["village_names"] = village_names(session)
    context["today"] = _today()
    return render_template("reporting/dashboard.html", **context)


@bp.route("/report")
@login_required
def report():
    """The year figures as `flask report` prints them, with the paragraph and downloads."""
    year = _year()
    patrols = year_patrol_figures(  # 巡查: patrols, km, hours, mean coverage per village
        db.session(), year, current_user, float(current_app.config["PATROL_COVERAGE_RADIUS_M"])
    )
    return render_template("reporting/report.html", **_page_context(year), patrols=patrols)


@bp.route("/report.docx")
@login_required
def report_docx():
    """The year report as a Word document: the user's town, or for the county the county or ?town=.

    Only for users who see a whole town (404 for village heads and 网格员, as for another town).
    """
    year = _year()
    if not sees_whole_town(current_user):
        abort(404)
    session = db.session()
    code = request.args.get("town") or None
    towns = town_ids(current_user)
    if code is not None and code not in {t.code for t in visible_towns(session, current_user)}:
        abort(404)
    content = year_report_content(
        session,
        year,
        radius_m=float(current_app.config["PATROL_COVERAGE_RADIUS_M"]),
        town_code=code,
        town_ids=None if code is not None else towns,
    )
    name, ascii_name = report_filename(content["figures"])
    return docx_response(build_year_report(content), name, fallback=ascii_name)


@bp.route("/report.json")
@login_required
def report_json():
    """The year figures (with groups) the user may see, as JSON."""
    return jsonify(_figures(_year()))


@bp.route("/towns")
@login_required
def towns():
    """The county's towns ranked for a year (county users and admins; 404 for a town's staff)."""
    if not sees_all(current_user):
        abort(404)
    year, sort = _year(), request.args.get("sort", "")
    session = db.session()
    return render_template(
        "reporting/ranking.html",
        year=year,
        years=years_with_cases(session, max(_today().year, year)),
        sort=sort if sort in SORTS else "rectified",
        rows=town_ranking(session, year, _today(), sort),
        today=_today(),
    )


@bp.route("/ledgers/<kind>.<fmt>")
@login_required
def ledger(kind: str, fmt: str):
    """A ledger or GIS file of the cases the user may see, with the filters of exports.select_cases."""
    if kind not in KIND_CHOICES or fmt not in FORMAT_CHOICES:
        abort(404)
    filters = ledger_filters(request.args)
    buffer = BytesIO()
    export_cases(db.session(), current_user, kind, fmt, buffer, filters)
    name, ascii_name = ledger_filename(kind, fmt, filters)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(
        buffer.getvalue(),
        content_type=LEDGER_TYPES[fmt],
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
