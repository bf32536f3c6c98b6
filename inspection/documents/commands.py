"""The documents' commands: `flask notice CASE_ID --out FILE`."""

import click
from flask import current_app
from flask.cli import with_appcontext

from inspection import clock, db
from inspection.cases.models import Case
from inspection.documents.links import absolute_link
from inspection.documents.service import case_notice_docx


@click.command("notice")
@click.argument("case_id", type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="The .docx file")
@with_appcontext
def notice_command(case_id: int, out: str) -> None:
    """Write the 整改通知书 of a case as a Word document (its QR code links PUBLIC_URL + the case page)."""
    case = db.session().get(Case, case_id)
    if case is None:
        raise click.ClickException(f"没有编号为 {case_id} 的案件 / no case {case_id}")
    path = current_app.url_map.bind("localhost").build("cases.detail", {"case_id": case.id})
    link = absolute_link(path, current_app.config["PUBLIC_URL"], None)
    data, _name, _ascii = case_notice_docx(case, case_url=link, issued_on=clock.town_today())
    with open(out, "wb") as handle:
        handle.write(data)
    click.echo(f"{out}: {len(data):,} bytes")
