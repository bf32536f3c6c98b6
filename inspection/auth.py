"""Log in and out, with failed logins slowed down, locked for a while, and audited."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from inspection import audit, db
from inspection.models import User, utcnow

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    """Only redirect to a path on this site after login."""
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.index")
    return target


def _refuse(username: str, message: str, status: int):
    flash(message, "error")
    return render_template("auth/login.html", username=username), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    username = request.form.get("username", "").strip()[:64]
    if request.method == "GET":
        return render_template("auth/login.html", username=username)
    s = db.session()
    address = request.remote_addr
    until = audit.locked_until(s, username, address)
    if until is not None:
        seconds = max(1, int((until - utcnow()).total_seconds()))
        db.begin_write(s)
        audit.log(s, "login_refused_locked", username=username, address=address)
        s.commit()
        return _refuse(
            username, _("Too many failed logins. Try again in %(n)d seconds.", n=seconds), 429
        )
    user = s.scalars(select(User).where(User.username == username)).first()
    good = (
        user is not None and user.active and user.check_password(request.form.get("password", ""))
    )
    db.begin_write(s)  # the password is checked outside the write lock
    if good:
        audit.record_success(s, username)
        audit.log(s, "login", user=user, address=address)
        s.commit()
        session.clear()
        session.permanent = True
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    locked = audit.record_failure(s, username, address)
    audit.log(s, "login_failed", username=username, address=address)
    if locked:
        audit.log(s, "login_locked", username=username, address=address)
    s.commit()
    return _refuse(username, _("Wrong username or password."), 401)


@bp.post("/logout")
@login_required
def logout():
    """Log out, ending every session of this user (old cookies stop working everywhere)."""
    s = db.session()
    db.begin_write(s)
    user = s.merge(current_user._get_current_object())
    user.session_version += 1
    audit.log(s, "logout", user=user, address=request.remote_addr)
    s.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
