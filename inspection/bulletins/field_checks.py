"""The month's field checks per town: 卫片图斑 核查 tasks and 回头看 re-checks, due, on time, late.

For the tasks and re-checks due in the month (`due_on` from its first to its last day): how many
were checked by their due day (a 图斑 task's 举证 `checked_on`, a re-check's `checked_on`), and how many
of those due by the month's as-of day are still open then by their present state (a 图斑 task not
yet 销号 with no 举证 sent, a re-check not recorded). Re-checks also give how many found the problem
back (复发) in the month. Grouped statements, one per table.
"""

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from inspection.bulletins.month import Month
from inspection.rechecks.models import Recheck
from inspection.tuban.models import Tuban

KEYS = ("due", "on_time", "late_open")
# The table of the Word document and the workbook: one row per town.
FIELD_HEADERS = [
    "镇",
    "图斑核查到期",
    "按期完成",
    "逾期未完成",
    "回头看到期",
    "按期完成",
    "逾期未完成",
    "复发",
]


def zero() -> dict:
    """The field checks of a town with nothing due."""
    return {"tuban": dict.fromkeys(KEYS, 0), "rechecks": {**dict.fromkeys(KEYS, 0), "recurred": 0}}


def _tuban_rows(session: Session, month: Month, town_ids):
    due_in_month = Tuban.due_on.between(month.first, month.last)
    checked = Tuban.checked_on.is_not(None) & (Tuban.checked_on <= Tuban.due_on)
    open_late = (Tuban.review.in_(("open", "returned"))) & (Tuban.due_on < month.as_of)
    query = (
        select(
            Tuban.town_id,
            func.sum(case((due_in_month, 1), else_=0)),
            func.sum(case((and_(due_in_month, checked), 1), else_=0)),
            func.sum(case((open_late, 1), else_=0)),
        )
        .where(Tuban.outcome == "task", Tuban.due_on <= month.last)
        .group_by(Tuban.town_id)
    )
    if town_ids is not None:
        query = query.where(Tuban.town_id.in_(sorted(town_ids)))
    return session.execute(query).all()


def _recheck_rows(session: Session, month: Month, town_ids):
    due_in_month = Recheck.due_on.between(month.first, month.last)
    checked = Recheck.checked_on.is_not(None) & (Recheck.checked_on <= Recheck.due_on)
    open_late = (Recheck.status == "open") & (Recheck.due_on < month.as_of)
    recurred = (Recheck.status == "recurred") & Recheck.checked_on.between(month.first, month.last)
    query = select(
        Recheck.town_id,
        func.sum(case((due_in_month, 1), else_=0)),
        func.sum(case((and_(due_in_month, checked), 1), else_=0)),
        func.sum(case((open_late, 1), else_=0)),
        func.sum(case((recurred, 1), else_=0)),
    ).group_by(Recheck.town_id)
    if town_ids is not None:
        query = query.where(Recheck.town_id.in_(sorted(town_ids)))
    return session.execute(query).all()


def field_checks(session: Session, month: Month, town_ids) -> dict:
    """Town id → {"tuban": {due, on_time, late_open}, "rechecks": {…, recurred}}, and None: the sum."""
    by_town: dict = {}
    for town_id, *counts in _tuban_rows(session, month, town_ids):
        by_town.setdefault(town_id, zero())["tuban"] = dict(
            zip(KEYS, map(int, counts), strict=True)
        )
    for town_id, *counts in _recheck_rows(session, month, town_ids):
        numbers = dict(zip((*KEYS, "recurred"), map(int, counts), strict=True))
        by_town.setdefault(town_id, zero())["rechecks"] = numbers
    total = zero()
    for figures in by_town.values():
        for part in ("tuban", "rechecks"):
            for key, value in figures[part].items():
                total[part][key] += value
    return {**by_town, None: total}


def field_sentence(total: dict) -> str:
    """ "卫片图斑核查任务到期N个，按期完成M个，逾期未完成K个；回头看到期…，发现复发R处"; "" when none."""
    parts = []
    tuban, rechecks = total["tuban"], total["rechecks"]
    if tuban["due"] or tuban["late_open"]:
        parts.append(
            f"卫片图斑核查任务到期{tuban['due']}个，按期完成{tuban['on_time']}个，"
            f"逾期未完成{tuban['late_open']}个"
        )
    if rechecks["due"] or rechecks["late_open"] or rechecks["recurred"]:
        text = f"回头看到期{rechecks['due']}个，按期完成{rechecks['on_time']}个，逾期未完成{rechecks['late_open']}个"
        if rechecks["recurred"]:
            text += f"，发现复发{rechecks['recurred']}处"
        parts.append(text)
    return "；".join(parts) + "。" if parts else ""


def field_cells(name: str, checks: dict) -> list:
    """One town's row of the field-check table (FIELD_HEADERS)."""
    tuban, rechecks = checks["tuban"], checks["rechecks"]
    return [name, tuban["due"], tuban["on_time"], tuban["late_open"],
            rechecks["due"], rechecks["on_time"], rechecks["late_open"], rechecks["recurred"]]  # fmt: skip
