"""Issue 20 in real Chromium, on a phone (390×844, touch) and a desktop (1366×768): the top bar with each
entry once and the menu behind one button, tables that fit (cards on the phone, totals first), /login,
the tab icon and the web app manifest."""

import json

import pytest
from sqlalchemy import select

from inspection import db
from inspection.cases.models import Case
from inspection.ops.demo import load_demo
from tests.browser_support import make_app, serving
from tests.conftest import login

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo town served in a thread: (base URL, the app, an open issue's and building's ids)."""
    app = make_app(tmp_path_factory.mktemp("newcomer"))
    with app.app_context():
        session = db.session()
        load_demo(session)  # today's demo: its officers' certificates are valid now
        session.commit()
        ids = {
            kind: session.scalar(
                select(Case.id).where(Case.kind == kind, Case.status == "in_progress").order_by(Case.id)
            )
            for kind in ("issue", "illegal_building")
        }
    with serving(app) as base:
        yield base, app, ids


def logged_in(browser, base, size, username="zhangzhen"):
    """A page of a new context of that size, logged in through /login (the short address)."""
    context = browser.new_context(base_url=base, locale="zh-CN", **size)
    page = context.new_page()
    page.goto("/login")
    assert page.url.endswith("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def nav_texts(page) -> list[str]:
    """The visible texts of the top bar's links and buttons."""
    return page.eval_on_selector_all(
        "#site-nav a, #site-nav button", "els => els.map(e => e.textContent.trim())"
    )


@SIZES
def test_each_menu_entry_once_and_on_a_phone_one_line_with_a_menu_button(browser, demo, size):
    base, _, ids = demo
    page = logged_in(browser, base, size)
    for path in ("/cases/new/issue", f"/cases/{ids['issue']}", "/cases", "/patrols"):
        page.goto(path)
        texts = nav_texts(page)
        assert texts.count("案件") == 1 and texts.count("巡查") == 1, (path, texts)
    page.goto(f"/cases/{ids['issue']}")
    assert page.get_attribute('#site-nav a[aria-current="page"]', "href") == "/cases"
    bar = page.locator(".topbar").bounding_box()
    toggle = page.locator(".menu-toggle")
    if size is PHONE:
        assert bar["height"] <= 56  # one line: the name and the menu button
        assert toggle.is_visible() and toggle.inner_text() == "菜单"
        assert not page.locator("#site-nav").is_visible()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert page.locator("#site-nav .who").is_visible()  # the user's name …
        assert page.get_by_role("button", name="退出").is_visible()  # … and 退出 in the menu
        box = page.locator("#site-nav").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.keyboard.press("Escape")
        assert not page.locator("#site-nav").is_visible()
    else:
        assert not toggle.is_visible() and page.locator("#site-nav .who").is_visible()
        assert bar["height"] <= 60
    page.context.close()


@SIZES
def test_the_year_table_and_the_home_counts_fit_with_the_totals_first_on_a_phone(browser, demo, size):
    base, _, _ = demo
    page = logged_in(browser, base, size)
    width = size["viewport"]["width"]
    for path, table in (("/report?year=2022", "#village-figures"), ("/", "table.counts")):
        page.goto(path)
        fits = page.eval_on_selector(
            table,
            """(t, width) => [...t.querySelectorAll('td, th')]
                 .filter(c => c.getClientRects().length)
                 .every(c => c.getBoundingClientRect().right <= width + 0.5)""",
            width,
        )
        wrap = page.eval_on_selector(table, "t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]")
        assert fits and wrap[0] <= wrap[1], (path, wrap)  # nothing clipped, nothing to scroll to
        if size is PHONE:
            first_total = page.locator(f"{table} tfoot tr").bounding_box()["y"]
            first_row = page.locator(f"{table} tbody tr").first.bounding_box()["y"]
            assert first_total < first_row  # the totals come first
            shown, label = page.eval_on_selector(
                table,
                """t => { const td = t.querySelector('tfoot td');
                          return [getComputedStyle(td, '::before').content, td.dataset.label]; }""",
            )
            assert label and shown == f'"{label}"'  # each figure says what it is
    page.goto("/")
    visible = page.eval_on_selector_all(
        "table.counts tfoot td", "tds => tds.filter(td => td.getClientRects().length).length"
    )
    assert visible == 7  # every status and the total, none hidden off screen
    page.context.close()


def test_icon_manifest_and_login_address_answer(browser, demo):
    base, _, _ = demo
    context = browser.new_context(base_url=base, **PHONE)
    page = context.new_page()
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto("/login?next=/cases")
    assert page.url == f"{base}/auth/login?next=/cases"
    icon = page.request.get("/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/vnd.microsoft.icon"
    href = page.get_attribute('link[rel="manifest"]', "href")
    manifest = json.loads(page.request.get(href).text())
    assert manifest["name"] == "网格巡查" and manifest["display"] == "standalone"
    for entry in manifest["icons"]:
        answer = page.request.get(entry["src"])
        assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    page.wait_for_timeout(300)  # the browser's own icon probe
    assert failed == []
    context.close()


def test_the_certificate_hint_shows_only_where_officers_act(demo):
    _, app, ids = demo
    client = app.test_client()
    login(client, "zhangzhen")
    hint = "执法人员须在该日持有有效执法证"

    issue = client.get(f"/cases/{ids['issue']}").get_data(as_text=True)
    officer = app.test_client()
    login(officer, "liuwei")  # a demolition is recorded by certified officers
    building = officer.get(f"/cases/{ids['illegal_building']}").get_data(as_text=True)

    assert 'name="acted_on"' in issue and hint not in issue and "事后补录时才填写。" in issue
    assert 'name="acted_on"' in building and hint in building


@SIZES
def test_the_track_upload_shows_a_chinese_file_button(browser, demo, size):
    base, _, _ = demo
    page = logged_in(browser, base, size)
    page.goto("/patrols/upload")

    assert page.locator("label.file-button", has_text="选择文件").is_visible()
    assert page.locator("text=尚未选择文件").is_visible()
    boxes = page.eval_on_selector_all(
        "input[type=file]", "els => els.map(e => [e.getBoundingClientRect().width, e.required])"
    )
    assert boxes == [[1, True]]  # the browser's own "Choose File" is hidden, still required
    page.set_input_files("input[name=track]", files=[{"name": "walk.gpx", "mimeType": "application/gpx+xml", "buffer": b"<gpx/>"}])
    assert page.locator(".file-name").inner_text().startswith("walk.gpx")
    page.context.close()
