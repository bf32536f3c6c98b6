"""The 回头看 command: flask rechecks schedule [--today YYYY-MM-DD] [--json] (daily, beside notify)."""

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from inspection import clock, db
from inspection.rechecks import models as _models  # noqa: F401  (its table in Base.metadata)


@click.group("rechecks")
def rechecks_group() -> None:
    """回头看: the re-checks of closed illegal-building and farmland cases."""


@rechecks_group.command("schedule")
@with_appcontext
@click.option(
    "--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day to run for (default: today)"
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
def schedule_command(today, as_json) -> None:
    """Create the re-checks that are due (RECHECK_DAYS after a closure), once each."""
    from inspection.rechecks.schedule import schedule_rechecks

    day = today.date() if today else clock.town_today()
    session = db.session()
    created = schedule_rechecks(
        session,
        day,
        days=int(current_app.config["RECHECK_DAYS"]),
        window_days=int(current_app.config["RECHECK_WINDOW_DAYS"]),
    )
    session.commit()
    if as_json:
        payload = {"day": day.isoformat(), "created": len(created)}
        payload["cases"] = [r.case_id for r in created]
        click.echo(json.dumps(payload))
        return
    click.echo(f"{day}：新建回头看任务 {len(created)} 个 / {len(created)} re-checks created")
