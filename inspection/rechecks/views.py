"""The 回头看 blueprint: the re-checks due (mine first), one re-check's page and its form."""

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inspection import clock, db
from inspection.cases.case_map import case_map
from inspection.cases.models import Case
from inspection.cases.outbox import form_page
from inspection.errors import DomainError
from inspection.rechecks.access import can_see_recheck, recheck_scope
from inspection.rechecks.checking import OUTCOMES, RecheckReport, may_record, record_recheck
from inspection.rechecks.models import Recheck
from inspection.rechecks.schedule import on_batch_imported
from inspection.tuban.evidence import posted_on_site
from inspection.tuban.signals import batch_imported

bp = Blueprint("rechecks", __name__, url_prefix="/rechecks")
RECENT_DAYS = 60


def _message(exc: DomainError) -> str:
    return exc.message(getattr(g, "lang", "zh"))


def _listed(*where) -> list[Recheck]:
    query = (
        select(Recheck)
        .join(Case, Case.id == Recheck.case_id)
        .where(recheck_scope(current_user), *where)
        .options(selectinload(Recheck.case), selectinload(Recheck.assignee))
        .order_by(Recheck.due_on, Recheck.id)
        .limit(500)
    )
    return list(db.session.scalars(query))


@bp.route("/")
@login_required
def index():
    """The open re-checks (the user's own first) and those done in the last weeks."""
    since = clock.town_today() - timedelta(days=RECENT_DAYS)
    open_ = _listed(Recheck.status == "open")
    mine = [r for r in open_ if r.assignee_id == current_user.id]
    others = [r for r in open_ if r.assignee_id != current_user.id]
    done = _listed(Recheck.status != "open", Recheck.checked_on >= since)
    return render_template(
        "rechecks/index.html",
        mine=mine,
        others=others,
        done=done,
        outcomes=OUTCOMES,
        today=clock.town_today(),
    )


def _recheck_or_404(recheck_id: int) -> Recheck:
    recheck = db.session.get(Recheck, recheck_id)
    if recheck is None or not can_see_recheck(current_user, recheck):
        abort(404)
    return recheck


def _report() -> RecheckReport:
    return RecheckReport(
        outcome=request.form.get("outcome", ""),
        **posted_on_site(request.form, request.files, current_app.config),
    )


@bp.route("/<int:recheck_id>", methods=["GET", "POST"])
@login_required
def item(recheck_id: int):
    """One re-check: the case, its map and the distance to it, and the form for its 网格员."""
    recheck = _recheck_or_404(recheck_id)
    error, status, code = None, 200, ""
    if request.method == "POST":
        try:
            record_recheck(
                db.session(),
                recheck,
                current_user,
                _report(),
                photo_dir=current_app.config["PHOTO_DIR"],
                today=clock.town_today(),
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            error, status, code = _message(exc), exc.status, exc.code
        else:
            back = recheck.status == "recurred"
            zh = "已记录复发，案件已重新立案待核实" if back else "回头看已记录：未复发"
            en = "Recorded: back again; the case is open again" if back else "Recorded: not back"
            flash(en if g.get("lang") == "en" else zh, "info")
            return redirect(url_for("rechecks.item", recheck_id=recheck.id), code=303)
    html = render_template(
        "rechecks/item.html",
        recheck=recheck,
        case=recheck.case,
        case_map=case_map(recheck.case),
        outcomes=OUTCOMES,
        may_record=recheck.status == "open" and may_record(current_user, recheck),
        error=error,
        form=request.form,
    )
    return form_page(html, status, code, error)


def init_app(app) -> None:
    """Register the blueprint; bring re-checks forward when a 图斑 batch covers closed cases."""
    app.register_blueprint(bp)
    batch_imported.connect(on_batch_imported)
