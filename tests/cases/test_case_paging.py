"""Keyset paging of /cases on both backends: every case once and in order, filters kept, bad cursors 400."""

import html as html_lib
import re
from datetime import date

import pytest
import shapely
from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User
from inspection.cases import keyset, views
from inspection.cases.models import Case
from inspection.cases.records import create_case
from tests.conftest import login, migrated_app, reset_postgis
from tests.test_route_access import seed_county

PAGE = 4
# (x, y) of points in PG01-01, PG01-02, PG02-01 (town PG) and SQ01-01 (town SQ)
SPOTS = [(113.0025, 30.005), (113.0075, 30.005), (113.015, 30.005), (113.03, 30.005)]
# Deadlines long past, several shared, so the overdue order needs its id tie-breaker.
DEADLINES = [date(2020, 1, 5), date(2020, 1, 3), date(2020, 1, 5), None, date(2020, 1, 1)]


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def app(request, tmp_path, pg_url, monkeypatch):
    """The app on SQLite and on PostGIS, with pages of four cases."""
    monkeypatch.setattr(views, "PAGE_SIZE", PAGE)
    if request.param == "sqlite":
        app = migrated_app(tmp_path)
    elif not pg_url:
        pytest.skip("TEST_DATABASE_URL not set: no PostGIS server")
    else:
        reset_postgis(pg_url).dispose()
        app = migrated_app(tmp_path, DATABASE_URL=pg_url)
    yield app
    app.extensions["db_engine"].dispose()


def add_case(app, n: int) -> int:
    """Report the n-th case (spot and deadline by n) as the admin; its id."""
    with app.app_context():
        s = db.session()
        admin = s.scalar(select(User).where(User.username == "admin"))
        case, _ = create_case(
            s,
            "issue",
            shapely.Point(*SPOTS[n % len(SPOTS)]),
            {"title": f"问题{n}", "category": "garbage"},
            admin,
        )
        case.deadline_on = DEADLINES[n % len(DEADLINES)]
        s.commit()
        return case.id


@pytest.fixture
def county(app):
    """The two-town county with 22 cases besides the seed case."""
    seed_county(app)
    for n in range(22):
        add_case(app, n)
    return app


def expected(app, *, town: str | None = None, village: str | None = None, overdue=False):
    """The ids the list should show, in its order, computed here from every case's fields."""
    with app.app_context():
        rows = db.session.scalars(select(Case)).all()
        picked = [
            c
            for c in rows
            if (town is None or (c.town and c.town.code == town))
            and (village is None or (c.village and c.village.code == village))
            and (not overdue or (c.deadline_on is not None and c.status == "reported"))
        ]
    if overdue:
        return [c.id for c in sorted(picked, key=lambda c: (c.deadline_on, c.id))]
    return sorted((c.id for c in picked), reverse=True)


def ids_of(page: str) -> list[int]:
    """The case ids a list page shows, in order."""
    return [int(v) for v in re.findall(r'<li data-case-id="(\d+)"', page)]


def link(page: str, rel: str) -> str | None:
    """The page's 下一页 (next) or 上一页 (prev) link, unescaped; None when there is none."""
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return html_lib.unescape(found.group(1)) if found else None


def walk(client, start: str, rel: str) -> tuple[list[list[int]], list[str]]:
    """Follow rel links from start to the end: the pages' ids and the links followed."""
    pages, links, url = [], [], start
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        pages.append(ids_of(text))
        url = link(text, rel)
        if url is not None:
            links.append(url)
        assert len(pages) < 50
    return pages, links


@pytest.mark.parametrize(
    ("user", "query", "scope"),
    [
        ("xian", "", {}),
        ("xian", "overdue=1", {"overdue": True}),
        ("zhangzhen", "village=PG01&source=patrol", {"village": "PG01"}),
        ("zhangzhen", "overdue=1&village=PG01", {"village": "PG01", "overdue": True}),
        ("zhang_sq", "", {"town": "SQ"}),
    ],
)
def test_walking_every_page_forward_and_back_shows_each_case_once_in_order(
    county, user, query, scope
):
    client = county.test_client()
    login(client, user)
    want = expected(county, **scope)

    forward, links = walk(client, f"/cases?{query}", "next")
    last_page = f"/cases?{query}" if not links else links[-1]
    backward, back_links = walk(client, last_page, "prev")

    assert [i for page in forward for i in page] == want and len(want) > PAGE
    assert all(len(page) == PAGE for page in forward[:-1])
    assert backward == forward[::-1]
    for url in links + back_links:  # every filter is kept by 下一页 and 上一页
        assert all(part in url for part in query.split("&") if part), url
    assert "page=" not in "".join(links)


def test_a_case_reported_between_page_loads_is_not_shown_twice(county):
    client = county.test_client()
    login(client, "xian")
    first = client.get("/cases").get_data(as_text=True)

    add_case(county, 100)  # the newest: OFFSET paging would push the first page's last row on
    second = client.get(link(first, "next")).get_data(as_text=True)

    assert not set(ids_of(first)) & set(ids_of(second))
    want = expected(county)
    assert ids_of(second) == want[want.index(ids_of(first)[-1]) + 1 :][:PAGE]


def test_an_overdue_case_added_before_the_cursor_is_not_shown_twice(county):
    client = county.test_client()
    login(client, "xian")
    first = client.get("/cases?overdue=1").get_data(as_text=True)

    add_case(county, 104)  # deadline 2020-01-01: sorts onto the first page
    second = client.get(link(first, "next")).get_data(as_text=True)

    assert not set(ids_of(first)) & set(ids_of(second))
    assert ids_of(second) and "overdue=1" in link(first, "next")


def cursor(text: str) -> str:
    """Raw cursor text encoded as the app's cursors are (to forge wrong ones)."""
    return keyset.base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "after=not-a-cursor!",
        "before=%E4%B8%AD%E6%96%87",
        "after=99999999999999999999",
        f"after={cursor('n:99999999999999999999')}",
        f"after={cursor('n:0')}",
        f"after={cursor('n:-5')}",
        f"after={cursor('n:12:3')}",
        f"after={cursor('d:2020-01-05:3')}",  # a cursor of the overdue order on the plain list
        f"overdue=1&after={cursor('n:3')}",
        f"overdue=1&after={cursor('d:2020-13-05:3')}",
        f"overdue=1&before={cursor('d:20200105:3')}",
        f"after={cursor('n:3')}&before={cursor('n:9')}",
        "after=" + "A" * 200,
    ],
)
def test_a_bad_cursor_is_a_400_with_a_reason_and_the_first_page(county, query):
    client = county.test_client()
    login(client, "xian")

    response = client.get(f"/cases?{query}")

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "翻页参数无效" in text
    overdue = "overdue=1" in query
    assert ids_of(text) == expected(county, overdue=overdue)[:PAGE]


def test_a_cursor_from_a_page_still_works_after_its_row_is_deleted(county):
    client = county.test_client()
    login(client, "xian")
    first = client.get("/cases").get_data(as_text=True)
    with county.app_context():
        s = db.session()
        db.begin_write(s)
        s.delete(s.get(Case, ids_of(first)[-1]))
        s.commit()

    second = client.get(link(first, "next"))

    want = expected(county)
    assert second.status_code == 200
    assert ids_of(second.get_data(as_text=True)) == want[PAGE - 1 : 2 * PAGE - 1]
