"""The demo town 平岗镇: its grid, the people who work it, and a year of cases (loaded once)."""

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.area import geodesic_area_m2
from geodata.geometry import validate_geometry
from geodata.synthetic import building_footprint, farm_parcel, make_town, random_point_in
from inspection import clock
from inspection.accounts.models import User
from inspection.cases.deadlines import assignment_deadline
from inspection.cases.history import record_change
from inspection.cases.models import Case
from inspection.cases.permissions import officer_details
from inspection.cases.records import create_case
from inspection.db import begin_write
from inspection.grid.models import GridCell
from inspection.ops.demo_cases import ALL_SPECS, DEFAULT_NOTES, NOTES, Spec, parse_when
from inspection.vocab import M2_PER_MU, SOURCES, label

DEMO_PASSWORD = "demo1234"
TOWN_SEED = 2022
TOWN_CODE = "PG"

SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯董程曹袁邓许彭曾吕余"
_GIVEN = (
    "建国 志强 秀英 桂兰 国华 春梅 红军 德明 玉珍 海燕 文斌 小平 明亮 金凤 长林 爱华 卫东 淑芬 "
    "永红 少军 新民 丽娟 家富 雪梅 光明 俊杰 晓东 凤英 水生 立新 勇 军 敏 涛 芳 静 斌 华 磊 霞 强 "
    "平 刚 辉 鹏 琴"
)
GIVEN_NAMES = tuple(_GIVEN.split())
# Officers: (username, name, certificate number); the last one's certificate has expired.
OFFICERS = (
    ("liuwei", "刘伟", "42060022001"),
    ("chenjun", "陈军", "42060022002"),
    ("zhaomin", "赵敏", "42060022003"),
    ("huangtao", "黄涛", "42060022004"),
)
# The rest of the town's certified enforcement staff (综合执法办, 司法所, 国土所 …): with the four officers
# above, 14 hold a certificate valid in 2022 (the seed summary: "其中有14名执法人员取得行政执法证").
# They sign no demo case, so the scripted cases and their random draws stay as they were.
CERTIFIED_STAFF = tuple((f"zfry{n:02d}", f"42060022{n + 4:03d}") for n in range(1, 11))
SUPERVISOR = ("zhangzhen", "张振")
ADMIN = ("admin", "系统管理员")


@dataclass
class Staff:
    """The demo's people: supervisor, admin, officers, village heads and 网格员 by cell code."""

    supervisor: User
    admin: User
    officers: list[User]
    heads: dict[str, User] = field(default_factory=dict)
    members: dict[str, User] = field(default_factory=dict)
    certified: list[User] = field(default_factory=list)  # certified staff who sign no demo case


def member_username(group_code: str) -> str:
    """The 网格员 login of a group: PG01-03 → wgy_pg01_03."""
    return "wgy_" + group_code.lower().replace("-", "_")


def head_username(village_code: str) -> str:
    """The village head's login: PG01 → cz_pg01."""
    return "cz_" + village_code.lower()


def demo_usernames(village_codes: list[str], group_codes: list[str]) -> list[str]:
    """Every demo login, most powerful first."""
    return [
        ADMIN[0],
        SUPERVISOR[0],
        *(o[0] for o in OFFICERS),
        *(c[0] for c in CERTIFIED_STAFF),
        *(head_username(c) for c in sorted(village_codes)),
        *(member_username(c) for c in sorted(group_codes)),
    ]


def store_grid(session: Session, cells) -> dict[str, GridCell]:
    """Insert the town, village and group cells of a grid frame (EPSG:4326) with areas in m²."""
    stored: dict[str, GridCell] = {}
    for row in cells.itertuples():
        cell = GridCell(level=row.level, code=row.code, name=row.name)
        cell.parent = stored.get(row.parent_code) if isinstance(row.parent_code, str) else None
        cell.set_boundary(row.geometry)
        cell.area_m2 = geodesic_area_m2(row.geometry)
        session.add(cell)
        stored[row.code] = cell
    session.flush()
    return stored


class People:
    """Deterministic Chinese names and 138… phone numbers, never repeated."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.names: set[str] = set()
        self.phones: set[str] = set()

    def name(self) -> str:
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)
            if name not in self.names:
                self.names.add(name)
                return name

    def phone(self) -> str:
        while True:
            phone = f"138{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone


def create_staff(session: Session, cells: dict[str, GridCell], today: date) -> Staff:
    """Create the demo users, all with the demo password; officers hold enforcement certificates."""
    people = People(TOWN_SEED)
    people.names.update(o[1] for o in OFFICERS)
    people.names.add(SUPERVISOR[1])
    # One hash for all: the password is the same, and hashing is deliberately slow (~0.2 s).
    template = User()
    template.set_password(DEMO_PASSWORD)

    def user(username: str, display_name: str, role: str, *cells_of: GridCell, **extra) -> User:
        person = User(
            username=username,
            display_name=display_name,
            phone=people.phone(),
            role=role,
            password_hash=template.password_hash,
            **extra,
        )
        person.cells = list(cells_of)
        session.add(person)
        return person

    town = next(c for c in cells.values() if c.level == "town")
    valid_until = date(today.year + 2, 12, 31)
    # Valid all through 2022, expired by now: enforcement acts today must not name him.
    expired_on = min(date(2023, 6, 30), today - timedelta(days=1))
    staff = Staff(
        supervisor=user(*SUPERVISOR, "supervisor", town),
        admin=user(*ADMIN, "admin"),
        officers=[
            user(
                username,
                name,
                "officer",
                cert_number=cert,
                cert_expires_on=expired_on if n == len(OFFICERS) - 1 else valid_until,
            )
            for n, (username, name, cert) in enumerate(OFFICERS)
        ],
    )
    for code, cell in cells.items():
        if cell.level == "village":
            staff.heads[code] = user(head_username(code), people.name(), "grid_member", cell)
        elif cell.level == "group":
            staff.members[code] = user(member_username(code), people.name(), "grid_member", cell)
    # Drawn after everyone else, so that the names and phones of the others stay as they were.
    staff.certified = [
        user(username, people.name(), "officer", cert_number=cert, cert_expires_on=valid_until)
        for username, cert in CERTIFIED_STAFF
    ]
    session.flush()
    return staff


SAND_PIT_M2 = 1800.0
CASE_SEED = 2022


class Player:
    """Plays the scripts: places each case in a random group and writes its dated history."""

    def __init__(self, session: Session, cells: dict, staff, today: date):
        self.session, self.staff, self.today = session, staff, today
        self.groups = [c for c in cells.values() if c.level == "group"]
        self.rng = np.random.default_rng(CASE_SEED)
        self.placed: list = []  # footprints and parcels so far: new ones must not overlap
        self.doc_numbers: dict[int, int] = {}
        self.doc_prefix = "平岗镇"  # the town whose 责令拆除 orders are numbered

    def day(self, when: str | int, year: int, after: date) -> date:
        """A script date, kept in order; offsets stay within the current year and up to today."""
        on = parse_when(when, year, self.today)
        if isinstance(when, int):
            on = min(max(on, date(self.today.year, 1, 1)), self.today)
        return max(on, after)

    def at(self, on: date, step: int) -> datetime:
        """A naive-UTC timestamp during office hours (Beijing time) of the day `on`."""
        minutes = 50 * step + int(self.rng.integers(0, 40))
        return datetime.combine(on, time(8, 30)) + timedelta(minutes=minutes, hours=-8)

    def geometry(self, spec: Spec):
        """A group and a geometry in it (lon/lat, EPSG:4326) that overlaps no earlier shape."""
        for _ in range(500):
            group = self.groups[int(self.rng.integers(len(self.groups)))]
            boundary = group.boundary
            if spec.kind == "issue" and spec.category != "sand_mining":
                return group, random_point_in(boundary, self.rng, margin_m=20)
            area_m2 = {
                "issue": SAND_PIT_M2,
                "illegal_building": spec.size,
                "farmland": (spec.size or 0) * M2_PER_MU,
            }[spec.kind]
            centre = random_point_in(boundary, self.rng, margin_m=0.8 * math.sqrt(area_m2) + 10)
            make = building_footprint if spec.kind == "illegal_building" else farm_parcel
            shape = make(centre, area_m2, self.rng)
            if boundary.contains(shape) and not any(shape.intersects(p) for p in self.placed):
                self.placed.append(shape)
                return group, shape
        raise RuntimeError(f"no room for {spec.title}")  # pragma: no cover

    def officers(self, on: date, lead: User | None) -> list[User]:
        """Two officers whose enforcement certificates are valid on the day, `lead` first."""
        valid = [o for o in self.staff.officers if o.cert_valid_on(on)]
        if lead in valid:
            valid.remove(lead)
            return [lead, valid[int(self.rng.integers(len(valid)))]]
        picked = self.rng.choice(len(valid), size=2, replace=False)
        return [valid[int(i)] for i in picked]

    def play(self, spec: Spec) -> Case:
        """Create one case from its script and walk it through its steps."""
        group, geom = self.geometry(spec)
        village = group.parent
        found_on = self.day(spec.found, self.today.year, date.min)
        year = found_on.year
        fields = {
            k: v.replace("{year}", str(year)) if isinstance(v, str) else v
            for k, v in spec.fields.items()
        }
        fields.update(
            title=spec.title.format(place=village.name + group.name),
            source=spec.source,
            category=spec.category,
        )
        deadline_on = None
        if spec.deadline is not None:
            deadline_on = max(parse_when(spec.deadline, year, self.today), found_on)
        if spec.source == "superior":  # a superior's document sets the deadline from the start
            fields["deadline_on"] = deadline_on
        reporter = {
            "patrol": self.staff.members[group.code],
            "superior": self.staff.supervisor,
        }.get(spec.source, self.staff.heads[village.code])
        case, _ = create_case(
            self.session, spec.kind, validate_geometry(geom), fields, reporter, found_on=found_on
        )
        case.created_at = case.history[0].at = self.at(found_on, 0)
        case.history[0].note = " ".join(
            filter(None, [label(SOURCES, spec.source), case.doc_number])
        )
        if spec.kind == "illegal_building":
            case.building_area_m2 = case.area_m2 * (spec.fields.get("floors") or 1)
        on = found_on
        for step, text in enumerate(filter(None, spec.steps.split(";")), start=1):
            name, when = text.split()
            on = self.day(int(when) if when.lstrip("-").isdigit() else when, year, on)
            self.step(case, spec, name, on, step, deadline_on)
        return case

    def step(self, case: Case, spec: Spec, name: str, on: date, step: int, deadline_on) -> None:
        """Apply one scripted status change with the actor and details the workflow would record."""
        status = "in_progress" if name == "returned" else name
        note = spec.notes.get(name) or DEFAULT_NOTES.get(name) or NOTES[spec.kind][name]
        note = note.replace("{crop}", spec.fields.get("crop") or "农作物")
        actor, details = self.staff.supervisor, None
        building = spec.kind == "illegal_building"
        if name == "assigned":
            if building:  # the enforcement team answers for a demolition, under a written order
                case.responsible = self.officers(on, None)[0]
                number = self.doc_numbers[on.year] = self.doc_numbers.get(on.year, 0) + 1
                case.enforcement_doc_no = f"{self.doc_prefix}责拆字〔{on.year}〕{number}号"
            # A superior's deadline is already on the case; the workflow keeps it ("superior").
            given = max(deadline_on, on) if deadline_on and spec.source != "superior" else None
            deadline, origin, days = assignment_deadline(self.session, case, given, on)
            case.deadline_on = deadline
            details = {
                "responsible": {"id": case.responsible.id, "name": case.responsible.display_name},
                "deadline_on": deadline.isoformat(),
                "deadline_origin": origin,
                "deadline_days": days,
            }
        elif name == "returned":
            details = {"reason": note, "done_on": case.done_on.isoformat()}
        elif status in ("in_progress", "done"):
            actor = case.responsible
            if building:
                officers = self.officers(on, case.responsible)
                actor, details = officers[0], {"officers": officer_details(officers)}
        if status == "done" and building:
            case.demolished_area_m2 = case.area_m2
            details |= {
                "demolished_area_m2": case.area_m2,
                "footprint_area_m2": case.area_m2,
                "area_reason": None,
            }
        at = self.at(on, step)
        record_change(self.session, case, status, actor, on=on, at=at, note=note, details=details)


def load_cases(session: Session, cells: dict, staff, today: date) -> int:
    """Create every scripted case (2022 and this year) with backdated history; return the count."""
    player = Player(session, cells, staff, today)
    for spec in ALL_SPECS:
        player.play(spec)
    session.flush()
    return len(ALL_SPECS)


def _existing_logins(session: Session) -> dict[str, str]:
    """The demo logins of a town loaded earlier (those whose users still exist)."""
    cells = session.execute(select(GridCell.level, GridCell.code)).all()
    wanted = demo_usernames(
        [code for level, code in cells if level == "village"],
        [code for level, code in cells if level == "group"],
    )
    present = set(session.scalars(select(User.username).where(User.username.in_(wanted))))
    return {name: DEMO_PASSWORD for name in wanted if name in present}


def load_demo(session: Session, *, today: date | None = None) -> dict:
    """Load the demo town, its users and cases unless it exists; return logins and counts added.

    `today` (default: today in the town's time zone) anchors the current year's open cases; it must lie after
    2022, the year the work summary describes. The caller commits.
    """
    today = today or clock.town_today()
    if today.year <= 2022:
        raise ValueError("the demo's 2022 history needs a date after 2022")
    begin_write(session)
    if session.scalar(select(GridCell.id).where(GridCell.code == TOWN_CODE)) is not None:
        return {
            "logins": _existing_logins(session),
            "created": False,
            "cells": 0,
            "users": 0,
            "cases": 0,
        }
    cells = store_grid(session, make_town(seed=TOWN_SEED))
    staff = create_staff(session, cells, today)
    n_cases = load_cases(session, cells, staff, today)
    session.flush()
    logins = demo_usernames(
        [c for c, cell in cells.items() if cell.level == "village"],
        [c for c, cell in cells.items() if cell.level == "group"],
    )
    return {
        "logins": {name: DEMO_PASSWORD for name in logins},
        "created": True,
        "cells": len(cells),
        "users": 2
        + len(staff.officers)
        + len(staff.certified)
        + len(staff.heads)
        + len(staff.members),
        "cases": n_cases,
    }
