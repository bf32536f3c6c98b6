"""Every row of BAD_INPUT.md through every way in, on SQLite and PostGIS, in one table.

Ways in: the report form's text field (`form`), its geometry file (`form-file`), the JSON location
preview (`preview`), `flask import-cases` and `flask import-grid`, photo upload (`photo`) and the OGC
API's query parameters (`api`). A refused row answers 4xx (the CLI exits 1) with its specific reason,
in Chinese by default, stores nothing, and the worker still serves `/`. Rows whose right answer is to
accept and correct (convert GCJ-02, drop Z, orient a ring …) check what was stored instead. A row that
cannot reach a way in is listed in NOT_APPLICABLE with the reason. Rows 14 and 31 also go to a real
waitress server in its own process, which must still answer afterwards.
"""

import io
import json
import os
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import geopandas as gpd
import pyogrio
import pytest
import requests
import shapely
from PIL import Image
from pyproj import Transformer
from sqlalchemy import delete, func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app import create_app
from geodata.crs import wgs84_to_gcj02
from inspection import db, migrate
from inspection.cases.models import Case, Photo, StatusChange
from inspection.cases.photos import photo_path
from inspection.grid.models import GridCell
from tests.cases.test_photos import image_bytes, png_header_only
from tests.cases.test_report_forms import IN_A1, seed_town
from tests.conftest import ROOT, csrf_token, login, reset_postgis

ROWS = range(1, 32)
WAYS = ("form", "form-file", "preview", "import-cases", "import-grid", "photo", "api")
KEPT = "保留这段描述"  # typed into every form: a refused form must give it back
P = (113.0025, 30.005)  # a point in group 一组 of the test town
SQ = [(113.001, 30.001), (113.002, 30.001), (113.002, 30.002), (113.001, 30.002), (113.001, 30.001)]
BOWTIE = [(113.001, 30.001), (113.002, 30.002), (113.002, 30.001), (113.001, 30.002), SQ[0]]
INNER = [(113.0015, 30.0015), (113.0025, 30.0015), (113.0025, 30.0025), (113.0015, 30.0025)]
FAR_HOLE = [[113.003, 30.003], [113.004, 30.003], [113.004, 30.004], [113.003, 30.003]]
DEEP = '{"type": "Polygon", "coordinates": ' + "[" * 100_000 + "]" * 100_000 + "}"
# 25,000 vertices, over MAX_VERTICES (20,000), in short text so that no byte cap answers first.
MANY = [(round(113.001 + 0.001 * i / 25_000, 7), 30.001 + 0.0004 * (i % 2)) for i in range(24_997)]
MANY = [*MANY, (113.002, 30.003), (113.001, 30.003), MANY[0]]


# --- Inputs -------------------------------------------------------------------------------------


def poly(ring, *holes, z=False) -> dict:
    """A GeoJSON Polygon from lon/lat pairs (with a height of 10 m when z)."""
    rings = [ring, *holes]
    return {
        "type": "Polygon",
        "coordinates": [[[*c, 10.0] if z else list(c) for c in r] for r in rings],
    }


def far_box(row: int) -> list[tuple[float, float]]:
    """A small square far from the test town (lon 120, lat 35), one per row, for grid imports."""
    x, y = 120.0 + row / 100, 35.0
    return [(x, y), (x + 0.005, y), (x + 0.005, y + 0.005), (x, y + 0.005), (x, y)]


def props(row: int) -> dict:
    """Properties a case import and a grid import both understand (a grid cell is a town)."""
    return {
        "kind": "issue",
        "category": "garbage",
        "title": f"第{row}行",
        "found_on": "2022-03-01",
        "code": f"ZZ{row:02d}",
        "name": f"测试镇{row}",
        "level": "town",
    }


def feature_file(geometry, row: int = 0, *, extra: str = "") -> bytes:
    """A one-feature GeoJSON FeatureCollection around a geometry given as a dict or as JSON text."""
    text = geometry if isinstance(geometry, str) else json.dumps(geometry)
    head = '{"type": "FeatureCollection", ' + extra
    body = f'"features": [{{"type": "Feature", "properties": {json.dumps(props(row))}, '
    return (head + body + f'"geometry": {text}}}]}}').encode()


def zip_of(entries: dict[str, bytes]) -> bytes:
    """A ZIP archive holding `entries` (name → content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@cache
def many_entries_zip() -> bytes:
    """A ZIP of 1,001 tiny files: one more than ZIP_MAX_ENTRIES allows by default (row 21)."""
    return zip_of({f"part{i:04d}.txt": b"x" for i in range(1001)})


@cache
def zip_bomb() -> bytes:
    """300 MB of zeros deflated to about 300 KB: over ZIP_MAX_UNPACKED_BYTES by default (row 21)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("bomb.geojson", "w", force_zip64=True) as entry,
    ):
        for _ in range(300):
            entry.write(b"\0" * (1 << 20))
    return buffer.getvalue()


def xlsx_bomb() -> bytes:
    """A file that opens as an .xlsx workbook but holds 1,001 entries."""
    return zip_of({"xl/workbook.xml": b"<workbook/>", **{f"xl/p{i}.xml": b"" for i in range(1000)}})


def shapefile_zip(tmp: Path, frame: gpd.GeoDataFrame, *, keep: tuple[str, ...], encoding="UTF-8"):
    """Zip the parts of a Shapefile named in `keep` (leave out .prj or .cpg to test their absence)."""
    work = tmp / f"shp-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    pyogrio.write_dataframe(frame, work / "parcels.shp", driver="ESRI Shapefile", encoding=encoding)
    dbf = work / "parcels.dbf"
    data = bytearray(dbf.read_bytes())
    data[29] = 0  # no language driver id, as many Chinese tools write
    dbf.write_bytes(bytes(data))
    return zip_of({f"parcels{s}": (work / f"parcels{s}").read_bytes() for s in keep})


def shapefile_without_prj(tmp: Path) -> bytes:
    """Two parcels in CGCS2000 Gauss-Krüger metres (EPSG:4526) with no .prj (row 19)."""
    frame = gpd.GeoDataFrame(
        {"title": ["甲", "乙"], "name": ["甲", "乙"]},
        geometry=[shapely.box(*SQ[0], *SQ[2]), shapely.box(113.003, 30.001, 113.004, 30.002)],
        crs=4326,
    ).to_crs(4526)
    return shapefile_zip(tmp, frame, keep=(".shp", ".shx", ".dbf"))


def gbk_shapefile(tmp: Path, boxes, row: int = 20) -> bytes:
    """Parcels with GBK names and no .cpg (row 20): 图斑甲, 图斑乙 …"""
    names = [f"图斑{n}" for n in "甲乙丙"[: len(boxes)]]
    base = props(row)
    columns = {k: [base[k]] * len(boxes) for k in ("kind", "category", "found_on", "level")}
    columns.update(title=names, name=names, code=[f"ZZ{row}{i}" for i in range(len(boxes))])
    frame = gpd.GeoDataFrame(columns, geometry=[shapely.box(*b) for b in boxes], crs=4326)
    return shapefile_zip(tmp, frame, keep=(".shp", ".shx", ".dbf", ".prj"), encoding="GBK")


def kml_with_doctype() -> bytes:
    """KML that declares an entity (row 22: XXE / billion laughs)."""
    return (
        b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x "boom">]>'
        b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name>'
        b"<Point><coordinates>113.0025,30.005</coordinates></Point></Placemark></kml>"
    )


def metres(lon_lat_pairs) -> list[list[float]]:
    """Lon/lat pairs in web-mercator metres (EPSG:3857), for a GeoJSON legacy crs member (row 11)."""
    to_metres = Transformer.from_crs(4326, 3857, always_xy=True)
    return [list(to_metres.transform(*pair)) for pair in lon_lat_pairs]


LEGACY_3857 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}


def legacy_crs_file(geometry: dict, row: int) -> bytes:
    """A GeoJSON 2008 file in EPSG:3857 metres, naming its CRS in a collection-level member (row 11)."""
    return feature_file(geometry, row, extra=f'"crs": {json.dumps(LEGACY_3857)}, ')


# --- Expectations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a way in answered: HTTP status (or CLI exit code), stable code, reason, whole body."""

    status: int
    code: str | None
    message: str
    body: str
    location: str | None = None


@dataclass(frozen=True)
class Refused:
    """4xx (CLI: exit 1) with `words` in the reason, `code` when the way exposes one, nothing stored."""

    words: str
    code: str | None = None
    status: int | None = None  # the exact status when it matters (400 CSRF, 404, 413)


@dataclass(frozen=True)
class Accepted:
    """The right answer is to accept and correct: `check(env, answer)` says what was stored."""

    check: Callable


@dataclass(frozen=True)
class Entry:
    """One row of BAD_INPUT.md through one way in."""

    row: int
    way: str
    send: Callable  # (env) -> Answer
    expect: Refused | Accepted
    note: str = ""
    config: dict = field(default_factory=dict)  # settings changed for this entry only

    @property
    def id(self) -> str:
        return f"row{self.row:02d}-{self.way}" + (f"-{self.note}" if self.note else "")


@dataclass
class Env:
    """The app, a logged-in client, a CLI runner and a scratch folder."""

    app: object
    client: object
    runner: object
    tmp: Path


# --- Ways in --------------------------------------------------------------------------------------


def post_multipart(client, url: str, data: dict):
    """POST a multipart form encoded in memory; (stream, name) values are files.

    The test client would spool a body over 500 kB to a temporary file it never closes.
    """
    fields = {
        key: FileStorage(stream=value[0], filename=value[1]) if isinstance(value, tuple) else value
        for key, value in data.items()
    }
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def post_report(client, kind: str = "issue", files=None, **fields):
    """Post a report form with a fresh client id and the page's CSRF token."""
    data = {
        "csrf_token": csrf_token(client, f"/cases/new/{kind}"),
        "client_id": str(uuid.uuid4()),
        "source": "patrol",
        "crs": "EPSG:4326",
        **({"category": "garbage"} if kind == "issue" else {}),
        **fields,
        **(files or {}),
    }
    return post_multipart(client, f"/cases/new/{kind}", data)


def _form_answer(response) -> Answer:
    return Answer(
        response.status_code,
        response.headers.get("X-Report-Error"),
        unquote(response.headers.get("X-Report-Message", "")) or response.get_data(as_text=True),
        response.get_data(as_text=True),
        response.headers.get("Location"),
    )


def form(text: str, *, kind="issue", crs="EPSG:4326", client_id=None):
    """The report form with the location typed or drawn into its text field."""

    def send(env: Env) -> Answer:
        extra = {"client_id": client_id} if client_id else {}
        return _form_answer(
            post_report(env.client, kind, geometry=text, crs=crs, description=KEPT, **extra)
        )

    return send


def form_file(name: str, data, *, kind="issue", client_id=None):
    """The report form with a geometry file (`data` is bytes or a function of the scratch folder)."""

    def send(env: Env) -> Answer:
        content = data(env.tmp) if callable(data) else data
        extra = {"client_id": client_id} if client_id else {}
        files = {"geofile": (io.BytesIO(content), name)}
        return _form_answer(post_report(env.client, kind, files=files, description=KEPT, **extra))

    return send


def photo(name: str, data: bytes, *, geometry: str = IN_A1):
    """The report form with one photo."""

    def send(env: Env) -> Answer:
        files = {"photos": (io.BytesIO(data), name)}
        return _form_answer(
            post_report(env.client, geometry=geometry, files=files, description=KEPT)
        )

    return send


def _json_answer(response) -> Answer:
    data = response.get_json(silent=True) or {}
    message = data.get("message") or data.get("description") or response.get_data(as_text=True)
    return Answer(response.status_code, data.get("code"), message, response.get_data(as_text=True))


def preview(text: str | None = None, *, file=None, kind="issue", crs="EPSG:4326"):
    """The JSON location preview, with text or with a file (name, bytes or function of tmp)."""

    def send(env: Env) -> Answer:
        data = {"csrf_token": csrf_token(env.client, f"/cases/new/{kind}"), "kind": kind}
        if file is None:
            data.update(geometry=text, crs=crs)
        else:
            name, content = file
            content = content(env.tmp) if callable(content) else content
            data["geofile"] = (io.BytesIO(content), name)
        response = post_multipart(env.client, "/cases/preview", data)
        return _json_answer(response)

    return send


def _cli(command: str, name: str, data, args: tuple[str, ...]):
    def send(env: Env) -> Answer:
        path = env.tmp / name
        path.write_bytes(data(env.tmp) if callable(data) else data)
        result = env.runner.invoke(args=[command, str(path), *args])
        # A traceback is not a message: the command must end by itself (SystemExit) or succeed.
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return Answer(result.exit_code, None, result.output, result.output)

    return send


def import_cases(name: str, data, *args: str):
    """`flask import-cases PATH` on a file written to the scratch folder."""
    return _cli("import-cases", name, data, args)


def import_grid(name: str, data, *args: str):
    """`flask import-grid PATH` on a file written to the scratch folder."""
    return _cli("import-grid", name, data, args)


def api(path: str):
    """A GET on the OGC API (the session cookie authenticates)."""

    def send(env: Env) -> Answer:
        return _json_answer(env.client.get(path))

    return send


# --- Checks of accepted rows --------------------------------------------------------------------


def newest_case(app) -> Case:
    """The newest case, with its group loaded."""
    with app.app_context():
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        _ = case.group, case.photos
        db.session.expunge_all()
        return case


def case_at(location: str | None, app) -> Case:
    """The case a redirect points at."""
    assert location, "no redirect to the new case"
    with app.app_context():
        case = db.session.get(Case, int(location.rstrip("/").rsplit("/", 1)[1]))
        _ = case.group, case.photos
        db.session.expunge_all()
        return case


def stored_point_is(lon_lat):
    """A case was created whose point is `lon_lat` (degrees, to 1e-6 ≈ 0.1 m)."""

    def check(env: Env, answer: Answer) -> None:
        assert answer.status in (0, 303), answer.message
        case = case_at(answer.location, env.app) if answer.location else newest_case(env.app)
        assert (case.geom.x, case.geom.y) == pytest.approx(lon_lat, abs=1e-6)

    return check


def stored_polygon(*, area_m2: float | None = None, bounds=None):
    """A case was created: a 2-D polygon with a positive geodesic area (and these bounds)."""

    def check(env: Env, answer: Answer) -> None:
        assert answer.status in (0, 303), answer.message
        case = case_at(answer.location, env.app) if answer.location else newest_case(env.app)
        assert not case.geom.has_z and case.geom.geom_type in ("Polygon", "MultiPolygon")
        assert case.area_m2 > 0
        if area_m2 is not None:
            assert case.area_m2 == pytest.approx(area_m2, rel=1e-3)
        if bounds is not None:
            assert case.geom.bounds == pytest.approx(bounds, abs=1e-6)

    return check


def stored_titles(*titles: str):
    """An import created cases with these titles (Chinese read right)."""

    def check(env: Env, answer: Answer) -> None:
        assert answer.status == 0, answer.message
        with env.app.app_context():
            found = db.session.scalars(select(Case.title).where(Case.title.in_(titles))).all()
        assert sorted(found) == sorted(titles)

    return check


def preview_says(*, group: str = "一组", point=None, positive_area=False, labels=()):
    """The preview placed the location in `group` (or offered features with these labels)."""

    def check(env: Env, answer: Answer) -> None:
        assert answer.status == 200, answer.message
        data = json.loads(answer.body)
        if labels:
            assert data["choose"] and [f["label"] for f in data["features"]] == list(labels)
            return
        assert data["ok"] and data["group"] == group
        if point is not None:
            assert data["geometry"]["coordinates"] == pytest.approx(list(point), abs=1e-6)
        if positive_area:
            assert data["area_m2"] > 0 and data["geometry"]["type"] == "Polygon"

    return check


def offers_features(*labels: str):
    """The form comes back (422) offering the file's features by name to pick from; nothing stored."""

    def check(env: Env, answer: Answer) -> None:
        assert answer.status == 422 and answer.code == "choose_feature", answer.message
        assert all(label in answer.body for label in labels) and KEPT in answer.body

    return check


def same_group_every_time(send, times: int = 3):
    """Send the same point several times: every case lands in one group, always the same."""

    def check(env: Env, first: Answer) -> None:
        answers = [first] + [send(env) for _ in range(times - 1)]
        groups = set()
        for answer in answers:
            assert answer.status in (0, 200, 303), answer.message
            if answer.status == 200:  # the preview
                groups.add(json.loads(answer.body)["group"])
            else:
                case = case_at(answer.location, env.app) if answer.location else None
                groups.add(case.group_id if case else newest_case(env.app).group_id)
        assert len(groups) == 1 and None not in groups

    return check


def grid_cells(*names: str):
    """An import-grid stored cells with these names (areas positive, no Z), then drops them again."""

    def check(env: Env, answer: Answer) -> None:
        assert answer.status == 0, answer.message
        with env.app.app_context():
            s = db.session()
            cells = s.scalars(select(GridCell).where(GridCell.name.in_(names))).all()
            try:
                assert sorted(c.name for c in cells) == sorted(names)
                assert all(not c.boundary.has_z and c.area_m2 > 0 for c in cells)
            finally:
                s.execute(delete(GridCell).where(GridCell.name.in_(names)))
                s.commit()

    return check


def twice_is_once(send):
    """Sending the same thing again creates nothing more, and a form retry gets the first answer."""

    def check(env: Env, first: Answer) -> None:
        assert first.status in (0, 303), first.message
        middle = counts(env.app)
        second = send(env)
        assert second.status == first.status
        assert second.location == first.location
        assert counts(env.app) == middle
        if first.status == 0:  # the CLI says the row already exists
            assert "已存在 1 件" in second.message

    return check


def photo_gps_stripped(env: Env, answer: Answer) -> None:
    """The photo's GPS is kept as data and stripped from the stored file (row 26)."""
    case = case_at(answer.location, env.app)
    stored = photo_path(env.app.config["PHOTO_DIR"], case.photos[0].sha256).read_bytes()
    with Image.open(io.BytesIO(stored)) as image:
        assert image.getexif().get_ifd(0x8825) == {}
    assert (case.photos[0].gps_lon, case.photos[0].gps_lat) == pytest.approx(P, abs=1e-6)


def api_limit_clamped(env: Env, answer: Answer) -> None:
    """A huge limit is clamped to the largest page, not obeyed."""
    assert answer.status == 200
    self_link = next(link for link in json.loads(answer.body)["links"] if link["rel"] == "self")
    assert "limit=1000" in self_link["href"]


# --- The table ------------------------------------------------------------------------------------

# Geometry rows 1–18: the same bad geometry through text, file, preview and both imports.
GEOMETRY = {
    1: poly(BOWTIE),
    2: poly(SQ[:-1] + [(113.0011, 30.0011)]),
    3: poly([(113.001, 30.001), (113.002, 30.002), (113.001, 30.001), (113.001, 30.001)]),
    4: poly(SQ, FAR_HOLE),
    5: poly([(113.001, 30.001), (113.002, 30.001), (113.003, 30.001), (113.001, 30.001)]),
    6: {
        "type": "MultiPolygon",
        "coordinates": [poly(SQ)["coordinates"], poly(INNER + INNER[:1])["coordinates"]],
    },
    7: '{"type": "Point", "coordinates": [NaN, 30.005]}',
    8: {"type": "Point", "coordinates": [200, 95]},
    9: {"type": "Point", "coordinates": [30.005, 113.0025]},
    12: {"type": "Polygon", "coordinates": []},
    14: {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": list(P)}]},
    15: poly(MANY),
    16: poly([(114.5, 31.5), (114.6, 31.5), (114.6, 31.6), (114.5, 31.5)]),
}


def text(row: int) -> str:
    g = GEOMETRY[row]
    return g if isinstance(g, str) else json.dumps(g)


def gfile(row: int) -> bytes:
    return feature_file(GEOMETRY[row], row)


def geometry_rows(row: int, words: str, code: str, *, file_words=None, file_code=None,
                  case_words=None, grid_words=None) -> list[Entry]:  # fmt: skip
    """A refused geometry through every way that takes one."""
    file_words = file_words or words
    return [
        Entry(row, "form", form(text(row)), Refused(words, code)),
        Entry(row, "form-file", form_file("shape.geojson", gfile(row)), Refused(file_words, file_code)),
        Entry(row, "preview", preview(text(row)), Refused(words, code)),
        Entry(row, "import-cases", import_cases("cases.geojson", gfile(row)), Refused(case_words or file_words)),
        Entry(row, "import-grid", import_grid("grid.geojson", gfile(row)), Refused(grid_words or file_words)),
    ]  # fmt: skip


GCJ = wgs84_to_gcj02(*P)
NEAR_CLOSED = poly(SQ[:-1] + [(113.001 + 1e-9, 30.001)])
SQ_AREA_M2 = 10_695.7  # the 0.001° square at 30°N, geodesic
SQ_BOUNDS = (113.001, 30.001, 113.002, 30.002)
FAR_3857 = {"type": "Polygon", "coordinates": [metres(far_box(11))]}
P_3857 = {"type": "Point", "coordinates": metres([P])[0]}
ON_EDGE = {"type": "Point", "coordinates": [113.005, 30.005]}  # between 一组 and 二组
CLOCKWISE = poly(list(reversed(SQ)))
NOT_AN_IMAGE = b"%PDF-1.4 a document, not a photo"
BIG_BODY = {"MAX_CONTENT_LENGTH": 200_000}
LIMIT_SETTINGS = {"ZIP_MAX_ENTRIES": 5, "ZIP_MAX_UNPACKED_BYTES": 10_000}
SMALL_ZIP = zip_of({f"p{i}.txt": b"x" for i in range(6)})


def csrf_form(token: str | None, *, files=None):
    """The report form sent without its CSRF token, or with a stale one (row 29)."""

    def send(env: Env) -> Answer:
        data = {"client_id": str(uuid.uuid4()), "category": "dust", "geometry": IN_A1}
        data["description"] = KEPT
        if token:
            data["csrf_token"] = token
        data.update(files or {})
        response = post_multipart(env.client, "/cases/new/issue", data)
        return _form_answer(response)

    return send


def csrf_preview(env: Env) -> Answer:
    """The preview without a CSRF token."""
    return _json_answer(env.client.post("/cases/preview", data={"geometry": IN_A1}))


def as_member(path: str, method: str = "get"):
    """A request by 二组's 网格员 for something of 一组's seeded case (row 30)."""

    def send(env: Env) -> Answer:
        env.client.get("/auth/logout")
        login(env.client, "wgy_a2")
        ids = env.app.config["SEEDED"]
        url = path.format(**ids)
        response = getattr(env.client, method)(
            url,
            data={"csrf_token": csrf_token(env.client, "/cases/new/issue")}
            if method == "post"
            else None,
        )
        body = response.get_data(as_text=True)
        answer = (
            _json_answer(response)
            if url.startswith("/api")
            else Answer(response.status_code, None, body, body)
        )
        env.client.get("/auth/logout")
        login(env.client, "zhangzhen")
        return answer

    return send


def big_form(env: Env) -> Answer:
    """A form whose body is over MAX_CONTENT_LENGTH (urlencoded text)."""
    data = {"csrf_token": csrf_token(env.client, "/cases/new/issue"), "geometry": "1" * 300_000}
    return _form_answer(env.client.post("/cases/new/issue", data=data))


def big_upload(field_name: str, endpoint: str = "/cases/new/issue"):
    """A multipart upload over MAX_CONTENT_LENGTH."""

    def send(env: Env) -> Answer:
        data = {
            "csrf_token": csrf_token(env.client, "/cases/new/issue"),
            "client_id": str(uuid.uuid4()),
            "category": "garbage",
            "geometry": IN_A1,
            field_name: (io.BytesIO(b"x" * 300_000), "big.bin"),
        }
        response = post_multipart(env.client, endpoint, data)
        if endpoint.endswith("preview"):
            return _json_answer(response)
        return _form_answer(response)

    return send


DOUBLE_ID = "double-submit-0001"
DOUBLE_FILE_ID = "double-submit-file-1"
DOUBLE_PHOTO_ID = "double-submit-photo1"


def double_photo(env: Env) -> Answer:
    """The same report with a photo, as a double tap sends it."""
    files = {"photos": (io.BytesIO(image_bytes()), "a.jpg")}
    return _form_answer(
        post_report(env.client, geometry=IN_A1, client_id=DOUBLE_PHOTO_ID, files=files)
    )


TABLE: list[Entry] = [
    *geometry_rows(1, "自相交", "self_intersection"),
    *geometry_rows(2, "没有闭合", "ring_not_closed", file_code="file_bad_geometry"),
    Entry(2, "form", form(json.dumps(NEAR_CLOSED)), Accepted(stored_polygon(bounds=SQ_BOUNDS)), "near-closed"),
    Entry(2, "preview", preview(json.dumps(NEAR_CLOSED)), Accepted(preview_says(positive_area=True)), "near-closed"),
    *geometry_rows(3, "面至少需要3个不同顶点", "too_few_points"),
    *geometry_rows(4, "内洞", "hole_outside_shell"),
    *geometry_rows(5, "面积为0", "zero_area"),
    *geometry_rows(6, "重叠", "overlapping_parts"),
    *geometry_rows(7, "非数值", "non_finite", file_words="NaN"),
    *geometry_rows(8, "超出范围", "out_of_range", file_words="没有坐标系"),
    *geometry_rows(9, "写反", "swapped_lonlat", file_code="swapped_lonlat"),
    Entry(10, "form", form(f"{GCJ[0]},{GCJ[1]}", crs="GCJ02"), Accepted(stored_point_is(P))),
    Entry(10, "preview", preview(f"{GCJ[0]},{GCJ[1]}", crs="GCJ02"), Accepted(preview_says(point=P))),
    Entry(10, "form", form(IN_A1, crs="EPSG:3857"), Refused("坐标系无效", "bad_crs"), "unknown-crs"),
    Entry(11, "form", form(json.dumps({**P_3857, "crs": LEGACY_3857})), Accepted(stored_point_is(P))),
    Entry(11, "form-file", form_file("p.geojson", legacy_crs_file(P_3857, 11)), Accepted(stored_point_is(P))),
    Entry(11, "preview", preview(json.dumps({**P_3857, "crs": LEGACY_3857})), Accepted(preview_says(point=P))),
    Entry(11, "import-cases", import_cases("c.geojson", legacy_crs_file(P_3857, 11)), Accepted(stored_point_is(P))),
    Entry(11, "import-grid", import_grid("g.geojson", legacy_crs_file(FAR_3857, 11)), Accepted(grid_cells("测试镇11"))),
    Entry(11, "form", form(json.dumps({**P_3857, "crs": {"type": "link", "properties": {}}})), Refused("crs 成员无法识别", "unknown_crs"), "unknown-member"),
    *geometry_rows(12, "为空", "empty", file_words="没有带几何的要素", case_words="缺少位置", grid_words="不是或为空"),
    Entry(13, "form", form(json.dumps(poly(SQ, z=True))), Accepted(stored_polygon(bounds=SQ_BOUNDS))),
    Entry(13, "form-file", form_file("z.geojson", feature_file(poly(SQ, z=True), 13)), Accepted(stored_polygon(bounds=SQ_BOUNDS))),
    Entry(13, "preview", preview(json.dumps(poly(SQ, z=True))), Accepted(preview_says(positive_area=True))),
    Entry(13, "import-cases", import_cases("z.geojson", feature_file(poly(SQ, z=True), 13)), Accepted(stored_polygon(bounds=SQ_BOUNDS))),
    Entry(13, "import-grid", import_grid("z.geojson", feature_file(poly(far_box(13), z=True), 13)), Accepted(grid_cells("测试镇13"))),
    *geometry_rows(14, "不支持", "unsupported_type", grid_words="必须是面"),
    Entry(14, "form", form(DEEP), Refused("嵌套", "too_deep"), "100000-deep"),
    Entry(14, "form-file", form_file("deep.geojson", feature_file(DEEP, 14)), Refused("无法读取", "file_unreadable"), "100000-deep"),
    Entry(14, "preview", preview(DEEP), Refused("嵌套", "too_deep"), "100000-deep"),
    Entry(14, "import-cases", import_cases("deep.geojson", feature_file(DEEP, 14)), Refused("无法读取"), "100000-deep"),
    Entry(14, "import-grid", import_grid("deep.geojson", feature_file(DEEP, 14)), Refused("无法读取"), "100000-deep"),
    Entry(15, "form", form(text(15)), Refused("顶点过多", "too_many_vertices")),
    Entry(15, "form-file", form_file("many.geojson", gfile(15)), Refused("顶点过多")),
    Entry(15, "preview", preview(text(15)), Refused("顶点过多", "too_many_vertices")),
    Entry(15, "import-cases", import_cases("many.geojson", gfile(15)), Refused("顶点过多")),
    Entry(16, "form", form(text(16)), Refused("不在本镇", "outside_grid")),
    Entry(16, "form-file", form_file("out.geojson", gfile(16)), Refused("不在本镇", "outside_grid")),
    Entry(16, "preview", preview(text(16)), Refused("不在本镇", "outside_grid")),
    Entry(16, "import-cases", import_cases("out.geojson", gfile(16)), Refused("不在本镇")),
    Entry(17, "form", form("113.005,30.005"), Accepted(same_group_every_time(form("113.005,30.005")))),
    Entry(17, "form-file", form_file("edge.geojson", feature_file(ON_EDGE, 17)), Accepted(same_group_every_time(form_file("edge.geojson", feature_file(ON_EDGE, 17))))),
    Entry(17, "preview", preview("113.005,30.005"), Accepted(same_group_every_time(preview("113.005,30.005")))),
    Entry(17, "import-cases", import_cases("edge.geojson", feature_file(ON_EDGE, 17)), Accepted(stored_point_is((113.005, 30.005)))),
    Entry(18, "form", form(json.dumps(CLOCKWISE), kind="farmland"), Accepted(stored_polygon(area_m2=SQ_AREA_M2))),
    Entry(18, "form-file", form_file("cw.geojson", feature_file(CLOCKWISE, 18), kind="farmland"), Accepted(stored_polygon(area_m2=SQ_AREA_M2))),
    Entry(18, "preview", preview(json.dumps(CLOCKWISE), kind="farmland"), Accepted(preview_says(positive_area=True))),
    Entry(18, "import-cases", import_cases("cw.geojson", feature_file(CLOCKWISE, 18)), Accepted(stored_polygon(area_m2=SQ_AREA_M2))),
    Entry(18, "import-grid", import_grid("cw.geojson", feature_file(poly(list(reversed(far_box(18)))), 18)), Accepted(grid_cells("测试镇18"))),
    # Files
    Entry(19, "form-file", form_file("parcels.zip", shapefile_without_prj), Refused("没有坐标系", "crs_missing")),
    Entry(19, "preview", preview(file=("parcels.zip", shapefile_without_prj)), Refused("没有坐标系", "crs_missing")),
    Entry(19, "import-cases", import_cases("parcels.zip", shapefile_without_prj), Refused("没有坐标系")),
    Entry(19, "import-grid", import_grid("parcels.zip", shapefile_without_prj), Refused("没有坐标系")),
    Entry(20, "form-file", form_file("gbk.zip", lambda tmp: gbk_shapefile(tmp, [SQ_BOUNDS, (113.003, 30.001, 113.004, 30.002)])), Accepted(offers_features("1. 图斑甲", "2. 图斑乙")), "names"),
    Entry(20, "form-file", form_file("gbk.zip", lambda tmp: gbk_shapefile(tmp, [SQ_BOUNDS])), Accepted(stored_polygon(bounds=SQ_BOUNDS))),
    Entry(20, "preview", preview(file=("gbk.zip", lambda tmp: gbk_shapefile(tmp, [SQ_BOUNDS, (113.003, 30.001, 113.004, 30.002)]))), Accepted(preview_says(labels=["1. 图斑甲", "2. 图斑乙"]))),
    Entry(20, "import-cases", import_cases("gbk.zip", lambda tmp: gbk_shapefile(tmp, [SQ_BOUNDS, (113.003, 30.001, 113.004, 30.002)])), Accepted(stored_titles("图斑甲", "图斑乙"))),
    Entry(20, "import-grid", import_grid("gbk.zip", lambda tmp: gbk_shapefile(tmp, [(120.2, 35.2, 120.21, 35.21), (120.22, 35.2, 120.23, 35.21)])), Accepted(grid_cells("图斑甲", "图斑乙"))),
    Entry(21, "form-file", form_file("many.zip", many_entries_zip()), Refused("压缩包内文件过多", "zip_too_many_entries"), "entries"),
    Entry(21, "form-file", form_file("bomb.zip", lambda _: zip_bomb()), Refused("压缩包解压后过大", "zip_too_large"), "bomb"),
    Entry(21, "form-file", form_file("small.zip", SMALL_ZIP), Refused("上限 5 个", "zip_too_many_entries"), "setting", LIMIT_SETTINGS),
    Entry(21, "preview", preview(file=("bomb.zip", lambda _: zip_bomb())), Refused("压缩包解压后过大", "zip_too_large"), "bomb"),
    Entry(21, "preview", preview(file=("small.zip", SMALL_ZIP)), Refused("上限 5 个", "zip_too_many_entries"), "setting", LIMIT_SETTINGS),
    Entry(21, "import-cases", import_cases("many.zip", many_entries_zip()), Refused("压缩包内文件过多"), "entries"),
    Entry(21, "import-cases", import_cases("bomb.zip", lambda _: zip_bomb()), Refused("压缩包解压后过大"), "bomb"),
    Entry(21, "import-cases", import_cases("ledger.xlsx", xlsx_bomb()), Refused("Excel 文件解压后过大"), "xlsx"),
    Entry(21, "import-cases", import_cases("small.zip", SMALL_ZIP), Refused("上限 5 个"), "setting", LIMIT_SETTINGS),
    Entry(21, "import-grid", import_grid("many.zip", many_entries_zip()), Refused("压缩包内文件过多"), "entries"),
    Entry(21, "import-grid", import_grid("bomb.zip", lambda _: zip_bomb()), Refused("压缩包解压后过大"), "bomb"),
    Entry(21, "import-grid", import_grid("small.zip", SMALL_ZIP), Refused("上限 5 个"), "setting", LIMIT_SETTINGS),
    Entry(22, "form", form(kml_with_doctype().decode()), Refused("无法识别的位置格式", "unrecognized_format")),
    Entry(22, "form-file", form_file("doc.kml", kml_with_doctype()), Refused("DOCTYPE", "kml_doctype")),
    Entry(22, "preview", preview(file=("doc.kml", kml_with_doctype())), Refused("DOCTYPE", "kml_doctype")),
    Entry(22, "import-cases", import_cases("doc.kml", kml_with_doctype()), Refused("DOCTYPE")),
    Entry(22, "import-grid", import_grid("doc.kml", kml_with_doctype()), Refused("DOCTYPE")),
    Entry(23, "form-file", form_file("parcel.geojson", NOT_AN_IMAGE), Refused("无法识别文件格式", "unknown_format")),
    Entry(23, "preview", preview(file=("parcel.geojson", NOT_AN_IMAGE)), Refused("无法识别文件格式", "unknown_format")),
    Entry(23, "import-cases", import_cases("ledger.xlsx", b"name,lon,lat\n"), Refused("内容不是 .xlsx 工作簿"), "xlsx"),
    Entry(23, "import-cases", import_cases("cases.geojson", NOT_AN_IMAGE), Refused("无法识别文件格式")),
    Entry(23, "import-grid", import_grid("grid.shp", NOT_AN_IMAGE), Refused("无法识别文件格式")),
    Entry(23, "photo", photo("photo.jpg", NOT_AN_IMAGE), Refused("不是可识别的图片", "photo_not_image")),
    Entry(25, "photo", photo("bomb.png", png_header_only(30_000, 30_000)), Refused("像素过多", "photo_too_many_pixels"), "bomb"),
    Entry(25, "photo", photo("exe.jpg", b"MZ\x90\x00 an executable"), Refused("不是可识别的图片", "photo_not_image"), "not-image"),
    Entry(25, "photo", photo("p.jpg", image_bytes(size=(300, 200))), Refused("像素过多", "photo_too_many_pixels"), "setting", {"PHOTO_MAX_PIXELS": 50_000}),
    Entry(25, "photo", photo("p.jpg", image_bytes(size=(300, 200))), Refused("p.jpg", "photo_too_large"), "bytes-setting", {"PHOTO_MAX_BYTES": 100}),
    Entry(26, "photo", photo("gps.jpg", image_bytes(gps=P), geometry=""), Refused("第一张照片的拍摄位置", "location_from_photo"), "suggested"),
    Entry(26, "photo", photo("gps.jpg", image_bytes(gps=P)), Accepted(photo_gps_stripped), "stripped"),
    # Requests
    Entry(27, "form", form(IN_A1, client_id=DOUBLE_ID), Accepted(twice_is_once(form(IN_A1, client_id=DOUBLE_ID)))),
    Entry(27, "form-file", form_file("p.geojson", feature_file(ON_EDGE), client_id=DOUBLE_FILE_ID), Accepted(twice_is_once(form_file("p.geojson", feature_file(ON_EDGE), client_id=DOUBLE_FILE_ID)))),
    Entry(27, "photo", double_photo, Accepted(twice_is_once(double_photo))),
    Entry(27, "import-cases", import_cases("again.geojson", feature_file(ON_EDGE, 27)), Accepted(twice_is_once(import_cases("again.geojson", feature_file(ON_EDGE, 27))))),
    Entry(29, "form", csrf_form(None), Refused("表单已过期", "csrf", 400), "missing"),
    Entry(29, "form", csrf_form("stale-or-forged-token"), Refused("表单已过期", "csrf", 400), "stale"),
    Entry(29, "form-file", csrf_form(None, files={"geofile": (io.BytesIO(feature_file(ON_EDGE)), "p.geojson")}), Refused("表单已过期", "csrf", 400)),
    Entry(29, "photo", csrf_form(None, files={"photos": (io.BytesIO(image_bytes()), "a.jpg")}), Refused("表单已过期", "csrf", 400)),
    Entry(29, "preview", csrf_preview, Refused("表单已过期", "csrf", 400)),
    Entry(30, "form", as_member("/cases/{case}"), Refused("您无权查看", None, 404), "case-page"),
    Entry(30, "form", as_member("/cases/{case}/actions/confirm", "post"), Refused("您无权查看", None, 404), "action"),
    Entry(30, "photo", as_member("/cases/{case}/photos/{photo}/full.jpg"), Refused("您无权查看", None, 404)),
    Entry(30, "api", as_member("/api/collections/issues/items/{case}"), Refused("no feature", "NotFound", 404)),
    Entry(31, "form", big_form, Refused("上传内容超过限制", None, 413), "", BIG_BODY),
    Entry(31, "form-file", big_upload("geofile"), Refused("上传内容超过限制", None, 413), "", BIG_BODY),
    Entry(31, "photo", big_upload("photos"), Refused("上传内容超过限制", None, 413), "", BIG_BODY),
    Entry(31, "preview", big_upload("geofile", "/cases/preview"), Refused("上传内容超过限制", "too_large", 413), "", BIG_BODY),
    # The OGC API takes no geometry or file, only query parameters.
    Entry(7, "api", api("/api/collections/issues/items?bbox=113,30,114,nan"), Refused("bbox", "InvalidParameterValue", 400)),
    Entry(8, "api", api("/api/collections/issues/items?bbox=200,95,201,96"), Refused("bbox", "InvalidParameterValue", 400)),
    Entry(9, "api", api("/api/collections/issues/items?bbox=30,113,31,114"), Refused("bbox", "InvalidParameterValue", 400)),
    Entry(12, "api", api("/api/collections/issues/items?bbox=,,,"), Refused("bbox", "InvalidParameterValue", 400)),
    Entry(15, "api", api("/api/collections/issues/items?limit=1000000000"), Accepted(api_limit_clamped)),
    Entry(23, "api", api("/api/collections/issues/items?datetime=yesterday"), Refused("datetime", "InvalidParameterValue", 400)),
]  # fmt: skip

ONLY_GEOMETRY = "the OGC API is read-only and takes no geometry; its bbox rows are 7, 8, 9, 12"
NO_FILE = "the text field takes lon,lat, WKT or GeoJSON text, not a file"
NO_GEOMETRY_IN_PHOTO = "a photo carries no geometry beyond EXIF GPS (rows 25, 26)"
FILE_CRS = "a file states its CRS (GeoJSON and KML are WGS-84 by specification; others carry a .prj or CRS)"
GRID_DEFINES = "the grid file defines the town: there is no grid to fall outside of or to share"
REFERENCE_28 = (
    "two supervisors at once: tests/cases/test_workflow.py::test_a_stale_write_loses_and_history_stays_consistent"
    " and tests/cases/test_case_actions.py::test_stale_version_is_refused_and_changes_nothing"
)
EXPORT_24 = (
    "export only: tests/reporting/test_ledgers.py::test_excel_ledger_reopens_with_headers_formats_and_text_not_formulas"
    " and ::test_csv_ledger_has_bom_same_columns_and_defused_formulas"
)

NOT_APPLICABLE: dict[tuple[int, str], str] = {
    **{(row, "photo"): NO_GEOMETRY_IN_PHOTO for row in range(1, 19)},
    **{(row, "api"): ONLY_GEOMETRY for row in (1, 2, 3, 4, 5, 6, 10, 11, 13, 14, 16, 17, 18)},
    (10, "form-file"): FILE_CRS,
    (10, "import-cases"): FILE_CRS,
    (10, "import-grid"): FILE_CRS,
    (15, "import-grid"): "grid boundaries are surveyed lines that may exceed the report cap; the file size cap bounds them",
    (16, "import-grid"): GRID_DEFINES,
    (17, "import-grid"): GRID_DEFINES,
    **{(row, "form"): NO_FILE for row in (19, 20, 21, 23)},
    **{(row, "photo"): "the photo field takes images; rows 23, 25 and 26 test it" for row in (19, 20, 21, 22)},
    **{(row, "api"): "the OGC API takes no uploads" for row in (19, 20, 21, 22)},
    **{(24, way): EXPORT_24 for way in WAYS},
    **{(25, way): "only the photo field takes images" for way in WAYS if way != "photo"},
    **{(26, way): "only the photo field takes images" for way in WAYS if way != "photo"},
    (27, "preview"): "the preview stores nothing, so asking twice is harmless",
    (27, "api"): "the OGC API is read-only",
    (27, "import-grid"): "a re-import updates the cells by code: tests/ops/test_cli.py::test_import_groups_after_their_villages",
    **{(28, way): REFERENCE_28 for way in WAYS},
    (29, "import-cases"): "the CLI runs on the server as its operator: no session, no CSRF",
    (29, "import-grid"): "the CLI runs on the server as its operator: no session, no CSRF",
    (29, "api"): "the OGC API is read-only (GET) and authenticates by token or session, not a form",
    (30, "form-file"): "row 30 is a case id in a URL: the case page and its action form (way form)",
    (30, "preview"): "the preview takes no case id",
    (30, "import-cases"): "the CLI runs as the operator, who may see every case",
    (30, "import-grid"): "the CLI runs as the operator, who may see every case",
    (31, "import-cases"): "a local file: read_vector's max_bytes caps it (tests/geodata/test_io.py::test_file_over_the_size_limit_is_refused)",
    (31, "import-grid"): "a local file: read_vector's max_bytes caps it (tests/geodata/test_io.py::test_file_over_the_size_limit_is_refused)",
    (31, "api"): "the OGC API answers only GET, which has no body",
}  # fmt: skip


def test_every_row_meets_every_way_in_or_says_why_not():
    covered = {(entry.row, entry.way) for entry in TABLE}

    overlap = covered & set(NOT_APPLICABLE)
    missing = [
        (row, way)
        for row in ROWS
        for way in WAYS
        if (row, way) not in covered | set(NOT_APPLICABLE)
    ]

    assert missing == [] and overlap == set()
    assert all(reason.strip() for reason in NOT_APPLICABLE.values())
    assert len({entry.id for entry in TABLE}) == len(TABLE)


# --- The test -------------------------------------------------------------------------------------

BACKENDS = ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(scope="module", params=BACKENDS)
def town(request, tmp_path_factory, pg_url):
    """An app holding the small test town (two villages, three groups, one case with a photo)."""
    tmp = tmp_path_factory.mktemp("bad-input")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'app.sqlite3'}"
    elif not pg_url:
        pytest.skip("TEST_DATABASE_URL not set: no PostGIS server")
    else:
        reset_postgis(pg_url).dispose()
        url = pg_url
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": url,
            "PHOTO_DIR": str(tmp / "photos"),
        }
    )
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
    app.config["SEEDED"] = seed_town(app)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def env(town, tmp_path):
    """A supervisor's client on the town, and a CLI runner."""
    client = town.test_client()
    login(client, "zhangzhen")
    return Env(town, client, town.test_cli_runner(), tmp_path)


def counts(app) -> dict:
    """What is stored: rows of cases, history, photos and grid cells, and photo files."""
    with app.app_context():
        s = db.session()
        stored = {
            model.__name__: s.scalar(select(func.count()).select_from(model))
            for model in (Case, StatusChange, Photo, GridCell)
        }
        s.rollback()
    stored["photo files"] = sum(1 for p in Path(app.config["PHOTO_DIR"]).rglob("*") if p.is_file())
    return stored


@pytest.fixture
def settings(town):
    """Change settings for one test, then put them back."""
    saved = dict(town.config)
    yield town.config
    town.config.update(saved)


@pytest.mark.parametrize("entry", TABLE, ids=lambda entry: entry.id)
def test_bad_input(env, settings, entry):
    settings.update(entry.config)
    before = counts(env.app)

    answer = entry.send(env)

    assert answer.status != 500
    if isinstance(entry.expect, Refused):
        expect = entry.expect
        if entry.way.startswith("import"):
            assert answer.status == 1, answer.message
        else:
            assert 400 <= answer.status < 500, answer.message[:300]
        if expect.status:
            assert answer.status == expect.status
        assert expect.words in answer.message, answer.message[:500]
        if expect.code:
            assert answer.code == expect.code, answer.message[:300]
        if answer.status in (400, 422) and entry.way in ("form", "form-file", "photo"):
            assert KEPT in answer.body  # what was typed comes back
        assert counts(env.app) == before
    else:
        entry.expect.check(env, answer)
    assert env.client.get("/").status_code == 200  # the worker still serves


# --- Rows 14 and 31 against a real server in its own process -------------------------------------

LIVE_BODY_LIMIT = 1_000_000


@pytest.fixture(scope="module")
def live(town, tmp_path_factory):
    """The app under waitress in another process, on the town's database, limits set by environment."""
    launcher = (
        "from waitress import create_server\n"
        "from app import create_app\n"
        "server = create_server(create_app(), host='127.0.0.1', port=0, threads=2)\n"
        "print(server.effective_port, flush=True)\n"
        "server.run()\n"
    )
    environment = {
        **os.environ,
        "DATABASE_URL": town.config["DATABASE_URL"],
        "SECRET_KEY": "live-test",
        "PHOTO_DIR": town.config["PHOTO_DIR"],
        "MAX_CONTENT_LENGTH": str(LIVE_BODY_LIMIT),  # text, as every environment variable is
    }
    log = tmp_path_factory.mktemp("live") / "server.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-c", launcher],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    port = server.stdout.readline().strip()
    assert port, log.read_text()
    yield server, f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)
    server.stdout.close()


@pytest.fixture
def http(live):
    """A requests session on the live server, logged in as the supervisor through the login form."""
    _server, base = live
    with requests.Session() as session:
        token = _token(session.get(f"{base}/auth/login", timeout=30).text)
        session.post(
            f"{base}/auth/login",
            data={"username": "zhangzhen", "password": "demo1234", "csrf_token": token},
            timeout=30,
        )
        yield session


def _token(html: str) -> str:
    """The CSRF token of a page's form."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_row_14_deep_json_leaves_the_real_server_running(town, live, http):
    server, base = live
    token = _token(http.get(f"{base}/cases/new/issue", timeout=30).text)
    before = counts(town)

    form_answer = http.post(
        f"{base}/cases/new/issue",
        data={"csrf_token": token, "category": "dust", "geometry": DEEP, "description": KEPT},
        timeout=60,
    )
    preview_answer = http.post(
        f"{base}/cases/preview", data={"csrf_token": token, "geometry": DEEP}, timeout=60
    )
    file_answer = http.post(
        f"{base}/cases/preview",
        data={"csrf_token": token},
        files={"geofile": ("deep.geojson", feature_file(DEEP))},
        timeout=60,
    )

    assert form_answer.status_code == 422 and form_answer.headers["X-Report-Error"] == "too_deep"
    assert "嵌套" in form_answer.text and KEPT in form_answer.text
    assert preview_answer.status_code == 422 and "嵌套" in preview_answer.json()["message"]
    assert file_answer.status_code == 422 and "无法读取" in file_answer.json()["message"]
    assert counts(town) == before
    assert http.get(f"{base}/", timeout=30).status_code == 200 and server.poll() is None


def test_row_31_body_over_the_environment_limit_is_413_on_the_real_server(town, live, http):
    server, base = live
    token = _token(http.get(f"{base}/cases/new/issue", timeout=30).text)
    before = counts(town)
    big = ("big.jpg", b"x" * (LIVE_BODY_LIMIT + 1))

    form_answer = http.post(
        f"{base}/cases/new/issue",
        data={"csrf_token": token, "geometry": IN_A1},
        files={"photos": big},
        timeout=60,
    )
    preview_answer = http.post(
        f"{base}/cases/preview", data={"csrf_token": token}, files={"geofile": big}, timeout=60
    )

    assert form_answer.status_code == 413 and "上传内容超过限制" in form_answer.text
    assert preview_answer.status_code == 413
    assert preview_answer.json() == {
        "ok": False,
        "code": "too_large",
        "message": "上传内容超过限制，请减少文件数量或压缩后再试。",
    }
    assert counts(town) == before
    assert http.get(f"{base}/", timeout=30).status_code == 200 and server.poll() is None
