"""A real browser on a phone-sized screen: draw, photograph, submit twice, report while offline."""

import io
import json
import re
import time
from pathlib import Path

import pytest
import shapely
from PIL import Image
from sqlalchemy import func, select

from inspection import db
from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from tests.browser_support import make_app, serving

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")

CASE_PAGE = re.compile(r"/cases/\d+$")
SUBMIT = "#report-form button[type=submit]"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on 127.0.0.1 in a thread, on a migrated temporary SQLite database with the demo town."""
    app = make_app(tmp_path_factory.mktemp("report-browser"), TESTING=False)
    with app.app_context():
        seed(app)
    with serving(app) as base:
        yield app, base


def seed(app) -> None:
    """The demo town when it is available, else the small test town."""
    try:
        from inspection.ops.demo import load_demo
    except ImportError:
        load_demo = None
    if load_demo is not None:
        load_demo(db.session())
        db.session.commit()
    else:
        from tests.cases.test_report_forms import seed_town

        seed_town(app)


def member_and_group(app) -> tuple[str, GridCell]:
    """A 网格员's login and the group he works in."""
    with app.app_context():
        user = db.session.scalars(
            select(User).where(User.role == "grid_member").order_by(User.username)
        ).all()
        member = next(u for u in user if u.cells and u.cells[0].level == "group")
        group = member.cells[0]
        _ = group.parent.name, group.boundary
        return member.username, group


def inner_square(group: GridCell) -> list[tuple[float, float]]:
    """Four corners (lon, lat) of a square well inside a group, about a fifth of its size."""
    boundary = group.boundary
    centre = boundary.representative_point()
    minx, miny, maxx, maxy = boundary.bounds
    half = min(maxx - minx, maxy - miny) / 10
    while not shapely.box(
        centre.x - half, centre.y - half, centre.x + half, centre.y + half
    ).within(boundary):
        half /= 2
    return [
        (centre.x - half, centre.y - half),
        (centre.x + half, centre.y - half),
        (centre.x + half, centre.y + half),
        (centre.x - half, centre.y + half),
    ]


def count_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Case.id)))


def newest_case(app) -> Case:
    with app.app_context():
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        _ = case.village, case.group, case.photos
        return case


def jpeg_file(tmp_path: Path, name="photo.jpg") -> Path:
    path = tmp_path / name
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (40, 160, 60)).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def page(browser, served):
    """A logged-in phone-sized page of a 网格员 (service workers off: offline is emulated per page)."""
    app, base = served
    username, _group = member_and_group(app)
    # Playwright's wait_for_function builds its predicate with eval, which our CSP forbids; the
    # map browser tests run under the real CSP, and the page errors of the app are checked here.
    context = browser.new_context(
        viewport=PHONE, service_workers="block", base_url=base, bypass_csp=True
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo1234")
    page.click(".narrow button[type=submit]")
    page.wait_for_url(f"{base}/")
    yield page
    context.close()
    assert errors == []


def open_form(page, kind: str) -> None:
    page.goto(f"/cases/new/{kind}")
    page.wait_for_function("window.reportMap && window.reportMap.map")


def map_point(page, lon: float, lat: float) -> tuple[float, float]:
    """Screen position of a lon/lat (the test basemap is WGS-84)."""
    box = page.locator("#report-map").bounding_box()
    x, y = page.evaluate(
        "([lon, lat]) => { const p = reportMap.map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lon, lat],
    )
    return box["x"] + x, box["y"] + y


def test_draw_a_parcel_attach_a_photo_and_find_it_in_the_list(page, served, tmp_path):
    app, _base = served
    _user, group = member_and_group(app)
    before = count_cases(app)
    open_form(page, "farmland")

    page.click(".leaflet-draw-draw-polygon")
    corners = [map_point(page, *c) for c in inner_square(group)]
    for x, y in [*corners, corners[0]]:
        page.mouse.move(x, y, steps=3)  # leaflet-draw follows the pointer before each tap
        page.wait_for_timeout(100)
        page.mouse.click(x, y)
    page.wait_for_function("document.getElementById('preview').classList.contains('ok')")
    live_area = page.text_content("#draw-area")
    preview = page.text_content("#preview")
    page.fill("input[name=parcel_no]", "TB-2022-07")
    page.set_input_files("input[name=photos]", str(jpeg_file(tmp_path)))
    page.click(SUBMIT)
    page.wait_for_url(CASE_PAGE)

    case = newest_case(app)
    assert count_cases(app) == before + 1
    assert (case.kind, case.parcel_no, case.group_id) == ("farmland", "TB-2022-07", group.id)
    assert len(case.photos) == 1
    assert group.parent.name in preview and group.name in preview
    shown_m2 = float(re.search(r"([\d,]+\.?\d*)\s*m²", live_area).group(1).replace(",", ""))
    assert shown_m2 == pytest.approx(case.area_m2, abs=0.01)  # the browser's area is the stored one
    page.goto("/cases")
    row = page.locator(f"li[data-case-id='{case.id}']")
    assert row.locator(".where").inner_text().split() == [group.parent.name, group.name]
    assert f"{case.area_m2:,.2f} m²" in row.locator(".area").inner_text()


def test_a_shape_that_crosses_itself_is_refused_before_submit(page, served):
    app, _base = served
    _user, group = member_and_group(app)
    before = count_cases(app)
    open_form(page, "farmland")
    a, b, c, d = inner_square(group)

    page.evaluate(
        """(ring) => { reportMap.shapes.addLayer(L.polygon(ring.map(p => [p[1], p[0]])));
                       reportMap.useDrawn(); }""",
        [a, c, b, d],  # a bow-tie
    )
    page.click(SUBMIT)

    assert page.get_attribute("#report-form", "data-geometry-invalid") == "1"
    assert "error" in page.get_attribute("#submit-status", "class")
    assert page.url.endswith("/cases/new/farmland")
    assert count_cases(app) == before


def fill_issue(page, group, category="garbage", description=""):
    """Fill an issue form with the group's representative point as pasted text."""
    point = group.boundary.representative_point()
    page.click("summary")
    page.fill("textarea[name=geometry]", f"{point.x:.7f},{point.y:.7f}")
    page.select_option("select[name=category]", category)
    if description:
        page.fill("textarea[name=description]", description)


def test_a_double_tap_makes_one_case(page, served):
    app, _base = served
    _user, group = member_and_group(app)
    before = count_cases(app)
    open_form(page, "issue")
    fill_issue(page, group)

    page.locator(SUBMIT).dblclick()
    page.wait_for_url(CASE_PAGE)

    assert count_cases(app) == before + 1


def test_a_retry_after_a_lost_answer_gets_the_first_case(page, served):
    app, _base = served
    _user, group = member_and_group(app)
    before = count_cases(app)
    posts = []

    def lose_the_first_answer(route):
        posts.append(route.request.url)
        if len(posts) == 1:
            route.fetch()  # the server saves the case …
            route.abort("connectionreset")  # … but the phone never hears back
        else:
            route.continue_()

    page.route(
        "**/cases/new/issue",
        lambda route: (
            lose_the_first_answer(route) if route.request.method == "POST" else route.continue_()
        ),
    )
    open_form(page, "issue")
    fill_issue(page, group, description="第一次没有收到回应")
    page.click(SUBMIT)
    page.wait_for_selector("#outbox li")
    assert count_cases(app) == before + 1  # saved once already

    page.click("#outbox-send")
    page.wait_for_function("document.querySelectorAll('#outbox li').length === 0", timeout=30_000)
    sent_to = page.get_attribute("#outbox-sent a", "href")

    assert len(posts) == 2
    assert count_cases(app) == before + 1
    assert sent_to.endswith(f"/cases/{newest_case(app).id}")


def test_a_report_made_offline_is_sent_once_when_the_network_returns(page, served, tmp_path):
    app, _base = served
    _user, group = member_and_group(app)
    before = count_cases(app)
    open_form(page, "issue")

    page.context.set_offline(True)
    fill_issue(page, group, "sewage", "离线上报：排污口")
    page.set_input_files("input[name=photos]", str(jpeg_file(tmp_path)))
    page.click(SUBMIT)
    page.wait_for_selector("#outbox li")
    queued = page.locator("#outbox li").count()
    waiting_client_id = page.evaluate("ReportOutbox.all().then(list => list[0].id)")
    assert count_cases(app) == before
    assert page.input_value("textarea[name=description]") == ""  # ready for the next report

    page.context.set_offline(False)
    page.wait_for_function("document.querySelectorAll('#outbox li').length === 0", timeout=30_000)

    assert queued == 1
    assert count_cases(app) == before + 1
    case = newest_case(app)
    assert (case.client_id, case.description, len(case.photos)) == (
        waiting_client_id,
        "离线上报：排污口",
        1,
    )
    time.sleep(1)  # a late retry must not double it
    assert count_cases(app) == before + 1


def test_the_outbox_waits_on_the_case_list_too(page, served):
    app, _base = served
    _user, group = member_and_group(app)
    before = count_cases(app)
    open_form(page, "issue")
    page.context.set_offline(True)
    fill_issue(page, group, "dust")
    page.click(SUBMIT)
    page.wait_for_selector("#outbox li")
    page.context.set_offline(False)

    page.route("**/cases/new/**", lambda route: route.abort())  # still failing: stays queued
    page.goto("/cases")
    page.wait_for_selector("#outbox li")
    waiting = page.locator("#outbox li").inner_text()
    page.unroute("**/cases/new/**")
    # The page's own retry may send it (and hide the button) first: the click must not wait for it.
    page.locator("#outbox-send").dispatch_event("click")
    page.wait_for_function("document.querySelectorAll('#outbox li').length === 0", timeout=30_000)

    assert waiting
    assert count_cases(app) == before + 1


def test_the_form_opens_offline_from_the_service_worker(browser, served):
    app, base = served
    username, group = member_and_group(app)
    before = count_cases(app)
    # Service workers allowed; CSP bypassed for Playwright's own eval (see above).
    context = browser.new_context(viewport=PHONE, base_url=base, bypass_csp=True)
    page = context.new_page()
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo1234")
    page.click(".narrow button[type=submit]")
    page.wait_for_url(f"{base}/")
    open_form(page, "issue")
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now controlled: the page is cached on the way
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    first_id = page.input_value("input[name=client_id]")

    context.set_offline(True)
    page.reload()
    page.wait_for_function("window.reportMap")
    offline_id = page.input_value("input[name=client_id]")
    fill_issue(page, group, "garbage", "没有信号时打开的表单")
    page.click(SUBMIT)
    page.wait_for_selector("#outbox li")
    context.set_offline(False)
    page.wait_for_function("document.querySelectorAll('#outbox li').length === 0", timeout=30_000)
    context.close()

    assert offline_id != first_id  # a cached page still gets its own client id
    assert count_cases(app) == before + 1
    assert newest_case(app).description == "没有信号时打开的表单"


def test_on_the_gaode_basemap_drawn_points_are_stored_as_wgs84(page, served):
    app, _base = served
    _user, group = member_and_group(app)
    page.route(
        "https://**", lambda route: route.abort()
    )  # no tiles in the test: only the shift matters
    app.config["BASEMAP"] = "gaode"
    try:
        open_form(page, "farmland")
        wgs = inner_square(group)
        gcj = [
            page.evaluate("([lon, lat]) => ReportGeo.wgs84ToGcj02(lon, lat)", list(c)) for c in wgs
        ]
        page.click(".leaflet-draw-draw-polygon")
        corners = [map_point(page, *c) for c in gcj]  # where the corners sit on 高德 tiles
        for x, y in [*corners, corners[0]]:
            page.mouse.move(x, y, steps=3)
            page.wait_for_timeout(100)
            page.mouse.click(x, y)
        page.wait_for_function("document.getElementById('preview').classList.contains('ok')")
        posted_crs = page.input_value("select[name=crs]")
        page.click(SUBMIT)
        page.wait_for_url(CASE_PAGE)
    finally:
        app.config["BASEMAP"] = "none"

    stored = newest_case(app).geom
    assert posted_crs == "GCJ02"
    # Screen pixels round the corners to a metre or so; the 高德 offset here is hundreds of metres.
    assert stored.hausdorff_distance(shapely.Polygon(wgs)) < 3e-5


def login(page, base: str, username: str) -> None:
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo1234")
    page.click(".narrow button[type=submit]")
    page.wait_for_url(f"{base}/")


def logout(page) -> None:
    if page.locator(".menu-toggle").is_visible():  # a phone: 退出 is in the folded menu
        page.click(".menu-toggle")
    page.click(".topbar form.inline button[type=submit]")
    page.wait_for_url("**/auth/login")


def another_member(app, username: str) -> str:
    """A second 网格员 (someone else sharing the phone)."""
    with app.app_context():
        return db.session.scalars(
            select(User.username)
            .where(User.role == "grid_member", User.username != username)
            .order_by(User.username)
        ).first()


def outbox_records(page) -> list[dict]:
    return page.evaluate(
        "ReportOutbox.all().then(list => list.map(r => ({id: r.id, owner: r.owner, status: r.status})))"
    )


def test_a_refused_report_comes_back_with_its_photo_and_file(page, served, tmp_path):
    app, _base = served
    username, group = member_and_group(app)
    before = count_cases(app)
    _minx, miny, maxx, maxy = group.boundary.bounds
    outside = tmp_path / "outside.geojson"  # well east of the town
    outside.write_text(json.dumps({"type": "Point", "coordinates": [maxx + 2, (miny + maxy) / 2]}))
    page.route("**/cases/preview", lambda route: route.abort())  # poor signal: no check before
    open_form(page, "issue")
    page.click("summary")
    page.set_input_files("input[name=geofile]", str(outside))
    page.select_option("select[name=category]", "garbage")
    page.fill("textarea[name=description]", "被退回后照片还在")
    page.set_input_files("input[name=photos]", str(jpeg_file(tmp_path)))
    client_id = page.input_value("input[name=client_id]")
    page.click(SUBMIT)

    page.wait_for_selector(".field-error")  # the server's page, with the reason
    page.wait_for_function("document.querySelector('input[name=photos]').files.length === 1")
    page.wait_for_function("document.querySelector('input[name=geofile]').files.length === 1")
    assert page.input_value("input[name=client_id]") == client_id
    assert page.input_value("textarea[name=description]") == "被退回后照片还在"
    assert page.evaluate("document.querySelector('input[name=photos]').files[0].name") == (
        "photo.jpg"
    )
    assert page.evaluate("document.querySelector('input[name=geofile]').files[0].name") == (
        "outside.geojson"
    )
    assert "photo.jpg" in page.text_content("#photo-list")
    assert outbox_records(page) == [{"id": client_id, "owner": username, "status": "refused"}]
    assert page.locator("#outbox li").count() == 0  # the one being corrected is not listed
    assert count_cases(app) == before

    page.unroute("**/cases/preview")
    page.set_input_files("input[name=geofile]", [])
    point = group.boundary.representative_point()
    page.fill("textarea[name=geometry]", f"{point.x:.7f},{point.y:.7f}")
    page.wait_for_function("document.getElementById('preview').classList.contains('ok')")
    page.click(SUBMIT)
    page.wait_for_url(CASE_PAGE)

    case = newest_case(app)
    assert count_cases(app) == before + 1
    assert (case.client_id, case.description, len(case.photos)) == (
        client_id,
        "被退回后照片还在",
        1,
    )
    page.goto("/cases")
    assert outbox_records(page) == []


def test_a_shared_phone_sends_each_report_as_its_owner(browser, served):
    app, base = served
    owner, group = member_and_group(app)
    other = another_member(app, owner)
    before = count_cases(app)
    context = browser.new_context(
        viewport=PHONE, service_workers="block", base_url=base, bypass_csp=True
    )
    page = context.new_page()
    posts = []

    def count_posts(route):
        if route.request.method == "POST":
            posts.append(route.request.url)
        route.continue_()

    login(page, base, owner)
    open_form(page, "issue")
    context.set_offline(True)
    fill_issue(page, group, "dust", "甲在共用手机上的离线上报")
    page.click(SUBMIT)
    page.wait_for_selector("#outbox li")
    [queued] = outbox_records(page)
    assert queued["owner"] == owner

    # The owner logs out before the network returns; a colleague logs in on the same phone.
    page.close()
    context.set_offline(False)
    page = context.new_page()
    page.route("**/cases/new/**", count_posts)
    page.goto("/")
    logout(page)
    login(page, base, other)
    page.goto("/cases")
    page.wait_for_selector("#outbox-others:not([hidden])")
    page.evaluate("ReportOutbox.flush()")
    page.click("#outbox-send")
    page.wait_for_timeout(1000)
    page.evaluate("ReportOutbox.flush()")

    assert posts == []
    assert page.locator("#outbox li").count() == 0
    assert outbox_records(page) == [queued]  # untouched: still waiting for its owner
    assert count_cases(app) == before

    logout(page)
    login(page, base, owner)
    page.goto("/cases")
    page.wait_for_function("document.querySelectorAll('#outbox li').length === 0", timeout=30_000)
    page.wait_for_function("ReportOutbox.all().then(list => list.length === 0)", timeout=30_000)
    context.close()

    assert len(posts) == 1
    assert count_cases(app) == before + 1
    case = newest_case(app)
    with app.app_context():
        reporter = db.session.get(User, case.reporter_id).username
    assert (case.client_id, reporter) == (queued["id"], owner)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_touch_targets_are_44_px_on_a_phone(page, lang):
    page.goto(f"/cases/new/farmland?lang={lang}")
    page.wait_for_function("window.reportMap && window.reportMap.map")
    page.click(".leaflet-draw-draw-polygon")  # shows the draw actions too
    page.click(".menu-toggle")  # and the menu's entries
    targets = page.evaluate(
        """() => [...document.querySelectorAll(
              '.topbar a, .topbar button, .leaflet-control-zoom a, .leaflet-draw-toolbar a')]
            .filter(el => el.offsetParent !== null)
            .map(el => { const r = el.getBoundingClientRect();
                         return [el.textContent.trim() || el.className, r.width, r.height]; })"""
    )
    small = [t for t in targets if t[1] < 44 or t[2] < 44]
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")

    assert len(targets) >= 10
    assert small == []
    assert widths[0] <= widths[1] == PHONE["width"]


def test_text_typed_after_drawing_on_gaode_is_read_as_wgs84(page, served):
    app, _base = served
    _user, group = member_and_group(app)
    page.route("https://**", lambda route: route.abort())
    app.config["BASEMAP"] = "gaode"
    try:
        open_form(page, "issue")
        a, _b, c, _d = inner_square(group)
        page.evaluate(
            "(p) => { reportMap.shapes.addLayer(L.marker([p[1], p[0]])); reportMap.useDrawn(); }",
            list(a),
        )
        drawn_crs = page.input_value("select[name=crs]")
        assert page.is_hidden("#crs-note")
        page.click("summary")
        page.fill("textarea[name=geometry]", f"{c[0]:.7f},{c[1]:.7f}")
        typed_crs = page.input_value("select[name=crs]")
        note = page.text_content("#crs-note")
        page.select_option("select[name=crs]", "GCJ02")  # the user's own choice is kept
        page.fill("textarea[name=geometry]", f"{a[0]:.7f},{a[1]:.7f}")
        chosen_crs = page.input_value("select[name=crs]")
    finally:
        app.config["BASEMAP"] = "none"

    assert (drawn_crs, typed_crs, chosen_crs) == ("GCJ02", "EPSG:4326", "GCJ02")
    assert "WGS-84" in note and page.is_visible("#crs-note") is False


def test_the_report_forms_are_kept_for_a_first_offline_visit(browser, served):
    app, base = served
    username, _group = member_and_group(app)
    context = browser.new_context(viewport=PHONE, base_url=base, bypass_csp=True)
    page = context.new_page()
    login(page, base, username)
    page.goto("/cases")  # any page with the outbox registers the service worker
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function(
        """() => caches.open('wangge-report-v1').then(cache => Promise.all(
              ['issue', 'illegal_building', 'farmland'].map(k => cache.match('/cases/new/' + k))))
            .then(hits => hits.every(Boolean))""",
        timeout=30_000,
    )

    context.set_offline(True)
    page.goto("/cases/new/illegal_building")
    page.wait_for_function("window.reportMap && window.reportMap.map")
    kind = page.get_attribute("#report-form", "data-kind")
    user = page.get_attribute("#outbox", "data-user")
    context.set_offline(False)
    context.close()

    assert (kind, user) == ("illegal_building", username)


# --- the location helpers of issue 3: photo GPS, my location, the preview, the live area ----------


def gps_jpeg(tmp_path: Path, lon: float, lat: float, name="gps.jpg") -> Path:
    """A JPEG whose EXIF GPS IFD (0x8825) holds lon, lat (north/east), as a phone camera writes it."""
    exif = Image.Exif()
    exif.get_ifd(0x8825).update(
        {
            1: "N",
            2: (float(int(lat)), 0.0, (lat - int(lat)) * 3600),
            3: "E",
            4: (float(int(lon)), 0.0, (lon - int(lon)) * 3600),
        }
    )
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (40, 160, 60)).save(out, "JPEG", exif=exif.tobytes())
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return path


def responsible_name(app, group: GridCell) -> str:
    """The display name of the 网格员 the server makes responsible for cases in the group."""
    from inspection.cases.records import default_responsible

    with app.app_context():
        return default_responsible(db.session(), group.id).display_name


def wait_for_placed(page) -> str:
    page.wait_for_function("document.getElementById('preview').classList.contains('ok')")
    return page.text_content("#preview")


def lon_lat(text: str) -> tuple[float, float]:
    lon, lat = text.split(",")
    return float(lon), float(lat)


def test_a_photo_with_gps_offers_its_position_as_the_location(page, served, tmp_path):
    app, _base = served
    _user, group = member_and_group(app)
    point = group.boundary.representative_point()
    before = count_cases(app)
    open_form(page, "issue")

    page.set_input_files("input[name=photos]", str(gps_jpeg(tmp_path, point.x, point.y)))
    page.wait_for_selector("#photo-gps:not([hidden])")
    offer = page.text_content("#photo-gps")
    assert page.input_value("textarea[name=geometry]") == ""  # only offered, not yet taken
    page.click("#photo-gps")
    preview = wait_for_placed(page)

    assert f"{point.x:.6f}, {point.y:.6f}" in offer
    assert lon_lat(page.input_value("textarea[name=geometry]")) == pytest.approx(
        (point.x, point.y), abs=1e-6
    )
    assert page.input_value("select[name=crs]") == "EPSG:4326"
    assert page.is_hidden("#photo-gps")
    assert f"{group.parent.name} {group.name}" in preview
    assert count_cases(app) == before


def test_use_my_location_fills_the_wgs84_point_and_shows_its_accuracy(page, served):
    app, base = served
    _user, group = member_and_group(app)
    point = group.boundary.representative_point()
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": point.y, "longitude": point.x, "accuracy": 12})
    open_form(page, "issue")

    page.click("#locate")
    preview = wait_for_placed(page)
    status = page.text_content("#locate-status")

    assert lon_lat(page.input_value("textarea[name=geometry]")) == pytest.approx(
        (point.x, point.y), abs=1e-7
    )
    assert page.input_value("select[name=crs]") == "EPSG:4326"
    assert "±12 米" in status  # the zh-CN page: 定位精度约 ±12 米。
    assert f"{group.parent.name} {group.name}" in preview


def test_the_preview_names_the_village_group_and_grid_member_before_saving(page, served):
    app, _base = served
    _user, group = member_and_group(app)
    point = group.boundary.representative_point()
    before = count_cases(app)
    open_form(page, "issue")

    page.click(".leaflet-draw-draw-marker")
    x, y = map_point(page, point.x, point.y)
    page.mouse.move(x, y, steps=3)  # the marker follows the pointer before the tap
    page.wait_for_timeout(100)
    page.mouse.click(x, y)
    preview = wait_for_placed(page)

    assert f"{group.parent.name} {group.name}" in preview
    assert f"网格员：{responsible_name(app, group)}" in preview
    assert page.url.endswith("/cases/new/issue")
    assert count_cases(app) == before  # shown before anything is saved


def shown_area(text: str) -> tuple[float, float]:
    """The m² and 亩 of the live area line, such as 面积：1,234.56 m²（1.85 亩）."""
    match = re.search(r"([\d,]+\.\d+) m²（([\d,]+\.\d+) 亩）", text)
    assert match, text
    return tuple(float(g.replace(",", "")) for g in match.groups())


def test_the_area_is_shown_live_while_a_polygon_is_drawn(page, served):
    from pyproj import Geod

    app, _base = served
    _user, group = member_and_group(app)
    a, b, c, d = inner_square(group)
    geod = Geod(ellps="WGS84")
    triangle = abs(geod.geometry_area_perimeter(shapely.Polygon([a, b, c]))[0])
    square = abs(geod.geometry_area_perimeter(shapely.Polygon([a, b, c, d]))[0])
    open_form(page, "farmland")
    page.evaluate(  # zoom to the square, as a user would, so a pixel is a small part of a side
        "(r) => reportMap.map.fitBounds([[r[1], r[0]], [r[3], r[2]]], {animate: false, padding: [30, 30]})",
        [a[0], a[1], c[0], c[1]],
    )

    page.click(".leaflet-draw-draw-polygon")
    corners = [map_point(page, *p) for p in (a, b, c, d)]
    for x, y in corners[:3]:
        page.mouse.move(x, y, steps=3)
        page.wait_for_timeout(100)
        page.mouse.click(x, y)
    after_three_taps = page.text_content("#draw-area")
    page.mouse.move(*corners[3], steps=3)  # the pointer over the fourth corner, not yet tapped
    page.wait_for_timeout(100)
    hovering = page.text_content("#draw-area")
    still_drawing = page.evaluate("reportMap.shapes.getLayers().length") == 0
    unsaved = page.input_value("textarea[name=geometry]")

    assert still_drawing and unsaved == ""
    m2, mu = shown_area(after_three_taps)
    assert m2 == pytest.approx(triangle, rel=0.02)
    assert mu == pytest.approx(m2 / (10000 / 15), rel=0.001)  # 1 亩 = 666.67 m²
    m2, mu = shown_area(hovering)
    assert m2 == pytest.approx(square, rel=0.02)
    assert mu == pytest.approx(m2 / (10000 / 15), rel=0.001)
