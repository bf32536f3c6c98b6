"""The case page's workflow actions: buttons per role, the whole path by web, races, officers, 404s."""

import io
import re
from datetime import date, timedelta

import pytest
import shapely
from sqlalchemy import func, select

from inspection import clock, db
from inspection.accounts.models import User
from inspection.cases.models import Case, Photo, StatusChange
from inspection.cases.records import create_case
from tests.cases.test_report_forms import SQUARE_A1, jpeg_bytes, seed_town
from tests.conftest import login

CERTS = {"liuwei": "42060022001", "chenjun": "42060022002"}


def seed(app) -> dict:
    """The report-form town, two certified officers and an illegal building in group A1."""
    ids = seed_town(app)
    with app.app_context():
        s = db.session()
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
        ids.update(
            building=building.id,
            ids={u.username: u.id for u in [*users.values(), chenjun]},
        )
    return ids


@pytest.fixture
def town(app):
    """The seeded ids: case, photo, building and user ids by username."""
    return seed(app)


def as_user(app, username):
    """A test client logged in as the user."""
    client = app.test_client()
    assert login(client, username).status_code in (302, 303)
    return client


def page(client, case_id) -> str:
    """The case page's HTML."""
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def action_keys(html: str) -> set[str]:
    """The actions the page offers a form for."""
    return set(re.findall(r'/actions/(\w+)"', html))


def post(client, case_id, key, files=None, version=None, **fields):
    """Post an action form with the page's CSRF token and (by default) the version it shows."""
    html = page(client, case_id)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    shown = re.search(r'name="expected_version" value="(\d+)"', html)
    data = {
        "csrf_token": token,
        "expected_version": version if version is not None else (shown.group(1) if shown else ""),
        **fields,
    }
    data.update(files or {})
    return client.post(
        f"/cases/{case_id}/actions/{key}", data=data, content_type="multipart/form-data"
    )


def after_photo(color=(30, 160, 60)):
    """An uploaded after-work JPEG, different from the seeded before photo."""
    return {"after_photos": (io.BytesIO(jpeg_bytes(color=color)), "after.jpg")}


def state(app, case_id):
    """The case's status, version, history length and after photo count."""
    with app.app_context():
        s = db.session()
        case = s.get(Case, case_id)
        steps = s.scalar(select(func.count(StatusChange.id)).where(StatusChange.case_id == case_id))
        after = s.scalar(
            select(func.count(Photo.id)).where(Photo.case_id == case_id, Photo.stage == "after")
        )
        return case.status, case.version, steps, after


def test_page_offers_only_the_viewers_actions(app, town):
    case = town["case"]
    member, supervisor, officer = (as_user(app, u) for u in ("wgy_a1", "zhangzhen", "liuwei"))
    assert action_keys(page(member, case)) == set()
    assert action_keys(page(officer, case)) == set()
    html = page(supervisor, case)
    assert action_keys(html) == {"assign", "void"}
    assert "核实交办" in html and "平岗村" in html and "一组" in html
    assert post(supervisor, case, "assign").status_code == 303
    assert action_keys(page(member, case)) == {"start", "complete"}
    assert action_keys(page(officer, case)) == {"start", "complete"}
    html = page(supervisor, case)
    assert action_keys(html) == {"start", "complete"}
    assert 'data-light="green"' in html
    head_other = as_user(app, "cz_b")
    assert head_other.get(f"/cases/{case}").status_code == 404


def test_full_path_by_web(app, town):
    case, ids = town["case"], town["ids"]
    supervisor, member = as_user(app, "zhangzhen"), as_user(app, "wgy_a1")
    deadline = (clock.town_today() + timedelta(days=10)).isoformat()
    response = post(
        supervisor,
        case,
        "assign",
        responsible=str(ids["wgy_a1"]),
        deadline_on=deadline,
        note="请一周内清理",
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/cases/{case}")
    assert post(member, case, "start", note="已联系村民").status_code == 303
    response = post(member, case, "complete", files=after_photo(), note="已清理完毕")
    assert response.status_code == 303, response.get_data(as_text=True)
    html = page(supervisor, case)
    assert 'id="compare"' in html and action_keys(html) == {"verify", "send_back"}
    assert post(supervisor, case, "verify", note="复核通过").status_code == 303
    status, _version, steps, after = state(app, case)
    assert (status, steps, after) == ("verified", 5, 1)
    html = page(supervisor, case)
    assert html.count('class="step"') == 5
    for text in ("请一周内清理", "已联系村民", "已清理完毕", "复核通过", deadline, "用户0"):
        assert text in html
    assert action_keys(html) == set()
    with app.app_context():
        photo = db.session.scalars(select(Photo).where(Photo.stage == "after")).one()
        assert photo.status_change_id is not None
    assert f"/photos/{photo.id}/thumb.jpg" in html


def test_stale_version_is_refused_and_changes_nothing(app, town):
    case = town["case"]
    supervisor, member = as_user(app, "zhangzhen"), as_user(app, "wgy_a1")
    assert post(supervisor, case, "assign").status_code == 303
    before = state(app, case)
    stale = str(before[1] - 1)
    response = post(member, case, "complete", files=after_photo(), note="完成", version=stale)
    assert response.status_code == 409
    assert "该案件已被他人修改，请刷新后重试" in response.get_data(as_text=True)
    assert state(app, case) == before
    response = post(supervisor, case, "start", version=stale)
    assert response.status_code == 409 and state(app, case) == before


def test_a_form_without_the_version_it_was_shown_is_refused(app, town):
    case = town["case"]
    supervisor = as_user(app, "zhangzhen")
    before = state(app, case)

    response = post(supervisor, case, "assign", version="")

    assert response.status_code == 409 and "页面缺少案件版本" in response.get_data(as_text=True)
    assert state(app, case) == before


def test_no_officer_is_chosen_for_the_user_and_a_refusal_keeps_his_choice(app, town):
    """The record names the officers who were there: the page never picks them by itself."""
    building, ids = town["building"], town["ids"]
    supervisor = as_user(app, "zhangzhen")
    assert post(supervisor, building, "assign").status_code == 303

    selects = re.findall(r'<select name="officers".*?</select>', page(supervisor, building), re.S)
    refused = post(supervisor, building, "start", officers=[str(ids["chenjun"]), ""])
    kept = re.findall(r'<select name="officers".*?</select>', refused.get_data(as_text=True), re.S)

    # Two selects for "start" (demolition under way), two for "complete" (demolished).
    assert len(selects) == 4 and not any("selected" in s for s in selects)
    assert refused.status_code == 422
    assert f'value="{ids["chenjun"]}" selected' in kept[0]
    assert not any("selected" in s for s in kept[1:])


def test_demolition_needs_two_certified_officers(app, town):
    building, ids = town["building"], town["ids"]
    supervisor = as_user(app, "zhangzhen")
    assert post(supervisor, building, "assign").status_code == 303
    before = state(app, building)
    response = post(supervisor, building, "start", officers=[str(ids["liuwei"]), ""])
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "须至少2名持有效执法证的执法人员" in html
    assert state(app, building) == before
    officers = [str(ids["liuwei"]), str(ids["chenjun"])]
    assert post(supervisor, building, "start", officers=officers).status_code == 303
    response = post(
        supervisor, building, "complete", files=after_photo(), note="已拆除", officers=officers
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    html = page(supervisor, building)
    assert CERTS["liuwei"] in html and CERTS["chenjun"] in html
    assert state(app, building)[0] == "done"


def test_users_who_cannot_see_the_case_get_404(app, town):
    case = town["case"]
    before = state(app, case)
    other = as_user(app, "wgy_a2")
    token_page = other.get("/cases/new/issue").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', token_page).group(1)
    for key in ("assign", "void", "start", "nonsense"):
        response = other.post(
            f"/cases/{case}/actions/{key}",
            data={"csrf_token": token, "expected_version": str(before[1]), "note": "x"},
        )
        assert response.status_code == 404
    assert other.post("/cases/99999/actions/assign", data={"csrf_token": token}).status_code == 404
    assert state(app, case) == before


def test_a_visible_case_refuses_a_forbidden_action_on_its_page(app, town):
    case = town["case"]
    officer = as_user(app, "liuwei")
    before = state(app, case)
    response = post(officer, case, "assign", version=str(before[1]))
    assert response.status_code == 403
    assert "您无权执行" in response.get_data(as_text=True)
    assert state(app, case) == before


def test_overdue_case_shows_a_red_light_with_the_days(app, town):
    case = town["case"]
    supervisor = as_user(app, "zhangzhen")
    assert post(supervisor, case, "assign").status_code == 303
    with app.app_context():
        s = db.session()
        s.get(Case, case).deadline_on = clock.town_today() - timedelta(days=3)
        s.commit()
    html = page(supervisor, case)
    assert 'data-light="red"' in html
    assert re.search(r"3 days overdue|已超期 3 天", html)


def test_blocked_action_is_shown_disabled_with_its_reason(app, town):
    building = town["building"]
    supervisor = as_user(app, "zhangzhen")
    assert post(supervisor, building, "assign").status_code == 303
    with app.app_context():
        s = db.session()
        s.scalars(select(User).where(User.username == "chenjun")).one().cert_expires_on = date(
            2020, 1, 1
        )
        s.commit()
    html = page(supervisor, building)
    assert "start" not in action_keys(html)
    assert 'data-action="start"' in html and "持有效执法证的执法队员不足两名" in html
    assert "disabled" in html


def test_a_superior_case_offers_its_deadline_and_refuses_a_later_one(app, town):
    deadline = clock.town_today() + timedelta(days=20)
    with app.app_context():
        s = db.session()
        reporter = s.scalars(select(User).where(User.username == "wgy_a1")).one()
        superior, _ = create_case(
            s,
            "issue",
            shapely.Point(113.0025, 30.004),
            {"title": "督查交办：河道垃圾", "category": "garbage", "source": "superior",
             "doc_number": "环督〔2026〕12号", "deadline_on": deadline},
            reporter,
            client_id="seed-superior-0001",
        )  # fmt: skip
        s.commit()
        case_id = superior.id
    supervisor = as_user(app, "zhangzhen")

    html = page(supervisor, case_id)
    later = post(
        supervisor, case_id, "assign", deadline_on=(deadline + timedelta(days=5)).isoformat()
    )

    assert f'max="{deadline.isoformat()}"' in html and "不能延后" in html
    assert later.status_code == 422 and "不能延后" in later.get_data(as_text=True)
    assert post(supervisor, case_id, "assign", deadline_on=deadline.isoformat()).status_code == 303
    with app.app_context():
        assert db.session.get(Case, case_id).deadline_on == deadline


def test_work_done_earlier_is_recorded_on_its_day(app, town):
    case = town["case"]
    supervisor, member = as_user(app, "zhangzhen"), as_user(app, "wgy_a1")
    assert post(supervisor, case, "assign").status_code == 303
    today = clock.town_today()
    with app.app_context():
        s = db.session()
        for change in s.get(Case, case).history:  # as if reported and assigned a week ago
            change.on = today - timedelta(days=7)
        s.commit()
    html = page(member, case)
    too_early = (today - timedelta(days=8)).isoformat()

    refused = post(member, case, "complete", files=after_photo(), note="已清理", acted_on=too_early)
    done = post(
        member,
        case,
        "complete",
        files=after_photo(),
        note="已清理",
        acted_on=(today - timedelta(days=2)).isoformat(),
    )

    assert 'name="acted_on"' in html and f'max="{today.isoformat()}"' in html
    assert refused.status_code == 422 and "不能早于上一步的日期" in refused.get_data(as_text=True)
    assert done.status_code == 303
    with app.app_context():
        stored = db.session.get(Case, case)
        assert stored.status == "done" and stored.done_on == today - timedelta(days=2)
