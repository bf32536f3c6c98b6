"""The monthly 通报 page and its downloads: /bulletins/?month=YYYY-MM[&town=CODE]."""

from io import BytesIO
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user, login_required

from inspection import clock, db
from inspection.bulletins.bulletin import build_bulletin
from inspection.bulletins.docx import build_bulletin_docx
from inspection.bulletins.text_zh import percent
from inspection.bulletins.xlsx import FIGURES, write_bulletin_xlsx
from inspection.cases.access import town_ids
from inspection.documents.downloads import docx_response
from inspection.errors import DomainError, InvalidInput

bp = Blueprint("bulletins", __name__, url_prefix="/bulletins")
# Who reads a bulletin: the town's supervisors (their town), the county and admins (any town). Village
# heads, 网格员 and officers get 404: the 通报 ranks the villages and their 网格员 against each other,
# and is the town's to send out.
READERS = frozenset({"supervisor", "county", "admin"})
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _bulletin() -> dict:
    """The bulletin asked for, in the user's scope: 404 outside it, 400 for a bad or future month."""
    if current_user.role not in READERS:
        abort(404)
    visible = town_ids(current_user)
    if visible is not None and not visible:
        abort(404)
    today = clock.town_today()
    month = request.args.get("month") or f"{today:%Y-%m}"
    try:
        return build_bulletin(
            db.session(), month, today, visible=visible, town_code=request.args.get("town") or None,
            radius_m=float(current_app.config["PATROL_COVERAGE_RADIUS_M"]),
        )  # fmt: skip
    except InvalidInput as exc:
        if exc.code == "unknown_town":  # another town's code: as if it did not exist
            abort(404)
        # A malformed or future month is a bad request (400), shown with its reason.
        raise DomainError(exc.code, exc.message_zh, exc.message_en) from None


@bp.route("/")
@login_required
def page():
    """The month's bulletin: totals, the 村 and 网格员 tables, 红黑榜 and the paragraph."""
    bulletin = _bulletin()
    return render_template(
        "bulletins/bulletin.html", b=bulletin, figures=FIGURES, percent=percent,
        town=request.args.get("town") or "",
    )  # fmt: skip


@bp.route("/bulletin.xlsx")
@login_required
def xlsx():
    """The month's bulletin as an Excel workbook."""
    bulletin = _bulletin()
    buffer = BytesIO()
    write_bulletin_xlsx(bulletin, buffer)
    name = f"网格巡查通报{bulletin['month']}.xlsx"
    disposition = f"attachment; filename=\"bulletin-{bulletin['month']}.xlsx\"; filename*=UTF-8''{quote(name)}"
    return Response(
        buffer.getvalue(), content_type=XLSX_TYPE,
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )  # fmt: skip


@bp.route("/bulletin.docx")
@login_required
def docx():
    """The month's bulletin as a Word document."""
    bulletin = _bulletin()
    return docx_response(
        build_bulletin_docx(bulletin),
        f"网格巡查通报{bulletin['month']}.docx",
        fallback=f"bulletin-{bulletin['month']}.docx",
    )
