"""The document toolkit: page, fonts, blocks, chart, QR code and the download response (no app DB)."""

from io import BytesIO
from urllib.parse import unquote

import numpy as np
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm
from flask import Flask
from lxml import etree
from PIL import Image

from inspection.documents import blocks, charts, downloads, qr, styles
from tests.documents.support import east_asia_fonts, reopen, table_texts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _built() -> bytes:
    doc = styles.new_document()
    blocks.title(doc, "平岗镇2022年度网格化巡查执法工作总结")
    blocks.heading(doc, "一、总体情况")
    blocks.paragraph(doc, "今年以来，我镇依法拆除违法建筑2处约380㎡。")
    blocks.labelled(doc, "整改期限", "—")
    blocks.table(doc, ["村", "拆除(处)", "面积(㎡)", "备注"], [["一村", 1234, 380.456, None]])
    blocks.picture(doc, qr.qr_png("https://example.org/cases/7"), width_mm=30)
    blocks.caption(doc, "图1 二维码")
    return styles.to_bytes(doc)


def test_page_is_a4_with_gbt9704_margins():
    section = reopen(_built()).sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]


def test_every_run_and_style_names_its_chinese_font():
    document = reopen(_built())
    fonts = east_asia_fonts(document)
    assert fonts and all(fonts), fonts
    assert fonts[0] == styles.TITLE_FONT  # the title
    assert fonts[1] == styles.HEADING_FONT
    assert set(fonts[2:]) == {styles.BODY_FONT}
    for name in ("Normal", "Title", "Heading 1", "Caption"):
        rfonts = document.styles[name].element.rPr.find(qn("w:rFonts"))
        assert rfonts.get(qn("w:eastAsia")) in styles.FALLBACKS
        assert rfonts.get(qn("w:asciiTheme")) is None  # a theme font would override the name


def test_font_table_declares_the_noto_fallbacks():
    document = reopen(_built())
    part = next(
        p for p in document.part.package.iter_parts() if p.partname == "/word/fontTable.xml"
    )
    fonts = etree.fromstring(part.blob)
    alt = {
        f.get(qn("w:name")): f.find(qn("w:altName")).get(qn("w:val"))
        for f in fonts.iter(qn("w:font"))
        if f.find(qn("w:altName")) is not None
    }
    assert alt["宋体"] == "Noto Serif CJK SC"
    assert alt["黑体"] == "Noto Sans CJK SC"
    names = {f.get(qn("w:name")) for f in fonts.iter(qn("w:font"))}
    assert {"Noto Serif CJK SC", "Noto Sans CJK SC"} <= names


def test_table_header_bold_numbers_right_aligned():
    grid = reopen(_built()).tables[0]
    assert table_texts(grid) == [
        ["村", "拆除(处)", "面积(㎡)", "备注"],
        ["一村", "1,234", "380.46", "—"],
    ]
    assert all(c.paragraphs[0].runs[0].bold for c in grid.rows[0].cells)
    body = [c.paragraphs[0].alignment for c in grid.rows[1].cells]
    assert body == [WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.RIGHT,
                    WD_ALIGN_PARAGRAPH.LEFT]  # fmt: skip


def test_picture_has_the_width_asked():
    shapes = reopen(_built()).inline_shapes
    assert len(shapes) == 1
    assert abs(shapes[0].width - Mm(30)) < Mm(0.1)


def test_paragraph_first_line_indented_two_characters():
    body = reopen(_built()).paragraphs[2]
    assert body.text == "今年以来，我镇依法拆除违法建筑2处约380㎡。"
    assert body.paragraph_format.first_line_indent.pt == 2 * styles.BODY_PT


@pytest.mark.parametrize("kind", ["bar", "line"])
def test_monthly_chart_is_a_png(kind):
    png = charts.monthly_chart_png(
        [(("发现", "Found"), [3, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 5]), (("整改", "Done"), [0] * 12)],
        kind=kind,
        title=("每月问题", "Cases per month"),
    )
    assert png.startswith(PNG_MAGIC)
    with Image.open(BytesIO(png)) as image:
        assert image.size == (960, 480)  # 6.4 × 3.2 in at 150 dpi


def test_monthly_chart_refuses_a_series_not_of_twelve_months():
    with pytest.raises(ValueError, match="12"):
        charts.monthly_chart_png([(("发现", "Found"), [1, 2])])


def test_qr_code_is_a_png_of_modules():
    png = qr.qr_png("https://xuncha.example.gov.cn/cases/12345")
    assert png.startswith(PNG_MAGIC)
    with Image.open(BytesIO(png)) as image:
        width, height = image.size
        assert width == height and width % 8 == 0
        assert set(np.unique(np.asarray(image.convert("L")))) == {0, 255}


def test_docx_response_names_the_file_in_chinese():
    app = Flask(__name__)
    with app.test_request_context():
        response = downloads.docx_response(
            b"PK..", "平岗镇2022年度报告.docx", fallback="report.docx"
        )
    assert response.mimetype == downloads.DOCX_MIMETYPE
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="report.docx"; ')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "平岗镇2022年度报告.docx"
    assert encoded.isascii()
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("name", "ascii_name"),
    [
        ("report-2022.docx", "report-2022.docx"),
        ("报告.docx", "x.docx"),
        ('a"b.docx', "x.docx"),
        (".docx", "x.docx"),
    ],  # fmt: skip
)
def test_ascii_fallback_name(name, ascii_name):
    assert downloads.ascii_filename(name, "x.docx") == ascii_name


def test_monthly_chart_of_an_empty_year_is_drawn():
    png = charts.monthly_chart_png([(("发现", "Found"), [0] * 12)], kind="line")
    assert png.startswith(PNG_MAGIC)
