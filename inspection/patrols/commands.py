"""The patrols' commands: flask import-patrol FILE --user NAME [--json], patrol-stats, purge-patrols."""

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from inspection import db


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def _user(session, username: str):
    """The user of a login name, or the command fails saying so."""
    from inspection.accounts.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _fail(f"没有用户 {username}\nNo user called {username}")
    return user


@click.command("import-patrol")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--user", "username", required=True, help="The 网格员 who walked it (login name)")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The town day of a track without times (default today)",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
def import_patrol_command(path, username, day, as_json) -> None:
    """Import a patrol track (GPX 1.0/1.1, KML, KMZ, GeoJSON) as one patrol of a user."""
    from geodata.errors import GeodataError
    from inspection.errors import DomainError
    from inspection.patrols.imports import import_patrol, summary

    session = db.session()
    user = _user(session, username)
    try:
        result = import_patrol(
            session, path, user, current_app.config, day=day.date() if day else None
        )
        session.commit()
    except (GeodataError, DomainError) as exc:
        session.rollback()
        _fail(f"导入失败，未写入任何巡查：{exc.message_zh}\nNothing imported: {exc.message_en}")
    patrol = result.patrol
    if not result.created:
        click.echo(
            f"该文件已导入过，仍是巡查 #{patrol.id}（{patrol.user.username}），未重复导入。\n"
            f"This file was imported before: patrol #{patrol.id} ({patrol.user.username}); "
            "nothing new was stored.",
            err=as_json,
        )
    if patrol.outside:
        click.echo(
            "注意：轨迹全部在本镇网格之外，已保存，但不计入任何组的覆盖率。\n"
            "Note: the whole track lies outside the grid; it is stored but covers no group.",
            err=as_json,
        )
    if as_json:
        click.echo(json.dumps(summary(patrol), ensure_ascii=False))
        return
    _print_summary(summary(patrol), patrol.has_times)


def _print_summary(figures: dict, has_times: bool) -> None:
    """The import's figures, one per line, for a person."""
    dropped = figures["dropped"]
    click.echo(f"巡查 / patrol #{figures['patrol_id']}")
    click.echo(f"轨迹点 points: {figures['points']:,}, 保留 kept: {figures['kept']:,}")
    click.echo(
        f"剔除 dropped: 精度 accuracy {dropped['accuracy']:,}, 速度 speed {dropped['speed']:,}, "
        f"时间重复 duplicate_time {dropped['duplicate_time']:,}"
    )
    click.echo(f"分段 segments: {figures['segments']}")
    click.echo(f"里程 length: {figures['length_m'] / 1000:.3f} km ({figures['length_m']:.1f} m)")
    if has_times:
        click.echo(
            f"时长 duration: {figures['duration_s'] / 3600:.2f} h ({figures['duration_s']:.0f} s)"
        )
        click.echo(f"开始 started: {figures['started_at']}, 结束 ended: {figures['ended_at']}")
    else:
        click.echo("时长 duration: 未知（文件没有时间） / unknown (the file has no times)")


@click.command("patrol-stats")
@with_appcontext
@click.option("--from", "date_from", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
def patrol_stats_command(date_from, date_to, as_json) -> None:
    """Patrols per 网格员 and coverage per 组 for a period of town days (both ends included)."""
    from inspection.errors import DomainError
    from inspection.patrols.stats import period_stats

    session = db.session()
    try:
        stats = period_stats(
            session,
            date_from.date(),
            date_to.date(),
            radius_m=float(current_app.config["PATROL_COVERAGE_RADIUS_M"]),
        )
    except DomainError as exc:
        _fail(f"{exc.message_zh}\n{exc.message_en}")
    if as_json:
        click.echo(json.dumps(stats.as_json(), ensure_ascii=False))
        return
    click.echo(f"巡查统计 / patrols {stats.date_from} – {stats.date_to}")
    click.echo("网格员 user: 巡查次数 patrols, 天数 days, km, 小时 hours, 巡查发现 cases found")
    for u in stats.users:
        click.echo(
            f"  {u['username']} {u['name']}: {u['patrols']}, {u['days']}, "
            f"{u['length_m'] / 1000:.2f}, {u['duration_s'] / 3600:.2f}, {u['cases_found']}"
        )
    click.echo("覆盖率 coverage:")
    for level, rows in (
        ("镇 town", stats.towns),
        ("村 village", stats.villages),
        ("组 group", stats.groups),
    ):
        for row in rows:
            click.echo(f"  {level} {row['code']} {row['name']}: {row['coverage']:.1%}")


@click.command("purge-patrols")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Only say how many patrols would be deleted")
def purge_patrols_command(dry_run) -> None:
    """Delete patrols older than PATROL_RETENTION_DAYS (tracks, batches, links; cases stay)."""
    from inspection import clock
    from inspection.patrols.retention import cutoff_day, expired, purge_patrols

    session = db.session()
    days = int(current_app.config["PATROL_RETENTION_DAYS"])
    today = clock.town_today()
    first_kept = cutoff_day(today, days)
    if dry_run:
        count = expired(session, today, days)
        click.echo(
            f"将删除 {count} 次巡查（{first_kept} 之前）/ would delete {count} patrols before {first_kept}"
        )
        return
    count = purge_patrols(session, today, days)
    session.commit()
    click.echo(
        f"已删除 {count} 次巡查（{first_kept} 之前，保留 {days} 天）/ deleted {count} patrols before {first_kept}"
    )
