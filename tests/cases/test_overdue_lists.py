"""Overdue lists: each role's home page, and the /cases list filtered by village, kind and overdue.

The clock is fixed: the domain functions take `today`, and the pages' town_today is pinned.
"""

import re
from datetime import date

import pytest
import shapely
from sqlalchemy import select

from inspection import clock, db
from inspection.accounts.models import User
from inspection.cases import lists
from inspection.cases.history import record_change
from inspection.cases.lists import ListFilters, case_list_query, home_overdue, list_filters
from inspection.cases.models import Case
from inspection.cases.records import create_case
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell
from tests.cases.test_report_forms import seed_town
from tests.cases.test_workflow import create_canned_case, create_canned_grid, create_canned_users
from tests.conftest import login

TODAY = date(2022, 6, 10)


# --- the domain, on SQLite and PostGIS ----------------------------------------------------------


@pytest.fixture
def cases(session):
    """Canned users and cases around TODAY; the overdue ones are named by letter."""
    grid = create_canned_grid(session)
    users = create_canned_users(session, grid)

    def make(kind, group, status, deadline_on, responsible=None):
        case = create_canned_case(
            session, grid, users, kind=kind, group=group, status=status, deadline_on=deadline_on
        )
        if responsible is not None:
            case.responsible = users[responsible]
        return case

    made = {
        "a": make("issue", "A1", "assigned", date(2022, 5, 31)),
        "f": make("issue", "A1", "in_progress", date(2022, 6, 1), "member_same_group"),
        "b": make("farmland", "A2", "in_progress", date(2022, 6, 5), "member_other_group"),
        "c": make("illegal_building", "B1", "assigned", date(2022, 6, 9)),
        "due_today": make("issue", "A1", "assigned", TODAY),
        "later": make("issue", "A1", "assigned", date(2022, 6, 30)),
        "fixed": make("issue", "A1", "done", date(2022, 5, 20)),
        "verified": make("farmland", "A2", "verified", date(2022, 5, 20)),
    }
    session.commit()
    return users, grid, made


HOME = {  # persona: (scope, overdue cases in order, most overdue first)
    "responsible": ("mine", "a"),
    "member_same_group": ("mine", "f"),
    "member_other_group": ("mine", "b"),
    "head": ("village", "afb"),
    "head_other": ("village", "c"),
    "supervisor": ("town", "afbc"),
    "admin": ("town", "afbc"),
    "officer": ("town", "afbc"),
}


@pytest.mark.parametrize("persona", HOME)
def test_each_home_page_lists_its_overdue_cases(session, cases, persona):
    users, _grid, made = cases
    scope, letters = HOME[persona]

    listed = home_overdue(session, users[persona], TODAY)

    assert listed.scope == scope
    assert [c.id for c in listed.cases] == [made[x].id for x in letters]
    assert listed.total == len(letters)


def test_a_case_becomes_overdue_the_day_after_its_deadline(session, cases):
    users, _grid, made = cases
    supervisor = users["supervisor"]

    on_the_day = home_overdue(session, supervisor, TODAY)
    next_day = home_overdue(session, supervisor, date(2022, 6, 11))

    assert made["due_today"].id not in [c.id for c in on_the_day.cases]
    assert made["due_today"].id in [c.id for c in next_day.cases]


def test_the_home_list_is_capped_and_counts_the_rest(session, cases, monkeypatch):
    users, _grid, _made = cases
    monkeypatch.setattr(lists, "HOME_LIMIT", 2)

    listed = home_overdue(session, users["supervisor"], TODAY)

    assert (len(listed.cases), listed.total) == (2, 4)


def test_a_village_heads_link_opens_his_village(session, cases):
    users, grid, _made = cases

    assert home_overdue(session, users["head"], TODAY).link_args == {
        "overdue": "1",
        "village": grid["A"].code,
    }
    assert home_overdue(session, users["supervisor"], TODAY).link_args == {"overdue": "1"}


@pytest.mark.parametrize(
    "args, letters",
    [
        ({"overdue": "1"}, "afbc"),
        ({"overdue": "1", "village": "T01"}, "afb"),
        ({"overdue": "1", "village": "T01", "kind": "issue"}, "af"),
        ({"overdue": "1", "kind": "farmland"}, "b"),
        ({"overdue": "1", "village": "T02", "kind": "issue"}, ""),
        ({"overdue": "true", "kind": "no-such-kind"}, "afbc"),  # unknown kind dropped, as on maps
    ],
)
def test_the_case_list_combines_overdue_village_and_kind(session, cases, args, letters):
    users, _grid, made = cases
    supervisor = users["supervisor"]

    filters = list_filters(session, supervisor, args)
    found = session.scalars(case_list_query(supervisor, filters, TODAY)).all()

    assert [c.id for c in found] == [made[x].id for x in letters]


def test_without_the_overdue_filter_every_visible_case_is_listed(session, cases):
    users, grid, made = cases
    head = users["head"]

    filters = list_filters(session, head, {"village": "T01"})
    found = {c.id for c in session.scalars(case_list_query(head, filters, TODAY))}

    assert found == {c.id for c in made.values() if c.village_id == grid["A"].id}
    assert filters.query_args() == {"village": "T01"}
    assert filters.query_args(kind="farmland", village=None) == {"kind": "farmland"}


@pytest.mark.parametrize(
    "persona, code", [("head", "T02"), ("supervisor", "NOPE"), ("head", "T01-01")]
)
def test_a_village_one_cannot_see_is_refused(session, cases, persona, code):
    users, _grid, _made = cases

    with pytest.raises(InvalidInput) as refused:
        list_filters(session, users[persona], {"village": code})

    assert refused.value.code == "bad_village"
    assert "村" in refused.value.message_zh


# --- the pages (SQLite) --------------------------------------------------------------------------


@pytest.fixture
def town(app, monkeypatch):
    """The report-form town with overdue and punctual cases, and the pages' clock at TODAY."""
    monkeypatch.setattr(clock, "town_today", lambda: TODAY)
    seed_town(app)
    with app.app_context():
        s = db.session()
        db.begin_write(s)
        users = {u.username: u for u in s.scalars(select(User))}
        groups = {c.code: c for c in s.scalars(select(GridCell).where(GridCell.level == "group"))}

        def make(kind, code, title, deadline_on, status="assigned"):
            west, south, _e, _n = groups[code].boundary.bounds
            geom = shapely.box(west + 0.001, south + 0.001, west + 0.002, south + 0.002)
            fields = {"title": title} | ({"category": "garbage"} if kind == "issue" else {})
            case, _ = create_case(s, kind, geom, fields, users["wgy_a1"])
            record_change(s, case, status, users["zhangzhen"], on=date(2022, 5, 1))
            case.deadline_on = deadline_on
            return case

        made = {
            "a1_issue": make("issue", "PG01-01", "一组逾期问题", date(2022, 5, 31)),
            "a2_farm": make("farmland", "PG01-02", "二组逾期复耕", date(2022, 6, 1)),
            "b_building": make("illegal_building", "PG02-01", "三组逾期违建", date(2022, 6, 2)),
            "a1_later": make("issue", "PG01-01", "一组未到期问题", date(2022, 7, 1)),
        }
        s.commit()
        return {key: case.id for key, case in made.items()}


def as_user(app, username):
    """A test client logged in as the user."""
    client = app.test_client()
    assert login(client, username).status_code in (302, 303)
    return client


def listed_ids(html: str, section: str = 'id="overdue"') -> list[int]:
    """The case ids of the overdue card (home) or the case list, in order."""
    part = html[html.index(section) :]
    part = part[: part.index("</section>")]
    return [int(i) for i in re.findall(r'data-case-id="(\d+)"', part)]


@pytest.mark.parametrize(
    "username, scope, keys, heading",
    [
        ("wgy_a1", "mine", ["a1_issue"], "我的逾期案件"),
        ("wgy_a2", "mine", ["a2_farm"], "我的逾期案件"),
        ("cz_a", "village", ["a1_issue", "a2_farm"], "平岗村逾期案件"),
        ("cz_b", "village", ["b_building"], "石桥村逾期案件"),
        ("zhangzhen", "town", ["a1_issue", "a2_farm", "b_building"], "全镇逾期案件"),
    ],
)
def test_the_home_page_shows_the_viewers_overdue_cases(app, town, username, scope, keys, heading):
    html = as_user(app, username).get("/").get_data(as_text=True)

    assert f'data-scope="{scope}"' in html
    assert listed_ids(html) == [town[k] for k in keys]
    assert heading in html
    assert "逾期" in html and "天" in html


def test_the_home_link_opens_the_filtered_list(app, town):
    client = as_user(app, "cz_a")
    html = client.get("/").get_data(as_text=True)
    link = re.search(r'href="(/cases\?[^"]+)"', html[html.index('id="overdue"') :]).group(1)

    listed = client.get(link.replace("&amp;", "&"))

    assert "overdue=1" in link and "village=PG01" in link
    assert listed.status_code == 200
    assert listed_ids(listed.get_data(as_text=True), 'id="case-list"') == [
        town["a1_issue"],
        town["a2_farm"],
    ]


def test_the_case_list_filters_stay_in_the_url(app, town):
    client = as_user(app, "zhangzhen")

    html = client.get("/cases?overdue=1&village=PG01&kind=issue").get_data(as_text=True)

    assert listed_ids(html, 'id="case-list"') == [town["a1_issue"]]
    assert 'name="overdue" value="1" checked' in html
    assert re.search(r'<option value="PG01" selected>', html)
    farmland_tab = re.search(r'href="([^"]*kind=farmland[^"]*)"', html).group(1)
    assert "overdue=1" in farmland_tab and "village=PG01" in farmland_tab
    assert "逾期" in html


def test_a_bad_village_in_the_list_url_is_a_400_with_a_reason(app, town):
    response = as_user(app, "cz_a").get("/cases?overdue=1&village=PG02")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "无权查看该村" in html
    assert listed_ids(html, 'id="case-list"') == [town["a1_issue"], town["a2_farm"]]


def test_the_case_list_without_filters_is_unchanged(app, town):
    html = as_user(app, "zhangzhen").get("/cases").get_data(as_text=True)

    ids = listed_ids(html, 'id="case-list"')
    assert ids == sorted(ids, reverse=True) and set(town.values()) <= set(ids)
    assert ListFilters().query_args() == {}


def test_a_grid_members_home_link_lists_just_his_cases(app, town):
    """His group may hold overdue cases another person answers for: the link leaves those out."""
    with app.app_context():
        s = db.session()
        db.begin_write(s)
        other = s.scalars(select(User).where(User.username == "cz_a")).one()
        s.get(Case, town["a1_later"]).deadline_on = date(2022, 5, 20)  # now overdue too
        s.get(Case, town["a1_later"]).responsible = other
        s.commit()
    client = as_user(app, "wgy_a1")
    html = client.get("/").get_data(as_text=True)
    link = re.search(r'href="(/cases\?[^"]+)"', html[html.index('id="overdue"') :]).group(1)

    mine = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    group = client.get("/cases?overdue=1").get_data(as_text=True)

    assert "mine=1" in link and listed_ids(html) == [town["a1_issue"]]
    assert listed_ids(mine, 'id="case-list"') == [town["a1_issue"]]
    assert 'name="mine" value="1" checked' in mine
    assert listed_ids(group, 'id="case-list"') == [town["a1_later"], town["a1_issue"]]
