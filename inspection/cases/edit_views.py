"""Correct a report: its ledger fields and more "before" photos until the work starts; its place while open."""

import shapely
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from inspection import db
from inspection.cases.access import case_or_404
from inspection.cases.forms import field_errors, form_for, read_geometry
from inspection.cases.photos import process_posted
from inspection.cases.records import edit_details, may_edit
from inspection.cases.relocation import may_move, move_case
from inspection.cases.views import page_lang
from inspection.errors import DomainError, InvalidInput
from inspection.map_context import basemap
from inspection.settings import archive_limits

bp = Blueprint("case_edit", __name__)

# The report form's fields the edit page leaves out: the place and its input helpers.
NOT_SHOWN = frozenset({"client_id", "geometry", "crs", "stated_area_m2"})


def _page(case, form, *, problems=(), status: int = 200):
    """The edit form of a case, with the problems of a refused attempt."""
    messages = [p.message(getattr(g, "lang", "zh")) for p in problems]
    return (
        render_template(
            "cases/edit.html",
            case=case,
            form=form,
            shown=[field.name for field in form if field.name not in NOT_SHOWN],
            problems=messages + field_errors(form),
        ),
        status,
    )


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int):
    """Show and save the corrections of a case the user may still edit (403 once work started)."""
    session = db.session()
    case = case_or_404(session, case_id, current_user)
    if not may_edit(current_user, case):
        abort(403)
    if request.method == "GET":
        form = form_for(case.kind)
        form.process(obj=case)
        return _page(case, form)
    form = form_for(case.kind, request.form)
    if not form.validate():
        return _page(case, form, status=422)
    config = current_app.config
    try:
        photos = process_posted(request.files.getlist("photos"), config)
        edit_details(
            session,
            case,
            current_user,
            form.ledger_fields(),
            found_on=form.found_on.data,
            expected_version=request.form.get("expected_version"),
            photos=photos,
            photo_dir=config["PHOTO_DIR"],
        )
        session.commit()
    except DomainError as exc:
        session.rollback()
        case = case_or_404(session, case_id, current_user)
        return _page(case, form, problems=[exc], status=exc.status)
    flash(_("Saved: the case's details were corrected."), "success")
    return redirect(url_for("cases.detail", case_id=case_id), code=303)


def _move_page(case, form, *, problems=(), status: int = 200):
    """The move form of a case: the location fieldset of the report form, a reason, the problems."""
    lang = page_lang()
    by_field: dict[str, list[str]] = {}
    general, features = [], []
    for problem in problems:
        features = features or getattr(problem, "features", [])
        field = getattr(problem, "field", None)
        (by_field.setdefault(field, []) if field else general).append(problem.message(lang))
    box = [case.min_lon, case.min_lat, case.max_lon, case.max_lat]
    html = render_template(
        "cases/move.html",
        case=case,
        kind=case.kind,
        form=form,
        problems=by_field,
        general=general,
        features=features,
        basemap=basemap(),
        bounds=box if None not in box else None,
        reason=request.form.get("reason", ""),
    )
    return html, status


@bp.route("/cases/<int:case_id>/move", methods=["GET", "POST"])
@login_required
def move(case_id: int):
    """Show and save a new place for an open case (supervisors, the county, admins); audited."""
    session = db.session()
    case = case_or_404(session, case_id, current_user)
    if not may_move(current_user, case):
        abort(403)
    form = form_for(case.kind, request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.geometry.data, form.crs.data = shapely.to_geojson(case.geom), "EPSG:4326"
        return _move_page(case, form)
    config = current_app.config
    try:
        found = read_geometry(
            request.form,
            request.files,
            max_vertices=config["MAX_VERTICES"],
            max_file_bytes=config["MAX_CONTENT_LENGTH"],
            **archive_limits(config),
        )
        if found is None:
            raise InvalidInput("location_required", "请给出新位置", "Give the new location")
        move_case(
            session,
            case,
            current_user,
            found.geom,
            reason=request.form.get("reason", ""),
            expected_version=request.form.get("expected_version"),
        )
        session.commit()
    except DomainError as exc:
        session.rollback()
        case = case_or_404(session, case_id, current_user)
        return _move_page(case, form, problems=[exc], status=exc.status)
    flash(
        _("Moved: the case now lies in its new place; the audit log records the move."), "success"
    )
    return redirect(url_for("cases.detail", case_id=case_id), code=303)
