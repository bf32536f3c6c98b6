"""The documents' routes: the 整改通知书 of a case as a Word download."""

from flask import Blueprint, current_app, request, url_for
from flask_login import current_user, login_required

from inspection import clock, db
from inspection.cases.access import case_or_404
from inspection.documents.downloads import docx_response
from inspection.documents.links import absolute_link
from inspection.documents.service import case_notice_docx

bp = Blueprint("documents", __name__)


@bp.route("/cases/<int:case_id>/notice.docx")
@login_required
def notice(case_id: int):
    """The 整改通知书 of a case the user may see (404 for any other id)."""
    case = case_or_404(db.session(), case_id, current_user)
    link = absolute_link(
        url_for("cases.detail", case_id=case.id), current_app.config["PUBLIC_URL"], request.host_url
    )
    data, name, ascii_name = case_notice_docx(case, case_url=link, issued_on=clock.town_today())
    return docx_response(data, name, fallback=ascii_name)
