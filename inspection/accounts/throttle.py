"""Login throttling: failed logins per account and address, and locks that slow password guessing."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from inspection.accounts.models import LoginThrottle
from inspection.clock import utcnow

# After FREE_FAILURES failures an account or address must wait; the wait doubles, up to LOCK_MAX.
FREE_FAILURES = 3
LOCK_AFTER = 10
LOCK_MAX = timedelta(minutes=15)
# A key with no failure and no lock for this long counts its failures from zero again, so that an
# address many users share (an office NAT) is not locked for good by typos that add up over weeks.
QUIET = LOCK_MAX


def _keys(username: str, address: str | None) -> list[str]:
    return [f"user:{username.lower()}"[:100]] + ([f"addr:{address}"] if address else [])


def locked_until(
    session: Session,
    username: str,
    address: str | None,
    now: datetime | None = None,
    *,
    for_update: bool = False,
):
    """When the account or address may try again, or None if it may try now.

    The rows are read afresh; `for_update` also locks them for the transaction (PostgreSQL; on
    SQLite BEGIN IMMEDIATE already serialises writers), so that parallel guesses queue here.
    """
    now = now or utcnow()
    query = select(LoginThrottle).where(LoginThrottle.key.in_(_keys(username, address)))
    if for_update:
        query = query.with_for_update()
    rows = session.scalars(query.execution_options(populate_existing=True))
    waits = [row.locked_until for row in rows if row.locked_until and row.locked_until > now]
    return max(waits) if waits else None


def _throttle_row(session: Session, key: str) -> LoginThrottle:
    """The throttle row of a key, created if missing and locked for this transaction.

    Two first failures at once must not collide on the insert (a 500 on PostgreSQL) nor lose a
    count: the insert ignores a row that exists, and the read takes a row lock (SQLite's
    BEGIN IMMEDIATE already serialises writers).
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(LoginThrottle)
        .values(key=key, failures=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    query = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one()


@dataclass(frozen=True)
class Lock:
    """A lock a failure started: the throttle key it holds, until when, after how many failures."""

    key: str
    until: datetime
    failures: int


def _quiet_since(row: LoginThrottle) -> datetime | None:
    """The end of a key's last failure or lock, whichever is later (None if it never failed)."""
    moments = [t for t in (row.last_failure_at, row.locked_until) if t is not None]
    return max(moments) if moments else None


def record_failure(session: Session, username: str, address: str | None, now=None) -> list[Lock]:
    """Count a failed login for the account and the address; return the locks it starts.

    Counts decay: a key quiet for QUIET (no failure, no lock) starts again from zero.
    """
    now = now or utcnow()
    started = []
    for key in _keys(username, address):
        row = _throttle_row(session, key)
        quiet_since = _quiet_since(row)
        if quiet_since is not None and now - quiet_since >= QUIET:
            row.failures = 0
        was_locked = row.locked_until is not None and row.locked_until > now
        row.failures += 1
        row.last_failure_at = now
        if row.failures > FREE_FAILURES:
            extra = row.failures - FREE_FAILURES
            wait = LOCK_MAX if row.failures >= LOCK_AFTER else timedelta(seconds=2**extra)
            row.locked_until = now + min(wait, LOCK_MAX)
            if not was_locked:
                started.append(Lock(key, row.locked_until, row.failures))
    return started


def record_success(session: Session, username: str) -> None:
    """Forget the account's failures after a good login (the address keeps its count)."""
    row = session.get(LoginThrottle, _keys(username, None)[0])
    if row is not None:
        session.delete(row)
