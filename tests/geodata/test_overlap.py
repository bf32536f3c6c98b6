"""geodata.overlap: which cases a 图斑 covers (30 % of the smaller area, points inside) and its 组."""

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from geodata.area import geodesic_area_m2
from geodata.overlap import largest_part, matching_pairs

# About 100 m × 100 m near 平岗 (lon 113.3, lat 23.1): 0.001° is ~102 m east, ~111 m north.
LON, LAT, D = 113.3, 23.1, 0.001


def square(dx: float, dy: float, size: float = 1.0):
    """A square of `size` × 0.001° with its corner at (LON + dx·0.001°, LAT + dy·0.001°)."""
    return box(LON + dx * D, LAT + dy * D, LON + (dx + size) * D, LAT + (dy + size) * D)


def test_a_polygon_matches_when_it_shares_30_percent_of_the_smaller_area():
    tuban = [square(0, 0)]
    cases = [
        square(0.75, 0),  # shares 25 % of either: no
        square(0.65, 0),  # shares 35 %: yes
        square(0.2, 0.2, 0.1),  # small parcel wholly inside: 100 % of the smaller: yes
        square(3, 3),  # far away: no
    ]

    i, j = matching_pairs(tuban, cases)

    assert list(zip(i, j, strict=True)) == [(0, 1), (0, 2)]


def test_31_percent_matches_and_29_percent_does_not_in_geodesic_area():
    # At 23° N a degree of longitude is shorter than one of latitude; 30 % must hold in m².
    tuban = square(0, 0)
    case = square(0.7, 0)
    shared = geodesic_area_m2(tuban.intersection(case))

    assert shared / geodesic_area_m2(case) == pytest.approx(0.3, abs=1e-3)
    assert len(matching_pairs([tuban], [square(0.71, 0)])[0]) == 0
    assert len(matching_pairs([tuban], [square(0.69, 0)])[0]) == 1


def test_points_inside_match_and_lines_never_do():
    tuban = [square(0, 0), square(5, 5)]
    others = [
        Point(LON + 0.5 * D, LAT + 0.5 * D),
        Point(LON + 2 * D, LAT),
        LineString([(LON, LAT), (LON + D, LAT + D)]),
        Point(LON + 5.5 * D, LAT + 5.5 * D),
    ]

    i, j = matching_pairs(tuban, others)

    assert list(zip(i, j, strict=True)) == [(0, 0), (1, 3)]


def test_no_cases_or_no_polygons_give_no_pairs():
    assert len(matching_pairs([square(0, 0)], [])[0]) == 0
    assert len(matching_pairs([], [square(0, 0)])[0]) == 0


def test_the_group_holding_the_largest_part_wins():
    groups = [square(0, 0, 2), square(2, 0, 2), square(0, 2, 2)]
    tuban = [
        square(1.5, 0.5),  # 0.5 in group 0, 0.5 in group 1: tie → the lower index
        square(1.7, 0.5),  # 0.3 in group 0, 0.7 in group 1
        square(0.5, 1.8),  # 0.2 in group 0, 0.8 in group 2
        square(10, 10),  # outside
        square(4, 0),  # touches group 1 along an edge only: outside
    ]

    assert list(largest_part(tuban, groups)) == [0, 1, 2, -1, -1]


def test_many_polygons_are_matched_through_the_index():
    rng = np.random.default_rng(3)
    corners = rng.uniform(0, 200, size=(2000, 2))
    tuban = shapely.box(
        LON + corners[:, 0] * D,
        LAT + corners[:, 1] * D,
        LON + (corners[:, 0] + 1) * D,
        LAT + (corners[:, 1] + 1) * D,
    )
    cases = shapely.box(
        LON + corners[:, 0] * D,
        LAT + corners[:, 1] * D,
        LON + (corners[:, 0] + 0.5) * D,
        LAT + (corners[:, 1] + 0.5) * D,
    )

    i, j = matching_pairs(tuban, cases)

    pairs = set(zip(i.tolist(), j.tolist(), strict=True))
    assert {(k, k) for k in range(2000)} <= pairs  # each 图斑 holds its own quarter-size parcel


def test_distance_and_bearing_to_a_polygon_are_geodesic():
    from pyproj import Geod

    from geodata.nearby import bearing_to_deg, distance_to_m

    parcel = square(0, 0)
    # 40 m due north of the parcel's north edge, on its middle meridian.
    lon = LON + 0.5 * D
    lat_edge = LAT + D
    lon2, lat2, _ = Geod(ellps="GRS80").fwd(lon, lat_edge, 0, 40.0)

    assert distance_to_m(lon2, lat2, parcel) == pytest.approx(40.0, abs=0.05)
    assert bearing_to_deg(lon2, lat2, parcel) == pytest.approx(180.0, abs=0.01)
    assert distance_to_m(lon, LAT + 0.5 * D, parcel) == 0.0
    assert bearing_to_deg(lon, LAT + 0.5 * D, parcel) is None


def test_same_ground_is_50_m_for_points_and_shared_area_for_polygons():
    from pyproj import Geod

    from geodata.nearby import same_ground

    geod = Geod(ellps="GRS80")
    here = Point(LON, LAT)
    near = Point(*geod.fwd(LON, LAT, 90, 45.0)[:2])
    far = Point(*geod.fwd(LON, LAT, 90, 55.0)[:2])
    parcel = square(0, 0)

    assert same_ground(here, [near, far]) == [True, False]
    assert same_ground(parcel, [square(0.9, 0), square(1.0, 0), square(3, 0)]) == [True, False, False]
    assert same_ground(parcel, [Point(LON - 0.0004, LAT)]) == [True]  # a point ~41 m west of it
