"""Helpers of the document tests: reopen .docx bytes and read the fonts of their runs."""

from io import BytesIO

import docx
from docx.oxml.ns import qn


def reopen(data: bytes):
    """The .docx bytes opened again with python-docx."""
    return docx.Document(BytesIO(data))


def east_asia_fonts(document) -> list[str | None]:
    """The w:eastAsia font of every run with text, in the body and in tables."""
    runs = [r for p in document.paragraphs for r in p.runs]
    for grid in document.tables:
        for row in grid.rows:
            for cell in row.cells:
                runs += [r for p in cell.paragraphs for r in p.runs]
    fonts = []
    for run in runs:
        if not run.text:
            continue
        rfonts = run._element.rPr.find(qn("w:rFonts")) if run._element.rPr is not None else None
        fonts.append(rfonts.get(qn("w:eastAsia")) if rfonts is not None else None)
    return fonts


def table_texts(grid) -> list[list[str]]:
    """The text of every cell of a table, row by row."""
    return [[cell.text for cell in row.cells] for row in grid.rows]
