"""Coverage of hand-drawn groups by tracks, against figures worked out by hand and a brute-force count."""

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geodata.coverage import group_coverage

LON0, LAT0 = 113.62, 29.85
# Hand-drawn shapes are drawn in metres and placed by an azimuthal equidistant projection: not
# the transverse Mercator that geodata.coverage works in.
_AEQD = f"+proj=aeqd +lat_0={LAT0} +lon_0={LON0} +ellps=GRS80 +units=m"
TO_LONLAT = Transformer.from_crs(_AEQD, "EPSG:4326", always_xy=True)
TO_METRES = Transformer.from_crs("EPSG:4326", _AEQD, always_xy=True)


def lonlat(geom):
    """A shape drawn in metres east/north of (LON0, LAT0), in lon/lat degrees."""
    return shapely.transform(geom, lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))


def fixes(points_m, segment=None):
    """Lon/lat arrays and segment ids of fixes given in metres (one segment unless told)."""
    x, y = np.asarray(points_m, float).T
    lon, lat = TO_LONLAT.transform(x, y)
    return lon, lat, np.zeros(len(x), int) if segment is None else np.asarray(segment)


def test_a_straight_track_through_a_rectangle_covers_a_60_m_band():
    group = lonlat(shapely.box(0, 0, 400, 200))
    lon, lat, seg = fixes([(150, -100), (150, 50), (150, 300)])

    coverage = group_coverage(["g"], [group], lon, lat, seg)

    assert coverage["g"] == pytest.approx(60 * 200 / (400 * 200), rel=0.01)


def test_a_track_along_the_edge_covers_a_30_m_band_and_its_end_caps_count():
    group = lonlat(shapely.box(0, 0, 400, 200))
    # Along the south edge from x = 100 to x = 300: a 30 m half-band, plus two quarter discs.
    lon, lat, seg = fixes([(100, 0), (300, 0)])

    coverage = group_coverage(["g"], [group], lon, lat, seg)

    expected_m2 = 200 * 30 + 2 * (np.pi * 30**2 / 4)
    assert coverage["g"] == pytest.approx(expected_m2 / (400 * 200), rel=0.01)


def test_a_lone_fix_covers_a_disc_and_segments_are_not_joined():
    group = lonlat(shapely.box(0, 0, 1000, 1000))
    lon, lat, seg = fixes([(300, 500), (700, 500)], segment=[0, 1])

    coverage = group_coverage(["g"], [group], lon, lat, seg, radius_m=30)

    assert coverage["g"] == pytest.approx(2 * np.pi * 30**2 / 1e6, rel=0.01)


def test_radius_and_cell_are_parameters():
    group = lonlat(shapely.box(0, 0, 400, 200))
    lon, lat, seg = fixes([(150, -100), (150, 300)])

    coverage = group_coverage(["g"], [group], lon, lat, seg, radius_m=50, cell_m=2)

    assert coverage["g"] == pytest.approx(100 / 400, rel=0.01)


def test_groups_away_from_the_tracks_have_none_and_no_tracks_give_zero():
    near, far = lonlat(shapely.box(0, 0, 200, 200)), lonlat(shapely.box(5000, 0, 5200, 200))
    lon, lat, seg = fixes([(100, -50), (100, 250)])

    coverage = group_coverage(["near", "far"], [near, far], lon, lat, seg)
    nothing = group_coverage(["near"], [near], [], [], [])

    assert coverage["near"] == pytest.approx(0.3, rel=0.01) and coverage["far"] == 0.0
    assert nothing == {"near": 0.0}
    assert group_coverage([], [], lon, lat, seg) == {}


def test_a_group_smaller_than_a_cell_takes_its_cells_answer():
    tiny = lonlat(shapely.box(100, 100, 102, 102))
    lon, lat, seg = fixes([(101, 90), (101, 110)])

    assert group_coverage(["t"], [tiny], lon, lat, seg) == {"t": 1.0}
    assert group_coverage(["t"], [tiny], *fixes([(500, 500)])) == {"t": 0.0}


def brute_force_coverage(group_m, track_m, radius_m, step_m=1.0):
    """Share of a 1 m lattice of points in the group (AEQD metres) within radius_m of the track."""
    minx, miny, maxx, maxy = group_m.bounds
    xs, ys = np.meshgrid(
        np.arange(minx, maxx, step_m) + step_m / 2, np.arange(miny, maxy, step_m) + step_m / 2
    )
    inside = shapely.contains_xy(group_m, xs.ravel(), ys.ravel())
    points = shapely.points(xs.ravel()[inside], ys.ravel()[inside])
    return shapely.dwithin(track_m, points, radius_m).mean()


def test_an_irregular_group_with_a_hole_matches_a_brute_force_count():
    rng = np.random.default_rng(3)
    shell = [(0, 0), (420, 40), (520, 300), (260, 460), (30, 330)]
    hole = [(200, 150), (300, 160), (260, 260)]
    group_m = shapely.Polygon(shell, [hole])
    other_m = shapely.MultiPolygon([shapely.box(600, 0, 700, 100), shapely.box(600, 200, 700, 300)])
    # A wandering walk with GPS noise, one fix every 6 m, in two segments.
    heading = np.cumsum(rng.normal(0, 0.25, 400))
    walk = np.cumsum(np.c_[np.cos(heading), np.sin(heading)] * 6, axis=0) + (100, 100)
    walk += rng.normal(0, 2, walk.shape)
    segment = np.r_[np.zeros(200, int), np.ones(200, int)]
    track_m = shapely.multilinestrings(
        [shapely.linestrings(walk[:200]), shapely.linestrings(walk[200:])]
    )
    lon, lat, _ = fixes(walk)

    coverage = group_coverage(["g", "o"], [lonlat(group_m), lonlat(other_m)], lon, lat, segment)

    assert coverage["g"] == pytest.approx(brute_force_coverage(group_m, track_m, 30), abs=0.01)
    assert coverage["o"] == pytest.approx(brute_force_coverage(other_m, track_m, 30), abs=0.01)
    assert 0.05 < coverage["g"] < 0.95  # the walk covers part of the group, not none or all


@pytest.mark.parametrize("angle_deg", [0, 17, 45, 90, 133])
def test_a_straight_track_at_any_angle_through_a_big_square(angle_deg):
    group_m = shapely.box(-500, -500, 500, 500)
    direction = np.array([np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))])
    lon, lat, seg = fixes([-1000 * direction, 1000 * direction])

    coverage = group_coverage(["g"], [lonlat(group_m)], lon, lat, seg)

    band_m = shapely.buffer(
        shapely.linestrings([-1000 * direction, 1000 * direction]), 30, quad_segs=64
    )
    expected = shapely.area(shapely.intersection(band_m, group_m)) / 1e6
    assert coverage["g"] == pytest.approx(expected, rel=0.01)
