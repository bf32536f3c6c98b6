"""The day's alerts, set-based: one INSERT … SELECT per source, tier and recipient kind, each once."""

from datetime import date, timedelta

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    func,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from inspection.accounts.models import User, user_cells
from inspection.alerts import sources
from inspection.alerts.models import Alert
from inspection.alerts.rules import alert_rules
from inspection.clock import utcnow
from inspection.db import begin_write

COMPUTE_LOCK = 190_012  # pg_advisory_xact_lock key of the computing step
KEY = ["day", "source_kind", "source_id", "tier", "recipient_id"]  # uq_alerts_key, day first
INSERTED = ["source_kind", "source_id", "tier", "recipient_id", "day", "due_on", "title"]
INSERTED += ["cell_code", "created_at"]
# Recipient kind → (the source column naming the user's cell, the role required or None).
CELL_OF = {
    "member": ("group_id", None),
    "village_head": ("village_id", None),
    "supervisor": ("town_id", "supervisor"),
}


def tier_conditions(due, rules: dict, today: date) -> dict:
    """SQL conditions on a due row (columns due_on, always_red) for each tier; exclusive, red first."""
    red_from = today - timedelta(days=rules["red"].days)
    yellow_from = today - timedelta(days=rules["yellow"].days)
    red = (due.c.due_on < red_from) | ((due.c.always_red == true()) & (due.c.due_on < today))
    return {
        "red": red,
        "yellow": (due.c.due_on < yellow_from) & ~red,
        "blue": and_(due.c.due_on >= today, due.c.due_on <= today + timedelta(rules["blue"].days)),
    }


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Alert.__table__)


def _recipients(due, kind: str):
    """(a FROM clause joining the due rows to the users of that kind, their condition)."""
    if kind == "county":
        return due.join(User.__table__, true()), (User.role == "county") & User.active.is_(True)
    column, role = CELL_OF[kind]
    joined = due.join(user_cells, user_cells.c.cell_id == due.c[column]).join(
        User.__table__, User.id == user_cells.c.user_id
    )
    condition = (
        User.active.is_(True) if role is None else (User.active.is_(True) & (User.role == role))
    )
    return joined, condition


def _due_table() -> Table:
    """A temporary table of one source's due rows: read once, joined to each kind of recipient."""
    return Table(
        "alerts_due",
        MetaData(),
        Column("source_id", Integer),
        Column("due_on", Date),
        Column("title", String(200)),
        Column("group_id", Integer),
        Column("village_id", Integer),
        Column("town_id", Integer),
        Column("cell_code", String(32)),
        Column("always_red", Boolean),
        prefixes=["TEMPORARY"],
    )


def compute_alerts(session: Session, today: date) -> int:
    """Store the day's alerts of every due source; return how many are new (the rest existed)."""
    begin_write(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # a second notifier waits, then adds none
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COMPUTE_LOCK})
        # The alerts can be computed again: no need to wait for the disk at commit.
        session.execute(text("SET LOCAL synchronous_commit = off"))
    rules = alert_rules(session)
    now = utcnow()
    # Rows inserted, as a count of the day's alerts before and after (psycopg's rowcount is -1 here).
    day_count = select(func.count()).where(Alert.day == today)
    before = session.scalar(day_count) or 0
    connection = session.connection()
    for source in list(sources.SOURCES.values()):
        due = _due_table()
        due.drop(connection, checkfirst=True)
        due.create(connection)
        session.execute(due.insert().from_select(list(sources.COLUMNS), source.query(rules, today)))
        if postgres:  # the planner's row counts for the joins below
            session.execute(text("ANALYZE alerts_due"))
        for tier, condition in tier_conditions(due, rules, today).items():
            for kind in rules[tier].recipients:
                joined, who = _recipients(due, kind)
                rows = (
                    select(
                        literal(source.kind),
                        due.c.source_id,
                        literal(tier),
                        User.id,
                        literal(today),
                        due.c.due_on,
                        due.c.title,
                        due.c.cell_code,
                        literal(now),
                    )
                    .select_from(joined)
                    .where(condition, who)
                )
                statement = _insert(session).from_select(INSERTED, rows)
                session.execute(statement.on_conflict_do_nothing(index_elements=KEY))
        due.drop(connection)
    return (session.scalar(day_count) or 0) - before
