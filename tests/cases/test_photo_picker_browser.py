"""Photo fields in Chromium: 拍照 / 从相册选择 buttons in Chinese, no browser "Choose Files" text, photos still sent."""

import pytest
from PIL import Image
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.cases import workflow
from inspection.cases.models import Case, Photo
from tests.cases.test_report_browser import (  # noqa: F401  (the fixture `served`)
    CASE_PAGE,
    SUBMIT,
    count_cases,
    fill_issue,
    member_and_group,
    newest_case,
    open_form,
    served,
)

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 768}}
BROWSER_TEXT = ("Choose File", "No file chosen", "Choose Files", "No files chosen")


@pytest.fixture(params=sorted(VIEWPORTS))
def page(request, browser, served):  # noqa: F811
    """A logged-in 网格员's page at a phone's and at a desktop's size; page errors fail the test."""
    app, base = served
    username, _group = member_and_group(app)
    context = browser.new_context(
        viewport=VIEWPORTS[request.param], service_workers="block", base_url=base, bypass_csp=True
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


def jpeg(tmp_path, name: str, shade: int) -> str:
    """A small JPEG of its own content (photos of one case are kept once per content)."""
    path = tmp_path / name
    Image.new("RGB", (120, 90), (shade, 160, 60)).save(path, "JPEG")
    return str(path)


def file_inputs_seen(page) -> list[dict]:
    """Every file input of the page: its size on screen, its label's text and size, capture and name."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('input[type=file]')).map((input) => {
            const box = input.getBoundingClientRect();
            const label = document.querySelector(`label[for="${input.id}"]`);
            const lbox = label && label.getBoundingClientRect();
            return {
                id: input.id, name: input.name, capture: input.getAttribute('capture'),
                accept: input.accept, multiple: input.multiple, tabIndex: input.tabIndex,
                width: box.width, height: box.height,
                label: label ? label.innerText.trim() : null,
                labelWidth: lbox ? lbox.width : 0, labelHeight: lbox ? lbox.height : 0,
                labelShown: !!label && getComputedStyle(label).visibility === 'visible'
                    && label.offsetParent !== null,
            };
        })"""
    )


def assert_photo_buttons(page, picker_id: str) -> None:
    """The picker's two buttons are Chinese, tappable and shown; the native inputs are not seen."""
    inputs = {i["id"]: i for i in file_inputs_seen(page)}
    camera, gallery = inputs[f"{picker_id}-camera"], inputs[picker_id]
    assert camera["label"] == "拍照" and gallery["label"] == "从相册选择"
    assert camera["capture"] == "environment" and camera["accept"] == "image/*"
    assert gallery["multiple"] and gallery["capture"] is None
    for shown in (camera, gallery):
        assert shown["labelShown"] and shown["labelHeight"] >= 44 and shown["labelWidth"] >= 44
        assert shown["tabIndex"] == 0
    text = page.inner_text("body")
    assert not [t for t in BROWSER_TEXT if t in text]
    # The browser draws "Choose Files / No file chosen" inside the input itself: none is seen.
    assert all(i["width"] <= 1 and i["height"] <= 1 for i in inputs.values()), inputs


def test_the_report_form_has_camera_and_album_buttons_and_sends_both(page, served, tmp_path):  # noqa: F811
    app, _base = served
    _user, group = member_and_group(app)
    before = count_cases(app)
    open_form(page, "issue")

    assert_photo_buttons(page, "photos")
    assert page.text_content("#photos-label").startswith("照片")
    assert "尚未选择照片" in page.inner_text(".photo-picker")
    # Keyboard: Tab from the description reaches the camera input, and its button shows the focus.
    page.focus("textarea[name=remarks]")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "photos-camera":
            break
    assert page.evaluate("document.activeElement.id") == "photos-camera"
    ring = page.evaluate(
        "getComputedStyle(document.querySelector('label[for=photos-camera]')).outlineStyle"
    )
    assert ring == "solid"

    page.set_input_files("#photos", [jpeg(tmp_path, "a.jpg", 10), jpeg(tmp_path, "b.jpg", 90)])
    page.set_input_files("#photos-camera", jpeg(tmp_path, "camera.jpg", 200))
    listed = page.locator("#photo-list li").all_inner_texts()
    assert [t.split(" (")[0] for t in listed] == ["a.jpg", "b.jpg", "camera.jpg"]
    assert page.is_hidden(".photo-none")
    page.click("#photo-list li:nth-child(2) .photo-remove")  # 移除 b.jpg
    assert page.locator("#photo-list li").count() == 2
    assert page.evaluate("Array.from(document.getElementById('photos').files, (f) => f.name)") == [
        "a.jpg",
        "camera.jpg",
    ]
    assert page.evaluate("document.getElementById('photos-camera').files.length") == 0
    assert page.get_attribute("#photos-camera", "name") is None  # its photo travels in #photos

    fill_issue(page, group, description="拍照按钮上报")
    page.click(SUBMIT)
    page.wait_for_url(CASE_PAGE)
    case = newest_case(app)
    assert count_cases(app) == before + 1
    assert case.description == "拍照按钮上报" and len(case.photos) == 2


def test_the_rectification_form_takes_a_photo_from_the_camera_button(page, served, tmp_path):  # noqa: F811
    app, _base = served
    _user, group = member_and_group(app)
    open_form(page, "issue")
    fill_issue(page, group, description="整改照片")
    page.click(SUBMIT)
    page.wait_for_url(CASE_PAGE)
    case_id = newest_case(app).id
    with app.app_context():  # the town confirms it; the 网格员 is then responsible for the work
        session = db.session()
        case = session.get(Case, case_id)
        town = session.scalars(select(User).where(User.role == "supervisor")).first()
        workflow.perform(session, case, town, "assign", note="")
        session.commit()

    page.goto(f"/cases/{case_id}")
    page.click("details[data-action=complete] > summary")
    picker = "after-photos-complete"
    assert_photo_buttons(page, picker)
    form = page.locator("details[data-action=complete] form")
    form.locator("textarea[name=note]").fill("已清理")
    page.set_input_files(f"#{picker}-camera", jpeg(tmp_path, "after.jpg", 250))
    assert form.locator(".photo-files li").all_inner_texts()[0].startswith("after.jpg")
    form.locator("button[type=submit]").click()
    page.wait_for_url(CASE_PAGE)

    with app.app_context():
        case = db.session.get(Case, case_id)
        after = db.session.scalars(
            select(Photo).where(Photo.case_id == case_id, Photo.stage == "after")
        ).all()
        assert case.status == "done"
        assert len(after) == 1 and after[0].status_change_id == case.history[-1].id
