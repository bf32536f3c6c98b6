"""The bulletin as an Excel workbook: the 村 sheet, the 网格员 sheet and the 红黑榜 with the paragraph."""

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from inspection.bulletins.field_checks import FIELD_HEADERS, field_cells
from inspection.bulletins.text_zh import percent

# (header, key, kind): kind "int", "rate" (0–1, a % format; None left empty as "—"), "km", "text".
FIGURES = (
    ("发现(个)", "found", "int"),
    ("整改完成(个)", "rectified", "int"),
    ("结案率", "close_rate", "rate"),
    ("到期(个)", "due", "int"),
    ("按期结案(个)", "on_time", "int"),
    ("按期结案率", "on_time_rate", "rate"),
    ("返工(个)", "sent_back", "int"),
    ("返工率", "rework_rate", "rate"),
    ("延期(个)", "extended", "int"),
    ("延期率", "extension_rate", "rate"),
    ("逾期(个)", "overdue", "int"),
    ("巡查(次)", "patrols", "int"),
    ("巡查里程(km)", "length_m", "km"),
    ("网格覆盖率", "coverage", "rate"),
)
VILLAGE_HEAD = ("序号", "村")
MEMBER_HEAD = ("序号", "网格员", "村")


def _text(value) -> str:
    """Plain text, never a formula (a leading = + - @ is kept as text)."""
    return str(value or "")


def _write(sheet, lead: tuple, rows: list[dict], leading) -> None:
    sheet.append([*lead, *(h for h, _, _ in FIGURES)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for n, row in enumerate(rows, start=1):
        sheet.append([n, *([None] * (len(lead) - 1 + len(FIGURES)))])
        line = sheet.max_row
        for col, value in enumerate(leading(row), start=2):
            cell = sheet.cell(row=line, column=col, value=_text(value))
            cell.data_type = "s"
            cell.quotePrefix = _text(value).startswith(("=", "+", "-", "@"))
        for col, (_, key, kind) in enumerate(FIGURES, start=len(lead) + 1):
            value, cell = row.get(key), sheet.cell(row=line, column=col)
            if kind == "rate":
                if value is None:
                    cell.value = "—"
                else:
                    cell.value, cell.number_format = value, "0.0%"
            elif kind == "km":
                cell.value, cell.number_format = (value or 0.0) / 1000, "#,##0.00"
            else:
                cell.value, cell.number_format = int(value or 0), "0"
    sheet.freeze_panes = sheet.cell(row=2, column=len(lead) + 1)
    for col in range(1, len(lead) + len(FIGURES) + 1):
        sheet.column_dimensions[sheet.cell(row=1, column=col).column_letter].width = 12


def write_bulletin_xlsx(bulletin: dict, target) -> None:
    """Write the workbook of a bulletin (build_bulletin's dict) to a path or binary file."""
    book = Workbook()
    villages = book.active
    villages.title = "村"
    _write(villages, VILLAGE_HEAD, bulletin["villages"], lambda r: (r["name"],))
    _write(book.create_sheet("网格员"), MEMBER_HEAD, bulletin["members"],
           lambda r: (r["name"], r["village"]))  # fmt: skip
    ranks = book.create_sheet("红黑榜")
    ranks.append([f"{bulletin['scope']} {bulletin['month']} 网格巡查通报"])
    ranks.append([bulletin["summary_zh"]])
    ranks.append(["排名规则", bulletin["ranking"]["rule_zh"]])
    for who, label in (("villages", "村"), ("members", "网格员")):
        for side, title in (("red", "红榜"), ("black", "黑榜")):
            names = [
                f"{r['name']}（按期结案率{percent(r['on_time_rate'])}）"
                for r in bulletin["ranking"][who][side]
            ]
            ranks.append([f"{title}（{label}）", "、".join(names) or "无"])
    for row in ranks.iter_rows():
        for cell in row:
            cell.data_type = "s"
    ranks["A1"].font = Font(bold=True)
    checks = book.create_sheet("现场核查")
    checks.append(FIELD_HEADERS)
    for town in bulletin["towns"]:
        checks.append(field_cells(town["name"], town["field_checks"]))
        name = checks.cell(row=checks.max_row, column=1)
        name.data_type, name.quotePrefix = "s", _text(name.value).startswith(("=", "+", "-", "@"))
    for cell in checks[1]:
        cell.font = Font(bold=True)
    checks.freeze_panes = "B2"
    book.save(target)
