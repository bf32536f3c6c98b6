"""Log in and out, with failed logins slowed down, locked for a while, and audited."""

import secrets
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from inspection import db, journal
from inspection.accounts import throttle
from inspection.accounts.models import User

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
    return render_template("accounts/login.html", username=username), status


@cache
def _dummy_hash() -> str:
    """A hash made like a user's, of a random password: what an unknown name is checked against."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _password_matches(user: User | None, password: str) -> bool:
    """Whether the user is active and the password his; an unknown name costs the same hash time."""
    if user is None:
        check_password_hash(_dummy_hash(), password)  # so timing does not tell which names exist
        return False
    return user.check_password(password) and user.active


def _refuse_locked(s, username: str, address: str | None, until: datetime, now: datetime):
    """Answer 429 while the account or address is locked, and note the refusal in the audit log."""
    seconds = max(1, int((until - now).total_seconds()))
    journal.log(s, "login_refused_locked", username=username, address=address)
    s.commit()
    return _refuse(
        username, _("Too many failed logins. Try again in %(n)d seconds.", n=seconds), 429
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    username = request.form.get("username", "").strip()[:64]
    if request.method == "GET":
        return render_template("accounts/login.html", username=username)
    s = db.session()
    address = request.remote_addr
    now = throttle.utcnow()
    until = throttle.locked_until(s, username, address, now)
    if until is not None:
        db.begin_write(s)
        return _refuse_locked(s, username, address, until, now)
    user = s.scalars(select(User).where(User.username == username)).first()
    good = _password_matches(user, request.form.get("password", ""))
    db.begin_write(s)  # the password is checked outside the write lock
    # Guesses sent in parallel all passed the first check: under the write lock, look again.
    now = throttle.utcnow()
    until = throttle.locked_until(s, username, address, now, for_update=True)
    if until is not None:
        return _refuse_locked(s, username, address, until, now)
    if good:
        throttle.record_success(s, username)
        journal.log(s, "login", user=user, address=address)
        s.commit()
        session.clear()
        session.permanent = True
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    locks = throttle.record_failure(s, username, address, now)
    journal.log(s, "login_failed", username=username, address=address)
    for lock in locks:
        until_text = lock.until.isoformat(timespec="seconds") + "Z"
        details = {"until": until_text, "failures": lock.failures}
        journal.log(
            s, "login_locked", username=username, address=address, target=lock.key, details=details
        )
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
    journal.log(s, "logout", user=user, address=request.remote_addr)
    s.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
