"""Read a 图斑 file through the guarded reader and check it row by row: numbers, polygons, areas.

A row is refused with its reason (never the whole file) when its number is missing or repeats one
above it, its geometry is empty, not a polygon, a zero-area sliver or has too many vertices. An
invalid polygon (self-intersecting, a bow-tie) is repaired with make_valid when that leaves a
polygon, and the row says so. What cannot be read at all raises, and nothing is stored.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import shapely

from geodata.area import geodesic_areas_m2
from geodata.io import read_vector
from geodata.ways import TUBAN_IMPORT
from inspection.errors import InvalidInput

# The 图斑 number's column, when --id-field names none: the first of these present (any case).
ID_FIELDS = ("图斑编号", "TBBH", "JCBH", "BSM")
# Smaller than this (m², geodesic) is a sliver, not a change on the ground.
MIN_AREA_M2 = 1.0


@dataclass(frozen=True)
class Refusal:
    """A row left out of the batch: its row number (1 = first feature), 图斑 number and reason."""

    row: int
    number: str | None
    reason_zh: str
    reason_en: str

    def as_json(self) -> dict:
        """The row as `import-tuban --json` lists it."""
        return {
            "row": self.row,
            "id": self.number,
            "reason": self.reason_zh,
            "reason_en": self.reason_en,
        }


@dataclass(frozen=True)
class TubanRow:
    """One good row: its number, its valid (Multi)Polygon in lon/lat EPSG:4326, its geodesic area."""

    row: int
    number: str
    geom: object
    area_m2: float
    repaired: bool
    attributes: dict = field(default_factory=dict)


def id_column(columns, id_field: str | None) -> str:
    """The column holding the 图斑 number: `id_field`, else the first of ID_FIELDS (any letter case)."""
    by_upper = {str(c).upper(): c for c in columns if c != "geometry"}
    if id_field:
        if id_field.upper() not in by_upper:
            raise InvalidInput(
                "tuban_id_field_missing",
                f"文件中没有字段“{id_field}”（现有字段：{'、'.join(map(str, by_upper.values()))}）",
                f"The file has no field {id_field!r} (fields: {', '.join(map(str, by_upper.values()))})",
            )
        return by_upper[id_field.upper()]
    for name in ID_FIELDS:
        if name.upper() in by_upper:
            return by_upper[name.upper()]
    raise InvalidInput(
        "tuban_no_id_field",
        f"文件中没有图斑编号字段（{'、'.join(ID_FIELDS)}），请用 --id-field 指定",
        f"The file has no 图斑 number field ({', '.join(ID_FIELDS)}); name one with --id-field",
    )


def _plain(value):
    """An attribute value as JSON can hold it: text for dates, None for missing numbers."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool) else str(value)


def _number(value) -> str | None:
    """The 图斑 number as text ("123" for 123.0), or None when the cell is empty."""
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _polygonal(geom):
    """The polygonal part of a geometry as a MultiPolygon, or None when it has none."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polygons) if polygons else None


def _shape_problem(geom, max_vertices: int) -> tuple[object, bool, tuple[str, str] | None]:
    """(valid MultiPolygon or None, repaired?, refusal reason or None) of one row's geometry."""
    if geom is None or geom.is_empty:
        return None, False, ("几何为空", "The geometry is empty")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None, False, (f"不是面要素（{geom.geom_type}）", f"Not a polygon ({geom.geom_type})")
    if shapely.get_num_coordinates(geom) > max_vertices:
        return (
            None,
            False,
            (
                f"顶点过多（超过 {max_vertices} 个）",
                f"Too many vertices (more than {max_vertices})",
            ),
        )
    repaired = not geom.is_valid
    if repaired:
        geom = _polygonal(shapely.make_valid(geom))
        if geom is None or geom.is_empty:
            return None, True, ("面自相交且无法修复", "The polygon intersects itself beyond repair")
    return _polygonal(geom), repaired, None


def check_rows(
    frame, id_field: str | None, max_vertices: int
) -> tuple[list[TubanRow], list[Refusal]]:
    """Check every row of a read frame (lon/lat EPSG:4326): the good rows and the refused ones."""
    column = id_column(frame.columns, id_field)
    others = [c for c in frame.columns if c not in ("geometry",)]
    rows: list[TubanRow] = []
    refused: list[Refusal] = []
    first_row: dict[str, int] = {}
    shapes = []
    for position, (value, geom) in enumerate(zip(frame[column], frame.geometry, strict=True)):
        row, number = position + 1, _number(value)
        if number is None:
            refused.append(Refusal(row, None, "缺少图斑编号", "The 图斑 number is missing"))
            continue
        if number in first_row:
            refused.append(
                Refusal(
                    row,
                    number,
                    f"图斑编号与第 {first_row[number]} 行重复",
                    f"The number repeats row {first_row[number]}",
                )
            )
            continue
        first_row[number] = row
        shape, repaired, problem = _shape_problem(geom, max_vertices)
        if problem:
            refused.append(Refusal(row, number, *problem))
            continue
        attributes = {
            str(c): _plain(frame.at[frame.index[position], c]) for c in others if c != column
        }
        shapes.append((row, number, shape, repaired, attributes))
    areas_m2 = geodesic_areas_m2([s[2] for s in shapes]) if shapes else []
    for (row, number, shape, repaired, attributes), area_m2 in zip(shapes, areas_m2, strict=True):
        if not area_m2 >= MIN_AREA_M2:
            refused.append(
                Refusal(
                    row,
                    number,
                    f"面积为零或过小（{area_m2:.2f} 平方米），是碎片而非图斑",
                    f"Zero-area sliver ({area_m2:.2f} m²)",
                )
            )
            continue
        rows.append(TubanRow(row, number, shape, float(area_m2), repaired, attributes))
    refused.sort(key=lambda r: r.row)
    return rows, refused


def read_tuban_file(
    path,
    *,
    id_field: str | None,
    crs: str | None,
    zip_limits: dict,
    max_vertices: int,
    filename: str | None = None,
) -> tuple[list[TubanRow], list[Refusal]]:
    """Read a 图斑 file (zipped Shapefile, GeoPackage, GeoJSON; any CRS) and check its rows.

    Raises GeodataError when the file cannot be read and InvalidInput when no number field is found.
    """
    frame = read_vector(path, way=TUBAN_IMPORT, filename=filename, crs=crs, **zip_limits)
    return check_rows(frame, id_field, max_vertices)
