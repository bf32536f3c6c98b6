"""API tokens: create, check and revoke the Bearer tokens other systems use; the `api-token` command."""

import hashlib
import secrets
import sys
from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from inspection import journal
from inspection.accounts.models import ApiToken, User
from inspection.clock import utcnow
from inspection.db import begin_write

# last_used_at is written at most this often, so that reading the API is not a stream of writes.
TOUCH_EVERY = timedelta(minutes=5)


def hash_token(token: str) -> str:
    """The sha256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Add a token for the user; return the row and the token itself (shown once, never stored)."""
    begin_write(session)
    token = secrets.token_urlsafe(32)
    row = ApiToken(user=user, name=name, token_hash=hash_token(token), revoked=False)
    session.add(row)
    session.flush()
    journal.log(session, "api_token_created", user=user, target=f"api_token:{row.id}")
    return row, token


def revoke_token(session: Session, token_id: int) -> ApiToken | None:
    """Mark a token revoked; None if there is no such token."""
    begin_write(session)
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.revoked = True
        journal.log(session, "api_token_revoked", user=row.user, target=f"api_token:{row.id}")
    return row


def user_for_token(session: Session, token: str) -> User | None:
    """The active user of a valid, unrevoked token (noting when it was used), else None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        begin_write(session)  # ends this read; row is reloaded in the writer's transaction
        row.last_used_at = now
        session.commit()
    return row.user


def log_refused(session: Session, token: str, address: str | None, path: str) -> None:
    """Add an api_token_refused audit row for a token that did not authenticate (never the token)."""
    begin_write(session)
    row = None
    if token:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if not token:
        reason = "malformed"
    elif row is None:
        reason = "unknown"
    else:
        reason = "revoked" if row.revoked else "user_inactive"
    journal.log(
        session,
        "api_token_refused",
        address=address,
        target=f"api_token:{row.id}" if row is not None else None,
        details={"reason": reason, "path": path[:200]},
    )


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; "" for any other Authorization."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@click.group("api-token")
def api_token_command() -> None:
    """Create or revoke API tokens for other systems (QGIS, GDAL, dashboards)."""


@api_token_command.command("create")
@with_appcontext
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'QGIS 自然资源所'")
def create_command(username: str, name: str) -> None:
    """Create a token for USERNAME and print it once."""
    from inspection import db

    session = db.session()
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        click.secho(f"没有启用的用户 {username} / no active user {username}", fg="red", err=True)
        sys.exit(1)
    row, token = create_token(session, user, name)
    session.commit()
    click.echo(f"令牌 {row.id}（{name}，{username}）只显示这一次 / shown only once:", err=True)
    click.echo(token)


@api_token_command.command("revoke")
@with_appcontext
@click.argument("token_id", type=int)
def revoke_command(token_id: int) -> None:
    """Revoke the token with this ID."""
    from inspection import db

    session = db.session()
    if revoke_token(session, token_id) is None:
        click.secho(f"没有编号为 {token_id} 的令牌 / no token {token_id}", fg="red", err=True)
        sys.exit(1)
    session.commit()
    click.echo(f"令牌 {token_id} 已作废 / token {token_id} revoked")
