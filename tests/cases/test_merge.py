"""Merging a duplicate: it closes as void pointing to the survivor, its photos move, it counts once."""

from datetime import date

import pytest
from sqlalchemy import select

from inspection.accounts.models import User
from inspection.cases.merging import merge_cases, merged_cases
from inspection.cases.models import Case, Photo
from inspection.errors import Conflict, InvalidInput, NotAllowed
from inspection.reporting.figures import year_figures
from tests.cases.test_report_forms import town  # noqa: F401  (fixture)
from tests.conftest import csrf_token, login
from tests.reporting.test_ledgers import seed_cases


def supervisor(session) -> User:
    user = User(username="zz", display_name="镇领导", role="supervisor", password_hash="x")
    session.add(user)
    session.flush()
    return user


def test_the_duplicate_closes_points_to_the_survivor_and_counts_once(session):
    cases = seed_cases(session)
    boss = supervisor(session)
    keep, dup = cases["farm_v1"], cases["farm_v2"]
    session.add(Photo(case=dup, sha256="ab" * 32, width=1, height=1, size_bytes=1))
    session.flush()
    assert year_figures(session, 2022)["farmland"]["found"] == 2

    merge_cases(
        session, keep, dup.id, boss, reason="同一地块两次上报", expected_version=keep.version
    )
    session.commit()

    assert dup.status == "void" and dup.merged_into_id == keep.id
    assert "已合并到 #" in dup.history[-1].note and dup.history[-1].actor is boss
    assert [p.sha256 for p in keep.photos] == ["ab" * 32] and dup.photos == []
    assert merged_cases(session, keep) == [dup]
    assert year_figures(session, 2022)["farmland"]["found"] == 1


def test_merges_that_make_no_sense_are_refused(session):
    cases = seed_cases(session)
    boss = supervisor(session)
    member = session.scalar(select(User).where(User.username == "wgy"))
    keep = cases["farm_v1"]

    with pytest.raises(NotAllowed):
        merge_cases(session, keep, cases["farm_v2"].id, member, reason="x")
    with pytest.raises(InvalidInput, match="同一类"):
        merge_cases(session, keep, cases["issue_v1"].id, boss, reason="x")
    with pytest.raises(InvalidInput, match="自身"):
        merge_cases(session, keep, keep.id, boss, reason="x")
    with pytest.raises(InvalidInput, match="没有这个编号"):
        merge_cases(session, keep, 99999, boss, reason="x")
    with pytest.raises(InvalidInput, match="为何"):
        merge_cases(session, keep, cases["farm_v2"].id, boss, reason=" ")
    with pytest.raises(Conflict):
        merge_cases(
            session, keep, cases["farm_v2"].id, boss, reason="x", expected_version=keep.version + 5
        )
    merge_cases(session, keep, cases["farm_v2"].id, boss, reason="同一处")
    with pytest.raises(Conflict, match="已合并"):
        merge_cases(session, cases["farm_v2"], keep.id, boss, reason="反过来")


def test_the_case_page_merges_for_a_supervisor_and_shows_both(app, client, town):  # noqa: F811
    import shapely

    from inspection import db
    from inspection.cases.records import create_case

    with app.app_context():
        s = db.session()
        member = s.scalar(select(User).where(User.username == "wgy_a1"))
        second, _ = create_case(
            s,
            "issue",
            shapely.Point(113.0026, 30.005),
            {"title": "桥下垃圾", "category": "garbage"},
            member,
            found_on=date(2026, 12, 1),
        )
        s.commit()
        second_id = second.id
    login(client, "zhangzhen")
    page = f"/cases/{town['case']}"
    token = csrf_token(client, page)
    version = db_version(app, town["case"])

    merged = client.post(
        f"{page}/merge",
        data={
            "csrf_token": token,
            "duplicate_id": f"#{second_id}",
            "reason": "同一堆垃圾",
            "expected_version": version,
        },
    )
    html = client.get(page).get_data(as_text=True)
    other = client.get(f"/cases/{second_id}").get_data(as_text=True)

    assert merged.status_code == 303
    assert "桥下垃圾" in html.split("merged-from")[1]
    assert f'href="/cases/{town["case"]}"' in other.split('id="merged-into"')[1]

    client.post("/auth/logout", data={"csrf_token": csrf_token(client, page)})
    login(client, "wgy_a1")
    refused = client.post(
        f"{page}/merge",
        data={"csrf_token": csrf_token(client, page), "duplicate_id": "5", "reason": "x"},
    )
    assert refused.status_code == 403


def db_version(app, case_id: int) -> int:
    from inspection import db

    with app.app_context():
        return db.session.get(Case, case_id).version


@pytest.mark.parametrize("number", ["abc", "１２", "99999999999999999999", "4294967296"])
def test_a_number_that_is_no_case_is_refused_not_a_500(app, client, town, number):  # noqa: F811
    login(client, "zhangzhen")
    page = f"/cases/{town['case']}"

    response = client.post(
        f"{page}/merge",
        data={"csrf_token": csrf_token(client, page), "duplicate_id": number, "reason": "x",
              "expected_version": db_version(app, town["case"])},
    )  # fmt: skip

    assert response.status_code == 422

