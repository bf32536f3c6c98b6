"""The grid: boundaries in every format, the 镇 → 村 → 组 tree, and assignment of records to groups."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from bench.bench_grid import random_points, voronoi_groups
from geodata.errors import FileFormatError, GeometryError
from geodata.grid import GridError, GridIndex, build_tree, load_boundaries, tree_problems

DATA = Path(__file__).parents[1] / "data"
TOWN = "420116101"
VILLAGES = {"420116101201": "平岗村", "420116101202": "石桥村"}
GROUP_CODES = ["42011610120101", "42011610120102", "42011610120201", "42011610120202"]
PARENTS = {
    "420116101201": TOWN,
    "420116101202": TOWN,
    "42011610120101": "420116101201",
    "42011610120102": "420116101201",
    "42011610120201": "420116101202",
    "42011610120202": "420116101202",
}
# Groups 0102 and 0201 share the edge lon = 113.02 (the village boundary too).
SHARED_EDGE_POINT = shapely.Point(113.02, 30.01)


def cell(level, code, parent, box, name=None):
    """Return one row for a hand-made cells frame; `box` is (west, south, east, north) degrees."""
    return {
        "level": level,
        "code": code,
        "name": name or code,
        "parent_code": parent,
        "geometry": shapely.box(*box),
    }


def frame_of(rows):
    """Return hand-made cells as a GeoDataFrame in EPSG:4326."""
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=4326)


def fixture_tree():
    """Return the fixture town's tree, read from the GeoJSON."""
    return build_tree(load_boundaries(DATA / "grid.geojson"))


def tree_as_dict(tree):
    """Return {code: (level, parent_code)} for comparing trees."""
    return {row.code: (row.level, row.parent_code) for row in tree.itertuples()}


EXPECTED_TREE = {
    TOWN: ("town", None),
    **{code: ("village", TOWN) for code in VILLAGES},
    **{code: ("group", PARENTS[code]) for code in GROUP_CODES},
}


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("grid.geojson", {}),
        ("grid_gk.zip", {}),
        ("grid.kml", {}),
        ("groups.topojson", {"level": "group"}),
        ("groups_gbk.zip", {"level": "组"}),
        ("groups_noprj.zip", {"level": "group", "crs": 4526}),
    ],
)
def test_load_boundaries_from_each_format(name, options):
    cells = load_boundaries(DATA / name, **options)

    assert list(cells.columns) == ["level", "code", "name", "parent_code", "geometry"]
    assert cells.crs.to_epsg() == 4326
    assert (cells.geometry.geom_type == "MultiPolygon").all()
    assert set(GROUP_CODES) <= set(cells["code"])
    assert all(isinstance(code, str) for code in cells["code"])


def test_load_boundaries_detects_chinese_field_names():
    cells = load_boundaries(DATA / "groups_gbk.zip")

    assert list(cells["name"]) == ["平岗村一组", "平岗村二组", "石桥村一组", "石桥村二组"]
    assert list(cells["parent_code"]) == [PARENTS[code] for code in GROUP_CODES]


def test_load_boundaries_with_named_fields():
    cells = load_boundaries(
        DATA / "groups.topojson", code_field="code", name_field="name", parent_field="parent"
    )

    assert list(cells["parent_code"]) == [PARENTS[code] for code in GROUP_CODES]


def test_load_boundaries_refuses_a_named_field_that_is_absent():
    with pytest.raises(FileFormatError) as caught:
        load_boundaries(DATA / "grid.geojson", code_field="网格代码")

    assert caught.value.code == "grid_field_missing"
    assert "网格编码" in caught.value.message_zh


def test_load_boundaries_refuses_points():
    points = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.Point(113, 30)], crs=4326)

    with pytest.raises(GeometryError) as caught:
        load_boundaries(points.to_json().encode(), filename="points.geojson")

    assert caught.value.code == "grid_not_polygon"


def test_tree_from_code_and_parent_fields():
    tree = build_tree(load_boundaries(DATA / "grid.geojson"))

    assert tree_as_dict(tree) == EXPECTED_TREE
    assert tree.loc[tree["code"] == "420116101201", "name"].item() == "平岗村"


def test_tree_from_containment_when_no_parent_or_level_is_given():
    cells = load_boundaries(DATA / "grid_gk.zip")
    assert cells["parent_code"].isna().all() and cells["level"].isna().all()

    tree = build_tree(cells)

    assert tree_as_dict(tree) == EXPECTED_TREE


def test_tree_from_geopackage_layers_one_per_level():
    layers = [
        load_boundaries(DATA / "grid.gpkg", layer=level, level=level)
        for level in ("group", "town", "village")
    ]

    tree = build_tree(pd.concat(layers, ignore_index=True))

    assert tree_as_dict(tree) == EXPECTED_TREE


def test_tree_from_kml_folders():
    assert tree_as_dict(build_tree(load_boundaries(DATA / "grid.kml"))) == EXPECTED_TREE


def test_tree_accepts_chinese_level_words():
    rows = [cell("镇", "T", None, (0, 0, 1, 1)), cell("村", "V", None, (0, 0, 1, 1))]

    assert tree_as_dict(build_tree(frame_of(rows))) == {"T": ("town", None), "V": ("village", "T")}


def test_tree_tolerates_edge_noise_of_under_one_percent():
    rows = [
        cell("town", "T", None, (0, 0, 1, 1)),
        cell("village", "V", "T", (0, 0, 1, 1.005)),  # 0.5 % of its area outside the town
    ]

    assert tree_problems(frame_of(rows)) == []


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            [cell("town", "T", None, (0, 0, 1, 1)), cell("village", "T", None, (0, 0, 1, 1))],
            "code_duplicate",
        ),
        (
            [cell("town", "T", None, (0, 0, 1, 1)), cell("village", "V", "T", (0.5, 0, 1.5, 1))],
            "outside_parent",
        ),
        (
            [
                cell("town", "T", None, (0, 0, 2, 1)),
                cell("village", "V1", "T", (0, 0, 1.2, 1)),
                cell("village", "V2", "T", (0.8, 0, 2, 1)),
            ],
            "cells_overlap",
        ),
        (
            [cell("town", "T", None, (0, 0, 1, 1)), cell("village", "V", "X", (0, 0, 1, 1))],
            "parent_missing",
        ),
        (
            [cell("town", "T", None, (0, 0, 1, 1)), cell("group", "G", None, (2, 2, 3, 3))],
            "parent_not_found",
        ),
        (
            [cell("town", "T", None, (0, 0, 1, 1)), cell("group", "G", "T", (0, 0, 1, 1))],
            "parent_missing",
        ),
        (
            [
                cell("town", "T", None, (0, 0, 1, 1)),
                {
                    **cell("village", "V", "T", (0, 0, 1, 1)),
                    "geometry": shapely.from_wkt("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"),
                },
            ],
            "geometry_invalid",
        ),
        (
            [
                cell("town", "T", None, (0, 0, 2, 1)),
                cell(None, "V1", "V2", (0, 0, 1, 1)),
                cell(None, "V2", "V3", (1, 0, 2, 1)),
                cell(None, "V3", "V2", (1, 0, 2, 1)),
            ],
            "level_unknown",  # parents in a cycle
        ),
        (
            [cell("镇", "T", None, (0, 0, 1, 1)), cell("村级", "V", "T", (0, 0, 1, 1))],
            "level_unknown",
        ),
        (
            [cell(None, "T", None, (0, 0, 1, 1)), cell("town", "U", None, (3, 3, 4, 4))]
            + [cell(None, f"C{i}", None, (0, 0, 1 - i / 10, 1 - i / 10)) for i in range(1, 4)],
            "level_unknown",  # nested four deep: there is no level below the group
        ),
    ],
)
def test_tree_problems_are_reported_and_raised(rows, problem):
    cells = frame_of(rows)

    problems = tree_problems(cells)
    with pytest.raises(GridError) as caught:
        build_tree(cells)

    assert problem in [p.code for p in problems]
    assert isinstance(caught.value, GeometryError)
    assert caught.value.problems == problems
    assert caught.value.message_zh.startswith("网格边界有问题")


def test_shared_boundary_point_goes_to_the_smallest_code():
    index = GridIndex(fixture_tree())

    assert index.assign_one(SHARED_EDGE_POINT) == "42011610120102"


@pytest.mark.parametrize("seed", range(5))
def test_shared_boundary_point_is_deterministic_whatever_the_order_of_cells(seed):
    tree = fixture_tree()
    shuffled = tree.sample(frac=1, random_state=seed)

    index = GridIndex(shuffled)

    assert index.assign_one(SHARED_EDGE_POINT) == "42011610120102"
    assert index.assign_one(shapely.Point(113.01, 30.02)) == "42011610120101"  # outer edge too


def test_point_outside_every_group_is_minus_one_never_dropped():
    index = GridIndex(fixture_tree())
    records = [shapely.Point(113.015, 30.01), shapely.Point(114, 30), None, shapely.Polygon()]

    rows = index.assign(records)

    assert len(rows) == len(records)
    assert list(index.codes(rows)) == ["42011610120102", None, None, None]
    assert list(rows[1:]) == [-1, -1, -1]


def test_assign_xy_with_nan_is_outside():
    index = GridIndex(fixture_tree())

    rows = index.assign_xy([113.035, np.nan, 200.0], [30.01, 30.01, 95.0])

    assert list(index.codes(rows)) == ["42011610120202", None, None]


def test_polygon_goes_by_its_representative_point_not_its_centroid():
    # An L: a thin arm up the west edge of group 0101 and a long thin arm along the south edge
    # across four groups. Its centroid falls outside the L, in group 0102.
    shape = shapely.union(
        shapely.box(113.000, 30.000, 113.001, 30.020), shapely.box(113.000, 30.000, 113.039, 30.001)
    )
    index = GridIndex(fixture_tree())
    assert not shape.contains(shape.centroid)
    assert index.assign_one(shape.centroid) == "42011610120102"

    code = index.assign_one(shape)

    assert code == "42011610120101"
    assert shape.contains(shapely.point_on_surface(shape))


def test_lineage_walks_up_to_village_and_town():
    index = GridIndex(fixture_tree())

    rows = index.assign([shapely.Point(113.035, 30.01), shapely.Point(114, 30)])
    lineage = index.lineage(rows)

    assert lineage.to_dict("records") == [
        {"town_code": TOWN, "village_code": "420116101202", "group_code": "42011610120202"},
        {"town_code": None, "village_code": None, "group_code": None},
    ]


def test_village_without_groups_receives_its_own_points():
    rows = [
        cell("town", "T", None, (0, 0, 2, 1)),
        cell("village", "V1", "T", (0, 0, 1, 1)),
        cell("village", "V2", "T", (1, 0, 2, 1)),
        cell("group", "V1-1", "V1", (0, 0, 1, 1)),
    ]
    index = GridIndex(build_tree(frame_of(rows)))

    found = index.lineage(index.assign([shapely.Point(0.5, 0.5), shapely.Point(1.5, 0.5)]))

    assert found["group_code"].tolist() == ["V1-1", None]
    assert found["village_code"].tolist() == ["V1", "V2"]


def test_geoseries_in_metres_is_reprojected_before_assignment():
    index = GridIndex(fixture_tree())
    points = gpd.GeoSeries([shapely.Point(113.035, 30.01)], crs=4326).to_crs(4526)

    assert list(index.codes(index.assign(points))) == ["42011610120202"]


def test_assignment_agrees_with_sjoin_on_an_irregular_grid():
    cells = voronoi_groups(count=200, seed=7)
    # Points over a box larger than the grid, so some fall outside it.
    points = shapely.affinity.scale(
        shapely.multipoints(random_points(5_000, seed=8)), 1.2, 1.2
    ).geoms
    points = np.array(list(points))
    reference = gpd.sjoin(
        gpd.GeoDataFrame(geometry=points, crs=4326), cells, predicate="intersects", how="left"
    )
    expected = reference.groupby(level=0)["code"].min().reindex(range(len(points)))

    index = GridIndex(cells)
    found = index.codes(index.assign(points))

    assert (pd.isna(expected) == pd.isna(pd.Series(found, dtype=object))).all()
    assert expected.isna().sum() > 0
    assert [f for f in found if f is not None] == expected.dropna().tolist()


# --- A county of towns ----------------------------------------------------------------------------


def test_county_tree_with_division_codes_finds_parents_by_prefix():
    rows = [
        cell("county", "420116", None, (0, 0, 2, 1)),
        cell("town", "420116101", None, (0, 0, 1, 1)),  # no parent codes given: the prefixes say
        cell("town", "420116102", None, (1, 0, 2, 1)),
        cell("village", "420116101201", None, (0, 0, 1, 1)),
        cell("village", "420116102201", None, (1, 0, 2, 1)),
        cell("group", "420116102201001", None, (1, 0, 2, 1)),
    ]

    tree = tree_as_dict(build_tree(frame_of(rows)))

    assert tree == {
        "420116": ("county", None),
        "420116101": ("town", "420116"),
        "420116102": ("town", "420116"),
        "420116101201": ("village", "420116101"),
        "420116102201": ("village", "420116102"),
        "420116102201001": ("group", "420116102201"),
    }


def test_county_levels_from_nesting_when_the_county_is_named():
    rows = [
        cell("县", "C", None, (0, 0, 4, 4)),
        cell(None, "T", None, (0, 0, 3, 3)),
        cell(None, "V", None, (0, 0, 2, 2)),
        cell(None, "G", None, (0, 0, 1, 1)),
    ]

    tree = tree_as_dict(build_tree(frame_of(rows)))

    assert tree == {
        "C": ("county", None),
        "T": ("town", "C"),
        "V": ("village", "T"),
        "G": ("group", "V"),
    }


@pytest.mark.parametrize(
    ("rows", "problem", "codes"),
    [
        (
            [cell("county", "A", None, (0, 0, 1, 1)), cell("county", "B", None, (2, 0, 3, 1))],
            "several_counties",
            ("A", "B"),
        ),
        (
            [cell("town", "T1", "K1", (0, 0, 1, 1)), cell("town", "T2", "K2", (1, 0, 2, 1))],
            "towns_of_several_counties",
            ("K1", "K2"),
        ),
        (
            [
                cell("county", "C", None, (0, 0, 2, 1)),
                cell("town", "T1", "C", (0, 0, 1.2, 1)),
                cell("town", "T2", "C", (1, 0, 2, 1)),  # 20 % of T2 lies in T1 as well
            ],
            "cells_overlap",
            ("T1", "T2"),
        ),
        (
            [
                cell("county", "C", None, (0, 0, 2, 1)),
                cell("town", "T1", "C", (0, 0, 1, 1)),
                cell("town", "T2", "C", (1, 0, 2, 1)),
                cell("village", "V", "T1", (0.5, 0, 1.5, 1)),  # half of it in T2
            ],
            "outside_parent",
            ("V", "T1"),
        ),
        (
            [cell("county", "C", None, (0, 0, 1, 1)), cell("town", "T", None, (5, 5, 6, 6))],
            "parent_not_found",
            ("T",),
        ),
    ],
)
def test_county_tree_problems_name_the_codes(rows, problem, codes):
    problems = tree_problems(frame_of(rows))

    found = [p for p in problems if p.code == problem]
    assert found and found[0].cell_codes == codes


def test_a_town_with_a_sliver_over_its_neighbour_is_accepted():
    rows = [
        cell("county", "C", None, (0, 0, 2, 1)),
        cell("town", "T1", "C", (0, 0, 1.001, 1)),  # 0.1 % overlap: digitising noise
        cell("town", "T2", "C", (1, 0, 2, 1)),
    ]

    assert tree_problems(frame_of(rows)) == []
