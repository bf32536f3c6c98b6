"""The grid's commands: flask import-grid PATH [--level …], flask county --name NAME [--code CODE]."""

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from inspection import db
from inspection.grid.county import name_county

LEVEL_CHOICES = ["county", "town", "village", "group"]


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.command("import-grid")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--level", type=click.Choice(LEVEL_CHOICES), help="Level of every cell")
@click.option("--code-field", help="Attribute holding the cell code")
@click.option("--name-field", help="Attribute holding the cell name")
@click.option("--parent-field", help="Attribute holding the parent cell code")
@click.option("--crs", help="CRS of a file that names none, e.g. EPSG:4526")
def import_grid_command(path, level, code_field, name_field, parent_field, crs) -> None:
    """Import grid boundaries (GeoJSON, GeoPackage, zipped Shapefile, KML, TopoJSON)."""
    from geodata.errors import GeodataError
    from inspection.grid.importer import import_grid
    from inspection.settings import archive_limits

    session = db.session()
    try:
        with click.progressbar(length=1, label="读取边界 / reading") as bar:
            summary = import_grid(
                session,
                path,
                level=level,
                code_field=code_field,
                name_field=name_field,
                parent_field=parent_field,
                crs=crs,
                progress=bar.update,
                zip_limits=archive_limits(current_app.config),
            )
        session.commit()
    except GeodataError as exc:
        session.rollback()
        _fail(f"导入失败，未写入任何网格：{exc.message_zh}\n{exc.message_en}")
    for key, value in summary.items():
        click.echo(f"{key}: {value}")


@click.command("county")
@with_appcontext
@click.option("--name", required=True, help="The county's name, e.g. 蔡甸区")
@click.option("--code", help="Its code, e.g. the 6-digit division code 420114")
def county_command(name, code) -> None:
    """Name the county (and give its code); made over the towns if there is none yet."""
    from inspection.errors import DomainError

    session = db.session()
    try:
        county, created = name_county(session, name, code)
        session.commit()
    except DomainError as exc:
        session.rollback()
        _fail(f"{exc.message_zh}\n{exc.message_en}")
    verb = "已建立县级网格" if created else "已更新县级网格"
    click.echo(f"{verb} {county.code} {county.name}")
