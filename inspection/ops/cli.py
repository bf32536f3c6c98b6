"""Command-line wiring: init-db and demo here, every package's commands registered on the app."""

import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from inspection import db, migrate
from inspection.accounts.models import User
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
@click.option(
    "--county", "county", is_flag=True, help="A demo county: 平岗镇 and more towns beside it."
)
@click.option(
    "--towns", type=click.IntRange(1, 30), default=5, show_default=True, help="Towns with --county."
)
@with_appcontext
def demo_command(county: bool, towns: int) -> None:
    """Load the demo town 平岗镇 (or with --county a county of towns) with users and cases, once."""
    from inspection.ops.demo import load_demo
    from inspection.ops.demo_county import load_demo_county

    session = db.session()
    result = load_demo_county(session, towns=towns) if county else load_demo(session)
    session.commit()
    _schedule_rechecks(session)
    if not county:
        _demo_tuban(session)
    if county:
        click.echo(f"{result['county']}: {towns} 个镇 / towns ({result['towns_added']} 新增 added)")
    names = set(result["logins"])
    click.echo("演示账号 / demo logins (password demo1234):")
    for role, (zh, en) in ROLES.items():
        users = session.scalars(select(User.username).where(User.role == role).order_by(User.id))
        shown = [u for u in users if u in names]
        if len(shown) > 6:
            shown = [*shown[:3], "…", shown[-1], f"({len(shown)})"]
        if shown:
            click.echo(f"  {zh} {en}: {' '.join(shown)}")


def _schedule_rechecks(session) -> None:
    """The demo's 回头看: the closed cases' re-checks that are due today (as the daily run would)."""
    from flask import current_app

    from inspection import clock
    from inspection.rechecks.schedule import schedule_rechecks

    created = schedule_rechecks(
        session,
        clock.town_today(),
        days=int(current_app.config["RECHECK_DAYS"]),
        window_days=int(current_app.config["RECHECK_WINDOW_DAYS"]),
    )
    session.commit()
    if created:
        click.echo(f"回头看任务 / re-checks due: {len(created)}")


def _demo_tuban(session) -> None:
    """The demo's 图斑 batch (ops.demo_tuban), once: linked to closed cases, or 核查 tasks."""
    from inspection import clock
    from inspection.ops.demo_tuban import demo_batch

    report = demo_batch(session, clock.town_today())
    session.commit()
    if report is not None:
        click.echo(
            f"卫片图斑 / satellite polygons: {report.imported} ({report.linked} 关联 linked, "
            f"{report.tasks} 核查任务 tasks)"
        )


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    from inspection.accounts.commands import create_user_command
    from inspection.accounts.tokens import api_token_command
    from inspection.alerts.commands import notify_command, webhook_group
    from inspection.bulletins.commands import bulletin_command
    from inspection.cases.ledger_import import import_cases_command
    from inspection.documents.commands import notice_command
    from inspection.grid.commands import county_command, import_grid_command
    from inspection.ops.backup import backup_command
    from inspection.ops.restore import restore_command
    from inspection.patrols.commands import (
        import_patrol_command,
        patrol_stats_command,
        purge_patrols_command,
    )
    from inspection.rechecks.commands import rechecks_group
    from inspection.reporting.exports import export_command
    from inspection.reporting.figures import report_command
    from inspection.tuban.commands import import_tuban_command

    for command in (
        init_db_command,
        demo_command,
        import_grid_command,
        county_command,
        create_user_command,
        import_cases_command,
        export_command,
        report_command,
        backup_command,
        restore_command,
        api_token_command,
        import_patrol_command,
        patrol_stats_command,
        purge_patrols_command,
        import_tuban_command,
        bulletin_command,
        notice_command,
        notify_command,
        webhook_group,
        rechecks_group,
    ):
        app.cli.add_command(command)
