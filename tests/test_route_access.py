"""Every route × every kind of user: the status each one gets, and no route without a row here."""

import pytest

from tests.conftest import csrf_token, login
from tests.test_report_forms import seed_town

# The kinds of user the issue names, as users of the seeded town (tests/test_report_forms.py):
# the case lies in group PG01-01 of village PG01.
USERS = {
    "anonymous": None,
    "own_group": "wgy_a1",  # 网格员 of the case's group
    "other_group": "wgy_a2",  # 网格员 of the neighbouring group, same village
    "village_head": "cz_a",
    "officer": "liuwei",
    "supervisor": "zhangzhen",
    "admin": "admin",
}
KINDS = list(USERS)


def everyone(status: int, anonymous: int = 302, **others: int) -> dict[str, int]:
    """The same status for every logged-in kind of user, with exceptions by kind."""
    return {"anonymous": anonymous, **dict.fromkeys(KINDS[1:], status), **others}


HIDDEN = {"other_group": 404}  # the case is outside that user's grid
ADMIN_ONLY = everyone(403, admin=200)
FIELD_STAFF_REDIRECT = {"own_group": 302, "other_group": 302, "village_head": 302}
# endpoint: (method, path with {case}/{photo} placeholders, body or None, expected status by kind)
ROUTES = {
    "home.index": ("GET", "/", None, everyone(200)),
    "auth.login": ("GET", "/auth/login", None, everyone(200, anonymous=200)),
    "auth.logout": ("POST", "/auth/logout", {}, everyone(302)),
    "cases.case_list": ("GET", "/cases", None, everyone(200)),
    "cases.new_case": ("GET", "/cases/new/issue", None, everyone(200)),
    "cases.detail": ("GET", "/cases/{case}", None, everyone(200, **HIDDEN)),
    "cases.photo": ("GET", "/cases/{case}/photos/{photo}/thumb.jpg", None, everyone(200, **HIDDEN)),
    "cases.grid_geojson": ("GET", "/cases/grid.json", None, everyone(200)),
    "cases.fresh_token": ("GET", "/cases/csrf", None, everyone(200)),
    "cases.preview": (
        "POST",
        "/cases/preview",
        {"geometry": "113.0025,30.005", "crs": "EPSG:4326"},
        everyone(200, other_group=422),  # a 网格员 reports only inside his own grid
    ),
    "cases.service_worker": ("GET", "/sw.js", None, everyone(200, anonymous=200)),
    # Voiding is for the village head and above; the 网格员 and the officer see the case but may not.
    "actions.act": (
        "POST",
        "/cases/{case}/actions/void",
        {"note": "重复上报", "expected_version": "1"},  # the version the case page shows
        everyone(303, own_group=403, officer=403, **HIDDEN),
    ),
    "dashboard.index": ("GET", "/dashboard", None, everyone(200)),
    "dashboard.report": ("GET", "/report?year=2026", None, everyone(200)),
    "dashboard.report_json": ("GET", "/report.json?year=2026", None, everyone(200)),
    "dashboard.ledger": ("GET", "/ledgers/issue.csv", None, everyone(200)),
    # Field staff land on their own group's or village's map; a 网格员 sees no village map.
    "maps.town": ("GET", "/map", None, everyone(200, **FIELD_STAFF_REDIRECT)),
    "maps.village": (
        "GET",
        "/map/village/PG01",
        None,
        everyone(200, own_group=404, other_group=404),
    ),
    "maps.group": ("GET", "/map/group/PG01-01", None, everyone(200, other_group=404)),
    "maps.data": ("GET", "/map/data.geojson", None, everyone(200)),
    "api.landing": ("GET", "/api/", None, everyone(200, anonymous=401)),
    "api.conformance": ("GET", "/api/conformance", None, everyone(200, anonymous=401)),
    "api.collections": ("GET", "/api/collections", None, everyone(200, anonymous=401)),
    "api.collection": ("GET", "/api/collections/issues", None, everyone(200, anonymous=401)),
    "api.items": ("GET", "/api/collections/issues/items", None, everyone(200, anonymous=401)),
    "api.item": (
        "GET",
        "/api/collections/issues/items/{case}",
        None,
        everyone(200, anonymous=401, **HIDDEN),
    ),
    "admin.users": ("GET", "/admin/users", None, ADMIN_ONLY),
    "admin.user_new": ("GET", "/admin/users/new", None, ADMIN_ONLY),
    "admin.user_edit": ("GET", "/admin/users/1", None, ADMIN_ONLY),
    "admin.grid": ("GET", "/admin/grid", None, ADMIN_ONLY),
    "admin.grid_cell": ("GET", "/admin/grid/PG01", None, ADMIN_ONLY),
    "admin.deadlines": ("GET", "/admin/deadlines", None, ADMIN_ONLY),
    "account.password": ("GET", "/account/password", None, everyone(200)),
    "audit.index": ("GET", "/audit", None, everyone(403, supervisor=200, admin=200)),
    "static": ("GET", "/static/css/app.css", None, everyone(200, anonymous=200)),
}


def test_every_route_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}

    missing = sorted(endpoints - set(ROUTES))
    stale = sorted(set(ROUTES) - endpoints)

    assert not missing, f"routes without a row in ROUTES: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_by_user(app, client, endpoint, kind):
    ids = seed_town(app)
    method, path, body, expected = ROUTES[endpoint]
    if USERS[kind]:
        login(client, USERS[kind])
    url = path.format(**ids)

    if method == "GET":
        response = client.get(url)
    else:
        token = csrf_token(client, "/auth/login" if kind == "anonymous" else "/cases/new/issue")
        response = client.post(url, data={**body, "csrf_token": token})

    status, location = response.status_code, response.headers.get("Location", "")
    body = response.get_data()[:300]
    response.close()
    assert status == expected[kind], body
    if status == 302 and kind == "anonymous":
        assert "/auth/login" in location
