"""Moving a case: who may, within a town and across towns, what is measured again and what the log keeps."""

import re

import pytest
from sqlalchemy import select

from inspection import db
from inspection.cases.models import Case, StatusChange
from inspection.journal import AuditEntry
from tests.conftest import login, migrated_app, reset_postgis
from tests.test_route_access import seed_county

IN_A2 = "113.0075,30.0050"  # group PG01-02, same town
IN_SQ = "113.0300,30.0050"  # group SQ01-01 of the county's second town 石桥镇
OUTSIDE = "113.0600,30.0050"
PARCEL_A2 = (
    "POLYGON ((113.006 30.001, 113.007 30.001, 113.007 30.002, 113.006 30.002, 113.006 30.001))"
)


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def app(request, tmp_path, pg_url):
    """The app on SQLite and on PostGIS: a move re-places the case with each backend's grid."""
    if request.param == "sqlite":
        app = migrated_app(tmp_path)
    elif not pg_url:
        pytest.skip("TEST_DATABASE_URL not set: no PostGIS server")
    else:
        reset_postgis(pg_url).dispose()
        app = migrated_app(tmp_path, DATABASE_URL=pg_url)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def county(app):
    """The report-form town as one of a county's two towns; its case lies in PG01-01."""
    return seed_county(app)


def move(app, username, case_id, geometry, reason="GPS 偏差，按现场核实位置更正", version=None):
    """Post the move form as the user, with the page's token and version; the response."""
    client = app.test_client()
    login(client, username)
    page = client.get(f"/cases/{case_id}/move")
    if page.status_code != 200:
        return page
    html = page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    shown = re.search(r'name="expected_version" value="(\d+)"', html).group(1)
    return client.post(
        f"/cases/{case_id}/move",
        data={
            "csrf_token": token,
            "expected_version": version or shown,
            "geometry": geometry,
            "crs": "EPSG:4326",
            "reason": reason,
        },
    )


def case_cells(app, case_id) -> tuple:
    """The case's town, village and group codes, its area (m²) and version."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        codes = tuple(c.code if c else None for c in (case.town, case.village, case.group))
        return (*codes, case.area_m2, case.version)


def move_entries(app, case_id) -> list[AuditEntry]:
    """The case.move entries of the audit log for the case."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.event == "case.move", AuditEntry.target == f"case:{case_id}"
                )
            )
        )


def test_a_supervisor_moves_a_case_within_his_town(app, county):
    response = move(app, "zhangzhen", county["case"], IN_A2)
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    assert case_cells(app, county["case"])[:3] == ("PG", "PG01", "PG01-02")
    (entry,) = move_entries(app, county["case"])
    assert entry.username == "zhangzhen"
    assert entry.details["from"] == {"town": "PG", "village": "PG01", "group": "PG01-01"}
    assert entry.details["to"] == {"town": "PG", "village": "PG01", "group": "PG01-02"}
    assert entry.details["reason"].startswith("GPS")
    with app.app_context():
        changes = db.session.scalars(
            select(AuditEntry).where(AuditEntry.target == f"case:{county['case']}")
        ).all()
        assert any(
            "group_id" in (e.details or {}).get("changes", {})
            for e in changes
            if e.event == "case.update"
        )
        # The history is the workflow's: a move adds no status step.
        steps = db.session.scalars(
            select(StatusChange).where(StatusChange.case_id == county["case"])
        ).all()
        assert [s.to_status for s in steps] == ["reported"]
        case = db.session.get(Case, county["case"])
        assert case.responsible.username == "wgy_a2"  # the new group's 网格员


def test_a_polygon_is_measured_again_on_the_ellipsoid(app, county):
    with app.app_context():
        before = db.session.get(Case, county["case"]).area_m2
    assert before is None  # an issue given as a point has no area
    assert move(app, "zhangzhen", county["case"], PARCEL_A2).status_code == 303
    area_m2 = case_cells(app, county["case"])[3]
    # 0.001° × 0.001° at 30° N on GRS80: 96.49 m × 110.85 m.
    assert area_m2 == pytest.approx(10_696, rel=2e-3)


def test_a_town_supervisor_cannot_move_a_case_into_another_town(app, county):
    response = move(app, "zhangzhen", county["case"], IN_SQ)
    assert response.status_code in (403, 422)
    html = response.get_data(as_text=True)
    assert "不在" in html
    assert case_cells(app, county["case"])[:3] == ("PG", "PG01", "PG01-01")
    assert move_entries(app, county["case"]) == []


def test_the_county_transfers_a_case_to_another_town(app, county):
    response = move(app, "xian", county["case"], IN_SQ, reason="属石桥镇辖区，移交")
    assert response.status_code == 303
    assert case_cells(app, county["case"])[:3] == ("SQ", "SQ01", "SQ01-01")
    (entry,) = move_entries(app, county["case"])
    assert entry.details["from"]["town"] == "PG" and entry.details["to"]["town"] == "SQ"
    # Now the second town's supervisor sees it and the first town's does not.
    for username, status in (("zhang_sq", 200), ("zhangzhen", 404)):
        client = app.test_client()
        login(client, username)
        assert client.get(f"/cases/{county['case']}").status_code == status


@pytest.mark.parametrize(
    ("geometry", "reason", "status", "message"),
    [
        (OUTSIDE, "核实", 422, "不在任何网格"),
        (IN_A2, "", 422, "原因"),
        ("113.0075", "核实", 422, ""),
    ],
    ids=["outside-grid", "no-reason", "bad-coordinates"],
)
def test_a_refused_move_changes_nothing(app, county, geometry, reason, status, message):
    before = case_cells(app, county["case"])
    response = move(app, "zhangzhen", county["case"], geometry, reason=reason)
    assert response.status_code in (400, 422) if status == 422 else status
    assert message in response.get_data(as_text=True)
    assert case_cells(app, county["case"]) == before
    assert move_entries(app, county["case"]) == []


def test_a_stale_move_is_refused(app, county):
    response = move(app, "zhangzhen", county["case"], IN_A2, version="99")
    assert response.status_code == 409
    assert case_cells(app, county["case"])[:3] == ("PG", "PG01", "PG01-01")


def test_field_staff_and_closed_cases_are_not_moved(app, county):
    for username in ("wgy_a1", "cz_a", "liuwei"):
        client = app.test_client()
        login(client, username)
        assert client.get(f"/cases/{county['case']}/move").status_code == 403
    with app.app_context():
        db.session.get(Case, county["case"]).status = "verified"
        db.session.commit()
    client = app.test_client()
    login(client, "zhangzhen")
    assert client.get(f"/cases/{county['case']}/move").status_code == 403
