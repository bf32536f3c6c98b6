"""The start page: the town, its villages and the count of cases per status, and the overdue list."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from inspection import db
from inspection.case_lists import home_overdue
from inspection.dashboard_data import sees_town, town_today
from inspection.overview import town_overview

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """Show the town's villages (the viewer's own if grid-bound) with cases by status, and overdue."""
    session = db.session()
    today = town_today(current_app.config.get("TOWN_TIMEZONE", "Asia/Shanghai"))
    return render_template(
        "home/index.html",
        overview=town_overview(session, current_user, whole_town=sees_town(current_user)),
        overdue=home_overdue(session, current_user, today),
        today=today,
    )
