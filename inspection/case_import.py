"""Import existing ledgers (GeoJSON, GeoPackage, Excel) as cases with their history; `import-cases`.

Every row is checked first; one bad row imports nothing unless skip_bad. A re-import finds the
rows it already created by client_id: "import:<kind>:<编号>" when the file has an id / 编号
column, else "import:" + sha1 of kind, title, found_on and the geometry's WKB.

Category "environment" / 环保问题 names a group, not a category: the row gets the environment
category whose name (or keyword: 垃圾, 污水, 秸秆, 扬尘, 畜禽/养殖, 采砂) appears in its title or
description, else garbage (垃圾乱堆乱放, the group's most common; the group has no generic
category) with a warning for that row; the history note says so.

Every problem of a bad row is listed, each field checked on its own. A row whose case exists
already is never updated (that would rewrite its history); when its values differ from the
case's, the row is listed as a warning and counted in the summary.
"""

import hashlib
import math
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import click
import pandas as pd
import shapely
from flask import current_app
from flask.cli import with_appcontext
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from geodata.errors import GeodataError
from geodata.geometry import (
    MAX_VERTICES,
    geometry_from_lonlat,
    parse_geometry,
    validate_geometry,
)
from geodata.io import read_vector
from geodata.ways import CASE_IMPORT
from inspection import clock
from inspection.cases import COMMON_FIELDS, GEOMETRY_TYPES, KIND_FIELDS, create_case
from inspection.db import begin_write
from inspection.errors import InvalidInput
from inspection.history import record_change
from inspection.models import Case
from inspection.placement import place
from inspection.settings import archive_limits
from inspection.vocab import (
    CATEGORIES,
    CATEGORY_GROUPS,
    KINDS,
    SOURCES,
    STATUS_LABELS_EN,
    STATUS_LABELS_ZH,
    STATUSES,
    STRUCTURES,
    category_key,
)

# --- Reading rows -----------------------------------------------------------------------------

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
        record = {h: v for h, v in zip(headers, values, strict=False) if h and not _blank(v)}
        if not record or any("小计" in str(v) for v in record.values()):
            continue  # empty or a 小计 row of an exported ledger
        if guessed and not any(_CANONICAL.get(_norm(h)) == "kind" for h in record):
            record["kind"] = guessed
        out.append((offset, record, None))
    return out


# --- Checking one row -------------------------------------------------------------------------


@dataclass
class RowPlan:
    """A checked row, ready to become a case."""

    kind: str
    geom: object
    fields: dict
    found_on: date
    status: str
    done_on: date | None = None
    verified_on: date | None = None
    officers: list[dict] = field(default_factory=list)
    external_id: str | None = None
    note: str = ""
    warnings: list[tuple[str, str, str]] = field(default_factory=list)


class _Bad(Exception):
    """A field of a row is wrong: (field, Chinese reason, English reason)."""


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def _date(name: str, value: object) -> date:
    """A date from an Excel date, a serial number or text like 2022-03-01, 2022/3/1, 2022年3月1日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 80000:
        return _EXCEL_EPOCH + timedelta(days=int(value))
    match = _DATE_RE.match(str(value).strip())
    try:
        if match:
            return date(*(int(part) for part in match.groups()))
    except ValueError:
        pass
    raise _Bad(
        name,
        f"日期无法识别：“{value}”（应如 2022-03-01）",
        f"Cannot read the date {value!r} (use 2022-03-01)",
    )


def _number(name: str, value: object, *, integer: bool = False) -> float | int:
    try:
        number = float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0 or (integer and number != int(number)):
        what_zh, what_en = (
            ("非负整数", "a whole number ≥ 0") if integer else ("非负数", "a number ≥ 0")
        )
        raise _Bad(name, f"应为{what_zh}：“{value}”", f"{value!r} is not {what_en}")
    return int(number) if integer else number


def _choice(name: str, value: object, table: dict) -> str:
    """A key of a vocab table from the key or its Chinese / English label."""
    text = str(value).strip()
    for key, labels in table.items():
        if text == key or text in labels:
            return key
    options = "、".join(zh for zh, _ in table.values())
    raise _Bad(
        name, f"“{text}”不是有效值（可选：{options}）", f"{text!r} is not one of {', '.join(table)}"
    )


def _status(name: str, value: object) -> str:
    text = str(value).strip()
    if text in STATUSES:
        return text
    for labels in (*STATUS_LABELS_ZH.values(), STATUS_LABELS_EN):
        if text in labels:
            return STATUSES[labels.index(text)]
    raise _Bad(name, f"未知的状态：“{text}”", f"Unknown status {text!r}")


_ENV_KEYWORDS = {
    "garbage": ("垃圾",), "sewage": ("污水", "排污"), "straw_burning": ("秸秆",),
    "dust": ("扬尘",), "livestock": ("畜禽", "养殖"), "sand_mining": ("采砂",),
}  # fmt: skip
ENVIRONMENT_DEFAULT = "garbage"


def _category(name: str, value: object, text: str) -> tuple[str, str, tuple | None]:
    """(category key, history note, warning or None) from a key or name.

    The environment group becomes the category its title or description names; with no such word
    it becomes ENVIRONMENT_DEFAULT (the group has no generic category) and the row gets a warning.
    """
    key = category_key(str(value))
    if key:
        return key, "", None
    group_names = (CATEGORY_GROUPS["environment"][0], "environment")
    if str(value).strip() not in (*group_names[0], group_names[1]):
        raise _Bad(name, f"未知的问题类别：“{value}”", f"Unknown issue category {value!r}")
    found = [k for k, words in _ENV_KEYWORDS.items() if any(w in text for w in words)]
    chosen = found[0] if found else ENVIRONMENT_DEFAULT
    zh, en = CATEGORIES[chosen]
    warning = None
    if not found:
        warning = (
            name,
            f"类别为“环保问题”，但标题和描述中看不出具体类别，暂归为“{zh}”，请核对",
            f"category is the environment group but neither title nor description tells which; "
            f"filed as {chosen} ({en}), please check",
        )
    return chosen, f"导入时类别为“环保问题”，归为“{zh}”", warning


_OFFICER_RE = re.compile(r"^(.*?)\s*[(（]\s*([^)）]*?)\s*[)）]$")


def _officers(value: object) -> list[dict]:
    """Officers from text like 李执法(42060022001)、赵执法(42060022002)."""
    out = []
    for part in re.split(r"[、,，;；]", str(value)):
        part = part.strip()
        if part:
            match = _OFFICER_RE.match(part)
            name, cert = (match[1], match[2]) if match else (part, "")
            out.append({"name": name, "cert_number": cert})
    return out


def _geometry(values: dict, geom, names: dict, max_vertices: int) -> object:
    """The row's geometry: the file's own, else a WKT column, else 经度/纬度 columns."""
    try:
        if geom is not None and not getattr(geom, "is_empty", True):
            return validate_geometry(geom, max_vertices=max_vertices)
        if "wkt" in values:
            return parse_geometry(str(values["wkt"]), max_vertices=max_vertices)
        if "lon" in values and "lat" in values:
            lon, lat = values["lon"], values["lat"]
            try:
                lon_deg, lat_deg = float(lon), float(lat)
            except (TypeError, ValueError):
                raise _Bad(
                    names["lon"],
                    f"经纬度应为数字：{lon}, {lat}",
                    f"Longitude/latitude must be numbers: {lon}, {lat}",
                ) from None
            return geometry_from_lonlat(lon_deg, lat_deg)
    except GeodataError as exc:
        raise _Bad("geometry", exc.message_zh, exc.message_en) from exc
    raise _Bad(
        "geometry",
        "缺少位置：需要几何、WKT 列或经度/纬度列",
        "No location: give a geometry, a WKT column or longitude/latitude columns",
    )


def _canonical(properties: dict) -> tuple[dict, dict]:
    """(canonical field → value, canonical field → name used in the file), blanks dropped."""
    values, names = {}, {}
    for name, value in properties.items():
        key = _CANONICAL.get(_norm(name))
        if key and not _blank(value) and key not in values:
            values[key], names[key] = value, str(name)
    return values, names


def _text(value: object) -> str:
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value).strip()


def _fields(
    kind: str | None, values: dict, names: dict, errors: list
) -> tuple[dict, str, list[tuple[str, str, str]]]:
    """The create_case fields of a row's kind (other kinds' columns ignored), a history note and
    warnings; each bad field adds to `errors`. Without a kind only the common fields are checked."""
    fields, note, warnings = {}, "", []
    wanted = set(COMMON_FIELDS) | set(KIND_FIELDS.get(kind, ())) | {"stated_area_m2"}
    if kind == "illegal_building":
        wanted.add("demolished_area_m2")
    for key in sorted(wanted & set(values)):
        value, name = values[key], names[key]
        try:
            if key == "source":
                fields[key] = _choice(
                    name, value, {**SOURCES, "superior": ("上级交办", "上级反馈")}
                )
            elif key == "structure":
                fields[key] = _choice(name, value, STRUCTURES)
            elif key == "floors":
                fields[key] = _number(name, value, integer=True)
            elif key.endswith("_m2"):
                fields[key] = _number(name, value)
            elif key == "deadline_on":
                fields[key] = _date(name, value)
            elif key == "category":
                text = f"{values.get('title', '')} {values.get('description', '')}"
                fields[key], note, warning = _category(name, value, text)
                warnings += [warning] if warning else []
            else:
                fields[key] = _text(value)
        except _Bad as exc:
            errors.append(exc.args)
    description = fields.get("description", "")
    if kind and not fields.get("title"):
        fallback = {
            "issue": description.split("：")[0],
            "illegal_building": f"{fields.get('party', '')}违法建筑" if fields.get("party") else "",
            "farmland": f"复耕图斑{fields['parcel_no']}" if fields.get("parcel_no") else "",
        }[kind]
        if fallback:
            fields["title"] = fallback[:200]
        else:
            errors.append(("title", "缺少标题", "A title is required"))
    if kind == "issue" and "category" not in values:
        errors.append(("category", "缺少问题类别", "An issue needs a category"))
    return fields, note, warnings


def _dates(values: dict, names: dict, errors: list) -> tuple[date | None, date | None, date | None]:
    """found_on, done_on, verified_on of a row, in order and not in the future; a bad one is None."""
    if "found_on" not in values:
        errors.append(("found_on", "缺少发现日期", "found_on (发现日期) is required"))
    days = {}
    today = clock.town_today()
    for key in ("found_on", "done_on", "verified_on"):
        if key not in values:
            days[key] = None
            continue
        try:
            days[key] = _date(names[key], values[key])
        except _Bad as exc:
            errors.append(exc.args)
            days[key] = None
            continue
        if days[key] > today:
            errors.append(
                (names[key], f"日期在将来：{days[key]}", f"The date {days[key]} lies in the future")
            )
    found, done, verified = days["found_on"], days["done_on"], days["verified_on"]
    if done and found and done < found:
        errors.append(
            (
                names["done_on"],
                f"完成日期 {done} 早于发现日期 {found}",
                f"done_on {done} is before found_on {found}",
            )
        )
    if verified and (done or found) and verified < (done or found):
        errors.append(
            (
                names["verified_on"],
                f"销号/验收日期 {verified} 早于完成日期",
                f"verified_on {verified} is before the work was done",
            )
        )
    return found, done, verified


def _row_status(
    values: dict, names: dict, done: date | None, verified: date | None, errors: list
) -> str | None:
    """The row's status, told by its status column or else by its dates; they must agree.

    A date given but unreadable is already an error and is left out of the agreement checks.
    """
    done_known = done is not None or "done_on" not in values
    verified_known = verified is not None or "verified_on" not in values
    if "status" not in values:
        return "verified" if verified else "done" if done else "reported"
    try:
        status = _status(names["status"], values["status"])
    except _Bad as exc:
        errors.append(exc.args)
        return None
    problem = None
    if status in ("done", "verified") and done is None and done_known:
        problem = ("状态为已完成，但缺少完成日期", "Status is done but done_on is missing")
    elif status == "verified" and verified is None and verified_known:
        problem = (
            "状态为已销号/已验收，但缺少销号/验收日期",
            "Status is verified but verified_on is missing",
        )
    elif status in ("reported", "assigned", "in_progress") and (done or verified):
        problem = ("状态为未完成，却填写了完成日期", "Status is open but a done date is given")
    if problem:
        errors.append((names["status"], *problem))
    return status


def _shape_fits(kind: str, geom, values: dict, errors: list) -> None:
    """The checks create_case makes of the geometry, made here so that they join the row's others."""
    if geom.geom_type not in GEOMETRY_TYPES[kind]:
        errors.append(
            (
                "geometry",
                "复耕地块必须是面（多边形）" if kind == "farmland" else "位置必须是点或面",
                "A farmland parcel must be a polygon"
                if kind == "farmland"
                else "The location must be a point or a polygon",
            )
        )
    elif (
        kind == "illegal_building" and geom.geom_type == "Point" and "stated_area_m2" not in values
    ):
        errors.append(
            (
                "stated_area_m2",
                "以点标注的违法建筑须填写占地面积（㎡）",
                "An illegal building given as a point needs its footprint area (m²)",
            )
        )


def _check_row(
    properties: dict, geom, kind: str | None, max_vertices: int
) -> tuple[RowPlan | None, list[tuple[str, str, str]], object]:
    """(plan or None, every problem of the row, its geometry or None): each field on its own."""
    values, names = _canonical(properties)
    errors: list[tuple[str, str, str]] = []
    row_kind = kind
    if "kind" in values:
        try:
            row_kind = _choice(names["kind"], values["kind"], KINDS)
        except _Bad as exc:
            errors.append(exc.args)
            row_kind = None
    elif kind is None:
        errors.append(
            (
                "kind",
                "缺少类型（问题、违法建筑、复耕地块）",
                "kind is missing (issue, illegal_building, farmland)",
            )
        )
    fields, note, warnings = _fields(row_kind, values, names, errors)
    found, done, verified = _dates(values, names, errors)
    status = _row_status(values, names, done, verified, errors)
    try:
        shape = _geometry(values, geom, names, max_vertices)
    except _Bad as exc:
        errors.append(exc.args)
        shape = None
    if shape is not None and row_kind is not None:
        _shape_fits(row_kind, shape, values, errors)
    if errors:
        return None, errors, shape
    plan = RowPlan(
        kind=row_kind,
        geom=shape,
        fields=fields,
        found_on=found,
        status=status,
        done_on=done,
        verified_on=verified,
        officers=_officers(values["officers"]) if "officers" in values else [],
        external_id=_text(values["external_id"]) if "external_id" in values else None,
        note=note,
        warnings=warnings,
    )
    return plan, [], shape


def parse_row(
    properties: dict, geom, kind: str | None, *, max_vertices: int = MAX_VERTICES
) -> tuple[RowPlan | None, list[tuple[str, str, str]]]:
    """Check one row; return (plan, []) or (None, every [(field, 中文原因, English reason)])."""
    plan, errors, _ = _check_row(properties, geom, kind, max_vertices)
    return plan, errors


# --- Importing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """Why one row cannot be imported: row number (Excel row or feature number), field, reason."""

    row: int
    field: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        name = FIELD_NAMES_ZH.get(self.field)
        where = f"{self.field}（{name}）" if name else self.field
        return (
            f"第{self.row}行 {where}：{self.message_zh} / "
            f"row {self.row}, {self.field}: {self.message_en}"
        )


@dataclass(frozen=True)
class RowWarning:
    """Something to check in a row that was imported (or found already imported) all the same."""

    row: int
    field: str | None
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        if self.field is None:
            return f"第{self.row}行：{self.message_zh} / row {self.row}: {self.message_en}"
        return str(RowError(self.row, self.field, self.message_zh, self.message_en))


@dataclass
class ImportResult:
    """What an import did: cases created, rows already imported before (`changed` of them differ
    from the file and were left as they are), the bad rows and the warnings."""

    created: int = 0
    existing: int = 0
    changed: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row was good."""
        return not self.errors


def _rows(path: Path, kind: str | None, limits: dict) -> list[tuple[int, dict, object]]:
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


def _history(session: Session, case, plan: RowPlan, actor, note: str) -> None:
    """Write the steps after `reported` with the row's dates (see the module docstring)."""
    found, done, verified = plan.found_on, plan.done_on, plan.verified_on
    steps = {
        "reported": [],
        "assigned": [("assigned", found)],
        "in_progress": [("assigned", found), ("in_progress", found)],
        "done": [("assigned", done), ("in_progress", done), ("done", done)],
        "verified": [("assigned", done), ("in_progress", done), ("done", done)],
        "void": [("void", done or found)],
    }[plan.status]
    if plan.status == "verified":
        steps.append(("verified", verified))
    for status, on in steps:
        details = {"officers": plan.officers} if plan.officers and status == "done" else None
        record_change(session, case, status, actor, on=on, note=note, details=details)


def client_id_for(plan: RowPlan) -> str:
    """The stable client_id of a row: its explicit id, else a hash of its content."""
    if plan.external_id:
        candidate = f"import:{plan.kind}:{plan.external_id}"
        if len(candidate) <= 64:
            return candidate
    text = "|".join([plan.kind, plan.external_id or plan.fields["title"], str(plan.found_on)])
    digest = hashlib.sha1(text.encode("utf-8") + shapely.to_wkb(plan.geom)).hexdigest()
    return f"import:{digest}"


def _differences(case: Case, plan: RowPlan) -> list[str]:
    """The fields (canonical names) in which a case imported before differs from the row now."""

    def differ(stored, given) -> bool:
        if isinstance(given, float) or isinstance(stored, float):
            return stored is None or given is None or not math.isclose(stored, given, abs_tol=1e-6)
        if isinstance(given, str) or isinstance(stored, str):
            return (stored or "").strip() != (given or "").strip()
        return stored != given

    found = [
        key
        for key, given in (
            ("status", plan.status),
            ("found_on", plan.found_on),
            ("done_on", plan.done_on),
            ("verified_on", plan.verified_on),
        )
        if differ(getattr(case, key), given)
    ]
    for key, given in sorted(plan.fields.items()):
        if key == "stated_area_m2":
            # Only a point's area is the stated one; a polygon's is measured.
            if case.geom.geom_type == "Point" and differ(case.area_m2, float(given)):
                found.append(key)
        elif differ(getattr(case, key), float(given) if key.endswith("_m2") else given):
            found.append(key)
    if case.geom.geom_type != plan.geom.geom_type or case.geom.hausdorff_distance(plan.geom) > 1e-9:
        found.append("geometry")
    return found


def _changed_warning(number: int, keys: list[str]) -> RowWarning:
    names_zh = "、".join(FIELD_NAMES_ZH.get(key, key) for key in keys)
    return RowWarning(
        number,
        None,
        f"已导入的案件与文件不同（{names_zh}），未更新",
        f"the case imported before differs from the file ({', '.join(keys)}); not updated",
    )


def _create(session: Session, plan: RowPlan, reporter, source_name: str) -> tuple[Case, bool]:
    fields = dict(plan.fields)
    demolished = fields.pop("demolished_area_m2", None)
    case, created = create_case(
        session,
        plan.kind,
        plan.geom,
        fields,
        reporter,
        client_id=client_id_for(plan),
        found_on=plan.found_on,
    )
    if created:
        if demolished is not None:
            case.demolished_area_m2 = demolished
        note = f"导入自 {source_name}" + (f"；{plan.note}" if plan.note else "")
        case.history[0].note = note
        _history(session, case, plan, reporter, note)
        session.flush()
    return case, created


def import_cases(
    session: Session,
    path,
    skip_bad: bool = False,
    *,
    kind: str | None = None,
    reporter=None,
    zip_limits: dict | None = None,
    max_vertices: int = MAX_VERTICES,
) -> ImportResult:
    """Import the rows of a GeoJSON, GeoPackage or Excel ledger as cases; nothing when a row is bad.

    With skip_bad the good rows are imported and the bad ones listed. Every problem of a row is
    listed, not just its first. A row whose case exists already is left as it is; when the file's
    values differ from the case's it is counted as `changed` and listed among the warnings.
    The caller commits.
    `zip_limits` (max_zip_entries, max_unzipped_bytes) bound a zipped file and `max_vertices`
    each geometry; see settings.
    Raises GeodataError / InvalidInput when the file itself cannot be read.
    """
    path = Path(path)
    result = ImportResult()
    plans: list[tuple[int, RowPlan]] = []
    unchecked: list[tuple[int, object]] = []
    for number, properties, geom in _rows(path, kind, zip_limits or {}):
        plan, errors, shape = _check_row(properties, geom, kind, max_vertices)
        result.errors += [RowError(number, *error) for error in errors]
        if plan is not None:
            plans.append((number, plan))
        elif shape is not None:
            unchecked.append((number, shape))
    begin_write(session)
    for number, shape in unchecked:  # a bad row's place, which create_case checks of good ones
        if place(session, shape).outside:
            result.errors.append(RowError(number, "geometry", *_OUTSIDE))
    outer = session.begin_nested()
    for number, plan in plans:
        try:
            with session.begin_nested():
                case, created = _create(session, plan, reporter, path.name)
        except (InvalidInput, GeodataError) as exc:
            result.errors.append(
                RowError(
                    number,
                    "geometry" if "grid" in exc.code else "row",
                    exc.message_zh,
                    exc.message_en,
                )
            )
            continue
        result.case_ids.append(case.id)
        result.created += created
        result.existing += not created
        if created:
            result.warnings += [RowWarning(number, *warning) for warning in plan.warnings]
        elif differences := _differences(case, plan):
            result.changed += 1
            result.warnings.append(_changed_warning(number, differences))
    if result.errors and not skip_bad:
        outer.rollback()
        result.created = result.existing = result.changed = 0
        result.case_ids = []
    else:
        outer.commit()
    result.errors.sort(key=lambda e: e.row)
    result.warnings.sort(key=lambda w: w.row)
    return result


# What create_case says of a location outside the grid; said here too of a row with other problems.
_OUTSIDE = (
    "位置不在本镇任何网格（组）内，请检查位置",
    "The location lies outside every grid group of the town",
)


@click.command("import-cases")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and list the bad ones")
@click.option(
    "--kind",
    type=click.Choice(["issue", "illegal_building", "farmland"]),
    help="Kind of rows that name none",
)
def import_cases_command(path, skip_bad, kind) -> None:
    """Import cases from a GeoJSON, GeoPackage or Excel ledger (经度/纬度 or WKT columns)."""
    from inspection import db

    session = db.session()
    try:
        result = import_cases(
            session,
            path,
            skip_bad,
            kind=kind,
            zip_limits=archive_limits(current_app.config),
            max_vertices=int(current_app.config["MAX_VERTICES"]),
        )
    except (GeodataError, InvalidInput) as exc:
        session.rollback()
        click.secho(f"导入失败：{exc.message_zh}\n{exc.message_en}", fg="red", err=True)
        sys.exit(1)
    for error in result.errors:
        click.secho(str(error), fg="yellow", err=True)
    for warning in result.warnings:
        click.secho(f"注意 / warning: {warning}", fg="yellow", err=True)
    if result.errors and not skip_bad:
        session.rollback()
        click.secho(
            f"有 {len(result.errors)} 处错误，未导入任何案件（可用 --skip-bad 只导入正确的行）\n"
            f"{len(result.errors)} problems: nothing imported (use --skip-bad to import the good rows)",
            fg="red",
            err=True,
        )
        sys.exit(1)
    session.commit()
    skipped = len({error.row for error in result.errors})
    click.echo(
        f"新建 {result.created} 件，已存在 {result.existing} 件"
        f"（其中 {result.changed} 件与文件不同，未更新），跳过 {skipped} 行"
    )
    click.echo(
        f"Created {result.created}, already there {result.existing} "
        f"({result.changed} of them differ from the file, not updated), skipped {skipped} rows"
    )
