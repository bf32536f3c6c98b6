"""Patrol figures of a year for the year report: patrols, km, hours, and the mean monthly coverage per village.

A patrol counts in the village of its 网格员 (his first group's village, or the village he heads).
The mean coverage of a village is the mean over the year's months (those begun, for this year) of
its monthly coverage (stats: area-weighted over its groups, the month's tracks).
"""

from datetime import date

from sqlalchemy.orm import Session

from inspection import clock
from inspection.accounts.models import User
from inspection.cases.access import visible_towns
from inspection.patrols.assessment import month_end
from inspection.patrols.stats import period_stats, town_groups


def year_patrol_figures(
    session: Session, year: int, viewer: User | None, radius_m: float, *, towns=None
) -> dict:
    """The year's patrols, km, hours and each village's mean monthly coverage, for what the viewer sees.

    With no viewer (a command, a document): every village of `towns` (town cells; None: all towns).
    """
    today = clock.town_today()
    if viewer is None:
        wide, own = True, set()
    else:
        wide = viewer.role in ("supervisor", "county", "admin", "officer")
        towns = visible_towns(session, viewer) if wide else None
        own = {c.id for c in viewer.cells if c.level == "village"} | {
            c.parent_id for c in viewer.cells if c.level == "group"
        }
    last_month = 12 if year < today.year else (today.month if year == today.year else 0)
    groups = town_groups(session, towns)  # once for the year and its months
    whole = period_stats(
        session, date(year, 1, 1), date(year, 12, 31), radius_m=radius_m, towns=towns, groups=groups
    )
    months = [
        period_stats(
            session,
            date(year, m, 1),
            month_end(date(year, m, 1)),
            radius_m=radius_m,
            towns=towns,
            with_users=False,
            groups=groups,
        )
        for m in range(1, last_month + 1)
    ]
    villages = []
    for v in whole.villages:
        if not wide and v["id"] not in own:
            continue
        members = [u for u in whole.users if u["village_code"] == v["code"]]
        shares = [
            next(x["coverage"] for x in month.villages if x["code"] == v["code"])
            for month in months
        ]
        villages.append(
            {
                "code": v["code"],
                "name": v["name"],
                "patrols": sum(u["patrols"] for u in members),
                "length_m": sum(u["length_m"] for u in members),
                "duration_s": sum(u["duration_s"] for u in members),
                "mean_coverage": sum(shares) / len(shares) if shares else 0.0,
            }
        )
    return {
        "year": year,
        "patrols": sum(v["patrols"] for v in villages),
        "length_m": sum(v["length_m"] for v in villages),
        "duration_s": sum(v["duration_s"] for v in villages),
        "villages": villages,
    }
