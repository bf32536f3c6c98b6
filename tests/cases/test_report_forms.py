"""Field reporting: who sees which report views, the forms per kind, and every bad input row."""

import io
import json
import re
import uuid
from urllib.parse import unquote, urlencode

import pytest
import shapely
from PIL import Image
from sqlalchemy import func, select

from geodata.crs import wgs84_to_gcj02
from inspection import db
from inspection.accounts.models import User
from inspection.cases.models import Case, Photo
from inspection.cases.photos import attach_photos, process_photo
from inspection.cases.records import create_case
from inspection.grid.models import GridCell
from tests.conftest import csrf_token, login

# The town: village A (groups A1 | A2 sharing lon 113.005) and village B (group B1), lon/lat degrees.
CELLS = [
    ("town", "PG", "平岗镇", None, (113.000, 30.000, 113.020, 30.010)),
    ("village", "PG01", "平岗村", "PG", (113.000, 30.000, 113.010, 30.010)),
    ("village", "PG02", "石桥村", "PG", (113.010, 30.000, 113.020, 30.010)),
    ("group", "PG01-01", "一组", "PG01", (113.000, 30.000, 113.005, 30.010)),
    ("group", "PG01-02", "二组", "PG01", (113.005, 30.000, 113.010, 30.010)),
    ("group", "PG02-01", "三组", "PG02", (113.010, 30.000, 113.020, 30.010)),
]
USERS = {  # username: (role, cell code or None)
    "wgy_a1": ("grid_member", "PG01-01"),
    "wgy_a2": ("grid_member", "PG01-02"),
    "cz_a": ("grid_member", "PG01"),
    "cz_b": ("grid_member", "PG02"),
    "liuwei": ("officer", None),
    "zhangzhen": ("supervisor", "PG"),
    "admin": ("admin", None),
}
IN_A1 = "113.0025,30.0050"
SQUARE_A1 = (
    "POLYGON ((113.001 30.001, 113.002 30.001, 113.002 30.002, 113.001 30.002, 113.001 30.001))"
)


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), exif=None) -> bytes:
    """A small JPEG, optionally with EXIF."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", **({"exif": exif} if exif else {}))
    return out.getvalue()


def seed_town(app) -> dict:
    """Store the grid, the users (password demo1234) and one case in A1 with a photo."""
    with app.app_context():
        s = db.session()
        cells: dict[str, GridCell] = {}
        for level, code, name, parent, box in CELLS:
            cell = GridCell(level=level, code=code, name=name, parent=cells.get(parent))
            cell.set_boundary(shapely.box(*box))
            s.add(cell)
            cells[code] = cell
        template = User()
        template.set_password("demo1234")
        users = {}
        for i, (username, (role, code)) in enumerate(USERS.items()):
            user = User(
                username=username,
                display_name=f"用户{i}",
                role=role,
                phone=f"1380000000{i}",
                password_hash=template.password_hash,
            )
            user.cells = [cells[code]] if code else []
            s.add(user)
            users[username] = user
        s.flush()
        case, _ = create_case(
            s,
            "issue",
            shapely.Point(113.0025, 30.005),
            {"title": "河边垃圾", "category": "garbage"},
            users["wgy_a1"],
            client_id="seed-case-0001",
        )
        photo = process_photo(jpeg_bytes(), filename="seed.jpg")
        attach_photos(s, case, [photo], app.config["PHOTO_DIR"], users["wgy_a1"])
        s.commit()
        return {"case": case.id, "photo": case.photos[0].id}


@pytest.fixture
def town(app):
    """The seeded town's case and photo ids."""
    return seed_town(app)


def count_cases(app) -> int:
    """How many cases the database holds."""
    with app.app_context():
        return db.session.scalar(select(func.count(Case.id)))


def last_case(app) -> Case:
    """The newest case, with its photos loaded."""
    with app.app_context():
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        _ = case.photos, case.group
        return case


def post_report(client, kind="issue", files=None, **fields):
    """Post a report form with a fresh client id and the page's CSRF token."""
    data = {
        "csrf_token": csrf_token(client, f"/cases/new/{kind}"),
        "client_id": str(uuid.uuid4()),
        "source": "patrol",
        "crs": "EPSG:4326",
        **({"category": "garbage"} if kind == "issue" else {}),
        **fields,
    }
    data.update(files or {})
    return client.post(f"/cases/new/{kind}", data=data, content_type="multipart/form-data")


def geojson_file(obj, name="shape.geojson"):
    """An uploaded GeoJSON file."""
    text = obj if isinstance(obj, str) else json.dumps(obj)
    return {"geofile": (io.BytesIO(text.encode()), name)}


def reason(response) -> str:
    """The refusal reason the server put in the response header."""
    return unquote(response.headers.get("X-Report-Message", ""))


# --- Who may see what ---------------------------------------------------------------------------

VIEWS = ["list", "new", "detail", "photo_full", "photo_thumb", "grid", "token"]
EXPECTED = {
    None: dict.fromkeys(VIEWS, 302),
    "wgy_a1": dict.fromkeys(VIEWS, 200),
    "wgy_a2": {**dict.fromkeys(VIEWS, 200), "detail": 404, "photo_full": 404, "photo_thumb": 404},
    "cz_a": dict.fromkeys(VIEWS, 200),
    "cz_b": {**dict.fromkeys(VIEWS, 200), "detail": 404, "photo_full": 404, "photo_thumb": 404},
    "liuwei": dict.fromkeys(VIEWS, 200),
    "zhangzhen": dict.fromkeys(VIEWS, 200),
    "admin": dict.fromkeys(VIEWS, 200),
}


def view_url(view: str, ids: dict) -> str:
    """The URL of a report view for the seeded case."""
    c, p = ids["case"], ids["photo"]
    return {
        "list": "/cases",
        "new": "/cases/new/issue",
        "detail": f"/cases/{c}",
        "photo_full": f"/cases/{c}/photos/{p}/full.jpg",
        "photo_thumb": f"/cases/{c}/photos/{p}/thumb.jpg",
        "grid": "/cases/grid.json",
        "token": "/cases/csrf",
    }[view]


@pytest.mark.parametrize("user", list(EXPECTED), ids=lambda u: u or "anonymous")
@pytest.mark.parametrize("view", VIEWS)
def test_role_by_view(app, client, town, user, view):
    if user:
        login(client, user)

    response = client.get(view_url(view, town))

    assert response.status_code == EXPECTED[user][view]
    if response.status_code == 302:
        assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "user,visible",
    [("wgy_a1", True), ("wgy_a2", False), ("cz_a", True), ("cz_b", False), ("zhangzhen", True)],
)
def test_list_shows_only_visible_cases(app, client, town, user, visible):
    login(client, user)

    html = client.get("/cases").get_data(as_text=True)

    assert ("河边垃圾" in html) is visible


def test_photo_of_another_case_is_404(app, client, town):
    login(client, "zhangzhen")
    with app.app_context():
        other, _ = create_case(
            db.session(),
            "issue",
            shapely.Point(113.015, 30.005),
            {"title": "x", "category": "dust"},
            None,
            client_id="other-case-1",
        )
        db.session.commit()
        other_id = other.id

    response = client.get(f"/cases/{other_id}/photos/{town['photo']}/full.jpg")

    assert response.status_code == 404


def test_unknown_kind_is_404(app, client, town):
    login(client, "wgy_a1")

    assert client.get("/cases/new/spaceship").status_code == 404


def test_grid_member_cannot_report_in_another_group(app, client, town):
    login(client, "wgy_a2")

    response = post_report(client, geometry=IN_A1)

    assert response.status_code == 422
    assert "不在您负责的网格内" in reason(response) and "用户0" in reason(response)
    assert count_cases(app) == 1


# --- One form per kind ----------------------------------------------------------------------------


def test_issue_report_is_placed_and_redirects_to_its_page(app, client, town):
    login(client, "wgy_a1")

    response = post_report(client, geometry=IN_A1, description="河道边堆放生活垃圾")

    assert response.status_code == 303
    case = last_case(app)
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert (case.kind, case.category, case.group.name, case.status) == (
        "issue",
        "garbage",
        "一组",
        "reported",
    )
    assert case.title == "垃圾乱堆乱放"  # made from the category when left empty
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "平岗村" in page and "一组" in page and "河道边堆放生活垃圾" in page


def test_superior_issue_keeps_document_number_and_deadline(app, client, town):
    login(client, "zhangzhen")

    post_report(
        client,
        geometry=IN_A1,
        source="superior",
        doc_number="平环督〔2022〕5号",
        batch="第3批",
        deadline_on="2030-06-30",
        title="上级交办",
    )

    case = last_case(app)
    assert (case.source, case.doc_number, case.batch, str(case.deadline_on)) == (
        "superior",
        "平环督〔2022〕5号",
        "第3批",
        "2030-06-30",
    )


def test_building_form_stores_its_ledger_fields_and_geodesic_area(app, client, town):
    login(client, "wgy_a1")

    response = post_report(
        client,
        "illegal_building",
        geometry=SQUARE_A1,
        party="李四",
        structure="steel",
        floors="2",
        building_area_m2="180.5",
        land_type="基本农田",
    )

    assert response.status_code == 303
    case = last_case(app)
    assert (case.party, case.structure, case.floors, case.building_area_m2) == (
        "李四",
        "steel",
        2,
        180.5,
    )
    assert case.title == "违法建筑 · 李四"
    assert case.area_m2 == pytest.approx(10_695.7, rel=1e-3)  # 0.001° square at 30°N


def test_building_as_point_needs_stated_area(app, client, town):
    login(client, "wgy_a1")

    refused = post_report(client, "illegal_building", geometry=IN_A1, party="李四")
    accepted = post_report(client, "illegal_building", geometry=IN_A1, stated_area_m2="120")

    assert refused.status_code == 422 and "占地面积" in refused.get_data(as_text=True)
    assert 'name="party" type="text" value="李四"' in refused.get_data(as_text=True)
    assert accepted.status_code == 303 and last_case(app).area_m2 == 120


def test_farmland_form_needs_a_polygon(app, client, town):
    login(client, "wgy_a1")

    point = post_report(client, "farmland", geometry=IN_A1, parcel_no="TB-001")
    parcel = post_report(client, "farmland", geometry=SQUARE_A1, parcel_no="TB-001", crop="水稻")

    assert point.status_code == 422 and "复耕地块必须是面" in point.get_data(as_text=True)
    assert parcel.status_code == 303
    case = last_case(app)
    assert (case.kind, case.parcel_no, case.crop, case.title) == (
        "farmland",
        "TB-001",
        "水稻",
        "复耕地块 TB-001",
    )


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"category": ""}, "Choose a category."),
        ({"found_on": "2999-01-01"}, "This date lies in the future."),
        ({"found_on": "2022-05-01", "deadline_on": "2022-04-01"}, "The deadline lies before"),
    ],
)
def test_rejected_form_keeps_everything_entered(app, client, town, fields, message):
    login(client, "wgy_a1")
    client.get("/?lang=en")

    response = post_report(client, geometry=SQUARE_A1, description="保留这段描述", **fields)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "保留这段描述" in html and "113.001 30.001" in html
    assert count_cases(app) == 1


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e999"])
def test_building_numbers_must_be_finite_and_positive(app, client, town, value):
    login(client, "wgy_a1")

    response = post_report(client, "illegal_building", geometry=SQUARE_A1, building_area_m2=value)

    assert response.status_code == 422
    assert count_cases(app) == 1


def test_form_page_is_chinese_by_default_and_english_on_switch(app, client, town):
    login(client, "wgy_a1")

    english = client.get("/cases/new/farmland?lang=en").get_data(as_text=True)

    assert "Use my location" in english and "Parcel no." in english
    assert 'data-kind="farmland"' in english


def test_preview_names_village_group_member_and_area(app, client, town):
    login(client, "wgy_a1")
    token = csrf_token(client, "/cases/new/farmland")

    answer = client.post(
        "/cases/preview", data={"csrf_token": token, "kind": "farmland", "geometry": SQUARE_A1}
    ).get_json()

    assert answer["ok"] and (answer["village"], answer["group"]) == ("平岗村", "一组")
    assert answer["responsible"]["name"] == "用户0"
    assert answer["area_mu"] == pytest.approx(answer["area_m2"] * 15 / 10000)


def test_preview_refuses_with_reason_in_the_ui_language(app, client, town):
    login(client, "wgy_a1")
    token = csrf_token(client, "/cases/new/issue")

    zh = client.post("/cases/preview", data={"csrf_token": token, "geometry": "114.5,31.5"})
    client.get("/?lang=en")
    en = client.post("/cases/preview", data={"csrf_token": token, "geometry": "114.5,31.5"})

    assert zh.status_code == en.status_code == 422
    assert "不在本镇" in zh.get_json()["message"]
    assert "outside every grid group" in en.get_json()["message"]


def test_preview_offers_the_features_of_a_file_to_pick(app, client, town):
    login(client, "wgy_a1")
    token = csrf_token(client, "/cases/new/farmland")
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": f"图斑{i}"},
                "geometry": shapely.geometry.mapping(
                    shapely.box(113.001 + i / 1e4, 30.001, 113.00105 + i / 1e4, 30.0011)
                ),
            }
            for i in range(3)
        ],
    }

    answer = client.post(
        "/cases/preview",
        data={"csrf_token": token, "kind": "farmland", **geojson_file(collection)},
        content_type="multipart/form-data",
    ).get_json()
    picked = client.post(
        "/cases/preview",
        data={
            "csrf_token": token,
            "kind": "farmland",
            "geometry_pick": answer["features"][1]["geojson"],
        },
    ).get_json()

    assert answer["choose"] and [f["label"] for f in answer["features"]] == [
        "1. 图斑0",
        "2. 图斑1",
        "3. 图斑2",
    ]
    assert picked["ok"] and picked["group"] == "一组"


def test_form_with_a_many_feature_file_offers_a_choice_then_saves_the_pick(app, client, town):
    login(client, "wgy_a1")
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": n},
                "geometry": shapely.geometry.mapping(
                    shapely.box(113.001, 30.001 + i / 1e3, 113.002, 30.0015 + i / 1e3)
                ),
            }
            for i, n in enumerate(["甲", "乙"])
        ],
    }

    first = post_report(client, "farmland", files=geojson_file(collection), parcel_no="TB-9")
    picks = re.findall(r'name="geometry_pick" value="([^"]+)"', first.get_data(as_text=True))
    second = post_report(
        client, "farmland", parcel_no="TB-9", geometry_pick=picks[1].replace("&#34;", '"')
    )

    assert first.status_code == 422 and len(picks) == 2 and "TB-9" in first.get_data(as_text=True)
    assert second.status_code == 303
    assert last_case(app).geom.bounds[1] == pytest.approx(30.002)


@pytest.mark.parametrize(
    "name,make",
    [
        ("parcel.kml", "kml"),
        ("parcel.zip", "shp"),
        ("parcel.gpkg", "gpkg"),
    ],
)
def test_form_takes_a_kml_shapefile_or_geopackage(app, client, town, tmp_path, name, make):
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"name": ["图斑"]}, geometry=[shapely.box(113.001, 30.001, 113.002, 30.002)], crs=4326
    )
    path = tmp_path / name
    if make == "shp":
        import zipfile

        frame.to_file(tmp_path / "parcel.shp", engine="pyogrio")
        with zipfile.ZipFile(path, "w") as archive:
            for part in tmp_path.glob("parcel.*"):
                if part.suffix != ".zip":
                    archive.write(part, part.name)
    else:
        frame.to_file(path, driver={"kml": "KML", "gpkg": "GPKG"}[make], engine="pyogrio")
    login(client, "wgy_a1")

    response = post_report(
        client, "farmland", files={"geofile": (io.BytesIO(path.read_bytes()), name)}
    )

    assert response.status_code == 303, reason(response)
    assert last_case(app).area_m2 == pytest.approx(10_695.7, rel=1e-3)


# --- BAD_INPUT rows 1–18: through the pasted-text field and through an uploaded GeoJSON file --------

P = (113.0025, 30.005)  # a point in group A1


def poly(*ring, z=False):
    """A GeoJSON Polygon from lon/lat pairs."""
    return {"type": "Polygon", "coordinates": [[[*c, 10.0] if z else list(c) for c in ring]]}


SQ = [(113.001, 30.001), (113.002, 30.001), (113.002, 30.002), (113.001, 30.002), (113.001, 30.001)]
BOWTIE = [
    (113.001, 30.001),
    (113.002, 30.002),
    (113.002, 30.001),
    (113.001, 30.002),
    (113.001, 30.001),
]
REFUSED = [
    # (row, geometry, code expected via text, words of the Chinese reason)
    (1, poly(*BOWTIE), "self_intersection", "自相交"),
    (2, poly(*SQ[:-1], (113.0011, 30.0011)), "ring_not_closed", "没有闭合"),
    (
        3,
        poly((113.001, 30.001), (113.002, 30.002), (113.001, 30.001), (113.001, 30.001)),
        "too_few_points",
        "面至少需要3个不同顶点",
    ),
    (
        4,
        {
            "type": "Polygon",
            "coordinates": [
                [list(c) for c in SQ],
                [[113.003, 30.003], [113.004, 30.003], [113.004, 30.004], [113.003, 30.003]],
            ],
        },
        "hole_outside_shell",
        "内洞",
    ),
    (
        5,
        poly((113.001, 30.001), (113.002, 30.001), (113.003, 30.001), (113.001, 30.001)),
        "zero_area",
        "面积为0",
    ),
    (
        6,
        {
            "type": "MultiPolygon",
            "coordinates": [
                [[list(c) for c in SQ]],
                [
                    [
                        [113.0015, 30.0015],
                        [113.0025, 30.0015],
                        [113.0025, 30.0025],
                        [113.0015, 30.0025],
                        [113.0015, 30.0015],
                    ]
                ],
            ],
        },
        "overlapping_parts",
        "重叠",
    ),
    (7, '{"type": "Point", "coordinates": [NaN, 30.005]}', "non_finite", "非数值"),
    (8, "200,95", "out_of_range", "超出范围"),
    (9, "30.005,113.0025", "swapped_lonlat", "写反"),
    (12, {"type": "Polygon", "coordinates": []}, "empty", "为空"),
    (
        14,
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": list(P)}]},
        "unsupported_type",
        "不支持",
    ),
    (
        14,
        '{"type": "Polygon", "coordinates": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "too_deep",
        "嵌套",
    ),
    (16, "114.5,31.5", "outside_grid", "不在本镇"),
]


def as_text(geometry) -> str:
    return geometry if isinstance(geometry, str) else json.dumps(geometry)


@pytest.mark.parametrize(
    "row,geometry,code,words", REFUSED, ids=[f"row{r[0]}-{r[2]}" for r in REFUSED]
)
def test_bad_geometry_text_is_refused_with_its_reason(
    app, client, town, row, geometry, code, words
):
    login(client, "zhangzhen")

    response = post_report(client, geometry=as_text(geometry), description="保留")

    assert response.status_code == 422
    assert response.headers["X-Report-Error"] == code
    html = response.get_data(as_text=True)
    assert words in html and "保留" in html
    assert count_cases(app) == 1


@pytest.mark.parametrize(
    "row,geometry,code,words", REFUSED, ids=[f"row{r[0]}-{r[2]}" for r in REFUSED]
)
def test_bad_geometry_file_is_refused_with_a_reason(app, client, town, row, geometry, code, words):
    login(client, "zhangzhen")
    if isinstance(geometry, str) and not geometry.startswith("{"):
        lon, lat = (float(v) for v in geometry.split(","))
        geometry = {"type": "Point", "coordinates": [lon, lat]}
    text = as_text(geometry)
    feature = '{"type": "Feature", "properties": {}, "geometry": ' + text + "}"

    response = post_report(client, files=geojson_file(feature), description="保留")

    assert response.status_code == 422, row
    assert reason(response) and "保留" in response.get_data(as_text=True)
    assert count_cases(app) == 1


def test_row_5_diagonal_collinear_ring_is_refused(app, client, town):
    login(client, "zhangzhen")
    diagonal = poly((113.001, 30.001), (113.002, 30.002), (113.003, 30.003), (113.001, 30.001))

    response = post_report(client, geometry=json.dumps(diagonal))

    assert response.status_code == 422


def test_row_2_nearly_closed_ring_is_closed(app, client, town):
    login(client, "zhangzhen")
    ring = [*SQ[:-1], (113.001 + 1e-9, 30.001)]

    response = post_report(client, geometry=json.dumps(poly(*ring)))

    assert response.status_code == 303
    assert last_case(app).geom.exterior.coords[0] == last_case(app).geom.exterior.coords[-1]


@pytest.mark.parametrize("via", ["text", "file"])
def test_row_10_gcj02_point_is_converted_to_wgs84(app, client, town, via):
    login(client, "zhangzhen")
    gcj_lon, gcj_lat = wgs84_to_gcj02(*P)

    if via == "text":
        response = post_report(client, geometry=f"{gcj_lon},{gcj_lat}", crs="GCJ02")
    else:  # a file is WGS-84 by its format: the picked point is what is stored
        response = post_report(
            client, files=geojson_file({"type": "Point", "coordinates": list(P)})
        )

    assert response.status_code == 303
    stored = last_case(app).geom
    assert (stored.x, stored.y) == pytest.approx(P, abs=1e-7)


def test_row_10_unknown_crs_is_refused(app, client, town):
    login(client, "zhangzhen")

    response = post_report(client, geometry=IN_A1, crs="EPSG:3857")

    assert response.status_code == 422 and response.headers["X-Report-Error"] == "bad_crs"


@pytest.mark.parametrize("via", ["text", "file"])
def test_row_11_legacy_crs_member_in_metres_is_honoured(app, client, town, via):
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(*P)
    geometry = {
        "type": "Point",
        "coordinates": [x, y],
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
    }
    login(client, "zhangzhen")

    if via == "text":
        response = post_report(client, geometry=json.dumps(geometry))
    else:
        collection = {
            "type": "FeatureCollection",
            "crs": geometry.pop("crs"),
            "features": [{"type": "Feature", "properties": {}, "geometry": geometry}],
        }
        response = post_report(client, files=geojson_file(collection))

    assert response.status_code == 303, reason(response)
    stored = last_case(app).geom
    assert (stored.x, stored.y) == pytest.approx(P, abs=1e-6)


@pytest.mark.parametrize("via", ["text", "file"])
def test_row_13_z_is_dropped(app, client, town, via):
    login(client, "zhangzhen")
    geometry = poly(*SQ, z=True)

    if via == "text":
        response = post_report(client, geometry=json.dumps(geometry))
    else:
        response = post_report(client, files=geojson_file(geometry))

    assert response.status_code == 303
    assert not last_case(app).geom.has_z


@pytest.mark.parametrize("via", ["text", "file"])
def test_row_15_too_many_vertices_is_refused(app, client, town, via):
    app.config["MAX_VERTICES"] = 100
    ring = [(113.001 + 0.001 * i / 150, 30.001 + 0.0005 * (i % 2)) for i in range(150)]
    ring = [*ring, (113.002, 30.003), (113.001, 30.003), ring[0]]
    login(client, "zhangzhen")

    if via == "text":
        response = post_report(client, geometry=json.dumps(poly(*ring)))
    else:
        response = post_report(client, files=geojson_file(poly(*ring)))

    assert response.status_code == 422
    assert "顶点过多" in reason(response)


def test_row_15_a_million_vertices_is_refused_quickly(app, client, town):
    import time

    login(client, "zhangzhen")
    text = "POLYGON ((" + ", ".join(f"113.{i:07d} 30.001" for i in range(1_000_000)) + "))"
    started = time.perf_counter()

    body = urlencode(
        {"csrf_token": csrf_token(client, "/cases/new/issue"), "category": "dust", "geometry": text}
    )  # sent as bytes: the test client would spool a multipart body to a temporary file

    response = client.post(
        "/cases/new/issue", data=body.encode(), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code in (413, 422)
    assert time.perf_counter() - started < 10
    assert count_cases(app) == 1


@pytest.mark.parametrize("via", ["text", "file"])
def test_row_17_point_on_a_shared_boundary_goes_to_one_group_every_time(app, client, town, via):
    login(client, "zhangzhen")
    on_edge = {"type": "Point", "coordinates": [113.005, 30.005]}

    groups = set()
    for _ in range(3):
        if via == "text":
            response = post_report(client, geometry="113.005,30.005")
        else:
            response = post_report(client, files=geojson_file(on_edge))
        assert response.status_code == 303
        groups.add(last_case(app).group_id)

    assert len(groups) == 1 and None not in groups


@pytest.mark.parametrize("via", ["text", "file"])
def test_row_18_clockwise_ring_has_a_positive_area(app, client, town, via):
    login(client, "zhangzhen")
    clockwise = poly(*reversed(SQ))

    if via == "text":
        response = post_report(client, "farmland", geometry=json.dumps(clockwise))
    else:
        response = post_report(client, "farmland", files=geojson_file(clockwise))

    assert response.status_code == 303
    assert last_case(app).area_m2 == pytest.approx(10_695.7, rel=1e-3)


def test_empty_location_is_refused_and_asks_for_one(app, client, town):
    login(client, "wgy_a1")

    response = post_report(client, geometry="")

    assert response.status_code == 422 and "请标注位置" in reason(response)


def test_not_a_geodata_file_is_refused_by_content(app, client, town):
    login(client, "wgy_a1")

    response = post_report(
        client, files={"geofile": (io.BytesIO(b"just text, not geodata"), "fake.geojson")}
    )

    assert response.status_code == 422 and "无法识别文件格式" in reason(response)


# --- Rows 27, 29, 30: double submit, CSRF, another group's id -------------------------------------


def test_row_27_double_submit_makes_one_case_and_the_retry_gets_the_first_answer(app, client, town):
    login(client, "wgy_a1")
    data = {
        "csrf_token": csrf_token(client, "/cases/new/issue"),
        "client_id": "double-tap-0001",
        "category": "sewage",
        "source": "patrol",
        "geometry": IN_A1,
        "photos": (io.BytesIO(jpeg_bytes()), "a.jpg"),
    }

    first = client.post(
        "/cases/new/issue",
        data=dict(data, photos=(io.BytesIO(jpeg_bytes()), "a.jpg")),
        content_type="multipart/form-data",
    )
    second = client.post(
        "/cases/new/issue",
        data=dict(data, photos=(io.BytesIO(jpeg_bytes()), "a.jpg")),
        content_type="multipart/form-data",
    )

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count_cases(app) == 2  # the seeded one and this one
    with app.app_context():
        assert db.session.scalar(select(func.count(Photo.id))) == 2


def test_row_27_retry_with_a_changed_body_still_gets_the_first_case(app, client, town):
    login(client, "wgy_a1")
    token = csrf_token(client, "/cases/new/issue")
    base = {
        "csrf_token": token,
        "client_id": "retry-00000001",
        "category": "sewage",
        "geometry": IN_A1,
    }

    first = client.post("/cases/new/issue", data=base)
    retry = client.post("/cases/new/issue", data=dict(base, geometry=""))

    assert retry.status_code == 303 and retry.headers["Location"] == first.headers["Location"]


@pytest.mark.parametrize("token", [None, "stale-or-forged-token"])
def test_row_29_missing_or_stale_csrf_is_refused_and_keeps_the_values(app, client, town, token):
    login(client, "wgy_a1")
    data = {
        "client_id": "csrf-test-0001",
        "category": "dust",
        "geometry": IN_A1,
        "description": "工地扬尘",
    }
    if token:
        data["csrf_token"] = token

    response = client.post("/cases/new/issue", data=data)

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert response.headers["X-Report-Error"] == "csrf"
    assert "表单已过期" in html and "工地扬尘" in html and IN_A1 in html
    assert re.search(r'<option selected value="dust">|<option value="dust" selected>', html)
    assert re.search(r'name="csrf_token" value="[^"]+"', html)  # a fresh token to submit again
    assert count_cases(app) == 1


def test_row_29_preview_without_token_is_a_json_400(app, client, town):
    login(client, "wgy_a1")

    response = client.post("/cases/preview", data={"geometry": IN_A1})

    assert response.status_code == 400 and response.get_json()["code"] == "csrf"


@pytest.mark.parametrize("user", ["wgy_a2", "cz_b"])
def test_row_30_another_groups_case_id_is_404(app, client, town, user):
    login(client, user)

    assert client.get(f"/cases/{town['case']}").status_code == 404
    assert client.get("/cases/999999").status_code == 404


def test_row_31_body_over_the_limit_is_413(app, client, town):
    app.config["MAX_CONTENT_LENGTH"] = 200_000
    login(client, "wgy_a1")

    response = post_report(
        client, geometry=IN_A1, files={"photos": (io.BytesIO(b"x" * 300_000), "big.jpg")}
    )

    assert response.status_code == 413
    assert count_cases(app) == 1


def test_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")

    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]


def test_case_list_filters_by_kind(app, client, town):
    login(client, "zhangzhen")
    post_report(client, "farmland", geometry=SQUARE_A1, parcel_no="TB-77")

    farmland = client.get("/cases?kind=farmland").get_data(as_text=True)
    issues = client.get("/cases?kind=issue").get_data(as_text=True)

    assert "TB-77" in farmland and "河边垃圾" not in farmland
    assert "河边垃圾" in issues and "TB-77" not in issues
