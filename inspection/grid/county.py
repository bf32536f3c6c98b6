"""The county cell: one per deployment, above its towns; named by `flask county`."""

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from inspection.db import begin_write
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell


def county_cell(session: Session) -> GridCell | None:
    """The deployment's county cell, or None (a town grid)."""
    return session.scalars(select(GridCell).where(GridCell.level == "county")).first()


def name_county(session: Session, name: str, code: str | None = None) -> tuple[GridCell, bool]:
    """Name (and code) the county; without one, make it over the towns (boundary: their union).

    Returns the county and whether it was created; the caller commits. Audited by the trail.
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("county_name", "县名不能为空，且不超过100字", "The county needs a name of 1-100 characters")
    code = (code or "").strip() or None
    begin_write(session)
    county = county_cell(session)
    if code is not None:
        other = session.scalar(select(GridCell).where(GridCell.code == code))
        if other is not None and other is not county:
            raise InvalidInput(
                "county_code_taken",
                f"编码 {code} 已被网格 {other.name} 使用",
                f"The code {code} is used by the cell {other.name}",
            )
    if county is not None:
        county.name = name
        if code is not None:
            county.code = code
        return county, False
    towns = list(session.scalars(select(GridCell).where(GridCell.level == "town")))
    if not towns:
        raise InvalidInput(
            "county_no_towns", "还没有镇级网格：请先导入网格", "There is no town yet: import the grid first"
        )
    union = shapely.union_all([town.boundary for town in towns])
    county = GridCell(level="county", code=code or _code_of(towns), name=name)
    county.set_boundary(union if union.geom_type != "GeometryCollection" else union.convex_hull)
    county.area_m2 = sum(town.area_m2 or 0.0 for town in towns) or None
    session.add(county)
    for town in towns:
        town.parent = county
    session.flush()
    return county, True


def _code_of(towns: list[GridCell]) -> str:
    """The code for a county made over its towns: their shared 6-digit division prefix, or 'county'."""
    prefixes = {t.code[:6] for t in towns if t.code.isdigit() and len(t.code) == 9}
    return prefixes.pop() if len(prefixes) == 1 else "county"
