"""The bulletin as a Word document (documents toolkit): title, paragraph, the tables, 红黑榜, field checks."""

from inspection.bulletins.field_checks import FIELD_HEADERS, field_cells
from inspection.bulletins.text_zh import percent
from inspection.bulletins.xlsx import FIGURES
from inspection.documents import blocks, styles

# The Word tables keep the columns a printed 通报 needs (the page and the workbook have them all).
COLUMNS = ("found", "rectified", "close_rate", "on_time_rate", "rework_rate", "extension_rate",
           "overdue", "patrols", "length_m")  # fmt: skip
HEADERS = {key: header for header, key, _ in FIGURES}
KINDS = {key: kind for _, key, kind in FIGURES}


def _cells(row: dict) -> list:
    values = []
    for key in COLUMNS:
        value = row.get(key)
        if KINDS[key] == "rate":
            values.append(percent(value))
        elif KINDS[key] == "km":
            values.append(float(value or 0.0) / 1000)
        else:
            values.append(int(value or 0))
    return values


def _names(rows: list[dict]) -> str:
    return "、".join(f"{r['name']}（按期结案率{percent(r['on_time_rate'])}）" for r in rows) or "无"


def build_bulletin_docx(bulletin: dict) -> bytes:
    """The .docx bytes of a bulletin (build_bulletin's dict)."""
    year, month = bulletin["month"].split("-")
    doc = styles.new_document()
    blocks.title(doc, f"{bulletin['scope']}{year}年{int(month)}月网格巡查工作通报")
    blocks.paragraph(doc, bulletin["summary_zh"])
    blocks.heading(doc, "一、各村情况")
    header = [HEADERS[k] for k in COLUMNS]
    total = {**bulletin, "name": "合计"}
    blocks.table(doc, ["村", *header],
                 [[v["name"], *_cells(v)] for v in [*bulletin["villages"], total]])  # fmt: skip
    blocks.heading(doc, "二、各网格员情况")
    blocks.table(doc, ["网格员", "村", *header],
                 [[m["name"], m["village"] or "", *_cells(m)] for m in bulletin["members"]])  # fmt: skip
    blocks.heading(doc, "三、红黑榜")
    ranks = bulletin["ranking"]
    blocks.labelled(doc, "红榜（村）：", _names(ranks["villages"]["red"]))
    blocks.labelled(doc, "黑榜（村）：", _names(ranks["villages"]["black"]))
    blocks.labelled(doc, "红榜（网格员）：", _names(ranks["members"]["red"]))
    blocks.labelled(doc, "黑榜（网格员）：", _names(ranks["members"]["black"]))
    blocks.paragraph(doc, f"排名规则：{ranks['rule_zh']}。")
    blocks.heading(doc, "四、卫片图斑核查与回头看")
    blocks.table(
        doc, FIELD_HEADERS, [field_cells(t["name"], t["field_checks"]) for t in bulletin["towns"]]
    )
    return styles.to_bytes(doc)
