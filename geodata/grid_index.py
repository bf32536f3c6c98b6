"""Assign records to grid cells in bulk: an STRtree over the leaf cells, ties to the smallest code."""

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from shapely.geometry.base import BaseGeometry

from geodata import crs as crs_mod

OUTSIDE = -1
# Many points at once go through a table of buckets (a regular lattice over the leaves' extent):
# a bucket that one leaf alone touches, and wholly holds, answers its points without a test.
BUCKET_MIN_POINTS = 50_000
BUCKETS_PER_LEAF = 16
MAX_BUCKETS = 4_000_000
_LINEAGE_COLUMNS = {"town": "town_code", "village": "village_code", "group": "group_code"}


class GridIndex:
    """Point-in-polygon index over the leaf cells of a grid tree (EPSG:4326 lon/lat degrees)."""

    def __init__(self, cells: gpd.GeoDataFrame) -> None:
        """Index the cells without children (the groups, or a village that has none) of a build_tree result."""
        missing = {"level", "code", "parent_code"} - set(cells.columns)
        if missing:
            raise ValueError(
                f"GridIndex needs the columns of build_tree; missing {sorted(missing)}"
            )
        if cells.crs is not None and not crs_mod.is_wgs84_lonlat(cells.crs):
            raise ValueError("GridIndex needs cells in EPSG:4326 lon/lat")
        self.cells = cells.reset_index(drop=True)
        self._codes = self.cells["code"].to_numpy(dtype=object)
        parent_codes = self.cells["parent_code"].to_numpy(dtype=object)
        is_parent = np.isin(self._codes, parent_codes[pd.notna(parent_codes)])
        leaf_rows = np.flatnonzero(~is_parent)
        # Leaves ordered by code: the smallest leaf position among the hits is the smallest code.
        self._leaf_rows = leaf_rows[np.argsort(self._codes[leaf_rows].astype(str), kind="stable")]
        self._leaf_geoms = np.asarray(self.cells.geometry.values)[self._leaf_rows]
        # Prepared polygons answer point-in-polygon through their own edge index: real village
        # boundaries have thousands of vertices.
        shapely.prepare(self._leaf_geoms)
        self._tree = shapely.STRtree(self._leaf_geoms)
        self._lineage = _lineage(self.cells)
        self._buckets: _Buckets | None = None  # built at the first bulk assignment

    def assign(self, geoms: ArrayLike | gpd.GeoSeries) -> np.ndarray:
        """Return per geometry (EPSG:4326 lon/lat) the row in `cells` of the leaf cell holding it.

        A point goes by its position, any other shape by its representative point
        (point_on_surface). A point on a boundary shared by several cells goes to the one with the
        smallest code, whatever the order of cells or records. -1 means outside every cell, or no
        geometry: such records are never dropped and never guessed into a cell.
        """
        return self._assign_points(_representative_points(_geometry_array(geoms)))

    def assign_xy(self, lon_deg: ArrayLike, lat_deg: ArrayLike) -> np.ndarray:
        """Return per (longitude, latitude) pair in degrees (EPSG:4326) the row in `cells`, -1 outside."""
        x = np.asarray(lon_deg, dtype=float).ravel()
        y = np.asarray(lat_deg, dtype=float).ravel()
        return self._assign_xy(x, y)

    def assign_one(self, geom: BaseGeometry | None) -> str | None:
        """Return the code of the leaf cell holding one geometry (EPSG:4326 lon/lat), or None outside."""
        return self.codes(self.assign([geom]))[0]

    def codes(self, rows: ArrayLike) -> np.ndarray:
        """Return the cell code for each row from assign (None for -1)."""
        rows = np.asarray(rows, dtype=np.int64)
        return np.where(rows >= 0, self._codes[np.maximum(rows, 0)], None)

    def lineage(self, rows: ArrayLike) -> pd.DataFrame:
        """Return town_code, village_code, group_code for each row from assign (None where absent)."""
        rows = np.asarray(rows, dtype=np.int64)
        safe_rows = np.maximum(rows, 0)
        return pd.DataFrame(
            {
                column: np.where(rows >= 0, codes[safe_rows], None)
                for column, codes in self._lineage.items()
            },
            dtype=object,
        )

    def _assign_points(self, points: np.ndarray) -> np.ndarray:
        """Assign Point geometries (lon/lat); None, empty or NaN points get -1."""
        x, y = np.full(len(points), np.nan), np.full(len(points), np.nan)
        present = (shapely.get_type_id(points) == 0) & ~shapely.is_empty(points)
        x[present], y[present] = shapely.get_x(points[present]), shapely.get_y(points[present])
        return self._assign_xy(x, y)

    def _assign_xy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Assign lon/lat coordinate arrays (degrees); NaN gets -1. Buckets when there are many."""
        if len(x) < BUCKET_MIN_POINTS or not len(self._leaf_rows):
            return self._assign_by_tree(x, y, np.flatnonzero(np.isfinite(x) & np.isfinite(y)))
        if self._buckets is None:
            self._buckets = _Buckets.build(self._tree, self._leaf_geoms)
        leaf = self._buckets.lookup(x, y, self._leaf_geoms)
        rows = np.full(len(x), OUTSIDE, dtype=np.int64)
        known = leaf >= 0
        rows[known] = self._leaf_rows[leaf[known]]
        return rows

    def _assign_by_tree(self, x: np.ndarray, y: np.ndarray, usable: np.ndarray) -> np.ndarray:
        """Assign the points at positions usable through the STRtree and an exact test each."""
        query_idx, leaf_idx = self._tree.query(shapely.points(x[usable], y[usable]))
        point_idx = usable[query_idx]
        hit = shapely.intersects_xy(self._leaf_geoms[leaf_idx], x[point_idx], y[point_idx])
        no_leaf = len(self._leaf_rows)
        best_leaf = np.full(len(x), no_leaf, dtype=np.int64)
        np.minimum.at(best_leaf, point_idx[hit], leaf_idx[hit])
        rows = np.full(len(x), OUTSIDE, dtype=np.int64)
        found = best_leaf < no_leaf
        rows[found] = self._leaf_rows[best_leaf[found]]
        return rows


class _Buckets:
    """A lattice over the leaves' extent (lon/lat degrees): per bucket its sole holding leaf or -1.

    A bucket (grown by a hair against rounding) that exactly one leaf intersects and that lies
    within that leaf sends every point in it to that leaf: no other leaf can hold such a point, so
    the smallest-code rule has nothing to decide. A point in another bucket is tested exactly
    against the leaves that bucket intersects (kept per bucket), the smallest position winning.
    """

    def __init__(self, bounds, nx: int, ny: int, holder, starts, candidates) -> None:
        self.west, self.south, east, north = bounds
        self.east, self.north = east, north
        self.nx, self.ny = nx, ny
        self.dx, self.dy = (east - self.west) / nx, (north - self.south) / ny
        self.holder = holder
        self.starts, self.candidates = starts, candidates

    @classmethod
    def build(cls, tree: shapely.STRtree, leaves: np.ndarray) -> "_Buckets":
        """The lattice of about BUCKETS_PER_LEAF buckets per leaf over the leaves' extent."""
        west, south, east, north = shapely.total_bounds(leaves)
        width, height = max(east - west, 1e-12), max(north - south, 1e-12)
        count = min(MAX_BUCKETS, BUCKETS_PER_LEAF * len(leaves))
        nx = max(1, int(round(np.sqrt(count * width / height))))
        ny = max(1, int(round(count / nx)))
        dx, dy = width / nx, height / ny
        ix, iy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="xy")
        ix, iy = ix.ravel(), iy.ravel()
        hair_x, hair_y = dx * 1e-6, dy * 1e-6
        boxes = shapely.box(
            west + ix * dx - hair_x,
            south + iy * dy - hair_y,
            west + (ix + 1) * dx + hair_x,
            south + (iy + 1) * dy + hair_y,
        )
        bucket_idx, leaf_idx = tree.query(boxes, predicate="intersects")
        order = np.lexsort((leaf_idx, bucket_idx))
        bucket_idx, leaf_idx = bucket_idx[order], leaf_idx[order]
        touching = np.bincount(bucket_idx, minlength=len(boxes))
        starts = np.concatenate([[0], np.cumsum(touching)])
        sole = np.flatnonzero(touching[bucket_idx] == 1)
        inside = shapely.within(boxes[bucket_idx[sole]], leaves[leaf_idx[sole]])
        holder = np.full(len(boxes), OUTSIDE, dtype=np.int64)
        holder[bucket_idx[sole[inside]]] = leaf_idx[sole[inside]]
        bounds = (west, south, west + width, south + height)
        return cls(bounds, nx, ny, holder, starts, leaf_idx)

    def lookup(self, x: np.ndarray, y: np.ndarray, leaves: np.ndarray) -> np.ndarray:
        """The leaf position holding each point (smallest position on a shared edge), or -1."""
        with np.errstate(invalid="ignore"):
            inside = (x >= self.west) & (x <= self.east) & (y >= self.south) & (y <= self.north)
        leaf = np.full(len(x), OUTSIDE, dtype=np.int64)
        at = np.flatnonzero(inside)
        ix = np.minimum(((x[at] - self.west) / self.dx).astype(np.int64), self.nx - 1)
        iy = np.minimum(((y[at] - self.south) / self.dy).astype(np.int64), self.ny - 1)
        bucket = iy * self.nx + ix
        leaf[at] = self.holder[bucket]
        unsure = leaf[at] < 0
        at, bucket = at[unsure], bucket[unsure]
        first, count = self.starts[bucket], self.starts[bucket + 1] - self.starts[bucket]
        point_idx = np.repeat(at, count)
        offset = np.arange(len(point_idx)) - np.repeat(np.cumsum(count) - count, count)
        leaf_idx = self.candidates[np.repeat(first, count) + offset]
        hit = shapely.intersects_xy(leaves[leaf_idx], x[point_idx], y[point_idx])
        best = np.full(len(x), len(leaves), dtype=np.int64)
        np.minimum.at(best, point_idx[hit], leaf_idx[hit])
        found = at[best[at] < len(leaves)]
        leaf[found] = best[found]
        return leaf


def _geometry_array(geoms: ArrayLike | gpd.GeoSeries) -> np.ndarray:
    """Return geometries as an object array in EPSG:4326, reprojecting a GeoSeries that says otherwise."""
    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if isinstance(geoms, gpd.GeoSeries):
        if geoms.crs is not None and not crs_mod.is_wgs84_lonlat(geoms.crs):
            geoms = geoms.to_crs(4326)
        return np.asarray(geoms.values)
    if isinstance(geoms, BaseGeometry):
        geoms = [geoms]
    return np.asarray(geoms, dtype=object)


def _representative_points(geoms: np.ndarray) -> np.ndarray:
    """Return points as they are and every other geometry's point_on_surface (None stays None)."""
    points = geoms.copy()
    other = shapely.get_type_id(geoms) > 0
    points[other] = shapely.point_on_surface(geoms[other])
    return points


def _lineage(cells: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """Walk up the parents of every cell, filling its town, village and group codes."""
    codes = cells["code"].tolist()
    levels = cells["level"].tolist()
    parents = cells["parent_code"].tolist()
    row_of = {code: row for row, code in enumerate(codes)}
    table = {
        column: np.full(len(codes), None, dtype=object) for column in _LINEAGE_COLUMNS.values()
    }
    for row in range(len(codes)):
        current, seen = row, set()
        while current is not None and current not in seen:
            seen.add(current)
            column = _LINEAGE_COLUMNS.get(levels[current])
            if column is not None:
                table[column][row] = codes[current]
            current = row_of.get(parents[current])
    return table
