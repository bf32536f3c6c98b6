"""The OGC API: shape, paging and filters, permissions, tokens, bad input, and GDAL as a client."""

import json
import multiprocessing
import os
import subprocess
import sys
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app import create_app
from inspection import db, migrate
from inspection.accounts.models import ApiToken, User
from inspection.accounts.tokens import api_token_command, create_token, hash_token
from inspection.cases.access import case_scope
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.ops.demo import load_demo
from tests.conftest import login

SUPERVISOR, MEMBER = "zhangzhen", "wgy_pg01_01"


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    """An app on a SQLite file holding the demo town, with a token for the supervisor."""
    tmp = tmp_path_factory.mktemp("api")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp / 'api.sqlite3'}",
            "PHOTO_DIR": str(tmp / "photos"),
        }
    )
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
        s = db.session()
        load_demo(s, today=date(2024, 6, 1))
        _row, app.config["TEST_TOKEN"] = create_token(s, user(s, SUPERVISOR), "test")
        s.commit()
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(api_app):
    """A test client that sends nothing to authenticate."""
    return api_app.test_client()


@pytest.fixture
def auth(api_app):
    """Headers carrying the supervisor's token."""
    return {"Authorization": f"Bearer {api_app.config['TEST_TOKEN']}"}


def user(s, username: str) -> User:
    """A user by login name."""
    return s.scalar(select(User).where(User.username == username))


def count(api_app, *where) -> int:
    """Count cases in the database under some conditions."""
    with api_app.app_context():
        return db.session().scalar(select(func.count(Case.id)).where(*where))


def test_without_login_or_token_answers_401_json(client):
    response = client.get("/api/collections/issues/items")

    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.json["code"] == "Unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_landing_page_and_conformance(client, auth):
    landing = client.get("/api/", headers=auth)
    conformance = client.get("/api/conformance?f=json", headers=auth)

    assert landing.mimetype == "application/json"
    rels = {link["rel"]: link["href"] for link in landing.json["links"]}
    assert rels["self"].endswith("/api/")
    assert rels["conformance"].endswith("/api/conformance")
    assert rels["data"].endswith("/api/collections")
    classes = conformance.json["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes


def test_collections_have_crs84_extents(client, auth):
    response = client.get("/api/collections", headers=auth)

    collections = {c["id"]: c for c in response.json["collections"]}
    assert set(collections) == {"issues", "illegal_buildings", "farmland", "grid"}
    issues = collections["issues"]
    assert issues["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    min_lon, min_lat, max_lon, max_lat = issues["extent"]["spatial"]["bbox"][0]
    assert 70 < min_lon < max_lon < 140 and 15 < min_lat < max_lat < 55
    start, end = issues["extent"]["temporal"]["interval"][0]
    assert start.startswith("2022-") and start <= end
    items = [link for link in issues["links"] if link["rel"] == "items"]
    assert items[0]["type"] == "application/geo+json"
    one = client.get("/api/collections/grid", headers=auth)
    assert one.json["id"] == "grid" and one.json["extent"]["temporal"]["interval"] == [[None, None]]


def test_items_page_through_with_next_and_prev_links(api_app, client, auth):
    total = count(api_app, Case.kind == "issue")
    seen, url, pages = [], "/api/collections/issues/items?limit=7", 0

    while url:
        response = client.get(url, headers=auth)
        assert response.mimetype == "application/geo+json"
        body = response.json
        assert body["type"] == "FeatureCollection"
        assert body["numberReturned"] == len(body["features"]) <= 7
        rels = {link["rel"]: link["href"] for link in body["links"]}
        # Known for free on the last page only; left out (as the standard allows) on the others.
        assert body.get("numberMatched") == (None if "next" in rels else total)
        assert ("prev" in rels) == (pages > 0)
        seen += [f["id"] for f in body["features"]]
        url, pages = rels.get("next"), pages + 1

    assert sorted(seen) == seen and len(set(seen)) == total
    assert pages == -(-total // 7)


def test_feature_properties_and_rounded_lon_lat(client, auth):
    response = client.get("/api/collections/farmland/items?limit=1", headers=auth)

    feature = response.json["features"][0]

    props = feature["properties"]
    assert props["kind"] == "farmland" and props["id"] == feature["id"]
    assert props["status_label"] in {"待核实", "待复耕", "复耕中", "已复耕", "已验收", "不属实"}
    assert props["village_code"].startswith("PG") and props["village_name"]
    assert props["area_mu"] == pytest.approx(props["area_m2"] * 15 / 10000)
    assert len(props["found_on"]) == 10
    lon, lat = feature["geometry"]["coordinates"][0][0][:2]
    assert 100 < lon < 130 and 20 < lat < 45
    assert round(lon, 7) == lon and round(lat, 7) == lat


def test_bbox_selects_the_cases_that_intersect_it(api_app, client, auth):
    with api_app.app_context():
        cases = db.session().scalars(select(Case).where(Case.kind == "issue")).all()
        lon, lat = cases[0].point_lon, cases[0].point_lat
        box = shapely.box(lon - 0.003, lat - 0.003, lon + 0.003, lat + 0.003)
        expected = sorted(c.id for c in cases if c.geom.intersects(box))

    response = client.get(
        f"/api/collections/issues/items?bbox={','.join(map(str, box.bounds))}", headers=auth
    )

    assert sorted(f["id"] for f in response.json["features"]) == expected
    assert response.json["numberMatched"] == len(expected) >= 1


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("2022-03-01/2022-06-30", date(2022, 3, 1), date(2022, 6, 30)),
        ("../2022-04-30", date(1900, 1, 1), date(2022, 4, 30)),
        ("2023-01-01T00:00:00Z/..", date(2023, 1, 1), date(2100, 1, 1)),
    ],
)
def test_datetime_filters_found_on(api_app, client, auth, value, first, last):
    expected = count(api_app, Case.kind == "issue", Case.found_on.between(first, last))

    response = client.get(f"/api/collections/issues/items?datetime={value}", headers=auth)

    days = [date.fromisoformat(f["properties"]["found_on"]) for f in response.json["features"]]
    assert response.json["numberMatched"] == expected
    assert all(first <= day <= last for day in days)


def test_datetime_instant_matches_one_day(api_app, client, auth):
    with api_app.app_context():
        day = db.session().scalar(select(Case.found_on).where(Case.kind == "issue"))

    response = client.get(f"/api/collections/issues/items?datetime={day}", headers=auth)

    assert response.json["numberMatched"] == count(
        api_app, Case.kind == "issue", Case.found_on == day
    )


def test_status_and_village_filters(api_app, client, auth):
    with api_app.app_context():
        village = db.session().scalar(select(GridCell).where(GridCell.code == "PG01"))
        expected = count(
            api_app,
            Case.kind == "illegal_building",
            Case.village_id == village.id,
            Case.status.in_(["done", "verified"]),
        )

    response = client.get(
        "/api/collections/illegal_buildings/items?status=fixed&village=PG01", headers=auth
    )

    assert response.json["numberMatched"] == expected
    assert {f["properties"]["village_code"] for f in response.json["features"]} <= {"PG01"}


def test_item_page_and_unknown_ids(api_app, client, auth):
    with api_app.app_context():
        case_id = db.session().scalar(select(Case.id).where(Case.kind == "issue"))

    response = client.get(f"/api/collections/issues/items/{case_id}", headers=auth)
    wrong_kind = client.get(f"/api/collections/farmland/items/{case_id}", headers=auth)
    missing = client.get("/api/collections/issues/items/999999", headers=auth)
    not_a_number = client.get("/api/collections/issues/items/abc", headers=auth)
    no_collection = client.get("/api/collections/roads/items", headers=auth)

    assert response.mimetype == "application/geo+json"
    assert response.json["type"] == "Feature" and response.json["id"] == case_id
    assert {link["rel"] for link in response.json["links"]} == {"self", "collection"}
    for refused in (wrong_kind, missing, not_a_number, no_collection):
        assert refused.status_code == 404 and refused.json["code"] == "NotFound"


def test_grid_member_sees_only_his_group(api_app, client):
    login(client, MEMBER)
    with api_app.app_context():
        member = user(db.session(), MEMBER)
        mine = count(api_app, Case.kind == "issue", case_scope(member))
        other = db.session().scalar(
            select(Case.id).where(Case.kind == "issue", ~case_scope(member))
        )

    issues = client.get("/api/collections/issues/items?limit=1000")
    grid = client.get("/api/collections/grid/items")
    refused = client.get(f"/api/collections/issues/items/{other}")

    assert issues.status_code == 200 and issues.json["numberMatched"] == mine
    assert {f["properties"]["group_code"] for f in issues.json["features"]} <= {"PG01-01"}
    assert [f["properties"]["code"] for f in grid.json["features"]] == ["PG01-01"]
    assert grid.json["features"][0]["properties"]["parent_code"] == "PG01"
    assert refused.status_code == 404


def test_supervisor_sees_the_whole_grid(api_app, client, auth):
    with api_app.app_context():
        cells = db.session().scalar(select(func.count(GridCell.id)))

    response = client.get("/api/collections/grid/items", headers=auth)

    assert response.json["numberMatched"] == cells
    levels = {f["properties"]["level"] for f in response.json["features"]}
    assert levels == {"town", "village", "group"}


def test_revoked_and_unknown_tokens_are_refused(api_app, client):
    with api_app.app_context():
        s = db.session()
        row, token = create_token(s, user(s, SUPERVISOR), "to revoke")
        s.commit()
        row_id = row.id
    headers = {"Authorization": f"Bearer {token}"}
    before = client.get("/api/collections", headers=headers)

    result = api_app.test_cli_runner().invoke(api_token_command, ["revoke", str(row_id)])
    after = client.get("/api/collections", headers=headers)

    assert before.status_code == 200
    assert result.exit_code == 0, result.output
    assert after.status_code == 401 and after.json["code"] == "Unauthorized"
    for header in ("Bearer nonsense", "Basic emhhbmd6aGVuOmRlbW8xMjM0", "Bearer"):
        assert client.get("/api/", headers={"Authorization": header}).status_code == 401
    with api_app.app_context():
        assert db.session().get(ApiToken, row_id).last_used_at is not None


def test_token_command_prints_a_token_stored_only_hashed(api_app, client):
    result = api_app.test_cli_runner().invoke(
        api_token_command, ["create", SUPERVISOR, "--name", "QGIS"]
    )

    token = result.stdout.strip().splitlines()[-1]
    assert result.exit_code == 0, result.output
    with api_app.app_context():
        row = db.session().scalar(select(ApiToken).where(ApiToken.name == "QGIS"))
        assert row.token_hash == hash_token(token) != token
    response = client.get("/api/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    unknown = api_app.test_cli_runner().invoke(
        api_token_command, ["create", "nobody", "--name", "x"]
    )
    assert unknown.exit_code == 1


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=abc",
        "offset=-1",
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=114,30,113,31",
        "bbox=113,30,114,nan",
        "datetime=yesterday",
        "datetime=2022-05-01/2022-01-01",
        "datetime=2022-01-01/2022-02-01/2022-03-01",
        "datetime=..",
        "status=nope",
        "village=XX99",
        "colour=red",
        "f=html",
    ],
)
def test_bad_parameters_answer_400_json(client, auth, query):
    response = client.get(f"/api/collections/issues/items?{query}", headers=auth)

    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert set(response.json) == {"code", "description"}


def test_grid_refuses_case_filters_and_large_limits_are_clamped(client, auth):
    refused = client.get("/api/collections/grid/items?status=open", headers=auth)
    clamped = client.get("/api/collections/grid/items?limit=5000", headers=auth)

    assert refused.status_code == 400
    next_links = [link for link in clamped.json["links"] if link["rel"] == "next"]
    assert clamped.status_code == 200 and next_links == []
    self_link = next(link for link in clamped.json["links"] if link["rel"] == "self")
    assert parse_qs(urlsplit(self_link["href"]).query)["limit"] == ["1000"]


def _serve(database_url: str, ports) -> None:
    """Serve an app on the database over HTTP on a free local port, announced on `ports`."""
    app = create_app({"SECRET_KEY": "test", "DATABASE_URL": database_url})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    ports.put(server.server_port)
    server.serve_forever()


@pytest.fixture
def live_url(api_app):
    """The app served over HTTP while the test runs, in a process of its own.

    Not a thread: pyogrio reads features with the GIL held, so a server thread in this
    process could never answer GDAL's page requests.
    """
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    server = context.Process(target=_serve, args=(api_app.config["DATABASE_URL"], ports))
    server.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=60)}/api"
    finally:
        server.terminate()
        server.join()
        ports.close()


# GDAL's OGC API client runs in a process of its own, as QGIS would: the app's processes keep GDAL
# to the few file drivers they read (geodata.gdal_guard), so OAPIF is not registered in this one.
OAPIF_CLIENT = """
import json, sys, warnings
import pyogrio
warnings.simplefilter("ignore")
url, layer = "OAPIF:" + sys.argv[1], sys.argv[2]
bbox = tuple(float(x) for x in sys.argv[3].split(",")) if len(sys.argv) > 3 else None
layers = sorted(str(name) for name in pyogrio.list_layers(url)[:, 0])
frame = pyogrio.read_dataframe(url, layer=layer, bbox=bbox)
rows = [
    {**{k: str(v) for k, v in r.items() if k != "geometry"}, "wkt": r["geometry"].wkt}
    for r in frame.to_dict("records")
]
print(json.dumps({"layers": layers, "crs": frame.crs.to_epsg(), "rows": rows}))
"""


def read_with_gdal_oapif(url: str, token: str, layer: str, bbox=None) -> dict:
    """Read the API with GDAL's OAPIF driver in a fresh Python process; the token as a bearer.

    GDAL_HTTP_HEADERS does not reach the OAPIF driver: its own HEADERS (Accept) option replaces
    the config option in cpl_http. GDAL_HTTP_AUTH=BEARER (GDAL >= 3.9) adds the header instead.
    """
    env = {**os.environ, "GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token}
    done = subprocess.run(
        [sys.executable, "-c", OAPIF_CLIENT, url, layer, *([",".join(map(str, bbox))] if bbox else [])],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_gdal_oapif_driver_reads_the_api(api_app, live_url):
    with api_app.app_context():
        issues = db.session().scalars(select(Case).where(Case.kind == "issue")).all()
        expected = {c.id: (c.status, c.title, c.village.code, c.found_on, c.geom) for c in issues}

    read = read_with_gdal_oapif(live_url, api_app.config["TEST_TOKEN"], "issues")

    assert set(read["layers"]) == {"issues", "illegal_buildings", "farmland", "grid"}
    assert sorted(int(row["id"]) for row in read["rows"]) == sorted(expected)
    assert read["crs"] == 4326
    for row in read["rows"][:5]:
        status, title, village_code, found_on, geom = expected[int(row["id"])]
        assert (row["status"], row["title"], row["village_code"]) == (status, title, village_code)
        assert row["found_on"][:10] == found_on.isoformat()
        assert shapely.from_wkt(row["wkt"]).distance(geom) < 1e-6


def test_landing_links_an_openapi_definition_and_docs(client, auth):
    landing = client.get("/api/", headers=auth)
    links = {link["rel"]: link for link in landing.json["links"]}

    desc = client.get(urlsplit(links["service-desc"]["href"]).path, headers=auth)
    doc = client.get(urlsplit(links["service-doc"]["href"]).path, headers=auth)
    anonymous = client.get(urlsplit(links["service-desc"]["href"]).path)

    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["service-doc"]["type"] == "text/html"
    assert desc.status_code == 200
    assert desc.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document = json.loads(desc.get_data(as_text=True))
    assert document["openapi"].startswith("3.0.")
    assert document["servers"][0]["url"].endswith("/api")
    assert set(document["paths"]) == {
        "/",
        "/conformance",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
    }
    parameters = document["components"]["parameters"]
    items = document["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    names = {parameters[ref["$ref"].rsplit("/", 1)[-1]]["name"] for ref in items}
    assert {"bbox", "datetime", "limit", "offset", "collectionId"} <= names
    assert parameters["collectionId"]["schema"]["enum"] == [
        "issues",
        "illegal_buildings",
        "farmland",
        "grid",
    ]
    assert doc.status_code == 200 and doc.mimetype == "text/html"
    assert "/collections/{collectionId}/items" in doc.get_data(as_text=True)
    assert anonymous.status_code == 401


def test_grid_accepts_datetime_and_filters_nothing(api_app, client, auth):
    with api_app.app_context():
        cells = db.session().scalar(select(func.count(GridCell.id)))

    interval = client.get(
        "/api/collections/grid/items?datetime=2022-01-01/2022-12-31", headers=auth
    )
    instant = client.get("/api/collections/grid/items?datetime=1999-01-01", headers=auth)
    bad = client.get("/api/collections/grid/items?datetime=yesterday", headers=auth)

    assert interval.status_code == 200 and interval.json["numberMatched"] == cells
    assert instant.status_code == 200 and instant.json["numberMatched"] == cells
    assert bad.status_code == 400 and bad.json["code"] == "InvalidParameterValue"


def _triangle_case(session):
    """A farmland triangle whose bounding box reaches where the triangle does not."""
    from inspection.cases.records import create_case

    member = session.scalar(select(User).where(User.username == "wgy"))
    triangle = shapely.Polygon([(113.0020, 30.0000), (113.0026, 30.0000), (113.0020, 30.0006)])
    case, _ = create_case(
        session, "farmland", triangle, {"title": "三角"}, member, found_on=date(2022, 7, 1)
    )
    session.flush()
    return case


@pytest.mark.parametrize(
    "box",
    [
        (113.0024, 30.0004, 113.0027, 30.0007),  # in the triangle's box, outside the triangle
        (113.0019, 29.9999, 113.0021, 30.0001),  # across the triangle's corner
        (113.0000, 30.0000, 113.0012, 30.0012),
        (112.0, 29.0, 114.0, 31.0),  # everything
        (113.0030, 30.0010, 113.0030, 30.0010),  # a point on a parcel's corner
        (113.0020, 29.9990, 113.0020, 30.0001),  # a line along the triangle's edge
    ],
)
def test_bbox_in_sql_matches_shapely_on_both_backends(session, box):
    from inspection.api.features import conditions, page
    from inspection.cases.lists import box_shape
    from tests.reporting.test_ledgers import seed_cases

    seed_cases(session)
    _triangle_case(session)
    supervisor = User(username="boss", display_name="镇领导", role="supervisor", password_hash="x")
    session.add(supervisor)
    session.flush()
    shape = box_shape(box)  # a point or line when the box has no width or height
    for collection, model, geom in (
        ("farmland", Case, Case.geom),
        ("issues", Case, Case.geom),
        ("grid", GridCell, GridCell.boundary),
    ):
        where = [] if model is GridCell else [Case.kind == collection.removesuffix("s")]
        rows = session.execute(select(model.id, geom).where(*where)).all()
        expected = sorted(row_id for row_id, g in rows if g.intersects(shape))
        args = {"bbox": box, "offset": 0, "limit": 1000}
        matched, found, more = page(
            session, collection, conditions(session, supervisor, collection, args), args
        )
        args = {"bbox": box, "offset": 1, "limit": 1}
        _, second, _ = page(
            session, collection, conditions(session, supervisor, collection, args), args
        )

        assert matched == len(expected) and not more and [r.id for r in found] == expected, collection
        assert [r.id for r in second] == expected[1:2], collection


def test_gdal_oapif_reads_with_bbox_and_the_grid(api_app, live_url):
    with api_app.app_context():
        s = db.session()
        farmland = s.scalars(select(Case).where(Case.kind == "farmland")).all()
        lon, lat = farmland[0].point_lon, farmland[0].point_lat
        box = (lon - 0.004, lat - 0.004, lon + 0.004, lat + 0.004)
        expected = sorted(c.id for c in farmland if c.geom.intersects(shapely.box(*box)))
        cells = sorted(s.scalars(select(GridCell.id)).all())

    token = api_app.config["TEST_TOKEN"]
    near = read_with_gdal_oapif(live_url, token, "farmland", box)["rows"]
    grid = read_with_gdal_oapif(live_url, token, "grid")["rows"]

    assert sorted(int(row["id"]) for row in near) == expected and expected
    assert sorted(int(row["id"]) for row in grid) == cells
    assert {row["level"] for row in grid} == {"town", "village", "group"}
