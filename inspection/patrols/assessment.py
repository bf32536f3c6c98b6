"""The monthly 考核 sheet: one row per 网格员 (patrols, days, km, hours, coverage of his groups, cases found on
patrol and how many of them were rectified on time), a subtotal per village and the town's total; as xlsx.

The figures are stats.period_stats over the month's town days. "Rectified on time": a case he found
on patrol in the month that reached `done` on or before its deadline (or had none). Who sees which
rows: supervisors, county staff and admins every row of the towns they see, a village head his
village's, a 网格员 his own; officers none.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.cases.access import visible_towns
from inspection.cases.models import Case
from inspection.errors import InvalidInput, NotAllowed
from inspection.patrols.stats import period_stats

MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
HEADERS = ("序号", "村", "网格员", "账号", "巡查次数", "巡查天数", "里程(km)", "时长(小时)",
           "负责组覆盖率(%)", "巡查发现(件)", "其中按期整改(件)")  # fmt: skip
NUMBER_COLUMNS = {"里程(km)", "时长(小时)", "负责组覆盖率(%)"}
INT_COLUMNS = {"序号", "巡查次数", "巡查天数", "巡查发现(件)", "其中按期整改(件)"}
FORMULA_PREFIXES = ("=", "+", "-", "@")
NO_VILLAGE = "（未分组）"


@dataclass
class Sheet:
    """The month's rows (dicts keyed by HEADERS; subtotal rows have no 序号) and its title."""

    month: date
    rows: list[dict]

    @property
    def title(self) -> str:
        """The sheet's title, e.g. 2024年5月网格员巡查考核表."""
        return f"{self.month.year}年{self.month.month}月网格员巡查考核表"


def parse_month(text: str | None, today: date) -> date:
    """The first day of a month given as YYYY-MM (default: this month in the town)."""
    if not text:
        return today.replace(day=1)
    match = MONTH_RE.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise InvalidInput("bad_month", f"月份格式应为 YYYY-MM，如 2024-05：{text[:20]}",
                           f"The month must be YYYY-MM, e.g. 2024-05: {text[:20]}")  # fmt: skip
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_end(month: date) -> date:
    """The last day of the month."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _on_time(session: Session, date_from: date, date_to: date) -> dict[int, int]:
    """Per reporter: cases found on patrol in the period that reached done by their deadline."""
    return dict(
        session.execute(
            select(Case.reporter_id, func.count(Case.id))
            .where(
                Case.source == "patrol",
                Case.found_on >= date_from,
                Case.found_on <= date_to,
                Case.done_on.is_not(None),
                or_(Case.deadline_on.is_(None), Case.done_on <= Case.deadline_on),
            )
            .group_by(Case.reporter_id)
        ).all()
    )


def month_sheet(session: Session, viewer: User, month: date, radius_m: float) -> Sheet:
    """The 考核 rows of a month that the viewer may read (see the module's docstring)."""
    if viewer.role == "officer":
        raise NotAllowed(
            "assessment_officer", "执法队员不查看网格员考核", "Officers do not see the assessment"
        )
    towns = visible_towns(session, viewer)
    heads = {c.id for c in viewer.cells if c.level == "village"}
    wide = viewer.role in ("supervisor", "county", "admin")
    stats = period_stats(
        session, month, month_end(month), radius_m=radius_m, towns=towns if wide else None
    )
    on_time = _on_time(session, month, month_end(month))
    users = {u.id: u for u in session.scalars(select(User))}
    villages: dict[str | None, list[dict]] = {}
    names = {v["code"]: v["name"] for v in stats.villages}
    coverage_of = {v["code"]: v["coverage"] for v in stats.villages}
    for row in stats.users:
        user = users[row["id"]]
        own_village_ids = {g.parent_id for g in user.cells if g.level == "group"} | {
            c.id for c in user.cells if c.level == "village"
        }
        if not wide and user.id != viewer.id and not (heads & own_village_ids):
            continue
        villages.setdefault(row["village_code"], []).append(
            {**row, "on_time": on_time.get(user.id, 0)}
        )
    rows, number = [], 0
    for code in sorted(villages, key=lambda v: (v is None, v or "")):
        members, village = villages[code], names.get(code, NO_VILLAGE)
        for m in members:
            number += 1
            rows.append(_row(number, village, m))
        rows.append(
            _subtotal(f"{village} 小计（{len(members)}人）", members, coverage_of.get(code))
        )
    if wide and villages:
        everyone = [m for members in villages.values() for m in members]
        town = stats.towns[0]["coverage"] if len(stats.towns) == 1 else None
        rows.append(_subtotal(f"合计（{len(everyone)}人）", everyone, town))
    return Sheet(month, rows)


def _row(number: int, village: str, m: dict) -> dict:
    """One 网格员's row."""
    return dict(zip(HEADERS, (
        number, village, m["name"], m["username"], m["patrols"], m["days"], m["length_m"] / 1000,
        m["duration_s"] / 3600, None if m["coverage"] is None else m["coverage"] * 100,
        m["cases_found"], m["on_time"],
    ), strict=True))  # fmt: skip


def _subtotal(label: str, members: list[dict], coverage: float | None) -> dict:
    """A village's (or the town's) totals; its coverage is the cell's, not a sum."""
    return dict(zip(HEADERS, (
        None, label, None, None, sum(m["patrols"] for m in members), sum(m["days"] for m in members),
        sum(m["length_m"] for m in members) / 1000, sum(m["duration_s"] for m in members) / 3600,
        None if coverage is None else coverage * 100, sum(m["cases_found"] for m in members),
        sum(m["on_time"] for m in members),
    ), strict=True))  # fmt: skip


def write_xlsx(sheet: Sheet, target) -> None:
    """Write the sheet as a workbook: title row, bold frozen header with units, 序号, #,##0.00, text as text."""
    workbook = Workbook()
    ws = workbook.active
    ws.title = "巡查考核"
    bold = Font(bold=True)
    ws.append([sheet.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(list(HEADERS))
    for cell in ws[2]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in sheet.rows:
        ws.append([None] * len(HEADERS))
        r = ws.max_row
        subtotal = row["序号"] is None
        for col, header in enumerate(HEADERS, start=1):
            value = row[header]
            if value is None:
                continue
            cell = ws.cell(row=r, column=col)
            if header in NUMBER_COLUMNS or header in INT_COLUMNS:
                cell.value = value
                cell.number_format = "#,##0.00" if header in NUMBER_COLUMNS else "0"
            else:
                text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
                cell.value = text
                cell.data_type = "s"  # never a formula
                if text.startswith(FORMULA_PREFIXES):
                    cell.quotePrefix = True
            if subtotal:
                cell.font = bold
    ws.freeze_panes = "C3"
    for col, header in enumerate(HEADERS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = max(10, len(header) * 2 + 2)
    ws.column_dimensions["B"].width = 24
    workbook.save(target)
