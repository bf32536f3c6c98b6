"""Data of the dashboard and report pages: scoped year figures, monthly series, ledger file names.

Who sees what (the same rule as access.case_scope):

- supervisors, admins, officers and users tied to the town cell see the town: its totals,
  summary_zh and every village;
- a village head sees only the rows of his village(s), with all their groups;
- a 网格员 sees, for each village holding one of his groups, a row made of the sum of his
  groups only (and just those groups). Neither sees the town totals nor the town paragraph.
"""

import re
from datetime import date

from sqlalchemy import and_, extract, func, select, true
from sqlalchemy.orm import Session

from geodata.export import MEDIA_TYPES, SUFFIXES
from inspection.accounts.models import User
from inspection.cases.access import case_scope, sees_whole_town
from inspection.cases.models import Case
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell
from inspection.reporting.figures import empty_figures
from inspection.reporting.ledgers import LEDGER_TITLES
from inspection.vocab import KINDS, M2_PER_MU, STATUS_GROUPS

MONTHS = list(range(1, 13))
LEDGER_ALL_TITLE = "网格巡查台账"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEDGER_TYPES = {"xlsx": XLSX_TYPE, "csv": "text/csv; charset=utf-8", **MEDIA_TYPES}
LEDGER_SUFFIXES = {"xlsx": ".xlsx", "csv": ".csv", **SUFFIXES}
_FIGURE_KEYS = ("illegal_buildings", "farmland", "issues")


def _add_figures(total: dict, more: dict) -> None:
    """Add one area's figures into another, key by key (亩 is linear in m², so it adds too)."""
    for key, value in more.items():
        if isinstance(value, dict):
            _add_figures(total[key], value)
        else:
            total[key] += value


def _village_of_groups(entry: dict, group_codes: set[str]) -> dict:
    """A village entry cut down to some of its groups: their rows and the sum of their figures."""
    groups = [g for g in entry.get("groups", []) if g["code"] in group_codes]
    summed = empty_figures()
    for group in groups:
        _add_figures(summed, {k: group[k] for k in _FIGURE_KEYS})
    return {"code": entry["code"], "name": entry["name"], **summed, "groups": groups}


def scoped_figures(figures: dict, user: User) -> dict:
    """The year figures (with groups) as the user may see them; see the module docstring."""
    if sees_whole_town(user):
        return figures
    village_codes = {cell.code for cell in user.cells if cell.level == "village"}
    group_codes: dict[str, set[str]] = {}
    for cell in user.cells:
        if cell.level == "group" and cell.parent is not None:
            group_codes.setdefault(cell.parent.code, set()).add(cell.code)
    villages = []
    for entry in figures["villages"]:
        if entry["code"] in village_codes:
            villages.append(entry)
        elif entry["code"] in group_codes:
            villages.append(_village_of_groups(entry, group_codes[entry["code"]]))
    return {"year": figures["year"], "town": figures["town"], "villages": villages}


def monthly_series(session: Session, year: int, user: User | None = None, *, town_ids=None) -> dict:
    """Found and fixed counts per month of a year, per kind, in cases the user may see.

    The same rules as figures.year_figures: found = found_on in the year and not void; fixed =
    done/verified now with the last done (else verified) day in the year. Two grouped queries.
    `town_ids` keeps the cases of those towns only (None: all the user sees).
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    scope = case_scope(user) if user is not None else true()
    if town_ids is not None:
        scope = and_(scope, Case.town_id.in_(sorted(town_ids)))
    fixed_on = func.coalesce(Case.done_on, Case.verified_on)
    series = {kind: {"found": [0] * 12, "fixed": [0] * 12} for kind in KINDS}
    queries = {
        "found": (
            Case.found_on,
            and_(Case.found_on >= start, Case.found_on <= end, Case.status != "void"),
        ),
        "fixed": (
            fixed_on,
            and_(
                Case.status.in_(sorted(STATUS_GROUPS["fixed"])),
                fixed_on >= start,
                fixed_on <= end,
                Case.found_on <= end,
            ),
        ),
    }
    for name, (day, condition) in queries.items():
        month = extract("month", day)
        statement = (
            select(Case.kind, month, func.count())
            .where(condition, scope)
            .group_by(Case.kind, month)
        )
        for kind, number, count in session.execute(statement):
            if kind in series:
                series[kind][name][int(number) - 1] = int(count)
    return {"year": year, "months": MONTHS, "kinds": series}


def restored_by_village(figures: dict) -> dict:
    """Restored 亩 per village (rounded to 2 decimals) from the (scoped) figures: chart labels and values."""
    villages = figures["villages"]
    return {
        "labels": [v["name"] for v in villages],
        "mu": [round(v["farmland"]["restored_area_m2"] / M2_PER_MU, 2) for v in villages],
    }


def chart_data(session: Session, figures: dict, user: User) -> dict:
    """Everything the dashboard's charts draw, as one JSON-ready dict."""
    return {
        "monthly": monthly_series(session, figures["year"], user),
        "restored": restored_by_village(figures),
    }


def years_with_cases(session: Session, this_year: int) -> list[int]:
    """The years from the first case found up to this year, newest first."""
    first = session.scalar(select(func.min(Case.found_on)))
    start = min(first.year, this_year) if first else this_year
    return list(range(this_year, start - 1, -1))


def village_names(session: Session) -> dict[int, str]:
    """Village names by cell id, for lists of cases (one query instead of a lazy load per row)."""
    rows = session.execute(select(GridCell.id, GridCell.name).where(GridCell.level == "village"))
    return {cell_id: name for cell_id, name in rows}


LEDGER_FILTERS = (
    "year",
    "status",
    "village",
    "group",
    "source",
    "category",
    "overdue",
    "mine",
    "bbox",
)


def ledger_filters(args) -> dict:
    """The ledger filters of a query string (those of exports.select_cases); a bad year is refused."""
    filters = {key: (args.get(key) or "").strip() or None for key in LEDGER_FILTERS}
    year = filters["year"]
    if year is not None and not (year.isdigit() and 1990 <= int(year) <= 2100):
        raise InvalidInput("bad_year", f"年份无效：{year}", f"Not a valid year: {year}")
    return filters


def ledger_filename(kind: str, fmt: str, filters: dict) -> tuple[str, str]:
    """The Chinese download name of a ledger and an ASCII fallback, e.g. 问题整改台账_2022.xlsx."""
    title = LEDGER_ALL_TITLE if kind == "all" else LEDGER_TITLES[kind]
    parts = [filters.get(k) for k in ("year", "village", "group", "status") if filters.get(k)]
    parts += [filters[k] for k in ("source", "category") if filters.get(k)]
    parts += ["逾期"] if filters.get("overdue") else []
    suffix = LEDGER_SUFFIXES[fmt]
    tail = "".join(f"_{p}" for p in parts)
    ascii_name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"ledger_{kind}{tail}{suffix}")
    return f"{title}{tail}{suffix}", ascii_name
