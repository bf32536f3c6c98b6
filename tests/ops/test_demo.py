"""The synthetic town's grid, and the demo data: its 2022 figures, its history and its idempotence."""

import time as clock
from collections import Counter
from datetime import date

import numpy as np
import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodata.grid import build_tree
from geodata.synthetic import building_footprint, farm_parcel, make_town, random_point_in
from inspection import clock as town_clock
from inspection import migrate
from inspection.accounts.models import User
from inspection.cases.models import Case, StatusChange
from inspection.db import make_engine
from inspection.grid.models import GridCell
from inspection.ops.demo import CERTIFIED_STAFF, DEMO_PASSWORD, OFFICERS, load_demo
from inspection.vocab import ENVIRONMENT_CATEGORIES, KINDS, M2_PER_MU, STATUSES

SEEDS = [2022, 7, 123]
# Tolerances in square degrees: 1e-12 deg² is about 0.01 m² at 30° N.
ZERO_DEG2 = 1e-12
ALLOWED_STEPS = {
    (None, "reported"),
    ("reported", "assigned"),
    ("reported", "void"),
    ("assigned", "in_progress"),
    ("in_progress", "done"),
    ("done", "verified"),
    ("done", "in_progress"),
}


@pytest.fixture(scope="module", params=SEEDS)
def town(request):
    """A generated town per seed."""
    return make_town(seed=request.param)


def test_town_has_the_expected_tree(town):
    levels = Counter(town["level"])
    villages = town[town["level"] == "village"]
    groups = town[town["level"] == "group"]

    assert levels["town"] == 1 and levels["village"] == 8
    assert 32 <= levels["group"] <= 48
    assert villages["parent_code"].eq("PG").all()
    assert villages["name"].iloc[0] == "平岗村"
    for code in villages["code"]:
        assert 4 <= (groups["parent_code"] == code).sum() <= 6
    assert groups["code"].str.fullmatch(r"PG0\d-0\d").all()
    assert groups["name"].iloc[0] == "一组"
    assert town.crs.to_epsg() == 4326


def test_groups_tile_the_town_exactly(town):
    groups = np.asarray(town[town["level"] == "group"].geometry.values)
    whole = town[town["level"] == "town"].geometry.iloc[0]
    left, right = shapely.STRtree(groups).query(groups, predicate="intersects")
    pairs = left < right

    overlap_deg2 = shapely.area(shapely.intersection(groups[left[pairs]], groups[right[pairs]]))

    assert overlap_deg2.sum() < ZERO_DEG2
    assert shapely.union_all(groups).symmetric_difference(whole).area < ZERO_DEG2
    assert shapely.coverage_is_valid(groups)


def test_each_cell_lies_in_its_parent_and_is_one_polygon(town):
    by_code = dict(zip(town["code"], town.geometry, strict=True))

    for row in town.itertuples():
        assert row.geometry.geom_type == "Polygon" and not row.geometry.interiors
        if isinstance(row.parent_code, str):
            parent = by_code[row.parent_code]
            assert row.geometry.difference(parent).area < ZERO_DEG2


def test_boundaries_are_irregular_not_rectangles(town):
    for geom in town.geometry:
        assert shapely.get_num_coordinates(geom) > 8
        assert geom.area < 0.9 * geom.minimum_rotated_rectangle.area


def test_town_is_a_valid_grid_tree(town):
    tree = build_tree(town)

    assert len(tree) == len(town)


def test_town_is_deterministic_for_a_seed():
    first, again, other = make_town(seed=5), make_town(seed=5), make_town(seed=6)

    assert list(first["code"]) == list(again["code"])
    assert all(a.equals_exact(b, 0) for a, b in zip(first.geometry, again.geometry, strict=True))
    assert not first.geometry.iloc[0].equals(other.geometry.iloc[0])


@pytest.mark.parametrize("area_m2", [80.0, 236.0, 300.0])
def test_building_footprint_has_the_asked_area(area_m2):
    from geodata.area import geodesic_area_m2

    rng = np.random.default_rng(1)
    footprint = building_footprint(shapely.Point(113.62, 29.85), area_m2, rng)

    assert geodesic_area_m2(footprint) == pytest.approx(area_m2, rel=2e-3)


@pytest.mark.parametrize("area_mu", [3.0, 18.6, 40.0])
def test_farm_parcel_has_the_asked_area_and_is_irregular(area_mu):
    from geodata.area import geodesic_area_m2

    rng = np.random.default_rng(2)
    group = make_town(seed=2022).geometry.iloc[5]
    parcel = farm_parcel(random_point_in(group, rng, margin_m=100), area_mu * M2_PER_MU, rng)

    assert geodesic_area_m2(parcel) == pytest.approx(area_mu * M2_PER_MU, rel=1e-3)
    assert parcel.is_valid and shapely.get_num_coordinates(parcel) >= 6


# --- The demo data --------------------------------------------------------------------------


def make_session(tmp_path_factory, name: str):
    """A session on a fresh, migrated SQLite file."""
    path = tmp_path_factory.mktemp(name) / "demo.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    return engine, Session(engine, expire_on_commit=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo loaded once, as `flask demo` does it (today's date), with how long it took."""
    engine, session = make_session(tmp_path_factory, "demo")
    started = clock.perf_counter()
    result = load_demo(session)
    session.commit()
    seconds = clock.perf_counter() - started
    yield session, result, seconds
    session.close()
    engine.dispose()


def reached_done_2022(session: Session, kind: str, *conditions) -> list[Case]:
    """Cases of a kind whose history reaches `done` on a day of 2022."""
    query = (
        select(Case)
        .join(StatusChange, StatusChange.case_id == Case.id)
        .where(
            Case.kind == kind,
            StatusChange.to_status == "done",
            StatusChange.on.between(date(2022, 1, 1), date(2022, 12, 31)),
            *conditions,
        )
        .distinct()
    )
    return session.scalars(query).all()


def test_demo_loads_and_returns_logins(demo):
    session, result, _seconds = demo

    assert result["created"] is True
    assert set(result["logins"].values()) == {DEMO_PASSWORD}
    assert {"admin", "zhangzhen", "wgy_pg01_01", "cz_pg01"} <= set(result["logins"])
    assert result["cases"] == session.scalar(select(func.count(Case.id)))
    user = session.scalar(select(User).where(User.username == "wgy_pg01_01"))
    assert user.check_password(DEMO_PASSWORD)


def test_demo_2022_illegal_buildings_demolished(demo):
    session = demo[0]

    buildings = reached_done_2022(session, "illegal_building")

    assert len(buildings) == 2
    assert 375 <= sum(b.area_m2 for b in buildings) <= 385
    assert all(b.demolished_area_m2 == b.area_m2 for b in buildings)
    found_2022 = session.scalars(
        select(Case.status).where(Case.kind == "illegal_building", Case.found_on < date(2023, 1, 1))
    ).all()
    assert len(found_2022) > 2 and {"void"} < set(found_2022)


def test_demo_2022_farmland_restored(demo):
    session = demo[0]

    parcels = reached_done_2022(session, "farmland")

    assert 120.0 <= sum(p.area_m2 for p in parcels) / M2_PER_MU <= 121.5
    assert all(3 <= p.area_m2 / M2_PER_MU <= 40 for p in parcels)


def test_demo_2022_superior_issues_done(demo):
    session = demo[0]

    issues = reached_done_2022(session, "issue", Case.source == "superior")

    assert len(issues) == 5
    assert all(i.doc_number and "〔2022〕" in i.doc_number and i.batch for i in issues)


def test_demo_2022_environment_issues_found_on_patrol(demo):
    session = demo[0]
    found = session.scalars(
        select(Case).where(
            Case.kind == "issue",
            Case.source == "patrol",
            Case.category.in_(ENVIRONMENT_CATEGORIES),
            Case.found_on.between(date(2022, 1, 1), date(2022, 12, 31)),
        )
    ).all()

    done = reached_done_2022(
        session, "issue", Case.source == "patrol", Case.category.in_(ENVIRONMENT_CATEGORIES)
    )

    assert len(found) == 4
    assert {c.id for c in done} == {c.id for c in found}


def test_every_case_lies_in_a_group_of_its_village(demo):
    session = demo[0]

    for case in session.scalars(select(Case)):
        assert case.group_id is not None
        assert case.group.parent_id == case.village_id
        assert case.group.boundary.covers(case.geom)


def test_every_status_of_every_kind_occurs(demo):
    session = demo[0]

    pairs = set(session.execute(select(Case.kind, Case.status)).all())

    assert pairs == {(kind, status) for kind in KINDS for status in STATUSES}


def test_histories_follow_the_workflow(demo):
    session, _, _ = demo

    for case in session.scalars(select(Case)):
        steps = [(h.from_status, h.to_status) for h in case.history]
        assert set(steps) <= ALLOWED_STEPS, (case.title, steps)
        assert steps[0] == (None, "reported") and case.history[-1].to_status == case.status
        days = [h.on for h in case.history]
        assert (
            days == sorted(days)
            and days[0] == case.found_on
            and days[-1] <= town_clock.town_today()
        )
        if case.status != "reported" and case.status != "void":
            assert case.deadline_on is not None and case.responsible is not None


def test_enforcement_acts_name_two_certified_officers(demo):
    session = demo[0]
    acts = session.scalars(
        select(StatusChange)
        .join(Case)
        .where(
            Case.kind == "illegal_building",
            StatusChange.to_status.in_(["in_progress", "done"]),
        )
    ).all()

    assert acts
    for act in acts:
        officers = act.details["officers"]
        assert len(officers) == 2 and officers[0]["id"] != officers[1]["id"]
        for named in officers:
            officer = session.get(User, named["id"])
            assert officer.cert_number == named["cert_number"]
            assert officer.cert_valid_on(act.on)


def test_staff_cover_the_grid(demo):
    session = demo[0]
    cells = session.scalars(select(GridCell)).all()

    for cell in cells:
        members = [u for u in cell.members if u.role == "grid_member"]
        assert len(members) == (0 if cell.level == "town" else 1), cell.code
    officers = session.scalars(select(User).where(User.role == "officer")).all()
    assert len(officers) == len(OFFICERS) + len(CERTIFIED_STAFF) == 14
    assert all(o.cert_number for o in officers)
    assert sum(not o.cert_valid_on(town_clock.town_today()) for o in officers) == 1
    roles = dict(session.execute(select(User.username, User.role)).all())
    assert roles["zhangzhen"] == "supervisor" and roles["admin"] == "admin"
    phones = session.scalars(select(User.phone)).all()
    assert all(p.startswith("138") and len(p) == 11 for p in phones)
    assert len(set(phones)) == len(phones)


def test_current_year_has_live_work(demo):
    session = demo[0]
    today = town_clock.town_today()
    live = session.scalars(
        select(Case).where(
            Case.found_on >= date(today.year, 1, 1),
            Case.status.in_(["reported", "assigned", "in_progress"]),
        )
    ).all()

    deadlines = [c.deadline_on for c in live if c.deadline_on]

    assert len(live) >= 8
    assert sum(d < today for d in deadlines) >= 3
    assert sum(0 <= (d - today).days <= 5 for d in deadlines) >= 2


def row_counts(session: Session) -> list[int]:
    """How many cells, users, cases and history rows the database holds."""
    models = (GridCell, User, Case, StatusChange)
    return [session.scalar(select(func.count()).select_from(m)) for m in models]


def test_second_load_adds_nothing(demo):
    session, first, _ = demo
    before = row_counts(session)

    again = load_demo(session)
    session.commit()

    assert again["created"] is False and again["logins"] == first["logins"]
    assert row_counts(session) == before


def test_demo_early_in_january_keeps_dates_in_order(tmp_path_factory):
    engine, session = make_session(tmp_path_factory, "january")
    today = date(2025, 1, 3)

    load_demo(session, today=today)
    session.commit()

    for case in session.scalars(select(Case)):
        days = [h.on for h in case.history]
        assert days == sorted(days) and days[-1] <= today
    parcels = reached_done_2022(session, "farmland")
    assert 120.0 <= sum(p.area_m2 for p in parcels) / M2_PER_MU <= 121.5
    session.close()
    engine.dispose()


def test_demo_refuses_a_date_before_its_history():
    with pytest.raises(ValueError):
        load_demo(None, today=date(2022, 6, 1))
