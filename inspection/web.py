"""Wire the web layer: login, CSRF, languages, error pages and the blueprints."""

import time
from datetime import timedelta

from flask import Flask, g, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFProtect

from inspection import db, security
from inspection.accounts.models import User
from inspection.errors import DomainError

LANGUAGES = ("zh", "en")
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """Find the user of a session; a bumped session_version ends old sessions."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


def select_language() -> str:
    """The UI language: ?lang=, then the remembered cookie, else the configured default (zh)."""
    lang = request.args.get("lang") or request.cookies.get("lang")
    if lang in LANGUAGES:
        return lang
    from flask import current_app

    return current_app.config.get("LANGUAGE", "zh")


def _babel_locale() -> str:
    return select_language()


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, or when this request is HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _end_idle_sessions() -> None:
    """Log out a session idle for longer than SESSION_IDLE_MINUTES (checked on the server)."""
    from flask import current_app

    now = time.time()
    idle_s = float(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    seen = session.get("seen")
    if current_user.is_authenticated and seen is not None and now - seen > idle_s:
        logout_user()
        session.clear()
    if current_user.is_authenticated:
        session["seen"] = now


def init_app(app: Flask) -> None:
    """Register extensions, template helpers, error handlers and blueprints."""
    app.session_interface = SessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=float(app.config["SESSION_IDLE_MINUTES"])),
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)
    security.init_app(app)
    babel.init_app(app, locale_selector=_babel_locale)

    from inspection import vocab

    @app.before_request
    def _remember_language():
        g.lang = select_language()

    app.before_request(_end_idle_sessions)

    @app.after_request
    def _store_language(response):
        if request.args.get("lang") in LANGUAGES:
            response.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
        return response

    @app.context_processor
    def _template_helpers():
        lang = getattr(g, "lang", "zh")
        return {
            "lang": lang,
            "vocab": vocab,
            "status_label": lambda s, kind="issue": vocab.status_label(s, kind, lang),
            "label": lambda table, key: vocab.label(table, key, lang),
        }

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return render_template("errors/4xx.html", error=exc), exc.status

    @app.errorhandler(404)
    def _not_found(_exc):
        return render_template("errors/404.html"), 404

    @app.errorhandler(413)
    def _too_large(_exc):
        return render_template("errors/413.html"), 413

    @app.errorhandler(500)
    def _server_error(_exc):
        db.session.rollback()
        return render_template("errors/500.html"), 500

    from inspection import shell
    from inspection.accounts import (
        account,
        admin,
        auth,
        grid_views,  # noqa: F401  (its pages are on admin.bp)
    )
    from inspection.api import views as api_views
    from inspection.audit import views as audit_views
    from inspection.cases import (
        action_views,
        deadline_views,  # noqa: F401  (its page is on admin.bp)
        edit_views,
        report_views,  # noqa: F401  (the report forms are on the cases bp)
    )
    from inspection.cases import views as case_views
    from inspection.maps import views as map_views
    from inspection.reporting import home
    from inspection.reporting import views as dashboard_views

    app.register_blueprint(shell.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(case_views.bp)
    app.register_blueprint(action_views.bp)
    app.register_blueprint(edit_views.bp)
    app.register_blueprint(dashboard_views.bp)
    app.register_blueprint(map_views.bp)
    app.register_blueprint(api_views.bp)

    audit_views.init_app(app)
    # One /admin area: its pages come from accounts (users, grid_views) and cases (deadline_views).
    app.register_blueprint(admin.bp)
    app.register_blueprint(account.bp)

    from inspection.patrols import links as patrol_links
    from inspection.patrols import views as patrol_views

    app.register_blueprint(patrol_views.bp)
    from inspection.tuban import views as tuban_views

    app.register_blueprint(tuban_views.bp)
    patrol_links.init_app(app)

    from inspection.bulletins import views as bulletin_views

    app.register_blueprint(bulletin_views.bp)

    from inspection.documents import views as document_views

    app.register_blueprint(document_views.bp)

    from inspection.rechecks import views as recheck_views

    recheck_views.init_app(app)

    from inspection.alerts import views as alert_views

    alert_views.init_app(app)
