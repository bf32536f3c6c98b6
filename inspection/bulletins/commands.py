"""`flask bulletin --month YYYY-MM --format json|xlsx|docx [--town CODE] [--out FILE]`."""

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from inspection import clock
from inspection.bulletins.bulletin import build_bulletin
from inspection.bulletins.docx import build_bulletin_docx
from inspection.bulletins.xlsx import write_bulletin_xlsx
from inspection.errors import InvalidInput

FORMATS = ("json", "xlsx", "docx")


@click.command("bulletin")
@with_appcontext
@click.option("--month", required=True, help="The month, YYYY-MM (not in the future)")
@click.option("--format", "output", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option("--town", "town_code", help="One town of the county, by its code (default: all)")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    help="File to write (xlsx, docx: required)",
)
def bulletin_command(month, output, town_code, out_path) -> None:
    """Print or write the monthly 通报: per 村 and 网格员 rates, 红黑榜 and the paragraph."""
    from inspection import db

    try:
        bulletin = build_bulletin(
            db.session(), month, clock.town_today(), town_code=town_code,
            radius_m=float(current_app.config["PATROL_COVERAGE_RADIUS_M"]),
        )  # fmt: skip
    except InvalidInput as exc:
        raise click.ClickException(exc.message("zh")) from None
    if output == "json":
        text = json.dumps(bulletin, ensure_ascii=False, indent=2)
        if out_path:
            with open(out_path, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            click.echo(text)
        return
    if not out_path:
        raise click.ClickException(f"{output} 需要 --out 文件名（--out bulletin.{output}）")
    if output == "docx":
        with open(out_path, "wb") as handle:
            handle.write(build_bulletin_docx(bulletin))
    else:
        write_bulletin_xlsx(bulletin, out_path)
    click.echo(f"wrote {out_path}", err=True)
    sys.stdout.flush()
