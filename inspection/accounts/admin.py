"""The /admin area: admins only, one CSRF refusal for all its forms, and the users' pages.

Its other pages add their routes to this blueprint: the grid (accounts.grid_views) and the default
time limits (cases.deadline_views), each registering how its form is shown again (`redisplays`).
"""

from collections.abc import Callable

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inspection import clock, db
from inspection.accounts.account import CSRF_REFUSED, relogin
from inspection.accounts.forms import NewUserForm, UserForm
from inspection.accounts.models import User
from inspection.accounts.users import create_user, require_admin, update_user
from inspection.errors import DomainError, NotAllowed
from inspection.grid.models import GridCell

bp = Blueprint("admin", __name__, url_prefix="/admin")
ROLE_ORDER = {role: n for n, role in enumerate(("admin", "supervisor", "officer", "grid_member"))}


def lang() -> str:
    return getattr(g, "lang", "zh")


@bp.before_request
@login_required
def _admins_only():
    """Anonymous visitors go to the login page; logged-in users other than admins get 403."""
    require_admin(current_user)


def _not_admin():
    """The response for a visitor who may not use these pages, or None for an admin."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    try:
        require_admin(current_user)
    except NotAllowed as exc:
        return render_template("errors/4xx.html", error=exc), exc.status
    return None


def write_session():
    """End the read the login check started, then take the write lock before reading anything."""
    session = db.session()
    session.rollback()
    db.begin_write(session)
    return session


def _today():
    return clock.town_today()


def _cells(session) -> list[GridCell]:
    """Every cell, each under its parent (sorted by the codes of its lineage)."""
    cells = session.scalars(select(GridCell)).all()
    by_id = {c.id: c for c in cells}

    def lineage(cell: GridCell) -> list[str]:
        path = [cell.code]
        while cell.parent_id in by_id and len(path) < len(by_id):
            cell = by_id[cell.parent_id]
            path.insert(0, cell.code)
        return path

    return sorted(cells, key=lineage)


@bp.route("/users")
def users():
    """List every user with role, phone, cells, certificate (expired ones marked) and state."""
    rows = db.session.scalars(select(User).options(selectinload(User.cells))).all()
    rows = sorted(rows, key=lambda u: (ROLE_ORDER.get(u.role, 9), u.username))
    return render_template("accounts/users.html", users=rows, today=_today())


def _user_page(form, user: User | None, status: int = 200, notice: str | None = None):
    html = render_template("accounts/user_form.html", form=form, user=user, notice=notice)
    return html, status


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Show the new-user form and create the user."""
    session = write_session() if request.method == "POST" else db.session()
    form = NewUserForm()
    form.set_choices(_cells(session))
    if request.method == "GET":
        return _user_page(form, None)
    if form.validate():
        try:
            user = create_user(
                session,
                current_user,
                form.username.data,
                form.user_data(),
                address=request.remote_addr,
            )
            session.commit()
        except DomainError as exc:
            session.rollback()
            form.add_error(exc, lang())
        else:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"), code=303)
    return _user_page(form, None, 422)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    """Show a user's form and save the changes (a new password or disabling ends his sessions)."""
    session = write_session() if request.method == "POST" else db.session()
    user = session.get(User, user_id)
    if user is None:
        return render_template("errors/404.html"), 404
    form = UserForm(data=None if request.method == "POST" else UserForm.initial(user))
    form.set_choices(_cells(session))
    if request.method == "GET":
        return _user_page(form, user)
    if form.validate():
        try:
            changed = update_user(
                session, current_user, user, form.user_data(), address=request.remote_addr
            )
            session.commit()
        except DomainError as exc:
            session.rollback()
            form.add_error(exc, lang())
        else:
            if user.id == current_user.id and "password" in changed:
                relogin(user)  # his other sessions end, this one goes on
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"), code=303)
    return _user_page(form, user, 422)


REDISPLAY: dict[str, Callable] = {}  # endpoint → (session, view args, notice) → page or None


def redisplays(endpoint: str):
    """Register how a page of another package shows its refused form again (see _csrf_failed)."""

    def register(fn):
        REDISPLAY[endpoint] = fn
        return fn

    return register


def _redisplay(notice: str):
    """The page the refused POST came from, with everything entered, or None if there is none."""
    session = db.session()
    args = request.view_args or {}
    if request.endpoint == "admin.user_new":
        form = NewUserForm()
        form.set_choices(_cells(session))
        return _user_page(form, None, 400, notice)
    if request.endpoint == "admin.user_edit":
        user = session.get(User, args.get("user_id"))
        if user is None:
            return None
        form = UserForm()
        form.set_choices(_cells(session))
        return _user_page(form, user, 400, notice)
    if request.endpoint in REDISPLAY:
        return REDISPLAY[request.endpoint](session, args, notice)
    return None


@bp.errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError):
    """A missing or stale CSRF token: refuse (400), saving nothing, with the form as entered."""
    refused = _not_admin()
    if refused is not None:
        return refused
    page = _redisplay(CSRF_REFUSED.message(lang()))
    if page is None:
        return render_template("errors/4xx.html", error=CSRF_REFUSED), 400
    return page
