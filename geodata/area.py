"""Geodesic area (m²) of lon/lat polygons on the GRS80 / CGCS2000 ellipsoid, and m² → 亩 / 公顷."""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from pyproj import Geod

GRS80_A_M = 6378137.0
GRS80_F = 1 / 298.257222101
MU_M2 = 10000 / 15  # 1 亩; 15 亩 = 1 公顷
HA_M2 = 10000.0

# A ring is summed locally (see _ring_sums_m2) while every vertex stays within LOCAL_SPAN_DEG of
# its first vertex, and that vertex within ±LOCAL_MAX_LAT_DEG: the error is then below 2e-8
# relative. Larger rings (town boundaries, rings over the antimeridian or a pole) go to Karney's
# algorithm in pyproj: exact at any size, but a Python call per ring.
LOCAL_SPAN_DEG = 0.02
LOCAL_MAX_LAT_DEG = 80.0

_E2 = GRS80_F * (2 - GRS80_F)
_RAD = np.pi / 180
_GEOD = Geod(a=GRS80_A_M, f=GRS80_F)
_CHUNK = 4096  # geometries per thread task: big enough to amortise numpy's per-call cost


def m2_to_mu(area_m2):
    """Convert m² to 亩 (float or numpy array)."""
    return np.divide(area_m2, MU_M2)


def m2_to_ha(area_m2):
    """Convert m² to 公顷 / ha (float or numpy array)."""
    return np.divide(area_m2, HA_M2)


def geodesic_area_m2(geom) -> float:
    """Area in m² on GRS80 of one shapely geometry in lon/lat degrees (EPSG:4326); 0.0 if not areal."""
    return float(geodesic_areas_m2([geom])[0])


def geodesic_areas_m2(geoms) -> np.ndarray:
    """Areas in m² on GRS80 of shapely geometries or a GeoSeries in lon/lat degrees (EPSG:4326).

    Holes are subtracted and parts summed whatever the ring orientation; points, lines and
    empty geometries give 0.0; missing ones (None) and non-finite coordinates give NaN.
    """
    crs = getattr(geoms, "crs", None)
    if crs is not None and not crs.is_geographic:
        raise ValueError(f"need lon/lat degrees (EPSG:4326), got {crs.name}; reproject first")
    geoms = np.asarray(geoms, dtype=object)
    flat = geoms.ravel()
    if len(flat) <= _CHUNK:
        return _areas_m2(flat).reshape(geoms.shape)
    chunks = np.array_split(flat, -(-len(flat) // _CHUNK))
    # numpy and most of GEOS release the GIL, so chunks run side by side on several cores.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return np.concatenate(list(pool.map(_areas_m2, chunks))).reshape(geoms.shape)


def _areas_m2(geoms: np.ndarray) -> np.ndarray:
    """Areas in m² of a 1-D object array of lon/lat geometries (EPSG:4326)."""
    types = shapely.get_type_id(geoms)
    areas_m2 = np.where(types < 0, np.nan, 0.0)
    polygonal = np.flatnonzero((types == 3) | (types == 6))
    # First treat each geometry's coordinates as one ring: true for most parcels, and far
    # cheaper than asking GEOS for ring objects.
    signed_m2, one_ring = _ring_sums_m2(geoms[polygonal])
    areas_m2[polygonal] = np.abs(signed_m2)
    several = polygonal[~one_ring]
    if len(several):  # holes or several parts: take the rings one by one
        # Only multipolygons go through get_parts, which clones every part it hands out.
        multi = types[several] == 6
        parts, part_of = shapely.get_parts(geoms[several[multi]], return_index=True)
        parts = np.concatenate([geoms[several[~multi]], parts])
        part_of = np.concatenate([np.flatnonzero(~multi), np.flatnonzero(multi)[part_of]])
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        ring_m2 = np.abs(_ring_sums_m2(rings)[0])
        exterior = np.diff(ring_of, prepend=-1) != 0  # a part's first ring is its shell
        signed_ring_m2 = np.where(exterior, ring_m2, -ring_m2)
        areas_m2[several] = np.bincount(part_of[ring_of], signed_ring_m2, len(several))
    collections = np.flatnonzero(types == 7)
    if len(collections):
        members, member_of = shapely.get_parts(geoms[collections], return_index=True)
        areas_m2[collections] = np.bincount(member_of, _areas_m2(members), len(collections))
    return areas_m2


@np.errstate(invalid="ignore", over="ignore")  # non-finite coordinates give NaN, quietly
def _ring_sums_m2(items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed m² on GRS80 inside each item's lon/lat coordinates taken as one ring; are they one?"""
    # Green's theorem: a ring encloses |∮ F(φ) dλ| with F(φ) = ∫ M·N·cos φ dφ (M, N the radii
    # of curvature); F is R·y of Lambert's cylindrical equal-area map of the authalic sphere.
    # Parcels are tiny against the Earth, so F is Taylor-expanded to u² about each ring's first
    # vertex (u = φ - φ0) and integrated exactly along each edge. That takes edges as straight
    # in (λ, φ), while true edges are geodesics, which bow towards the pole; the sliver between
    # chord and geodesic, κ·L³/12 for an edge of length L and curvature κ in the (λ, φ) plane,
    # is added too. Without it a 100 m edge at 30° N would be off by ~1e-3 m².
    signed_m2 = np.zeros(len(items))
    one_ring = np.ones(len(items), dtype=bool)
    counts = shapely.get_num_coordinates(items)
    item = np.flatnonzero(counts)  # empty items stay 0.0
    if len(item) == 0:
        return signed_m2, one_ring
    coords = shapely.get_coordinates(items)
    counts = counts[item]
    starts = np.cumsum(counts) - counts
    lon0, lat0 = coords[starts, 0], coords[starts, 1]
    # Degrees from the ring's first vertex keep every product small, and rounding with it.
    v = coords[:, 0] - np.repeat(lon0, counts)
    u = coords[:, 1] - np.repeat(lat0, counts)
    reach2 = u * u + v * v
    # One ring if the first vertex comes back once, at the very end: a hole or a second part
    # would start after that return.
    returns = np.add.reduceat(reach2 == 0, starts, dtype=np.intp)
    one_ring[item] = (returns == 2) & (reach2[starts + counts - 1] == 0)
    far = np.maximum.reduceat(reach2, starts) > LOCAL_SPAN_DEG**2
    far |= np.abs(lat0) > LOCAL_MAX_LAT_DEG
    dv = v[1:] - v[:-1]
    dv[starts[1:] - 1] = 0.0  # the step from one ring to the next is no edge
    du = u[1:] - u[:-1]
    sum_u = u[:-1] + u[1:]
    # Along a straight edge, 2∫u dλ = Δλ·Σu and 12∫u² dλ = 3·Δλ·(Σu)² + Δλ·Δu², with Σu = u_i + u_j;
    # then Δλ³ and Δu²·Δλ for the bow.
    s1 = dv * sum_u
    du2_dv = du * du * dv
    edge_terms = (s1, s1 * sum_u, du2_dv, dv * dv * dv)
    sums = [np.add.reduceat(t, starts) for t in edge_terms]
    signed_m2[item] = sum(w * t for w, t in zip(_local_weights(lat0), sums, strict=True))
    for k in np.flatnonzero(far):  # too big to sum locally: exact instead
        ring = coords[starts[k] : starts[k] + counts[k]]
        signed_m2[item[k]] = _GEOD.polygon_area_perimeter(ring[:, 0], ring[:, 1])[0]
    return signed_m2, one_ring


def _local_weights(lat0_deg: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-ring weights (m² per degree^k) of the four edge sums of _ring_sums_m2 at lat0_deg."""
    s, c = np.sin(lat0_deg * _RAD), np.cos(lat0_deg * _RAD)
    w = 1 - _E2 * s * s
    # The area element F' = M·N·cos φ = a²(1 - e²)·c/w², and its derivative in φ.
    f1 = GRS80_A_M * GRS80_A_M * (1 - _E2) * c / (w * w)
    f2 = f1 * s / c * (4 * _E2 * c * c / w - 1)
    # A geodesic φ(λ) obeys φ'' = -(N/M)·s·c - (2(M/N)·tan φ + M'/M)·φ'², where N/M = w/(1 - e²)
    # and M'/M = 3e²·s·c/w; its sliver against the chord adds -F'·φ''·Δλ³/12.
    n_over_m = w / (1 - _E2)
    bow_lon = n_over_m * s * c
    bow_lat = 2 * s / c / n_over_m + 3 * _E2 * s * c / w
    return (
        f1 * _RAD**2 / 2,
        f2 * _RAD**3 / 8,
        f2 * _RAD**3 / 24 + f1 * _RAD**3 * bow_lat / 12,
        f1 * _RAD**3 * bow_lon / 12,
    )
