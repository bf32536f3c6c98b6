"""Import existing ledgers (GeoJSON, GeoPackage, Excel) as cases with their history; `import-cases`.

Every row is checked first; one bad row imports nothing unless skip_bad. A re-import finds the
rows it already created by client_id: "import:<kind>:<编号>" when the file has an id / 编号
column, else "import:" + sha1 of kind, title, found_on and the geometry's WKB.

Category "environment" / 环保问题 names a group, not a category: the row gets the environment
category whose name (or keyword: 垃圾, 污水, 秸秆, 扬尘, 畜禽/养殖, 采砂) appears in its title or
description, else garbage (垃圾乱堆乱放, the group's most common; the group has no generic
category) with a warning for that row; the history note says so.

Every problem of a bad row is listed, each field checked on its own. A row whose case exists
already is never updated (that would rewrite its history); when its values differ from the
case's, the row is listed as a warning and counted in the summary.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from geodata.errors import GeodataError
from geodata.geometry import (
    MAX_VERTICES,
)
from inspection.cases.history import record_change
from inspection.cases.ledger_check import RowError, RowPlan, RowWarning, check_row
from inspection.cases.ledger_match import changed_warning, client_id_for, row_differences
from inspection.cases.ledger_rows import read_rows
from inspection.cases.models import Case
from inspection.cases.records import create_case
from inspection.db import begin_write
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell
from inspection.grid.placement import place
from inspection.settings import archive_limits


@dataclass
class ImportResult:
    """What an import did: cases created, rows already imported before (`changed` of them differ
    from the file and were left as they are), the bad rows and the warnings."""

    created: int = 0
    existing: int = 0
    changed: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row was good."""
        return not self.errors


def _history(session: Session, case, plan: RowPlan, actor, note: str) -> None:
    """Write the steps after `reported` with the row's dates (see the module docstring)."""
    found, done, verified = plan.found_on, plan.done_on, plan.verified_on
    steps = {
        "reported": [],
        "assigned": [("assigned", found)],
        "in_progress": [("assigned", found), ("in_progress", found)],
        "done": [("assigned", done), ("in_progress", done), ("done", done)],
        "verified": [("assigned", done), ("in_progress", done), ("done", done)],
        "void": [("void", done or found)],
    }[plan.status]
    if plan.status == "verified":
        steps.append(("verified", verified))
    for status, on in steps:
        details = {"officers": plan.officers} if plan.officers and status == "done" else None
        record_change(session, case, status, actor, on=on, note=note, details=details)


def _create(session: Session, plan: RowPlan, reporter, source_name: str) -> tuple[Case, bool]:
    fields = dict(plan.fields)
    demolished = fields.pop("demolished_area_m2", None)
    case, created = create_case(
        session,
        plan.kind,
        plan.geom,
        fields,
        reporter,
        client_id=client_id_for(plan),
        found_on=plan.found_on,
    )
    if created:
        if demolished is not None:
            case.demolished_area_m2 = demolished
        note = f"导入自 {source_name}" + (f"；{plan.note}" if plan.note else "")
        case.history[0].note = note
        _history(session, case, plan, reporter, note)
        session.flush()
    return case, created


def town_problem(session: Session, plan: RowPlan, towns: dict) -> tuple[str, str] | None:
    """Why the town a row names (code or name) is wrong for it: unknown, or not where it lies.

    `towns` caches the lookups of one import. None when the row names no town or the right one.
    """
    named = plan.town
    if named not in towns:
        found = session.scalars(
            select(GridCell).where(
                GridCell.level == "town", or_(GridCell.code == named, GridCell.name == named)
            )
        ).all()
        towns[named] = found[0] if len(found) == 1 else None
    town = towns[named]
    if town is None:
        return (f"没有编码或名称为“{named}”的镇", f"No town has the code or name “{named}”")
    placed = place(session, plan.geom)
    if placed.outside or placed.town_id == town.id:
        return None  # outside the grid is said of the row by create_case
    there = session.get(GridCell, placed.town_id)
    return (
        f"位置在{there.name}（{there.code}）内，不在表中所写的{town.name}（{town.code}）",
        f"The location lies in {there.code}, not in the town the row names ({town.code})",
    )


def import_cases(
    session: Session,
    path,
    skip_bad: bool = False,
    *,
    kind: str | None = None,
    reporter=None,
    zip_limits: dict | None = None,
    max_vertices: int = MAX_VERTICES,
) -> ImportResult:
    """Import the rows of a GeoJSON, GeoPackage or Excel ledger as cases; nothing when a row is bad.

    With skip_bad the good rows are imported and the bad ones listed. Every problem of a row is
    listed, not just its first. A row whose case exists already is left as it is; when the file's
    values differ from the case's it is counted as `changed` and listed among the warnings.
    The caller commits.
    `zip_limits` (max_zip_entries, max_unzipped_bytes) bound a zipped file and `max_vertices`
    each geometry; see settings.
    Raises GeodataError / InvalidInput when the file itself cannot be read.
    """
    path = Path(path)
    result = ImportResult()
    plans: list[tuple[int, RowPlan]] = []
    unchecked: list[tuple[int, object]] = []
    for number, properties, geom in read_rows(path, kind, zip_limits or {}):
        plan, errors, shape = check_row(properties, geom, kind, max_vertices)
        result.errors += [RowError(number, *error) for error in errors]
        if plan is not None:
            plans.append((number, plan))
        elif shape is not None:
            unchecked.append((number, shape))
    begin_write(session)
    for number, shape in unchecked:  # a bad row's place, which create_case checks of good ones
        if place(session, shape).outside:
            result.errors.append(RowError(number, "geometry", *_OUTSIDE))
    outer = session.begin_nested()
    towns: dict = {}
    for number, plan in plans:
        if plan.town and (problem := town_problem(session, plan, towns)):
            result.errors.append(RowError(number, "town", *problem))
            continue
        try:
            with session.begin_nested():
                case, created = _create(session, plan, reporter, path.name)
        except (InvalidInput, GeodataError) as exc:
            result.errors.append(
                RowError(
                    number,
                    "geometry" if "grid" in exc.code else "row",
                    exc.message_zh,
                    exc.message_en,
                )
            )
            continue
        result.case_ids.append(case.id)
        result.created += created
        result.existing += not created
        if created:
            result.warnings += [RowWarning(number, *warning) for warning in plan.warnings]
        elif differences := row_differences(case, plan):
            result.changed += 1
            result.warnings.append(changed_warning(number, differences))
    if result.errors and not skip_bad:
        outer.rollback()
        result.created = result.existing = result.changed = 0
        result.case_ids = []
    else:
        outer.commit()
    result.errors.sort(key=lambda e: e.row)
    result.warnings.sort(key=lambda w: w.row)
    return result


# What create_case says of a location outside the grid; said here too of a row with other problems.
_OUTSIDE = (
    "位置不在本镇任何网格（组）内，请检查位置",
    "The location lies outside every grid group of the town",
)


@click.command("import-cases")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and list the bad ones")
@click.option(
    "--kind",
    type=click.Choice(["issue", "illegal_building", "farmland"]),
    help="Kind of rows that name none",
)
def import_cases_command(path, skip_bad, kind) -> None:
    """Import cases from a GeoJSON, GeoPackage or Excel ledger (经度/纬度 or WKT columns)."""
    from inspection import db

    session = db.session()
    try:
        result = import_cases(
            session,
            path,
            skip_bad,
            kind=kind,
            zip_limits=archive_limits(current_app.config),
            max_vertices=int(current_app.config["MAX_VERTICES"]),
        )
    except (GeodataError, InvalidInput) as exc:
        session.rollback()
        click.secho(f"导入失败：{exc.message_zh}\n{exc.message_en}", fg="red", err=True)
        sys.exit(1)
    for error in result.errors:
        click.secho(str(error), fg="yellow", err=True)
    for warning in result.warnings:
        click.secho(f"注意 / warning: {warning}", fg="yellow", err=True)
    if result.errors and not skip_bad:
        session.rollback()
        click.secho(
            f"有 {len(result.errors)} 处错误，未导入任何案件（可用 --skip-bad 只导入正确的行）\n"
            f"{len(result.errors)} problems: nothing imported (use --skip-bad to import the good rows)",
            fg="red",
            err=True,
        )
        sys.exit(1)
    session.commit()
    skipped = len({error.row for error in result.errors})
    click.echo(
        f"新建 {result.created} 件，已存在 {result.existing} 件"
        f"（其中 {result.changed} 件与文件不同，未更新），跳过 {skipped} 行"
    )
    click.echo(
        f"Created {result.created}, already there {result.existing} "
        f"({result.changed} of them differ from the file, not updated), skipped {skipped} rows"
    )
