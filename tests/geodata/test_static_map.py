"""Static map pictures: a town with its demolished buildings and restored parcels, a case locator."""

from io import BytesIO

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image

from geodata import static_map
from geodata.static_map import (
    CASE,
    DEMOLISHED,
    GROUP_EDGE,
    RESTORED,
    case_locator_png,
    nice_length_m,
    projected_epsg,
    town_map_png,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VILLAGES = gpd.GeoDataFrame(
    {"name": ["一村", "二村"]},
    geometry=[shapely.box(113.30, 23.10, 113.32, 23.12), shapely.box(113.32, 23.10, 113.34, 23.12)],
    crs=4490,
)


def _pixels(png: bytes, colour: str) -> int:
    """How many pixels of the picture have exactly this colour (#rrggbb)."""
    with Image.open(BytesIO(png)) as image:
        rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((rgb == target).all(axis=1).sum())


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (113.31, 23.11, 4547),  # CGCS2000 3° GK CM 114°E
        (117.2, 31.8, 4548),  # CM 117°E
        (75.0, 39.0, 4534),  # CM 75°E, the westernmost zone
        (2.35, 48.85, 32631),  # outside China's zones: UTM 31N
        (151.2, -33.9, 32756),  # southern hemisphere: UTM 56S
    ],
)
def test_projected_epsg_is_the_zone_of_the_place(lon, lat, epsg):
    assert projected_epsg(lon, lat) == epsg


@pytest.mark.parametrize(
    ("span_m", "length_m"), [(4000, 1000), (2100, 500), (900, 200), (123, 20), (3, 1)]
)
def test_scale_bar_length_is_round_and_at_most_a_quarter(span_m, length_m):
    assert nice_length_m(span_m) == length_m


def test_town_map_draws_each_layer_in_its_colour():
    demolished = gpd.GeoDataFrame(
        geometry=[shapely.box(113.305, 23.105, 113.306, 23.106), shapely.Point(113.33, 23.11)],
        crs=4326,
    )
    restored = gpd.GeoDataFrame(geometry=[shapely.box(113.325, 23.115, 113.328, 23.118)], crs=4326)
    png = town_map_png(VILLAGES, demolished, restored)
    assert png.startswith(PNG_MAGIC)
    assert _pixels(png, RESTORED) > 1000  # a 300 m × 330 m parcel on a 4 km wide picture
    assert _pixels(png, DEMOLISHED) > 20
    without = town_map_png(VILLAGES, None, restored)
    assert _pixels(without, DEMOLISHED) == 0


def test_town_map_without_cases_still_shows_the_villages():
    png = town_map_png(VILLAGES, gpd.GeoDataFrame(geometry=[], crs=4326), None)
    assert _pixels(png, static_map.VILLAGE_FILL) > 10_000
    assert _pixels(png, RESTORED) == _pixels(png, DEMOLISHED) == 0


def test_town_map_refuses_metres_and_missing_crs():
    in_metres = VILLAGES.to_crs(4547)
    with pytest.raises(ValueError, match="lon/lat"):
        town_map_png(in_metres)
    with pytest.raises(ValueError, match="lon/lat"):
        town_map_png(gpd.GeoDataFrame(geometry=list(VILLAGES.geometry)))


def test_town_map_refuses_nothing_to_draw():
    with pytest.raises(ValueError, match="nothing to draw"):
        town_map_png(gpd.GeoDataFrame(geometry=[], crs=4490))


@pytest.mark.parametrize(
    "case_geom",
    [shapely.Point(113.305, 23.105), shapely.box(113.304, 23.104, 113.306, 23.106)],
    ids=["point", "polygon"],
)
def test_locator_shows_the_case_on_its_group(case_geom):
    group = shapely.box(113.30, 23.10, 113.31, 23.11)
    village = shapely.box(113.30, 23.10, 113.32, 23.12)
    png = case_locator_png(case_geom, group, village)
    assert png.startswith(PNG_MAGIC)
    assert _pixels(png, CASE) > 20
    assert _pixels(png, GROUP_EDGE) > 100


def test_locator_of_a_case_outside_the_grid():
    png = case_locator_png(shapely.Point(113.5, 23.5))
    assert _pixels(png, CASE) > 20
    assert _pixels(png, GROUP_EDGE) == 0


def test_locator_refuses_an_empty_geometry():
    with pytest.raises(ValueError, match="no geometry"):
        case_locator_png(shapely.Point())


def test_a_small_demolished_footprint_still_shows_at_town_scale():
    # About 5 m × 5.5 m on a 4 km wide picture: under one pixel as a polygon, a marker as well.
    tiny = gpd.GeoDataFrame(geometry=[shapely.box(113.305, 23.105, 113.30505, 23.10505)], crs=4326)
    assert _pixels(town_map_png(VILLAGES, tiny, None), DEMOLISHED) > 20
