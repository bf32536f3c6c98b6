"""The summary's staffing: certified enforcement staff and the grid, counted and written."""

import json
from datetime import date

from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.ops import demo
from inspection.reporting.figures import year_figures
from inspection.reporting.staffing import staffing
from tests.reporting.test_reports import make_grid


def test_the_demo_paragraph_has_the_14_certified_officers_and_the_grid(session: Session):
    demo.load_demo(session)
    session.commit()

    figures = year_figures(session, 2022)
    print(figures["summary_zh"])

    assert figures["certified_officers"] == 14
    assert "其中有14名执法人员取得行政执法证。今年以来，我镇" in figures["summary_zh"]
    grid = figures["grid"]
    assert grid["villages"] == len([v for v in figures["villages"] if v["code"]])
    clause = f"全镇划分{grid['villages']}个村、{grid['groups']}个村民小组，配备{grid['grid_members']}名网格员"
    assert f"{clause}，巡查发现环保问题4个，整改完成4个。" in figures["summary_zh"]
    assert grid["groups"] == grid["grid_members"] > grid["villages"] > 0
    # One of the four officers' certificates expired in 2023: this year 13 remain.
    assert year_figures(session, date.today().year)["certified_officers"] == 13


def test_a_town_counts_only_its_tied_staff_and_certificates_valid_in_the_year(session: Session):
    grid = make_grid(session)

    def person(name, role, *cells, cert=None, expires=None, active=True):
        user = User(
            username=name,
            display_name=name,
            role=role,
            password_hash="x",
            cert_number=cert,
            cert_expires_on=expires,
            active=active,
        )
        user.cells = list(cells)
        session.add(user)

    person("a", "officer", cert="1", expires=date(2022, 1, 1))  # valid on the year's first day
    person("b", "officer", cert="2", expires=date(2021, 12, 31))  # expired before the year
    person("c", "supervisor", grid["PG"], cert="3", expires=date(2030, 1, 1))
    person("d", "officer", cert="", expires=date(2030, 1, 1))  # no number: no certificate
    person("m1", "grid_member", grid["PG01-01"])
    person("m2", "grid_member", grid["PG01-01"], grid["PG01-02"])  # two groups, one person
    person("m3", "grid_member", grid["PG02-01"], active=False)  # disabled
    person("head", "grid_member", grid["PG01"])  # a village head is no 组's 网格员
    session.commit()
    cells = [(c.id, c.level, c.parent_id) for c in grid.values()]
    from collections import namedtuple

    Row = namedtuple("Row", "id level parent_id")

    counted = staffing(session, 2022, [Row(*c) for c in cells])

    assert counted[None] == {
        "certified_officers": 2, "grid": {"villages": 2, "groups": 3, "grid_members": 2}
    }  # fmt: skip
    assert counted[grid["PG"].id]["certified_officers"] == 1  # only c is tied to the town
    assert staffing(session, 2023, [Row(*c) for c in cells])[None]["certified_officers"] == 1
    figures = json.loads(json.dumps(year_figures(session, 2022), ensure_ascii=False))
    assert figures["certified_officers"] == 2
    assert figures["grid"] == {"villages": 2, "groups": 3, "grid_members": 2}
