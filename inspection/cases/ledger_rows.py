"""Reading a ledger's rows: an Excel sheet (its header row found, kind from its columns) or any GIS file."""

import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from geodata.io import read_vector
from geodata.ways import CASE_IMPORT
from inspection.errors import InvalidInput

MAX_XLSX_ENTRIES = 10_000


MAX_XLSX_UNZIPPED_BYTES = 200 * 1024 * 1024


HEADER_SEARCH_ROWS = 10


# Canonical field ← accepted names (compared after _norm: lower case, no spaces, ASCII brackets).
ALIASES = {
    "external_id": ("id", "case_id", "client_id", "编号", "案件编号"),
    "kind": ("kind", "类型", "种类"),
    "source": ("source", "来源"),
    "category": ("category", "类别", "问题类别", "问题类型"),
    "status": ("status", "状态", "整改状态"),
    "title": ("title", "标题", "名称"),
    "description": ("description", "descr", "问题描述", "描述", "情况描述"),
    "found_on": ("found_on", "发现日期", "发现时间"),
    "deadline_on": ("deadline", "deadline_on", "整改期限", "整改时限"),
    "done_on": ("done_on", "完成日期", "整改完成日期", "拆除日期", "复耕完成日期"),
    "verified_on": ("verified_on", "verified", "销号日期", "验收日期"),
    "doc_number": ("doc_number", "doc_no", "文号"),
    "batch": ("batch", "批次", "交办批次"),
    "measures": ("measures", "整改措施"),
    "remarks": ("remarks", "备注"),
    "party": ("party", "当事人"),
    "structure": ("structure", "结构"),
    "floors": ("floors", "层数"),
    "stated_area_m2": ("stated_area_m2", "area_m2", "占地面积(㎡)", "占地面积"),
    "building_area_m2": ("building_area_m2", "bldg_m2", "建筑面积(㎡)", "建筑面积"),
    "demolished_area_m2": ("demolished_area_m2", "demol_m2", "拆除面积(㎡)", "拆除面积"),
    "enforcement_doc_no": ("enforcement_doc_no", "enf_doc_no", "文书编号"),
    "land_type": ("land_type", "土地性质", "原地类/问题类型", "原地类"),
    "crop": ("crop", "复耕作物"),
    "parcel_no": ("parcel_no", "图斑编号"),
    "town": ("town", "town_code", "镇", "乡镇", "所属镇", "所属乡镇", "乡镇(街道)", "镇街"),
    "officers": ("执法人员(证号)", "执法人员"),
    "lon": ("经度", "longitude", "lon", "lng"),
    "lat": ("纬度", "latitude", "lat"),
    "wkt": ("wkt", "几何", "geometry_wkt"),
}


def _norm(name: object) -> str:
    """A header or property name for matching: lower case, no spaces, ASCII brackets, ㎡."""
    text = str(name).strip().lower().replace(" ", "").replace("（", "(").replace("）", ")")
    for unit in ("m²", "m2", "平方米"):
        text = text.replace(f"({unit})", "(㎡)")
    return text


_CANONICAL = {_norm(alias): key for key, aliases in ALIASES.items() for alias in aliases}


FIELD_NAMES_ZH = {
    "kind": "类型", "source": "来源", "category": "类别", "status": "状态", "title": "标题",
    "found_on": "发现日期", "deadline_on": "整改期限", "done_on": "完成日期",
    "verified_on": "销号/验收日期", "floors": "层数", "structure": "结构",
    "stated_area_m2": "占地面积", "building_area_m2": "建筑面积", "demolished_area_m2": "拆除面积",
    "geometry": "位置", "description": "描述", "doc_number": "文号", "batch": "批次",
    "measures": "整改措施", "remarks": "备注", "party": "当事人", "enforcement_doc_no": "文书编号",
    "land_type": "土地性质/原地类", "crop": "复耕作物", "parcel_no": "图斑编号",
    "town": "镇",
}  # fmt: skip


def is_xlsx(
    path: Path,
    *,
    max_zip_entries: int = MAX_XLSX_ENTRIES,
    max_unzipped_bytes: int = MAX_XLSX_UNZIPPED_BYTES,
) -> bool:
    """Tell an Excel workbook by content; refuse .xls, files named .xlsx that are not one, and zip bombs."""
    with path.open("rb") as file:
        head = file.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InvalidInput(
            "xls_unsupported",
            "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再导入",
            "Old .xls workbooks are not supported; save the file as .xlsx first",
        )
    named_excel = path.suffix.lower() in (".xlsx", ".xlsm", ".xls")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                entries = archive.infolist()
                if "xl/workbook.xml" in {e.filename for e in entries}:
                    if (
                        len(entries) > max_zip_entries
                        or sum(e.file_size for e in entries) > max_unzipped_bytes
                    ):
                        raise InvalidInput(
                            "xlsx_too_large",
                            "Excel 文件解压后过大，拒绝读取",
                            "The workbook unpacks to too much data; refused",
                        )
                    return True
        except zipfile.BadZipFile:
            pass
    if named_excel:
        raise InvalidInput(
            "not_xlsx",
            f"{path.name} 的扩展名是 Excel，但内容不是 .xlsx 工作簿",
            f"{path.name} is named like an Excel file but is not an .xlsx workbook",
        )
    return False


def _kind_from_headers(keys: set[str]) -> str | None:
    """Guess the kind of an exported ledger from its columns."""
    if "parcel_no" in keys:
        return "farmland"
    if keys & {"party", "structure", "enforcement_doc_no", "officers"}:
        return "illegal_building"
    if keys & {"category", "measures", "doc_number"}:
        return "issue"
    return None


def read_excel_rows(path: Path, kind: str | None) -> list[tuple[int, dict, None]]:
    """(Excel row number, header → value, None) of the first sheet's rows below its header row."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    header_index = next(
        (
            i
            for i, row in enumerate(rows[:HEADER_SEARCH_ROWS])
            if sum(_norm(v) in _CANONICAL for v in row if v is not None) >= 2
        ),
        None,
    )
    if header_index is None:
        raise InvalidInput(
            "no_header",
            "在工作表前10行中找不到表头（如 标题、发现日期、经度、纬度）",
            "No header row (e.g. title, found_on, longitude, latitude) in the sheet's first 10 rows",
        )
    headers = [str(v).strip() if v is not None else "" for v in rows[header_index]]
    guessed = kind or _kind_from_headers({_CANONICAL.get(_norm(h)) for h in headers})
    out = []
    for offset, values in enumerate(rows[header_index + 1 :], start=header_index + 2):
        record = {h: v for h, v in zip(headers, values, strict=False) if h and not blank(v)}
        if not record or any("小计" in str(v) for v in record.values()):
            continue  # empty or a 小计 row of an exported ledger
        if guessed and not any(_CANONICAL.get(_norm(h)) == "kind" for h in record):
            record["kind"] = guessed
        out.append((offset, record, None))
    return out


def blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def canonical(properties: dict) -> tuple[dict, dict]:
    """(canonical field → value, canonical field → name used in the file), blanks dropped."""
    values, names = {}, {}
    for name, value in properties.items():
        key = _CANONICAL.get(_norm(name))
        if key and not blank(value) and key not in values:
            values[key], names[key] = value, str(name)
    return values, names


def read_rows(path: Path, kind: str | None, limits: dict) -> list[tuple[int, dict, object]]:
    """(row number, properties, geometry or None) of every row of an Excel or GIS file."""
    if is_xlsx(path, **limits):
        return read_excel_rows(path, kind)
    frame = read_vector(path, way=CASE_IMPORT, **limits)
    geometry = frame.geometry.name
    rows = []
    for number, record in enumerate(frame.to_dict("records"), start=1):
        geom = record.pop(geometry)
        rows.append((number, record, geom))
    return rows
