"""督办 pages: the inbox (/alerts) and the admin pages of the rules and webhooks (/admin/…)."""

from functools import wraps

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from inspection import clock, db
from inspection.accounts.users import require_admin
from inspection.alerts import inbox, outbox, sources
from inspection.alerts.commands import check_options
from inspection.alerts.rules import (
    RECIPIENT_KINDS,
    TIER_LABELS,
    TIERS,
    alert_rules,
    set_alert_rules,
)
from inspection.alerts.webhooks import FORMATS, add_webhook, set_active, webhooks
from inspection.errors import DomainError
from inspection.vocab import SOURCES

bp = Blueprint("alerts", __name__)


def _lang() -> str:
    return getattr(g, "lang", "zh")


def _write_session():
    session = db.session()
    session.rollback()
    db.begin_write(session)
    return session


def admin_page(view):
    """Log in first; then admins only (403 for everyone else)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        require_admin(current_user)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/alerts")
@login_required
def alert_list():
    """The user's own alerts, newest day first, a day over the digest threshold as one digest."""
    days = inbox.inbox(db.session(), current_user, int(current_app.config["ALERT_DIGEST_OVER"]))
    return render_template("alerts/list.html", days=days, tiers=TIER_LABELS, link=sources.link)


@bp.route("/alerts/read", methods=["POST"])
@login_required
def read_all():
    """Mark all the user's alerts read."""
    session = _write_session()
    inbox.mark_read(session, current_user)
    session.commit()
    return redirect(url_for("alerts.alert_list"), code=303)


@bp.route("/alerts/<int:alert_id>/read", methods=["POST"])
@login_required
def read_one(alert_id: int):
    """Mark one of the user's alerts read (404 for another's)."""
    session = _write_session()
    inbox.mark_read(session, current_user, alert_id)
    session.commit()
    return redirect(url_for("alerts.alert_list"), code=303)


def _rules_page(rules, status=200, error=None):
    html = render_template(
        "alerts/rules.html",
        rules=rules,
        tiers=TIERS,
        tier_labels=TIER_LABELS,
        recipient_kinds=RECIPIENT_KINDS,
        sources=SOURCES,
        error=error,
    )
    return html, status


@bp.route("/admin/alert-rules", methods=["GET", "POST"])
@admin_page
def rules_page():
    """Show and save the tiers' days and recipients."""
    if request.method == "GET":
        return _rules_page(alert_rules(db.session()))
    session = _write_session()
    form = {key: request.form.getlist(key) for key in request.form}
    form = {
        key: (v if key.endswith(("_recipients", "_sources")) else v[0]) for key, v in form.items()
    }
    try:
        set_alert_rules(session, current_user, form)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _rules_page(alert_rules(session), 422, exc.message(_lang()))
    flash(_("Alert rules saved."), "success")
    return redirect(url_for("alerts.rules_page"), code=303)


def _webhooks_page(status=200, error=None, entered=None):
    session = db.session()
    html = render_template(
        "alerts/webhooks.html",
        webhooks=webhooks(session),
        deliveries=outbox.recent_deliveries(session),
        counts=outbox.status_counts(session),
        local_time=clock.local_time,
        formats=FORMATS,
        tiers=TIERS,
        tier_labels=TIER_LABELS,
        error=error,
        entered=entered or {},
    )
    return html, status


def _request_port() -> int | None:
    """The port this request came in on (the app's own, which a webhook may not point at)."""
    port = request.host.rpartition(":")[2]
    return int(port) if port.isdigit() else None


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@admin_page
def webhooks_page():
    """List the webhooks with their last deliveries; add one."""
    if request.method == "GET":
        return _webhooks_page()
    session = _write_session()
    entered = {k: request.form.get(k, "") for k in ("url", "format", "scope")}
    try:
        add_webhook(
            session,
            entered["url"],
            entered["format"],
            entered["scope"],
            request.form.getlist("tiers"),
            **check_options(current_app.config, _request_port()),
        )
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _webhooks_page(422, exc.message(_lang()), entered)
    flash(_("Webhook added."), "success")
    return redirect(url_for("alerts.webhooks_page"), code=303)


@bp.route("/admin/webhooks/<int:webhook_id>/active", methods=["POST"])
@admin_page
def webhook_active(webhook_id: int):
    """Enable (active=1) or disable (active=0) a webhook."""
    session = _write_session()
    set_active(session, webhook_id, request.form.get("active") == "1")
    session.commit()
    return redirect(url_for("alerts.webhooks_page"), code=303)


def init_app(app) -> None:
    """Register the blueprint and the header's unread count (one COUNT, only when logged in)."""
    app.register_blueprint(bp)

    @app.context_processor
    def _unread_alerts():
        def unread_alerts() -> int:
            if not current_user.is_authenticated:
                return 0
            return inbox.unread_count(db.session(), current_user)

        return {"unread_alerts": unread_alerts}
