"""The county map over a two-town grid, on SQLite and PostGIS: towns coloured by overdue cases now,
the click-through to /map/town/<code>, breadcrumbs 县 → 镇 → 村 → 组, and who may open which."""

import json
import re
from datetime import timedelta

import pytest
import shapely
from sqlalchemy import select

from geodata import assets
from geodata.maps import CLASS_COLORS, count_classes
from geodata.maps.choropleth import class_index, class_label
from inspection import db
from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.reporting.ranking import town_ranking
from tests.conftest import login, migrated_app
from tests.maps.test_map_pages import TODAY, is_overdue, password_hash, seed_town

SQ_OVERDUE, SQ_OTHER = 12, 3  # 石桥镇's cases: overdue now, and open but not yet due


def seed_county(app) -> None:
    """平岗镇 (test_map_pages) and 石桥镇 east of it, under 测试县, with the county's and 石桥镇's staff."""
    seed_town(app)
    with app.app_context():
        s = db.session()
        pg = s.scalar(select(GridCell).where(GridCell.code == "PG"))
        county = GridCell(level="county", code="420116", name="测试县")
        county.set_boundary(shapely.box(113.0, 30.0, 113.04, 30.01))
        sq = GridCell(level="town", code="SQ", name="石桥镇", parent=county)
        sq.set_boundary(shapely.box(113.02, 30.0, 113.04, 30.01))
        village = GridCell(level="village", code="SQ01", name="东村", parent=sq)
        village.set_boundary(shapely.box(113.02, 30.0, 113.04, 30.01))
        group = GridCell(level="group", code="SQ01-01", name="东一组", parent=village)
        group.set_boundary(shapely.box(113.02, 30.0, 113.04, 30.01))
        pg.parent = county
        s.add_all([county, sq, village, group])
        for username, role, cells in (
            ("xian", "county", []),
            ("admin", "admin", []),
            ("zhang_sq", "supervisor", [sq]),
        ):
            user = User(username=username, display_name=username, role=role, cells=cells)
            user.password_hash = password_hash()
            s.add(user)
        s.scalar(select(User).where(User.username == "liuwei")).cells = [pg]
        s.flush()
        for n in range(SQ_OVERDUE + SQ_OTHER):
            late = n < SQ_OVERDUE
            point = shapely.Point(113.022 + n * 0.001, 30.005)
            case = Case(
                kind="issue",
                status="assigned",
                source="patrol",
                title=f"石桥案件{n}",
                found_on=TODAY - timedelta(days=40),
                deadline_on=TODAY - timedelta(days=2) if late else TODAY + timedelta(days=9),
                town_id=sq.id,
                village_id=village.id,
                group_id=group.id,
            )
            case.set_geometry(point, None)
            s.add(case)
        s.commit()


@pytest.fixture
def county(db_url, tmp_path):
    """An app on each backend holding the two-town county."""
    app = migrated_app(tmp_path, DATABASE_URL=db_url)
    seed_county(app)
    yield app
    app.extensions["db_engine"].dispose()


def choropleth(html: str) -> dict:
    """The options of the page's town layer (geodata.maps.choropleth)."""
    (found,) = re.findall(r"/\*choropleth\*/(\{.*?\})/\*end\*/", html)
    return json.loads(found)


def overdue_by_code(app) -> dict[str, int]:
    """Each town's overdue cases now, counted in Python from the rows."""
    with app.app_context():
        s = db.session()
        codes = dict(s.execute(select(GridCell.id, GridCell.code)).all())
        counts = {"PG": 0, "SQ": 0}
        for case in s.scalars(select(Case)):
            counts[codes[case.town_id]] += is_overdue(case)
        return counts


def client_of(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def test_county_map_colours_each_town_by_its_overdue_cases(county):
    expected = overdue_by_code(county)
    assert expected["SQ"] == SQ_OVERDUE and expected["PG"] > 0 and expected["PG"] != SQ_OVERDUE

    response = client_of(county, "xian").get("/map/county")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    options = choropleth(html)
    props = {f["properties"]["code"]: f["properties"] for f in options["data"]["features"]}
    assert {code: p["c"] for code, p in props.items()} == expected
    classes = count_classes(list(expected.values()))
    for code, p in props.items():
        assert p["k"] == class_index(expected[code], classes)
        assert p["f"] == CLASS_COLORS[p["k"]]
    assert props["PG"]["f"] != props["SQ"]["f"]  # different counts, different classes here
    assert options["link"] == "/map/town/{code}"
    for low, high in classes:
        assert f"</i> {class_label(low, high)}</div>" in options["legend"]
    assert "逾期" in options["legend"] and "测试县" in html
    assert f'data-town="SQ" data-overdue="{SQ_OVERDUE}"' in html
    assert assets.external_asset_urls(html) == []
    with county.app_context():  # the same rule as the county's ranking of its towns
        ranked = {r.code: r.overdue_now for r in town_ranking(db.session(), TODAY.year, TODAY)}
    assert ranked == expected


def test_county_map_is_for_the_county_and_admins_only(county):
    assert client_of(county, "admin").get("/map/county").status_code == 200
    for username in ("zhangzhen", "zhang_sq", "liuwei", "cz_pg01", "wgy_pg01_01"):
        assert client_of(county, username).get("/map/county").status_code == 404, username


@pytest.mark.parametrize(
    ("username", "target"),
    [
        ("xian", "/map/county"),
        ("admin", "/map/county"),
        ("zhangzhen", "/map/town/PG"),
        ("liuwei", "/map/town/PG"),
        ("zhang_sq", "/map/town/SQ"),
        ("cz_pg01", "/map/village/PG01"),
    ],
)
def test_map_sends_each_user_to_his_start(county, username, target):
    response = client_of(county, username).get("/map")

    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    ("username", "path", "status"),
    [
        ("xian", "/map/town/PG", 200),
        ("xian", "/map/town/SQ", 200),
        ("zhangzhen", "/map/town/PG", 200),
        ("zhangzhen", "/map/town/SQ", 404),
        ("zhang_sq", "/map/town/PG", 404),
        ("zhang_sq", "/map/village/PG01", 404),
        ("zhang_sq", "/map/village/SQ01", 200),
        ("cz_pg01", "/map/town/PG", 404),
        ("xian", "/map/town/XX", 404),
        ("xian", "/map/town/PG01", 404),  # a village's code is no town
    ],
)
def test_who_may_open_which_town(county, username, path, status):
    assert client_of(county, username).get(path).status_code == status


def test_a_town_map_keeps_to_its_town(county):
    client = client_of(county, "xian")

    html = client.get("/map/town/SQ").get_data(as_text=True)
    feed = client.get("/map/data.geojson?cell=SQ").get_json()

    assert f"{SQ_OVERDUE + SQ_OTHER} 件" in html
    assert len(feed["features"]) == SQ_OVERDUE + SQ_OTHER
    assert {f["properties"]["t"][:4] for f in feed["features"]} == {"石桥案件"}
    (town, villages) = re.findall(r"MapApp\.cells\(\w+, (\{.*?\})\);", html)
    assert json.loads(villages)["link"] == "/map/village/{code}"
    assert [f["properties"]["code"] for f in json.loads(villages)["data"]["features"]] == ["SQ01"]
    pg = client.get("/map/data.geojson?cell=PG").get_json()
    assert pg["features"] and all("石桥" not in f["properties"]["t"] for f in pg["features"])


def crumbs(html: str) -> list[tuple[str, str | None]]:
    """The breadcrumbs of a map page: (name, link or None)."""
    start = html.index('class="map-crumbs"')
    nav = html[start : html.index("</nav>", start)]
    found = re.findall(r'<a href="([^"]+)">([^<]+)</a>|<span>([^<]+)</span>', nav)
    return [(a_name or span, href or None) for href, a_name, span in found]


def test_breadcrumbs_run_from_the_county_to_the_group(county):
    county_client, sq_client = client_of(county, "xian"), client_of(county, "zhang_sq")

    group = county_client.get("/map/group/PG01-01").get_data(as_text=True)
    town = county_client.get("/map/town/PG").get_data(as_text=True)
    own = sq_client.get("/map/village/SQ01").get_data(as_text=True)

    assert crumbs(group) == [
        ("测试县", "/map/county"),
        ("平岗镇", "/map/town/PG"),
        ("平岗村", "/map/village/PG01"),
        ("一组", None),
    ]
    assert crumbs(town) == [("测试县", "/map/county"), ("平岗镇", None)]
    assert crumbs(own) == [("测试县", None), ("石桥镇", "/map/town/SQ"), ("东村", None)]


def test_one_town_keeps_its_map_at_slash_map(tmp_path):
    app = migrated_app(tmp_path)
    seed_town(app)

    response = client_of(app, "zhangzhen").get("/map")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="map-crumbs"' not in html  # a town alone: no county above it
    assert client_of(app, "zhangzhen").get("/map/town/PG").status_code == 200
    app.extensions["db_engine"].dispose()


@pytest.mark.parametrize(
    ("counts", "classes"),
    [
        ([], [(0, 0)]),
        ([0, 0], [(0, 0)]),
        ([1], [(0, 0), (1, None)]),
        ([0, 2], [(0, 0), (1, 1), (2, None)]),
        ([3, 7], [(0, 0), (1, 2), (3, 4), (5, 6), (7, None)]),
        ([0, 40], [(0, 0), (1, 10), (11, 20), (21, 30), (31, None)]),
        ([5, 20], [(0, 0), (1, 5), (6, 10), (11, 15), (16, None)]),
    ],
)
def test_count_classes(counts, classes):
    found = count_classes(counts)

    assert found == classes
    for count in [*counts, 0]:  # every count in exactly one class
        hits = [
            i for i, (lo, hi) in enumerate(found) if lo <= count and (hi is None or count <= hi)
        ]
        assert hits == [class_index(count, found)]


def test_county_map_of_an_empty_grid(tmp_path):
    app = migrated_app(tmp_path)
    with app.app_context():
        user = User(username="xian", display_name="县局", role="county")
        user.password_hash = password_hash()
        db.session().add(user)
        db.session().commit()
    client = client_of(app, "xian")

    response = client.get("/map/county")

    assert response.status_code == 200
    assert choropleth(response.get_data(as_text=True))["data"]["features"] == []
    assert client.get("/map").status_code == 200  # no town yet: nothing to start on but /map
    app.extensions["db_engine"].dispose()


def test_county_map_without_a_working_basemap_warns_and_draws_no_tiles(county):
    county.config["BASEMAP"] = "tianditu"  # without a key
    html = client_of(county, "xian").get("/map/county").get_data(as_text=True)

    assert "flash error" in html and "TIANDITU_KEY" in html
    (setup,) = re.findall(r"MapApp\.setup\(\w+, (\{.*?\})\);", html)
    assert json.loads(setup)["basemap"]["layers"] == []
    assert assets.external_asset_urls(html) == []
