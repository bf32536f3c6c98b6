"""The outbox: the day's alerts queued per webhook (one message each, or a digest), then sent once.

Once only: a notifier claims a due row before sending it — setting a lease (lease_until, its own
lease_owner) in a short transaction, with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL and inside
one write transaction (BEGIN IMMEDIATE) on SQLite — and marks it sent afterwards. A second notifier
skips rows under a live lease. Queueing is serialised the same way (an advisory lock on PostgreSQL),
and the items a message covers are unique per webhook, day, source and tier.
"""

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta

from sqlalchemy import case, delete, func, insert, literal, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from inspection.alerts import messages
from inspection.alerts.models import Alert, DeliveryAttempt, OutboxItem, OutboxMessage, Webhook
from inspection.clock import utcnow
from inspection.db import begin_write

QUEUE_LOCK = 190_013  # pg_advisory_xact_lock key of the queueing step
DIGEST_FETCH = messages.JSON_LIST
LEASE_EXTRA_S = 60  # a claim's lease: the receiver's timeout and this
KEY_COLUMNS = ("source_kind", "source_id", "tier")


def _new_keys(webhook: Webhook, day: date):
    """The day's (source kind, id, tier, due_on) in the webhook's scope and tiers, not yet queued."""
    query = select(Alert.source_kind, Alert.source_id, Alert.tier, Alert.due_on).where(
        Alert.day == day, Alert.tier.in_(webhook.tiers or ())
    )
    if webhook.scope:
        query = query.where(Alert.cell_code.startswith(webhook.scope, autoescape=True))
    keys = query.distinct().subquery("keys")
    queued = (
        select(OutboxItem.id)
        .where(
            OutboxItem.webhook_id == webhook.id,
            OutboxItem.day == day,
            OutboxItem.source_kind == keys.c.source_kind,
            OutboxItem.source_id == keys.c.source_id,
            OutboxItem.tier == keys.c.tier,
        )
        .exists()
    )
    return select(keys).where(~queued)


def _details(session: Session, day: date, keys: list) -> list[messages.Item]:
    """The items of some (kind, id, tier) keys of the day, in the order given."""
    rows = session.execute(
        select(
            Alert.source_kind,
            Alert.source_id,
            Alert.tier,
            Alert.title,
            Alert.due_on,
            Alert.cell_code,
        )
        .where(
            Alert.day == day,
            tuple_(Alert.source_kind, Alert.source_id, Alert.tier).in_([tuple(k) for k in keys]),
        )
        .distinct()
    ).all()
    found = {(r.source_kind, r.source_id, r.tier): r for r in rows}
    return [
        messages.Item(r.tier, r.source_kind, r.source_id, r.title, r.due_on, r.cell_code)
        for r in (found.get(tuple(k)) for k in keys)
        if r is not None
    ]


def _message(
    session: Session, webhook: Webhook, day: date, digest: bool, body: dict
) -> OutboxMessage:
    message = OutboxMessage(
        webhook_id=webhook.id,
        day=day,
        digest=digest,
        body=json.dumps(body, ensure_ascii=False),
        status="pending",
        attempts=0,
        next_try_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def _queue_for(
    session: Session, webhook: Webhook, day: date, digest_over: int, public_url: str
) -> int:
    """Queue one webhook's new alerts of the day: one digest, or one message each; how many."""
    # One pass over the day's alerts: every new key goes to a digest first ...
    digest = _message(session, webhook, day, True, {})
    new = _new_keys(webhook, day).subquery("new")
    session.execute(
        insert(OutboxItem).from_select(
            ["message_id", "webhook_id", "day", *KEY_COLUMNS, "due_on"],
            select(literal(digest.id), literal(webhook.id), literal(day), *new.c),
        )
    )
    of_digest = OutboxItem.message_id == digest.id
    count = session.scalar(select(func.count()).where(of_digest)) or 0
    order = case({"red": 0, "yellow": 1, "blue": 2}, value=OutboxItem.tier, else_=3)
    keys = session.execute(
        select(*(OutboxItem.__table__.c[k] for k in KEY_COLUMNS))
        .where(of_digest)
        .order_by(order, OutboxItem.due_on, OutboxItem.source_id)
        .limit(DIGEST_FETCH if count > digest_over else max(count, 1))
    ).all()
    items = _details(session, day, keys)
    if count > digest_over:
        body = messages.body(webhook.format, items, day, public_url, digest=True, count=count)
        digest.body = json.dumps(body, ensure_ascii=False)
        return 1
    # ... and a few are given a message each instead.
    session.execute(delete(OutboxItem).where(of_digest))
    session.delete(digest)
    for item in sorted(items, key=lambda i: i.source_id):
        body = messages.body(webhook.format, [item], day, public_url, digest=False, count=1)
        message = _message(session, webhook, day, False, body)
        session.add(
            OutboxItem(
                message_id=message.id,
                webhook_id=webhook.id,
                day=day,
                source_kind=item.source_kind,
                source_id=item.source_id,
                tier=item.tier,
                due_on=item.due_on,
            )
        )
    return len(items)


def enqueue(session: Session, day: date, *, digest_over: int, public_url: str) -> int:
    """Queue the day's alerts for every active webhook; return how many messages were queued."""
    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": QUEUE_LOCK})
    active = select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)
    queued = sum(
        _queue_for(session, webhook, day, digest_over, public_url)
        for webhook in session.scalars(active).all()
    )
    session.flush()
    return queued


def claim(session: Session, owner: str, lease_s: float) -> OutboxMessage | None:
    """Take the next due message under a lease (committed), or None when nothing is due."""
    begin_write(session)
    now = utcnow()
    message_id = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_try_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
        )
        .order_by(OutboxMessage.next_try_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if message_id is None:
        session.commit()
        return None
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(lease_until=now + timedelta(seconds=lease_s), lease_owner=owner)
    )
    session.commit()
    return session.get(OutboxMessage, message_id, populate_existing=True)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer of its own (a failure), never followed to another address."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: str, timeout_s: float, message_id: int) -> tuple[int | None, str | None]:
    """POST a JSON body; (status code, error) — error None on a 2xx answer."""
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "inspection-alerts/1",
            "X-Inspection-Message-Id": str(message_id),  # receivers may drop a repeat by it
        },
    )
    try:
        with OPENER.open(request, timeout=timeout_s) as response:
            response.read(65536)
            code = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(reason).__name__}: {reason}"[:500]
    return (code, None) if 200 <= code < 300 else (code, f"HTTP {code}")


def settle(
    session: Session, message: OutboxMessage, owner: str, code, error, duration_ms: int, config
) -> bool:
    """Log the attempt and mark the message sent, or due again after a backoff, or given up."""
    begin_write(session)
    now = utcnow()
    attempts = message.attempts + 1
    values = {"attempts": attempts, "last_status_code": code, "last_error": error}
    values |= {"lease_until": None, "lease_owner": None}
    if error is None:
        values |= {"status": "sent", "sent_at": now}
    elif attempts >= int(config["WEBHOOK_MAX_ATTEMPTS"]):
        values |= {"status": "failed"}
    else:
        delay = float(config["WEBHOOK_RETRY_BASE_S"]) * 2 ** (attempts - 1)
        values |= {"next_try_at": now + timedelta(seconds=delay)}
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.lease_owner == owner)
        .values(**values)
    )
    session.add(
        DeliveryAttempt(
            message_id=message.id, at=now, status_code=code, error=error, duration_ms=duration_ms
        )
    )
    session.commit()
    return error is None


def send_due(session: Session, config) -> tuple[int, int]:
    """Send every due message once each; (sent, failed attempts) of this pass."""
    owner = uuid.uuid4().hex
    timeout_s = float(config["WEBHOOK_TIMEOUT_S"])
    sent = failed = 0
    tried: set[int] = set()
    while True:
        message = claim(session, owner, timeout_s + LEASE_EXTRA_S)
        if message is None or message.id in tried:
            if message is not None:  # due again at once (no backoff): leave it to the next pass
                _release(session, message.id, owner)
            return sent, failed
        tried.add(message.id)
        url = session.scalar(select(Webhook.url).where(Webhook.id == message.webhook_id))
        started = time.monotonic()
        code, error = post(url, message.body, timeout_s, message.id)
        duration_ms = int((time.monotonic() - started) * 1000)
        if settle(session, message, owner, code, error, duration_ms, config):
            sent += 1
        else:
            failed += 1


def _release(session: Session, message_id: int, owner: str) -> None:
    begin_write(session)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == owner)
        .values(lease_until=None, lease_owner=None)
    )
    session.commit()


def pending_count(session: Session) -> int:
    """Messages still waiting to be sent (due now or after a backoff)."""
    return session.scalar(select(func.count()).where(OutboxMessage.status == "pending")) or 0


def status_counts(session: Session) -> dict[str, int]:
    """How many messages are pending, sent and failed."""
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {"pending": 0, "sent": 0, "failed": 0} | {status: n for status, n in rows}


def recent_deliveries(session: Session, limit: int = 50) -> list:
    """The latest attempts with their message and webhook, newest first (for the admin page)."""
    return session.execute(
        select(DeliveryAttempt, OutboxMessage.webhook_id, OutboxMessage.status)
        .join(OutboxMessage, OutboxMessage.id == DeliveryAttempt.message_id)
        .order_by(DeliveryAttempt.id.desc())
        .limit(limit)
    ).all()
