"""One bulletin: the month's figures of a scope with its 红黑榜 and paragraph (what page, CLI and files show)."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspection.bulletins.field_checks import field_checks, field_sentence, zero
from inspection.bulletins.figures import month_figures
from inspection.bulletins.month import parse_month
from inspection.bulletins.ranking import RULE_ZH, red_black
from inspection.bulletins.text_zh import bulletin_paragraph
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell


def scope_towns(session: Session, visible: frozenset[int] | None, town_code: str | None):
    """The towns of a bulletin: the one asked for (by code) among those visible, else all visible.

    `visible`: the town ids a user sees whole (None: every town). Returns (towns or None, name).
    An unknown or invisible code is InvalidInput with the same message (the page answers 404).
    """
    towns = list(
        session.scalars(select(GridCell).where(GridCell.level == "town").order_by(GridCell.code))
    )
    if visible is not None:
        towns = [t for t in towns if t.id in visible]
    if town_code:
        towns = [t for t in towns if t.code == town_code]
        if not towns:
            raise InvalidInput(
                "unknown_town", f"没有编码为 {town_code} 的镇", f"No town has the code {town_code}"
            )
        return towns, towns[0].name
    if visible is None:
        county = session.scalar(select(GridCell.name).where(GridCell.level == "county"))
        return None, county or (towns[0].name if len(towns) == 1 else "")
    return towns, "、".join(t.name for t in towns)


def build_bulletin(
    session: Session,
    month_text: str,
    today: date,
    *,
    visible: frozenset[int] | None = None,
    town_code: str | None = None,
    radius_m: float = 30.0,
) -> dict:
    """The bulletin of a month (YYYY-MM) for the visible towns or one of them, ready to show or save."""
    month = parse_month(month_text, today)
    towns, name = scope_towns(session, visible, town_code)
    figures = month_figures(session, month, towns=towns, radius_m=radius_m)
    checks = field_checks(session, month, None if towns is None else {t.id for t in towns})
    figures["field_checks"] = checks[None]
    ids = {t.code: t.id for t in towns} if towns is not None else _town_ids(session)
    for row in figures["towns"]:
        row["field_checks"] = checks.get(ids.get(row["code"])) or zero()
    county = (
        towns is None
        and session.scalar(select(GridCell.id).where(GridCell.level == "county")) is not None
    )
    several = len(figures["towns"]) > 1
    red_v, black_v = red_black(figures["villages"])
    red_m, black_m = red_black(figures["members"])
    figures["ranking"] = {
        "rule_zh": RULE_ZH,
        "villages": {"red": red_v, "black": black_v},
        "members": {"red": red_m, "black": black_m},
    }
    figures["scope"] = name
    figures["summary_zh"] = bulletin_paragraph(
        figures, whole="全县" if county or several else "全镇"
    ) + field_sentence(checks[None])
    return figures


def _town_ids(session: Session) -> dict:
    return dict(
        session.execute(select(GridCell.code, GridCell.id).where(GridCell.level == "town")).all()
    )
