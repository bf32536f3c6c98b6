"""The demo county 演示县: 平岗镇 and more fictional towns beside it, each with its staff and cases."""

import math
import random
from datetime import date

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.synthetic import make_town
from inspection import clock
from inspection.accounts.models import User
from inspection.db import begin_write
from inspection.grid.county import county_cell, name_county
from inspection.grid.models import GridCell
from inspection.ops import demo
from inspection.ops.demo_cases import ALL_SPECS

COUNTY_NAME, COUNTY_CODE = "演示县", "DEMO"
COUNTY_USER = ("county", "县执法局督查员")
MAX_TOWNS = 30
TOWN_NAMES = (
    "石门镇",
    "河口镇",
    "清溪镇",
    "白云镇",
    "新店镇",
    "长岭镇",
    "桂花镇",
    "马鞍镇",
    "双溪镇",
    "龙潭镇",
    "青山镇",
    "金河镇",
    "杨柳镇",
    "梅园镇",
    "沙湖镇",
    "高桥镇",
    "官塘镇",
    "花园镇",
    "三星镇",
    "东港镇",
    "西岭镇",
    "南湖镇",
    "北山镇",
    "太平镇",
    "永安镇",
    "福田镇",
    "兴隆镇",
    "安乐镇",
    "红星镇",
)
VILLAGE_STARTS = "东西南北上下前后大中小新"  # 12 × 30 names: 12 for each of 29 added towns
VILLAGE_ENDINGS = "湾桥塘岭港坪冲岗垸畈店铺庄集寨坝堰渡湖山河溪洲圩墩嘴坡垴沟峪"
# Town centres on a lattice around 平岗镇 (113.62° E, 29.85° N); a synthetic town reaches at most
# about 3.8 km from its centre, so 0.085° of longitude (8.2 km) and 0.075° of latitude (8.3 km) apart
# they never touch.
STEP_LON_DEG, STEP_LAT_DEG = 0.085, 0.075
OFFICERS_PER_TOWN = 3


def town_code(number: int) -> str:
    """The demo code of the n-th town (2 → T02); town 1 is 平岗镇, code PG."""
    return demo.TOWN_CODE if number == 1 else f"T{number:02d}"


def town_centre(number: int, towns: int) -> tuple[float, float]:
    """The (lon, lat) centre in degrees (EPSG:4326) of the n-th of `towns` towns on the lattice."""
    columns = math.ceil(math.sqrt(towns))
    row, column = divmod(number - 1, columns)
    return 113.62 + column * STEP_LON_DEG, 29.85 - row * STEP_LAT_DEG


def town_frame(number: int, towns: int):
    """The grid frame (EPSG:4326) of the n-th demo town, its codes and names made its own."""
    frame = make_town(seed=demo.TOWN_SEED + number, center=town_centre(number, towns))
    code, name = town_code(number), TOWN_NAMES[number - 2]

    def recode(value):
        return code + value[len(demo.TOWN_CODE) :] if isinstance(value, str) else value

    frame["code"] = frame["code"].map(recode)
    frame["parent_code"] = frame["parent_code"].map(recode)
    frame.loc[frame["level"] == "town", "name"] = name
    villages = frame["level"] == "village"
    names = village_names(number, int(villages.sum()))
    # The seat village carries the town's name, as 平岗村 does in 平岗镇.
    frame.loc[villages, "name"] = [name[:-1] + "村", *names[1:]]
    return frame


def village_names(number: int, count: int) -> list[str]:
    """`count` village names for the n-th town, none shared with another demo town."""
    names = [a + b + "村" for b in VILLAGE_ENDINGS for a in VILLAGE_STARTS]
    random.Random(2022).shuffle(names)  # the same order every run
    start = (number - 2) * 12
    return names[start : start + count]


def _town_staff(
    session: Session, cells: dict[str, GridCell], number: int, today: date
) -> demo.Staff:
    """A supervisor, certified officers, village heads and 网格员 of one added town."""
    people = demo.People(demo.TOWN_SEED * 100 + number)
    template = User()
    template.set_password(demo.DEMO_PASSWORD)
    town = next(c for c in cells.values() if c.level == "town")
    prefix = town.code.lower()
    valid_until = date(today.year + 2, 12, 31)

    def user(username: str, role: str, *cells_of: GridCell, **extra) -> User:
        person = User(
            username=username,
            display_name=people.name(),
            phone=people.phone(),
            role=role,
            password_hash=template.password_hash,
            **extra,
        )
        person.cells = list(cells_of)
        session.add(person)
        return person

    staff = demo.Staff(
        supervisor=user(f"zz_{prefix}", "supervisor", town),
        admin=None,
        officers=[
            user(
                f"zf_{prefix}_{n}",
                "officer",
                town,
                cert_number=f"4206{number:03d}{n:04d}",
                cert_expires_on=valid_until,
            )
            for n in range(1, OFFICERS_PER_TOWN + 1)
        ],
    )
    for code, cell in cells.items():
        if cell.level == "village":
            staff.heads[code] = user(demo.head_username(code), "grid_member", cell)
        elif cell.level == "group":
            staff.members[code] = user(demo.member_username(code), "grid_member", cell)
    session.flush()
    return staff


def _town_cases(session: Session, cells: dict, staff: demo.Staff, number: int, today: date) -> int:
    """Play a share (50–100 %) of the demo scripts in one added town; return the count."""
    rng = np.random.default_rng(demo.CASE_SEED + number)
    share = rng.uniform(0.5, 1.0)
    specs = [spec for spec in ALL_SPECS if rng.random() < share]
    player = demo.Player(session, cells, staff, today)
    player.rng = np.random.default_rng(demo.CASE_SEED * 100 + number)
    player.doc_prefix = next(c.name for c in cells.values() if c.level == "town")
    for spec in specs:
        player.play(spec)
    session.flush()
    return len(specs)


def _tie_town_staff(session: Session) -> None:
    """Tie 平岗镇's untied officers to it: with several towns an untied officer would see nothing."""
    town = session.scalar(select(GridCell).where(GridCell.code == demo.TOWN_CODE))
    usernames = [o[0] for o in demo.OFFICERS] + [c[0] for c in demo.CERTIFIED_STAFF]
    for username in usernames:
        officer = session.scalar(select(User).where(User.username == username))
        if officer is not None and not officer.cells:
            officer.cells = [town]


def _grow_county(session: Session) -> GridCell:
    """Make 演示县 over the towns, or grow the stored county to their union (EPSG:4326)."""
    county = county_cell(session)
    if county is None:
        county, _ = name_county(session, COUNTY_NAME, COUNTY_CODE)
        return county
    towns = list(session.scalars(select(GridCell).where(GridCell.level == "town")))
    union = shapely.union_all([town.boundary for town in towns])
    county.set_boundary(union if union.geom_type != "GeometryCollection" else union.convex_hull)
    county.area_m2 = sum(town.area_m2 or 0.0 for town in towns) or None
    for town in towns:
        town.parent = county
    return county


def town_logins(session: Session, code: str) -> list[str]:
    """The demo logins of an added town: supervisor, officers, village heads and 网格员."""
    prefix = code.lower()
    patterns = (f"zz_{prefix}", f"zf_{prefix}_%", f"cz_{prefix}%", f"wgy_{prefix}_%")
    names = set()
    for pattern in patterns:
        names.update(session.scalars(select(User.username).where(User.username.like(pattern))))
    return sorted(names)


def load_demo_county(session: Session, *, towns: int, today: date | None = None) -> dict:
    """Load 平岗镇 and towns 2…N beside it under 演示县, with staff and cases; only what is missing.

    Returns the logins (all with the demo password) and the counts added; the caller commits.
    """
    if not 1 <= towns <= MAX_TOWNS:
        raise ValueError(f"towns must be between 1 and {MAX_TOWNS}")
    today = today or clock.town_today()
    result = demo.load_demo(session, today=today)
    logins = dict(result["logins"])
    counts = {key: result[key] for key in ("cells", "users", "cases")}
    added_towns = 0
    for number in range(2, towns + 1):
        code = town_code(number)
        if session.scalar(select(GridCell.id).where(GridCell.code == code)) is not None:
            continue
        cells = demo.store_grid(session, town_frame(number, towns))
        staff = _town_staff(session, cells, number, today)
        counts["cells"] += len(cells)
        counts["users"] += 1 + len(staff.officers) + len(staff.heads) + len(staff.members)
        counts["cases"] += _town_cases(session, cells, staff, number, today)
        added_towns += 1
    begin_write(session)
    _tie_town_staff(session)
    county = _grow_county(session)
    if session.scalar(select(User.id).where(User.username == COUNTY_USER[0])) is None:
        template = User(username=COUNTY_USER[0], display_name=COUNTY_USER[1], role="county")
        template.set_password(demo.DEMO_PASSWORD)
        session.add(template)
        counts["users"] += 1
    session.flush()
    for number in range(2, towns + 1):
        logins.update(
            {name: demo.DEMO_PASSWORD for name in town_logins(session, town_code(number))}
        )
    logins[COUNTY_USER[0]] = demo.DEMO_PASSWORD
    return {"logins": logins, "county": county.name, "towns_added": added_towns, **counts}
