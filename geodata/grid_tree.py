"""Check grid cells as a 县 → 镇 → 村 → 组 tree: levels and parents derived when missing, nesting validated.

The county level is optional: a file (with the cells already stored) without a county cell is a
town grid whose towns have no parent in the grid, as before counties existed. A county grid has
exactly one county cell, and every town lies in it.
"""

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import GeometryError
from geodata.geometry import validate_geometry

LEVELS = ("county", "town", "village", "group")
LEVEL_ZH = {"county": "县", "town": "镇", "village": "村", "group": "组"}
# National statistical division codes: 县 6 digits, 镇 9, 村 12; groups add 3 (15).
DIVISION_CODE_DIGITS = {"county": 6, "town": 9, "village": 12, "group": 15}
COLUMNS = ["level", "code", "name", "parent_code", "geometry"]
# A child counts as inside its parent when this share of its area is (edge noise of digitising).
MIN_INSIDE_SHARE = 0.99
# Cells of one level may overlap by this share of the smaller one's area before it is a problem.
MAX_OVERLAP_SHARE = 0.01
# Area shares below are ratios of planar areas in degrees²: over a cell a few km across the
# cos(latitude) scale is the same for numerator and denominator, so the ratio is what it is in m².


@dataclass(frozen=True)
class TreeProblem:
    """One thing wrong with a grid tree, naming the cells concerned by code."""

    code: str
    message_zh: str
    message_en: str
    cell_codes: tuple[str, ...] = ()


class GridError(GeometryError):
    """The grid boundaries do not form a valid tree; `problems` lists every TreeProblem found."""

    def __init__(self, problems: list[TreeProblem]) -> None:
        shown = problems[:5]
        more_zh = f"（等，共 {len(problems)} 处）" if len(problems) > len(shown) else ""
        more_en = f" ({len(problems)} in all)" if len(problems) > len(shown) else ""
        super().__init__(
            "grid_invalid",
            "网格边界有问题：" + "；".join(p.message_zh for p in shown) + more_zh,
            "The grid boundaries have problems: "
            + "; ".join(p.message_en for p in shown)
            + more_en,
        )
        self.problems = problems


LEVEL_WORDS = {
    **dict.fromkeys(("county", "县", "区", "市辖区", "旗", "县级", "县区"), "county"),
    **dict.fromkeys(("town", "镇", "乡", "街道", "一级", "1"), "town"),
    **dict.fromkeys(("village", "村", "社区", "二级", "2"), "village"),
    **dict.fromkeys(("group", "组", "小组", "村民小组", "三级", "3"), "group"),
}


def level_key(value: object) -> str | None:
    """Map a level word (county/县, town/镇/一级/1 …) to a key of LEVELS; unknown text is kept."""
    text = code_text(value)
    return None if text is None else LEVEL_WORDS.get(text.lower(), text)


def code_text(value: object) -> str | None:
    """Turn a code cell into text: 42011610120101.0 → "42011610120101"; blanks → None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def build_tree(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the checked tree (level, code, name, parent_code, MultiPolygon geometry in EPSG:4326).

    Missing levels come from parent codes or, failing those, from nesting (the outermost cell is
    the town); missing parent codes from containment of each cell's representative point in a cell
    of the level above. Raises GridError listing every problem found.
    """
    tree, problems = _derive(cells)
    if problems:
        raise GridError(problems)
    return tree


def level_change_problems(stored_levels: dict[str, str], tree: gpd.GeoDataFrame) -> list[TreeProblem]:
    """Refuse a code of `tree` already stored at another level (a town code reused for a village …).

    `stored_levels` maps the stored cells' codes to their levels; a cell may be re-imported at its
    own level (its boundary and name replaced), never turned into a cell of another level.
    """
    problems = []
    for code, level in zip(tree["code"], tree["level"], strict=True):
        was = stored_levels.get(code)
        if was is not None and was != level:
            problems.append(
                TreeProblem(
                    "code_reused",
                    f"编码 {code} 已是{LEVEL_ZH[was]}级网格的编码，不能再用于{LEVEL_ZH[level]}级网格",
                    f"Code {code} already belongs to a {was} cell and cannot be reused for a {level}",
                    (code,),
                )
            )
    return problems


def tree_problems(cells: gpd.GeoDataFrame) -> list[TreeProblem]:
    """List what build_tree would refuse in `cells` (EPSG:4326), without raising; empty when fine."""
    return _derive(cells)[1]


def _derive(cells: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[TreeProblem]]:
    """Fill in levels and parents, then validate; return the tree sorted by level and code."""
    if cells.crs is not None and not cells.crs.equals("EPSG:4326", ignore_axis_order=True):
        cells = cells.to_crs(4326)
    frame = gpd.GeoDataFrame(
        {
            column: pd.Series(
                [clean(v) for v in cells[column]] if column in cells else [None] * len(cells),
                dtype=object,
            )
            for column, clean in zip(COLUMNS[:-1], (level_key, *[code_text] * 3), strict=True)
        },
        geometry=np.asarray(cells.geometry.values),
        crs=4326,
    )
    problems = _code_problems(frame) + _geometry_problems(frame)
    if problems:
        return frame, problems
    geoms = as_multipolygons(np.asarray(frame.geometry.values))
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=4326))
    levels, problems = _levels(frame, geoms)
    frame["level"] = pd.Series(levels, index=frame.index, dtype=object)
    if problems:
        return frame, problems
    parents, problems = _parents(frame, geoms)
    frame["parent_code"] = pd.Series(parents, index=frame.index, dtype=object)
    problems += (
        _county_problems(frame) + _nesting_problems(frame, geoms) + _overlap_problems(frame, geoms)
    )
    order = np.lexsort((frame["code"].to_numpy(dtype=str), frame["level"].map(LEVELS.index)))
    return frame.iloc[order].reset_index(drop=True), problems


def _code_problems(frame: gpd.GeoDataFrame) -> list[TreeProblem]:
    """Every cell needs a code, and no two cells the same one."""
    problems = []
    blank_rows = [str(i + 1) for i, code in enumerate(frame["code"]) if code is None]
    if blank_rows:
        problems.append(
            TreeProblem(
                "code_missing",
                f"第 {'、'.join(blank_rows[:10])} 行缺少网格编码",
                f"Rows {', '.join(blank_rows[:10])} have no grid code",
            )
        )
    counts = frame["code"].dropna().value_counts()
    for code in sorted(counts[counts > 1].index):
        problems.append(
            TreeProblem(
                "code_duplicate",
                f"网格编码 {code} 重复 {counts[code]} 次",
                f"Grid code {code} occurs {counts[code]} times",
                (code,),
            )
        )
    return problems


def as_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Return the array with each Polygon wrapped as a MultiPolygon (any CRS; coordinates unchanged)."""
    polygons = shapely.get_type_id(geoms) == 3
    out = geoms.copy()
    out[polygons] = shapely.multipolygons(geoms[polygons][:, np.newaxis])
    return out


def _invalid_reason(geom) -> tuple[str, str]:
    """Why a lon/lat boundary GEOS calls invalid, in Chinese and English (self-intersection, area 0 …)."""
    try:
        validate_geometry(geom, max_vertices=np.iinfo(np.int64).max)
    except GeometryError as exc:
        return exc.message_zh, exc.message_en
    reason = shapely.is_valid_reason(geom)  # a case our own checks let through: GEOS's words
    return reason, reason


def _geometry_problems(frame: gpd.GeoDataFrame) -> list[TreeProblem]:
    """Every cell needs a valid, non-empty (Multi)Polygon."""
    geoms = np.asarray(frame.geometry.values)
    not_area = ~np.isin(shapely.get_type_id(geoms), (3, 6)) | shapely.is_empty(geoms)
    problems = []
    for i in np.flatnonzero(not_area | ~shapely.is_valid(geoms)):
        code = frame["code"].iat[i] or f"#{i + 1}"
        reason_zh, reason_en = (
            ("不是面或为空", "not a polygon, or empty")
            if not_area[i]
            else _invalid_reason(geoms[i])
        )
        problems.append(
            TreeProblem(
                "geometry_invalid",
                f"网格 {code} 的边界无效：{reason_zh}",
                f"The boundary of cell {code} is invalid: {reason_en}",
                (code,),
            )
        )
    return problems


def _levels(frame: gpd.GeoDataFrame, geoms: np.ndarray) -> tuple[list[str], list[TreeProblem]]:
    """Return each cell's level: as given, one below its parent's, or from how deep it nests."""
    codes = list(frame["code"])
    row_of = {code: i for i, code in enumerate(codes)}
    given = list(frame["level"])
    parents = list(frame["parent_code"])
    depth = None
    top = 0 if "county" in given else 1  # the outermost cell is the county only when one is named
    levels: list[str | None] = [None] * len(codes)
    problems: list[TreeProblem] = []

    def level_of(row: int, seen: frozenset[int]) -> str | None:
        nonlocal depth
        if levels[row] is not None or given[row] is not None:
            return levels[row] or given[row]
        parent_row = row_of.get(parents[row])
        if parent_row is not None:
            if parent_row in seen:
                return None  # a cycle; reported below as the cell with no level
            parent_level = level_of(parent_row, seen | {parent_row})
            index = LEVELS.index(parent_level) + 1 if parent_level in LEVELS else len(LEVELS)
        else:
            depth = _nesting_depth(geoms) if depth is None else depth
            index = top + int(depth[row])
        return LEVELS[index] if index < len(LEVELS) else None

    for row, code in enumerate(codes):
        levels[row] = level_of(row, frozenset({row}))
        if levels[row] not in LEVELS:
            shown = given[row] or "？"
            problems.append(
                TreeProblem(
                    "level_unknown",
                    f"网格 {code} 的级别无法确定（{shown}）：应为县、镇、村、组之一",
                    f"Cannot tell the level of cell {code} ({shown}): it must be county, town, "
                    "village or group",
                    (code,),
                )
            )
    return levels, problems


def _nesting_depth(geoms: np.ndarray) -> np.ndarray:
    """Count, per cell, the larger cells holding its representative point (0 = outermost)."""
    points = shapely.point_on_surface(geoms)
    point_idx, cell_idx = shapely.STRtree(geoms).query(points, predicate="intersects")
    areas = shapely.area(geoms)
    outer = (point_idx != cell_idx) & (areas[cell_idx] > areas[point_idx])
    return np.bincount(point_idx[outer], minlength=len(geoms))


def _parents(frame: gpd.GeoDataFrame, geoms: np.ndarray) -> tuple[list, list[TreeProblem]]:
    """Fill missing parent codes with the cell of the level above that holds the representative point."""
    codes = list(frame["code"])
    levels = list(frame["level"])
    parents = list(frame["parent_code"])
    roots = _root_levels(levels)
    orphans = [i for i, level in enumerate(levels) if level not in roots and parents[i] is None]
    by_code = dict(zip(codes, levels, strict=True))
    for i in list(orphans):
        prefix = _division_parent(codes[i], levels[i])
        if prefix is not None and by_code.get(prefix) == _level_above(levels[i]):
            parents[i] = prefix  # a statistical division code names its parent by its prefix
            orphans.remove(i)
    if not orphans:
        return parents, []
    points = shapely.point_on_surface(geoms[orphans])
    point_idx, cell_idx = shapely.STRtree(geoms).query(points, predicate="intersects")
    candidates: dict[int, list[int]] = {}
    for p, c in zip(point_idx, cell_idx, strict=True):
        child = orphans[p]
        if levels[c] == LEVELS[LEVELS.index(levels[child]) - 1]:
            candidates.setdefault(child, []).append(c)
    problems = []
    for child in orphans:
        found = candidates.get(child, [])
        if not found:
            level_zh = LEVEL_ZH[LEVELS[LEVELS.index(levels[child]) - 1]]
            problems.append(
                TreeProblem(
                    "parent_not_found",
                    f"网格 {codes[child]} 不在任何上级（{level_zh}）网格内",
                    f"Cell {codes[child]} lies in no cell of the level above",
                    (codes[child],),
                )
            )
            continue
        shared = shapely.area(shapely.intersection(geoms[child], geoms[found]))
        # Most shared area wins; among equals the smallest code, whatever the input order.
        best = min(range(len(found)), key=lambda k: (-shared[k], codes[found[k]]))
        parents[child] = codes[found[best]]
    return parents, problems


def _root_levels(levels: list) -> set[str]:
    """The levels without a parent in the grid: the county, or the towns when there is no county."""
    return {"county"} if "county" in levels else {"county", "town"}


def _level_above(level: str) -> str | None:
    """The level one up (None above the county)."""
    index = LEVELS.index(level) if level in LEVELS else 0
    return LEVELS[index - 1] if index > 0 else None


def _division_parent(code: str, level: str) -> str | None:
    """The parent's code when `code` is a statistical division code of its level (digits, right length)."""
    above = _level_above(level)
    if above is None or not code.isdigit() or len(code) != DIVISION_CODE_DIGITS[level]:
        return None
    return code[: DIVISION_CODE_DIGITS[above]]


def _county_problems(frame: gpd.GeoDataFrame) -> list[TreeProblem]:
    """One deployment holds one county: at most one county cell, and towns of one county only."""
    levels = list(frame["level"])
    counties = sorted(code for code, level in zip(frame["code"], levels, strict=True) if level == "county")
    if len(counties) > 1:
        return [
            TreeProblem(
                "several_counties",
                f"网格中有 {len(counties)} 个县级网格（{'、'.join(counties[:5])}）：一套系统只管理一个县",
                f"The grid holds {len(counties)} counties ({', '.join(counties[:5])}); one "
                "deployment holds one county",
                tuple(counties),
            )
        ]
    towns = [
        (code, parent)
        for code, parent, level in zip(frame["code"], frame["parent_code"], levels, strict=True)
        if level == "town"
    ]
    prefixes = {_division_parent(code, "town") for code, _ in towns} - {None}
    if counties:  # parents came from the county itself; a division code may still name another
        county = counties[0]
        is_division = county.isdigit() and len(county) == DIVISION_CODE_DIGITS["county"]
        named = ({county} | prefixes if prefixes - {county} else set()) if is_division else prefixes
    else:  # a town's county: its parent code, else its division code's prefix
        named = {parent or _division_parent(code, "town") for code, parent in towns} - {None}
    if len(named) > 1:
        codes = sorted(named)
        return [
            TreeProblem(
                "towns_of_several_counties",
                f"镇属于不同的县（{'、'.join(codes[:5])}，据上级编码或统计区划代码）：一套系统只管理一个县",
                f"The towns belong to different counties ({', '.join(codes[:5])}, by parent code or "
                "division code); one deployment holds one county",
                tuple(codes),
            )
        ]
    return []


def _nesting_problems(frame: gpd.GeoDataFrame, geoms: np.ndarray) -> list[TreeProblem]:
    """Check each parent exists one level up and holds at least MIN_INSIDE_SHARE of the child's area."""
    codes = list(frame["code"])
    levels = list(frame["level"])
    row_of = {code: i for i, code in enumerate(codes)}
    roots = _root_levels(levels)
    problems = []
    pairs = []
    for child, parent_code in enumerate(frame["parent_code"]):
        if levels[child] in roots:
            continue  # the county; or, in a town grid, a town (its county is outside the grid)
        parent = row_of.get(parent_code)
        expected = _level_above(levels[child])
        if parent is None or levels[parent] != expected:
            problems.append(
                TreeProblem(
                    "parent_missing",
                    f"网格 {codes[child]} 的上级 {parent_code} 不存在或不是{LEVEL_ZH[expected]}级网格",
                    f"The parent {parent_code} of cell {codes[child]} is missing or not a {expected}",
                    (codes[child],),
                )
            )
        else:
            pairs.append((child, parent))
    if not pairs:
        return problems
    child_rows, parent_rows = (np.array(rows) for rows in zip(*pairs, strict=True))
    inside = shapely.area(shapely.intersection(geoms[child_rows], geoms[parent_rows]))
    share = inside / shapely.area(geoms[child_rows])
    for child, parent, fraction in zip(child_rows, parent_rows, share, strict=True):
        if fraction < MIN_INSIDE_SHARE:
            problems.append(
                TreeProblem(
                    "outside_parent",
                    f"网格 {codes[child]} 只有 {fraction:.1%} 在上级网格 {codes[parent]} 内",
                    f"Only {fraction:.1%} of cell {codes[child]} lies inside its parent {codes[parent]}",
                    (codes[child], codes[parent]),
                )
            )
    return problems


def _overlap_problems(frame: gpd.GeoDataFrame, geoms: np.ndarray) -> list[TreeProblem]:
    """Report cells of one level whose overlap exceeds MAX_OVERLAP_SHARE of the smaller one."""
    codes = list(frame["code"])
    levels = frame["level"].to_numpy(dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = (left < right) & (levels[left] == levels[right])
    left, right = left[keep], right[keep]
    keep = ~shapely.touches(geoms[left], geoms[right])
    left, right = left[keep], right[keep]
    overlap = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    problems = []
    for a, b, share in zip(left, right, overlap / smaller, strict=True):
        if share > MAX_OVERLAP_SHARE:
            problems.append(
                TreeProblem(
                    "cells_overlap",
                    f"网格 {codes[a]} 与 {codes[b]} 重叠（占较小者面积的 {share:.1%}）",
                    f"Cells {codes[a]} and {codes[b]} overlap ({share:.1%} of the smaller one)",
                    (codes[a], codes[b]),
                )
            )
    return problems
