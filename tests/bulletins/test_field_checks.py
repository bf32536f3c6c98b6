"""The 通报's field checks per town on both backends: 图斑 tasks and 回头看 due, on time, late, 复发."""

from datetime import date
from io import BytesIO

import shapely
from docx import Document

from inspection.bulletins.bulletin import build_bulletin
from inspection.bulletins.docx import build_bulletin_docx
from inspection.rechecks.models import Recheck
from inspection.tuban.models import Tuban, TubanBatch
from tests.reporting.test_reports import add_case, make_grid

TODAY = date(2026, 7, 10)


def seed(session):
    cells = make_grid(session)
    group = cells["PG01-01"]
    where = {"group_id": group.id, "village_id": group.parent_id, "town_id": cells["PG"].id}
    batch = TubanBatch(name="2026年6月", deadline_on=date(2026, 6, 20), source_name="b.geojson")
    session.add(batch)
    # (number, due, checked_on, review): on time, late but checked, open and late, due in July.
    for number, due, checked, review in (
        ("T1", date(2026, 6, 20), date(2026, 6, 18), "accepted"),
        ("T2", date(2026, 6, 20), date(2026, 6, 25), "submitted"),
        ("T3", date(2026, 6, 20), None, "open"),
        ("T4", date(2026, 7, 20), None, "open"),
    ):
        tuban = Tuban(batch=batch, number=number, outcome="task", attributes={}, review=review,
                      due_on=due, checked_on=checked, **where)  # fmt: skip
        tuban.set_geometry(
            shapely.MultiPolygon([shapely.box(113.0, 30.0, 113.0002, 30.0002)]), 400.0
        )
        session.add(tuban)
    case = add_case(session, group, [("reported", "2026-01-02")], kind="illegal_building")
    # Re-checks of one case (one per closure day): on time and back, on time and clear, open late.
    for n, (due, checked, status) in enumerate(
        (
            (date(2026, 6, 10), date(2026, 6, 9), "recurred"),
            (date(2026, 6, 15), date(2026, 6, 15), "clear"),
            (date(2026, 6, 28), None, "open"),  # late on 30 June
        )
    ):
        session.add(Recheck(case=case, closed_on=date(2026, 1, 1 + n), due_on=due,
                            checked_on=checked, status=status, **where))  # fmt: skip
    session.flush()


def test_the_month_counts_the_field_checks_of_the_town(session):
    seed(session)

    bulletin = build_bulletin(session, "2026-06", TODAY)

    expected = {
        "tuban": {"due": 3, "on_time": 1, "late_open": 1},
        "rechecks": {"due": 3, "on_time": 2, "late_open": 1, "recurred": 1},
    }
    assert bulletin["field_checks"] == expected
    assert bulletin["towns"][0]["field_checks"] == expected
    assert "卫片图斑核查任务到期3个，按期完成1个，逾期未完成1个" in bulletin["summary_zh"]
    assert "回头看到期3个，按期完成2个，逾期未完成1个，发现复发1处" in bulletin["summary_zh"]
    document = Document(BytesIO(build_bulletin_docx(bulletin)))
    headings = [p.text for p in document.paragraphs]
    assert "四、卫片图斑核查与回头看" in headings
    last = document.tables[-1]
    assert [c.text for c in last.rows[1].cells] == ["平岗镇", "3", "1", "1", "3", "2", "1", "1"]


def test_a_month_with_no_field_checks_says_nothing_of_them(session):
    make_grid(session)

    bulletin = build_bulletin(session, "2026-06", TODAY)

    assert bulletin["field_checks"]["tuban"] == {"due": 0, "on_time": 0, "late_open": 0}
    assert "卫片" not in bulletin["summary_zh"] and "回头看" not in bulletin["summary_zh"]
