"""Acceptance with a redrawn parcel, and the demolished-area override, through the case page's forms.

Runs on SQLite and on PostGIS (with TEST_DATABASE_URL): the app is built on each backend.
"""

import json
import re
import uuid
from datetime import date

import pytest
import shapely
from markupsafe import escape
from pyproj import Geod
from sqlalchemy import func, select

from app import create_app
from geodata.crs import wgs84_to_gcj02
from inspection import db, migrate
from inspection.accounts.models import User
from inspection.cases.models import Case, StatusChange
from inspection.cases.records import create_case
from inspection.reporting.figures import year_figures
from tests.cases.test_case_actions import CERTS, after_photo, as_user, page, post
from tests.cases.test_report_forms import SQUARE_A1, seed_town

# Village A's group A1 is lon 113.000–113.005, lat 30.000–30.010 (tests/cases/test_report_forms.py).
PARCEL = shapely.from_wkt(
    "POLYGON ((113.001 30.001, 113.003 30.001, 113.003 30.003, 113.001 30.003, 113.001 30.001))"
)
# The parcel as accepted: its north-east corner moved out, as a supervisor drags a vertex.
ACCEPTED = shapely.from_wkt(
    "POLYGON ((113.001 30.001, 113.003 30.001, 113.0036 30.0034, 113.001 30.003, 113.001 30.001))"
)
GRS80 = Geod(ellps="GRS80")


def grs80_m2(geom) -> float:
    """The geodesic area (m²) of a lon/lat polygon on GRS80, by pyproj (independent of geodata)."""
    area, _perimeter = GRS80.geometry_area_perimeter(shapely.geometry.polygon.orient(geom))
    return abs(area)


def seed(app) -> dict:
    """The report-form town, two certified officers and an illegal building in group A1."""
    ids = seed_town(app)
    with app.app_context():
        s = db.session()
        db.begin_write(s)
        users = {u.username: u for u in s.scalars(select(User))}
        users["liuwei"].cert_number = CERTS["liuwei"]
        users["liuwei"].cert_expires_on = date(2099, 12, 31)
        chenjun = User(
            username="chenjun",
            display_name="陈军",
            role="officer",
            password_hash=users["liuwei"].password_hash,
            cert_number=CERTS["chenjun"],
            cert_expires_on=date(2099, 12, 31),
        )
        s.add(chenjun)
        building, _ = create_case(
            s,
            "illegal_building",
            shapely.from_wkt(SQUARE_A1),
            {"title": "违建厂房", "party": "李四"},
            users["wgy_a1"],
            client_id="seed-building-0001",
        )
        s.commit()
        ids.update(building=building.id, ids={u.username: u.id for u in [*users.values(), chenjun]})
    return ids


@pytest.fixture
def web_app(db_url, tmp_path):
    """The app on a fresh database of each backend, with the report-form town and two officers."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": db_url,
            "PHOTO_DIR": str(tmp_path / "photos"),
        }
    )
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
    app.config["IDS"] = seed(app)
    yield app
    app.extensions["db_engine"].dispose()


def done_parcel(app) -> int:
    """A farmland parcel in A1, assigned by the supervisor and reported restored by its 网格员."""
    with app.app_context():
        s = db.session()
        member = s.get(User, app.config["IDS"]["ids"]["wgy_a1"])
        case, _ = create_case(
            s,
            "farmland",
            PARCEL,
            {"title": "复耕地块 TB-01", "parcel_no": "TB-01"},
            member,
            client_id=str(uuid.uuid4()),
        )
        s.commit()
        case_id = case.id
    assert post(as_user(app, "zhangzhen"), case_id, "assign").status_code == 303
    member_client = as_user(app, "wgy_a1")
    done = post(member_client, case_id, "complete", files=after_photo(), note="已种植水稻")
    assert done.status_code == 303
    return case_id


def snapshot(app, case_id) -> tuple:
    """What a refused action must leave untouched: status, version, geometry, area, history."""
    with app.app_context():
        s = db.session()
        case = s.get(Case, case_id)
        steps = s.scalar(select(func.count(StatusChange.id)).where(StatusChange.case_id == case_id))
        return case.status, case.version, case.geom.wkt, case.area_m2, steps


def stored(app, case_id) -> Case:
    """The case as stored, with its history loaded."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        _ = [c.details for c in case.history]
        return case


# --- the accepted parcel is what counts ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, crs",
    [
        (ACCEPTED.wkt, "EPSG:4326"),
        (shapely.to_geojson(ACCEPTED), "EPSG:4326"),
        # What the page posts on 高德 tiles: the dragged shape in GCJ-02, converted on input.
        (
            json.dumps(
                {
                    "type": "Polygon",
                    "coordinates": [
                        [list(wgs84_to_gcj02(x, y)) for x, y in ACCEPTED.exterior.coords]
                    ],
                }
            ),
            "GCJ02",
        ),
    ],
    ids=["wkt", "geojson", "gcj02"],
)
def test_acceptance_stores_the_redrawn_parcel_and_its_geodesic_area(web_app, text, crs):
    case_id = done_parcel(web_app)
    reported_m2 = stored(web_app, case_id).area_m2
    supervisor = as_user(web_app, "zhangzhen")

    response = post(
        supervisor, case_id, "verify", note="验收通过", accepted_geometry=text, accepted_crs=crs
    )

    assert response.status_code == 303
    case = stored(web_app, case_id)
    assert case.status == "verified"
    assert case.geom.equals_exact(ACCEPTED, tolerance=1e-6)
    assert case.area_m2 == pytest.approx(grs80_m2(ACCEPTED), rel=1e-6)
    assert reported_m2 == pytest.approx(grs80_m2(PARCEL), rel=1e-6)
    accepted = case.history[-1].details
    assert accepted["old_area_m2"] == reported_m2 and accepted["new_area_m2"] == case.area_m2
    html = page(supervisor, case_id)
    reported_row = re.search(r'class="area reported-area">([^<]+)<', html).group(1)
    accepted_row = re.search(r'class="area accepted-area">([^<]+)<', html).group(1)
    assert f"{reported_m2:,.2f} m²" in reported_row
    assert f"{case.area_m2:,.2f} m²" in accepted_row
    assert f"{case.area_m2 / (10000 / 15):,.2f}" in accepted_row  # 亩
    assert "验收面积" in html and "上报面积" in html


def test_the_year_figures_count_the_accepted_area(web_app):
    case_id = done_parcel(web_app)
    supervisor = as_user(web_app, "zhangzhen")
    with web_app.app_context():
        year = stored(web_app, case_id).done_on.year
        before = year_figures(db.session(), year)["farmland"]

    post(supervisor, case_id, "verify", accepted_geometry=ACCEPTED.wkt)

    with web_app.app_context():
        after = year_figures(db.session(), year)["farmland"]
    assert before["restored_area_m2"] == pytest.approx(grs80_m2(PARCEL), rel=1e-6)
    assert after["restored"] == before["restored"] == 1
    assert after["restored_area_m2"] == pytest.approx(grs80_m2(ACCEPTED), rel=1e-6)
    assert after["restored_area_mu"] == pytest.approx(grs80_m2(ACCEPTED) * 15 / 10000, rel=1e-6)


def map_calls(html: str, call: str) -> list[dict]:
    """The JSON options of every MapApp.<call>(map, {...}) on a page."""
    return [
        json.loads(m.group(1)) for m in re.finditer(rf"MapApp\.{call}\(\w+, (\{{.*?\}})\);", html)
    ]


def test_the_case_map_shows_the_reported_parcel_dashed_under_the_accepted_one(web_app):
    case_id = done_parcel(web_app)
    supervisor = as_user(web_app, "zhangzhen")
    before = page(supervisor, case_id)

    post(supervisor, case_id, "verify", accepted_geometry=ACCEPTED.wkt)
    after = page(supervisor, case_id)

    assert map_calls(before, "outline") == []
    (drawn,) = map_calls(after, "cases")
    (feature,) = drawn["data"]["features"]
    assert feature["properties"]["s"] == "verified"
    assert shapely.geometry.shape(feature["geometry"]).equals_exact(ACCEPTED, tolerance=1e-5)
    (outline,) = map_calls(after, "outline")
    assert shapely.geometry.shape(outline["data"]).equals_exact(PARCEL, tolerance=1e-5)
    (group,) = map_calls(after, "cells")
    assert [f["properties"]["name"] for f in group["data"]["features"]] == ["一组"]
    assert "map-legend-outline" in map_calls(after, "legend")[0]["html"]
    assert "虚线为上报时的图斑" in after


def test_acceptance_without_a_redraw_keeps_the_reported_parcel(web_app):
    case_id = done_parcel(web_app)
    before = snapshot(web_app, case_id)

    response = post(as_user(web_app, "zhangzhen"), case_id, "verify", accepted_geometry="  ")

    assert response.status_code == 303
    case = stored(web_app, case_id)
    assert (case.status, case.geom.wkt, case.area_m2) == ("verified", before[2], before[3])
    assert case.history[-1].details is None
    html = page(as_user(web_app, "zhangzhen"), case_id)
    assert "reported-area" not in html and 'class="area"' in html


def test_the_supervisor_is_offered_the_redraw_map_and_the_worker_at_completion(web_app):
    case_id = done_parcel(web_app)
    html = page(as_user(web_app, "zhangzhen"), case_id)
    verify_form = html[html.index('data-action="verify"') :]
    verify_form = verify_form[: verify_form.index("</details>")]

    assert 'fieldset class="redraw"' in verify_form
    assert 'name="accepted_geometry"' in verify_form and 'name="accepted_crs"' in verify_form
    assert "leaflet.draw.js" in html and "case_redraw.js" in html
    issue_html = page(as_user(web_app, "zhangzhen"), web_app.config["IDS"]["case"])
    assert "case_redraw.js" not in issue_html and "redraw" not in issue_html


# --- refusals leave everything as it was ---------------------------------------------------------

BOW_TIE = (
    "POLYGON ((113.001 30.001, 113.003 30.003, 113.003 30.001, 113.001 30.003, 113.001 30.001))"
)


@pytest.mark.parametrize(
    "text, crs, code, words",
    [
        (BOW_TIE, "EPSG:4326", None, "自相交"),
        ("这不是坐标", "EPSG:4326", None, "无法识别的位置格式"),
        ("113.002,30.002", "EPSG:4326", "bad_accepted_geometry", "验收图斑须为有效的面"),
        (
            "POLYGON ((114 31, 114.01 31, 114.01 31.01, 114 31.01, 114 31))",
            "EPSG:4326",
            "accepted_outside_grid",
            "不在本镇任何网格",
        ),
        ("POLYGON ((200 95, 201 95, 201 96, 200 96, 200 95))", "EPSG:4326", None, "坐标超出范围"),
        (ACCEPTED.wkt, "EPSG:3857", "bad_crs", "坐标系无效"),
        ('{"type":"Polygon","coordinates":[]}', "EPSG:4326", None, "几何为空"),
    ],
    ids=["bow-tie", "not-a-geometry", "point", "outside-town", "out-of-range", "bad-crs", "empty"],
)
def test_a_bad_redraw_is_refused_with_a_reason_and_nothing_changes(web_app, text, crs, code, words):
    case_id = done_parcel(web_app)
    before = snapshot(web_app, case_id)
    supervisor = as_user(web_app, "zhangzhen")

    response = post(supervisor, case_id, "verify", accepted_geometry=text, accepted_crs=crs)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    message = re.search(r'class="flash error action-error" role="alert">([^<]+)<', html).group(1)
    assert re.search(r"[\u4e00-\u9fff]", message), message  # a reason in Chinese
    assert words in message
    if code:
        assert response.headers["X-Action-Error"] == code
    assert snapshot(web_app, case_id) == before
    assert str(escape(text[:20])) in html  # the text comes back to be corrected


@pytest.mark.parametrize("who, status", [("wgy_a1", 403), ("liuwei", 403), ("wgy_a2", 404)])
def test_only_the_town_may_accept_a_redrawn_parcel(web_app, who, status):
    case_id = done_parcel(web_app)
    before = snapshot(web_app, case_id)
    client = as_user(web_app, who)
    token = client.get("/cases/csrf").get_json()["csrf_token"]

    response = client.post(
        f"/cases/{case_id}/actions/verify",
        data={
            "csrf_token": token,
            "expected_version": str(before[1]),
            "accepted_geometry": ACCEPTED.wkt,
            "accepted_crs": "EPSG:4326",
        },
    )

    assert response.status_code == status
    assert snapshot(web_app, case_id) == before


# --- the demolished area at `done` ---------------------------------------------------------------


def test_a_demolished_area_other_than_the_footprint_needs_its_reason(web_app):
    building = web_app.config["IDS"]["building"]
    supervisor = as_user(web_app, "zhangzhen")
    assert post(supervisor, building, "assign").status_code == 303
    html = page(supervisor, building)
    assert re.search(r'name="demolished_area_m2"[^>]*data-footprint="[\d.]+"', html)
    officers = [web_app.config["IDS"]["ids"][u] for u in ("liuwei", "chenjun")]
    before = snapshot(web_app, building)

    refused = post(
        supervisor,
        building,
        "complete",
        files=after_photo(),
        note="已拆除",
        officers=officers,
        demolished_area_m2="95.50",
    )
    assert refused.status_code == 422
    assert refused.headers["X-Action-Error"] == "area_reason_required"
    assert "请说明原因" in refused.get_data(as_text=True)
    assert snapshot(web_app, building)[:4] == before[:4]

    accepted = post(
        supervisor,
        building,
        "complete",
        files=after_photo(color=(10, 90, 200)),
        note="已拆除",
        officers=officers,
        demolished_area_m2="95.50",
        area_reason="东侧偏房已补办手续保留",
    )
    assert accepted.status_code == 303
    case = stored(web_app, building)
    assert (case.status, case.demolished_area_m2) == ("done", 95.5)
    assert case.history[-1].details["area_reason"] == "东侧偏房已补办手续保留"
    assert "东侧偏房已补办手续保留" in page(supervisor, building)


def test_the_prefilled_footprint_is_stored_unrounded(web_app):
    building = web_app.config["IDS"]["building"]
    supervisor = as_user(web_app, "zhangzhen")
    post(supervisor, building, "assign")
    html = page(supervisor, building)
    shown = re.search(r'name="demolished_area_m2"[^>]*value="([\d.]+)"', html).group(1)
    officers = [web_app.config["IDS"]["ids"][u] for u in ("liuwei", "chenjun")]

    response = post(
        supervisor,
        building,
        "complete",
        files=after_photo(),
        note="已拆除",
        officers=officers,
        demolished_area_m2=shown,
        area_reason="",
    )

    assert response.status_code == 303
    case = stored(web_app, building)
    assert case.demolished_area_m2 == case.area_m2  # not the two-decimal figure the form showed
    assert case.area_m2 == pytest.approx(float(shown), abs=0.005)
