"""The alert rules as data: the tiers' days and recipients, read with defaults, edited by admins."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspection.accounts.models import User
from inspection.accounts.users import require_admin
from inspection.alerts.models import AlertRule
from inspection.db import begin_write
from inspection.errors import InvalidInput
from inspection.vocab import SOURCES

TIERS = ("blue", "yellow", "red")  # lowest first; a case gets only its highest tier of the day
TIER_LABELS = {
    "blue": ("蓝色督办", "Blue"),
    "yellow": ("黄色督办", "Yellow"),
    "red": ("红色督办", "Red"),
}
RECIPIENT_KINDS = {
    "member": ("组网格员", "The group's 网格员"),
    "village_head": ("村负责人", "The village head"),
    "supervisor": ("镇领导", "The town supervisor"),
    "county": ("县级人员", "County staff"),
}
MAX_DAYS = 365


@dataclass(frozen=True)
class Rule:
    """A tier's rule: blue = due within `days`; yellow and red = overdue more than `days`."""

    tier: str
    days: int
    recipients: tuple[str, ...]
    red_sources: tuple[str, ...] = ()


DEFAULTS = {
    "blue": Rule("blue", 3, ("member", "village_head")),
    "yellow": Rule("yellow", 0, ("member", "village_head")),
    "red": Rule("red", 7, ("member", "village_head", "supervisor", "county"), ("superior",)),
}


def alert_rules(session: Session) -> dict[str, Rule]:
    """The three rules by tier: the stored rows (seeded by migration 0013), else the defaults."""
    rules = dict(DEFAULTS)
    for row in session.scalars(select(AlertRule)):
        if row.tier in rules:
            rules[row.tier] = Rule(
                row.tier,
                int(row.days),
                tuple(k for k in row.recipients or () if k in RECIPIENT_KINDS),
                tuple(s for s in row.red_sources or () if s in SOURCES),
            )
    return rules


def _whole_days(tier: str, text) -> int:
    text = str(text if text is not None else "").strip()
    if not text.isdigit() or int(text) > MAX_DAYS:
        raise InvalidInput(
            "bad_alert_days",
            f"{TIER_LABELS[tier][0]}的天数须为0至{MAX_DAYS}之间的整数",
            f"The {tier} tier's days must be a whole number from 0 to {MAX_DAYS}",
        )
    return int(text)


def set_alert_rules(session: Session, actor: User, form: dict) -> dict[str, Rule]:
    """Store the rules from a form ({tier}_days, {tier}_recipients, red_sources); admin only."""
    begin_write(session)
    require_admin(actor)
    rules = {}
    for tier in TIERS:
        days = _whole_days(tier, form.get(f"{tier}_days"))
        recipients = [k for k in RECIPIENT_KINDS if k in set(form.get(f"{tier}_recipients", ()))]
        if not recipients:
            raise InvalidInput(
                "no_alert_recipients",
                f"{TIER_LABELS[tier][0]}至少要有一类接收人",
                f"The {tier} tier needs at least one kind of recipient",
            )
        rules[tier] = (days, recipients)
    if rules["red"][0] < rules["yellow"][0]:
        raise InvalidInput(
            "red_before_yellow",
            "红色督办的逾期天数不能少于黄色督办",
            "The red tier cannot start before the yellow one",
        )
    red_sources = [s for s in SOURCES if s in set(form.get("red_sources", ()))]
    for tier, (days, recipients) in rules.items():
        row = session.get(AlertRule, tier) or AlertRule(tier=tier)
        row.days, row.recipients = days, recipients
        row.red_sources = red_sources if tier == "red" else []
        session.add(row)
    session.flush()
    return alert_rules(session)
