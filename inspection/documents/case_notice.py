"""The facts of a 整改通知书 for one case: who, where, what, on what basis, what to do, by when.

Read from the case and its cells only (no Flask): the view and the command give the case's link.
"""

from dataclasses import dataclass
from datetime import date

from geodata.static_map import case_locator_png
from inspection.cases.models import Case
from inspection.documents.legal import laws_cited, legal_basis
from inspection.vocab import CATEGORIES, KINDS, label

NO_VALUE = "—"


@dataclass(frozen=True)
class NoticeFacts:
    """What a notice says of its case; text is Chinese, coordinates WGS-84 degrees."""

    case_id: int
    town: str
    party: str | None
    village: str | None
    group: str | None
    lon_deg: float
    lat_deg: float
    kind: str
    category: str | None
    title: str
    description: str
    basis: tuple[str, ...]
    laws: tuple[str, ...]
    measures: str | None
    deadline_on: date | None
    issued_on: date
    case_url: str

    @property
    def place(self) -> str:
        """村/组 names and the coordinates: 一村二组（东经113.30500°，北纬23.10500°）."""
        cells = "".join(n for n in (self.village, self.group) if n) or "网格外"
        east = "东经" if self.lon_deg >= 0 else "西经"
        north = "北纬" if self.lat_deg >= 0 else "南纬"
        return f"{cells}（{east}{abs(self.lon_deg):.5f}°，{north}{abs(self.lat_deg):.5f}°）"

    @property
    def problem(self) -> str:
        """Kind, category and description: 问题·垃圾乱堆乱放：… ."""
        heading = "·".join(x for x in (self.kind, self.category) if x)
        text = self.description.strip() or self.title
        return f"{heading}：{text}" if text else heading

    @property
    def deadline(self) -> str:
        """The deadline as 2022年5月31日前, or — without one."""
        if self.deadline_on is None:
            return NO_VALUE
        d = self.deadline_on
        return f"{d.year}年{d.month}月{d.day}日前"


def notice_facts(case: Case, *, case_url: str, issued_on: date) -> NoticeFacts:
    """The notice's facts of a case, with the link its QR code carries and the day it is issued."""
    return NoticeFacts(
        case_id=case.id,
        town=case.town.name if case.town else "",
        party=(case.party or "").strip() or None,
        village=case.village.name if case.village else None,
        group=case.group.name if case.group else None,
        lon_deg=case.point_lon,
        lat_deg=case.point_lat,
        kind=label(KINDS, case.kind),
        category=label(CATEGORIES, case.category) if case.category else None,
        title=case.title or "",
        description=case.description or "",
        basis=legal_basis(case.kind, case.category),
        laws=tuple(laws_cited(case.kind, case.category)),
        measures=(case.measures or "").strip() or None,
        deadline_on=case.deadline_on,
        issued_on=issued_on,
        case_url=case_url,
    )


def locator_png(case: Case) -> bytes:
    """The location picture of a case on its 组 and 村 outlines (lon/lat EPSG:4326 as stored)."""
    group = case.group.boundary if case.group else None
    village = case.village.boundary if case.village else None
    return case_locator_png(case.geom, group, village)
