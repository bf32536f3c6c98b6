"""The blocks a document is built of: title, heading, paragraph, table, picture and caption.

Each function appends one block to a python-docx Document made by styles.new_document and returns
it; every run gets its Chinese font (styles.set_run_font), so text never depends on a style alone.
"""

from io import BytesIO

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from inspection.documents.styles import (
    BODY_FONT,
    BODY_PT,
    CAPTION_PT,
    HEADING_FONT,
    HEADING_PT,
    TABLE_PT,
    TITLE_FONT,
    TITLE_PT,
    set_run_font,
)


def title(doc, text: str):
    """A centred title (方正小标宋, 二号)."""
    paragraph = doc.add_paragraph(style="Title")
    set_run_font(paragraph.add_run(text), TITLE_FONT, TITLE_PT)
    return paragraph


def heading(doc, text: str):
    """A section heading (黑体, 三号)."""
    paragraph = doc.add_paragraph(style="Heading 1")
    set_run_font(paragraph.add_run(text), HEADING_FONT, HEADING_PT, bold=False)
    return paragraph


def paragraph(doc, text: str, *, indent: bool = True, bold: bool = False, align=None):
    """A body paragraph (宋体), its first line indented two characters unless `indent` is False."""
    block = doc.add_paragraph()
    if indent:
        block.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    if align is not None:
        block.alignment = align
    set_run_font(block.add_run(text), BODY_FONT, BODY_PT, bold=bold or None)
    return block


def labelled(doc, label: str, text: str):
    """A paragraph "label：text" with the label bold, as a notice lists its parts."""
    block = doc.add_paragraph()
    set_run_font(block.add_run(f"{label}："), BODY_FONT, BODY_PT, bold=True)
    set_run_font(block.add_run(text), BODY_FONT, BODY_PT)
    return block


def cell_text(value) -> str:
    """How a table cell shows a value: ints as 1,234, floats to 2 decimals, None as —."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def table(doc, header: list[str], rows: list[list], *, style: str = "Table Grid"):
    """A table: the header row bold and centred, numbers (int/float) right-aligned as cell_text shows them."""
    grid = doc.add_table(rows=1 + len(rows), cols=len(header))
    grid.style = doc.styles[style]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, text in enumerate(header):
        cell = grid.rows[0].cells[column].paragraphs[0]
        cell.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_run_font(cell.add_run(str(text)), BODY_FONT, TABLE_PT, bold=True)
    for number, values in enumerate(rows, start=1):
        for column, value in enumerate(values):
            cell = grid.rows[number].cells[column].paragraphs[0]
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            cell.alignment = WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.LEFT
            set_run_font(cell.add_run(cell_text(value)), BODY_FONT, TABLE_PT)
    return grid


def picture(doc, png: bytes, width_mm: float):
    """A centred picture from PNG bytes, `width_mm` wide (its height follows the aspect ratio)."""
    block = doc.add_paragraph()
    block.alignment = WD_ALIGN_PARAGRAPH.CENTER
    block.add_run().add_picture(BytesIO(png), width=Mm(width_mm))
    return block


def caption(doc, text: str):
    """A centred caption under a picture or table (宋体, 五号)."""
    block = doc.add_paragraph(style="Caption")
    set_run_font(block.add_run(text), BODY_FONT, CAPTION_PT, bold=False)
    return block
