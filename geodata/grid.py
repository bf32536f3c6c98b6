"""The 县 → 镇 → 村 → 组 grid: boundary files in; re-exports the tree check and GridIndex for assignment."""

import os
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geodata.errors import FileFormatError, GeometryError
from geodata.grid_index import GridIndex
from geodata.grid_tree import (
    COLUMNS,
    LEVELS,
    GridError,
    TreeProblem,
    as_multipolygons,
    build_tree,
    code_text,
    level_change_problems,
    level_key,
    tree_problems,
)
from geodata.io import DEFAULT_MAX_UNZIPPED_BYTES, DEFAULT_MAX_ZIP_ENTRIES, read_vector
from geodata.ways import GRID_IMPORT

__all__ = [
    "LEVELS",
    "GridError",
    "GridIndex",
    "TreeProblem",
    "build_tree",
    "level_change_problems",
    "load_boundaries",
    "tree_problems",
]

# Field names seen in boundary files, matched without regard to letter case; first match wins.
CODE_FIELDS = ("code", "网格编码", "网格代码", "编码", "代码", "grid_code", "gridcode", "bm", "dm")
NAME_FIELDS = ("name", "网格名称", "名称", "网格名", "grid_name", "gridname", "mc")
PARENT_FIELDS = (
    "parent_code",
    "parent",
    "上级编码",
    "上级网格编码",
    "上级代码",
    "parentcode",
    "sjbm",
)
LEVEL_FIELDS = ("level", "网格级别", "网格层级", "级别", "层级", "grid_level")


def load_boundaries(
    path: str | os.PathLike | bytes,
    *,
    level: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    layer: str | None = None,
    filename: str | None = None,
    max_zip_entries: int = DEFAULT_MAX_ZIP_ENTRIES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> gpd.GeoDataFrame:
    """Read grid boundaries into columns level, code, name, parent_code, geometry (MultiPolygon, EPSG:4326).

    Fields are found by common Chinese/English names unless named; without a name field the
    name is the code. `level` ("town", "village",
    "group", or 镇/村/组) sets the level of every row; otherwise a level field is used when there is
    one, and build_tree infers what is still missing. `crs` is for files that state none;
    `filename` names content given as bytes (its extension must agree with the content).
    """
    frame = read_vector(
        path,
        way=GRID_IMPORT,
        filename=filename,
        crs=crs,
        layer=layer,
        max_zip_entries=max_zip_entries,
        max_unzipped_bytes=max_unzipped_bytes,
    )
    columns = [str(column) for column in frame.columns if column != frame.geometry.name]
    code_column = _field(columns, code_field, CODE_FIELDS)
    if code_column is None:
        raise FileFormatError(
            "grid_no_code_field",
            f"找不到网格编码字段（如 网格编码、code），现有字段：{'、'.join(columns)}",
            f"No grid code field (such as code or 网格编码); fields are: {', '.join(columns)}",
        )
    name_column = _field(columns, name_field, NAME_FIELDS)
    parent_column = _field(columns, parent_field, PARENT_FIELDS)
    level_column = _field(columns, None, LEVEL_FIELDS) if level is None else None
    codes = [code_text(value) for value in frame[code_column]]
    if level is not None:
        levels = [_level_key(level)] * len(frame)
    elif level_column is not None:
        levels = [_level_key(value) for value in frame[level_column]]
    else:
        levels = [None] * len(frame)
    cells = gpd.GeoDataFrame(
        {
            "level": pd.Series(levels, dtype=object),
            "code": pd.Series(codes, dtype=object),
            "name": pd.Series(
                [code_text(value) for value in frame[name_column]] if name_column else codes,
                dtype=object,
            ),
            "parent_code": (
                pd.Series([code_text(value) for value in frame[parent_column]], dtype=object)
                if parent_column
                else pd.Series([None] * len(frame), dtype=object)
            ),
        },
        geometry=_multipolygons(np.asarray(frame.geometry.values), codes),
        crs=4326,
    )
    return cells[COLUMNS]


def _field(columns: list[str], given: str | None, candidates: Iterable[str]) -> str | None:
    """Return the column named `given`, else the first column matching a candidate name."""
    if given is not None:
        if given not in columns:
            raise FileFormatError(
                "grid_field_missing",
                f"文件中没有字段“{given}”，现有字段：{'、'.join(columns)}",
                f"There is no field {given!r}; fields are: {', '.join(columns)}",
            )
        return given
    by_lower = {column.strip().lower(): column for column in columns}
    for candidate in candidates:
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


def _level_key(value: object) -> str | None:
    """Map a level word (county/县, town/镇/一级/1 …) to a key of LEVELS; blanks → None."""
    key = level_key(value)
    if key is not None and key not in LEVELS:
        raise FileFormatError(
            "grid_level_unknown",
            f"无法识别的网格级别：{key}（应为 县/镇/村/组 或 county/town/village/group）",
            f"Unknown grid level {key!r} (expected county, town, village or group)",
        )
    return key


def _multipolygons(geoms: np.ndarray, codes: list[str | None]) -> np.ndarray:
    """Return every geometry as a MultiPolygon (EPSG:4326), refusing rows that are not areas."""
    bad = np.flatnonzero(~np.isin(shapely.get_type_id(geoms), (3, 6)) | shapely.is_empty(geoms))
    if len(bad):
        shown = "、".join(str(codes[i] or f"#{i + 1}") for i in bad[:10])
        raise GeometryError(
            "grid_not_polygon",
            f"网格边界必须是面，以下记录不是或为空：{shown}",
            f"Grid boundaries must be polygons; these rows are not, or are empty: {shown}",
        )
    return as_multipolygons(geoms)
