"""Reading vector files: every format, CRS handling, and the bad files of BAD_INPUT rows 19–23."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from geodata import sniff
from geodata.errors import CRSError, FileFormatError
from geodata.io import CRSMissingError, LayerInfo, list_layers, read_vector
from geodata.ways import GRID_IMPORT

DATA = Path(__file__).parents[1] / "data"
PARCELS = Path(__file__).resolve().parents[3] / "shared" / "data" / "parcels"
# The fixture town (tests/data/make_fixtures.py), lon/lat degrees.
TOWN_BOUNDS_DEG = (113.00, 30.00, 113.04, 30.02)
GROUP_NAMES = ["平岗村一组", "平岗村二组", "石桥村一组", "石桥村二组"]


_EXTENSIONS = {sniff.ZIP: ".zip", sniff.GEOJSON: ".geojson", sniff.KML: ".kml", sniff.GEOPACKAGE: ".gpkg"}


def _named(source, options: dict) -> dict:
    """The options with the import-grid way, and bytes named after what their content is."""
    options.setdefault("way", GRID_IMPORT)
    if isinstance(source, bytes) and "filename" not in options:
        kind = sniff.sniff_format(source[: sniff.HEAD_BYTES])
        options["filename"] = "upload" + _EXTENSIONS.get(kind, ".geojson")
    return options


def read(source, **options):
    """read_vector by the import-grid way (every format we read)."""
    return read_vector(source, **_named(source, options))


def layers_of(source, **options):
    """list_layers by the import-grid way."""
    return list_layers(source, **_named(source, options))


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """Return a ZIP archive holding `entries` (name → content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def geojson_bytes(coordinates: list, crs_name: str | None = None) -> bytes:
    """Return a FeatureCollection of one Polygon, with a legacy `crs` member when named."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "一组"},
                "geometry": {"type": "Polygon", "coordinates": [coordinates]},
            }
        ],
    }
    if crs_name:
        collection["crs"] = {"type": "name", "properties": {"name": crs_name}}
    return json.dumps(collection, ensure_ascii=False).encode()


def gk_ring_m() -> list[list[float]]:
    """Return the town outline in CGCS2000 3-degree GK zone 38 (EPSG:4526), metres."""
    to_gk = pyproj.Transformer.from_crs(4326, 4526, always_xy=True)
    west, south, east, north = TOWN_BOUNDS_DEG
    ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return [list(to_gk.transform(lon, lat)) for lon, lat in ring]


@pytest.mark.parametrize(
    ("name", "layer", "count"),
    [
        ("grid.geojson", None, 7),
        ("grid.gpkg", "group", 4),
        ("grid_gk.zip", None, 7),
        ("grid.kml", None, 7),
        ("groups.topojson", None, 4),
        ("groups_gbk.zip", None, 4),
        ("groups_noprj.zip", None, None),
    ],
)
def test_each_format_reads_to_lonlat(name, layer, count):
    crs = 4526 if name == "groups_noprj.zip" else None

    frame = read(DATA / name, layer=layer, crs=crs)

    assert frame.crs.to_epsg() == 4326
    assert len(frame) == (count or 4)
    assert np.allclose(frame.total_bounds, TOWN_BOUNDS_DEG, atol=1e-8)
    assert not frame.has_z.any()


@pytest.mark.parametrize("name", ["grid.geojson", "grid.gpkg", "grid_gk.zip", "grid.kml"])
def test_bytes_read_like_the_path(name):
    layer = "group" if name == "grid.gpkg" else None
    from_path = read(DATA / name, layer=layer)

    from_bytes = read((DATA / name).read_bytes(), filename=f"upload/{name}", layer=layer)

    assert shapely.equals_exact(
        np.asarray(from_path.geometry.values), np.asarray(from_bytes.geometry.values)
    ).all()


@pytest.mark.parametrize("name", ["grid.geojson", "grid.gpkg", "grid_gk.zip", "grid.kml"])
def test_a_name_that_disagrees_with_the_content_is_refused(name):
    with pytest.raises(FileFormatError) as caught:
        read((DATA / name).read_bytes(), filename="misleading.txt")

    assert caught.value.code == "extension_mismatch"
    assert "扩展名与内容不符" in caught.value.message_zh


def test_bytes_without_a_name_are_refused():
    with pytest.raises(FileFormatError) as caught:
        read_vector((DATA / "grid.geojson").read_bytes(), way=GRID_IMPORT)

    assert caught.value.code == "file_unnamed"


def test_file_object_reads():
    with (DATA / "grid.geojson").open("rb") as file:
        frame = read(file, filename="grid.geojson")

    assert len(frame) == 7


def test_gauss_kruger_metres_reproject_to_the_drawn_degrees():
    shp = f"/vsizip/{DATA / 'grid_gk.zip'}/grid_gk.shp"
    assert pyogrio.read_info(shp)["crs"] == "EPSG:4526"

    frame = read(DATA / "grid_gk.zip")

    first_group = frame[frame["CODE"] == 42011610120101].geometry.iloc[0]
    assert shapely.hausdorff_distance(first_group, shapely.box(113.00, 30.00, 113.01, 30.02)) < 1e-9


def test_gbk_shapefile_without_cpg_reads_chinese_right():
    with zipfile.ZipFile(DATA / "groups_gbk.zip") as archive:
        names = archive.namelist()
        dbf = archive.read("groups_gbk.dbf")
    assert not any(name.endswith(".cpg") for name in names)
    assert "平岗村".encode("gbk") in dbf

    frame = read(DATA / "groups_gbk.zip")

    assert list(frame["网格名称"]) == GROUP_NAMES
    assert list(frame["上级编码"])[:2] == ["420116101201", "420116101201"]


def test_shapefile_without_prj_is_refused_offering_gauss_kruger_zones():
    with pytest.raises(CRSMissingError) as caught:
        read(DATA / "groups_noprj.zip")

    error = caught.value
    assert isinstance(error, CRSError)
    assert error.code == "crs_missing"
    assert error.options[0][0] == 4526  # the zone prefix 38 in the eastings
    assert set(range(4513, 4555)) <= {epsg for epsg, _ in error.options}
    assert "EPSG:4526" in error.message_en and "高斯" in error.message_zh


@pytest.mark.parametrize("crs", [4526, "EPSG:4526", pyproj.CRS.from_epsg(4526)])
def test_shapefile_without_prj_reads_with_the_named_crs(crs):
    frame = read(DATA / "groups_noprj.zip", crs=crs)

    assert np.allclose(frame.total_bounds, TOWN_BOUNDS_DEG, atol=1e-8)
    assert list(frame["name"]) == GROUP_NAMES


def test_geojson_in_metres_without_crs_is_not_read_as_degrees():
    with pytest.raises(CRSMissingError) as caught:
        read(geojson_bytes(gk_ring_m()))

    assert caught.value.options[0][0] == 4526


def test_geojson_legacy_crs_member_in_metres_is_honoured():
    frame = read(geojson_bytes(gk_ring_m(), "urn:ogc:def:crs:EPSG::4526"))

    assert np.allclose(frame.total_bounds, TOWN_BOUNDS_DEG, atol=1e-8)


def test_named_crs_that_does_not_fit_the_coordinates_is_refused():
    with pytest.raises(CRSError):
        read(DATA / "groups_noprj.zip", crs=4513)  # zone 25 is 75°E, not 114°E


def test_topojson_shared_arcs_decode_to_the_drawn_groups():
    frame = read(DATA / "groups.topojson")

    for i, geometry in enumerate(frame.geometry):
        west = 113.00 + 0.01 * i
        expected = shapely.box(west, 30.00, west + 0.01, 30.02)
        assert shapely.hausdorff_distance(geometry, expected) < 1e-9
    assert list(frame["code"]) == [
        "42011610120101",
        "42011610120102",
        "42011610120201",
        "42011610120202",
    ]


def test_kml_folders_are_read_together_unless_one_is_named():
    every_folder = read(DATA / "grid.kml")
    groups = read(DATA / "grid.kml", layer="组")

    assert len(every_folder) == 7
    assert list(groups["Name"]) == ["一组", "二组", "一组", "二组"]


def test_list_layers_of_a_geopackage():
    layers = layers_of(DATA / "grid.gpkg")

    assert layers == [
        LayerInfo("town", "Polygon", 1),
        LayerInfo("village", "Polygon", 2),
        LayerInfo("group", "Polygon", 4),
    ]


@pytest.mark.parametrize(("layer", "code"), [(None, "several_layers"), ("组", "layer_missing")])
def test_geopackage_layer_must_be_chosen_and_exist(layer, code):
    with pytest.raises(FileFormatError) as caught:
        read(DATA / "grid.gpkg", layer=layer)

    assert caught.value.code == code
    assert "village" in caught.value.message_zh


def test_zip_with_two_shapefiles_lists_both_and_reads_the_chosen_one():
    with zipfile.ZipFile(DATA / "groups_gbk.zip") as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    both = {
        f"{folder}/{prefix}{name.removeprefix('groups_gbk')}": content
        for folder, prefix in (("east", "villages"), ("west", "groups"))
        for name, content in parts.items()
    }

    layers = layers_of(zip_bytes(both))
    with pytest.raises(FileFormatError) as caught:
        read(zip_bytes(both))
    chosen = read(zip_bytes(both), layer="groups")

    assert [layer.name for layer in layers] == ["villages", "groups"]
    assert caught.value.code == "several_layers"
    assert list(chosen["网格名称"]) == GROUP_NAMES


def test_zip_with_too_many_entries_is_refused():
    entries = {f"part{i}.txt": b"" for i in range(1001)}

    with pytest.raises(FileFormatError) as caught:
        read(zip_bytes(entries))

    assert caught.value.code == "zip_too_many_entries"


def test_zip_refused_by_its_declared_size_before_unpacking():
    data = bytearray(zip_bytes({"a.shp": b"x" * 10}))
    # Make the central directory claim 4 GB unpacked; the data could never inflate to that, so
    # only a check of the directory, before any unpacking, can refuse it.
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = (0xFFFF_FFF0).to_bytes(4, "little")

    with pytest.raises(FileFormatError) as caught:
        read(bytes(data))

    assert caught.value.code == "zip_too_large"


def test_zip_that_unpacks_too_large_is_refused():
    data = zip_bytes({"big.dbf": b"\0" * 200_000})

    with pytest.raises(FileFormatError) as caught:
        read(data, max_unzipped_bytes=100_000)

    assert caught.value.code == "zip_too_large"


def test_zip_whose_header_understates_the_size_is_stopped():
    data = bytearray(zip_bytes({"big.dbf": b"\0" * 200_000}))
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = data.index(signature)
        data[at + offset : at + offset + 4] = (100).to_bytes(4, "little")

    with pytest.raises(FileFormatError):
        read(bytes(data), max_unzipped_bytes=1_000)


@pytest.mark.parametrize("name", ["../groups.shp", "/etc/groups.shp", "C:/groups.shp"])
def test_zip_entry_escaping_the_folder_is_refused(name):
    with pytest.raises(FileFormatError) as caught:
        read(zip_bytes({name: b"\x00\x00\x27\x0a"}))

    assert caught.value.code == "zip_unsafe_path"


KML_BODY = (
    "<kml xmlns='http://www.opengis.net/kml/2.2'><Placemark><name>&lol;</name>"
    "<Point><coordinates>113.01,30.01</coordinates></Point></Placemark></kml>"
)


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE kml [<!ENTITY lol "lol">]>',
        '<!DOCTYPE kml SYSTEM "file:///etc/passwd">',
        '<!doctype kml [<!entity lol "lol">]>',
    ],
)
def test_kml_with_doctype_or_entities_is_refused(prolog):
    text = f'<?xml version="1.0"?>\n{prolog}\n{KML_BODY}'.encode()

    with pytest.raises(FileFormatError) as caught:
        read(text)

    assert caught.value.code == "kml_doctype"


def test_kmz_with_doctype_is_refused():
    kml = f'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY lol "lol">]>{KML_BODY}'.encode()

    with pytest.raises(FileFormatError) as caught:
        read(zip_bytes({"doc.kml": kml}))

    assert caught.value.code == "kml_doctype"


PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("boundaries.geojson", "平岗村 一组 二组\n这不是 GeoJSON".encode()),
        ("boundaries.zip", PNG_BYTES),
        ("boundaries.kml", b"<html><body>not kml</body></html>"),
        ("boundaries.gpkg", b"SQLite format 3\x00" + b"\x00" * 100),
        ("boundaries.geojson", b'{"hello": "world"}'),
    ],
)
def test_file_that_is_not_what_its_name_says_is_refused(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(FileFormatError) as caught:
        read(path)

    assert caught.value.code in {"unknown_format", "not_geopackage"}
    assert name in caught.value.message_zh


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "file_empty"),
        (b'{"type": "FeatureCollection", "features": []}', "file_empty"),
        (b'{"type": "FeatureCollection", "features": [{"type": "Feat', "file_unreadable"),
        (b"PK\x03\x04 not really a zip", "zip_broken"),
        (zip_bytes({"readme.txt": b"hello"}), "zip_no_data"),
        (
            geojson_bytes([[113, 30], [113.01, 30], [float("nan"), 30.01], [113, 30]]),
            "coordinates_not_finite",
        ),
        (
            b'{"type": "GeometryCollection", "geometries": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}",
            "file_unreadable",
        ),
        (zip_bytes({"groups.shp": b"\x00\x00\x27\x0a" + b"\x00" * 96}), "shapefile_incomplete"),
    ],
)
def test_broken_or_empty_file_is_refused_with_a_reason(content, code):
    with pytest.raises(FileFormatError) as caught:
        read(content)

    assert caught.value.code == code
    assert caught.value.message_zh and caught.value.message_en


def test_truncated_geopackage_is_a_file_format_error():
    data = (DATA / "grid.gpkg").read_bytes()[:2048]

    with pytest.raises(FileFormatError):
        read(data, layer="group")


def test_file_over_the_size_limit_is_refused():
    with pytest.raises(FileFormatError) as caught:
        read(DATA / "grid.geojson", max_bytes=1_000)

    assert caught.value.code == "file_too_large"


def test_missing_file_is_a_file_format_error(tmp_path):
    with pytest.raises(FileFormatError) as caught:
        read(tmp_path / "nowhere.geojson")

    assert caught.value.code == "file_missing"


# Real parcel extracts (see each folder's SOURCE.md): native file, its EPSG, and a lon/lat box.
REAL_FILES = [
    ("parcels_dk_marker2026/Marker_2026.zip", (8, 54.5, 13, 58)),
    ("parcels_ch_ge2023/lwb_nutzungsflaechen_v2_0_lv95.gpkg", (5.9, 46.1, 6.4, 46.4)),
    ("parcels_at_invekos2025/inspire_schlaege_2025-1_polygon.gpkg.zip", (9.5, 46.3, 17.2, 49.1)),
    ("parcels_de_bb2025/antrag.zip", (11.2, 51.3, 14.8, 53.6)),
    ("parcels_si_gerk2021/SI_2021.zip", (13.3, 45.4, 16.7, 46.9)),
    ("parcels_fi_2023/LandUse.ExistingLandUse.GSAAAgriculturalParcel.gpkg", (19, 59.5, 31.6, 70.1)),
    ("parcels_es_cat2023/Cultius_DUN2023_GPKG.zip", (0.1, 40.5, 3.4, 42.9)),
]


@pytest.mark.parametrize(("relative", "box_deg"), REAL_FILES)
def test_real_parcel_file_reads_like_its_published_lonlat_copy(relative, box_deg):
    path = PARCELS / relative
    if not path.exists():
        pytest.skip(f"{path} is absent")
    copy = next(path.parent.glob("*_epsg4326.geojson"))

    frame = read(path)
    reference = read(copy)

    west, south, east, north = frame.total_bounds
    assert box_deg[0] <= west < east <= box_deg[2]
    assert box_deg[1] <= south < north <= box_deg[3]
    assert shapely.equals_exact(
        np.asarray(frame.geometry.values), np.asarray(reference.geometry.values), tolerance=1e-7
    ).all()
    text_columns = [
        c
        for c in reference.columns
        if c in frame.columns and c != "geometry" and pd.api.types.is_string_dtype(frame[c])
    ]
    for column in text_columns:
        assert frame[column].fillna("").tolist() == reference[column].fillna("").tolist()


def test_danish_latin1_shapefile_is_not_mistaken_for_gbk():
    path = PARCELS / "parcels_dk_marker2026" / "Marker_2026.zip"
    if not path.exists():
        pytest.skip(f"{path} is absent")

    frame = read(path)

    assert "Græs og kløvergræs uden norm, under 50 % kløver (omdrift)" in set(frame["Afgroede"])
