"""The audit log on the web: the /audit page, who acts in each request, and refused access logged."""

from contextlib import suppress

from flask import Blueprint, Flask, abort, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from inspection import clock, db, journal
from inspection.audit import reader, trail
from inspection.params import MAX_PAGE, query_int

bp = Blueprint("audit", __name__)
# Set by cases.access.case_or_404, maps.data.cell_or_404 and the API's item view when a case or grid
# cell exists but lies outside the user's grid.
REFUSED_KEY = "audit_refused_target"

EVENT_LABELS = {
    "login": _l("Login"),
    "logout": _l("Logout"),
    "login_failed": _l("Failed login"),
    "login_locked": _l("Login locked"),
    "login_refused_locked": _l("Login refused (locked)"),
    "access_refused": _l("Access refused"),
    "api_token_refused": _l("API token refused"),
    "case.create": _l("Case reported"),
    "case.update": _l("Case changed"),
    "case.status": _l("Case status changed"),
    "case.delete": _l("Case deleted"),
    "case.photo": _l("Photo added"),
    "case.photo_delete": _l("Photo removed"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "user.delete": _l("User deleted"),
    "grid.create": _l("Grid cell created"),
    "grid.update": _l("Grid cell changed"),
    "grid.delete": _l("Grid cell deleted"),
}


@bp.route("/audit")
@login_required
def index():
    """The audit log for admins and supervisors: newest first, filtered by user, action, target."""
    if not reader.may_read(current_user):
        abort(403)
    filters = reader.Filters.from_args(request.args)
    page = query_int(request.args, "page", 1, 1, MAX_PAGE)
    session = db.session()
    entries, has_next = reader.find_entries(session, filters, page, current_user)
    return render_template(
        "audit/index.html",
        entries=entries,
        filters=filters,
        page=page,
        has_next=has_next,
        actions=reader.known_actions(session),
        event_labels=EVENT_LABELS,
        names=reader.id_names(session, entries),
        detail_lines=reader.detail_lines,
        local_time=clock.local_time,
    )


def _set_actor() -> None:
    """Attribute this request's changes to the logged-in user and his address."""
    user = current_user if current_user.is_authenticated else None
    actor = trail.actor_of(user, name="anonymous", address=request.remote_addr)
    g.audit_actor_token = trail.set_actor(actor)


def _reset_actor(_exc) -> None:
    token = g.pop("audit_actor_token", None)
    if token is not None:
        with suppress(ValueError):  # set in another context: nothing of ours to undo here
            trail.reset_actor(token)


def _refused_target() -> str | None:
    case_id = (request.view_args or {}).get("case_id")
    return f"case:{case_id}" if case_id is not None else None


def _log_refusal(response):
    """Write an access_refused row for a 403, and for a 404 of a case or cell outside the user's grid."""
    hidden = g.pop(REFUSED_KEY, None)
    if response.status_code != 403 and not (response.status_code == 404 and hidden):
        return response
    session = db.session()
    try:
        session.rollback()  # a refused request keeps nothing it may have started
        db.begin_write(session)
        journal.log(
            session,
            "access_refused",
            user=current_user if current_user.is_authenticated else None,
            address=request.remote_addr,
            target=hidden or _refused_target(),
            details={
                "method": request.method,
                "path": request.path[:200],
                "status": response.status_code,
            },
        )
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.exception("could not write access_refused to the audit log")
    return response


def init_app(app: Flask) -> None:
    """Register the page and the request hooks that feed the audit log."""
    app.register_blueprint(bp)
    app.before_request(_set_actor)
    app.teardown_request(_reset_actor)
    app.after_request(_log_refusal)
