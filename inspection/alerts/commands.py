"""Commands: `flask notify` (one pass) and `flask webhook add|list`."""

import json
import sys
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from inspection import clock, db
from inspection.alerts.notify import notify
from inspection.alerts.webhooks import FORMATS, add_webhook, webhooks
from inspection.errors import DomainError


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def check_options(config, request_port: int | None = None) -> dict:
    """The URL check's settings from the app config (and the port a request came in on)."""
    return {
        "public_url": config.get("PUBLIC_URL") or "",
        "app_ports": {p for p in (request_port,) if p},
        "allow_private": bool(config.get("WEBHOOK_ALLOW_PRIVATE")),
    }


@click.command("notify")
@click.option(
    "--today",
    "today_text",
    default=None,
    help="The day to compute, YYYY-MM-DD (default: the town's today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@with_appcontext
def notify_command(today_text: str | None, as_json: bool) -> None:
    """Compute the day's alerts, queue the webhooks' messages and send what is due."""
    try:
        today = date.fromisoformat(today_text) if today_text else clock.town_today()
    except ValueError:
        _fail(f"--today 须为 YYYY-MM-DD：{today_text!r}")
    counts = notify(db.session(), today, current_app.config)
    if as_json:
        click.echo(json.dumps(counts))
    else:
        click.echo(
            f"督办 {today}: {counts['alerts']} 条新提醒 alerts, {counts['sent']} 已发送 sent, "
            f"{counts['failed']} 失败 failed, {counts['pending']} 待发送 pending"
        )


@click.group("webhook")
def webhook_group() -> None:
    """Webhooks that receive the alerts (WeCom, DingTalk group robots, JSON)."""


@webhook_group.command("add")
@click.argument("url")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--scope", default="", help="A town/village/group code prefix (empty: all).")
@click.option("--tiers", default="blue,yellow,red", show_default=True)
@with_appcontext
def webhook_add_command(url: str, fmt: str, scope: str, tiers: str) -> None:
    """Add a webhook after checking its URL."""
    session = db.session()
    try:
        webhook = add_webhook(session, url, fmt, scope, tiers, **check_options(current_app.config))
        session.commit()
    except DomainError as exc:
        session.rollback()
        _fail(f"{exc.message_zh} / {exc.message_en}")
    click.echo(
        f"webhook {webhook.id}: {webhook.format} {webhook.url} scope={webhook.scope or '*'} tiers={','.join(webhook.tiers)}"
    )


@webhook_group.command("list")
@with_appcontext
def webhook_list_command() -> None:
    """List the webhooks."""
    for webhook in webhooks(db.session()):
        state = "on" if webhook.active else "off"
        click.echo(
            f"{webhook.id}\t{state}\t{webhook.format}\t{webhook.scope or '*'}\t"
            f"{','.join(webhook.tiers)}\t{webhook.url}"
        )
