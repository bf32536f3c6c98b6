"""GridIndex's bucket lattice (many points at once) gives exactly the STRtree path's answers."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geodata import grid_index
from geodata.grid_index import OUTSIDE, GridIndex


def box_groups(nx: int = 7, ny: int = 5, w: float = 0.002, h: float = 0.005) -> gpd.GeoDataFrame:
    """Boxes sharing edges (lon/lat degrees near 113°, 30°), codes in reverse of their position."""
    boxes = [
        shapely.box(113 + i * w, 30 + j * h, 113 + (i + 1) * w, 30 + (j + 1) * h)
        for j in range(ny)
        for i in range(nx)
    ]
    codes = [f"G{len(boxes) - k:03d}" for k in range(len(boxes))]
    return gpd.GeoDataFrame(
        {"level": "group", "code": codes, "name": codes, "parent_code": None},
        geometry=boxes,
        crs=4326,
    )


def voronoi_groups(count: int = 60) -> gpd.GeoDataFrame:
    """Irregular groups covering a box, with a hole punched in one (lon/lat degrees)."""
    rng = np.random.default_rng(5)
    frame = shapely.box(113.0, 30.0, 113.02, 30.02)
    seeds = shapely.multipoints(rng.uniform([113.0, 30.0], [113.02, 30.02], (count, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame
    )
    cells[0] = shapely.difference(cells[0], shapely.buffer(shapely.centroid(cells[0]), 0.0005))
    codes = [f"V{k:03d}" for k in range(len(cells))]
    return gpd.GeoDataFrame(
        {"level": "group", "code": codes, "name": codes, "parent_code": None},
        geometry=cells,
        crs=4326,
    )


def awkward_points(frame: gpd.GeoDataFrame, n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Random points over and beyond the frame, every vertex, edge midpoints, NaN and far away."""
    rng = np.random.default_rng(9)
    west, south, east, north = frame.total_bounds
    pad = (east - west) * 0.05
    x = rng.uniform(west - pad, east + pad, n)
    y = rng.uniform(south - pad, north + pad, n)
    coords = shapely.get_coordinates(frame.geometry.boundary)
    mids = (coords[:-1] + coords[1:]) / 2
    extra = np.vstack([coords, mids, [[np.nan, 30.0], [113.0, np.nan], [0.0, 0.0]]])
    return np.concatenate([x, extra[:, 0]]), np.concatenate([y, extra[:, 1]])


@pytest.mark.parametrize("groups", [box_groups, voronoi_groups])
def test_buckets_agree_with_the_tree_point_by_point(groups, monkeypatch):
    frame = groups()
    x, y = awkward_points(frame)
    index = GridIndex(frame)
    by_tree = index._assign_by_tree(x, y, np.flatnonzero(np.isfinite(x) & np.isfinite(y)))

    monkeypatch.setattr(grid_index, "BUCKET_MIN_POINTS", 1)
    by_buckets = index.assign_xy(x, y)

    assert index._buckets is not None and (index._buckets.holder >= 0).any()
    np.testing.assert_array_equal(by_buckets, by_tree)
    assert (by_buckets == OUTSIDE).any() and (by_buckets >= 0).mean() > 0.5


def test_a_shared_corner_goes_to_the_smallest_code_through_the_buckets(monkeypatch):
    monkeypatch.setattr(grid_index, "BUCKET_MIN_POINTS", 1)
    frame = box_groups()
    index = GridIndex(frame)
    corner = (113.004, 30.005)  # four boxes meet here
    owners = sorted(frame.code[frame.geometry.intersects(shapely.Point(corner))])

    assert list(index.codes(index.assign_xy([corner[0]], [corner[1]]))) == [owners[0]]
    assert len(owners) == 4
