"""Lists of cases: the /cases filters (kind, village, overdue) and the overdue list of each home page."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from inspection import vocab
from inspection.access import TOWN_ROLES, case_scope
from inspection.deadlines import overdue_condition
from inspection.errors import InvalidInput
from inspection.models import Case, GridCell, User

HOME_LIMIT = 20  # overdue cases listed on a home page; the rest are one link away
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class ListFilters:
    """What /cases shows: one kind or all, one village or all, only the overdue or all."""

    kind: str | None = None
    village: GridCell | None = None
    overdue: bool = False

    def query_args(self, **changes) -> dict:
        """The filters as URL query arguments (empty ones left out), with some changed."""
        args = {
            "kind": self.kind,
            "village": self.village.code if self.village is not None else None,
            "overdue": "1" if self.overdue else None,
        } | changes
        return {key: value for key, value in args.items() if value}


def sees_town(user: User) -> bool:
    """True for the town's staff and anyone tied to the town cell: they see every village."""
    return user.role in TOWN_ROLES or any(cell.level == "town" for cell in user.cells)


def visible_villages(session: Session, user: User) -> list[GridCell]:
    """The villages whose cases the user may see, by code: every one for the town, else his own."""
    villages = session.scalars(
        select(GridCell).where(GridCell.level == "village").order_by(GridCell.code)
    ).all()
    if sees_town(user):
        return list(villages)
    mine = {c.id for c in user.cells if c.level == "village"}
    mine |= {c.parent_id for c in user.cells if c.level == "group"}
    return [v for v in villages if v.id in mine]


def list_filters(session: Session, user: User, args) -> ListFilters:
    """Read the /cases filters from query arguments; a village the user cannot see is refused.

    An unknown kind is dropped, as on the maps, so an old link still opens.
    """
    kind = (args.get("kind") or "").strip()
    overdue = (args.get("overdue") or "").strip().lower() in TRUE_WORDS
    code = (args.get("village") or "").strip()
    village = None
    if code:
        village = next((v for v in visible_villages(session, user) if v.code == code), None)
        if village is None:
            raise InvalidInput(
                "bad_village",
                f"没有编码为“{code[:32]}”的村，或您无权查看该村",
                f"No village with the code “{code[:32]}”, or you may not see it",
            )
    return ListFilters(kind if kind in vocab.KINDS else None, village, overdue)


def case_list_query(user: User, filters: ListFilters, today: date) -> Select:
    """The cases the user may see that pass the filters: newest first, or most overdue first."""
    query = select(Case).where(case_scope(user))
    if filters.kind:
        query = query.where(Case.kind == filters.kind)
    if filters.village is not None:
        query = query.where(Case.village_id == filters.village.id)
    if filters.overdue:
        query = query.where(overdue_condition(today)).order_by(Case.deadline_on, Case.id)
    else:
        query = query.order_by(Case.id.desc())
    return query.options(selectinload(Case.village), selectinload(Case.group))


@dataclass(frozen=True)
class OverdueList:
    """The overdue cases a home page shows: whose (mine, village, town), the first few and all."""

    scope: str
    cases: list[Case]
    total: int
    villages: list[GridCell] = field(default_factory=list)
    link_args: dict = field(default_factory=dict)


def home_overdue(session: Session, user: User, today: date) -> OverdueList:
    """The overdue cases of the user's home page, most overdue first.

    The town's staff get the town's; a village head his village's; a 网格员 those he is
    responsible for.
    """
    heads = sorted((c for c in user.cells if c.level == "village"), key=lambda c: c.code)
    query = select(Case).where(overdue_condition(today), case_scope(user))
    if sees_town(user):
        scope, link_args = "town", {"overdue": "1"}
    elif heads:
        scope = "village"
        link_args = {"overdue": "1"} | ({"village": heads[0].code} if len(heads) == 1 else {})
    else:
        scope, link_args = "mine", {"overdue": "1"}
        query = query.where(Case.responsible_id == user.id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    cases = session.scalars(
        query.options(selectinload(Case.village), selectinload(Case.group))
        .order_by(Case.deadline_on, Case.id)
        .limit(HOME_LIMIT)
    ).all()
    return OverdueList(scope, list(cases), total or 0, heads, link_args)
