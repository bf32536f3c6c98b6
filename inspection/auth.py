"""Log in and out."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from inspection import db
from inspection.models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    """Only redirect to a path on this site after login."""
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return url_for("home.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    username = request.form.get("username", "").strip()
    if request.method == "POST":
        user = db.session.scalars(select(User).where(User.username == username)).first()
        if (
            user is not None
            and user.active
            and user.check_password(request.form.get("password", ""))
        ):
            session.clear()
            session.permanent = True
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong username or password."), "error")
        return render_template("auth/login.html", username=username), 401
    return render_template("auth/login.html", username=username)


@bp.post("/logout")
@login_required
def logout():
    """Log out, ending every session of this user (old cookies stop working everywhere)."""
    user = db.session.merge(current_user._get_current_object())
    user.session_version += 1
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
