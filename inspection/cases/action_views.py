"""Workflow actions on the case page: one thin POST per action key over workflow.perform."""

import json
from datetime import date

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
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from geodata.crs import WGS84
from inspection import clock, db
from inspection.accounts.models import User
from inspection.cases import workflow
from inspection.cases.access import can_see, case_or_404
from inspection.cases.case_map import case_map
from inspection.cases.deadlines import deadline_light, is_overdue
from inspection.cases.extension import extend_deadline, may_extend
from inspection.cases.forms import read_geometry
from inspection.cases.merging import MERGERS, merge_cases, merged_cases
from inspection.cases.models import Case, Photo
from inspection.cases.permissions import INPUTS, RIGHTS, Action, officer_choices
from inspection.cases.photos import attach_photos, process_posted
from inspection.cases.records import default_responsible, may_edit
from inspection.cases.recurrence import is_recurrence
from inspection.cases.relocation import may_move
from inspection.errors import DomainError, InvalidInput, NotAllowed
from inspection.map_context import basemap
from inspection.params import form_number

bp = Blueprint("actions", __name__)
# Form fields of the plain-text inputs: `needs` name -> (form field, perform keyword).
TEXT_INPUTS = {
    "note": ("note", "note"),
    "reason": ("reason", "reason"),
    "responsible": ("responsible", "responsible"),
    "demolished_area": ("demolished_area_m2", "demolished_area_m2"),
    "area_reason": ("area_reason", "area_reason"),
}


def _lang() -> str:
    return getattr(g, "lang", "zh")


def member_choices(session, case: Case) -> list[User]:
    """Active grid members who can see the case: the people it can be assigned to."""
    members = session.scalars(
        select(User)
        .where(User.role == "grid_member", User.active.is_(True))
        .order_by(User.id)
        .options(selectinload(User.cells))  # one query for everyone's cells, not one per person
    )
    return [u for u in members if can_see(u, case)]


def redraw_summary(case: Case) -> dict | None:
    """The reported and the current (redrawn) parcel of a farmland case; None if never redrawn.

    Areas are geodesic m²; the reported geometry is GeoJSON lon/lat (EPSG:4326) from the history.
    """
    steps = [c for c in case.history if c.details and "old_area_m2" in c.details]
    if not steps:
        return None
    return {
        "reported_area_m2": steps[0].details["old_area_m2"],
        "reported_geometry": steps[0].details.get("old_geometry"),
        "area_m2": case.area_m2,
        "accepted": steps[-1].to_status == "verified",
    }


def page_context(case: Case, *, day: date | None = None) -> dict:
    """What the case page needs beyond the case: actions, light, overdue days, choices, timeline, map."""
    session = db.session()
    day = day or clock.town_today()
    actions = workflow.allowed_actions(case, current_user, day)
    needs = {n for a in actions for n in a.needs}
    by_step: dict[int | None, list[Photo]] = {}
    for photo in case.photos:
        by_step.setdefault(photo.status_change_id, []).append(photo)
    last_done = next((c for c in reversed(case.history) if c.to_status == "done"), None)
    default = case.responsible or default_responsible(session, case.group_id)
    redraw = redraw_summary(case)
    return {
        "today": day,
        "actions": actions,
        "input_labels": {k: v[1] if _lang() == "en" else v[0] for k, v in INPUTS.items()},
        "light": deadline_light(case, day),
        "overdue_days": (day - case.deadline_on).days if is_overdue(case, day) else 0,
        "officers": officer_choices(session, day) if "officers" in needs else [],
        "members": member_choices(session, case) if "responsible" in needs else [],
        "default_responsible_id": default.id if default else None,
        "step_photos": by_step,
        "before_photos": [p for p in case.photos if p.stage == "before"],
        "after_photos": by_step.get(last_done.id, []) if last_done else [],
        "show_compare": case.status in ("done", "verified") and last_done is not None,
        "redraw": redraw,
        "case_map": case_map(case, redraw["reported_geometry"] if redraw else None),
        "redraw_offered": any("geometry" in a.needs and not a.blocked_zh for a in actions),
        "local_time": clock.local_time,
        "editable": may_edit(current_user, case),
        "extendable": may_extend(current_user, case),
        "movable": may_move(current_user, case),
        "mergeable": current_user.role in MERGERS and case.merged_into_id is None,
        "merged_from": merged_cases(session, case),
        "recurrences": sum(is_recurrence(c) for c in case.history),
    }


def accepted_geometry(form):
    """The redrawn parcel a form posts (drawn, WKT or GeoJSON; WGS-84 or GCJ-02) as lon/lat; None if none.

    Read with the report form's parser, so the same text is refused with the same message.
    """
    text = (form.get("accepted_geometry") or "").strip()
    if not text:
        return None
    config = current_app.config
    found = read_geometry(
        {"geometry": text, "crs": form.get("accepted_crs") or WGS84},
        None,
        max_vertices=config["MAX_VERTICES"],
        max_file_bytes=config["MAX_CONTENT_LENGTH"],
    )
    return found.geom


def _inputs(case: Case, key: str, day: date, action: Action | None) -> dict:
    """The perform keywords of the posted form: only the inputs the action asks for."""
    form = request.form
    # A form without the version it was shown must not slip past the concurrent-change check.
    inputs = {"expected_version": form.get("expected_version", ""), "today": day}
    rule = RIGHTS.get(key)
    needs = rule.inputs(case.kind) if rule else ()
    for name in needs:
        if name in TEXT_INPUTS:
            field, keyword = TEXT_INPUTS[name]
            value = form.get(field, "").strip()
            if value or name in ("note", "reason", "area_reason"):
                inputs[keyword] = value
        elif name == "deadline":
            inputs["deadline_on"] = _date(form.get("deadline_on", ""))
        elif name == "acted_on":
            inputs["acted_on"] = _date(form.get("acted_on", ""), "实际日期", "day it happened")
        elif name == "officers":
            inputs["officers"] = [v for v in form.getlist("officers") if v.strip()]
        elif name == "geometry" and action is not None:  # parsed only for those who may act
            geom = accepted_geometry(form)
            if geom is not None:
                inputs["accepted_geometry"] = geom
    return inputs


def _date(text: str, name_zh: str = "整改期限", name_en: str = "deadline") -> date | None:
    """A posted ISO date, None when empty; anything else is refused, naming the field."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        code = "bad_deadline" if name_en == "deadline" else "bad_date"
        raise InvalidInput(
            code, f"{name_zh}不是有效日期：{text}", f"Not a valid {name_en}: {text}"
        ) from None


def store_after_photos(session, case: Case) -> list[int]:
    """Check and store the uploaded after-work photos (stage "after"); return their new ids."""
    config = current_app.config
    photos = process_posted(request.files.getlist("after_photos"), config)
    known = {p.sha256 for p in case.photos}
    if any(p.sha256 in known for p in photos):
        raise InvalidInput(
            "photo_already_on_case",
            "该照片已在本案件中上传过，请上传整改后的现场照片",
            "This photo is already on the case; upload a photo taken after the work",
        )
    rows = attach_photos(session, case, photos, config["PHOTO_DIR"], current_user, stage="after")
    session.flush()
    return [row.id for row in rows]


def _refused(case_id: int, key: str, exc: DomainError):
    """Roll back and show the case page again with the reason (404 if the user can't see it)."""

    session = db.session()
    session.rollback()
    if isinstance(exc, NotAllowed) and exc.code == "not_visible":
        abort(404)
    case = case_or_404(session, case_id, current_user)
    html = render_template(
        "cases/detail.html",
        case=case,
        geometry=json.loads(shapely.to_geojson(case.geom)),
        basemap=basemap(),
        action_error=exc.message(_lang()),
        failed_action=key,
        entered=request.form,
        **page_context(case),
    )
    response = current_app.make_response((html, exc.status))
    response.headers["X-Action-Error"] = exc.code
    return response


@bp.post("/cases/<int:case_id>/actions/<key>")
@login_required
def act(case_id: int, key: str):
    """Take one workflow action on a case from its page's form; 303 back to the case page."""
    session = db.session()
    db.begin_write(session)  # ends the read the login started: the write lock comes before the case
    case = case_or_404(session, case_id, current_user)
    try:
        day = clock.town_today()
        allowed = {a.key: a for a in workflow.allowed_actions(case, current_user, day)}
        inputs = _inputs(case, key, day, allowed.get(key))
        if key in allowed and "photos" in allowed[key].needs:
            inputs["after_photo_ids"] = store_after_photos(session, case)
        workflow.perform(session, case, current_user, key, **inputs)
        label = allowed[key].label(_lang()) if key in allowed else key
        session.commit()
    except DomainError as exc:
        return _refused(case_id, key, exc)
    flash(_("Done: %(action)s", action=label), "success")
    return redirect(url_for("cases.detail", case_id=case_id), code=303)


@bp.post("/cases/<int:case_id>/extend")
@login_required
def extend(case_id: int):
    """延期: move the case's deadline later with a reason (supervisor, county, admin); 303 back."""
    session = db.session()
    db.begin_write(session)
    case = case_or_404(session, case_id, current_user)
    try:
        form = request.form
        extend_deadline(
            session,
            case,
            current_user,
            deadline_on=_date(form.get("deadline_on", ""), "新的整改期限", "new deadline"),
            reason=form.get("reason", ""),
            expected_version=form.get("expected_version", ""),
            today=clock.town_today(),
        )
        session.commit()
    except DomainError as exc:
        return _refused(case_id, "extend", exc)
    flash(_("Deadline extended."), "success")
    return redirect(url_for("cases.detail", case_id=case_id), code=303)


@bp.post("/cases/<int:case_id>/merge")
@login_required
def merge(case_id: int):
    """合并: a duplicate (its number in the form) becomes part of this case (supervisors); 303 back."""
    session = db.session()
    db.begin_write(session)
    case = case_or_404(session, case_id, current_user)
    try:
        number = form_number(request.form.get("duplicate_id"))
        if number is None:
            raise InvalidInput(
                "merge_number", "请填写重复案件的编号", "Give the duplicate case's number"
            )
        merge_cases(
            session,
            case,
            number,
            current_user,
            reason=request.form.get("reason", ""),
            expected_version=request.form.get("expected_version", ""),
        )
        session.commit()
    except DomainError as exc:
        return _refused(case_id, "merge", exc)
    flash(_("Case #%(number)s merged into this one.", number=number), "success")
    return redirect(url_for("cases.detail", case_id=case_id), code=303)
