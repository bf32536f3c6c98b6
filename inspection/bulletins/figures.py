"""The month's figures per 村 and per 网格员, from two grouped statements over the cases.

Rules (a month [first, last], read at as_of = the month's end or today, whichever is earlier; cases
now void (不属实) count nowhere):

- found: `found_on` in the month.
- rectified: fixed now (done or verified) and fixed in the month (`done_on`, else `verified_on`).
- due: the deadline fell in the month: `deadline_on` in it, or a deadline extended away from a day in
  it (an extension row whose `deadline_before` lies in the month).
- on_time (按期): of the due, fixed on or before its deadline (as extended) and by the month's end.
- extended (延期): of the due, those whose deadline in the month was extended.
- sent_back (返工): cases sent back (done → in_progress) on a day of the month.
- overdue: found by as_of, deadline before as_of and not fixed at as_of (open now, or fixed after it).
- rates: 结案率 = rectified / found, 按期结案率 = on_time / due, 返工率 = sent_back / rectified,
  延期率 = extended / due; None (shown "—") when the denominator is 0.
- a 村 row is `Case.village_id` (cases outside the grid form a 网格外 row when they have a figure);
  a 网格员 row is the case's responsible person (`responsible_id`, set when reported or assigned).
- patrols (patrols.stats over [first, as_of]): patrols, km and coverage (0–1) of each 网格员's own
  groups; a village's patrols and km are its 网格员's, its coverage area-weighted over its groups.
"""

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.bulletins.month import Month
from inspection.cases.models import Case, StatusChange
from inspection.grid.models import GridCell
from inspection.patrols.stats import period_stats
from inspection.vocab import STATUS_GROUPS

COUNTS = ("found", "rectified", "due", "on_time", "extended", "sent_back", "overdue")
RATES = {  # name: (numerator, denominator)
    "close_rate": ("rectified", "found"),
    "on_time_rate": ("on_time", "due"),
    "rework_rate": ("sent_back", "rectified"),
    "extension_rate": ("extended", "due"),
}
OUTSIDE_NAME = "网格外"


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator from 0 up, None when nothing is counted below the line."""
    return numerator / denominator if denominator else None


def with_rates(counts: dict) -> dict:
    """The counts with the four rates beside them."""
    return {**counts, **{k: rate(counts[n], counts[d]) for k, (n, d) in RATES.items()}}


def _sums(month: Month) -> tuple:
    """The conditional sums of COUNTS, in that order, as SQL expressions over Case."""
    first, last, as_of = month.first, month.last, month.as_of
    fixed = Case.status.in_(sorted(STATUS_GROUPS["fixed"]))
    fixed_on = func.coalesce(Case.done_on, Case.verified_on)
    extended = exists().where(
        StatusChange.case_id == Case.id,
        StatusChange.details["action"].as_string() == "extend_deadline",
        StatusChange.details["deadline_before"]
        .as_string()
        .between(first.isoformat(), last.isoformat()),
    )
    sent_back = exists().where(
        StatusChange.case_id == Case.id,
        StatusChange.from_status == "done",
        StatusChange.to_status == "in_progress",
        StatusChange.on.between(first, last),
    )
    due = or_(Case.deadline_on.between(first, last), extended)
    conditions = (
        Case.found_on.between(first, last),
        and_(fixed, fixed_on.between(first, last)),
        due,
        and_(due, fixed, fixed_on <= Case.deadline_on, fixed_on <= last),
        extended,
        sent_back,
        and_(
            Case.found_on <= as_of,
            Case.deadline_on < as_of,
            or_(Case.status.in_(sorted(STATUS_GROUPS["open"])), and_(fixed, fixed_on > as_of)),
        ),
    )
    return tuple(func.sum(case((c, 1), else_=0)) for c in conditions)


def _grouped(session: Session, month: Month, keys: tuple, town_ids) -> dict:
    """COUNTS per value of the key columns, over the cases in the towns (None: all)."""
    where = [Case.status != "void"]
    if town_ids is not None:
        where.append(Case.town_id.in_(sorted(town_ids)))
    rows = session.execute(select(*keys, *_sums(month)).where(*where).group_by(*keys))
    width = len(keys)
    return {
        tuple(row[:width]): dict(zip(COUNTS, (int(v or 0) for v in row[width:]), strict=True))
        for row in rows
    }


def _zero() -> dict:
    return dict.fromkeys(COUNTS, 0)


def _add(total: dict, counts: dict) -> None:
    for key in COUNTS:
        total[key] += counts[key]


def month_figures(session: Session, month: Month, *, towns: list[GridCell] | None,
                  radius_m: float = 30.0) -> dict:  # fmt: skip
    """The month's figures of the towns (None: the whole grid): totals, per town, 村 and 网格员.

    Counts and rates as the module docstring says; patrol km in metres (`length_m`), coverage 0–1.
    """
    town_ids = None if towns is None else {t.id for t in towns}
    by_village = _grouped(session, month, (Case.town_id, Case.village_id), town_ids)
    by_person = _grouped(session, month, (Case.responsible_id,), town_ids)
    patrols = period_stats(session, month.first, month.as_of, radius_m=radius_m, towns=towns)

    cells = session.execute(
        select(GridCell.id, GridCell.level, GridCell.code, GridCell.name, GridCell.parent_id)
        .where(GridCell.level.in_(("town", "village")))
        .order_by(GridCell.code)
    ).all()
    town_cells = [c for c in cells if c.level == "town" and (town_ids is None or c.id in town_ids)]
    shown_towns = {t.id for t in town_cells}
    village_cells = [c for c in cells if c.level == "village" and c.parent_id in shown_towns]
    if town_ids is None:  # a grid with no town level, or villages under no town
        village_cells += [c for c in cells if c.level == "village" and c.parent_id is None]
    counts_of_village: dict = {}
    for (_town_id, village_id), counts in by_village.items():
        _add(counts_of_village.setdefault(village_id, _zero()), counts)
    village_patrols = {v["code"]: v for v in patrols.villages}
    person_patrols = {u["id"]: u for u in patrols.users}
    villages = []
    for v in village_cells:
        members = [u for u in patrols.users if u["village_code"] == v.code]
        villages.append(
            {
                "code": v.code,
                "name": v.name,
                "town_id": v.parent_id,
                **with_rates(counts_of_village.get(v.id, _zero())),
                "patrols": sum(u["patrols"] for u in members),
                "length_m": float(sum(u["length_m"] for u in members)),
                "coverage": village_patrols.get(v.code, {}).get("coverage"),
            }
        )
    outside = counts_of_village.get(None)
    if outside and any(outside.values()) and town_ids is None:
        villages.append({"code": None, "name": OUTSIDE_NAME, "town_id": None,
                         **with_rates(outside), "patrols": 0, "length_m": 0.0,
                         "coverage": None})  # fmt: skip

    ids = {k[0] for k in by_person if k[0] is not None} | set(person_patrols)
    people = session.execute(
        select(User.id, User.username, User.display_name, User.role).where(User.id.in_(sorted(ids)))
    ).all()
    members = []
    for person in sorted(people, key=lambda p: p.username):
        counts = by_person.get((person.id,), _zero())
        walked = person_patrols.get(person.id)
        if person.role != "grid_member" and not any(counts.values()):
            continue
        members.append(
            {
                "username": person.username,
                "name": person.display_name,
                "village": walked["village"] if walked else None,
                **with_rates(counts),
                "patrols": walked["patrols"] if walked else 0,
                "length_m": walked["length_m"] if walked else 0.0,
                "coverage": walked["coverage"] if walked else None,
            }
        )

    total = _zero()
    for v in villages:
        _add(total, v)
    town_rows = []
    for t in town_cells:
        sums = _zero()
        for v in villages:
            if v["town_id"] == t.id:
                _add(sums, v)
        town_rows.append({"code": t.code, "name": t.name, **with_rates(sums)})
    return {
        "month": month.label,
        "as_of": month.as_of.isoformat(),
        **with_rates(total),
        "patrols": sum(v["patrols"] for v in villages),
        "length_m": float(sum(v["length_m"] for v in villages)),
        "towns": town_rows,
        "villages": [{k: v for k, v in row.items() if k != "town_id"} for row in villages],
        "members": members,
    }
