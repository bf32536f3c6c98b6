"""Checking one ledger row: every field on its own, every problem listed, into a RowPlan.

Longer than most modules (about 430 lines) on purpose: each field's reader and check stands here
beside the others, so that a row's problems are found and worded in one place.
"""

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from geodata.errors import GeodataError
from geodata.geometry import (
    MAX_VERTICES,
    geometry_from_lonlat,
    parse_geometry,
    validate_geometry,
)
from inspection import clock
from inspection.cases.ledger_rows import FIELD_NAMES_ZH, canonical
from inspection.cases.records import COMMON_FIELDS, GEOMETRY_TYPES, KIND_FIELDS
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
    town: str | None = None  # the town the ledger names (code or name), checked against the place
    note: str = ""
    warnings: list[tuple[str, str, str]] = field(default_factory=list)


class _Bad(Exception):
    """A field of a row is wrong: (field, Chinese reason, English reason)."""


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


def check_row(
    properties: dict, geom, kind: str | None, max_vertices: int
) -> tuple[RowPlan | None, list[tuple[str, str, str]], object]:
    """(plan or None, every problem of the row, its geometry or None): each field on its own."""
    values, names = canonical(properties)
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
        town=(_text(values["town"]) or None) if "town" in values else None,
        note=note,
        warnings=warnings,
    )
    return plan, [], shape


def parse_row(
    properties: dict, geom, kind: str | None, *, max_vertices: int = MAX_VERTICES
) -> tuple[RowPlan | None, list[tuple[str, str, str]]]:
    """Check one row; return (plan, []) or (None, every [(field, 中文原因, English reason)])."""
    plan, errors, _ = check_row(properties, geom, kind, max_vertices)
    return plan, errors


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
