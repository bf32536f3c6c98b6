"""Model round trips on SQLite and PostGIS: geometry, grid tree, users, history, locking."""

from datetime import date

import pytest
import shapely
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from inspection.accounts.models import User
from inspection.cases.history import record_change
from inspection.cases.models import Case, StatusChange
from inspection.grid.models import GridCell

SQUARE = shapely.box(113.000, 30.000, 113.001, 30.001)


def make_grid(session: Session) -> GridCell:
    """A town with one village holding one group, all the same square."""
    town = GridCell(level="town", code="T", name="平岗镇")
    village = GridCell(level="village", code="T01", name="平岗村", parent=town)
    group = GridCell(level="group", code="T01-01", name="一组", parent=village)
    for cell in (town, village, group):
        cell.set_boundary(SQUARE)
    session.add(town)
    session.flush()
    return group


def make_case(group: GridCell, geom, **fields) -> Case:
    """A reported case in a group."""
    case = Case(
        kind="issue", category="garbage", title="河边垃圾", found_on=date(2022, 3, 1), **fields
    )
    case.set_geometry(geom, None)
    case.group_id, case.village_id, case.town_id = group.id, group.parent_id, group.parent.parent_id
    return case


def test_grid_cell_round_trip(session):
    group = make_grid(session)
    session.commit()
    session.expunge_all()

    stored = session.scalars(select(GridCell).where(GridCell.code == "T01-01")).one()

    assert stored.boundary.geom_type == "MultiPolygon"
    assert stored.boundary.equals(shapely.MultiPolygon([SQUARE]))
    assert (stored.min_lon, stored.max_lat) == (113.000, 30.001)
    assert stored.parent.code == "T01" and stored.parent.parent.name == "平岗镇"
    assert [c.code for c in stored.parent.children] == ["T01-01"]
    assert group.id == stored.id


@pytest.mark.parametrize(
    "geom",
    [
        shapely.Point(113.0004, 30.0006),
        shapely.box(113.0001, 30.0001, 113.0002, 30.0002),
        shapely.MultiPolygon(
            [
                shapely.box(113.0001, 30.0001, 113.0002, 30.0002),
                shapely.box(113.0005, 30.0005, 113.0006, 30.0006),
            ]
        ),
        shapely.Polygon(
            [(113.0, 30.0), (113.001, 30.0), (113.001, 30.001), (113.0, 30.001)],
            [[(113.0002, 30.0002), (113.0004, 30.0002), (113.0004, 30.0004), (113.0002, 30.0004)]],
        ),
    ],
    ids=["point", "polygon", "multipolygon", "polygon-with-hole"],
)
def test_case_geometry_round_trip_is_exact(session, geom):
    group = make_grid(session)
    session.add(make_case(group, geom))
    session.commit()
    session.expunge_all()

    stored = session.scalars(select(Case)).one()

    assert stored.geom.geom_type == geom.geom_type
    assert shapely.equals_exact(stored.geom, geom, tolerance=0)
    assert (
        stored.group.code == "T01-01" and stored.village.code == "T01" and stored.town.code == "T"
    )


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgis", marks=pytest.mark.postgis)], indirect=True
)
def test_postgis_column_is_real_geometry_with_gist_index(session):
    group = make_grid(session)
    session.add(make_case(group, shapely.Point(113.0005, 30.0005)))
    session.commit()

    column_type = session.execute(
        text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'grid_cells'::regclass AND attname = 'boundary'"
        )
    ).scalar_one()
    index_def = session.execute(
        text(
            "SELECT indexdef FROM pg_indexes "
            "WHERE indexname = 'ix_cases_geom_gist' AND schemaname = current_schema()"
        )
    ).scalar_one()
    area = session.execute(
        text("SELECT ST_Area(boundary::geography, true) FROM grid_cells WHERE code = 'T'")
    ).scalar_one()
    inside = session.execute(
        text(
            "SELECT count(*) FROM cases c JOIN grid_cells g ON ST_Within(c.geom, g.boundary) "
            "WHERE g.code = 'T01-01'"
        )
    ).scalar_one()

    assert column_type == "geometry(MultiPolygon,4326)"
    assert "USING gist" in index_def
    assert area == pytest.approx(10695.69, abs=0.01)  # PostGIS agrees on the GRS80-ish area
    assert inside == 1


def test_user_password_cells_and_certificate(session):
    group = make_grid(session)
    user = User(username="wgy", display_name="王网格", role="grid_member", cells=[group])
    user.set_password("secret-123")
    officer = User(
        username="zf",
        display_name="李执法",
        role="officer",
        cert_number="42060022001",
        cert_expires_on=date(2022, 6, 30),
    )
    officer.set_password("secret-456")
    session.add_all([user, officer])
    session.commit()
    session.expunge_all()

    stored = session.scalars(select(User).where(User.username == "wgy")).one()
    zf = session.scalars(select(User).where(User.username == "zf")).one()

    assert stored.password_hash != "secret-123"
    assert stored.check_password("secret-123") and not stored.check_password("wrong")
    assert [c.code for c in stored.cells] == ["T01-01"]
    assert stored.get_id() == f"{stored.id}:1"
    assert zf.cert_valid_on(date(2022, 6, 30)) and not zf.cert_valid_on(date(2022, 7, 1))
    assert not stored.cert_valid_on(date(2022, 1, 1))


def test_history_rows_follow_every_change(session):
    group = make_grid(session)
    case = make_case(group, shapely.Point(113.0005, 30.0005))
    session.add(case)
    record_change(session, case, "reported", None, on=date(2022, 3, 1))
    record_change(session, case, "assigned", None, on=date(2022, 3, 2), note="交网格员")
    record_change(session, case, "in_progress", None, on=date(2022, 3, 5))
    record_change(session, case, "done", None, on=date(2022, 3, 9), details={"photos": 1})
    session.commit()
    session.expunge_all()

    stored = session.scalars(select(Case)).one()
    steps = [(h.from_status, h.to_status, h.on) for h in stored.history]

    assert stored.status == "done" and stored.done_on == date(2022, 3, 9)
    assert steps == [
        (None, "reported", date(2022, 3, 1)),
        ("reported", "assigned", date(2022, 3, 2)),
        ("assigned", "in_progress", date(2022, 3, 5)),
        ("in_progress", "done", date(2022, 3, 9)),
    ]
    assert stored.history[-1].details == {"photos": 1}
    assert (
        session.scalar(select(StatusChange.note).where(StatusChange.to_status == "assigned"))
        == "交网格员"
    )


def test_client_id_is_unique(session):
    group = make_grid(session)
    session.add(make_case(group, shapely.Point(113.0005, 30.0005), client_id="form-1"))
    session.commit()
    session.add(make_case(group, shapely.Point(113.0005, 30.0005), client_id="form-1"))

    with pytest.raises(IntegrityError):
        session.commit()


def test_stale_writer_is_refused(engine):
    with Session(engine) as s:
        group = make_grid(s)
        s.add(make_case(group, shapely.Point(113.0005, 30.0005)))
        s.commit()
    # The second writer read the case earlier (a page shown before the first one saved).
    with Session(engine) as first, Session(engine, expire_on_commit=False) as second:
        b = second.scalars(select(Case)).one()
        second.commit()
        a = first.scalars(select(Case)).one()
        a.status = "assigned"
        first.commit()
        b.status = "void"

        with pytest.raises(StaleDataError):
            second.commit()
    with Session(engine) as s:
        assert s.scalars(select(Case)).one().status == "assigned"
