"""Import grid boundaries from a file into GridCell rows, all or nothing.

A county's boundary is its own file's when the file holds the county; a file of towns without it
grows the stored county to the union of its towns (a county made from one town by the upgrade
migration, or by `flask county`, has only that town's boundary).
"""

from collections.abc import Callable

import pandas as pd
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.area import geodesic_areas_m2
from geodata.grid import GridError, build_tree, level_change_problems, load_boundaries
from inspection.db import begin_write
from inspection.grid.models import GridCell
from inspection.grid.placement import grid_frame

LEVEL_ORDER = {"county": 0, "town": 1, "village": 2, "group": 3}


def import_grid(
    session: Session,
    path: str,
    *,
    level: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    crs: str | None = None,
    progress: Callable[[int], None] | None = None,
    zip_limits: dict | None = None,
) -> dict:
    """Read boundaries, build the tree and insert or update cells by code; the caller commits.

    `zip_limits` (max_zip_entries, max_unzipped_bytes) bound a zipped file; see settings.
    """
    cells = load_boundaries(
        path,
        level=level,
        code_field=code_field,
        name_field=name_field,
        parent_field=parent_field,
        crs=crs,
        **(zip_limits or {}),
    )
    # Cells already stored take part in the tree, so a file of groups can name villages imported
    # earlier as their parents; the file's cells replace stored ones with the same code.
    begin_write(session)
    stored = grid_frame(session)
    stored_levels = dict(zip(stored["code"], stored["level"], strict=True))
    # Said first when the file names its levels: dropping the stored cell would confuse the tree.
    if problems := level_change_problems(stored_levels, cells[cells["level"].notna()]):
        raise GridError(problems)
    stored = stored[~stored["code"].isin(cells["code"])].drop(columns=["id"])
    new_codes = set(cells["code"])
    stored, grown = _grow_county(stored, cells)
    new_codes |= grown
    cells = (
        build_tree(pd.concat([stored, cells], ignore_index=True))
        if len(stored)
        else build_tree(cells)
    )
    cells = cells[cells["code"].isin(new_codes)]
    if problems := level_change_problems(stored_levels, cells):
        raise GridError(problems)
    cells = cells.assign(order=cells["level"].map(LEVEL_ORDER)).sort_values(["order", "code"])
    areas_m2 = geodesic_areas_m2(cells.geometry.values)
    existing = {c.code: c for c in session.scalars(select(GridCell))}
    added = updated = 0
    for (_, row), area_m2 in zip(cells.iterrows(), areas_m2, strict=True):
        cell = existing.get(row["code"])
        if cell is None:
            cell = GridCell(code=row["code"])
            session.add(cell)
            existing[row["code"]] = cell
            added += 1
        else:
            updated += 1
        cell.level, cell.name = row["level"], row["name"]
        cell.parent = existing.get(row["parent_code"]) if row["parent_code"] else None
        cell.set_boundary(row.geometry)
        cell.area_m2 = float(area_m2)
    session.flush()
    if progress:
        progress(1)
    counts = cells[cells["code"].isin(new_codes - grown)]["level"].value_counts().to_dict()
    return {"added": added, "updated": updated, **{f"level_{k}": v for k, v in counts.items()}}


def _grow_county(stored: pd.DataFrame, cells: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """Give the stored county the union of every town when the file brings towns but no county.

    Returns the stored frame (the county's geometry replaced) and the county's code to rewrite.
    """
    counties = stored.index[stored["level"] == "county"]
    file_levels = set(cells["level"].dropna())
    if len(counties) != 1 or "county" in file_levels or "town" not in file_levels:
        return stored, set()
    towns = pd.concat(
        [
            stored.loc[stored["level"] == "town", "geometry"],
            cells.loc[cells["level"] == "town", "geometry"],
        ]
    )
    union = shapely.union_all(towns.to_numpy())
    stored = stored.copy()
    stored.loc[counties[0], "geometry"] = (
        union if union.geom_type == "MultiPolygon" else shapely.MultiPolygon([union])
    )
    return stored, {stored.loc[counties[0], "code"]}
