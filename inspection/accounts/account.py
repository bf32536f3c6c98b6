"""The user's own account: change the password, ending every other session of his."""

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from flask_wtf.csrf import CSRFError

from inspection import db
from inspection.accounts.forms import PasswordForm
from inspection.accounts.models import User
from inspection.accounts.users import change_own_password
from inspection.errors import DomainError, InvalidInput

bp = Blueprint("account", __name__, url_prefix="/account")
CSRF_REFUSED = InvalidInput(
    "csrf",
    "表单已过期或缺少安全令牌，未保存任何内容。请核对后重新提交。",
    "The form had expired or lacked its security token; nothing was saved. "
    "Check it and submit again.",
)


def _lang() -> str:
    return getattr(g, "lang", "zh")


def relogin(user: User) -> None:
    """Keep this browser logged in after the user's session version moved (other sessions end)."""
    session.clear()
    session.permanent = True
    login_user(user)
    session["seen"] = time.time()


def _page(form, status: int = 200, notice: str | None = None):
    return render_template("accounts/password.html", form=form, notice=notice), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password (the current one first); every other session of his ends."""
    form = PasswordForm()
    if request.method == "GET":
        return _page(form)
    s = db.session()
    s.rollback()  # end the login check's read; take the write lock first
    db.begin_write(s)
    if form.validate():
        user = s.merge(current_user._get_current_object())
        try:
            change_own_password(
                s, user, form.old_password.data, form.new_password.data, address=request.remote_addr
            )
            s.commit()
        except DomainError as exc:
            s.rollback()
            form.add_error(exc, _lang())
        else:
            relogin(user)
            flash(_("Password changed. Your other sessions have ended."), "success")
            return redirect(url_for("home.index"), code=303)
    return _page(form, 422)


@bp.errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError):
    """A missing or stale CSRF token: refuse (400) and show the form again, nothing changed."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return _page(PasswordForm(), 400, CSRF_REFUSED.message(_lang()))
