"""The grid's admin pages: the 镇 → 村 → 组 tree with its people, and a cell's name and people.

They edit the user ↔ cell link, which accounts owns (User.cells), so they live here, above grid.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from inspection import db
from inspection.accounts.admin import ROLE_ORDER, bp, lang, redisplays, write_session
from inspection.accounts.cells import grid_tree, update_grid_cell
from inspection.accounts.forms import GridCellForm, user_choices
from inspection.accounts.models import User
from inspection.errors import DomainError
from inspection.grid.cells import cell_by_code
from inspection.grid.models import GridCell


@bp.route("/grid")
def grid():
    """The grid as a tree, town → villages → groups, with the users responsible for each cell."""
    return render_template("accounts/grid.html", tree=grid_tree(db.session()))


def _cell_page(form, cell: GridCell, status: int = 200, notice: str | None = None):
    return render_template("accounts/grid_cell.html", form=form, cell=cell, notice=notice), status


@bp.route("/grid/<code>", methods=["GET", "POST"])
def grid_cell(code: str):
    """Edit a cell's name and its responsible users; boundaries come only from import-grid."""
    session = write_session() if request.method == "POST" else db.session()
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
            form.add_error(exc, lang())
        else:
            flash(_("Grid cell %(code)s saved.", code=cell.code), "success")
            return redirect(url_for("admin.grid"), code=303)
    return _cell_page(form, cell, 422)


@redisplays("admin.grid_cell")
def _cell_again(session, args: dict, notice: str):
    """The cell page of a refused POST, with what was entered (None if the cell is gone)."""
    cell = cell_by_code(session, args.get("code", ""))
    if cell is None:
        return None
    form = GridCellForm()
    form.member_ids.choices = user_choices(session.scalars(select(User)).all())
    return _cell_page(form, cell, 400, notice)
