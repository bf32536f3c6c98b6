"""Possible duplicates: the report form names the cases of the kind on the same ground (50 m, or shared area)."""

from datetime import date, timedelta

import shapely
from pyproj import Geod

from inspection.accounts.models import User
from inspection.cases.duplicates import similar_cases
from inspection.cases.records import create_case
from tests.cases.test_report_forms import town  # noqa: F401  (fixture)
from tests.conftest import csrf_token, login
from tests.reporting.test_ledgers import make_town

GEOD = Geod(ellps="GRS80")
TODAY = date(2026, 12, 8)


def east_of(lon: float, lat: float, metres: float) -> str:
    """The "lon,lat" text `metres` due east of a position."""
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90, metres)
    return f"{lon2:.7f},{lat2:.7f}"


def preview(client, kind: str, geometry: str) -> dict:
    token = csrf_token(client, f"/cases/new/{kind}")
    data = {"csrf_token": token, "kind": kind, "geometry": geometry}
    return client.post("/cases/preview", data=data).get_json()


def test_the_preview_names_a_case_reported_30_m_away_and_not_one_80_m_away(app, client, town):  # noqa: F811
    login(client, "wgy_a1")

    near = preview(client, "issue", east_of(113.0025, 30.005, 30))
    far = preview(client, "issue", east_of(113.0025, 30.005, 80))
    other_kind = preview(client, "illegal_building", east_of(113.0025, 30.005, 30))

    assert [c["id"] for c in near["similar"]] == [town["case"]]
    assert (
        near["similar"][0]["url"] == f"/cases/{town['case']}"
        and near["similar"][0]["title"] == "河边垃圾"
    )
    assert far["similar"] == [] and other_kind["similar"] == []


def test_open_and_lately_closed_cases_count_void_and_long_closed_do_not(session):
    make_town(session)
    admin = User(username="admin", display_name="管理员", role="admin", password_hash="x")
    session.add(admin)
    parcel = shapely.box(113.0010, 30.0011, 113.0014, 30.0016)

    def farm(title, geom, status="reported", closed_days_ago=None):
        case, _ = create_case(
            session, "farmland", geom, {"title": title}, admin, found_on=date(2025, 1, 1)
        )
        case.status = status
        if closed_days_ago is not None:
            case.verified_on = TODAY - timedelta(days=closed_days_ago)
        return case

    open_one = farm("开放", shapely.box(113.0012, 30.0012, 113.0016, 30.0017))
    lately = farm("半年前验收", shapely.box(113.0008, 30.0011, 113.0011, 30.0013), "verified", 200)
    farm("两年前验收", shapely.box(113.0008, 30.0011, 113.0011, 30.0013), "verified", 400)
    farm("作废", shapely.box(113.0012, 30.0012, 113.0016, 30.0017), "void")
    farm("只相邻", shapely.box(113.0014, 30.0011, 113.0017, 30.0016))
    session.flush()

    found = similar_cases(session, admin, "farmland", parcel, TODAY)

    assert sorted(c.title for c in found) == sorted([open_one.title, lately.title])
