"""Admin pages: users (roles, certificates, cells, disabling, passwords), grid cells, time limits."""

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

from inspection import audit, clock, db, vocab
from inspection.account import CSRF_REFUSED, relogin
from inspection.admin_forms import DeadlinesForm, GridCellForm, NewUserForm, UserForm, user_choices
from inspection.deadlines import MAX_DAYS, TIME_LIMITS, deadline_days, set_deadline_days
from inspection.errors import DomainError, NotAllowed
from inspection.grid_cells import cell_by_code, grid_tree, update_grid_cell
from inspection.models import GridCell, User
from inspection.users import create_user, require_admin, update_user

bp = Blueprint("admin", __name__, url_prefix="/admin")
ROLE_ORDER = {role: n for n, role in enumerate(("admin", "supervisor", "officer", "grid_member"))}


def _lang() -> str:
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


def _begin_write():
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
    return render_template("admin/users.html", users=rows, today=_today())


def _user_page(form, user: User | None, status: int = 200, notice: str | None = None):
    html = render_template("admin/user_form.html", form=form, user=user, notice=notice)
    return html, status


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Show the new-user form and create the user."""
    session = _begin_write() if request.method == "POST" else db.session()
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
            form.add_error(exc, _lang())
        else:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"), code=303)
    return _user_page(form, None, 422)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    """Show a user's form and save the changes (a new password or disabling ends his sessions)."""
    session = _begin_write() if request.method == "POST" else db.session()
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
            form.add_error(exc, _lang())
        else:
            if user.id == current_user.id and "password" in changed:
                relogin(user)  # his other sessions end, this one goes on
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"), code=303)
    return _user_page(form, user, 422)


@bp.route("/grid")
def grid():
    """The grid as a tree, town → villages → groups, with the users responsible for each cell."""
    return render_template("admin/grid.html", tree=grid_tree(db.session()))


def _cell_page(form, cell: GridCell, status: int = 200, notice: str | None = None):
    return render_template("admin/grid_cell.html", form=form, cell=cell, notice=notice), status


@bp.route("/grid/<code>", methods=["GET", "POST"])
def grid_cell(code: str):
    """Edit a cell's name and its responsible users; boundaries come only from import-grid."""
    session = _begin_write() if request.method == "POST" else db.session()
    cell = cell_by_code(session, code)
    if cell is None:
        return render_template("errors/404.html"), 404
    initial = {"name": cell.name, "member_ids": [u.id for u in cell.members]}
    form = GridCellForm(data=None if request.method == "POST" else initial)
    people = session.scalars(select(User)).all()
    form.member_ids.choices = user_choices(
        sorted(people, key=lambda u: (not u.active, ROLE_ORDER.get(u.role, 9), u.username))
    )
    if request.method == "GET":
        return _cell_page(form, cell)
    if form.validate():
        try:
            update_grid_cell(
                session,
                current_user,
                cell,
                form.name.data,
                form.member_ids.data or [],
                address=request.remote_addr,
            )
            session.commit()
        except DomainError as exc:
            session.rollback()
            form.add_error(exc, _lang())
        else:
            flash(_("Grid cell %(code)s saved.", code=cell.code), "success")
            return redirect(url_for("admin.grid"), code=303)
    return _cell_page(form, cell, 422)


def _deadlines_page(form, status: int = 200, notice: str | None = None):
    limits = [(limit, form[limit.key], _limit_label(limit.key)) for limit in TIME_LIMITS]
    html = render_template(
        "admin/deadlines.html", form=form, limits=limits, max_days=MAX_DAYS, notice=notice
    )
    return html, status


def _limit_label(key: str) -> str:
    table = vocab.CATEGORIES if key in vocab.CATEGORIES else vocab.KINDS
    return vocab.label(table, key, _lang())


@bp.route("/deadlines", methods=["GET", "POST"])
def deadlines():
    """Show the default time limits per category and kind, and save an admin's changes."""
    session = _begin_write() if request.method == "POST" else db.session()
    before = deadline_days(session)
    form = DeadlinesForm(data=None if request.method == "POST" else before)
    if request.method == "GET":
        return _deadlines_page(form)
    if form.validate():
        try:
            after = set_deadline_days(session, current_user, form.mapping())
            changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if changed:
                audit.log(
                    session,
                    "deadlines_updated",
                    user=current_user,
                    address=request.remote_addr,
                    target="setting:deadline_days",
                    details={"changed": changed},
                )
            session.commit()
        except DomainError as exc:
            session.rollback()
            form.add_error(exc, _lang())
        else:
            flash(_("Time limits saved."), "success")
            return redirect(url_for("admin.deadlines"), code=303)
    return _deadlines_page(form, 422)


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
    if request.endpoint == "admin.grid_cell":
        cell = cell_by_code(session, args.get("code", ""))
        if cell is None:
            return None
        form = GridCellForm()
        form.member_ids.choices = user_choices(session.scalars(select(User)).all())
        return _cell_page(form, cell, 400, notice)
    if request.endpoint == "admin.deadlines":
        return _deadlines_page(DeadlinesForm(), 400, notice)
    return None


@bp.errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError):
    """A missing or stale CSRF token: refuse (400), saving nothing, with the form as entered."""
    refused = _not_admin()
    if refused is not None:
        return refused
    page = _redisplay(CSRF_REFUSED.message(_lang()))
    if page is None:
        return render_template("errors/4xx.html", error=CSRF_REFUSED), 400
    return page
