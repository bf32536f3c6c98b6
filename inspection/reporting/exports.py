"""Export a filtered selection of cases as 台账 (xlsx, csv) or GIS files; the `export` command."""

import sys

import click
import geopandas as gpd
from flask.cli import with_appcontext
from sqlalchemy import extract, select
from sqlalchemy.orm import Session, selectinload

from geodata.area import m2_to_mu
from geodata.export import FORMATS as GIS_FORMATS
from geodata.export import write_vector
from inspection import clock
from inspection.accounts.models import User
from inspection.cases.lists import (
    TRUE_WORDS,
    bbox_condition,
    case_conditions,
    category_keys,
    parse_bbox,
    visible_cell,
)
from inspection.cases.models import Case
from inspection.errors import InvalidInput
from inspection.reporting.ledgers import ledger_frame, write_ledger_csv, write_ledgers_xlsx
from inspection.vocab import KINDS, SOURCES, STATUS_GROUPS, STATUSES, status_label

KIND_CHOICES = (*KINDS, "all")
FORMAT_CHOICES = ("xlsx", "csv", *GIS_FORMATS)
# Attributes of every GIS feature, then each kind's own fields (all of them when kinds mix).
GIS_COMMON = (
    "id",
    "kind",
    "status",
    "status_label",
    "source",
    "category",
    "title",
    "description",
    "found_on",
    "deadline_on",
    "done_on",
    "verified_on",
    "village_code",
    "village",
    "group_code",
    "group",
    "responsible",
    "area_m2",
    "area_mu",
)
GIS_KIND_FIELDS = {
    "issue": ("doc_number", "measures", "remarks"),
    "illegal_building": (
        "party",
        "structure",
        "floors",
        "building_area_m2",
        "demolished_area_m2",
        "land_type",
        "enforcement_doc_no",
        "remarks",
    ),
    "farmland": ("parcel_no", "land_type", "crop", "remarks"),
}


def status_keys(status: str) -> set[str]:
    """A status key or a group name (open, fixed, closed) as a set of status keys."""
    if status in STATUS_GROUPS:
        return set(STATUS_GROUPS[status])
    if status not in STATUSES:
        raise InvalidInput(
            "bad_status", f"未知的状态：{status}", f"Unknown status or status group: {status}"
        )
    return {status}


def _cell(session: Session, user: User | None, level: str, code: str):
    """The village or group of a code the user may see; InvalidInput for others, as if unknown."""
    cell = visible_cell(session, user, level, code)
    if cell is None:
        name = "村" if level == "village" else "组"
        raise InvalidInput(f"bad_{level}", f"没有编码为 {code} 的{name}", f"No {level} {code}")
    return cell


def _is_true(value) -> bool:
    return value is True or str(value).strip().lower() in TRUE_WORDS


def select_cases(
    session: Session, user: User | None, kind: str, filters: dict | None = None
) -> list[Case]:
    """The cases of a kind ("all" for every kind) the user may see (all when None), filtered.

    filters: year (found that year), status (key or open/fixed/closed), village (村 code),
    group (组 code), source (key), category (key, name or the group environment), overdue
    (true: open past the deadline today), mine (true: those the user is responsible for) and
    bbox ("W,S,E,N" or 4 numbers, lon/lat: the cases whose geometry intersects it) — the filters
    of the case list and the map.
    """
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", False)}
    if kind not in KIND_CHOICES:
        raise InvalidInput("bad_kind", f"未知的类型：{kind}", f"Unknown kind: {kind}")
    source, category = filters.get("source"), filters.get("category")
    if source is not None and source not in SOURCES:
        raise InvalidInput("bad_source", f"未知的来源：{source}", f"Unknown source: {source}")
    if category is not None and category_keys(category) is None:
        raise InvalidInput(
            "bad_category", f"未知的问题类别：{category}", f"Unknown category: {category}"
        )
    where = case_conditions(
        user,
        clock.town_today(),
        kind=None if kind == "all" else kind,
        village=_cell(session, user, "village", filters["village"])
        if "village" in filters
        else None,
        group=_cell(session, user, "group", filters["group"]) if "group" in filters else None,
        source=source,
        category=category,
        overdue=_is_true(filters.get("overdue", False)),
        responsible=user if user is not None and _is_true(filters.get("mine", False)) else None,
    )
    if "year" in filters:
        where.append(extract("year", Case.found_on) == int(filters["year"]))
    if "status" in filters:
        where.append(Case.status.in_(status_keys(filters["status"])))
    if "bbox" in filters:
        bbox = filters["bbox"]
        bbox = parse_bbox(bbox if isinstance(bbox, str) else ",".join(map(str, bbox)))
        where.append(bbox_condition(session, Case, Case.geom, bbox, *where))
    query = (
        select(Case)
        .where(*where)
        .options(
            selectinload(Case.village),
            selectinload(Case.group),
            selectinload(Case.responsible),
            selectinload(Case.history),
        )
        .order_by(Case.id)
    )
    return list(session.scalars(query))


def _gis_value(case: Case, name: str) -> object:
    if name == "status_label":
        return status_label(case.status, case.kind)
    if name in ("village", "group"):
        cell = getattr(case, name)
        return cell.name if cell else None
    if name in ("village_code", "group_code"):
        cell = getattr(case, name.removesuffix("_code"))
        return cell.code if cell else None
    if name == "area_mu":
        return None if case.area_m2 is None else float(m2_to_mu(case.area_m2))
    if name == "responsible":  # 责任人, by name as in the ledgers
        return case.responsible.display_name if case.responsible else None
    return getattr(case, name)


def gis_frame(cases: list[Case], kind: str) -> gpd.GeoDataFrame:
    """Cases as a lon/lat (EPSG:4326) GeoDataFrame with GIS_COMMON and the kind's fields."""
    kinds = list(KINDS) if kind == "all" else [kind]
    names = list(GIS_COMMON)
    for each in kinds:
        names += [n for n in GIS_KIND_FIELDS[each] if n not in names]
    data = {name: [_gis_value(case, name) for case in cases] for name in names}
    frame = gpd.GeoDataFrame(data, geometry=[c.geom for c in cases], crs="EPSG:4326")
    for name in ("area_m2", "area_mu", "building_area_m2", "demolished_area_m2"):
        if name in frame.columns:
            frame[name] = frame[name].astype("float64")
    return frame


def export_cases(
    session: Session,
    user: User | None,
    kind: str,
    fmt: str,
    target,
    filters: dict | None = None,
    *,
    subtotals: bool = False,
) -> int:
    """Write the selected cases to a path or binary buffer as xlsx, csv or a GIS format; return the count.

    xlsx with kind "all" holds one sheet per kind; csv needs one kind (the columns differ).
    """
    if fmt not in FORMAT_CHOICES:
        raise InvalidInput("bad_format", f"未知的格式：{fmt}", f"Unknown format: {fmt}")
    if fmt == "csv" and kind == "all":
        raise InvalidInput(
            "csv_one_kind",
            "CSV 台账每次只能导出一种类型（问题、违法建筑或复耕地块）",
            "A CSV ledger holds one kind: choose issue, illegal_building or farmland",
        )
    cases = select_cases(session, user, kind, filters)
    if fmt in GIS_FORMATS:
        write_vector(gis_frame(cases, kind), fmt, target)
    elif fmt == "csv":
        write_ledger_csv(ledger_frame(cases, kind, subtotals=subtotals), kind, target)
    else:
        kinds = list(KINDS) if kind == "all" else [kind]
        frames = {k: ledger_frame(cases, k, subtotals=subtotals) for k in kinds}
        write_ledgers_xlsx(frames, target)
    return len(cases)


def describe_filters(kind: str, filters: dict) -> str:
    """A short Chinese description of an export's selection, for messages and file names."""
    parts = ["全部类型" if kind == "all" else KINDS[kind][0]]
    if filters.get("year"):
        parts.append(f"{filters['year']}年发现")
    if filters.get("status"):
        status = filters["status"]
        parts.append(status if status in STATUS_GROUPS else status_label(status, kind))
    if filters.get("village"):
        parts.append(f"村 {filters['village']}")
    if filters.get("group"):
        parts.append(f"组 {filters['group']}")
    if filters.get("source"):
        parts.append(SOURCES.get(filters["source"], (filters["source"],))[0])
    if filters.get("category"):
        parts.append(f"类别 {filters['category']}")
    if filters.get("overdue") and _is_true(filters["overdue"]):
        parts.append("逾期")
    if filters.get("bbox"):
        parts.append(f"范围 {filters['bbox']}")
    return "，".join(parts)


@click.command("export")
@with_appcontext
@click.option("--kind", type=click.Choice(KIND_CHOICES), default="all", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMAT_CHOICES), required=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--year", type=click.IntRange(1990, 2100), help="Found in this year")
@click.option("--status", help="Status key (reported … void) or group (open, fixed, closed)")
@click.option("--village", help="Village (村) grid code")
@click.option("--group", help="Group (组) grid code")
@click.option("--source", type=click.Choice(tuple(SOURCES)), help="How the case came in")
@click.option("--category", help="Issue category: key, Chinese name, or environment (环保问题)")
@click.option("--overdue", is_flag=True, help="Only cases open past their deadline today")
@click.option("--bbox", help="W,S,E,N in degrees: cases whose geometry intersects the box")
@click.option("--subtotals", is_flag=True, help="Add a 小计 row per village to a ledger")
def export_command(kind, fmt, out_path, subtotals, **selection) -> None:
    """Export cases as a ledger (xlsx, csv) or GIS file (geojson, gpkg, shp zip, kml)."""
    from inspection import db

    filters = selection
    try:
        count = export_cases(db.session(), None, kind, fmt, out_path, filters, subtotals=subtotals)
    except InvalidInput as exc:
        click.secho(f"导出失败：{exc.message_zh}\n{exc.message_en}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"已导出 {count} 件（{describe_filters(kind, filters)}）→ {out_path}")
    click.echo(f"Exported {count} cases to {out_path}")
