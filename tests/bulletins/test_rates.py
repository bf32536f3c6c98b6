"""The bulletin's rates on a hand-made month (SQLite and PostGIS), counted by hand in this file."""

from datetime import date

import pytest
import shapely
from sqlalchemy.orm import Session

from inspection.bulletins.bulletin import build_bulletin
from inspection.bulletins.month import parse_month
from inspection.bulletins.ranking import red_black
from inspection.bulletins.text_zh import percent
from inspection.cases.extension import extend_deadline
from inspection.cases.history import record_change
from inspection.cases.models import Case
from inspection.errors import InvalidInput
from tests.cases.test_workflow import create_canned_grid, create_canned_users

TODAY = date(2022, 6, 15)


def add(session, grid, users, group, found, steps=(), deadline=None, status_path=None) -> Case:
    """A case of a group found on a day, with (status, day) steps and a deadline (ISO dates)."""
    west = grid[group].boundary.bounds[0]
    case = Case(kind="issue", title="测试", category="garbage", found_on=date.fromisoformat(found))
    case.set_geometry(shapely.Point(west + 0.0005, 30.0005), None)
    case.group_id, case.village_id, case.town_id = (
        grid[group].id, grid[group].parent_id, grid["town"].id,
    )  # fmt: skip
    case.responsible = users["responsible"] if group == "A1" else None
    session.add(case)
    record_change(session, case, "reported", None, on=case.found_on)
    for status, on in steps:
        record_change(session, case, status, None, on=date.fromisoformat(on))
    case.deadline_on = date.fromisoformat(deadline) if deadline else None
    session.flush()
    return case


@pytest.fixture
def may(session: Session):
    """May 2022, by hand: village 平岗村 (A1, 网格员 王网格) and 河口村 (B1, nobody responsible)."""
    grid = create_canned_grid(session)
    users = create_canned_users(session, grid)
    a, done = "A1", [("assigned", "2022-05-03")]
    # c1: found, rectified by its deadline.            c2: found, rectified late.
    add(session, grid, users, a, "2022-05-02", [*done, ("done", "2022-05-15")], "2022-05-20")
    add(session, grid, users, a, "2022-05-03", [*done, ("done", "2022-05-25")], "2022-05-10")
    # c3: found in April, done, sent back (返工), done again by its deadline.
    add(session, grid, users, a, "2022-04-01",
        [("assigned", "2022-04-02"), ("done", "2022-05-20"), ("in_progress", "2022-05-22"),
         ("done", "2022-05-28")], "2022-05-31")  # fmt: skip
    # c4: found, due 25 May, extended (延期) on 24 May to 30 June: open, not overdue.
    c4 = add(session, grid, users, a, "2022-05-05", done, "2022-05-25")
    # c5: found in April, due 15 May, still open: overdue.   c6: void: counts nowhere.
    add(session, grid, users, a, "2022-04-10", [("assigned", "2022-04-11")], "2022-05-15")
    add(session, grid, users, a, "2022-05-06", [("void", "2022-05-07")], "2022-05-09")
    # c7 (河口村): found, due 30 May, done 2 June: late, and overdue on 31 May.
    add(session, grid, users, "B1", "2022-05-07", [("assigned", "2022-05-08"), ("done", "2022-06-02")],
        "2022-05-30")  # fmt: skip
    session.commit()
    extend_deadline(session, c4, users["supervisor"], deadline_on=date(2022, 6, 30),
                    reason="雨季", today=date(2022, 5, 24))  # fmt: skip
    session.commit()
    return grid, users


def test_the_rates_of_a_hand_made_month(session, may):
    bulletin = build_bulletin(session, "2022-05", TODAY)
    by_name = {v["name"]: v for v in bulletin["villages"]}
    a, b = by_name["平岗村"], by_name["河口村"]

    counts = ("found", "rectified", "due", "on_time", "extended", "sent_back", "overdue")
    assert [a[k] for k in counts] == [3, 3, 5, 2, 1, 1, 1]
    assert [b[k] for k in counts] == [1, 0, 1, 0, 0, 0, 1]
    assert [bulletin[k] for k in counts] == [4, 3, 6, 2, 1, 1, 2]
    assert (a["close_rate"], a["on_time_rate"], a["extension_rate"]) == (1.0, 0.4, 0.2)
    assert a["rework_rate"] == pytest.approx(1 / 3)
    assert b["close_rate"] == 0.0 and b["rework_rate"] is None  # nothing rectified: "—"
    assert bulletin["on_time_rate"] == pytest.approx(2 / 6)
    (member,) = [m for m in bulletin["members"] if m["username"] == "wgy1"]
    assert [member[k] for k in counts] == [a[k] for k in counts]
    # 红黑榜: 平岗村 (按期 40 %) above 河口村 (0 %).
    assert [r["name"] for r in bulletin["ranking"]["villages"]["red"]] == ["平岗村"]
    assert [r["name"] for r in bulletin["ranking"]["villages"]["black"]] == ["河口村"]
    text = bulletin["summary_zh"]
    assert text.startswith("5月，全镇共发现问题4个，整改完成3个，结案率75%，按期结案率33.3%")
    assert "返工率33.3%，延期率16.7%，逾期未整改2个" in text
    assert "红榜（村）：平岗村；黑榜（村）：河口村" in text


def test_a_month_with_nothing_due_shows_dashes_never_zero(session, may):
    bulletin = build_bulletin(session, "2022-03", TODAY)

    assert bulletin["found"] == 0 and bulletin["due"] == 0
    assert all(
        bulletin[k] is None for k in ("close_rate", "on_time_rate", "rework_rate", "extension_rate")
    )
    assert percent(None) == "—" and percent(0.0) == "0%"
    assert bulletin["ranking"]["villages"] == {"red": [], "black": []}
    assert "结案率" not in bulletin["summary_zh"] and "红榜（村）：无" in bulletin["summary_zh"]


def row(name, due, on_time, found, rectified):
    return {"name": name, "due": due, "found": found,
            "on_time_rate": on_time / due if due else None,
            "close_rate": rectified / found if found else None}  # fmt: skip


def test_the_ranking_rule():
    rows = [
        row("甲", 4, 4, 4, 4),  # 100 % on time
        row("乙", 4, 2, 4, 4),  # 50 %, closes all
        row("丙", 4, 2, 4, 2),  # 50 %, closes half: below 乙
        row("丁", 2, 1, 8, 8),  # 50 %, closes all, found more: above 乙
        row("戊", 0, 0, 9, 9),  # nothing due: not ranked
        row("己", 5, 0, 5, 0),  # 0 %: last
        row("庚", 3, 0, 0, 0),  # 0 %, nothing found (结案率 — counts lowest): below 己
    ]

    red, black = red_black(rows)

    assert [r["name"] for r in red] == ["甲", "丁", "乙"]
    assert [r["name"] for r in black] == ["庚", "己", "丙"]
    assert red_black([row("甲", 1, 1, 1, 1)]) == ([], [])  # one alone is on neither list


@pytest.mark.parametrize(
    "text, code",
    [("2022-07", "future_month"), ("2099-01", "future_month"), ("2022-13", "bad_month"),
     ("2022-5", "bad_month"), ("五月", "bad_month"), ("", "bad_month"), (None, "bad_month")],
)  # fmt: skip
def test_a_future_or_malformed_month_is_refused(text, code):
    with pytest.raises(InvalidInput) as refused:
        parse_month(text, TODAY)
    assert refused.value.code == code


def test_the_current_month_is_read_at_today():
    month = parse_month("2022-06", TODAY)
    assert (month.first, month.last, month.as_of) == (date(2022, 6, 1), date(2022, 6, 30), TODAY)
