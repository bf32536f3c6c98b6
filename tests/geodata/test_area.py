"""Tests for geodata.area: geodesic m² on GRS80, 亩 / 公顷, accuracy against references (no app)."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
    box,
)

from bench.bench_area import dense_reference_m2, random_parcels
from geodata.area import (
    LOCAL_MAX_LAT_DEG,
    LOCAL_SPAN_DEG,
    MU_M2,
    geodesic_area_m2,
    geodesic_areas_m2,
    m2_to_ha,
    m2_to_mu,
)

GEOD = pyproj.Geod(ellps="GRS80")
PARCELS_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "parcels"


def pyproj_area_m2(geom) -> float:
    """Karney's geodesic area in m² (pyproj) of a lon/lat polygon, rings oriented first."""
    return GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]


def star(lon0: float, lat0: float, radius_m: float, n: int, seed: int) -> Polygon:
    """An irregular star-shaped polygon of n vertices about (lon0, lat0), in lon/lat degrees."""
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * (np.arange(n) + rng.uniform(0, 0.8, n)) / n
    r_m = radius_m * rng.uniform(0.3, 1.0, n)
    lon, lat, _ = GEOD.fwd(np.full(n, lon0), np.full(n, lat0), np.degrees(angle), r_m)
    return Polygon(np.c_[lon, lat])


# --- hand-drawn shapes ---------------------------------------------------------------------


def test_box_at_30n_is_16_04_mu_not_the_web_mercator_figure():
    area_m2 = geodesic_area_m2(box(113.000, 30.000, 113.001, 30.001))

    assert area_m2 == pytest.approx(10_695.69, abs=0.005)
    assert round(float(m2_to_mu(area_m2)), 2) == 16.04
    assert area_m2 < 14_309 * 0.8  # planar Web Mercator m² say 14,309: a third too much


@pytest.mark.parametrize("lat", [-60.0, -33.9, 0.0, 22.5, 30.0, 39.9, 45.0, 53.5, 70.0, 79.9])
def test_small_boxes_at_known_latitudes_match_pyproj(lat):
    square = box(113.0, lat, 113.001, lat + 0.001)

    area_m2 = geodesic_area_m2(square)

    assert area_m2 == pytest.approx(pyproj_area_m2(square), rel=1e-8)


def test_clockwise_ring_gives_the_same_positive_area():
    counter_clockwise = box(113.0, 30.0, 113.001, 30.001, ccw=True)
    clockwise = box(113.0, 30.0, 113.001, 30.001, ccw=False)

    assert geodesic_area_m2(clockwise) > 0
    assert geodesic_area_m2(clockwise) == pytest.approx(
        geodesic_area_m2(counter_clockwise), rel=1e-12
    )


@pytest.mark.parametrize("hole_ccw", [True, False])
@pytest.mark.parametrize("shell_ccw", [True, False])
def test_hole_is_subtracted_whatever_the_orientations(shell_ccw, hole_ccw):
    shell = box(113.0, 30.0, 113.002, 30.002, ccw=shell_ccw)
    hole = box(113.0005, 30.0005, 113.001, 30.001, ccw=hole_ccw)
    holed = Polygon(shell.exterior, [hole.exterior])

    area_m2 = geodesic_area_m2(holed)

    assert area_m2 == pytest.approx(geodesic_area_m2(shell) - geodesic_area_m2(hole), rel=1e-12)
    assert area_m2 == pytest.approx(pyproj_area_m2(holed), rel=1e-8)


def test_multipolygon_parts_are_summed_holes_and_all():
    first = box(113.0, 30.0, 113.001, 30.001, ccw=False)
    holed = Polygon(
        box(114.0, 31.0, 114.002, 31.002).exterior,
        [box(114.0005, 31.0005, 114.001, 31.001).exterior],
    )

    area_m2 = geodesic_area_m2(MultiPolygon([first, holed]))

    assert area_m2 == pytest.approx(geodesic_area_m2(first) + geodesic_area_m2(holed), rel=1e-12)
    assert area_m2 == pytest.approx(pyproj_area_m2(MultiPolygon([first, holed])), rel=1e-8)


@pytest.mark.parametrize(
    "geom",
    [
        Point(113.0, 30.0),
        LineString([(113.0, 30.0), (113.001, 30.001)]),
        Polygon(),
        MultiPolygon(),
        GeometryCollection(),
        shapely.from_wkt("POLYGON EMPTY"),
    ],
    ids=["point", "line", "empty-polygon", "empty-multipolygon", "empty-collection", "wkt-empty"],
)
def test_what_has_no_area_gives_zero(geom):
    assert geodesic_area_m2(geom) == 0.0


def test_collection_counts_its_polygons_only():
    square = box(113.0, 30.0, 113.001, 30.001)
    collection = GeometryCollection([Point(113.0, 30.0), square, GeometryCollection([square])])

    assert geodesic_area_m2(collection) == pytest.approx(2 * geodesic_area_m2(square), rel=1e-12)


def test_missing_geometry_gives_nan():
    areas_m2 = geodesic_areas_m2([None, box(113.0, 30.0, 113.001, 30.001)])

    assert np.isnan(areas_m2[0])
    assert areas_m2[1] == pytest.approx(10_695.69, abs=0.005)


# --- arrays and GeoSeries -------------------------------------------------------------------


def test_array_version_equals_scalar_version():
    parcels = random_parcels(9_000, seed=7)  # more than one thread's chunk

    areas_m2 = geodesic_areas_m2(parcels)

    assert areas_m2.shape == (9_000,)
    # Equal to the last bit or two: numpy's sums may pair terms differently at another offset.
    np.testing.assert_allclose(areas_m2, [geodesic_area_m2(p) for p in parcels], rtol=1e-14)


def test_geoseries_in_lon_lat_is_accepted_and_projected_one_refused():
    parcels = gpd.GeoSeries(random_parcels(50, seed=8), crs="EPSG:4326")

    assert np.array_equal(geodesic_areas_m2(parcels), geodesic_areas_m2(parcels.values))
    with pytest.raises(ValueError, match="reproject"):
        geodesic_areas_m2(parcels.to_crs("EPSG:4547"))  # CGCS2000 / 3-degree Gauss-Krüger CM 114E


def test_unit_conversions_take_floats_and_arrays():
    assert 15 * MU_M2 == 10_000
    assert m2_to_mu(10_000.0) == pytest.approx(15.0)
    assert m2_to_ha(10_000.0) == pytest.approx(1.0)
    np.testing.assert_allclose(m2_to_mu(np.array([0.0, MU_M2, 1e4])), [0.0, 1.0, 15.0])
    np.testing.assert_allclose(m2_to_ha(np.array([0.0, 2.5e4])), [0.0, 2.5])


# --- accuracy -------------------------------------------------------------------------------


def test_random_parcels_meet_the_goal_against_pyproj():
    parcels = random_parcels(3_000, seed=11)
    reference_m2 = np.array([pyproj_area_m2(p) for p in parcels])

    error_m2 = np.abs(geodesic_areas_m2(parcels) - reference_m2)

    assert error_m2.max() <= 1e-3
    # pyproj's polygon area is itself only good to ~1.5e-4 m² (see the dense reference below),
    # so near 100 m² it cannot referee 1e-6; that goal is held to the dense reference instead.
    assert np.all(error_m2 <= 1e-6 * reference_m2 + 2e-4)


def test_random_parcels_meet_the_goal_a_hundredfold_against_dense_geodesics():
    parcels = random_parcels(300, seed=12)
    reference_m2 = dense_reference_m2(parcels)

    error_m2 = np.abs(geodesic_areas_m2(parcels) - reference_m2)

    assert error_m2.max() <= 1e-5
    assert (error_m2 / reference_m2)[reference_m2 >= 100].max() <= 1e-8


@pytest.mark.parametrize("lat", [-45.0, 0.5, 30.0, 60.0, LOCAL_MAX_LAT_DEG - 0.5])
@pytest.mark.parametrize("n_vertices", [5, 40])
def test_largest_rings_summed_locally_stay_within_1e7(lat, n_vertices):
    # As wide as the local method takes: 2 radii ≈ 0.9 LOCAL_SPAN_DEG of longitude.
    radius_m = 0.45 * LOCAL_SPAN_DEG * 111_320 * np.cos(np.radians(lat))
    parcel = star(113.0, lat, radius_m, n_vertices, seed=n_vertices)
    coords = shapely.get_coordinates(parcel)
    assert np.hypot(*(coords - coords[0]).T).max() < LOCAL_SPAN_DEG  # not the exact fallback

    assert geodesic_area_m2(parcel) == pytest.approx(pyproj_area_m2(parcel), rel=1e-7)


@pytest.mark.parametrize(
    "geom",
    [
        box(113.0, 30.0, 114.0, 31.0),
        box(113.0, 30.0, 113.0 + LOCAL_SPAN_DEG, 30.0 + LOCAL_SPAN_DEG),
        # Roughly the outline of Hubei province, ~190,000 km².
        Polygon(
            [
                (108.4, 29.1),
                (111.5, 29.6),
                (114.3, 29.0),
                (116.1, 29.8),
                (115.4, 31.6),
                (113.7, 31.9),
                (111.3, 33.3),
                (109.6, 32.8),
                (110.0, 31.4),
                (108.4, 30.2),
            ]
        ),
        box(179.999, -17.001, -179.999, -17.0),  # Fiji, across the antimeridian
        box(10.0, 80.5, 10.001, 80.501),  # Svalbard, beyond the local method's latitudes
    ],
    ids=["1x1-degree", "just-over-local-span", "hubei", "antimeridian", "svalbard"],
)
def test_big_or_awkward_polygons_stay_within_1e6(geom):
    # abs: shapely orients the Fiji box as if it went the long way round; its edges do not.
    assert geodesic_area_m2(geom) == pytest.approx(abs(pyproj_area_m2(geom)), rel=1e-6)


# --- official areas of real parcels ------------------------------------------------------------

# Folder, original file (a glob), layer, field, m² per unit, published step (m²), how the step
# was applied, and how many parcels SOURCE.md finds with an official area off their own geometry.
# fmt: off
OFFICIAL = [
    ("at_invekos2025", "*.gpkg.zip", None, "SL_FLAECHE_BRUTTO_HA", 1e4, 0, "exact", 0),
    ("be_vlg2023", "*_GPKG.zip", None, "GRAF_OPP", 1e4, 1, "round", 0),
    ("ch_ge2023", "*.gpkg", None, "flaeche_m2", 1, 1, "round", 0),
    ("de_bb2025", "antrag.zip", None, "groesse", 1e4, 1, "floor", 7),
    ("dk_marker2026", "Marker_2026.zip", None, "IMK_areal", 1e4, 100, "floor", 0),
    ("es_cat2023", "*.zip", "CULTIUS_DUN2023", "ha", 1e4, 0, "exact", 0),
    ("fi_2023", "*.gpkg", None, "PINTA_ALA", 1e4, 100, "round", 4),
    ("fr_rpg2022", "*.gpkg", None, "surf_parc", 1e4, 100, "round", 0),  # unpacked from the .7z
    ("si_gerk2021", "*.zip", None, "AREA", 1, 0, "exact", 0),
]
# fmt: on


@pytest.mark.parametrize(
    "folder, pattern, layer, field, m2_per_unit, step_m2, rounding, known_odd",
    OFFICIAL,
    ids=[o[0] for o in OFFICIAL],
)
def test_area_matches_the_official_area_of_real_parcels(
    folder, pattern, layer, field, m2_per_unit, step_m2, rounding, known_odd
):
    found = sorted((PARCELS_DIR / f"parcels_{folder}").glob(pattern))
    if not found:
        pytest.skip(
            f"no {PARCELS_DIR}/parcels_{folder}/{pattern}: shared data not beside the clone"
        )
    path = found[0]
    parcels = gpd.read_file(f"/vsizip/{path}" if path.suffix == ".zip" else path, layer=layer)
    official_m2 = parcels[field].to_numpy(dtype=float) * m2_per_unit
    lon_lat = parcels.geometry.to_crs("EPSG:4326")
    # The published figure stands for any planar area in [low, high] (Denmark and Germany
    # truncate, Finland, France, Flanders and Switzerland round).
    low_m2 = official_m2 - (step_m2 / 2 if rounding == "round" else 0)
    high_m2 = official_m2 + {"exact": 0, "round": step_m2 / 2, "floor": step_m2}[rounding]

    area_m2 = geodesic_areas_m2(lon_lat)

    # Agencies compute planar area in their national projection, whose areal scale factor k²
    # makes planar m² differ from geodesic m² systematically: by 0.01–0.08 % here, and by up
    # to 0.4 % across France in Lambert-93. Beside that offset, 1 ha or more agree to 0.1 %:
    centroid = shapely.centroid(lon_lat.values)
    k2 = (
        pyproj.Proj(parcels.crs)
        .get_factors(shapely.get_x(centroid), shapely.get_y(centroid))
        .areal_scale
    )
    big = official_m2 >= 1e4
    off_m2 = np.maximum(low_m2 - area_m2, 0) + np.maximum(area_m2 - high_m2, 0)
    assert np.all(off_m2[big] <= (1e-3 + np.abs(k2[big] - 1)) * official_m2[big])
    # and with the scale factor applied, every parcel lands in its published interval to 1e-4,
    # but for the few that SOURCE.md finds off their own geometry (0.6–20 m², 0.01 ha).
    planar_m2 = area_m2 * k2
    off_m2 = np.maximum(low_m2 - planar_m2, 0) + np.maximum(planar_m2 - high_m2, 0)
    assert np.sum(off_m2 > 1e-4 * official_m2) <= known_odd
