"""The demo county: towns side by side under 演示县, each with its staff and cases, scoped, loaded once."""

from datetime import date
from itertools import combinations

import shapely
from sqlalchemy import func, select

from inspection.accounts.models import User
from inspection.cases.access import can_see
from inspection.cases.models import Case, StatusChange
from inspection.grid.models import GridCell
from inspection.ops.demo_cases import ALL_SPECS
from inspection.ops.demo_county import COUNTY_CODE, load_demo_county, town_centre, village_names

TODAY = date(2026, 11, 20)
# Square degrees: 1e-12 deg² is about 0.01 m² at 30° N.
ZERO_DEG2 = 1e-12


def cells(session, level: str) -> dict[str, GridCell]:
    """The stored cells of one level by code."""
    return {c.code: c for c in session.scalars(select(GridCell).where(GridCell.level == level))}


def counts(session) -> list[int]:
    """Cells, users, cases and history rows."""
    return [
        session.scalar(select(func.count()).select_from(m)) for m in (GridCell, User, Case, StatusChange)
    ]


def user(session, username: str) -> User:
    """The user of that login."""
    return session.scalar(select(User).where(User.username == username))


def test_a_demo_county_of_three_towns_is_a_valid_tree_with_scoped_staff(session):
    result = load_demo_county(session, towns=3, today=TODAY)
    session.commit()

    towns, villages = cells(session, "town"), cells(session, "village")
    (county,) = cells(session, "county").values()
    assert county.code == COUNTY_CODE and county.name == "演示县"
    assert sorted(towns) == ["PG", "T02", "T03"] and result["towns_added"] == 2
    assert {t.name for t in towns.values()} == {"平岗镇", "石门镇", "河口镇"}
    assert all(t.parent_id == county.id for t in towns.values())
    for a, b in combinations(towns.values(), 2):
        assert shapely.intersection(a.boundary, b.boundary).area < ZERO_DEG2, (a.code, b.code)
    for village in villages.values():
        assert village.parent.code == village.code[: len(village.parent.code)]
        assert shapely.difference(village.boundary, village.parent.boundary).area < ZERO_DEG2
    names_t02 = {v.name for v in villages.values() if v.parent.code == "T02"}
    names_pg = {v.name for v in villages.values() if v.parent.code == "PG"}
    assert "石门村" in names_t02 and not names_t02 & names_pg

    by_town = {code: 0 for code in towns}
    for case in session.scalars(select(Case)):
        group = session.get(GridCell, case.group_id)
        assert group.parent.parent_id == case.town_id
        assert shapely.covered_by(case.geom, group.boundary.buffer(1e-9)), case.id
        by_town[session.get(GridCell, case.town_id).code] += 1
    assert by_town["PG"] == len(ALL_SPECS)  # 平岗镇 is the demo town, untouched
    assert 0 < by_town["T02"] <= len(ALL_SPECS) and 0 < by_town["T03"] <= len(ALL_SPECS)
    assert result["cases"] == sum(by_town.values())

    all_cases = list(session.scalars(select(Case)))
    town_of = {c.id: session.get(GridCell, c.town_id).code for c in all_cases}
    for login, town in (("zz_t02", "T02"), ("zhangzhen", "PG"), ("liuwei", "PG"), ("zf_t03_1", "T03")):
        seen = {town_of[c.id] for c in all_cases if can_see(user(session, login), c)}
        assert seen == {town}, login
    county_user = user(session, "county")
    assert county_user.role == "county" and all(can_see(county_user, c) for c in all_cases)
    assert all(user(session, name) is not None for name in result["logins"])
    assert {"county", "zz_t03", "wgy_t0301_01", "cz_t0201"} <= set(result["logins"])

    docs = {c.enforcement_doc_no for c in all_cases if c.enforcement_doc_no and town_of[c.id] == "T02"}
    assert docs and all(d.startswith("石门镇责拆字") for d in docs)

    before = counts(session)
    again = load_demo_county(session, towns=3, today=TODAY)
    session.commit()
    assert again["towns_added"] == 0 and counts(session) == before
    assert again["logins"] == result["logins"]


def test_town_centres_are_far_enough_apart_and_village_names_unique():
    centres = [town_centre(n, 20) for n in range(1, 21)]
    assert centres[0] == (113.62, 29.85) and len(set(centres)) == 20
    names = [name for n in range(2, 31) for name in village_names(n, 12)]
    assert len(names) == len(set(names)) == 29 * 12
