"""Year figures: cases found, demolished, restored and rectified in a year, by town, village and group.

Counting rules (DOMAIN.md, "Year figures"), all by the town's calendar days (`StatusChange.on`):

- found: `found_on` in the year. Cases now `void` (不属实) count nowhere except in `overdue`.
- demolished / restored / rectified: the case is fixed now (`done` or `verified`) and its LAST change to
  `done` is in the year. A case sent back (done → in_progress) and done again counts once, in the year of
  its final done; one sent back and still open counts in no year. The day is read from `done_on`, which
  record_change sets to that change's `on` and clears on a send-back (a case verified with no done step
  goes by `verified_on`); the bench checks it against a loop over the history itself.
- overdue (issues): open (reported / assigned / in_progress) on 31 December by its history — the last
  change recorded on or before that day — with `deadline_on` before 31 December. A case found by then
  whose first change was recorded later was `reported`. Today's status does not matter.
- superior: issues with source `superior`; received = found in the year, rectified as above.
- recurred (复发): closed cases reopened because the problem was found back on the same ground
  (cases.recurrence: a verified → reported change) recorded in the year. The ground stays one case:
  found once, and fixed in the year of its latest done (in no year while the recurrence is open).
- patrol_environment: `patrol` issues of the environment categories found in the year, and how many
  of those were rectified in it ("巡查发现环保问题4个，整改完成4个": the second figure is part of the
  first, never more).
- areas: demolished = `demolished_area_m2`, else `area_m2` (geodesic m²) of the buildings demolished
  in the year; restored = `area_m2` of the parcels restored in the year. Summed unrounded; 亩 derived.
- villages: by `Case.village_id`; cases outside the grid form an extra entry (code None, "网格外") only
  when they have a figure in the year. Cases found after 31 December are not in the year at all.

How it is counted fast: each case stores the years these rules need (inspection.cases.history keeps
them on every write; migration 0011 filled them): `found_year`; `fixed_year`, the year of `done_on`
(else `verified_on`) while the case is fixed; `run_year`, the year its current run of open statuses
(or of settled ones: done, verified, void) began; `needs_history`, set once it is sent back or a change
is dated before the one before it. Four grouped statements, each reading only what it counts from a
covering index: found (led by `found_year`, then the town), fixed (`fixed_year`, then the town), and
for overdue the issues open now whose run began by 31 December (open then too), and those whose run
began after it, in a partial index of the cases whose run began after the year found: with a plain
history the run before was the first, open one; only those with `needs_history` read their history as
the rule says. Found and fixed are summed first in the index's own column order (no sort), then by
the environment flag; Python folds the few hundred rows into the nested figures. stale_year_columns
(the tests and the bench) checks the stored years against the dates and the history.
"""

import json
from datetime import date, datetime
from unicodedata import east_asian_width
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import case, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from inspection.cases.models import Case, StatusChange
from inspection.cases.recurrence import REOPENED_FROM, REOPENED_TO
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell
from inspection.reporting.staffing import staffing
from inspection.reporting.summary_zh import we_of, year_summary
from inspection.vocab import ENVIRONMENT_CATEGORIES, M2_PER_MU, STATUS_GROUPS

OUTSIDE_NAME = "网格外"
NO_GROUP_NAME = "未分组"
_OPEN = sorted(STATUS_GROUPS["open"])
_FIXED = sorted(STATUS_GROUPS["fixed"])


def empty_figures() -> dict:
    """The figures of one area with every count and area at zero."""
    return {
        "illegal_buildings": {
            "found": 0,
            "demolished": 0,
            "demolished_area_m2": 0.0,
            "recurred": 0,
        },
        "farmland": {
            "found": 0,
            "restored": 0,
            "restored_area_m2": 0.0,
            "restored_area_mu": 0.0,
            "recurred": 0,
        },
        "issues": {
            "found": 0,
            "rectified": 0,
            "overdue": 0,
            "recurred": 0,
            "superior": {"received": 0, "rectified": 0},
            "patrol_environment": {"found": 0, "rectified": 0},
        },
    }


# The order of ix_cases_found_year and ix_cases_fixed_year after the year: the group last, so that
# without groups the first step still follows the index.
_RAW = ("town_id", "village_id", "kind", "source", "category", "group_id")


def _keys(columns, groups: bool) -> tuple:
    """The grouping of every part: town, village, group (if asked), kind, source, environment flag."""
    environment = case((columns.category.in_(sorted(ENVIRONMENT_CATEGORIES)), 1), else_=0)
    place = (columns.town_id, columns.village_id, *((columns.group_id,) if groups else ()))
    return (*place, columns.kind, columns.source, environment.label("environment"))


def _grouped(where: tuple, sums: tuple, groups: bool):
    """Sums over the cases matching `where`, by `_keys`, in two steps.

    First by the raw columns in the order of the covering index the cases are read from, which needs
    no sort; then the few thousand rows of that by the environment flag.
    """
    raw = [getattr(Case, name) for name in _RAW[: None if groups else -1]]
    inner = (
        select(*raw, *(s.label(f"sum_{i}") for i, s in enumerate(sums)))
        .where(*where)
        .group_by(*raw)
        .subquery()
    )
    keys = _keys(inner.c, groups)
    return select(*keys, *(func.sum(inner.c[f"sum_{i}"]) for i in range(len(sums)))).group_by(*keys)


def _year_statements(year: int, *, town_ids=None, groups: bool = True) -> tuple:
    """The found, fixed, overdue and recurred counts of a year, each grouped by `_keys`: five statements.

    Each reads only the cases it counts, from a covering index led by the stored year it counts by
    (`found_year`, `fixed_year`) and the town, or for overdue by the status and `run_year`; `town_ids` keeps the cases of those
    towns only (None: every case, those outside the grid too).
    """
    end = date(year, 12, 31)
    in_towns = (Case.town_id.in_(sorted(town_ids)),) if town_ids is not None else ()
    fixed_in_year = func.sum(case((Case.fixed_year == year, 1), else_=0))
    found = _grouped(
        (Case.found_year == year, Case.status != "void", *in_towns),
        (func.count(), fixed_in_year),
        groups,
    )
    area_m2 = case(
        (Case.kind == "illegal_building", func.coalesce(Case.demolished_area_m2, Case.area_m2)),
        else_=Case.area_m2,
    )
    # fixed_year is set only while the case is done or verified: its last done is in the year.
    fixed = _grouped(
        (Case.fixed_year == year, Case.found_year <= year, *in_towns),
        (func.count(), func.sum(area_m2)),
        groups,
    )
    keys = _keys(Case, groups)
    # Open on 31 Dec, of the issues found by then and due before it. A case's current run of open (or
    # of settled: done / verified / void) statuses that began by that day still held on it: open now
    # is open then. A run that began later followed, in a plain history (no send-back, no date going
    # back), the first run, which is open; only the rest read their history as the rule says: the
    # last change on or before that day, and found by then but first recorded later, `reported`.
    due = (Case.kind == "issue", Case.deadline_on < end, Case.found_year <= year, *in_towns)
    open_now = (
        select(*keys, func.count())
        .where(
            *due,
            Case.status.in_(_OPEN),
            or_(Case.run_year.is_(None), Case.run_year <= year),
        )
        .group_by(*keys)
    )
    step = aliased(StatusChange)
    status_at_end = (
        select(step.to_status)
        .where(step.case_id == Case.id, step.on <= end)
        .order_by(step.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    no_change_yet = case(
        (exists().where(StatusChange.case_id == Case.id), "reported"), else_=Case.status
    )
    later_run = (
        select(*keys, func.count())
        .where(
            *due,
            Case.run_year > Case.found_year,  # the predicate of the partial ix_cases_spanning_run
            Case.run_year > year,
            or_(
                Case.needs_history == false(),
                func.coalesce(status_at_end, no_change_yet).in_(_OPEN),
            ),
        )
        .group_by(*keys)
    )
    overdue = (open_now, later_run)
    # 复发: the reopenings of closed cases recorded in the year (cases.recurrence), by the case.
    recurred = (
        select(*keys, func.count())
        .select_from(StatusChange)
        .join(Case, Case.id == StatusChange.case_id)
        .where(
            StatusChange.from_status == REOPENED_FROM,
            StatusChange.to_status == REOPENED_TO,
            StatusChange.on.between(date(year, 1, 1), end),
            *in_towns,
        )
        .group_by(*keys)
    )
    return found, fixed, *overdue, recurred


_BLOCKS = {"illegal_building": "illegal_buildings", "farmland": "farmland", "issue": "issues"}


def _add(figures: dict, kind: str, source: str, environment: int, counts: tuple) -> None:
    """Add one grouped row's counts to the figures of an area."""
    found, fixed, area_m2, overdue, found_fixed, recurred = counts
    figures[_BLOCKS[kind]]["recurred"] += recurred
    if kind == "illegal_building":
        block = figures["illegal_buildings"]
        block["found"] += found
        block["demolished"] += fixed
        block["demolished_area_m2"] += area_m2
    elif kind == "farmland":
        block = figures["farmland"]
        block["found"] += found
        block["restored"] += fixed
        block["restored_area_m2"] += area_m2
        block["restored_area_mu"] = block["restored_area_m2"] / M2_PER_MU
    elif kind == "issue":
        block = figures["issues"]
        block["found"] += found
        block["rectified"] += fixed
        block["overdue"] += overdue
        if source == "superior":
            block["superior"]["received"] += found
            block["superior"]["rectified"] += fixed
        if source == "patrol" and environment:
            block["patrol_environment"]["found"] += found
            block["patrol_environment"]["rectified"] += found_fixed


def _nonzero(figures: dict) -> bool:
    """True if any figure of an area is above zero."""
    return any(_nonzero(v) if isinstance(v, dict) else v > 0 for v in figures.values())


def _entry(cell, figures: dict, outside_name: str) -> dict:
    return {
        "code": cell.code if cell else None,
        "name": cell.name if cell else outside_name,
        **figures,
    }


class _Folded:
    """The year's grouped rows folded into figures per town, village and group."""

    def __init__(self, session: Session, year: int, town_ids, *, groups: bool = True):
        statements = _year_statements(year, town_ids=town_ids, groups=groups)
        width = 6 if groups else 5
        # Each part's rows fill their slots of (found, fixed, area_m2, overdue, found_fixed,
        # recurred), summed per area (total, town, village, group) and (kind, source, environment)
        # before folding.
        slots = ((0, 4), (1, 2), (3,), (3,), (5,))
        levels: tuple[dict, ...] = ({}, {}, {}, {})
        for statement, filled in zip(statements, slots, strict=True):
            for row in session.execute(statement):
                town_id, village_id, *rest = row[:width]
                group_id = rest[0] if groups else None
                sort = tuple(row[width - 3 : width])
                areas = (None, town_id, village_id, (village_id, group_id))
                for level, area in zip(levels[: 4 if groups else 3], areas, strict=False):
                    counts = level.setdefault((area, sort), [0, 0, 0.0, 0, 0, 0])
                    for slot, value in zip(filled, row[width:], strict=True):
                        counts[slot] += value or 0
        self.total = empty_figures()
        self.by_town: dict = {}
        self.by_village: dict = {}
        self.by_group: dict = {}
        targets = (None, self.by_town, self.by_village, self.by_group)
        for level, target in zip(levels, targets, strict=True):
            for (area, (kind, source, environment)), counts in level.items():
                figures = self.total if target is None else target.setdefault(area, empty_figures())
                numbers = (int(counts[0]), int(counts[1]), float(counts[2]), int(counts[3]))
                _add(figures, kind, source, environment, (*numbers, int(counts[4]), int(counts[5])))

    def villages(self, cells, village_cells, *, groups: bool, outside: bool) -> list[dict]:
        """The village entries (with groups if asked) of these village cells, and 网格外 if asked."""
        entries = []
        children: dict = {}
        if groups:  # each village's groups in code order, found once
            for g in cells:
                if g.level == "group":
                    children.setdefault(g.parent_id, []).append(g)
        for cell in village_cells:
            entry = _entry(cell, self.by_village.get(cell.id, empty_figures()), OUTSIDE_NAME)
            if groups:
                entry["groups"] = [
                    _entry(g, self.by_group.get((cell.id, g.id), empty_figures()), NO_GROUP_NAME)
                    for g in children.get(cell.id, ())
                ]
                if _nonzero(self.by_group.get((cell.id, None), empty_figures())):
                    entry["groups"].append(
                        _entry(None, self.by_group[(cell.id, None)], NO_GROUP_NAME)
                    )
            entries.append(entry)
        if outside and _nonzero(self.by_village.get(None, empty_figures())):
            entry = _entry(None, self.by_village[None], OUTSIDE_NAME)
            if groups:
                entry["groups"] = []
            entries.append(entry)
        return entries


def _town_entry(folded: _Folded, cells, town, year: int, *, groups: bool, staff: dict) -> dict:
    """One town's figures as a town report gives them: totals, villages, staffing, its paragraph."""
    figures = folded.by_town.get(town.id, empty_figures())
    villages = [c for c in cells if c.level == "village" and c.parent_id == town.id]
    entry = {
        "code": town.code,
        "name": town.name,
        **figures,
        "villages": folded.villages(cells, villages, groups=groups, outside=False),
        **staff[town.id],
    }
    entry["summary_zh"] = year_summary({"year": year, **entry}, we=we_of(town.name))
    return entry


def year_figures(
    session: Session,
    year: int,
    *,
    groups: bool = False,
    town_code: str | None = None,
    town_ids=None,
) -> dict:
    """The year's figures for the town (or county) and per village (and group if asked), with summary_zh.

    A deployment of one town gives that town. With several towns the whole county is given, with a
    `towns` list (each with its villages and paragraph) beside the county totals; `town_code` (or
    `town_ids`) narrows it to those towns: one town is given exactly as a town report.
    Areas are geodesic m² (and 亩 = m² / (10000/15)), unrounded. See the module docstring for the rules.
    """
    # Names and codes only: the boundaries are not needed here.
    cells = session.execute(
        select(
            GridCell.id, GridCell.level, GridCell.code, GridCell.name, GridCell.parent_id
        ).order_by(GridCell.code)
    ).all()
    towns = [c for c in cells if c.level == "town"]
    county = next((c for c in cells if c.level == "county"), None)
    if town_code is not None:
        chosen = [t for t in towns if t.code == town_code]
        if not chosen:
            raise InvalidInput(
                "unknown_town", f"没有编码为 {town_code} 的镇", f"No town has the code {town_code}"
            )
    elif town_ids is not None:
        chosen = [t for t in towns if t.id in town_ids]
    else:
        chosen = towns
    whole = len(towns) <= 1 or len(chosen) == len(towns)
    folded = _Folded(session, year, None if whole else [t.id for t in chosen], groups=groups)
    staff = staffing(session, year, cells)

    if len(towns) <= 1 or len(chosen) == 1:
        # One town, given as today: every village of it (of the whole grid when it is the only
        # town) and, when it is the only town, the cases outside the grid.
        town = chosen[0] if chosen else None
        villages = [c for c in cells if c.level == "village" and (whole or c.parent_id == town.id)]
        figures = folded.total if whole else folded.by_town.get(town.id, empty_figures())
        town_name = town.name if town else None
        result = {
            "year": year,
            "town": town_name,
            **figures,
            "villages": folded.villages(cells, villages, groups=groups, outside=whole),
            **staff[None if whole or town is None else town.id],
        }
        result["summary_zh"] = year_summary(result, we=we_of(town_name))
        return result

    chosen_ids = {t.id for t in chosen}
    villages = [c for c in cells if c.level == "village" and (whole or c.parent_id in chosen_ids)]
    name = county.name if county is not None and whole else None
    result = {
        "year": year,
        "county": county.name if county is not None else None,
        "town": name,
        **folded.total,
        "villages": folded.villages(cells, villages, groups=groups, outside=whole),
        "towns": [_town_entry(folded, cells, t, year, groups=groups, staff=staff) for t in chosen],
    }
    if whole:
        result.update(staff[None])
        result["grid"] = {"towns": len(towns), **staff[None]["grid"]}
    else:
        result["certified_officers"] = sum(staff[t.id]["certified_officers"] for t in chosen)
        result["grid"] = {
            "towns": len(chosen),
            **{k: sum(staff[t.id]["grid"][k] for t in chosen) for k in _empty_grid()},
        }
    result["summary_zh"] = year_summary(result, we="我县") if whole else ""
    return result


def _empty_grid() -> tuple:
    return ("villages", "groups", "grid_members")


def _cell(text: object, width: int) -> str:
    """Pad text to a display width, counting Chinese characters as two columns."""
    text = str(text)
    used = sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 0)


_COLUMNS = (
    ("村", 12),
    ("违建发现", 10),
    ("拆除(处)", 10),
    ("拆除面积(㎡)", 14),
    ("复耕(块)", 10),
    ("复耕面积(亩)", 14),
    ("问题发现", 10),
    ("整改完成", 10),
    ("逾期", 6),
)


def _row(name: str, f: dict) -> str:
    b, land, i = f["illegal_buildings"], f["farmland"], f["issues"]
    values = (
        name,
        b["found"],
        b["demolished"],
        f"{b['demolished_area_m2']:,.2f}",
        land["restored"],
        f"{land['restored_area_mu']:,.2f}",
        i["found"],
        i["rectified"],
        i["overdue"],
    )
    return "".join(_cell(v, w) for v, (_, w) in zip(values, _COLUMNS, strict=True)).rstrip()


def format_text(figures: dict) -> str:
    """The figures as a readable Chinese block: town totals, the village table and the paragraph."""
    b, land, i = figures["illegal_buildings"], figures["farmland"], figures["issues"]
    lines = [
        f"{figures['town'] or ''}{figures['year']}年 网格巡查年度数据",
        "",
        f"违法建筑：发现{b['found']}处，拆除{b['demolished']}处，"
        f"拆除面积{b['demolished_area_m2']:,.2f}㎡",
        f"复耕地块：发现{land['found']}块，复耕{land['restored']}块，"
        f"复耕面积{land['restored_area_mu']:,.2f}亩（{land['restored_area_m2']:,.2f}㎡）",
        f"问题：发现{i['found']}个，整改完成{i['rectified']}个，年末逾期{i['overdue']}个",
        f"  上级反馈问题：收到{i['superior']['received']}个，"
        f"整改完成{i['superior']['rectified']}个",
        f"  巡查发现环保问题：发现{i['patrol_environment']['found']}个，"
        f"整改完成{i['patrol_environment']['rectified']}个",
        *_recurrence_lines(figures),
        *_staffing_lines(figures),
        "",
        "".join(
            _cell("镇" if n == 0 and figures.get("towns") else title, w)
            for n, (title, w) in enumerate(_COLUMNS)
        ).rstrip(),
        *(_row(v["name"], v) for v in figures.get("towns") or figures["villages"]),
        _row("合计", figures),
        "",
        figures["summary_zh"] or "（本年度暂无可写入总结的数据）",
    ]
    return "\n".join(lines)


def _recurrence_lines(figures: dict) -> list[str]:
    """The 复发 line of the text block (none when nothing recurred in the year)."""
    counts = [figures[k]["recurred"] for k in ("illegal_buildings", "farmland", "issues")]
    if not any(counts):
        return []
    return [
        "复发（已销号后问题重现，重新办理，不重复计数）：违法建筑{}处，复耕地块{}块，问题{}个".format(
            *counts
        )
    ]


def _staffing_lines(figures: dict) -> list[str]:
    """The certified staff and the grid, as two lines of the text block (none without them)."""
    if "grid" not in figures:
        return []
    grid = figures["grid"]
    towns = f"{grid['towns']}个镇、" if grid.get("towns") else ""
    return [
        f"持证执法人员：{figures['certified_officers']}名",
        f"网格：{towns}{grid['villages']}个村、{grid['groups']}个村民小组，"
        f"网格员{grid['grid_members']}名",
    ]


def _this_year() -> int:
    zone = ZoneInfo(current_app.config.get("TOWN_TIMEZONE", "Asia/Shanghai"))
    return datetime.now(zone).year


@click.command("report")
@with_appcontext
@click.option("--year", type=int, help="Calendar year (default: this year in TOWN_TIMEZONE)")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "docx"]),
    default="text",
    show_default=True,
)
@click.option("--groups", is_flag=True, help="JSON: add each village's groups (组)")
@click.option(
    "--town", "town_code", help="One town of the county, by its code (default: the whole county)"
)
@click.option("--out", "out", type=click.Path(dir_okay=False), help="docx: the file to write")
def report_command(year, output, groups, town_code, out) -> None:
    """Print the year figures (拆除, 复耕, 整改 …) and the summary paragraph, of the county or one town.

    With --format docx, write the year report as a Word document to --out.
    """
    from inspection import db

    if output == "docx":
        _write_docx(year or _this_year(), town_code, out)
        return
    try:
        figures = year_figures(
            db.session(), year or _this_year(), groups=groups, town_code=town_code
        )
    except InvalidInput as exc:
        raise click.ClickException(exc.message("zh")) from None
    if output == "json":
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        click.echo(format_text(figures))


def _write_docx(year: int, town_code: str | None, out: str | None) -> None:
    """Write the year report .docx (reporting.year_docx) to `out`."""
    from inspection import db
    from inspection.reporting.year_docx import build_year_report, year_report_content

    if not out:
        raise click.UsageError("--format docx needs --out FILE")
    radius_m = float(current_app.config["PATROL_COVERAGE_RADIUS_M"])
    try:
        content = year_report_content(db.session(), year, radius_m=radius_m, town_code=town_code)
    except InvalidInput as exc:
        raise click.ClickException(exc.message("zh")) from None
    data = build_year_report(content)
    with open(out, "wb") as handle:
        handle.write(data)
    click.echo(f"{out}: {len(data):,} bytes")
