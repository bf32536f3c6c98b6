"""The start page: the town, its villages and the count of cases per status."""

from flask import Blueprint, render_template
from flask_login import login_required

from inspection import db
from inspection.overview import town_overview

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """Show the town with its villages and their cases by status."""
    return render_template("home/index.html", overview=town_overview(db.session()))
