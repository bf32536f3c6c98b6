"""举证 and 销号 of a 图斑 task: the field check with its GPS fix and photos, then the review.

The check needs a GPS fix with accuracy ≤ 20 m within 50 m (geodesic) of the polygon, or an
explicit override with a reason that the reviewer sees; and at least one photo taken that day: a
photo whose EXIF time is of another day is refused, one without EXIF time (a browser camera
capture carries none) counts as taken now. A resent form (same client id) is stored once.
Conclusions: 合法 (with the approval number), 违法 (creates the illegal-building or farmland case
from the polygon, linked to the 图斑, source 上级交办, in the normal workflow; or reopens as 复发 the
closed case of that kind on the same ground), 已整改/已拆除, 伪变化.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from geodata.nearby import distance_to_m
from inspection.accounts.models import User
from inspection.cases.duplicates import similar_cases
from inspection.cases.photos import ProcessedPhoto, photo_columns, process_posted, store_files
from inspection.cases.records import create_case
from inspection.cases.recurrence import reopen_as_recurrence
from inspection.db import begin_write
from inspection.errors import Conflict, InvalidInput, NotAllowed
from inspection.tuban.access import can_manage
from inspection.tuban.models import Tuban, TubanPhoto

CONCLUSIONS = {
    "legal": ("合法", "Legal"),
    "illegal": ("违法", "Illegal"),
    "rectified": ("已整改/已拆除", "Rectified or demolished already"),
    "false_change": ("伪变化", "No real change"),
}
# The kinds of case a 违法 conclusion may create.
CASE_KINDS = ("illegal_building", "farmland")
MAX_ACCURACY_M = 20.0
MAX_DISTANCE_M = 50.0


@dataclass(frozen=True)
class Fix:
    """The phone's GPS fix: lon/lat degrees (EPSG:4326) and its accuracy radius in metres."""

    lon: float
    lat: float
    accuracy_m: float


@dataclass(frozen=True)
class Evidence:
    """What the 举证 form sends."""

    conclusion: str
    photos: list[ProcessedPhoto]
    fix: Fix | None = None
    override_reason: str = ""
    approval_no: str = ""
    note: str = ""
    case_kind: str = "illegal_building"
    client_id: str | None = None


def parse_fix(form) -> Fix | None:
    """The GPS fix a page's script put in a form (fix_lon, fix_lat, fix_accuracy), or None."""
    try:
        lon, lat, accuracy = (float(form[k]) for k in ("fix_lon", "fix_lat", "fix_accuracy"))
    except (KeyError, ValueError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90 and 0 <= accuracy < 1e6):
        return None
    return Fix(lon, lat, accuracy)


def posted_on_site(form, files, config) -> dict:
    """The fields every on-site form posts (举证, 回头看): checked photos, GPS fix, reason, note, client id."""
    return {
        "photos": process_posted(files.getlist("photos"), config),
        "fix": parse_fix(form),
        "override_reason": form.get("override_reason", ""),
        "note": form.get("note", ""),
        "client_id": (form.get("client_id") or "")[:64] or None,
    }


def fix_problem(
    geom, fix: Fix | None, what: tuple[str, str] = ("图斑", "the 图斑")
) -> tuple[str, str] | None:
    """Why a fix does not prove presence at `geom` (lon/lat EPSG:4326; geodesic m), or None."""
    if fix is None:
        return (
            "没有定位：请打开定位后重试，或填写未能定位的原因",
            "No GPS fix: allow location, or give the reason",
        )
    if not fix.accuracy_m <= MAX_ACCURACY_M:
        return (
            f"定位精度 {fix.accuracy_m:.0f} 米，需在 {MAX_ACCURACY_M:.0f} 米以内：请到开阔处稍候再试，或填写原因",
            f"The fix is accurate to {fix.accuracy_m:.0f} m; {MAX_ACCURACY_M:.0f} m or better is needed",
        )
    distance_m = distance_to_m(fix.lon, fix.lat, geom)
    if distance_m > MAX_DISTANCE_M:
        return (
            f"当前位置距{what[0]} {distance_m:.0f} 米，需在 {MAX_DISTANCE_M:.0f} 米以内：请到现场举证，或填写原因",
            f"You are {distance_m:.0f} m from {what[1]}; within {MAX_DISTANCE_M:.0f} m is needed",
        )
    return None


def photo_day_problem(photos: list[ProcessedPhoto], today: date) -> tuple[str, str] | None:
    """Why the photos do not prove a visit today (none, or every EXIF time of another day), or None."""
    if not photos:
        return ("请至少拍一张现场照片", "Take at least one photo on site")
    other_day = [p for p in photos if p.taken_at is not None and p.taken_at.date() != today]
    if len(other_day) < len(photos):
        return None
    taken = "、".join(sorted({p.taken_at.date().isoformat() for p in other_day}))
    return (
        f"照片拍摄于 {taken}，须有当天（{today.isoformat()}）拍摄的现场照片",
        f"The photos were taken on {taken}; at least one must be taken today ({today.isoformat()})",
    )


def _check(tuban: Tuban, evidence: Evidence, today: date) -> None:
    """Refuse evidence that is incomplete: conclusion, approval number, fix or override, photos."""
    if evidence.conclusion not in CONCLUSIONS:
        raise InvalidInput("tuban_conclusion", "请选择核查结论", "Choose a conclusion")
    if evidence.conclusion == "legal" and not evidence.approval_no.strip():
        raise InvalidInput(
            "tuban_approval_no",
            "结论为合法时须填写批准文号",
            "A legal change needs its approval number",
        )
    if evidence.conclusion == "illegal" and evidence.case_kind not in CASE_KINDS:
        raise InvalidInput(
            "tuban_case_kind", "请选择违法类型（违法建筑或耕地）", "Choose the kind of case"
        )
    problem = fix_problem(tuban.geom, evidence.fix)
    if problem and not evidence.override_reason.strip():
        raise InvalidInput("tuban_fix", *problem)
    problem = photo_day_problem(evidence.photos, today)
    if problem:
        code = "tuban_photos" if not evidence.photos else "tuban_photo_day"
        raise InvalidInput(code, *problem)


def submit_evidence(
    session: Session, tuban: Tuban, actor: User, evidence: Evidence, *, photo_dir, today: date
) -> Tuban:
    """Store a task's 举证 (files first, then rows) for review; the caller commits.

    Raises InvalidInput for incomplete evidence, NotAllowed for someone else's task, Conflict when
    the task is not waiting for evidence (a resend of the same form returns the stored one).
    """
    begin_write(session)
    session.refresh(tuban, with_for_update=True)  # one writer at a time on PostgreSQL
    if evidence.client_id and tuban.evidence_client_id == evidence.client_id:
        return tuban  # the same form sent again (a retry on a poor connection)
    if tuban.assignee_id != actor.id and not can_manage(actor, tuban):
        raise NotAllowed(
            "tuban_not_yours", "这不是您的核查任务", "This check is not assigned to you"
        )
    if tuban.outcome != "task" or tuban.review not in ("open", "returned"):
        raise Conflict(
            "tuban_not_open", "该图斑已举证，正在审核或已销号", "This 图斑 has evidence already"
        )
    _check(tuban, evidence, today)
    tuban.conclusion = evidence.conclusion
    tuban.approval_no = evidence.approval_no.strip() or None
    tuban.evidence_note = evidence.note.strip() or None
    tuban.override_reason = evidence.override_reason.strip() or None
    if evidence.fix is not None:
        tuban.fix_lon, tuban.fix_lat = evidence.fix.lon, evidence.fix.lat
        tuban.fix_accuracy_m = evidence.fix.accuracy_m
        tuban.fix_distance_m = distance_to_m(evidence.fix.lon, evidence.fix.lat, tuban.geom)
    tuban.checked_by, tuban.checked_on = actor, today
    tuban.evidence_client_id = evidence.client_id
    tuban.review, tuban.review_note = "submitted", None
    known = {p.sha256 for p in tuban.photos}
    for photo in evidence.photos:
        if photo.sha256 in known:
            continue
        store_files(photo_dir, photo)
        tuban.photos.append(TubanPhoto(**photo_columns(photo, actor)))
    if evidence.conclusion == "illegal" and not tuban.cases:
        _illegal_case(session, tuban, actor, evidence.case_kind, today)
    session.flush()
    return tuban


def _illegal_case(session: Session, tuban: Tuban, actor: User, kind: str, today: date) -> None:
    """The case a 违法 conclusion opens: the 图斑's polygon, 上级交办 in its batch, linked.

    A closed (verified) case of the kind on the same ground is the problem back: it is reopened as
    复发 (cases.recurrence) and linked instead, never a second case of that ground.
    """
    closed = [
        c for c in similar_cases(session, actor, kind, tuban.geom, today) if c.status == "verified"
    ]
    if closed:
        note = f"卫片图斑 {tuban.number}（{tuban.batch.name}）核查认定违法"
        reopen_as_recurrence(
            session, closed[0], actor, via="tuban", note=note, ref={"tuban": tuban.id}, today=today
        )
        tuban.cases.append(closed[0])
        return
    fields = {
        "title": f"卫片图斑 {tuban.number}",
        "source": "superior",
        "batch": tuban.batch.name,
        "doc_number": tuban.number,
        "description": f"卫片图斑核查（{tuban.batch.name}）认定违法",
        "deadline_on": tuban.batch.deadline_on,
    }
    case, _ = create_case(
        session,
        kind,
        tuban.geom,
        fields,
        actor,
        client_id=f"tuban:{tuban.id}",
        found_on=today,
    )
    tuban.cases.append(case)


def review_evidence(
    session: Session, tuban: Tuban, actor: User, *, accept: bool, note: str, today: date
) -> Tuban:
    """Accept (销号: the 图斑 is closed) or send back a task's 举证 with the reason; caller commits."""
    begin_write(session)
    session.refresh(tuban, with_for_update=True)  # one writer at a time on PostgreSQL
    if not can_manage(actor, tuban):
        raise NotAllowed(
            "tuban_review_role", "只有镇领导或县级人员可以审核举证", "Only supervisors may review"
        )
    if tuban.review != "submitted":
        raise Conflict(
            "tuban_not_submitted", "该图斑没有待审核的举证", "This 图斑 has no evidence to review"
        )
    if not accept and not note.strip():
        raise InvalidInput(
            "tuban_return_reason", "退回时请填写原因", "Give the reason for sending it back"
        )
    tuban.review = "accepted" if accept else "returned"
    tuban.review_note = note.strip() or None
    tuban.reviewed_by, tuban.reviewed_on = actor, today
    session.flush()
    return tuban
