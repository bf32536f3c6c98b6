"""The patrols blueprint: the list, a patrol's page and track, the upload page, the phone's patrol page and its API."""

import io
import json
from urllib.parse import quote

import shapely
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from geodata.errors import GeodataError
from inspection import clock, db, map_context
from inspection.accounts.models import User
from inspection.cases.access import can_see
from inspection.errors import DomainError
from inspection.params import MAX_PAGE, query_int
from inspection.patrols import assessment, recording
from inspection.patrols.access import can_see_patrol, may_upload_for, patrol_or_404, patrol_scope
from inspection.patrols.forms import UploadForm
from inspection.patrols.imports import import_patrol
from inspection.patrols.links import patrol_cases
from inspection.patrols.models import Patrol
from inspection.patrols.patrol_map import build_patrol_map

bp = Blueprint("patrols", __name__)
PAGE_SIZE = 50


def _lang() -> str:
    return getattr(g, "lang", "zh")


@bp.route("/patrols")
@login_required
def patrol_list():
    """The patrols whose tracks the user may see, newest first."""
    page = query_int(request.args, "page", 1, 1, MAX_PAGE)
    query = (
        select(Patrol)
        .where(patrol_scope(current_user))
        .order_by(Patrol.day.desc(), Patrol.id.desc())
    )
    patrols = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "patrols/list.html",
        patrols=patrols[:PAGE_SIZE],
        page=page,
        more=len(patrols) > PAGE_SIZE,
    )


@bp.route("/patrols/<int:patrol_id>")
@login_required
def detail(patrol_id: int):
    """A patrol's page: its track, start, end, km, time, what was dropped and why, its cases."""
    session = db.session()
    patrol = patrol_or_404(session, patrol_id, current_user)
    cases = [c for c in patrol_cases(session, patrol) if can_see(current_user, c)]
    parts = build_patrol_map(patrol, cases, map_context.context())
    return render_template("patrols/detail.html", patrol=patrol, cases=cases, patrol_map=parts)


@bp.route("/patrols/<int:patrol_id>/track.geojson")
@login_required
def track(patrol_id: int):
    """The patrol's kept track as GeoJSON (one feature per segment, lon/lat EPSG:4326)."""
    patrol = patrol_or_404(db.session(), patrol_id, current_user)
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(shapely.to_geojson(segment.geom)),
            "properties": {
                "patrol_id": patrol.id,
                "segment": segment.seq,
                "fixes": segment.fixes,
                "length_m": segment.length_m,
                "started_at": segment.started_at.isoformat() + "Z" if segment.started_at else None,
                "ended_at": segment.ended_at.isoformat() + "Z" if segment.ended_at else None,
            },
        }
        for segment in patrol.tracks
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    response = Response(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _owners() -> list[User]:
    """Whose patrol an upload may be: oneself, or (admins) any active user."""
    if current_user.role != "admin":
        return [current_user]
    return list(db.session.scalars(select(User).where(User.active).order_by(User.username)))


@bp.route("/patrols/upload", methods=["GET", "POST"])
@login_required
def upload():
    """Import a track file (the same guarded reader as flask import-patrol) as a patrol."""
    form = UploadForm(request.form if request.method == "POST" else None)
    owners = _owners()
    form.user_id.choices = [(u.id, f"{u.display_name} ({u.username})") for u in owners]
    if request.method == "GET":
        form.user_id.data = current_user.id
        return render_template("patrols/upload.html", form=form)
    session = db.session()
    error, status = None, 422
    owner = next((u for u in owners if u.id == form.user_id.data), current_user)
    upload_file = request.files.get("track")
    if not form.validate():
        error = next(iter(form.errors.values()))[0]
    elif upload_file is None or not upload_file.filename:
        error = "请选择轨迹文件" if _lang() == "zh" else "Choose a track file"
    elif not may_upload_for(current_user, owner):
        error, status = (
            ("只能上传自己的轨迹" if _lang() == "zh" else "You may upload only your own tracks"),
            403,
        )
    else:
        try:
            result = import_patrol(
                session,
                upload_file.stream,
                owner,
                current_app.config,
                filename=upload_file.filename,
                day=form.day.data,
            )
            session.commit()
        except (GeodataError, DomainError) as exc:
            session.rollback()
            error = exc.message(_lang())
            status = getattr(exc, "status", 422)
        else:
            if not result.created:
                flash(
                    f"该文件已导入过：巡查 #{result.patrol.id}，未重复导入"
                    if _lang() == "zh"
                    else f"This file was imported before: patrol #{result.patrol.id}; nothing new was stored",
                    "info",
                )
            return redirect(url_for("patrols.detail", patrol_id=result.patrol.id), code=303)
    return render_template("patrols/upload.html", form=form, error=error), status


@bp.route("/patrols/record")
@login_required
def record():
    """The phone's patrol page: 开始巡查 / 结束巡查, fixes kept on the phone and sent in batches."""
    return render_template("patrols/record.html")


def _json_error(exc: DomainError):
    """A refusal as JSON with its reason in the page's language."""
    return jsonify({"ok": False, "code": exc.code, "message": exc.message(_lang())}), exc.status


def _body() -> dict:
    """The request's JSON object ({} when it is not one)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@bp.post("/patrols/record/<client_id>/batches")
@login_required
def batch(client_id: str):
    """Store a batch of the user's patrol: {"batch_id", "fixes": [[lon, lat, t_ms, accuracy_m], …]}."""
    session = db.session()
    body = _body()
    try:
        patrol, stored = recording.add_batch(
            session,
            current_user,
            client_id,
            body.get("batch_id"),
            body.get("fixes"),
            current_app.config,
        )
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _json_error(exc)
    return jsonify(
        {
            **recording.progress(patrol),
            "stored": stored,
            "url": url_for("patrols.detail", patrol_id=patrol.id),
        }
    )


@bp.post("/patrols/record/<client_id>/end")
@login_required
def end(client_id: str):
    """End the user's patrol (again: the same answer)."""
    session = db.session()
    try:
        patrol = recording.end_patrol(session, current_user, client_id, current_app.config)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _json_error(exc)
    return jsonify(
        {**recording.progress(patrol), "url": url_for("patrols.detail", patrol_id=patrol.id)}
    )


def _sheet():
    """The 考核 sheet of the month in ?month=YYYY-MM (this month by default) for the viewer."""
    month = assessment.parse_month(request.args.get("month"), clock.town_today())
    radius_m = float(current_app.config["PATROL_COVERAGE_RADIUS_M"])
    return assessment.month_sheet(db.session(), current_user, month, radius_m)


@bp.route("/patrols/assessment")
@login_required
def assessment_page():
    """The month's 考核: a row per 网格员, subtotals per village, the town's total."""
    sheet = _sheet()
    return render_template(
        "patrols/assessment.html",
        sheet=sheet,
        headers=assessment.HEADERS,
        month=sheet.month.strftime("%Y-%m"),
    )


@bp.route("/patrols/assessment.xlsx")
@login_required
def assessment_xlsx():
    """The month's 考核 sheet as an Excel workbook."""
    sheet = _sheet()
    out = io.BytesIO()
    assessment.write_xlsx(sheet, out)
    name = f"{sheet.title}.xlsx"
    response = Response(
        out.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=assessment-{sheet.month:%Y-%m}.xlsx; filename*=UTF-8''{quote(name)}"
    )
    return response


@bp.errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError):
    """A missing or stale CSRF token on the phone's API: JSON the page understands (it fetches a new one)."""
    message = (
        "Your session's security token expired; try again"
        if _lang() == "en"
        else "安全令牌已过期，请重试"
    )
    return jsonify({"ok": False, "code": "csrf", "message": message}), 400


@bp.context_processor
def _patrol_helpers():
    """What the patrol pages use: local times and can_see_patrol."""
    return {
        "local_time": clock.local_time,
        "can_see_patrol": lambda p: (
            current_user.is_authenticated and can_see_patrol(current_user, p)
        ),
    }
