"""The stored years the year figures count by stay right through every way a case is written."""

from datetime import date
from pathlib import Path

import pytest
import shapely
from sqlalchemy import select, text

from bench.bench_report import figures_agree, naive_figures
from inspection import clock, db
from inspection.cases import workflow
from inspection.cases.history import history_columns, stale_year_columns
from inspection.cases.ledger_import import import_cases
from inspection.cases.models import Case
from inspection.cases.records import create_case
from inspection.ops.demo import load_demo
from inspection.reporting.figures import year_figures
from tests.cases.test_workflow import (  # noqa: F401
    create_canned_case,
    create_canned_photo,
    town,
    valid_inputs,
)
from tests.reporting.test_ledgers import make_town
from tests.reporting.test_reports import add_case, grid  # noqa: F401

IMPORTS = Path(__file__).parents[1] / "data" / "import"
D = date.fromisoformat


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([], (None, False)),
        ([("reported", "2022-03-01"), ("assigned", "2023-03-02")], (2022, False)),
        ([("reported", "2022-03-01"), ("void", "2023-01-02")], (2023, False)),
        ([("reported", "2022-03-01"), ("done", "2022-05-01"), ("verified", "2023-02-01")], (2022, False)),
        ([("reported", "2022-03-01"), ("done", "2022-05-01"), ("in_progress", "2023-06-01")], (2023, True)),
        ([("reported", "2022-03-01"), ("done", "2022-05-01"), ("in_progress", "2022-06-01"),
          ("done", "2023-01-03")], (2023, True)),
        ([("reported", "2022-03-01"), ("done", "2023-01-10"), ("verified", "2022-12-01")], (2023, True)),
    ],
    ids=["none", "open", "void", "done-verified", "sent-back", "sent-back-redone", "dated-backwards"],
)  # fmt: skip
def test_history_columns(steps, expected):
    steps = [(status, D(day)) for status, day in steps]

    columns = history_columns(steps)

    assert (columns["run_year"], columns["needs_history"]) == expected


def test_every_workflow_step_keeps_them(session, town):  # noqa: F811
    cells, users = town
    case = create_canned_case(session, cells, users)
    inputs = valid_inputs(session, case, users)
    boss = users["supervisor"]
    path = ["assign", "start", "complete", "send_back", "complete", "verify"]
    for day, key in enumerate(path, start=10):
        if key == "complete" and case.needs_history:  # done again: a new after photo
            inputs[key]["after_photo_ids"] = [create_canned_photo(session, case).id]
        workflow.perform(session, case, boss, key, today=date(2022, 5, day), **inputs[key])
        session.commit()
        assert stale_year_columns(session) == [], key
    void = create_canned_case(session, cells, users)
    workflow.perform(session, void, boss, "void", today=date(2023, 1, 4), **inputs["void"])
    session.commit()

    assert stale_year_columns(session) == []
    assert (case.fixed_year, case.run_year, case.needs_history) == (2022, 2022, True)
    assert (void.fixed_year, void.run_year, void.needs_history) == (None, 2023, False)


def test_a_new_report_and_a_corrected_found_on_keep_them(session, town):  # noqa: F811
    cells, users = town
    west = cells["A1"].boundary.bounds[0]
    case, _ = create_case(
        session,
        "issue",
        shapely.Point(west + 0.0005, 30.0005),
        {"category": "garbage", "title": "垃圾"},
        users["responsible"],
        found_on=date(2021, 12, 30),
    )
    session.commit()
    assert case.found_year == 2021

    case.found_on = date(2022, 1, 2)  # as edit_details corrects it
    session.commit()

    assert stale_year_columns(session) == [] and case.found_year == 2022


def test_the_ledger_import_keeps_them(session):
    make_town(session)

    result = import_cases(session, IMPORTS / "issues.geojson")
    session.commit()

    assert result.created == 2 and stale_year_columns(session) == []
    issue = session.scalars(select(Case).where(Case.status == "verified")).one()
    assert (issue.found_year, issue.fixed_year, issue.run_year) == (2022, 2022, 2022)


def test_the_demo_keeps_them(app):
    with app.app_context():
        load_demo(db.session(), today=clock.town_today())
        db.session().commit()
        session = db.session()

        assert stale_year_columns(session) == []
        assert session.scalar(select(Case.id).where(Case.needs_history)) is not None  # 退回


def test_the_check_finds_a_case_written_behind_the_mapper(session, grid):  # noqa: F811
    case = add_case(session, grid["PG01-01"], [("reported", "2022-03-01")])
    session.commit()
    assert stale_year_columns(session) == []

    session.execute(text("UPDATE cases SET found_on = '2021-03-01' WHERE id = :i"), {"i": case.id})

    assert stale_year_columns(session) == [case.id]


def test_a_change_dated_before_the_last_is_read_from_the_history(session, grid):  # noqa: F811
    steps = [("reported", "2022-03-01"), ("done", "2023-01-10"), ("verified", "2022-12-01")]
    add_case(session, grid["PG01-01"], steps, deadline="2022-06-30")
    add_case(session, grid["PG01-01"], steps[:2], deadline="2022-06-30")

    figures = year_figures(session, 2022)

    # The first was verified by 31 December by its history; the second was still open.
    assert figures["issues"]["overdue"] == 1
    assert figures_agree(figures, naive_figures(session, 2022))
