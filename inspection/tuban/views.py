"""The 图斑 blueprint: batches (upload, progress, results), my tasks, a task's 举证 and its review."""

import io
from datetime import date

from flask import (
    Blueprint,
    Response,
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

from geodata.errors import GeodataError
from inspection import clock, db, map_context
from inspection.cases.outbox import form_page
from inspection.errors import DomainError, InvalidInput
from inspection.settings import archive_limits
from inspection.tuban import results
from inspection.tuban.access import MANAGERS, can_manage, can_see_batch, can_see_tuban, tuban_scope
from inspection.tuban.evidence import (
    CASE_KINDS,
    CONCLUSIONS,
    Evidence,
    posted_on_site,
    review_evidence,
    submit_evidence,
)
from inspection.tuban.importer import import_batch
from inspection.tuban.models import Tuban, TubanBatch
from inspection.tuban.tuban_map import build_tuban_map

bp = Blueprint("tuban", __name__, url_prefix="/tuban")
EXPORTS = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
    "shp": ("application/zip", "zip"),
}


def _message(exc: DomainError | GeodataError) -> str:
    return exc.message(getattr(g, "lang", "zh"))


def _my_tasks() -> list[Tuban]:
    """The open 核查 tasks assigned to the user, the earliest due first."""
    return list(
        db.session.scalars(
            select(Tuban)
            .where(
                Tuban.assignee_id == current_user.id,
                Tuban.outcome == "task",
                Tuban.review != "accepted",  # not yet 销号
            )
            .order_by(Tuban.due_on, Tuban.number)
        )
    )


def _batches() -> list[TubanBatch]:
    """The batches the user may open, newest first."""
    if current_user.role not in MANAGERS:
        return []
    batches = db.session.scalars(select(TubanBatch).order_by(TubanBatch.imported_at.desc())).all()
    return [b for b in batches if can_see_batch(current_user, b)]


def _upload_town():
    """The town an upload is for: the supervisor's one town; None (every town) for the county."""
    towns = [c for c in current_user.cells if c.level == "town"]
    if current_user.role == "supervisor" and len(towns) == 1:
        return towns[0]
    return None


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """Batches (with the upload form, for supervisors and the county) and my 核查 tasks."""
    error, status = None, 200
    if request.method == "POST":
        if current_user.role not in MANAGERS:
            abort(403)
        upload = request.files.get("file")
        try:
            deadline = date.fromisoformat(request.form.get("deadline", ""))
        except ValueError:
            deadline = None
        try:
            if upload is None or not upload.filename:
                raise InvalidInput("tuban_no_file", "请选择图斑文件", "Choose a 图斑 file")
            if deadline is None:
                raise InvalidInput("tuban_deadline", "请填写反馈截止日期", "Give the deadline")
            report = import_batch(
                db.session(),
                upload.stream,
                batch_name=request.form.get("batch", ""),
                deadline_on=deadline,
                id_field=request.form.get("id_field") or None,
                crs=request.form.get("crs") or None,
                town=_upload_town(),
                actor=current_user,
                zip_limits=archive_limits(current_app.config),
                max_vertices=int(current_app.config["MAX_VERTICES"]),
                filename=upload.filename,
            )
            db.session.commit()
        except (GeodataError, DomainError) as exc:
            db.session.rollback()
            error, status = _message(exc), getattr(exc, "status", 422)
        else:
            batch = db.session.scalar(select(TubanBatch).where(TubanBatch.name == report.batch))
            flash(
                f"已导入 {report.imported} 个、更新 {report.updated} 个、未变 {report.unchanged} 个；"
                f"关联已有案件 {report.linked} 个，下发核查任务 {report.tasks} 个，拒收 {len(report.refused)} 个",
                "info",
            )
            for refusal in report.refused[:20]:
                flash(
                    f"第 {refusal.row} 行（{refusal.number or '无编号'}）：{refusal.reason_zh}",
                    "warning",
                )
            return redirect(url_for("tuban.batch", batch_id=batch.id), code=303)
    return render_template(
        "tuban/index.html", batches=_batches(), tasks=_my_tasks(), error=error, form=request.form
    ), status


def _batch_or_404(batch_id: int) -> TubanBatch:
    batch = db.session.get(TubanBatch, batch_id)
    if batch is None or not can_see_batch(current_user, batch):
        abort(404)
    return batch


def _items(batch: TubanBatch) -> list[Tuban]:
    """The batch's 图斑 the user may see, by number, with what the page and exports show."""
    return list(
        db.session.scalars(
            select(Tuban)
            .where(Tuban.batch_id == batch.id, tuban_scope(current_user))
            .options(
                selectinload(Tuban.cases),
                selectinload(Tuban.photos),
                selectinload(Tuban.group),
                selectinload(Tuban.village),
                selectinload(Tuban.checked_by),
                selectinload(Tuban.assignee),
            )
            .order_by(Tuban.number)
        )
    )


@bp.route("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int):
    """A batch's progress (核查完成率, 违法 count and area, 整改完成, late) and its 图斑."""
    batch = _batch_or_404(batch_id)
    items = _items(batch)
    today = clock.town_today()
    return render_template(
        "tuban/batch.html",
        batch=batch,
        items=items,
        progress=results.progress(items, today),
        today=today,
        conclusions=CONCLUSIONS,
    )


@bp.route("/batches/<int:batch_id>/results.<fmt>")
@login_required
def export(batch_id: int, fmt: str):
    """The batch's results for the bureau: xlsx, GeoPackage or zipped Shapefile."""
    if fmt not in EXPORTS:
        abort(404)
    batch = _batch_or_404(batch_id)
    items = _items(batch)
    buffer = io.BytesIO()
    {
        "xlsx": lambda: results.write_results_xlsx(batch, items, buffer),
        "gpkg": lambda: results.write_results_gpkg(items, buffer),
        "shp": lambda: results.write_results_shapefile(items, buffer),
    }[fmt]()
    mimetype, suffix = EXPORTS[fmt]
    response = Response(buffer.getvalue(), mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=tuban-{batch.id}.{suffix}"
    return response


def _tuban_or_404(tuban_id: int) -> Tuban:
    tuban = db.session.get(Tuban, tuban_id)
    if tuban is None or not can_see_tuban(current_user, tuban):
        abort(404)
    return tuban


def _evidence() -> Evidence:
    """The 举证 form as Evidence (photos checked by the same code as a case's)."""
    return Evidence(
        conclusion=request.form.get("conclusion", ""),
        approval_no=request.form.get("approval_no", ""),
        case_kind=request.form.get("case_kind", "illegal_building"),
        **posted_on_site(request.form, request.files, current_app.config),
    )


@bp.route("/<int:tuban_id>", methods=["GET", "POST"])
@login_required
def item(tuban_id: int):
    """One 图斑: its map and figures, the 举证 form for its 网格员, the review for supervisors."""
    tuban = _tuban_or_404(tuban_id)
    error, status, code = None, 200, ""
    if request.method == "POST":
        try:
            submit_evidence(
                db.session(),
                tuban,
                current_user,
                _evidence(),
                photo_dir=current_app.config["PHOTO_DIR"],
                today=clock.town_today(),
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            error, status, code = _message(exc), exc.status, exc.code
        else:
            flash(
                "举证已提交，等待审核" if g.get("lang") != "en" else "Evidence sent for review",
                "info",
            )
            return redirect(url_for("tuban.item", tuban_id=tuban.id), code=303)
    html = render_template(
        "tuban/item.html",
        tuban=tuban,
        tuban_map=build_tuban_map(tuban, map_context.context()),
        conclusions=CONCLUSIONS,
        case_kinds=CASE_KINDS,
        may_submit=tuban.outcome == "task"
        and tuban.review in ("open", "returned")
        and (tuban.assignee_id == current_user.id or can_manage(current_user, tuban)),
        may_review=tuban.review == "submitted" and can_manage(current_user, tuban),
        error=error,
        form=request.form,
    )
    return form_page(html, status, code, error)


@bp.route("/<int:tuban_id>/review", methods=["POST"])
@login_required
def review(tuban_id: int):
    """Accept (销号) or send back a 图斑's 举证."""
    tuban = _tuban_or_404(tuban_id)
    try:
        review_evidence(
            db.session(),
            tuban,
            current_user,
            accept=request.form.get("decision") == "accept",
            note=request.form.get("note", ""),
            today=clock.town_today(),
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(_message(exc), "error")
        return redirect(url_for("tuban.item", tuban_id=tuban.id), code=303)
    flash("已销号" if tuban.review == "accepted" else "已退回重新举证", "info")
    return redirect(url_for("tuban.item", tuban_id=tuban.id), code=303)
