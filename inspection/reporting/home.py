"""The start page: the town, its villages and the count of cases per status, the overdue list, my field tasks."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from inspection import clock, db
from inspection.cases.access import sees_whole_town
from inspection.cases.lists import home_overdue
from inspection.reporting.field_tasks import my_field_tasks
from inspection.reporting.overview import town_overview

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """Show the town's villages (the viewer's own if grid-bound) with cases by status, and overdue."""
    session = db.session()
    today = clock.town_today()
    return render_template(
        "reporting/home.html",
        overview=town_overview(session, current_user, whole_town=sees_whole_town(current_user)),
        overdue=home_overdue(session, current_user, today),
        field_tasks=my_field_tasks(session, current_user, today),
        today=today,
    )
