"""Benchmark geodata.area: 100,000 parcels, vectorised geodesic area against a pyproj loop."""

import os
import time

import numpy as np
import shapely
from pyproj import Geod, Transformer

from bench.table import Row
from geodata.area import geodesic_areas_m2

N_PARCELS = 100_000
N_PYPROJ = 10_000  # parcels for the error figures against the pyproj loop
N_PYPROJ_TIMED = 3_000  # parcels per timed run of the pyproj loop
N_DENSE = 1_000  # parcels for the error figures against the dense geodesic reference
SEED = 20240501
# Shares seen in the LPIS extracts of ../shared/data/parcels: ~5 % of parcels have holes, ~1 %
# several parts, and a third of the datasets type every parcel as a one-part MultiPolygon.
SHARE_HOLED, SHARE_MULTIPART, SHARE_MULTI_TYPED = 0.06, 0.02, 0.15
GEOD = Geod(ellps="GRS80")
# The naive fast way: one equal-area projection for all of China, straight edges, planar area.
ALBERS_CHINA = Transformer.from_crs(
    "EPSG:4326", "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=GRS80", always_xy=True
)


def _star_rings(rng: np.random.Generator, n_vertices: np.ndarray, radius: np.ndarray):
    """Irregular star-shaped rings around the origin (unit-free x, y) and their planar areas."""
    ring_of = np.repeat(np.arange(len(n_vertices)), n_vertices)
    k = np.arange(len(ring_of)) - np.repeat(np.cumsum(n_vertices) - n_vertices, n_vertices)
    # Each vertex keeps to its own angular sector, so the ring never crosses itself, and a
    # radius of at least 0.6 keeps every edge at least 0.26 from the centre.
    angle = 2 * np.pi * (k + rng.uniform(0, 0.8, len(k))) / np.repeat(n_vertices, n_vertices)
    r = rng.uniform(0.6, 1.0, len(k)) * np.repeat(radius, n_vertices)
    # Half the rings run clockwise, as in shapefiles, and half counter-clockwise.
    clockwise = np.repeat(rng.random(len(n_vertices)) < 0.5, n_vertices)
    x, y = r * np.cos(angle), np.where(clockwise, -1.0, 1.0) * r * np.sin(angle)
    nxt = np.arange(len(k)) + 1
    nxt[np.cumsum(n_vertices) - 1] -= n_vertices  # the last vertex links back to the first
    area = np.abs(np.bincount(ring_of, (x * y[nxt] - x[nxt] * y) / 2))
    return np.c_[x, y], ring_of, area


def random_parcels(n: int, seed: int = SEED) -> np.ndarray:
    """Deterministic farm parcels of 20–5,000 m² in lon/lat degrees (EPSG:4326) over China."""
    rng = np.random.default_rng(seed)
    kind = rng.random(n)
    holed = kind < SHARE_HOLED
    n_parts = np.where(kind > 1 - SHARE_MULTIPART, rng.integers(2, 4, n), 1)
    # Polygons of each parcel: shells with 5–40 vertices, 2.5 units apart along x.
    poly_of = np.repeat(np.arange(n), n_parts)
    part_k = np.arange(len(poly_of)) - np.repeat(np.cumsum(n_parts) - n_parts, n_parts)
    shells, shell_of, shell_area = _star_rings(
        rng, rng.integers(5, 41, len(poly_of)), np.ones(len(poly_of))
    )
    shells[:, 0] += np.repeat(2.5 * part_k, np.bincount(shell_of))
    # One hole of 5–12 vertices in the first polygon of each holed parcel.
    holed_poly = np.flatnonzero(holed[poly_of] & (part_k == 0))
    holes, hole_of, hole_area = _star_rings(
        rng, rng.integers(5, 13, len(holed_poly)), rng.uniform(0.05, 0.2, len(holed_poly))
    )
    unit_area = np.bincount(poly_of, shell_area, n) - np.bincount(poly_of[holed_poly], hole_area, n)
    # Scale each parcel to its target area (log-uniform), then place it in China.
    scale_m = np.sqrt(np.exp(rng.uniform(np.log(20), np.log(5000), n)) / unit_area)
    lon0, lat0 = rng.uniform(100, 120, n), rng.uniform(20, 45, n)
    coords = np.r_[shells, holes]
    owner = np.r_[poly_of[shell_of], poly_of[holed_poly][hole_of]]
    m_per_deg_lat = 110_900.0
    m_per_deg_lon = 111_320.0 * np.cos(np.radians(lat0[owner]))
    lon = lon0[owner] + coords[:, 0] * scale_m[owner] / m_per_deg_lon
    lat = lat0[owner] + coords[:, 1] * scale_m[owner] / m_per_deg_lat
    # Shells come first, holes after; shapely.polygons wants each polygon's shell then its hole.
    rings = shapely.linearrings(np.c_[lon, lat], indices=np.r_[shell_of, len(poly_of) + hole_of])
    ring_poly = np.r_[np.arange(len(poly_of)), holed_poly]
    order = np.lexsort((np.arange(len(ring_poly)) >= len(poly_of), ring_poly))
    polys = shapely.polygons(rings[order], indices=ring_poly[order])
    parcels = polys[np.cumsum(n_parts) - n_parts]
    multi = (n_parts > 1) | (kind > 1 - SHARE_MULTIPART - SHARE_MULTI_TYPED)
    in_multi = multi[poly_of]
    rank = np.cumsum(multi) - 1
    parcels[multi] = shapely.multipolygons(polys[in_multi], indices=rank[poly_of[in_multi]])
    return parcels


def dense_reference_m2(geoms, steps: int = 64) -> np.ndarray:
    """Reference areas in m² on GRS80 of lon/lat polygons (EPSG:4326), independent of geodata.area.

    Each edge is cut at `steps` points along its true geodesic (pyproj, exact to nanometres);
    the area ∮ F(φ) dλ, with F(φ) = ∫ M·N·cos φ dφ by 10-point Gauss-Legendre, is then summed
    over the short chords. The chords' error falls as steps⁻², below 1e-6 m² on parcels, where
    pyproj's own polygon area is only good to ~1e-4 m².
    """
    geoms = np.atleast_1d(np.asarray(geoms, dtype=object))
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    edge = np.flatnonzero(vertex_ring[1:] == vertex_ring[:-1])
    (lon1, lat1), (lon2, lat2) = coords[edge].T, coords[edge + 1].T
    azimuth, _, length_m = GEOD.inv(lon1, lat1, lon2, lat2)
    n = steps + 1
    lon, lat, _ = GEOD.fwd(
        np.repeat(lon1, n),
        np.repeat(lat1, n),
        np.repeat(azimuth, n),
        np.outer(length_m, np.linspace(0.0, 1.0, n)).ravel(),
    )
    lon, lat = lon.reshape(-1, n), lat.reshape(-1, n)
    lon[:, -1], lat[:, -1] = lon2, lat2
    phi = np.radians(lat)
    ring_start = np.searchsorted(vertex_ring, vertex_ring[edge])
    phi_ref = np.radians(coords[ring_start, 1])[:, None]
    nodes, node_weights = np.polynomial.legendre.leggauss(10)

    def f(phi_to):
        """∫ M·N·cos φ dφ from the ring's first vertex to phi_to, in m² per radian of λ."""
        half = (phi_to - phi_ref) / 2
        t = ((phi_to + phi_ref) / 2)[..., None] + half[..., None] * nodes
        element = GEOD.a**2 * (1 - GEOD.es) * np.cos(t) / (1 - GEOD.es * np.sin(t) ** 2) ** 2
        return half * (element * node_weights).sum(axis=-1)

    f_vertex, f_mid = f(phi), f((phi[:, 1:] + phi[:, :-1]) / 2)
    dlon = np.diff(lon, axis=1)
    dlam = np.radians(dlon - 360 * np.round(dlon / 360))  # across the antimeridian; exact if small
    edge_m2 = (dlam * (f_vertex[:, :-1] + 4 * f_mid + f_vertex[:, 1:]) / 6).sum(axis=1)
    ring_m2 = np.abs(np.bincount(vertex_ring[edge], edge_m2, len(rings)))
    exterior = np.diff(ring_of, prepend=-1) != 0
    part_m2 = np.bincount(ring_of, np.where(exterior, ring_m2, -ring_m2), len(parts))
    return np.bincount(part_of, part_m2, len(geoms))


def _best_seconds(func, repeat: int = 5) -> float:
    """Fastest wall-clock time of `repeat` calls of func, after one warm-up call."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def _errors(area_m2: np.ndarray, reference_m2: np.ndarray) -> tuple[float, float, float]:
    """Max and 99th-percentile absolute error (m²), and max relative error for ≥ 100 m²."""
    error_m2 = np.abs(area_m2 - reference_m2)
    big = reference_m2 >= 100
    return error_m2.max(), np.percentile(error_m2, 99), (error_m2[big] / reference_m2[big]).max()


def _pyproj_loop_m2(parcels: np.ndarray) -> np.ndarray:
    """The naive exact way: Karney's area (pyproj) one polygon at a time, rings oriented first."""
    return np.array([GEOD.geometry_area_perimeter(shapely.orient_polygons(p))[0] for p in parcels])


def _albers_m2(parcels: np.ndarray) -> np.ndarray:
    """Planar m² in one equal-area projection for all of China, edges straight in it."""
    return shapely.area(shapely.transform(parcels, ALBERS_CHINA.transform, interleaved=False))


def _error_rows(against: str, ours_m2, albers_m2, reference_m2, note: str) -> list[Row]:
    """Rows of our worst absolute and relative errors, with one Albers projection's beside them."""
    worst_m2, p99_m2, worst_rel = _errors(ours_m2, reference_m2)
    albers_worst_m2, _, albers_worst_rel = _errors(albers_m2, reference_m2)
    n = f"{len(reference_m2):,} parcels"
    return [
        Row(
            f"max |error| vs {against} ({n})",
            worst_m2,
            albers_worst_m2,
            "m²",
            "≤ 0.001",
            worst_m2 <= 1e-3,
            higher_is_better=False,
            note=f"p99 {p99_m2:.1e} m²; baseline: one Albers projection for China",
        ),
        Row(
            f"max rel. error vs {against}, ≥ 100 m²",
            worst_rel,
            albers_worst_rel,
            "",
            "≤ 1e-6",
            worst_rel <= 1e-6,
            higher_is_better=False,
            note=note,
        ),
    ]


def run() -> list[Row]:
    """Time geodesic_areas_m2 on 100,000 parcels against a pyproj loop, and report its errors."""
    parcels = random_parcels(N_PARCELS)
    # Best of many runs: on a shared machine the quiet moments are the comparable ones.
    rate = N_PARCELS / _best_seconds(lambda: geodesic_areas_m2(parcels), repeat=10)
    pyproj_rate = N_PYPROJ_TIMED / _best_seconds(
        lambda: _pyproj_loop_m2(parcels[:N_PYPROJ_TIMED]), repeat=5
    )
    pyproj_m2 = _pyproj_loop_m2(parcels[:N_PYPROJ])
    albers_rate = N_PARCELS / _best_seconds(lambda: _albers_m2(parcels), repeat=2)
    ours_m2, albers_m2 = geodesic_areas_m2(parcels), _albers_m2(parcels)
    dense_m2 = dense_reference_m2(parcels[:N_DENSE])
    pyproj_worst_m2, _, pyproj_worst_rel = _errors(pyproj_m2[:N_DENSE], dense_m2)
    speed = Row(
        "geodesic area, 100,000 parcels",
        rate,
        pyproj_rate,
        "polygons/s",
        "≥ 500,000 (aim 1,000,000)",
        rate >= 500_000,
        note=f"{os.cpu_count()} threads; baseline: pyproj loop on {N_PYPROJ_TIMED:,}; "
        f"one Albers projection + shapely.area: {albers_rate:,.0f}/s",
    )
    return [
        speed,
        *_error_rows(
            "pyproj",
            ours_m2[:N_PYPROJ],
            albers_m2[:N_PYPROJ],
            pyproj_m2,
            "pyproj's own error (below) is up to this much at 100 m²",
        ),
        *_error_rows(
            "dense geodesics",
            ours_m2[:N_DENSE],
            albers_m2[:N_DENSE],
            dense_m2,
            f"pyproj vs dense: {pyproj_worst_m2:.1e} m², {pyproj_worst_rel:.1e} relative",
        ),
    ]
