"""The 图斑 commands: flask import-tuban FILE --batch NAME --deadline YYYY-MM-DD [--json]."""

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from inspection import db
from inspection.tuban import models as _models  # noqa: F401  (its tables in Base.metadata: backup, restore)


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.command("import-tuban")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--batch", "batch_name", required=True, help="The batch's name, e.g. 2026年第3季度卫片"
)
@click.option(
    "--deadline",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the checks are due back (YYYY-MM-DD)",
)
@click.option(
    "--id-field", help="The field holding the 图斑 number (default: 图斑编号, TBBH, JCBH, BSM)"
)
@click.option("--crs", help="The CRS when the file states none, e.g. EPSG:4549")
@click.option("--town", "town_code", help="Only this town's groups (default: every town)")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
def import_tuban_command(path, batch_name, deadline, id_field, crs, town_code, as_json) -> None:
    """Import a batch of 卫片图斑 (zipped Shapefile, GeoPackage, GeoJSON): link or dispatch each."""
    from geodata.errors import GeodataError
    from inspection.errors import DomainError
    from inspection.grid.models import GridCell
    from inspection.settings import archive_limits
    from inspection.tuban.importer import import_batch

    session = db.session()
    town = None
    if town_code:
        town = session.scalar(
            select(GridCell).where(GridCell.level == "town", GridCell.code == town_code)
        )
        if town is None:
            _fail(f"没有编码为 {town_code} 的镇\nNo town has the code {town_code}")
    try:
        report = import_batch(
            session,
            path,
            batch_name=batch_name,
            deadline_on=deadline.date(),
            id_field=id_field,
            crs=crs,
            town=town,
            zip_limits=archive_limits(current_app.config),
            max_vertices=int(current_app.config["MAX_VERTICES"]),
        )
        session.commit()
    except (GeodataError, DomainError) as exc:
        session.rollback()
        _fail(f"导入失败，未写入任何图斑：{exc.message_zh}\nNothing imported: {exc.message_en}")
    except FileNotFoundError:
        session.rollback()
        _fail(f"找不到文件：{path}\nNo such file: {path}")
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
        return
    click.echo(
        f"批次 {report.batch}：新导入 {report.imported} 个，未变 {report.unchanged} 个，"
        f"更新 {report.updated} 个；关联已有案件 {report.linked} 个，下发核查任务 {report.tasks} 个，"
        f"拒收 {len(report.refused)} 个"
    )
    click.echo(
        f"Batch {report.batch}: {report.imported} new, {report.unchanged} unchanged, "
        f"{report.updated} updated; {report.linked} linked to cases, {report.tasks} tasks, "
        f"{len(report.refused)} refused"
    )
    for number in report.repaired:
        click.secho(
            f"已修复自相交的面 / repaired an invalid polygon: {number}", fg="yellow", err=True
        )
    for refusal in report.refused:
        click.secho(
            f"第 {refusal.row} 行（{refusal.number or '无编号'}）：{refusal.reason_zh}",
            fg="yellow",
            err=True,
        )
