"""The county's ranking of its towns for a year: found, rectified, 按期 rate, overdue now, areas."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from inspection.cases.deadlines import overdue_condition
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.reporting.figures import year_figures
from inspection.vocab import M2_PER_MU, STATUS_GROUPS

# Sort keys, each with whether a higher value ranks first.
SORTS = {
    "found": True,
    "rectified": True,
    "on_time_rate": True,
    "overdue_now": False,
    "demolished_m2": True,
    "restored_mu": True,
}
DEFAULT_SORT = "rectified"


@dataclass(frozen=True)
class TownRank:
    """One town's row: counts of all kinds of case, the 按期 rate (None without a due case), areas."""

    code: str
    name: str
    found: int
    rectified: int
    rectified_with_deadline: int
    rectified_on_time: int
    overdue_now: int
    demolished_m2: float
    restored_m2: float

    @property
    def on_time_rate(self) -> float | None:
        """按期结案率: rectified by the deadline / rectified with a deadline, from 0 to 1."""
        if not self.rectified_with_deadline:
            return None
        return self.rectified_on_time / self.rectified_with_deadline

    @property
    def restored_mu(self) -> float:
        """Restored farmland in 亩 (= m² / (10000/15))."""
        return self.restored_m2 / M2_PER_MU


def _on_time_by_town(session: Session, year: int) -> dict[int, tuple[int, int]]:
    """Per town id: (cases fixed in the year that had a deadline, of those fixed by it)."""
    fixed_on = func.coalesce(Case.done_on, Case.verified_on)
    rows = session.execute(
        select(
            Case.town_id,
            func.count(),
            func.sum(case((fixed_on <= Case.deadline_on, 1), else_=0)),
        )
        .where(
            Case.status.in_(sorted(STATUS_GROUPS["fixed"])),
            and_(fixed_on >= date(year, 1, 1), fixed_on <= date(year, 12, 31)),
            Case.deadline_on.is_not(None),
            Case.found_on <= date(year, 12, 31),
        )
        .group_by(Case.town_id)
    )
    return {town_id: (int(n or 0), int(on_time or 0)) for town_id, n, on_time in rows}


def _overdue_by_town(session: Session, today: date) -> dict[int, int]:
    """Per town id: open cases past their deadline today."""
    rows = session.execute(
        select(Case.town_id, func.count()).where(overdue_condition(today)).group_by(Case.town_id)
    )
    return dict(rows.all())


def town_ranking(
    session: Session, year: int, today: date, sort: str = DEFAULT_SORT
) -> list[TownRank]:
    """Every town's row for the year, best first by `sort` (one of SORTS); ties by town code."""
    if sort not in SORTS:
        sort = DEFAULT_SORT
    figures = year_figures(session, year)
    towns = figures.get("towns")
    if towns is None:  # a deployment of one town: itself
        towns = (
            [{"code": None, **figures, "name": figures["town"] or ""}] if figures["town"] else []
        )
    ids = dict(
        session.execute(select(GridCell.code, GridCell.id).where(GridCell.level == "town")).all()
    )
    if len(ids) == 1 and towns:
        towns[0]["code"] = next(iter(ids))
    on_time, overdue = _on_time_by_town(session, year), _overdue_by_town(session, today)
    rows = []
    for town in towns:
        town_id = ids.get(town["code"])
        b, land, issues = town["illegal_buildings"], town["farmland"], town["issues"]
        with_deadline, by_deadline = on_time.get(town_id, (0, 0))
        rows.append(
            TownRank(
                code=town["code"],
                name=town["name"],
                found=b["found"] + land["found"] + issues["found"],
                rectified=b["demolished"] + land["restored"] + issues["rectified"],
                rectified_with_deadline=with_deadline,
                rectified_on_time=by_deadline,
                overdue_now=overdue.get(town_id, 0),
                demolished_m2=b["demolished_area_m2"],
                restored_m2=land["restored_area_m2"],
            )
        )
    higher_first = SORTS[sort]

    def key(row: TownRank):
        value = getattr(row, sort)
        if value is None:  # no due case: last, whatever the direction
            return (1, 0, row.code)
        return (0, -value if higher_first else value, row.code)

    return sorted(rows, key=key)
