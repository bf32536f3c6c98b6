"""The admin page of the default time limits (days per category and kind), on the /admin blueprint."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from inspection import db, journal, vocab
from inspection.accounts.admin import bp, lang, redisplays, write_session
from inspection.accounts.forms import PageForm
from inspection.cases.deadlines import MAX_DAYS, TIME_LIMITS, deadline_days, set_deadline_days
from inspection.errors import DomainError


def _days_field(limit) -> IntegerField:
    message = _l("Enter whole days from 1 to %(max)d.", max=MAX_DAYS)
    return IntegerField(
        limit.key, [InputRequired(message), NumberRange(min=1, max=MAX_DAYS, message=message)]
    )


class DeadlinesForm(PageForm):
    """One whole-number field of days per time limit of deadlines.TIME_LIMITS."""

    def mapping(self) -> dict[str, int]:
        """The entered days by time-limit key."""
        return {limit.key: self[limit.key].data for limit in TIME_LIMITS}


for _limit in TIME_LIMITS:
    setattr(DeadlinesForm, _limit.key, _days_field(_limit))


def _deadlines_page(form, status: int = 200, notice: str | None = None):
    limits = [(limit, form[limit.key], _limit_label(limit.key)) for limit in TIME_LIMITS]
    html = render_template(
        "cases/deadlines.html", form=form, limits=limits, max_days=MAX_DAYS, notice=notice
    )
    return html, status


def _limit_label(key: str) -> str:
    table = vocab.CATEGORIES if key in vocab.CATEGORIES else vocab.KINDS
    return vocab.label(table, key, lang())


@bp.route("/deadlines", methods=["GET", "POST"])
def deadlines():
    """Show the default time limits per category and kind, and save an admin's changes."""
    session = write_session() if request.method == "POST" else db.session()
    before = deadline_days(session)
    form = DeadlinesForm(data=None if request.method == "POST" else before)
    if request.method == "GET":
        return _deadlines_page(form)
    if form.validate():
        try:
            after = set_deadline_days(session, current_user, form.mapping())
            changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if changed:
                journal.log(
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
            form.add_error(exc, lang())
        else:
            flash(_("Time limits saved."), "success")
            return redirect(url_for("admin.deadlines"), code=303)
    return _deadlines_page(form, 422)


@redisplays("admin.deadlines")
def _deadlines_again(_session, _args: dict, notice: str):
    """The time limits page of a refused POST, with what was entered."""
    return _deadlines_page(DeadlinesForm(), 400, notice)
