"""How change polygons (图斑) meet other geometries: shared geodesic area, points inside, largest part.

All geometries are shapely objects in lon/lat degrees (EPSG:4326); areas are geodesic on GRS80
(`geodata.area`), in m². Pairs come from an STRtree, never from a loop over every pair.
"""

import numpy as np
import shapely

from geodata.area import geodesic_areas_m2

# A polygon matches another when they share at least this part of the smaller one's area.
MIN_SHARE = 0.3
_POINTS = (0, 4)  # shapely type ids of Point and MultiPoint
_POLYGONS = (3, 6)  # Polygon and MultiPolygon


def _as_array(geoms) -> np.ndarray:
    """A 1-D object array of shapely geometries."""
    return np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)


def intersecting_pairs(polygons, others) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i into polygons, j into others) of every pair that intersects (lon/lat EPSG:4326)."""
    polygons, others = _as_array(polygons), _as_array(others)
    if not len(polygons) or not len(others):
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    tree = shapely.STRtree(others)
    i, j = tree.query(polygons, predicate="intersects")
    return i.astype(int), j.astype(int)


def shared_areas_m2(polygons, others, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Geodesic area in m² shared by polygons[i] and others[j], pair by pair (lon/lat EPSG:4326)."""
    polygons, others = _as_array(polygons), _as_array(others)
    if not len(i):
        return np.empty(0)
    return geodesic_areas_m2(shapely.intersection(polygons[i], others[j]))


def matching_pairs(
    polygons, others, *, min_share: float = MIN_SHARE
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) where others[j] is a point inside polygons[i] (or on its edge), or a polygon
    sharing at least `min_share` of the smaller of the two geodesic areas; lines never match.

    Inputs in lon/lat degrees (EPSG:4326); pairs sorted by i, then j.
    """
    polygons, others = _as_array(polygons), _as_array(others)
    i, j = intersecting_pairs(polygons, others)
    kinds = shapely.get_type_id(others[j]) if len(j) else np.empty(0, dtype=int)
    is_point = np.isin(kinds, _POINTS)
    areal = np.flatnonzero(np.isin(kinds, _POLYGONS))
    keep = is_point.copy()
    if len(areal):
        ai, aj = i[areal], j[areal]
        shared_m2 = shared_areas_m2(polygons, others, ai, aj)
        smaller_m2 = np.minimum(geodesic_areas_m2(polygons[ai]), geodesic_areas_m2(others[aj]))
        keep[areal] = (smaller_m2 > 0) & (shared_m2 >= min_share * smaller_m2)
    order = np.lexsort((j[keep], i[keep]))
    return i[keep][order], j[keep][order]


def largest_part(polygons, cells) -> np.ndarray:
    """For each polygon, the index of the cell holding the largest geodesic part of its area, or -1.

    A polygon sharing no area with any cell (outside the grid, or only touching it) gets -1; ties go
    to the lower cell index. Inputs in lon/lat degrees (EPSG:4326).
    """
    polygons, cells = _as_array(polygons), _as_array(cells)
    best = np.full(len(polygons), -1, dtype=int)
    i, j = intersecting_pairs(polygons, cells)
    if not len(i):
        return best
    shared_m2 = shared_areas_m2(polygons, cells, i, j)
    has_area = shared_m2 > 0
    i, j, shared_m2 = i[has_area], j[has_area], shared_m2[has_area]
    # Largest share first, then the lower cell index: the first row of each polygon wins.
    order = np.lexsort((j, -shared_m2, i))
    i, j = i[order], j[order]
    first = np.flatnonzero(np.diff(i, prepend=-1) != 0)
    best[i[first]] = j[first]
    return best
