"""The layout of a 整改通知书: heading, the parts of the case, the order to rectify, map and QR code."""

from docx.enum.text import WD_ALIGN_PARAGRAPH

from geodata.static_map import LEGEND_ZH
from inspection.documents import blocks, qr, styles
from inspection.documents.case_notice import NO_VALUE, NoticeFacts

NOTICE_TITLE = "责令整改通知书"
LOCATOR_CAPTION = "，".join(LEGEND_ZH[key][1] for key in ("villages", "groups", "case"))


def notice_number(facts: NoticeFacts) -> str:
    """The document number: 平岗镇整改〔2022〕第12号 (year of issue, case id)."""
    return f"{facts.town}整改〔{facts.issued_on.year}〕第{facts.case_id}号"


def notice_filename(facts: NoticeFacts) -> tuple[str, str]:
    """The download name (Chinese) and its ASCII fallback."""
    return f"整改通知书_{facts.case_id}.docx", f"notice-{facts.case_id}.docx"


def build_notice(facts: NoticeFacts, locator_png: bytes | None) -> bytes:
    """The .docx bytes of the notice of one case."""
    doc = styles.new_document()
    if facts.town:
        blocks.paragraph(
            doc, f"{facts.town}人民政府", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER
        )
    blocks.title(doc, NOTICE_TITLE)
    blocks.paragraph(doc, notice_number(facts), indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    if facts.party:
        blocks.paragraph(doc, f"{facts.party}：", indent=False)
    blocks.labelled(doc, "当事人", facts.party or NO_VALUE)
    blocks.labelled(doc, "地点", facts.place)
    blocks.labelled(doc, "问题", facts.problem)
    blocks.labelled(doc, "依据", "；".join(facts.basis))
    blocks.labelled(doc, "整改措施", facts.measures or NO_VALUE)
    blocks.labelled(doc, "整改期限", facts.deadline)
    laws = "、".join(facts.laws) or "有关法律、法规"
    by_when = f"于{facts.deadline}" if facts.deadline_on else "立即"
    blocks.paragraph(
        doc,
        f"经查，你（单位）在上述地点存在上述问题，违反了{laws}的有关规定。现责令你（单位）{by_when}"
        "按上述整改措施完成整改，并将整改情况报告本镇。逾期不整改的，将依法予以处理。",
    )
    if locator_png is not None:
        blocks.picture(doc, locator_png, width_mm=90)
        blocks.caption(doc, f"图1 案件位置示意（{LOCATOR_CAPTION}）")
    blocks.picture(doc, qr.qr_png(facts.case_url), width_mm=30)
    blocks.caption(doc, f"扫码查看案件：{facts.case_url}")
    d = facts.issued_on
    blocks.paragraph(doc, f"{facts.town}人民政府" if facts.town else "", indent=False,
                     align=WD_ALIGN_PARAGRAPH.RIGHT)  # fmt: skip
    blocks.paragraph(doc, f"{d.year}年{d.month}月{d.day}日", indent=False,
                     align=WD_ALIGN_PARAGRAPH.RIGHT)  # fmt: skip
    return styles.to_bytes(doc)
