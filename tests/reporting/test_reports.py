"""Year figures from hand-built cases with backdated history, on SQLite and PostGIS; the report CLI."""

import json
import random
from datetime import date, timedelta

import pytest
import shapely
from sqlalchemy.orm import Session

from bench.bench_report import figures_agree, naive_figures
from inspection.cases.history import record_change
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.reporting.figures import empty_figures, format_text, report_command, year_figures
from inspection.vocab import M2_PER_MU

POINT = shapely.Point(113.0005, 30.0005)
# The hand-made grid (2 村, 3 组, nobody tied, no certificates): the grid clause, no certificate sentence.
EXAMPLE = (
    "今年以来，我镇依法拆除违法建筑2处约380㎡，复耕面积约120余亩，整改完成上级反馈问题5个。"
    "全镇划分2个村、3个村民小组，巡查发现环保问题4个，整改完成4个。"
)
# The demo town: the seed's sentences with its 14 certified officers and its grid.
DEMO_EXAMPLE = (
    "我镇组织执法人员参加行政执法资格考试，其中有14名执法人员取得行政执法证。"
    "今年以来，我镇依法拆除违法建筑2处约380㎡，复耕面积约120余亩，整改完成上级反馈问题5个。"
    "全镇划分8个村、36个村民小组，配备36名网格员，巡查发现环保问题4个，整改完成4个。"
)


def make_grid(session: Session) -> dict[str, GridCell]:
    """平岗镇 with 平岗村 (一组, 二组) and 石桥村 (一组); every cell the same square."""
    town = GridCell(level="town", code="PG", name="平岗镇")
    pg = GridCell(level="village", code="PG01", name="平岗村", parent=town)
    sq = GridCell(level="village", code="PG02", name="石桥村", parent=town)
    cells = {
        "PG": town,
        "PG01": pg,
        "PG02": sq,
        "PG01-01": GridCell(level="group", code="PG01-01", name="一组", parent=pg),
        "PG01-02": GridCell(level="group", code="PG01-02", name="二组", parent=pg),
        "PG02-01": GridCell(level="group", code="PG02-01", name="一组", parent=sq),
    }
    for cell in cells.values():
        cell.set_boundary(shapely.box(113.0, 30.0, 113.001, 30.001))
    session.add(town)
    session.flush()
    return cells


def add_case(
    session: Session,
    group: GridCell | None,
    steps: list[tuple[str, str]],
    *,
    kind: str = "issue",
    source: str = "patrol",
    category: str | None = "garbage",
    deadline: str | None = None,
    area_m2: float | None = None,
    **fields,
) -> Case:
    """A case found on its first step's day, moved through (status, 'YYYY-MM-DD') steps."""
    case = Case(
        kind=kind,
        source=source,
        category=category if kind == "issue" else None,
        title="测试",
        found_on=date.fromisoformat(steps[0][1]),
        deadline_on=date.fromisoformat(deadline) if deadline else None,
        **fields,
    )
    case.set_geometry(POINT, area_m2)
    if group is not None:
        case.group_id, case.village_id, case.town_id = (
            group.id,
            group.parent_id,
            group.parent.parent_id,
        )
    session.add(case)
    for status, day in steps:
        record_change(session, case, status, None, on=date.fromisoformat(day))
    session.flush()
    return case


def done_path(found: str, done: str) -> list[tuple[str, str]]:
    """Reported on the day found, then assigned and done."""
    return [("reported", found), ("assigned", found), ("done", done)]


@pytest.fixture
def grid(session):
    """The hand-built grid in the test database."""
    return make_grid(session)


def test_done_on_the_last_day_counts_and_the_next_day_does_not(session, grid):
    group = grid["PG01-01"]
    add_case(session, group, done_path("2022-03-01", "2022-12-31"))
    add_case(session, group, done_path("2022-03-01", "2023-01-01"))

    y2022, y2023 = year_figures(session, 2022), year_figures(session, 2023)

    assert (y2022["issues"]["found"], y2022["issues"]["rectified"]) == (2, 1)
    assert (y2023["issues"]["found"], y2023["issues"]["rectified"]) == (0, 1)


def test_found_before_the_year_and_done_in_it_counts_as_rectified_only(session, grid):
    add_case(session, grid["PG01-01"], done_path("2021-11-20", "2022-01-01"), source="superior")

    y2021, y2022 = year_figures(session, 2021), year_figures(session, 2022)

    assert y2021["issues"]["found"] == 1 and y2021["issues"]["rectified"] == 0
    assert y2022["issues"]["found"] == 0 and y2022["issues"]["rectified"] == 1
    assert y2022["issues"]["superior"] == {"received": 0, "rectified": 1}


@pytest.mark.parametrize(
    ("steps", "rectified_by_year"),
    [
        (
            [*done_path("2022-03-01", "2022-05-01"), ("in_progress", "2022-06-01")]
            + [("done", "2022-07-01"), ("verified", "2022-08-01")],
            {2022: 1, 2023: 0},
        ),
        (
            [*done_path("2022-03-01", "2022-11-01"), ("in_progress", "2023-01-10")]
            + [("done", "2023-02-01")],
            {2022: 0, 2023: 1},
        ),
        ([*done_path("2022-03-01", "2022-11-01"), ("in_progress", "2022-12-10")], {2022: 0}),
        ([*done_path("2022-03-01", "2022-11-01"), ("in_progress", "2023-01-10")], {2022: 0}),
    ],
    ids=["redone-same-year", "redone-next-year", "returned-open", "returned-next-year-open"],
)
def test_a_returned_case_counts_once_in_the_year_of_its_final_done(
    session, grid, steps, rectified_by_year
):
    add_case(session, grid["PG01-01"], steps)

    counted = {y: year_figures(session, y)["issues"]["rectified"] for y in rectified_by_year}

    assert counted == rectified_by_year


def test_void_cases_are_not_counted(session, grid):
    group = grid["PG01-01"]
    add_case(session, group, [("reported", "2022-03-01"), ("void", "2022-03-02")])
    add_case(session, group, [("reported", "2022-03-01"), ("void", "2022-03-02")], kind="farmland")

    figures = year_figures(session, 2022)

    assert figures["issues"]["found"] == 0 and figures["farmland"]["found"] == 0
    assert figures["summary_zh"] == ""


@pytest.mark.parametrize(
    ("steps", "deadline", "overdue_2022"),
    [
        ([("reported", "2022-03-01")], "2022-06-30", 1),
        ([("reported", "2022-03-01")], "2022-12-31", 0),  # due on the last day: not past it
        ([("reported", "2022-03-01")], None, 0),
        (done_path("2022-03-01", "2023-01-10"), "2022-06-30", 1),  # done only after year end
        (done_path("2022-03-01", "2022-11-30"), "2022-06-30", 0),  # late but done by year end
        ([*done_path("2022-03-01", "2022-10-01"), ("in_progress", "2022-11-01")], "2022-06-30", 1),
        ([*done_path("2022-03-01", "2022-10-01"), ("in_progress", "2023-02-01")], "2022-06-30", 0),
        ([("reported", "2022-03-01"), ("void", "2022-05-01")], "2022-04-30", 0),
        ([("reported", "2022-03-01"), ("void", "2023-05-01")], "2022-04-30", 1),
        ([("reported", "2021-03-01")], "2021-04-30", 1),  # found in an earlier year, still open
        ([("reported", "2023-01-05")], "2022-04-30", 0),  # found after the year
    ],
)
def test_overdue_is_the_status_on_31_december_by_the_history(
    session, grid, steps, deadline, overdue_2022
):
    add_case(session, grid["PG01-01"], steps, deadline=deadline)

    assert year_figures(session, 2022)["issues"]["overdue"] == overdue_2022


def test_a_case_found_in_the_year_but_recorded_after_it_was_open_at_year_end(session, grid):
    case = add_case(session, grid["PG01-01"], [("reported", "2023-01-03")], deadline="2022-12-20")
    case.found_on = date(2022, 12, 1)
    session.flush()

    assert year_figures(session, 2022)["issues"]["overdue"] == 1


def test_areas_are_summed_unrounded_then_converted(session, grid):
    group = grid["PG01-01"]
    building = {"kind": "illegal_building", "area_m2": 1000.0}
    add_case(
        session,
        group,
        done_path("2022-01-05", "2022-04-01"),
        **building,
        demolished_area_m2=180.126,
    )
    add_case(
        session,
        group,
        done_path("2022-01-05", "2022-04-01"),
        **building,
        demolished_area_m2=200.334,
    )
    add_case(session, group, done_path("2022-01-05", "2022-04-01"), kind="illegal_building")
    add_case(session, group, done_path("2022-01-05", "2023-04-01"), **building)
    add_case(
        session,
        group,
        done_path("2022-01-05", "2022-04-01"),
        kind="illegal_building",
        area_m2=0.005,
    )
    parcels = [222.2225, 222.2225, 222.2225]
    for area in parcels:
        add_case(
            session, group, done_path("2022-02-01", "2022-09-01"), kind="farmland", area_m2=area
        )

    figures = year_figures(session, 2022)

    buildings, farmland = figures["illegal_buildings"], figures["farmland"]
    assert buildings["found"] == 5 and buildings["demolished"] == 4
    assert buildings["demolished_area_m2"] == pytest.approx(180.126 + 200.334 + 0.005, abs=1e-9)
    assert farmland["restored"] == 3
    assert farmland["restored_area_m2"] == pytest.approx(666.6675, abs=1e-9)
    assert farmland["restored_area_mu"] == pytest.approx(666.6675 / M2_PER_MU, abs=1e-12)
    assert round(farmland["restored_area_mu"], 2) == 1.0  # rounding each parcel first gives 0.99


def test_superior_and_patrol_environment_issues(session, grid):
    group = grid["PG01-01"]
    add_case(session, group, done_path("2022-02-01", "2022-03-01"), source="superior")
    add_case(
        session, group, [("reported", "2022-02-01")], source="superior", category="fire_hazard"
    )
    add_case(session, group, done_path("2022-02-01", "2022-03-01"), category="sewage")
    add_case(session, group, [("reported", "2022-02-01")], category="straw_burning")
    add_case(session, group, done_path("2021-12-01", "2022-01-15"), category="dust")
    add_case(session, group, done_path("2022-02-01", "2022-03-01"), category="fire_hazard")
    add_case(session, group, done_path("2022-02-01", "2022-03-01"), source="public")

    issues = year_figures(session, 2022)["issues"]

    assert issues["superior"] == {"received": 2, "rectified": 1}
    # Of the patrol environment issues found in 2022 one was rectified; the dust case found in
    # 2021 and rectified in 2022 counts as rectified overall, not in this pair.
    assert issues["patrol_environment"] == {"found": 2, "rectified": 1}
    assert (issues["found"], issues["rectified"]) == (6, 5)


def test_villages_groups_and_cases_outside_the_grid(session, grid):
    add_case(session, grid["PG01-02"], done_path("2022-02-01", "2022-03-01"))
    add_case(session, grid["PG02-01"], [("reported", "2022-02-01")], kind="farmland", area_m2=50.0)

    inside = year_figures(session, 2022, groups=True)
    add_case(session, None, [("reported", "2022-05-01")])
    with_outside = year_figures(session, 2022)

    assert [(v["code"], v["name"]) for v in inside["villages"]] == [
        ("PG01", "平岗村"),
        ("PG02", "石桥村"),
    ]
    pg, sq = inside["villages"]
    assert (pg["issues"]["found"], pg["issues"]["rectified"], sq["farmland"]["found"]) == (1, 1, 1)
    assert [(g["code"], g["issues"]["found"]) for g in pg["groups"]] == [
        ("PG01-01", 0),
        ("PG01-02", 1),
    ]
    outside = with_outside["villages"][-1]
    assert (outside["code"], outside["name"], outside["issues"]["found"]) == (None, "网格外", 1)
    assert (with_outside["issues"]["found"], with_outside["farmland"]["found"]) == (2, 1)


def test_json_has_exactly_the_agreed_keys(session, grid):
    add_case(session, grid["PG01-01"], done_path("2022-02-01", "2022-03-01"))

    figures = json.loads(json.dumps(year_figures(session, 2022), ensure_ascii=False))

    blocks = empty_figures()
    assert set(figures) == {
        "year", "town", *blocks, "villages", "summary_zh", "certified_officers", "grid"
    }  # fmt: skip
    assert (figures["year"], figures["town"]) == (2022, "平岗镇")
    assert figures["certified_officers"] == 0
    assert figures["grid"] == {"villages": 2, "groups": 3, "grid_members": 0}
    for area in [figures, *figures["villages"]]:
        for name, block in blocks.items():
            assert set(area[name]) == set(block)
        assert set(area["issues"]["superior"]) == {"received", "rectified"}
        assert set(area["issues"]["patrol_environment"]) == {"found", "rectified"}
    assert set(figures["villages"][0]) == {"code", "name", *blocks}


def example_year(session: Session, grid: dict) -> None:
    """Cases whose 2022 figures are the work summary's: 2 处 ≈380 m², ≈120 余亩, 5 superior, 4/4."""
    group, other = grid["PG01-01"], grid["PG02-01"]
    for area in (200.4, 180.0):
        add_case(
            session,
            group,
            done_path("2022-02-01", "2022-06-01"),
            kind="illegal_building",
            area_m2=area,
        )
    for area_mu in (60.0, 60.4):
        add_case(
            session,
            other,
            done_path("2022-03-01", "2022-10-01"),
            kind="farmland",
            area_m2=area_mu * M2_PER_MU,
        )
    for i in range(5):
        add_case(
            session,
            group,
            done_path(f"2022-0{i + 1}-10", "2022-09-30"),
            source="superior",
            category="other",
        )
    for category in ("garbage", "sewage", "dust", "straw_burning"):
        add_case(session, other, done_path("2022-04-01", "2022-04-20"), category=category)


def test_the_summary_of_the_example_year_is_the_work_summary_sentence(session, grid):
    example_year(session, grid)

    assert year_figures(session, 2022)["summary_zh"] == EXAMPLE


def test_figures_agree_with_a_loop_over_the_history(session, grid):
    rng = random.Random(7)
    groups = [grid["PG01-01"], grid["PG01-02"], grid["PG02-01"], None]
    for _ in range(150):
        day = date(2021, 1, 1) + timedelta(days=rng.randint(0, 900))
        steps = [("reported", day)]
        for status in rng.choice(
            [[], ["assigned"], ["assigned", "done"], ["void"]] * 2
            + [
                ["assigned", "done", "in_progress"],
                ["assigned", "done", "in_progress", "done", "verified"],
            ]
        ):
            day += timedelta(days=rng.randint(0, 200))
            steps.append((status, day))
        add_case(
            session,
            rng.choice(groups),
            [(s, d.isoformat()) for s, d in steps],
            kind=rng.choice(["issue", "issue", "illegal_building", "farmland"]),
            source=rng.choice(["patrol", "superior", "public"]),
            category=rng.choice(["garbage", "dust", "other"]),
            deadline=(steps[0][1] + timedelta(days=rng.choice([10, 60, 400]))).isoformat(),
            area_m2=rng.uniform(10, 2000),
        )
    session.commit()

    for year in (2021, 2022, 2023):
        assert figures_agree(year_figures(session, year), naive_figures(session, year)), year


def test_text_output_has_the_figures_the_table_and_the_paragraph(session, grid):
    example_year(session, grid)

    text = format_text(year_figures(session, 2022))

    assert text.startswith("平岗镇2022年")
    assert "拆除2处，拆除面积380.40㎡" in text
    assert "复耕面积120.40亩" in text
    assert "平岗村" in text and "石桥村" in text and "合计" in text
    assert text.rstrip().endswith(EXAMPLE)


@pytest.fixture
def cli_app(app):
    """The app with the report command registered (whether or not cli.py has it yet)."""
    if "report" not in app.cli.commands:
        app.cli.add_command(report_command)
    return app


def test_cli_prints_the_year_as_json(cli_app):
    from inspection import db

    with cli_app.app_context():
        session = db.session()
        example_year(session, make_grid(session))
        session.commit()

    result = cli_app.test_cli_runner().invoke(args=["report", "--year", "2022", "--format", "json"])

    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["summary_zh"] == EXAMPLE
    assert figures["illegal_buildings"]["demolished_area_m2"] == pytest.approx(380.4)


def test_cli_text_is_the_default(cli_app):
    result = cli_app.test_cli_runner().invoke(args=["report", "--year", "2022"])

    assert result.exit_code == 0, result.output
    assert "2022年" in result.output and "合计" in result.output


def test_the_demo_town_gives_the_work_summary_sentence(session):
    from inspection.ops import demo

    demo.load_demo(session)
    session.commit()

    assert year_figures(session, 2022)["summary_zh"] == DEMO_EXAMPLE
