"""Record a 回头看: on site (GPS fix or a stated reason), photos of the day; 复发 reopens the case.

The rules of presence are the 举证's (tuban.evidence): a fix of 20 m or better within 50 m of the
case's geometry, else a reason shown on the case; at least one photo taken that day. The photos
join the case's photos (stage `recheck`, or `before` when the problem is back). A resent form
(same client id) is stored once.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from geodata.nearby import distance_to_m
from inspection.accounts.models import User
from inspection.cases.access import can_see
from inspection.cases.photos import ProcessedPhoto, attach_photos
from inspection.cases.recurrence import reopen_as_recurrence
from inspection.db import begin_write
from inspection.errors import Conflict, InvalidInput, NotAllowed
from inspection.rechecks.models import Recheck
from inspection.tuban.evidence import Fix, fix_problem, photo_day_problem

OUTCOMES = {
    "clear": ("未复发（保持整改成果）", "Not back (the work holds)"),
    "recurred": ("复发（问题重现）", "Back again (复发)"),
}
MANAGERS = frozenset({"supervisor", "admin"})  # the county reads re-checks and records none


@dataclass(frozen=True)
class RecheckReport:
    """What the 回头看 form sends."""

    outcome: str
    photos: list[ProcessedPhoto]
    fix: Fix | None = None
    override_reason: str = ""
    note: str = ""
    client_id: str | None = None


def may_record(user: User, recheck: Recheck) -> bool:
    """True if the user may record this re-check: its 网格员, or a manager who sees the case."""
    if not user.is_active or not can_see(user, recheck.case):
        return False
    return recheck.assignee_id == user.id or user.role in MANAGERS


def _check(recheck: Recheck, report: RecheckReport, today: date) -> None:
    if report.outcome not in OUTCOMES:
        raise InvalidInput("recheck_outcome", "请选择回头看结论", "Choose the outcome")
    if report.outcome == "recurred" and not report.note.strip():
        raise InvalidInput("recheck_note", "复发时请说明发现的情况", "Describe what was found back")
    problem = fix_problem(recheck.case.geom, report.fix, ("案件位置", "the case"))
    if problem and not report.override_reason.strip():
        raise InvalidInput("recheck_fix", *problem)
    problem = photo_day_problem(report.photos, today)
    if problem:
        raise InvalidInput("recheck_photos", *problem)


def record_recheck(
    session: Session,
    recheck: Recheck,
    actor: User,
    report: RecheckReport,
    *,
    photo_dir,
    today: date,
) -> Recheck:
    """Store a re-check's result (files first, then rows); 复发 reopens the case. Caller commits."""
    begin_write(session)
    session.refresh(recheck, with_for_update=True)  # one writer at a time on PostgreSQL
    if report.client_id and recheck.client_id == report.client_id:
        return recheck  # the same form sent again (a retry on a poor connection)
    if not may_record(actor, recheck):
        raise NotAllowed("recheck_not_yours", "这不是您的回头看任务", "This re-check is not yours")
    if recheck.status != "open":
        raise Conflict("recheck_done", "该回头看已完成", "This re-check is done already")
    _check(recheck, report, today)
    case = recheck.case
    if report.outcome == "recurred" and case.status != "verified":
        raise Conflict(
            "recheck_case_open",
            f"案件 #{case.id} 已重新办理，无需再作复发",
            f"Case #{case.id} is open again already",
        )
    recheck.status, recheck.checked_on, recheck.checked_by = report.outcome, today, actor
    recheck.note = report.note.strip()[:2000] or None
    recheck.override_reason = report.override_reason.strip()[:500] or None
    recheck.client_id = report.client_id
    if report.fix is not None:
        recheck.fix_lon, recheck.fix_lat = report.fix.lon, report.fix.lat
        recheck.fix_accuracy_m = report.fix.accuracy_m
        recheck.fix_distance_m = distance_to_m(report.fix.lon, report.fix.lat, case.geom)
    known = {p.sha256 for p in case.photos}
    fresh = [p for p in {p.sha256: p for p in report.photos}.values() if p.sha256 not in known]
    stage = "before" if report.outcome == "recurred" else "recheck"
    attach_photos(session, case, fresh, photo_dir, actor, stage=stage)
    if report.outcome == "recurred":
        via = "tuban" if recheck.origin == "tuban" else "recheck"
        ref = {"recheck": recheck.id, **({"tuban": recheck.tuban_id} if recheck.tuban_id else {})}
        reopen_as_recurrence(session, case, actor, via=via, note=report.note, ref=ref, today=today)
    session.flush()
    return recheck
