"""台账: cases → pandas frames with the ledger columns of each kind, written as Excel or CSV."""

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from inspection.cases.models import Case
from inspection.vocab import CATEGORIES, M2_PER_MU, SOURCES, STATUS_GROUPS, STRUCTURES, status_label
from inspection.vocab import label as vocab_label

LEDGER_TITLES = {
    "issue": "问题整改台账",
    "illegal_building": "违法建筑台账",
    "farmland": "复耕台账",
}
SEQ_HEADER = "序号"
LOCATION_HEADER = "位置(村/组)"
NUMBER_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
# Text starting with these would become a formula in a spreadsheet (BAD_INPUT row 24).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One ledger column: its header, how to read it from a case, its type and if it sums."""

    header: str
    value: Callable[[Case], object]
    type: str = "text"  # text, date, number (2 decimals), int
    summed: bool = False


def location(case: Case) -> str:
    """The 村/组 of a case as a ledger shows it, or 网格外 outside the grid."""
    if case.village is None:
        return "网格外"
    return f"{case.village.name}/{case.group.name}" if case.group else case.village.name


def officers(case: Case) -> str:
    """The officers (with certificate numbers) named on the case's in_progress and done changes."""
    seen: list[str] = []
    for change in case.history:
        if change.to_status not in ("in_progress", "done") or not change.details:
            continue
        for officer in change.details.get("officers") or []:
            name, cert = officer.get("name") or "", officer.get("cert_number") or ""
            text = f"{name}({cert})" if cert else name
            if text and text not in seen:
                seen.append(text)
    return "、".join(seen)


def _responsible(case: Case) -> str:
    return case.responsible.display_name if case.responsible else ""


def _description(case: Case) -> str:
    if case.description and case.description != case.title:
        return f"{case.title}：{case.description}"
    return case.title


def _demolished_m2(case: Case) -> float | None:
    """Demolished area (m²): as recorded, else the footprint once the building is down."""
    if case.demolished_area_m2 is not None:
        return case.demolished_area_m2
    return case.area_m2 if case.status in STATUS_GROUPS["fixed"] else None


def _status(case: Case) -> str:
    return status_label(case.status, case.kind)


def _source(case: Case) -> str:
    return vocab_label(SOURCES, case.source)


LEDGER_COLUMNS: dict[str, tuple[Column, ...]] = {
    "issue": (
        Column("编号", lambda c: c.id, "int"),
        Column("发现日期", lambda c: c.found_on, "date"),
        Column("来源", _source),
        Column("文号", lambda c: c.doc_number),
        Column("类别", lambda c: vocab_label(CATEGORIES, c.category)),
        Column(LOCATION_HEADER, location),
        Column("问题描述", _description),
        Column("责任人", _responsible),
        Column("整改期限", lambda c: c.deadline_on, "date"),
        Column("整改措施", lambda c: c.measures),
        Column("状态", _status),
        Column("整改完成日期", lambda c: c.done_on, "date"),
        Column("销号日期", lambda c: c.verified_on, "date"),
        Column("备注", lambda c: c.remarks),
    ),
    "illegal_building": (
        Column("编号", lambda c: c.id, "int"),
        Column("当事人", lambda c: c.party),
        Column(LOCATION_HEADER, location),
        Column("结构", lambda c: vocab_label(STRUCTURES, c.structure)),
        Column("层数", lambda c: c.floors, "int"),
        Column("占地面积(㎡)", lambda c: c.area_m2, "number", summed=True),
        Column("建筑面积(㎡)", lambda c: c.building_area_m2, "number", summed=True),
        Column("土地性质", lambda c: c.land_type),
        Column("发现日期", lambda c: c.found_on, "date"),
        Column("来源", _source),
        Column("状态", _status),
        Column("拆除日期", lambda c: c.done_on, "date"),
        Column("拆除面积(㎡)", _demolished_m2, "number", summed=True),
        Column("执法人员(证号)", officers),
        Column("文书编号", lambda c: c.enforcement_doc_no),
    ),
    "farmland": (
        Column("图斑编号", lambda c: c.parcel_no or str(c.id)),
        Column(LOCATION_HEADER, location),
        Column("原地类/问题类型", lambda c: c.land_type),
        Column(
            "面积(亩)",
            lambda c: None if c.area_m2 is None else c.area_m2 / M2_PER_MU,
            "number",
            summed=True,
        ),
        Column("面积(㎡)", lambda c: c.area_m2, "number", summed=True),
        Column("复耕作物", lambda c: c.crop),
        Column("责任人", _responsible),
        Column("状态", _status),
        Column("复耕完成日期", lambda c: c.done_on, "date"),
        Column("验收日期", lambda c: c.verified_on, "date"),
    ),
}


def column_types(kind: str) -> dict[str, str]:
    """Header → type (text, date, number, int) of a kind's ledger, 序号 included."""
    return {SEQ_HEADER: "int", **{c.header: c.type for c in LEDGER_COLUMNS[kind]}}


def _sort_key(case: Case) -> tuple:
    village = case.village.code if case.village else "\uffff"
    group = case.group.code if case.group else ""
    return (village, group, case.found_on or date.min, case.id or 0)


def ledger_frame(cases: Iterable[Case], kind: str, *, subtotals: bool = False) -> pd.DataFrame:
    """One kind's ledger as a frame: 序号 then the DOMAIN.md columns, sorted by 村 then 组.

    With subtotals, each village's rows are followed by a 小计 row summing its areas (m², 亩),
    summed unrounded.
    """
    columns = LEDGER_COLUMNS[kind]
    headers = [SEQ_HEADER, *(c.header for c in columns)]
    rows: list[list] = []
    ordered = sorted((c for c in cases if c.kind == kind), key=_sort_key)
    for number, case in enumerate(ordered, start=1):
        rows.append([number, *(column.value(case) for column in columns)])
        last_of_village = number == len(ordered) or (
            _sort_key(ordered[number])[0] != _sort_key(case)[0]
        )
        if subtotals and last_of_village:
            rows.append(_subtotal_row(case, ordered[:number], columns))
    return pd.DataFrame(rows, columns=headers, dtype=object)


def _subtotal_row(case: Case, done_so_far: list[Case], columns) -> list:
    """The 小计 row of the village of `case`: sums of the summed columns over its cases."""
    village = _sort_key(case)[0]
    members = [c for c in done_so_far if _sort_key(c)[0] == village]
    name = case.village.name if case.village else "网格外"
    row: list = [None]
    for column in columns:
        if column.header == LOCATION_HEADER:
            row.append(f"{name} 小计（{len(members)}件）")
        elif column.summed:
            values = [column.value(c) for c in members]
            row.append(sum(v for v in values if v is not None))
        else:
            row.append(None)
    return row


def _clean_text(value: object) -> str:
    """Text without the control characters Excel files may not hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _write_sheet(sheet, frame: pd.DataFrame, kind: str) -> None:
    """Fill one worksheet: bold frozen header, typed cells, text that never turns into formulas."""
    types = column_types(kind)
    bold = Font(bold=True)
    sheet.append(list(frame.columns))
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for values in frame.itertuples(index=False):
        subtotal = _is_blank(values[0])
        sheet.append([None] * len(values))
        row = sheet.max_row
        for col, (header, value) in enumerate(zip(frame.columns, values, strict=True), start=1):
            if _is_blank(value):
                continue
            cell = sheet.cell(row=row, column=col)
            kind_of = types.get(header, "text")
            if kind_of == "date" and isinstance(value, date):
                cell.value = value
                cell.number_format = DATE_FORMAT
            elif kind_of in ("number", "int") and isinstance(value, int | float):
                cell.value = value
                cell.number_format = NUMBER_FORMAT if kind_of == "number" else "0"
            else:
                text = _clean_text(value)
                cell.value = text
                # openpyxl types "=…" as a formula on assignment: force plain text (row 24).
                cell.data_type = "s"
                if text.startswith(FORMULA_PREFIXES):
                    cell.quotePrefix = True
            if subtotal:
                cell.font = bold
    sheet.freeze_panes = "B2"
    for col, header in enumerate(frame.columns, start=1):
        width = {"date": 12, "number": 14, "int": 8}.get(types.get(header, "text"), 16)
        if header in ("问题描述", "整改措施", "执法人员(证号)", "备注"):
            width = 36
        sheet.column_dimensions[get_column_letter(col)].width = max(width, len(header) * 2 + 2)


def write_ledgers_xlsx(frames: dict[str, pd.DataFrame], target) -> None:
    """Write ledger frames (kind → frame) to one workbook, a sheet per kind named like 问题整改台账."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for kind, frame in frames.items():
        _write_sheet(workbook.create_sheet(LEDGER_TITLES[kind]), frame, kind)
    workbook.save(target)


def write_ledger_xlsx(frame: pd.DataFrame, kind: str, target) -> None:
    """Write one kind's ledger frame as an Excel workbook (path or binary buffer)."""
    write_ledgers_xlsx({kind: frame}, target)


_FORMULA_RE = re.compile(r"^[=+\-@\t\r]")


def _csv_value(value: object, kind_of: str) -> object:
    """A CSV cell: dates ISO, numbers to 2 decimals, formula-looking text prefixed with '."""
    if _is_blank(value):
        return ""
    if kind_of == "date" and isinstance(value, date):
        return value.isoformat()
    if kind_of == "number" and isinstance(value, int | float):
        return f"{value:.2f}"
    text = str(value)
    # Excel evaluates "=…" in a CSV it opens; a leading apostrophe keeps it text.
    return "'" + text if _FORMULA_RE.match(text) else text


def write_ledger_csv(frame: pd.DataFrame, kind: str, target) -> None:
    """Write one kind's ledger frame as CSV in UTF-8 with a BOM (Excel opens it right).

    target is a path, a binary buffer or a text buffer.
    """
    types = column_types(kind)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(list(frame.columns))
    for values in frame.itertuples(index=False):
        writer.writerow(
            [
                _csv_value(v, types.get(h, "text"))
                for h, v in zip(frame.columns, values, strict=True)
            ]
        )
    if isinstance(target, io.TextIOBase):
        target.write("\ufeff" + text.getvalue())
    elif hasattr(target, "write"):
        target.write(text.getvalue().encode("utf-8-sig"))
    else:
        Path(target).write_bytes(text.getvalue().encode("utf-8-sig"))
