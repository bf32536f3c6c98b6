"""Time limits (整改期限): default days per category/kind, overdue cases and the traffic light."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.cases.access import case_scope
from inspection.cases.models import Case
from inspection.db import Setting, begin_write
from inspection.errors import Conflict, InvalidInput, NotAllowed
from inspection.vocab import STATUS_GROUPS

SETTING_KEY = "deadline_days"
MAX_DAYS = 3650
YELLOW_FROM = 0.8  # share of the allowed time after which the light turns yellow


@dataclass(frozen=True)
class TimeLimit:
    """One default time limit: the category (issues) or kind it applies to, days, and why."""

    key: str
    days: int
    help_zh: str
    help_en: str


# Issues go by category; illegal buildings and farmland by kind. Admins can change every figure.
TIME_LIMITS = (
    TimeLimit("garbage", 7, "垃圾乱堆乱放：一周内清理", "Garbage: cleared within a week"),
    TimeLimit("sewage", 30, "污水直排：一个月内截污", "Sewage: stopped within a month"),
    TimeLimit("straw_burning", 1, "秸秆焚烧：当日处置", "Straw burning: dealt with the same day"),
    TimeLimit("dust", 7, "扬尘污染：一周内覆盖、洒水", "Dust: covered and watered within a week"),
    TimeLimit("livestock", 30, "畜禽养殖污染：一个月内整治", "Livestock: remedied within a month"),
    TimeLimit("sand_mining", 3, "非法采砂：三日内制止", "Sand mining: stopped within three days"),
    TimeLimit(
        "land_occupation", 30, "违法占地：一个月内恢复", "Land occupation: undone in a month"
    ),
    TimeLimit("fire_hazard", 3, "消防隐患：三日内消除", "Fire hazard: removed within three days"),
    TimeLimit("other", 15, "其他问题（及未列类别）", "Other issues (and unlisted categories)"),
    TimeLimit(
        "illegal_building", 30, "违法建筑：一个月内拆除", "Illegal building: demolished in a month"
    ),
    TimeLimit("farmland", 90, "复耕地块：三个月内复耕", "Farmland: restored within three months"),
)
DEFAULT_DAYS = {limit.key: limit.days for limit in TIME_LIMITS}


def deadline_days(session: Session) -> dict[str, int]:
    """The time limits in days by key: the defaults overlaid with the admin's stored figures."""
    days = dict(DEFAULT_DAYS)
    setting = session.get(Setting, SETTING_KEY)
    stored = setting.value if setting is not None and isinstance(setting.value, dict) else {}
    for key, value in stored.items():
        if key in days and _is_days(value):
            days[key] = value
    return days


def _is_days(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_DAYS


def set_deadline_days(session: Session, actor: User, mapping: dict) -> dict[str, int]:
    """Change some default time limits (admin only); return all limits as they now stand."""
    begin_write(session)
    if actor is None or actor.role != "admin":
        raise NotAllowed(
            "admin_only", "只有管理员可以修改整改期限", "Only an admin may change time limits"
        )
    unknown = sorted(set(mapping) - set(DEFAULT_DAYS))
    if unknown:
        names = "、".join(unknown)
        raise InvalidInput(
            "bad_deadline_key", f"未知的期限项目：{names}", f"Unknown time limits: {names}"
        )
    bad = sorted(key for key, value in mapping.items() if not _is_days(value))
    if bad:
        names = "、".join(bad)
        raise InvalidInput(
            "bad_deadline_days",
            f"期限须为1至{MAX_DAYS}之间的整数天：{names}",
            f"A time limit must be a whole number of days from 1 to {MAX_DAYS}: {names}",
        )
    setting = session.get(Setting, SETTING_KEY)
    if setting is None:
        setting = Setting(key=SETTING_KEY, value={})
        session.add(setting)
    stored = dict(setting.value) if isinstance(setting.value, dict) else {}
    setting.value = stored | dict(mapping)  # a new dict, so the JSON column sees the change
    try:
        session.flush()
    except IntegrityError as exc:  # another admin created the row at the same moment
        session.rollback()
        raise Conflict(
            "setting_conflict",
            "期限设置已被他人修改，请刷新后重试",
            "Someone else changed the time limits; reload and try again",
        ) from exc
    return deadline_days(session)


def limit_key(case: Case) -> str:
    """The time-limit key of a case: its category for an issue, else its kind."""
    if case.kind == "issue":
        return case.category if case.category in DEFAULT_DAYS else "other"
    return case.kind if case.kind in DEFAULT_DAYS else "other"


def assignment_deadline(
    session: Session, case: Case, deadline_on: date | None, today: date
) -> tuple[date, str, int | None]:
    """The deadline an assignment sets, its origin (given/superior/preset/default) and days.

    A superior case's deadline is the superior's (交办期限): it may be kept or brought forward,
    never moved later here.
    """
    superior = case.deadline_on if case.source == "superior" else None
    if deadline_on is not None and deadline_on == superior:
        return superior, "superior", None
    if deadline_on is not None:
        if not isinstance(deadline_on, date) or isinstance(deadline_on, datetime):
            raise InvalidInput("bad_deadline", "整改期限不是有效日期", "The deadline is not a date")
        if deadline_on < today:
            raise InvalidInput(
                "deadline_past",
                f"整改期限（{deadline_on}）不能早于今天（{today}）",
                f"The deadline ({deadline_on}) cannot be before today ({today})",
            )
        if superior is not None and deadline_on > superior:
            raise InvalidInput(
                "superior_deadline_later",
                f"上级交办案件的整改期限为 {superior}，不能延后到 {deadline_on}",
                f"The superior set the deadline to {superior}; it cannot be moved to {deadline_on}",
            )
        return deadline_on, "given", (deadline_on - today).days
    if case.deadline_on is not None:  # set by the superior's document (or when reported): keep it
        return case.deadline_on, "superior" if case.source == "superior" else "preset", None
    days = deadline_days(session)[limit_key(case)]
    return today + timedelta(days=days), "default", days


def started_on(case: Case) -> date:
    """The day the allowed time started: the last assignment, else the day the case was found."""
    for change in reversed(case.history):
        # A deadline extension (cases.extension) keeps the status: it starts no new allowed time.
        if (
            change.to_status == "assigned"
            and (change.details or {}).get("action") != "extend_deadline"
        ):
            return change.on
    return case.found_on


def is_overdue(case: Case, today: date) -> bool:
    """True if the case is past its deadline and not yet fixed (still open)."""
    return (
        case.deadline_on is not None
        and case.status in STATUS_GROUPS["open"]
        and today > case.deadline_on
    )


def deadline_light(case: Case, today: date) -> str | None:
    """green below 80 % of the allowed time, yellow 80–100 %, red when overdue; None if closed."""
    if case.deadline_on is None or case.status not in STATUS_GROUPS["open"]:
        return None
    if today > case.deadline_on:
        return "red"
    start = started_on(case)
    allowed_days = (case.deadline_on - start).days
    if allowed_days <= 0:
        return "yellow"  # due today (or assigned after a preset deadline): no time left
    used = (today - start).days / allowed_days
    return "green" if used < YELLOW_FROM else "yellow"


def overdue_condition(today: date):
    """A SQL condition selecting overdue cases on a day (for lists, counts and reports)."""
    return (
        Case.deadline_on.is_not(None)
        & (Case.deadline_on < today)
        & Case.status.in_(sorted(STATUS_GROUPS["open"]))
    )


def overdue_cases(
    session: Session,
    *,
    today: date,
    village_id: int | None = None,
    kind: str | None = None,
    responsible_id: int | None = None,
    viewer: User | None = None,
) -> list[Case]:
    """Overdue cases, most overdue first; filter by village, kind, responsible person, viewer."""
    query = select(Case).where(overdue_condition(today))
    if village_id is not None:
        query = query.where(Case.village_id == village_id)
    if kind is not None:
        query = query.where(Case.kind == kind)
    if responsible_id is not None:
        query = query.where(Case.responsible_id == responsible_id)
    if viewer is not None:
        query = query.where(case_scope(viewer))
    return list(session.scalars(query.order_by(Case.deadline_on, Case.id)))
