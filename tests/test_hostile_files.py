"""Hostile files (BAD_INPUT rows 32–35) through every way in: form, preview, import-cases, import-grid.

Each file tries to make GDAL read something other than itself: a VRT disguised as KML, GeoJSON or
GML, or inside a zip, reading /etc/passwd, the app's own SQLite database or a URL; KML with
external entities or a NetworkLink; GML with remote xlinks; a GeoPackage whose layer is a view or
a VirtualOGR table; a Shapefile zip carrying a .vrt. Every answer must be a refusal with a message
(4xx, or exit 1 for a command), carry no content of another file and no password hash, store
nothing, and make no request: the URLs point at a local HTTP server that counts its hits.
"""

import http.server
import io
import sqlite3
import threading
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyogrio.errors
import pytest
import shapely

from geodata import gdal_guard, ways
from geodata.errors import FileFormatError
from geodata.io import list_layers, read_vector
from inspection import db
from tests import test_bad_input as bad
from tests.conftest import csrf_token
from tests.test_bad_input import counts, form_file, import_cases, import_grid, preview

# The bad-input table's fixtures: the small test town on each backend, a supervisor's client.
town, env, settings = bad.town, bad.env, bad.settings

PASSWD_LINE = "root:x:0:0"
HASH_MARKERS = ("scrypt:", "pbkdf2:")


class CountingHandler(http.server.BaseHTTPRequestHandler):
    """Counts every request and answers with a GeoJSON point, as an attacker's server would."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (the http.server API)
        CountingHandler.hits.append(self.path)
        body = b'{"type":"Point","coordinates":[113.0025,30.005]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def receiver():
    """A local HTTP server counting hits; its URL is what the hostile files point at."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# --- The hostile files ----------------------------------------------------------------------------


def vrt(source: str, *, sql: str | None = None, prefix: str = "") -> bytes:
    """An OGR VRT layer over another dataset (`source`), optionally through SQL."""
    inner = f"<SrcSQL>{sql}</SrcSQL>" if sql else ""
    return (
        f'{prefix}<OGRVRTDataSource><OGRVRTLayer name="stolen">'
        f"<SrcDataSource>{source}</SrcDataSource>{inner}</OGRVRTLayer></OGRVRTDataSource>"
    ).encode()


def vrt_as_kml(source: str, **options) -> bytes:
    """A VRT that says `<kml>` in a comment, so that a sniffer looking for `<kml` takes it for KML."""
    return vrt(source, prefix='<?xml version="1.0"?><!-- <kml xmlns="http://www.opengis.net/kml/2.2"> -->', **options)


def vrt_as_geojson(source: str) -> bytes:
    """A VRT whose comment looks like a GeoJSON FeatureCollection."""
    return vrt(source, prefix='<!-- {"type": "FeatureCollection", "features": []} -->')


def vrt_as_gml(source: str) -> bytes:
    """A VRT dressed as GML."""
    return vrt(source, prefix='<?xml version="1.0"?><!-- <gml:FeatureCollection> -->')


def kml_external_entity(url: str) -> bytes:
    """KML with an external entity (XXE) naming a file and a URL."""
    return (
        f'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a SYSTEM "file:///etc/passwd">'
        f'<!ENTITY b SYSTEM "{url}/xxe">]><kml xmlns="http://www.opengis.net/kml/2.2">'
        "<Placemark><name>&a;&b;</name><Point><coordinates>113.0025,30.005</coordinates></Point>"
        "</Placemark></kml>"
    ).encode()


def kml_network_link(url: str) -> bytes:
    """KML whose only content is a NetworkLink to a URL."""
    return (
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<NetworkLink><name>more</name><Link><href>{url}/link.kml</href></Link></NetworkLink>"
        "<Placemark><name>p</name><Point><coordinates>113.0025,30.005</coordinates></Point>"
        "</Placemark></Document></kml>"
    ).encode()


def gml_remote_xlink(url: str) -> bytes:
    """GML whose geometry is a remote xlink."""
    return (
        '<?xml version="1.0"?><gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml" '
        'xmlns:xlink="http://www.w3.org/1999/xlink"><gml:featureMember><Parcel>'
        f'<geometry xlink:href="{url}/geom.gml#g1"/></Parcel></gml:featureMember>'
        "</gml:FeatureCollection>"
    ).encode()


def zip_of(entries: dict[str, bytes]) -> bytes:
    """A ZIP archive of `entries` (name → content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def shapefile_parts(tmp: Path) -> dict[str, bytes]:
    """The files of a one-parcel Shapefile in the test town."""
    work = tmp / "shp"
    work.mkdir(exist_ok=True)
    frame = gpd.GeoDataFrame(
        {"kind": ["issue"], "category": ["garbage"], "title": ["x"], "found_on": ["2022-03-01"],
         "code": ["ZZ99"], "name": ["x"], "level": ["town"]},
        geometry=[shapely.box(113.001, 30.001, 113.002, 30.002)],
        crs=4326,
    )  # fmt: skip
    pyogrio.write_dataframe(frame, work / "parcel.shp", driver="ESRI Shapefile")
    return {f"parcel{s}": (work / f"parcel{s}").read_bytes() for s in (".shp", ".shx", ".dbf", ".prj")}


def gpkg_with(tmp: Path, statement: str) -> bytes:
    """A real GeoPackage whose only feature layer is turned into what `statement` makes of it."""
    path = tmp / f"hostile-{abs(hash(statement))}.gpkg"
    frame = gpd.GeoDataFrame(
        {"title": ["x"]}, geometry=[shapely.box(113.001, 30.001, 113.002, 30.002)], crs=4326
    )
    pyogrio.write_dataframe(frame, path, layer="parcels", driver="GPKG")
    conn = sqlite3.connect(path)
    conn.executescript(statement)
    conn.commit()
    conn.close()
    return path.read_bytes()


GPKG_VIEW = """
ALTER TABLE parcels RENAME TO parcels_data;
CREATE VIEW parcels AS SELECT fid, geom, (SELECT group_concat(sql) FROM sqlite_master) AS title
  FROM parcels_data;
"""
GPKG_VIRTUAL = """
DROP TABLE parcels;
PRAGMA writable_schema = ON;
INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', 'parcels',
  'parcels', 0, 'CREATE VIRTUAL TABLE parcels USING VirtualOGR(''/etc/passwd'')');
PRAGMA writable_schema = OFF;
"""


def hostile_files(url: str, db_path: str) -> dict[str, tuple[str, object]]:
    """id → (file name, content or a function of the scratch folder)."""
    users = "SELECT username || ':' || password_hash AS name FROM users"
    return {
        "vrt-as-kml-passwd": ("parcel.kml", vrt_as_kml("CSV:/etc/passwd")),
        "vrt-as-kml-own-db": ("parcel.kml", vrt_as_kml(db_path, sql=users)),
        "vrt-as-kml-vsicurl": ("parcel.kml", vrt_as_kml(f"/vsicurl/{url}/vrt.geojson")),
        "vrt-as-geojson": ("parcel.geojson", vrt_as_geojson("CSV:/etc/passwd")),
        "vrt-as-gml": ("parcel.gml", vrt_as_gml("/etc/passwd")),
        "vrt-named-vrt": ("parcel.vrt", vrt("CSV:/etc/passwd")),
        "vrt-in-zip": ("parcel.zip", zip_of({"parcel.vrt": vrt("CSV:/etc/passwd")})),
        "vrt-in-zip-as-kml": ("parcel.zip", zip_of({"doc.kml": vrt_as_kml("CSV:/etc/passwd")})),
        "vrt-vsicurl-in-zip": ("parcel.zip", zip_of({"a.vrt": vrt(f"/vsicurl/{url}/z.geojson")})),
        "kml-external-entity": ("parcel.kml", kml_external_entity(url)),
        "kml-network-link": ("parcel.kml", kml_network_link(url)),
        "kmz-network-link": ("parcel.kmz", zip_of({"doc.kml": kml_network_link(url)})),
        "gml-remote-xlink": ("parcel.gml", gml_remote_xlink(url)),
        "gml-as-kml": ("parcel.kml", gml_remote_xlink(url).replace(b"<?xml", b"<!-- <kml --><?xml", 1)),
        "gpkg-view": ("parcel.gpkg", lambda tmp: gpkg_with(tmp, GPKG_VIEW)),
        "gpkg-virtual-table": ("parcel.gpkg", lambda tmp: gpkg_with(tmp, GPKG_VIRTUAL)),
        "shapefile-zip-with-vrt": (
            "parcel.zip",
            lambda tmp: zip_of({**shapefile_parts(tmp), "parcel.vrt": vrt("CSV:/etc/passwd")}),
        ),
        "shapefile-zip-with-sqlite": (
            "parcel.zip",
            lambda tmp: zip_of({**shapefile_parts(tmp), "x.sqlite": b"SQLite format 3\x00"}),
        ),
    }


IDS = list(hostile_files("http://x", "/db"))
WAYS_IN = {"form-file": None, "preview": None, "import-cases": None, "import-grid": None}


def send_through(way: str, name: str, data):
    """The sender of test_bad_input for one way in."""
    if way == "form-file":
        return form_file(name, data)
    if way == "preview":
        return preview(file=(name, data))
    if way == "import-cases":
        return import_cases(name, data)
    return import_grid(name, data)


def _db_path(app) -> str:
    url = app.config["DATABASE_URL"]
    return url.removeprefix("sqlite:///") if url.startswith("sqlite") else "/nonexistent.sqlite3"


@pytest.mark.parametrize("way", list(WAYS_IN))
@pytest.mark.parametrize("file_id", IDS)
def test_hostile_file_is_refused_everywhere(env, settings, receiver, way, file_id):
    name, data = hostile_files(receiver, _db_path(env.app))[file_id]
    before = counts(env.app)
    CountingHandler.hits.clear()

    answer = send_through(way, name, data)(env)

    assert answer.status != 500
    if way.startswith("import"):
        assert answer.status == 1, answer.message
    else:
        assert 400 <= answer.status < 500, answer.message[:300]
    assert answer.message.strip()
    assert PASSWD_LINE not in answer.body
    assert not any(marker in answer.body for marker in HASH_MARKERS), answer.body[:300]
    assert counts(env.app) == before
    assert CountingHandler.hits == []
    assert env.client.get("/").status_code == 200


@pytest.mark.parametrize("way", ways.WAYS, ids=lambda way: way.name)
@pytest.mark.parametrize("file_id", IDS)
def test_hostile_file_is_refused_by_the_reader_of_every_way(tmp_path, receiver, way, file_id):
    name, data = hostile_files(receiver, str(tmp_path / "none.sqlite3"))[file_id]
    content = data(tmp_path) if callable(data) else data
    CountingHandler.hits.clear()

    for call in (read_vector, list_layers):
        with pytest.raises(FileFormatError) as caught:
            call(content, way=way, filename=name)
        assert caught.value.message_zh and caught.value.message_en
        assert PASSWD_LINE not in caught.value.message_en

    assert CountingHandler.hits == []


def test_gdal_has_only_our_drivers():
    assert set(pyogrio.list_drivers()) <= gdal_guard.ALLOWED_DRIVERS
    assert {"OGR_VRT", "GML", "CSV", "SQLite", "WFS", "OAPIF", "GDALG"}.isdisjoint(pyogrio.list_drivers())


def test_gdal_itself_cannot_open_a_vrt_or_a_url(tmp_path, receiver):
    path = tmp_path / "direct.vrt"
    path.write_bytes(vrt("CSV:/etc/passwd"))
    CountingHandler.hits.clear()

    for target in (path, f"/vsicurl/{receiver}/direct.geojson"):
        with pytest.raises((pyogrio.errors.DataSourceError, RuntimeError)):
            pyogrio.read_info(target)

    assert CountingHandler.hits == []


def test_the_receiver_counts_what_it_gets(receiver):
    """The counter works, so zero hits above means no request, not a broken counter."""
    import urllib.request

    CountingHandler.hits.clear()
    with urllib.request.urlopen(f"{receiver}/probe", timeout=5) as response:
        assert response.status == 200
    assert CountingHandler.hits == ["/probe"]


def test_a_clean_shapefile_zip_with_clutter_still_reads(tmp_path):
    parts = shapefile_parts(tmp_path)
    content = zip_of({**parts, "parcel.shp.xml": b"<metadata/>", "readme.txt": b"hi", "__MACOSX/._x": b""})

    frame = read_vector(content, way=ways.WEB_LOCATION, filename="parcel.zip")

    assert len(frame) == 1


@pytest.mark.parametrize(
    ("way", "name"),
    [
        (ways.WEB_LOCATION, "groups.topojson"),  # TopoJSON: commands only
        (ways.WEB_LOCATION, "grid.gpkg"),
        (ways.CASE_IMPORT, "groups.topojson"),
    ],
)
def test_each_way_allows_only_its_formats(way, name):
    data = (Path(__file__).parent / "data" / name).read_bytes()
    allowed = name.endswith(".gpkg")

    if allowed:
        assert list_layers(data, way=way, filename=name)
    else:
        with pytest.raises(FileFormatError) as caught:
            read_vector(data, way=way, filename=name)
        assert caught.value.code == "format_not_allowed"


HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/cases?after={HUGE}", 400),  # not a cursor of ours
        (f"/cases?before=-{HUGE}", 400),
        (f"/audit?page={HUGE}", 400),
        (f"/api/collections/issues/items?offset={HUGE}", 400),
        (f"/api/collections/issues/items?limit={HUGE}", 200),  # clamped, as OGC API asks
        (f"/api/collections/issues/items?limit=1{HUGE}", 400),
        (f"/api/collections/issues/items/{HUGE}", 404),
        (f"/cases/{HUGE}", 404),
        (f"/cases/{HUGE}/edit", 404),
        (f"/cases/1/photos/{HUGE}/full.jpg", 404),
        (f"/dashboard?year={HUGE}", 404),
        (f"/map/data.geojson?zoom={HUGE}", 200),
        (f"/map/data.geojson?zoom=-{HUGE}", 200),
        (f"/tuban/{HUGE}", 404),
        (f"/tuban/batches/{HUGE}", 404),
        (f"/tuban/batches/{HUGE}/results.xlsx", 404),
        (f"/cases/{2**40}", 404),  # beyond a 32-bit id, within the converter's bound
        (f"/tuban/{2**40}", 404),
    ],
)
def test_huge_numbers_in_the_url_answer_4xx_not_500(env, url, status):
    response = env.client.get(url)

    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status == 400 and not url.startswith("/api"):
        reason = "翻页参数无效" if url.startswith("/cases?") else "须为 1 到"  # a cursor, not a page
        assert reason in response.get_data(as_text=True)


def test_excel_ledgers_are_parsed_without_entities(env, tmp_path):
    """openpyxl parses through defusedxml when it is installed: a sheet with an entity is refused."""
    import openpyxl.xml

    book = tmp_path / "ledger.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["title"])
    workbook.save(book)
    with zipfile.ZipFile(book) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1
    )
    before = counts(env.app)

    answer = import_cases("ledger.xlsx", zip_of(parts))(env)

    assert openpyxl.xml.DEFUSEDXML
    assert answer.status == 1 and PASSWD_LINE not in answer.body
    assert counts(env.app) == before


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("actions/assign", {"responsible": str(2**32)}),
        ("actions/assign", {"responsible": HUGE}),
        ("merge", {"duplicate_id": str(2**32), "reason": "同一处"}),
    ],
)
def test_huge_ids_in_a_form_answer_422_not_500(env, path, fields):
    from inspection.cases.models import Case

    case_id = env.app.config["SEEDED"]["case"]
    with env.app.app_context():
        version = db.session.get(Case, case_id).version
        db.session.rollback()
    page = f"/cases/{case_id}"
    data = {"csrf_token": csrf_token(env.client, page), "expected_version": str(version), **fields}

    response = env.client.post(f"{page}/{path}", data=data)

    assert response.status_code == 422, response.get_data(as_text=True)[:300]
