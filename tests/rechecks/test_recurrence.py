"""回头看 and 复发 on both backends: re-checks fall due once per closure, a problem found back reopens
the case, and the year figures count the ground once with its recurrence."""

from datetime import date

import pytest
import shapely
from sqlalchemy import select

from inspection.accounts.models import User
from inspection.cases.history import record_change, stale_year_columns
from inspection.cases.recurrence import is_recurrence, reopen_as_recurrence
from inspection.errors import Conflict, InvalidInput, NotAllowed
from inspection.rechecks.checking import RecheckReport, record_recheck
from inspection.rechecks.models import Recheck
from inspection.rechecks.schedule import schedule_rechecks
from inspection.reporting.figures import format_text, year_figures
from inspection.tuban.evidence import Fix
from tests.reporting.test_reports import add_case, make_grid
from tests.tuban.test_evidence import photo

ON_SITE = Fix(113.0005, 30.0005, 5.0)  # the case's point (tests.reporting.test_reports.POINT)
DAYS, WINDOW = 90, 30


@pytest.fixture
def grid(session):
    cells = make_grid(session)
    member = User(username="wg1", display_name="网格员一", role="grid_member", password_hash="x")
    member.cells.append(cells["PG01-01"])
    session.add(member)
    session.flush()
    return cells


def member(session) -> User:
    return session.scalar(select(User).where(User.username == "wg1"))


def demolished(session, grid, *, done="2026-03-10", verified="2026-03-20", area_m2=120.0):
    """An illegal building found on 1 March 2026, demolished and verified (closed)."""
    steps = [("reported", "2026-03-01"), ("assigned", "2026-03-01"), ("in_progress", "2026-03-05")]
    case = add_case(
        session,
        grid["PG01-01"],
        [*steps, ("done", done), ("verified", verified)],
        kind="illegal_building",
        area_m2=area_m2,
    )
    case.demolished_area_m2 = area_m2
    session.flush()
    return case


def recheck_report(outcome: str, **fields) -> RecheckReport:
    return RecheckReport(**{"outcome": outcome, "photos": [photo("2026:06:20 09:00:00")],
                            "fix": ON_SITE, "note": "", **fields})  # fmt: skip


def test_a_recheck_falls_due_once_per_closure_for_the_group_member(session, grid):
    case = demolished(session, grid)

    assert schedule_rechecks(session, date(2026, 6, 17), days=DAYS, window_days=WINDOW) == []
    created = schedule_rechecks(session, date(2026, 6, 18), days=DAYS, window_days=WINDOW)
    again = schedule_rechecks(session, date(2026, 6, 19), days=DAYS, window_days=WINDOW)

    assert [r.case_id for r in created] == [case.id] and again == []
    recheck = created[0]
    assert (recheck.closed_on, recheck.due_on) == (date(2026, 3, 20), date(2026, 7, 18))
    assert recheck.assignee == member(session) and recheck.status == "open"


def test_issues_open_cases_and_late_runs_are_scheduled_as_the_rule_says(session, grid):
    issue = add_case(
        session, grid["PG01-01"], [("reported", "2026-01-02"), ("verified", "2026-01-05")]
    )
    open_one = add_case(session, grid["PG01-01"], [("reported", "2026-01-02")], kind="farmland")
    old = demolished(session, grid, done="2026-03-10", verified="2026-03-12")

    created = schedule_rechecks(session, date(2026, 12, 1), days=DAYS, window_days=WINDOW)

    assert [r.case_id for r in created] == [old.id]  # not the issue, not the open parcel
    assert created[0].due_on == date(2026, 12, 31)  # found late: due a window after today
    assert issue.id and open_one.id


def test_a_clear_recheck_keeps_the_case_closed_and_its_photo(session, grid, tmp_path):
    case = demolished(session, grid)
    (recheck,) = schedule_rechecks(session, date(2026, 6, 20), days=DAYS, window_days=WINDOW)

    record_recheck(session, recheck, member(session), recheck_report("clear"),
                   photo_dir=tmp_path, today=date(2026, 6, 20))  # fmt: skip

    assert recheck.status == "clear" and recheck.fix_distance_m == 0.0
    assert case.status == "verified" and [p.stage for p in case.photos] == ["recheck"]
    assert year_figures(session, 2026)["illegal_buildings"]["recurred"] == 0


def test_recurrence_reopens_the_case_and_the_ground_counts_once(session, grid, tmp_path):
    case = demolished(session, grid, area_m2=120.0)
    before = year_figures(session, 2026)["illegal_buildings"]
    assert (before["found"], before["demolished"], before["demolished_area_m2"]) == (1, 1, 120.0)
    (recheck,) = schedule_rechecks(session, date(2026, 6, 20), days=DAYS, window_days=WINDOW)

    report = recheck_report("recurred", note="原址又搭建铁皮棚约40㎡")
    record_recheck(
        session, recheck, member(session), report, photo_dir=tmp_path, today=date(2026, 6, 20)
    )

    assert (case.status, recheck.status) == ("reported", "recurred")
    assert case.done_on is None and case.verified_on is None and case.demolished_area_m2 is None
    last = case.history[-1]
    assert last.details["recurrence"] == {"via": "recheck", "recheck": recheck.id}
    assert last.details["previous"]["demolished_area_m2"] == 120.0 and "复发" in last.note
    open_ = year_figures(session, 2026)["illegal_buildings"]
    assert (open_["found"], open_["demolished"], open_["recurred"]) == (1, 0, 1)

    # Demolished again in the same year: one ground, one demolition, one recurrence.
    for status, day in (("assigned", "2026-06-21"), ("in_progress", "2026-06-25"),
                        ("done", "2026-07-01"), ("verified", "2026-07-03")):  # fmt: skip
        record_change(session, case, status, None, on=date.fromisoformat(day))
    case.demolished_area_m2 = 40.0
    session.flush()
    after = year_figures(session, 2026)
    block = after["illegal_buildings"]
    assert (block["found"], block["demolished"], block["recurred"]) == (1, 1, 1)
    assert block["demolished_area_m2"] == 40.0
    assert "复发1处" in after["summary_zh"]
    assert "违法建筑1处，复耕地块0块，问题0个" in format_text(after)
    assert after["villages"][0]["illegal_buildings"]["recurred"] == 1
    assert [c.to_status for c in case.history if is_recurrence(c)] == ["reported"]
    assert stale_year_columns(session) == []
    # The new closure gets its own re-check.
    (second,) = schedule_rechecks(session, date(2026, 10, 1), days=DAYS, window_days=WINDOW)
    assert second.closed_on == date(2026, 7, 3) and second.id != recheck.id


def test_a_recurrence_in_a_later_year_counts_in_that_year(session, grid, tmp_path):
    case = demolished(session, grid)

    reopen_as_recurrence(session, case, member(session), via="report", note="群众反映又建",
                         today=date(2027, 2, 1))  # fmt: skip
    session.flush()

    y2026, y2027 = year_figures(session, 2026), year_figures(session, 2027)
    assert (y2026["illegal_buildings"]["found"], y2026["illegal_buildings"]["recurred"]) == (1, 0)
    assert (y2027["illegal_buildings"]["found"], y2027["illegal_buildings"]["recurred"]) == (0, 1)
    assert stale_year_columns(session) == []
    with pytest.raises(Conflict, match="尚未销号"):
        reopen_as_recurrence(session, case, member(session), via="report", note="再次")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"outcome": "maybe"}, "请选择"),
        ({"outcome": "recurred", "note": " "}, "说明"),
        ({"fix": Fix(113.0005, 30.0005, 45.0)}, "精度 45 米"),
        ({"fix": None}, "没有定位"),
        ({"photos": [photo("2026:05:01 09:00:00")]}, "2026-05-01"),
        ({"photos": []}, "至少拍一张"),
    ],
)
def test_an_unproved_recheck_is_refused_and_nothing_changes(
    session, grid, tmp_path, fields, message
):
    case = demolished(session, grid)
    (recheck,) = schedule_rechecks(session, date(2026, 6, 20), days=DAYS, window_days=WINDOW)

    with pytest.raises(InvalidInput, match=message):
        record_recheck(session, recheck, member(session), recheck_report(**{"outcome": "clear", **fields}),
                       photo_dir=tmp_path, today=date(2026, 6, 20))  # fmt: skip

    assert recheck.status == "open" and case.status == "verified" and case.photos == []


def test_an_override_reason_and_a_resend_and_someone_else(session, grid, tmp_path):
    demolished(session, grid)
    (recheck,) = schedule_rechecks(session, date(2026, 6, 20), days=DAYS, window_days=WINDOW)
    stranger = User(username="x", display_name="外村", role="grid_member", password_hash="x")
    session.add(stranger)
    session.flush()
    report = recheck_report(
        "clear", fix=None, override_reason="院门上锁，隔墙拍照", client_id="r-1"
    )

    with pytest.raises(NotAllowed):
        record_recheck(
            session, recheck, stranger, report, photo_dir=tmp_path, today=date(2026, 6, 20)
        )
    record_recheck(
        session, recheck, member(session), report, photo_dir=tmp_path, today=date(2026, 6, 20)
    )
    record_recheck(
        session, recheck, member(session), report, photo_dir=tmp_path, today=date(2026, 6, 20)
    )
    with pytest.raises(Conflict, match="已完成"):
        record_recheck(session, recheck, member(session), recheck_report("clear"),
                       photo_dir=tmp_path, today=date(2026, 6, 20))  # fmt: skip

    assert recheck.override_reason == "院门上锁，隔墙拍照" and recheck.status == "clear"
    assert session.scalar(select(Recheck).where(Recheck.client_id == "r-1")) is recheck


def test_merging_a_new_report_into_a_closed_case_is_a_recurrence(session, grid):
    from inspection.cases.merging import merge_cases

    case = demolished(session, grid)
    new = add_case(session, grid["PG01-01"], [("reported", "2026-08-01")], kind="illegal_building")
    boss = User(username="zz", display_name="镇领导", role="supervisor", password_hash="x")
    session.add(boss)
    session.flush()

    merge_cases(session, case, new.id, boss, reason="同一处，原址复建")
    session.flush()

    assert (case.status, new.status, new.merged_into_id) == ("reported", "void", case.id)
    assert case.history[-1].details["recurrence"] == {"via": "report", "case": new.id}
    block = year_figures(session, 2026)["illegal_buildings"]
    assert (block["found"], block["recurred"]) == (1, 1)


def test_geometry_of_a_polygon_case_is_what_the_fix_is_measured_to(session, grid, tmp_path):
    case = demolished(session, grid)
    case.set_geometry(shapely.box(113.0004, 30.0004, 113.0008, 30.0008), 1500.0)
    session.flush()
    (recheck,) = schedule_rechecks(session, date(2026, 6, 20), days=DAYS, window_days=WINDOW)

    record_recheck(session, recheck, member(session), recheck_report("clear", fix=Fix(113.0009, 30.0006, 5.0)),
                   photo_dir=tmp_path, today=date(2026, 6, 20))  # fmt: skip

    assert recheck.fix_distance_m == pytest.approx(9.64, abs=0.05)  # 0.0001° east of the edge


def test_a_report_said_to_be_a_closed_case_back_reopens_it(session, grid):
    from inspection.cases.merging import report_as_recurrence

    closed = demolished(session, grid)
    report = add_case(
        session, grid["PG01-01"], [("reported", "2026-09-01")], kind="illegal_building"
    )

    survivor = report_as_recurrence(session, report, f"#{closed.id}", member(session))
    session.flush()

    assert survivor is closed and closed.status == "reported"
    assert (report.status, report.merged_into_id) == ("void", closed.id)
    block = year_figures(session, 2026)["illegal_buildings"]
    assert (block["found"], block["recurred"]) == (1, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("open", "尚未销号"),
        ("far", "不在同一处"),
        ("kind", "没有这个编号"),
        ("number", "没有这个编号"),
        ("hidden", "没有这个编号"),
    ],
)
def test_a_recurrence_report_that_does_not_fit_is_refused(session, grid, change, message):
    from inspection.cases.merging import report_as_recurrence

    closed = demolished(session, grid)
    kind = "farmland" if change == "kind" else "illegal_building"
    report = add_case(session, grid["PG01-01"], [("reported", "2026-09-01")], kind=kind)
    reporter = member(session)
    if change == "open":
        record_change(session, closed, "in_progress", None, on=date(2026, 8, 1))
    elif change == "far":
        report.set_geometry(shapely.Point(113.0005, 30.0015), None)  # ≈ 111 m north
    elif change == "hidden":
        reporter = User(username="o", display_name="外组", role="grid_member", password_hash="x")
        reporter.cells.append(grid["PG02-01"])
        session.add(reporter)
    session.flush()
    number = "99999999999" if change == "number" else str(closed.id)

    with pytest.raises(InvalidInput, match=message):
        report_as_recurrence(session, report, number, reporter)


def test_two_members_recording_one_recheck_at_once_store_one_result(
    engine, session, grid, tmp_path
):
    """The second writer waits for the first (a row lock on PostgreSQL, the write lock on SQLite),
    then finds the re-check done: one result, not the last writer's over the first's."""
    import threading

    from sqlalchemy.orm import Session

    demolished(session, grid)
    (recheck,) = schedule_rechecks(session, date(2026, 6, 20), days=DAYS, window_days=WINDOW)
    session.commit()
    first, second = Session(engine), Session(engine)
    outcomes = []

    def record(other: Session) -> None:
        mine = other.get(Recheck, recheck.id)
        report = recheck_report("clear", note="第二人：未见复建")
        try:
            record_recheck(
                other, mine, member(other), report, photo_dir=tmp_path, today=date(2026, 6, 20)
            )
            other.commit()
            outcomes.append("stored")
        except Conflict:
            other.rollback()
            outcomes.append("conflict")

    mine = first.get(Recheck, recheck.id)
    record_recheck(first, mine, member(first), recheck_report("clear", note="第一人：未见复建"),
                   photo_dir=tmp_path, today=date(2026, 6, 20))  # fmt: skip
    late = threading.Thread(target=record, args=(second,))
    late.start()
    late.join(timeout=1.0)
    waiting = late.is_alive()  # blocked behind the first writer
    first.commit()
    late.join(timeout=30)
    first.close(), second.close()

    assert waiting and outcomes == ["conflict"]
    session.expire_all()
    assert session.get(Recheck, recheck.id).note == "第一人：未见复建"
