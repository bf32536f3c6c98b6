"""Who may do what: the transition table by role, and the officers an enforcement act needs."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from inspection.accounts.models import User
from inspection.cases.access import can_see
from inspection.cases.models import Case
from inspection.errors import InvalidInput, NotAllowed
from inspection.params import MAX_INT

# The names a workflow rule may give: three roles, and two relations of a user to the case.
WHO = {
    "supervisor": ("镇领导", "Supervisor"),
    "admin": ("管理员", "Administrator"),
    "officer": ("执法队员", "Enforcement officer"),
    "village_head": ("本村村干部（网格员，挂村网格）", "Head of the case's village"),
    "responsible": ("本案责任人", "The case's responsible person"),
}
MIN_OFFICERS = 2  # 行政处罚法: enforcement acts need at least two certified officers


def is_village_head_of(user: User, case: Case) -> bool:
    """True if the user is a grid member tied to the village cell the case lies in."""
    return user.role == "grid_member" and any(
        cell.level == "village" and cell.id == case.village_id for cell in user.cells
    )


def who(user: User | None, case: Case) -> frozenset[str]:
    """The WHO names that fit this user for this case (empty if he may not see it)."""
    if user is None or not user.is_active or not can_see(user, case):
        return frozenset()
    names = {user.role} & {"supervisor", "admin", "officer"}
    if is_village_head_of(user, case):
        names.add("village_head")
    if case.responsible_id is not None and case.responsible_id == user.id:
        names.add("responsible")
    return frozenset(names)


def require_visible(user: User | None, case: Case) -> None:
    """Refuse (NotAllowed) a user who may not see the case (the web layer answers 404)."""
    if user is None or not user.is_active or not can_see(user, case):
        raise NotAllowed(
            "not_visible", "您无权查看或办理该案件", "You may not see or act on this case"
        )


@dataclass(frozen=True)
class Rule:
    """One transition: action key, who may take it (permissions.WHO), labels and inputs by kind."""

    key: str
    who: frozenset[str]
    labels: dict[str, tuple[str, str]]  # kind (or "*") -> (zh, en)
    needs: dict[str, tuple[str, ...]]  # kind (or "*") -> inputs the form asks for
    required: tuple[str, ...] = ()  # of those, the ones that must be filled

    def label(self, kind: str) -> tuple[str, str]:
        """The (zh, en) label of the action for a kind of case."""
        return self.labels.get(kind, self.labels["*"])

    def inputs(self, kind: str) -> tuple[str, ...]:
        """The inputs the form asks for on a kind of case."""
        return self.needs.get(kind, self.needs["*"])


# Confirm or dismiss a report: the town, or the head of the case's village.
MANAGE = frozenset({"village_head", "supervisor", "admin"})
# Record the work: the responsible person, the village head, officers, the town.
WORK = frozenset({"responsible", "village_head", "officer", "supervisor", "admin"})
# Verify (销号/验收) or send back (退回): the town only, never the village doing the work.
CHECK = frozenset({"supervisor", "admin"})

DONE = Rule(
    "complete",
    WORK,
    {
        "*": ("整改完成", "Mark rectified"),
        "illegal_building": ("拆除完成", "Mark demolished"),
        "farmland": ("复耕完成", "Mark restored"),
    },
    {
        "*": ("note", "photos", "acted_on"),
        "illegal_building": (
            "note",
            "photos",
            "officers",
            "acted_on",
            "demolished_area",
            "area_reason",
        ),
        "farmland": ("note", "photos", "acted_on", "geometry"),
    },
    ("note", "photos", "officers"),
)
TRANSITIONS: dict[tuple[str, str], Rule] = {
    ("reported", "assigned"): Rule(
        "assign",
        MANAGE,
        {"*": ("核实交办", "Confirm and assign")},
        {"*": ("responsible", "deadline", "note")},
    ),
    ("reported", "void"): Rule(
        "void", MANAGE, {"*": ("不属实", "Not substantiated")}, {"*": ("note",)}, ("note",)
    ),
    ("assigned", "in_progress"): Rule(
        "start",
        WORK,
        {
            "*": ("开始整改", "Start rectification"),
            "illegal_building": ("开始拆除", "Start demolition"),
            "farmland": ("开始复耕", "Start restoration"),
        },
        {"*": ("note", "acted_on"), "illegal_building": ("note", "officers", "acted_on")},
        ("officers",),
    ),
    ("assigned", "done"): DONE,
    ("in_progress", "done"): DONE,
    ("done", "verified"): Rule(
        "verify",
        CHECK,
        {"*": ("销号", "Verify and close"), "farmland": ("验收", "Accept")},
        {"*": ("note",), "farmland": ("note", "geometry")},
    ),
    ("done", "in_progress"): Rule(
        "send_back",
        CHECK,
        {"*": ("退回", "Send back (failed check)")},
        {"*": ("reason",)},
        ("reason",),
    ),
}
RIGHTS = {rule.key: rule for rule in TRANSITIONS.values()}  # one key, one set of people

# What each input of `needs` is, for the form's labels.
INPUTS = {
    "note": ("说明", "Note"),
    "reason": ("退回原因（复核未通过）", "Reason (failed check)"),
    "responsible": ("责任人", "Responsible person"),
    "deadline": ("整改期限", "Deadline"),
    "photos": ("整改后照片", "Photos after the work"),
    "officers": ("执法人员（至少两名，持有效执法证）", "Officers (two or more, certified)"),
    "demolished_area": ("拆除面积（㎡）", "Demolished area (m²)"),
    "area_reason": ("拆除面积与占地面积不同的原因", "Why the demolished area differs"),
    "geometry": ("验收图斑（重新勾绘）", "Accepted parcel (redrawn)"),
    "acted_on": ("实际日期（不填为今天）", "Day it happened (empty: today)"),
}


@dataclass(frozen=True)
class Action:
    """A transition a user may take on a case now: what a page shows as a button and a form."""

    key: str
    from_status: str
    to_status: str
    label_zh: str
    label_en: str
    needs: tuple[str, ...]
    required: tuple[str, ...]
    blocked_zh: str = ""  # why the button is shown disabled, if it is
    blocked_en: str = ""

    def label(self, lang: str = "zh") -> str:
        """The button's label in a language."""
        return self.label_en if lang == "en" else self.label_zh


def allowed_actions(case: Case, user: User | None, today: date) -> list[Action]:
    """The actions the user may take on the case in its current status (none if he can't see it)."""
    names = who(user, case)
    return [
        _action(case, rule, from_status, to_status, today)
        for (from_status, to_status), rule in TRANSITIONS.items()
        if from_status == case.status and names & rule.who
    ]


def _action(case: Case, rule: Rule, from_status: str, to_status: str, today: date) -> Action:
    zh, en = rule.label(case.kind)
    needs = rule.inputs(case.kind)
    blocked = ("", "")
    session = object_session(case)
    if (
        "officers" in needs
        and session is not None
        and len(officer_choices(session, today)) < MIN_OFFICERS
    ):
        blocked = (
            "持有效执法证的执法队员不足两名",
            "Fewer than two officers hold a valid certificate",
        )
    required = tuple(n for n in rule.required if n in needs)
    return Action(rule.key, from_status, to_status, zh, en, needs, required, *blocked)


def check_right(actor: User | None, case: Case, key: str) -> None:
    """Refuse (NotAllowed) an actor who may not see the case or may not take this action at all."""
    require_visible(actor, case)
    if not who(actor, case) & RIGHTS[key].who:
        zh, en = RIGHTS[key].label(case.kind)
        raise NotAllowed("not_permitted", f"您无权执行“{zh}”", f"You may not “{en}” this case")


def officer_choices(session: Session, day: date) -> list[User]:
    """Active officers whose enforcement certificate is valid on the day, by name."""
    officers = session.scalars(
        select(User).where(User.role == "officer", User.active.is_(True)).order_by(User.id)
    )
    return [u for u in officers if u.cert_valid_on(day)]


def _load(session: Session, ref) -> User:
    if isinstance(ref, User):
        return ref
    try:
        number = int(ref)
        user = session.get(User, number) if 0 < number <= MAX_INT else None
    except (TypeError, ValueError):
        user = None
    if user is None:
        raise InvalidInput("unknown_officer", f"执法人员不存在：{ref}", f"No such officer: {ref}")
    return user


def _check_officer(user: User, day: date) -> None:
    name = user.display_name
    if user.role != "officer" or not user.is_active:
        raise InvalidInput(
            "not_officer", f"{name}不是在岗执法队员", f"{name} is not an active enforcement officer"
        )
    if not user.cert_number or user.cert_expires_on is None:
        raise InvalidInput(
            "no_certificate", f"{name}没有执法证", f"{name} holds no enforcement certificate"
        )
    if not user.cert_valid_on(day):
        expired = user.cert_expires_on.isoformat()
        raise InvalidInput(
            "certificate_expired",
            f"{name}的执法证已于{expired}过期",
            f"{name}'s enforcement certificate expired on {expired}",
        )


def check_officers(session: Session, refs, day: date, *, minimum: int) -> list[User]:
    """Load an act's officers (ids or users); check each is distinct, an officer, certified that day."""
    officers = [_load(session, ref) for ref in refs]
    seen: set[int] = set()
    for user in officers:
        if user.id in seen:
            raise InvalidInput(
                "duplicate_officer",
                f"{user.display_name}填写了两次，须由{minimum}名不同的执法人员执行",
                f"{user.display_name} is listed twice; {minimum} different officers are needed",
            )
        seen.add(user.id)
    for user in officers:
        _check_officer(user, day)
    if len(officers) < minimum:
        raise InvalidInput(
            "too_few_officers",
            f"须至少{minimum}名持有效执法证的执法人员，现只有{len(officers)}名",
            f"At least {minimum} certified officers are needed; only {len(officers)} given",
        )
    return officers


def officer_details(officers: list[User]) -> list[dict]:
    """The officers as the history records them: id, name, certificate number and expiry."""
    return [
        {
            "id": u.id,
            "name": u.display_name,
            "cert_number": u.cert_number,
            "cert_expires_on": u.cert_expires_on.isoformat() if u.cert_expires_on else None,
        }
        for u in officers
    ]
