"""The accounts' commands: flask create-user NAME --role … [--grid CODE …]."""

import getpass
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.grid.models import GridCell
from inspection.vocab import ROLES


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


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
