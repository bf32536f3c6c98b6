"""Benchmark 卫片图斑: 10,000 图斑 matched against 100,000 cases, and a 10,000-feature Shapefile imported.

Matching goes through geodata.overlap (an STRtree, geodesic areas for the pairs it finds); the
baseline tests every 图斑 against every case, timed on a sample and scaled. The import is end to
end (zip unpacked by the guarded reader, rows checked, placed in 1,000 groups, matched, stored) on
SQLite; its baseline places and matches each row on its own against every group and case.
"""

import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from bench.bench_grid import BOX_DEG, voronoi_groups
from bench.table import Row
from geodata.area import geodesic_area_m2
from geodata.overlap import MIN_SHARE, largest_part, matching_pairs

TUBAN_COUNT = 10_000
CASE_COUNT = 100_000
IMPORT_CASES = 20_000
LOOP_SAMPLE = 20
MATCH_GOAL_S = 1.0
IMPORT_GOAL_S = 10.0


def _squares(count: int, side_deg: float, seed: int) -> np.ndarray:
    """`count` random squares of `side_deg` in BOX_DEG (lon/lat EPSG:4326)."""
    rng = np.random.default_rng(seed)
    west, south, east, north = BOX_DEG
    x = rng.uniform(west, east - side_deg, count)
    y = rng.uniform(south, north - side_deg, count)
    return shapely.box(x, y, x + side_deg, y + side_deg)


def tuban_and_cases(tuban_count=TUBAN_COUNT, case_count=CASE_COUNT):
    """图斑 of about 60 m × 70 m and cases: 60 % parcels of about 30 m, 40 % points (lon/lat)."""
    tuban = _squares(tuban_count, 0.0006, 3)
    parcels = _squares(int(case_count * 0.6), 0.0003, 4)
    rng = np.random.default_rng(5)
    west, south, east, north = BOX_DEG
    n_points = case_count - len(parcels)
    points = shapely.points(rng.uniform(west, east, n_points), rng.uniform(south, north, n_points))
    return tuban, np.concatenate([parcels, points])


def _naive_match(polygon, cases) -> list[int]:
    """One 图斑 against every case, the rule of geodata.overlap written as a plain loop."""
    hits = []
    for j, case in enumerate(cases):
        if case.geom_type == "Point":
            if polygon.covers(case):
                hits.append(j)
        elif polygon.intersects(case):
            shared = geodesic_area_m2(polygon.intersection(case))
            if shared >= MIN_SHARE * min(geodesic_area_m2(polygon), geodesic_area_m2(case)):
                hits.append(j)
    return hits


def _match_row() -> Row:
    tuban, cases = tuban_and_cases()
    start = time.perf_counter()
    i, _j = matching_pairs(tuban, cases)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for polygon in tuban[:LOOP_SAMPLE]:
        _naive_match(polygon, cases)
    baseline = (time.perf_counter() - start) * TUBAN_COUNT / LOOP_SAMPLE
    return Row(
        f"match {TUBAN_COUNT:,} 图斑 against {CASE_COUNT:,} cases",
        ours,
        baseline,
        "s",
        f"< {MATCH_GOAL_S:g} s",
        ours < MATCH_GOAL_S,
        higher_is_better=False,
        note=f"{len(set(i.tolist())):,} 图斑 matched; baseline: every pair, {LOOP_SAMPLE} 图斑 timed and scaled",
    )


def _seed_database(tmp: Path):
    """A migrated SQLite database in tmp: a town of 10 villages and 1,000 groups, 20,000 cases."""
    from sqlalchemy.orm import Session

    from inspection import migrate
    from inspection.cases.models import Case
    from inspection.db import make_engine
    from inspection.grid.models import GridCell

    engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite3'}")
    migrate.upgrade(engine)
    groups = voronoi_groups()
    with Session(engine) as s:
        town = GridCell(level="town", code="B", name="基准镇")
        town.set_boundary(shapely.box(*BOX_DEG))
        s.add(town)
        west, south, east, north = BOX_DEG
        villages = []
        for k in range(10):
            village = GridCell(level="village", code=f"B{k:02d}", name=f"{k + 1}村", parent=town)
            lo = west + (east - west) * k / 10
            village.set_boundary(shapely.box(lo, south, lo + (east - west) / 10, north))
            villages.append(village)
        for code, geom in zip(groups["code"], groups.geometry, strict=True):
            k = min(9, int((geom.centroid.x - west) / (east - west) * 10))
            cell = GridCell(level="group", code=f"B{k:02d}-{code}", name=code, parent=villages[k])
            cell.set_boundary(geom)
            s.add(cell)
        _tuban, cases = tuban_and_cases(10, IMPORT_CASES)
        for n, geom in enumerate(cases):
            kind = "illegal_building" if geom.geom_type == "Point" else "farmland"
            case = Case(kind=kind, title=f"c{n}", found_on=date(2026, 1, 1), status="reported")
            case.set_geometry(geom, None)
            s.add(case)
        s.commit()
    return engine


def _shapefile_zip(tmp: Path, tuban) -> Path:
    """The 图斑 as a zipped Shapefile (TBBH, 变化类型), as the bureau sends them."""
    folder = tmp / "shp"
    folder.mkdir()
    frame = gpd.GeoDataFrame(
        {"TBBH": [f"JC{n:05d}" for n in range(len(tuban))], "变化类型": "新增建设用地"},
        geometry=tuban,
        crs="EPSG:4326",
    ).to_crs("EPSG:4526")
    frame.to_file(folder / "tuban.shp", encoding="GBK")
    path = tmp / "tuban.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, part.name)
    return path


def _import_row() -> Row:
    from sqlalchemy.orm import Session

    from inspection.tuban.importer import import_batch

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        engine = _seed_database(tmp)
        tuban, cases = tuban_and_cases(TUBAN_COUNT, IMPORT_CASES)
        path = _shapefile_zip(tmp, tuban)
        groups = voronoi_groups().geometry.to_numpy()
        with Session(engine) as session:
            start = time.perf_counter()
            report = import_batch(session, path, batch_name="bench", deadline_on=date(2026, 12, 31))
            session.commit()
            ours = time.perf_counter() - start
        engine.dispose()
    start = time.perf_counter()
    for polygon in tuban[:LOOP_SAMPLE]:
        largest_part([polygon], groups)  # one row at a time: no index shared between rows
        _naive_match(polygon, cases)
    baseline = (time.perf_counter() - start) * TUBAN_COUNT / LOOP_SAMPLE
    return Row(
        f"import a {TUBAN_COUNT:,}-feature zipped Shapefile (SQLite, 1,000 groups, {IMPORT_CASES:,} cases)",
        ours,
        baseline,
        "s",
        f"< {IMPORT_GOAL_S:g} s",
        ours < IMPORT_GOAL_S,
        higher_is_better=False,
        note=f"{report.tasks:,} tasks, {report.linked:,} linked, {len(report.refused)} refused; "
        f"baseline: each row placed and matched alone",
    )


def run() -> list[Row]:
    """Both rows."""
    return [_match_row(), _import_row()]
