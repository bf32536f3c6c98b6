"""The phone's patrol page in Chromium: a mocked geolocation walks a route, goes offline, reloads, ends.

The route is walked in real time (the browser stamps each position), a step of ≈ 5.5 m every
0.35 s or more: about 57 km/h at most, under the speed rule, so every fix is kept and the stored
patrol's length is the route's geodesic length on GRS80.
"""

import time

import pytest
from pyproj import Geod
from sqlalchemy import select

from inspection import db
from inspection.patrols.models import Patrol, PatrolBatch
from tests.browser_support import make_app, serving
from tests.cases.test_report_forms import seed_town

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
GEOD = Geod(ellps="GRS80")
STEP_DEG = 0.00005  # ≈ 5.5 m of latitude


@pytest.fixture
def served(tmp_path):
    """The seeded town served over HTTP on 127.0.0.1 (a secure context: IndexedDB, service worker)."""
    app = make_app(tmp_path)
    seed_town(app)
    with serving(app) as base:
        yield app, base


def route(n: int, start=(113.0015, 30.0015)):
    """n positions walking north, then east (lon, lat degrees) inside group PG01-01."""
    lon, lat = start
    points = []
    for i in range(n):
        if i < n // 2:
            points.append((lon, lat + i * STEP_DEG))
        else:
            points.append((lon + (i - n // 2 + 1) * STEP_DEG, lat + (n // 2 - 1) * STEP_DEG))
    return points


def geodesic_m(points) -> float:
    lon, lat = zip(*points, strict=True)
    return float(sum(GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2]))


def walk(context, page, points) -> int:
    """Move the mocked position along points, each once the page has stored the last; return fixes made."""
    made = 0
    for lon, lat in points:
        context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 6})
        deadline = time.monotonic() + 10
        while page.evaluate("(window.PatrolRecorder.state().lastFix || []).slice(0, 2)") != [
            lon,
            lat,
        ]:
            assert time.monotonic() < deadline, f"the page never took the fix {lon}, {lat}"
            page.wait_for_timeout(50)
        made += 1
        page.wait_for_timeout(350)  # real time between fixes: a walking pace for the speed rule
    return made


def test_a_patrol_walked_offline_and_reloaded_is_one_patrol_of_the_routes_length(browser, served):
    app, base = served
    path = route(24)
    context = browser.new_context(
        viewport=PHONE,
        base_url=base,
        bypass_csp=True,  # Playwright's evaluate needs eval; the app's CSP forbids it
        permissions=["geolocation"],
        geolocation={"latitude": path[0][1], "longitude": path[0][0], "accuracy": 6},
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/auth/login")
    page.fill("input[name=username]", "wgy_a1")
    page.fill("input[name=password]", "demo1234")
    page.click(".narrow button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto("/patrols/record")
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert "屏幕常亮" in page.inner_text(".record-warning")

    page.click("#patrol-start")
    page.wait_for_function("window.PatrolRecorder.state() && window.PatrolRecorder.state().lastFix")
    walk(context, page, path[1:8])
    page.wait_for_function("document.getElementById('pending').textContent === '0'", timeout=20_000)
    context.set_offline(True)
    walk(context, page, path[8:14])
    waiting_offline = int(page.inner_text("#pending"))
    page.reload()  # offline: the service worker serves the page; the patrol goes on
    page.wait_for_function("window.PatrolRecorder && window.PatrolRecorder.state()")
    assert page.is_visible("#patrol-stop") and not page.is_visible("#patrol-start")
    walk(context, page, path[14:20])
    context.set_offline(False)
    walk(context, page, path[20:])
    page.wait_for_function("document.getElementById('pending').textContent === '0'", timeout=30_000)
    shown_km = float(page.inner_text("#distance").split()[0])
    page.click("#patrol-stop")
    page.wait_for_selector("#patrol-done:not([hidden])", timeout=30_000)
    page.click("#patrol-done a")
    page.wait_for_selector("#patrol")
    context.close()

    assert waiting_offline >= 6  # the offline fixes waited on the phone
    with app.app_context():
        patrols = db.session.scalars(select(Patrol)).all()
        assert len(patrols) == 1
        patrol = patrols[0]
        batches = db.session.scalars(select(PatrolBatch.client_id)).all()
    assert patrol.status == "ended" and patrol.origin == "phone"
    assert len(batches) == len(set(batches)) >= 2
    assert patrol.dropped_speed == patrol.dropped_accuracy == 0
    # Every position of the route is stored; a position given again (after the reload) adds 0 m.
    assert patrol.length_m == pytest.approx(geodesic_m(path), abs=0.01)
    assert shown_km == pytest.approx(patrol.length_m / 1000, abs=0.011)
    assert patrol.duration_s > 0 and patrol.kept_inside == patrol.kept
    assert errors == []


def test_the_report_form_names_the_patrol_under_way(browser, served):
    app, base = served
    context = browser.new_context(
        viewport=PHONE,
        base_url=base,
        bypass_csp=True,
        service_workers="block",
        permissions=["geolocation"],
        geolocation={"latitude": 30.0015, "longitude": 113.0015, "accuracy": 6},
    )
    page = context.new_page()
    page.goto("/auth/login")
    page.fill("input[name=username]", "wgy_a1")
    page.fill("input[name=password]", "demo1234")
    page.click(".narrow button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto("/patrols/record")
    page.click("#patrol-start")
    page.wait_for_function("window.PatrolRecorder.state() && window.PatrolRecorder.state().lastFix")
    patrol_id = page.evaluate("window.PatrolRecorder.state().clientId")

    with context.expect_page() as opened:  # a tab of its own: the patrol page keeps recording
        page.click("#patrol-report")
    form = opened.value
    form.wait_for_load_state()
    named = form.input_value("input[name=patrol_client_id]")
    still_recording = page.is_visible("#patrol-stop")
    context.close()

    assert named == patrol_id and len(patrol_id) >= 8
    assert still_recording
