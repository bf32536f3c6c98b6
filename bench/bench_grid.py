"""Benchmark GridIndex.assign: 100,000 random points into 1,000 Voronoi groups near lon 113, lat 30."""

import time

import geopandas as gpd
import numpy as np
import shapely

from bench.table import Row
from geodata.grid_index import GridIndex

GROUP_COUNT = 1_000
POINT_COUNT = 100_000
LOOP_SAMPLE_COUNT = 2_000
GOAL_SECONDS = 0.2
# The town box, lon/lat degrees (EPSG:4326): about 20 km × 22 km.
BOX_DEG = (112.9, 29.9, 113.1, 30.1)
DENSE_STEP_DEG = 0.00005


def voronoi_groups(count: int = GROUP_COUNT, seed: int = 1) -> gpd.GeoDataFrame:
    """Return a deterministic irregular grid of `count` group cells covering BOX_DEG (EPSG:4326)."""
    rng = np.random.default_rng(seed)
    west, south, east, north = BOX_DEG
    seeds = shapely.multipoints(
        np.column_stack([rng.uniform(west, east, count), rng.uniform(south, north, count)])
    )
    box = shapely.box(*BOX_DEG)
    polygons = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box)), box
    )
    return gpd.GeoDataFrame(
        {
            "level": "group",
            "code": [f"G{i:04d}" for i in range(len(polygons))],
            "name": [f"{i + 1}组" for i in range(len(polygons))],
            "parent_code": None,
        },
        geometry=polygons,
        crs=4326,
    )


def random_points(count: int = POINT_COUNT, seed: int = 2) -> np.ndarray:
    """Return `count` uniformly random Points in BOX_DEG (lon/lat degrees)."""
    rng = np.random.default_rng(seed)
    west, south, east, north = BOX_DEG
    return shapely.points(rng.uniform(west, east, count), rng.uniform(south, north, count))


def best_seconds(function, repeat: int = 5) -> float:
    """Run `function` `repeat` times and return the fastest wall time in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def loop_assign(cells: gpd.GeoDataFrame, points: np.ndarray) -> list[int]:
    """Naive baseline: test each point against each cell with polygon.contains, first hit wins."""
    polygons = list(cells.geometry)
    found = []
    for point in points:
        found.append(next((i for i, polygon in enumerate(polygons) if polygon.contains(point)), -1))
    return found


def run() -> list[Row]:
    """Time ours, geopandas sjoin and the Python loop on the same points; return the table rows."""
    cells = voronoi_groups()
    points = random_points()
    point_frame = gpd.GeoDataFrame(geometry=points, crs=4326)
    index = GridIndex(cells)
    ours_s = best_seconds(lambda: index.assign(points))
    sjoin_s = best_seconds(lambda: gpd.sjoin(point_frame, cells, predicate="intersects"))
    sample = points[:LOOP_SAMPLE_COUNT]
    loop_s = best_seconds(lambda: loop_assign(cells, sample), repeat=1)
    # Real village boundaries have hundreds of vertices: the same cells with an edge every ~5 m.
    dense = cells.set_geometry(
        shapely.segmentize(np.asarray(cells.geometry.values), DENSE_STEP_DEG)
    )
    dense_vertices = shapely.get_num_coordinates(np.asarray(dense.geometry.values)).mean()
    dense_index = GridIndex(dense)
    dense_s = best_seconds(lambda: dense_index.assign(points))
    dense_sjoin_s = best_seconds(
        lambda: gpd.sjoin(point_frame, dense, predicate="intersects"), repeat=2
    )
    task = f"assign {POINT_COUNT:,} points → {GROUP_COUNT:,} groups"
    goal = f"< {GOAL_SECONDS} s per {POINT_COUNT:,}"
    met = ours_s < GOAL_SECONDS
    note = f"ours {ours_s:.3f} s"
    return [
        Row(
            task,
            POINT_COUNT / ours_s,
            POINT_COUNT / sjoin_s,
            "points/s",
            goal,
            met,
            note=f"{note}; baseline geopandas sjoin",
        ),
        Row(
            task,
            POINT_COUNT / ours_s,
            LOOP_SAMPLE_COUNT / loop_s,
            "points/s",
            goal,
            met,
            note=f"{note}; baseline Python loop, polygon.contains ({LOOP_SAMPLE_COUNT:,} sampled)",
        ),
        Row(
            f"{task} of ~{dense_vertices:.0f} vertices",
            POINT_COUNT / dense_s,
            POINT_COUNT / dense_sjoin_s,
            "points/s",
            "faster than sjoin",
            dense_s < dense_sjoin_s,
            note=f"ours {dense_s:.3f} s; baseline geopandas sjoin",
        ),
    ]
