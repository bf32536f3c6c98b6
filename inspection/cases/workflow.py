"""The rectification workflow: one short function per transition of the table in permissions.py."""

import json
import math
from datetime import date, datetime

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.area import geodesic_area_m2
from inspection import clock
from inspection.accounts.models import User
from inspection.cases import deadlines
from inspection.cases.access import can_see
from inspection.cases.history import record_change
from inspection.cases.models import Case, Photo, StatusChange
from inspection.cases.permissions import (
    MIN_OFFICERS,
    RIGHTS,
    TRANSITIONS,
    Action,
    allowed_actions,
    check_officers,
    check_right,
    officer_details,
)
from inspection.cases.records import default_responsible, save_case, stale_case
from inspection.db import begin_write
from inspection.errors import Conflict, InvalidInput
from inspection.grid.placement import place
from inspection.params import MAX_INT
from inspection.vocab import status_label

# Pages import the table and the buttons from here, with the functions that carry them out.
__all__ = [
    "TRANSITIONS",
    "Action",
    "allowed_actions",
    "assign",
    "void",
    "start",
    "complete",
    "verify",
    "send_back",
    "perform",
]


def _prepare(session, case, actor, key: str, to_status: str, expected_version) -> None:
    """Start the write; check the actor's right, then the version shown, then the status."""
    begin_write(session)
    check_right(actor, case, key)
    if expected_version is not None and _as_int(expected_version) != case.version:
        raise stale_case()
    rule = TRANSITIONS.get((case.status, to_status))
    if rule is None or rule.key != key:
        zh, en = RIGHTS[key].label(case.kind)
        now_zh, now_en = status_label(case.status, case.kind), status_label(case.status, lang="en")
        raise Conflict(
            "bad_status",
            f"案件当前状态为“{now_zh}”，不能执行“{zh}”，请刷新页面",
            f"The case is now “{now_en}”; “{en}” is not possible. Reload the page",
        )


def _as_int(value) -> int:
    if value is None or str(value).strip() == "":
        raise Conflict(
            "no_version",
            "页面缺少案件版本（页面可能已过期），请刷新页面后重试",
            "The form lacks the case version it was shown (an old page?); reload and try again",
        )
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 <= number <= MAX_INT:  # beyond INTEGER would fail on PostgreSQL
        raise InvalidInput("bad_number", f"不是有效的编号：{value}", f"Not a valid number: {value}")
    return number


def _record(session, case, to_status, actor, *, note, on, details) -> StatusChange:
    change = record_change(
        session, case, to_status, actor, note=note, on=on, details=details or None
    )
    save_case(session)
    return change


def _text(value, required: tuple[str, str, str] | None = None, limit: int = 2000) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(*required)
    if len(text) > limit:
        raise InvalidInput("text_too_long", f"说明不能超过{limit}字", f"At most {limit} characters")
    return text


def _today(today: date | None) -> date:
    return today or clock.town_today()


def _responsible(session: Session, case: Case, ref) -> User:
    person = default_responsible(session, case.group_id) if ref is None else ref
    if person is not None and not isinstance(person, User):
        person = session.get(User, _as_int(person))
    if person is None:
        raise InvalidInput(
            "responsible_required",
            "该组没有网格员，请指定责任人",
            "The group has no grid member; name a responsible person",
        )
    if not person.is_active or not can_see(person, case):
        name = person.display_name
        raise InvalidInput(
            "responsible_cannot_see",
            f"{name}不能查看该案件所在网格，不能作为责任人",
            f"{name} cannot see this case's grid cell and cannot be responsible for it",
        )
    return person


def _officers(session: Session, case: Case, refs, day: date) -> dict:
    minimum = MIN_OFFICERS if case.kind == "illegal_building" else 0
    if not refs and not minimum:
        return {}
    return {"officers": officer_details(check_officers(session, refs or (), day, minimum=minimum))}


def _after_photos(session: Session, case: Case, ids) -> list[Photo]:
    ids = list(dict.fromkeys(_as_int(i) for i in ids or ()))
    if not ids:
        raise InvalidInput(
            "photos_required",
            "须上传至少一张整改后照片",
            "At least one photo after the work is needed",
        )
    found = {p.id: p for p in session.scalars(select(Photo).where(Photo.id.in_(ids)))}
    bad = [
        i for i in ids if i not in found or found[i].case_id != case.id or found[i].stage != "after"
    ]
    used = [i for i in ids if i not in bad and found[i].status_change_id is not None]
    if bad or used:
        names = "、".join(f"#{i}" for i in bad or used)
        zh = "照片不是本案件的整改后照片" if bad else "照片已用于之前的整改记录"
        en = (
            "Not an after-work photo of this case"
            if bad
            else "Photo already used by an earlier record"
        )
        raise InvalidInput("bad_photos", f"{zh}：{names}", f"{en}: {names}")
    return [found[i] for i in ids]


def _demolished_area(case: Case, area_m2, reason) -> dict:
    """Set the demolished area (m²): the footprint's by default; another figure needs a reason."""
    footprint_m2, reason = case.area_m2, _text(reason)
    if area_m2 is None:
        area_m2 = footprint_m2
    try:
        area_m2 = float(area_m2) if area_m2 is not None else None
    except (TypeError, ValueError):
        area_m2 = math.nan
    if area_m2 is None or not math.isfinite(area_m2) or area_m2 <= 0:
        raise InvalidInput(
            "bad_demolished_area",
            "请填写拆除面积（㎡，大于0）",
            "Give the demolished area (m², above 0)",
        )
    changed = footprint_m2 is None or not math.isclose(area_m2, footprint_m2, abs_tol=0.005)
    if changed and not reason:
        shown = f"{footprint_m2:.2f}" if footprint_m2 is not None else "—"
        raise InvalidInput(
            "area_reason_required",
            f"拆除面积与占地面积（{shown}㎡）不同，请说明原因",
            f"The demolished area differs from the footprint ({shown} m²); give the reason",
        )
    if not changed:  # the form shows the footprint rounded; keep the unrounded figure
        area_m2 = footprint_m2
    case.demolished_area_m2 = area_m2
    return {
        "demolished_area_m2": area_m2,
        "footprint_area_m2": footprint_m2,
        "area_reason": reason or None,
    }


def _redraw(session: Session, case: Case, geom) -> dict:
    """Replace a farmland parcel (lon/lat, EPSG:4326) and its geodesic area; return the old ones."""
    if case.kind != "farmland":
        raise InvalidInput(
            "redraw_farmland_only",
            "只有复耕地块可以重新勾绘",
            "Only a farmland parcel can be redrawn",
        )
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty or not geom.is_valid:
        raise InvalidInput(
            "bad_accepted_geometry",
            "验收图斑须为有效的面",
            "The accepted parcel must be a valid polygon",
        )
    if place(session, geom).outside:
        raise InvalidInput(
            "accepted_outside_grid",
            "验收图斑不在本镇任何网格（组）内，请检查位置",
            "The accepted parcel lies outside every grid group of the town",
        )
    old = {"old_geometry": json.loads(shapely.to_geojson(case.geom)), "old_area_m2": case.area_m2}
    case.set_geometry(geom, geodesic_area_m2(geom))
    return old | {"new_area_m2": case.area_m2}


def assign(
    session,
    case,
    actor,
    *,
    responsible=None,
    deadline_on=None,
    note="",
    expected_version=None,
    today=None,
) -> StatusChange:
    """核实交办: confirm a report; set the responsible person (default: the 网格员) and deadline."""
    today = _today(today)
    _prepare(session, case, actor, "assign", "assigned", expected_version)
    person = _responsible(session, case, responsible)
    deadline, origin, days = deadlines.assignment_deadline(session, case, deadline_on, today)
    case.responsible, case.deadline_on = person, deadline
    details = {
        "responsible": {"id": person.id, "name": person.display_name},
        "deadline_on": deadline.isoformat(),
        "deadline_origin": origin,
        "deadline_days": days,
    }
    return _record(session, case, "assigned", actor, note=_text(note), on=today, details=details)


def void(session, case, actor, *, note, expected_version=None, today=None) -> StatusChange:
    """不属实: close a report that the check found untrue, with the reason."""
    today = _today(today)
    _prepare(session, case, actor, "void", "void", expected_version)
    note = _text(note, ("note_required", "请说明不属实的理由", "Say why the report is untrue"))
    return _record(session, case, "void", actor, note=note, on=today, details=None)


def _acted_on(case: Case, acted_on, today: date) -> date:
    """The day the work was done: today, or an earlier day given, not before the last step."""
    if acted_on is None:
        return today
    if not isinstance(acted_on, date) or isinstance(acted_on, datetime):
        raise InvalidInput(
            "bad_acted_on", "实际日期不是有效日期", "The day it happened is not a date"
        )
    if acted_on > today:
        raise InvalidInput(
            "acted_on_future",
            f"实际日期（{acted_on}）不能晚于今天（{today}）",
            f"The day it happened ({acted_on}) cannot be after today ({today})",
        )
    last = case.history[-1].on if case.history else case.found_on
    if acted_on < last:
        raise InvalidInput(
            "acted_on_before_last_step",
            f"实际日期（{acted_on}）不能早于上一步的日期（{last}）",
            f"The day it happened ({acted_on}) cannot be before the last step ({last})",
        )
    return acted_on


def start(
    session,
    case,
    actor,
    *,
    note="",
    officers=(),
    acted_on=None,
    expected_version=None,
    today=None,
) -> StatusChange:
    """开始整改/拆除/复耕: work under way; a demolition needs two officers certified that day."""
    today = _today(today)
    _prepare(session, case, actor, "start", "in_progress", expected_version)
    day = _acted_on(case, acted_on, today)
    details = _officers(session, case, officers, day)
    return _record(session, case, "in_progress", actor, note=_text(note), on=day, details=details)


def complete(
    session,
    case,
    actor,
    *,
    note,
    after_photo_ids,
    officers=(),
    demolished_area_m2=None,
    area_reason=None,
    accepted_geometry=None,
    acted_on=None,
    expected_version=None,
    today=None,
) -> StatusChange:
    """整改/拆除/复耕完成: needs a note and after photos; demolitions two officers and the area (m²).

    acted_on: the day the work was finished when it is recorded later (default today); the
    officers' certificates must be valid on it, and the year figures count it.
    """
    today = _today(today)
    _prepare(session, case, actor, "complete", "done", expected_version)
    day = _acted_on(case, acted_on, today)
    note = _text(note, ("note_required", "请填写整改情况说明", "Describe the work done"))
    photos = _after_photos(session, case, after_photo_ids)
    details = {"photos": [p.id for p in photos]} | _officers(session, case, officers, day)
    if case.kind == "illegal_building":
        details |= _demolished_area(case, demolished_area_m2, area_reason)
    elif demolished_area_m2 is not None:
        raise InvalidInput(
            "not_a_building",
            "只有违法建筑记录拆除面积",
            "Only illegal buildings have a demolished area",
        )
    if accepted_geometry is not None:
        details |= _redraw(session, case, accepted_geometry)
    change = _record(session, case, "done", actor, note=note, on=day, details=details)
    for photo in photos:
        photo.status_change_id = change.id
    save_case(session)
    return change


def verify(
    session, case, actor, *, note="", accepted_geometry=None, expected_version=None, today=None
) -> StatusChange:
    """销号/验收: the town accepts the work; farmland may be redrawn (old shape kept in history)."""
    today = _today(today)
    _prepare(session, case, actor, "verify", "verified", expected_version)
    details = _redraw(session, case, accepted_geometry) if accepted_geometry is not None else None
    return _record(session, case, "verified", actor, note=_text(note), on=today, details=details)


def send_back(session, case, actor, *, reason, expected_version=None, today=None) -> StatusChange:
    """退回 (复核未通过): the check failed; back to work with the reason."""
    today = _today(today)
    _prepare(session, case, actor, "send_back", "in_progress", expected_version)
    reason = _text(
        reason, ("reason_required", "请填写退回原因", "Give the reason for sending it back")
    )
    details = {"reason": reason, "done_on": case.done_on.isoformat() if case.done_on else None}
    if case.demolished_area_m2 is not None:  # counts again only when demolition is reported anew
        details["demolished_area_m2"], case.demolished_area_m2 = case.demolished_area_m2, None
    return _record(session, case, "in_progress", actor, note=reason, on=today, details=details)


FUNCTIONS = {
    "assign": assign,
    "void": void,
    "start": start,
    "complete": complete,
    "verify": verify,
    "send_back": send_back,
}


def perform(session: Session, case: Case, actor: User, key: str, **inputs) -> StatusChange:
    """Take the action named by an Action.key (what a form posts) with the form's inputs."""
    if key not in FUNCTIONS:
        raise InvalidInput("bad_action", f"未知的操作：{key}", f"Unknown action: {key}")
    return FUNCTIONS[key](session, case, actor, **inputs)
