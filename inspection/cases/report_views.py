"""The report forms on the cases blueprint: a new case of each kind, the live preview, fresh CSRF tokens for the offline outbox."""

import json
from types import SimpleNamespace

import shapely
from flask import (
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from geodata.area import geodesic_area_m2
from inspection import clock, db, vocab
from inspection.cases.access import can_see
from inspection.cases.duplicates import similar_cases
from inspection.cases.forms import (
    FieldError,
    file_features,
    form_for,
    no_location,
    photo_suggestion,
)
from inspection.cases.forms import read_geometry as read_form_geometry
from inspection.cases.merging import report_as_recurrence
from inspection.cases.models import Case
from inspection.cases.outbox import form_page
from inspection.cases.photos import PhotoError, attach_photos, process_posted
from inspection.cases.records import (
    GEOMETRY_TYPES,
    create_case,
    default_responsible,
    find_by_client_id,
)
from inspection.cases.signals import case_reported
from inspection.cases.views import bp, page_lang
from inspection.errors import DomainError, InvalidInput
from inspection.grid.models import GridCell
from inspection.grid.placement import place
from inspection.map_context import basemap
from inspection.settings import archive_limits


def _user_bounds(user) -> list[float] | None:
    """The lon/lat box of the user's own cells (or of the town): where the map opens."""
    cells = (
        list(user.cells)
        or db.session.scalars(select(GridCell).where(GridCell.level == "town")).all()
    )
    boxes = [c for c in cells if c.min_lon is not None]
    if not boxes:
        return None
    return [
        min(c.min_lon for c in boxes),
        min(c.min_lat for c in boxes),
        max(c.max_lon for c in boxes),
        max(c.max_lat for c in boxes),
    ]


def _where(session, geom) -> dict:
    """Where a geometry (lon/lat) falls: village, group and the responsible 网格员, or outside."""
    placement = place(session, geom)
    village = session.get(GridCell, placement.village_id) if placement.village_id else None
    group = session.get(GridCell, placement.group_id) if placement.group_id else None
    person = default_responsible(session, placement.group_id)
    return {
        "placement": placement,
        "village": village.name if village else None,
        "group": group.name if group else None,
        "responsible": {"name": person.display_name, "phone": person.phone or ""}
        if person
        else None,
    }


def _check_reporter(where: dict, user) -> None:
    """Refuse a location outside the town, or outside the cells the user works in."""
    placement = where["placement"]
    if placement.outside:
        raise FieldError(
            "geometry",
            "outside_grid",
            "位置不在本镇任何网格（组）内，请检查位置",
            "The location lies outside every grid group of the town",
        )
    if not can_see(
        user,
        SimpleNamespace(
            town_id=placement.town_id, village_id=placement.village_id, group_id=placement.group_id
        ),
    ):
        person = where["responsible"]
        who = f"{person['name']} {person['phone']}".strip() if person else ""
        raise FieldError(
            "geometry",
            "not_your_cell",
            f"位置在{where['village']}{where['group']}，不在您负责的网格内"
            + (f"；请联系该组网格员 {who}" if who else ""),
            f"The location lies in {where['village']} {where['group']}, outside your grid cells"
            + (f"; contact its grid member {who}" if who else ""),
        )


def _check_kind_geometry(kind: str, geom) -> None:
    """Refuse a geometry type the kind does not allow (a farmland parcel must be a polygon)."""
    if geom.geom_type not in GEOMETRY_TYPES[kind]:
        raise FieldError(
            "geometry",
            "bad_geometry_type",
            "复耕地块必须是面（多边形）",
            "A farmland parcel must be a polygon",
        )


def _preview(kind: str | None) -> dict:
    """Read the location of a preview request and say where it falls, its area and who is responsible."""
    session = db.session()
    config = current_app.config
    formdata, upload = request.form, request.files.get("geofile")
    if upload is not None and upload.filename and not formdata.get("geometry_pick"):
        features = file_features(
            upload.read(),
            upload.filename,
            max_bytes=config["MAX_CONTENT_LENGTH"],
            **archive_limits(config),
        )
        if len(features) > 1:
            return {"ok": True, "choose": True, "features": features}
        formdata = {"geometry_pick": features[0]["geojson"]}
    found = read_form_geometry(
        formdata,
        None,
        max_vertices=config["MAX_VERTICES"],
        max_file_bytes=config["MAX_CONTENT_LENGTH"],
        **archive_limits(config),
    )
    if found is None:
        raise no_location(None)
    if kind in GEOMETRY_TYPES:
        _check_kind_geometry(kind, found.geom)
    where = _where(session, found.geom)
    _check_reporter(where, current_user)
    area_m2 = geodesic_area_m2(found.geom) if found.geom.geom_type != "Point" else None
    return {
        "ok": True,
        "geometry": json.loads(shapely.to_geojson(found.geom)),
        "text": found.text,
        "crs": found.crs,
        "geom_type": found.geom.geom_type,
        "area_m2": area_m2,
        "area_mu": area_m2 / vocab.M2_PER_MU if area_m2 is not None else None,
        "village": where["village"],
        "group": where["group"],
        "responsible": where["responsible"],
        "similar": _similar(session, kind, found.geom),
    }


def _similar(session, kind: str | None, geom) -> list[dict]:
    """The cases of the kind on the same ground that the reporter may see (possible duplicates)."""
    if kind not in vocab.KINDS:
        return []
    lang = page_lang()
    return [
        {
            "id": case.id,
            "title": case.title,
            "status": vocab.status_label(case.status, case.kind, lang),
            "found_on": case.found_on.isoformat(),
            "url": url_for("cases.detail", case_id=case.id),
            "closed": case.status == "verified",  # may be reported back as 复发 (recurrence_of)
        }
        for case in similar_cases(session, current_user, kind, geom, clock.town_today())
    ]


def _save(form) -> tuple[Case, bool]:
    """Check the whole report, write its photos, then create the case and commit; idempotent by client_id."""
    session = db.session()
    existing = find_by_client_id(session, form.client_id.data)
    if existing is not None and existing.merged_into_id is not None:  # sent again after a 复发
        existing = session.get(Case, existing.merged_into_id)
    if existing is not None:
        return existing, False
    config = current_app.config
    problems: list[DomainError] = []
    if not form.validate():
        problems.append(
            InvalidInput("form_invalid", "请修改标出的项目", "Correct the marked fields")
        )
    geometry = photos = None
    try:
        geometry = read_form_geometry(
            request.form,
            request.files,
            max_vertices=config["MAX_VERTICES"],
            max_file_bytes=config["MAX_CONTENT_LENGTH"],
            **archive_limits(config),
        )
        if geometry is not None:
            form.geometry.data, form.crs.data = geometry.text, geometry.crs
            _check_kind_geometry(form.kind, geometry.geom)
            _check_reporter(_where(session, geometry.geom), current_user)
    except DomainError as exc:
        problems.append(exc)
    try:
        photos = process_posted(request.files.getlist("photos"), config)
    except DomainError as exc:
        photos = None
        problems.append(exc)
    if geometry is None and not any(getattr(p, "field", "") == "geometry" for p in problems):
        suggestion = photo_suggestion(photos or [])
        if suggestion:
            form.geometry.data, form.crs.data = suggestion, "EPSG:4326"
        problems.append(no_location(suggestion))
    if problems:
        raise ReportRefused(problems)
    db.begin_write(session)  # ends the read transaction, then takes the write lock
    try:
        case, created = create_case(
            session,
            form.kind,
            geometry.geom,
            form.ledger_fields(),
            current_user,
            client_id=form.client_id.data,
            found_on=form.found_on.data,
        )
    except DomainError as exc:
        raise ReportRefused([exc]) from exc
    if created:  # files first (atomically), rows after, one commit for all
        attach_photos(session, case, photos, config["PHOTO_DIR"], current_user)
        case_reported.send(
            current_app._get_current_object(), session=session, case=case, form=request.form
        )
        if request.form.get("recurrence_of"):  # "this closed case is back": reopen it instead
            try:
                case = report_as_recurrence(
                    session, case, request.form["recurrence_of"], current_user
                )
            except DomainError as exc:
                raise ReportRefused([exc]) from exc
    session.commit()
    return case, created


class ReportRefused(Exception):
    """A report with one or more problems; the form comes back with them and the values kept."""

    def __init__(self, problems: list[DomainError]):
        super().__init__(problems[0].message_zh)
        self.problems = problems


def _form_page(kind: str, form, *, problems=(), status: int = 200, notice: str | None = None):
    """Render a report form with its values, its problems by field and the map settings."""
    lang = page_lang()
    by_field: dict[str, list[str]] = {}
    features: list[dict] = []
    general = []
    for problem in problems:
        field = getattr(problem, "field", None) or (
            "photos" if isinstance(problem, PhotoError) else None
        )
        features = features or getattr(problem, "features", [])
        if field:
            by_field.setdefault(field, []).append(problem.message(lang))
        else:
            general.append(problem.message(lang))
    html = render_template(
        "cases/new.html",
        kind=kind,
        form=form,
        problems=by_field,
        general=general,
        features=features,
        notice=notice,
        basemap=basemap(),
        bounds=_user_bounds(current_user) if current_user.is_authenticated else None,
        max_body_bytes=current_app.config.get("MAX_CONTENT_LENGTH"),
    )
    if not (problems or notice):
        return form_page(html, status)
    specific = [p for p in problems if p.code != "form_invalid"] or list(problems)
    first = specific[0].message(lang) if specific else notice
    return form_page(html, status, specific[0].code if specific else "csrf", first)


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError):
    """A missing or stale CSRF token: refuse (400) but give the form back with everything entered."""
    message_zh = "表单已过期或缺少安全令牌，未保存任何内容。请核对后重新提交（照片需重新选择）。"
    message_en = "The form had expired or lacked its security token; nothing was saved. Check it and submit again (choose the photos again)."
    message = message_en if page_lang() == "en" else message_zh
    kind = (request.view_args or {}).get("kind")
    if request.endpoint == "cases.new_case" and kind in vocab.KINDS:
        return _form_page(kind, form_for(kind, request.form), status=400, notice=message)
    response = jsonify({"ok": False, "code": "csrf", "message": message})
    response.headers["X-Report-Error"] = "csrf"
    return response, 400


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    """A body over MAX_CONTENT_LENGTH: JSON with the reason for the preview, the 413 page otherwise."""
    if request.endpoint != "cases.preview":
        return render_template("errors/413.html"), 413
    message = gettext("The upload is larger than allowed. Send fewer or smaller files.")
    response = jsonify({"ok": False, "code": "too_large", "message": message})
    response.headers["X-Report-Error"] = "too_large"
    return response, 413


@bp.route("/cases/new/<kind>", methods=["GET", "POST"])
@login_required
def new_case(kind: str):
    """Show the report form of a kind and create the case; a repeated submit finds the first case."""
    if kind not in vocab.KINDS:
        abort(404)
    form = form_for(kind, request.form if request.method == "POST" else None)
    if request.method == "GET":
        return _form_page(kind, form)
    try:
        case, _created = _save(form)
    except ReportRefused as refused:
        db.session.rollback()
        return _form_page(kind, form, problems=refused.problems, status=422)
    return redirect(url_for("cases.detail", case_id=case.id), code=303)


@bp.post("/cases/preview")
@login_required
def preview():
    """Answer where a location falls (村/组), its 网格员 and area, as JSON; 422 with the reason."""
    try:
        return jsonify(_preview(request.form.get("kind")))
    except DomainError as exc:
        return jsonify(
            {
                "ok": False,
                "code": exc.code,
                "message": exc.message(page_lang()),
                "field": getattr(exc, "field", None),
            }
        ), exc.status


@bp.route("/cases/csrf")
@login_required
def fresh_token():
    """A fresh CSRF token, for reports that waited offline longer than a token lives."""
    response = jsonify({"csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response
