"""The page and fonts of every document: A4, GB/T 9704 margins, Chinese fonts with a Noto CJK fallback.

Each run names its East Asian font in `w:rFonts w:eastAsia` (宋体 for body text, 黑体 for headings,
方正小标宋简体 for titles, as official documents do) and Times New Roman for Latin letters and digits.
The font table declares each Chinese font with a Noto CJK `altName`, which Word and LibreOffice use
where the Chinese font is not installed (a Linux server, a phone).
"""

from io import BytesIO

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt
from lxml import etree

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"
LATIN_FONT = "Times New Roman"
# The Noto CJK fallback of each Chinese font (serif for 宋体-like faces, sans for 黑体).
FALLBACKS = {
    BODY_FONT: "Noto Serif CJK SC",
    "仿宋": "Noto Serif CJK SC",
    TITLE_FONT: "Noto Serif CJK SC",
    HEADING_FONT: "Noto Sans CJK SC",
}
# GB/T 9704-2012 (党政机关公文格式): A4, 天头 37 mm, 订口 28 mm; bottom and right as the brief gives.
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
BODY_PT = 12
TABLE_PT = 10.5  # 五号
HEADING_PT = 16  # 三号
TITLE_PT = 22  # 二号
CAPTION_PT = 10.5


def set_run_font(run, east_asia: str = BODY_FONT, size_pt: float | None = None, bold=None) -> None:
    """Give a run its fonts: `east_asia` for Chinese (w:eastAsia), Times New Roman for the rest."""
    run.font.name = LATIN_FONT  # sets w:ascii and w:hAnsi
    _east_asia(run._element.get_or_add_rPr(), east_asia)
    if size_pt is not None:
        run.font.size = Pt(size_pt)
    if bold is not None:
        run.font.bold = bold


def _east_asia(rpr, east_asia: str) -> None:
    """Set w:rFonts on an rPr: eastAsia named, theme fonts removed so that they cannot override it."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")


def _style(doc: DocxDocument, name: str, east_asia: str, size_pt: float, bold: bool) -> None:
    style = doc.styles[name]
    style.font.name = LATIN_FONT
    style.font.size = Pt(size_pt)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = None
    _east_asia(style.element.get_or_add_rPr(), east_asia)


def _declare_fallbacks(doc: DocxDocument) -> None:
    """Add each Chinese font to the font table with its Noto CJK fallback as `w:altName`."""
    part = next(p for p in doc.part.package.iter_parts() if p.partname == "/word/fontTable.xml")
    fonts = parse_xml(part.blob)
    for name, fallback in (
        *FALLBACKS.items(),
        *((f, None) for f in sorted(set(FALLBACKS.values()))),
    ):
        alt = f'<w:altName w:val="{fallback}"/>' if fallback else ""
        family = "swiss" if "Sans" in (fallback or name) or name == HEADING_FONT else "roman"
        fonts.append(
            parse_xml(
                f'<w:font {nsdecls("w")} w:name="{name}">{alt}<w:charset w:val="86"/>'
                f'<w:family w:val="{family}"/><w:pitch w:val="variable"/></w:font>'
            )
        )
    # python-docx keeps parts it does not model as bytes; this one is rewritten in place.
    part._blob = etree.tostring(fonts, xml_declaration=True, encoding="UTF-8", standalone=True)


def new_document() -> DocxDocument:
    """An empty A4 document with GB/T 9704 margins and the Chinese fonts declared on every style."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if rpr is not None:
            _east_asia(rpr, BODY_FONT)
    _style(doc, "Normal", BODY_FONT, BODY_PT, False)
    _style(doc, "Title", TITLE_FONT, TITLE_PT, False)
    _style(doc, "Heading 1", HEADING_FONT, HEADING_PT, False)
    _style(doc, "Heading 2", HEADING_FONT, BODY_PT + 2, False)
    _style(doc, "Caption", BODY_FONT, CAPTION_PT, False)
    title = doc.styles["Title"]
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for border in title.element.xpath("./w:pPr/w:pBdr"):  # the template's blue rule under titles
        border.getparent().remove(border)
    doc.styles["Caption"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _declare_fallbacks(doc)
    return doc


def to_bytes(doc: DocxDocument) -> bytes:
    """The document as .docx bytes."""
    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
