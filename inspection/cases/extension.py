"""延期: a supervisor (or the county, or an admin) moves an open case's deadline later, with a reason.

The extension is a history row like the workflow's actions (status unchanged, from = to), whose
details carry {"action": "extend_deadline", "deadline_before", "deadline_on", "reason"}; the monthly
通报's 延期率 counts these rows. The same version check as the workflow makes a double submit or a
concurrent change lose with a clear message instead of extending twice.
"""

from datetime import date, timedelta

from sqlalchemy.orm import Session

from inspection import clock
from inspection.accounts.models import User
from inspection.cases.deadlines import MAX_DAYS
from inspection.cases.history import OPEN_STATUSES, record_change
from inspection.cases.models import Case, StatusChange
from inspection.cases.permissions import require_visible
from inspection.cases.records import save_case, stale_case
from inspection.db import begin_write
from inspection.errors import Conflict, InvalidInput, NotAllowed

EXTEND = "extend_deadline"  # the `action` of an extension row's details
EXTENDERS = frozenset({"supervisor", "county", "admin"})
REASON_LIMIT = 2000


def is_extension(change: StatusChange) -> bool:
    """True if a history row is a deadline extension (not a status change)."""
    return bool(change.details) and change.details.get("action") == EXTEND


def may_extend(user: User | None, case: Case) -> bool:
    """True if the user may extend this case's deadline now (open, with a deadline, his role)."""
    return (
        user is not None
        and getattr(user, "is_active", False)
        and getattr(user, "role", None) in EXTENDERS
        and case.status in OPEN_STATUSES
        and case.deadline_on is not None
    )


def _version(value) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise Conflict(
            "no_version",
            "页面缺少案件版本（页面可能已过期），请刷新页面后重试",
            "The form lacks the case version it was shown (an old page?); reload and try again",
        ) from None


def extend_deadline(
    session: Session,
    case: Case,
    actor: User,
    *,
    deadline_on,
    reason,
    expected_version=None,
    today: date | None = None,
) -> StatusChange:
    """延期: move an open case's deadline to a later day (within MAX_DAYS of today), with a reason."""
    today = today or clock.town_today()
    begin_write(session)
    require_visible(actor, case)
    if actor.role not in EXTENDERS:
        raise NotAllowed("not_permitted", "您无权执行“延期”", "You may not extend the deadline")
    if expected_version is not None and _version(expected_version) != case.version:
        raise stale_case()
    if case.status not in OPEN_STATUSES or case.deadline_on is None:
        raise Conflict(
            "not_extendable",
            "只有未完成且有整改期限的案件可以延期，请刷新页面",
            "Only an open case with a deadline can be extended; reload the page",
        )
    if not isinstance(deadline_on, date):
        raise InvalidInput("bad_deadline", "请填写新的整改期限", "Give the new deadline")
    before = case.deadline_on
    if deadline_on <= before or deadline_on < today:
        raise InvalidInput(
            "extension_not_later",
            f"新的整改期限须晚于原期限（{before}）且不早于今天（{today}）",
            f"The new deadline must be after the old one ({before}) and not before today ({today})",
        )
    if deadline_on > today + timedelta(days=MAX_DAYS):
        raise InvalidInput(
            "extension_too_far",
            f"新的整改期限不能晚于今天起{MAX_DAYS}天",
            f"The new deadline cannot be more than {MAX_DAYS} days from today",
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", "请填写延期理由", "Give the reason for the extension")
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(
            "text_too_long", f"说明不能超过{REASON_LIMIT}字", f"At most {REASON_LIMIT} characters"
        )
    case.deadline_on = deadline_on
    details = {
        "action": EXTEND,
        "deadline_before": before.isoformat(),
        "deadline_on": deadline_on.isoformat(),
        "reason": reason,
    }
    on = max(today, case.history[-1].on) if case.history else today
    change = record_change(session, case, case.status, actor, note=reason, on=on, details=details)
    save_case(session)
    return change
