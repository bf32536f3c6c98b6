"""Command-line tasks: flask --app app init-db | demo | import-grid | create-user."""

import getpass
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from inspection import db, migrate
from inspection.accounts.models import User
from inspection.grid.models import GridCell
from inspection.vocab import ROLES


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database or upgrade it to the newest schema, keeping its data."""
    before = migrate.current_revision(db.engine())
    migrate.upgrade(db.engine())
    after = migrate.current_revision(db.engine())
    if before == after:
        click.echo(f"数据库已是最新 (revision {after}).")
    else:
        click.echo(f"数据库已升级 {before or '（空）'} → {after}.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo town 平岗镇 with users and a year of cases (only the first time)."""
    from inspection.ops.demo import load_demo

    session = db.session()
    result = load_demo(session)
    session.commit()
    names = set(result["logins"])
    click.echo("演示账号 / demo logins (password demo1234):")
    for role, (zh, en) in ROLES.items():
        users = session.scalars(select(User.username).where(User.role == role).order_by(User.id))
        shown = [u for u in users if u in names]
        if len(shown) > 6:
            shown = [*shown[:3], "…", shown[-1], f"({len(shown)})"]
        if shown:
            click.echo(f"  {zh} {en}: {' '.join(shown)}")


@click.command("import-grid")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--level", type=click.Choice(["town", "village", "group"]), help="Level of every cell"
)
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


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(sorted(ROLES)))
@click.option("--grid", "grids", multiple=True, help="Grid cell code the user works in")
@click.option("--password", help="Asked for when not given")
@click.option("--name", "display_name", help="Display name (default: the username)")
@click.option("--phone")
@click.option("--cert-number", help="执法证号 (officers)")
@click.option("--cert-expires", type=click.DateTime(["%Y-%m-%d"]), help="执法证有效期至 YYYY-MM-DD")
def create_user_command(
    username, role, grids, password, display_name, phone, cert_number, cert_expires
) -> None:
    """Create a user with a role and the grid cells he works in."""
    session = db.session()
    db.begin_write(session)
    if session.scalars(select(User).where(User.username == username)).first():
        _fail(f"用户 {username} 已存在 / user exists")
    cells = []
    for code in grids:
        cell = session.scalars(select(GridCell).where(GridCell.code == code)).first()
        if cell is None:
            _fail(f"没有编码为 {code} 的网格 / no grid cell {code}")
        cells.append(cell)
    if not password:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            _fail("两次输入的密码不一致 / passwords differ")
    if len(password) < 8:
        _fail("密码至少8位 / password needs at least 8 characters")
    user = User(
        username=username,
        display_name=display_name or username,
        phone=phone,
        role=role,
        cert_number=cert_number,
        cert_expires_on=cert_expires.date() if cert_expires else None,
        cells=cells,
    )
    user.set_password(password)
    session.add(user)
    session.commit()
    click.echo(f"已创建用户 {username} ({ROLES[role][0]})")


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    from inspection.accounts.tokens import api_token_command
    from inspection.cases.ledger_import import import_cases_command
    from inspection.ops.backup import backup_command
    from inspection.ops.restore import restore_command
    from inspection.reporting.exports import export_command
    from inspection.reporting.figures import report_command

    for command in (
        init_db_command,
        demo_command,
        import_grid_command,
        create_user_command,
        import_cases_command,
        export_command,
        report_command,
        backup_command,
        restore_command,
        api_token_command,
    ):
        app.cli.add_command(command)
