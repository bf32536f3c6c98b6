"""Tests for geodata.crs: GCJ-02 / BD-09 offsets, Gauss-Krüger zones, CRS parsing and reprojection (no app)."""

import numpy as np
import pyproj
import pytest

from geodata import crs
from geodata.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")


def _china_grid() -> tuple[np.ndarray, np.ndarray]:
    """Return lon/lat degrees on a 1° grid over China's rough bounding box."""
    lon, lat = np.meshgrid(np.arange(73.5, 135.0, 1.0), np.arange(18.5, 54.0, 1.0))
    return lon.ravel(), lat.ravel()


def test_gcj02_round_trip_is_within_1e7_degrees():
    wgs_lon, wgs_lat = _china_grid()

    gcj_lon, gcj_lat = crs.wgs84_to_gcj02(wgs_lon, wgs_lat)
    back_lon, back_lat = crs.gcj02_to_wgs84(gcj_lon, gcj_lat)

    assert np.abs(gcj_lon - wgs_lon).min() > 1e-4  # the offset really is applied everywhere
    assert np.abs(back_lon - wgs_lon).max() < 1e-7
    assert np.abs(back_lat - wgs_lat).max() < 1e-7


def test_gcj02_offset_in_beijing_is_a_few_hundred_metres_north_east():
    gcj_lon, gcj_lat = crs.wgs84_to_gcj02(116.397, 39.908)

    distance_m = GEOD.inv(116.397, 39.908, gcj_lon, gcj_lat)[2]

    assert 0.004 < gcj_lon - 116.397 < 0.008
    assert 0.0008 < gcj_lat - 39.908 < 0.002
    assert 300 < distance_m < 700


def test_scalars_give_floats_and_arrays_give_arrays():
    scalar = crs.gcj02_to_wgs84(116.4, 39.9)
    array = crs.gcj02_to_wgs84(np.array([116.4, 113.1]), np.array([39.9, 30.2]))

    assert all(type(value) is float for value in scalar)
    assert array[0].shape == (2,)
    assert array[0][0] == pytest.approx(scalar[0], abs=1e-12)


@pytest.mark.parametrize(
    "lon, lat", [(2.3522, 48.8566), (-74.006, 40.7128), (151.2093, -33.8688), (139.69, 35.69)]
)
def test_gcj02_offset_is_zero_outside_china(lon, lat):
    assert crs.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert crs.gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_bd09_round_trip_and_offset():
    gcj_lon, gcj_lat = _china_grid()

    bd_lon, bd_lat = crs.gcj02_to_bd09(gcj_lon, gcj_lat)
    back_lon, back_lat = crs.bd09_to_gcj02(bd_lon, bd_lat)

    distance_m = GEOD.inv(gcj_lon, gcj_lat, bd_lon, bd_lat)[2]
    assert distance_m.min() > 400
    assert distance_m.max() < 1500
    assert np.abs(back_lon - gcj_lon).max() < 1e-7
    assert np.abs(back_lat - gcj_lat).max() < 1e-7


def test_is_in_china_uses_the_rough_box():
    assert crs.is_in_china(113.1, 30.2)
    assert not crs.is_in_china(30.2, 113.1)
    assert list(crs.is_in_china([80.0, 140.0], [40.0, 40.0])) == [True, False]


def _central_meridian_deg(code: int) -> float:
    """Read the central meridian of an EPSG projected CRS from the PROJ database."""
    params = pyproj.CRS.from_epsg(code).coordinate_operation.params
    return next(p.value for p in params if p.name == "Longitude of natural origin")


def test_gauss_kruger_zone_list_matches_the_epsg_database():
    zones = crs.gauss_kruger_zones()

    assert len(zones) == 42
    assert sorted(zone.epsg for zone in zones) == list(range(4513, 4555))
    for zone in zones:
        assert zone.central_meridian_deg == _central_meridian_deg(zone.epsg)
        assert "CGCS2000" in pyproj.CRS.from_epsg(zone.epsg).name
        assert f"{zone.central_meridian_deg}°E" in zone.label_zh
    by_code = {zone.epsg: zone for zone in zones}
    assert (by_code[4526].zone, by_code[4526].central_meridian_deg, by_code[4526].zone_prefix) == (
        38,
        114,
        True,
    )
    assert by_code[4547].central_meridian_deg == 114 and not by_code[4547].zone_prefix


def test_zone_38_point_round_trips_and_is_guessed():
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4526", always_xy=True)
    x_m, y_m = to_gk.transform(114.25, 30.6)

    lon, lat = crs.to_wgs84(x_m, y_m, "EPSG:4526")

    assert 38_000_000 < x_m < 39_000_000
    assert (float(lon), float(lat)) == pytest.approx((114.25, 30.6), abs=1e-9)
    assert crs.guess_gk_epsg(x_m, y_m) == 4526


@pytest.mark.parametrize(
    "x_m, y_m",
    [
        (523_456.0, 3_380_000.0),  # 6-digit easting: the zone is not written in it
        (3_380_000.0, 38_523_456.0),  # northing first, as surveyors write X
        (113.1, 30.2),  # degrees, not metres
        (99_500_000.0, 3_380_000.0),  # no such zone
    ],
)
def test_guess_gk_epsg_gives_none_when_the_zone_is_not_written(x_m, y_m):
    assert crs.guess_gk_epsg(x_m, y_m) is None


@pytest.mark.parametrize(
    "text, epsg",
    [
        ("EPSG:4526", 4526),
        ("epsg:4526", 4526),
        (4526, 4526),
        ("urn:ogc:def:crs:EPSG::4526", 4526),
        ("CGCS2000", 4490),
        (" EPSG:4326 ", 4326),
    ],
)
def test_parse_crs_accepts_codes_and_urns(text, epsg):
    assert crs.parse_crs(text).to_epsg() == epsg


@pytest.mark.parametrize(
    "text, code",
    [
        ("foo", "unknown_crs"),
        ("EPSG:99999", "unknown_crs"),
        ("", "missing_crs"),
        (None, "unknown_crs"),
        (True, "unknown_crs"),
        ("GCJ02", "offset_crs"),
    ],
)
def test_parse_crs_refuses_unknown_input_in_two_languages(text, code):
    with pytest.raises(CRSError) as caught:
        crs.parse_crs(text)

    assert caught.value.code == code
    assert caught.value.message_zh and caught.value.message_en
    assert str(caught.value) == caught.value.message_zh


def test_transformer_is_cached_and_lon_first():
    first = crs.to_wgs84_transformer("EPSG:4526")

    assert crs.to_wgs84_transformer("EPSG:4526") is first
    lon, lat = first.transform(38_500_000.0, 3_300_000.0)
    assert lon == pytest.approx(114.0, abs=1e-9)
    assert 29 < lat < 31


def test_transformer_refuses_a_geocentric_crs():
    with pytest.raises(CRSError) as caught:
        crs.to_wgs84_transformer("EPSG:4978")

    assert caught.value.code == "unsupported_crs"


def test_degrees_read_as_gauss_kruger_metres_are_refused():
    with pytest.raises(CRSError) as caught:
        crs.to_wgs84(113.1, 30.2, "EPSG:4547")

    assert caught.value.code == "outside_crs_area"


@pytest.mark.parametrize(
    "name", ["EPSG:4326", "EPSG:4490", "OGC:CRS84", "urn:ogc:def:crs:EPSG::4326"]
)
def test_wgs84_and_cgcs2000_lonlat_pass_unchanged(name):
    assert crs.is_wgs84_lonlat(name)
    lon, lat = crs.to_wgs84(113.1, 30.2, name)
    assert (float(lon), float(lat)) == (113.1, 30.2)


def test_to_wgs84_undoes_gcj02_and_bd09():
    wgs = (113.1, 30.2)
    gcj = crs.wgs84_to_gcj02(*wgs)
    bd = crs.gcj02_to_bd09(*gcj)

    assert [float(v) for v in crs.to_wgs84(*gcj, "GCJ-02")] == pytest.approx(wgs, abs=1e-8)
    assert [float(v) for v in crs.to_wgs84(*bd, "bd09")] == pytest.approx(wgs, abs=1e-8)
