"""Manage users: create and edit, role, certificate, grid cells, disable, passwords; all audited."""

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inspection import journal
from inspection.accounts.models import User
from inspection.db import begin_write
from inspection.errors import InvalidInput, NotAllowed
from inspection.grid.models import GridCell
from inspection.vocab import ROLES

MIN_PASSWORD = 8
MAX_PASSWORD = 128
_USERNAME = re.compile(r"[\w.@-]{2,64}")
_PHONE = re.compile(r"[0-9+\-() ]{3,32}")
CERT_YEARS = (1990, 2100)  # an expiry outside these years is a typing slip


class UserError(InvalidInput):
    """A refusal that belongs to one field of the user form."""

    def __init__(self, field_name: str, code: str, message_zh: str, message_en: str):
        super().__init__(code, message_zh, message_en)
        self.field = field_name


@dataclass
class UserData:
    """What the user form edits (the login name is set once, at creation)."""

    display_name: str
    role: str
    phone: str | None = None
    cell_ids: list[int] = field(default_factory=list)
    cert_number: str | None = None
    cert_expires_on: date | None = None
    active: bool = True
    password: str | None = None  # a new password, or None to keep the old one


def require_admin(actor: User | None) -> None:
    """Refuse (NotAllowed, 403) anyone but an active admin."""
    if actor is None or not actor.is_active or actor.role != "admin":
        raise NotAllowed(
            "admin_only", "只有管理员可以使用管理页面", "Only an admin may use the admin pages"
        )


def check_password_rules(password: str, field_name: str = "password") -> None:
    """Refuse a password shorter than MIN_PASSWORD or longer than MAX_PASSWORD characters."""
    if len(password) < MIN_PASSWORD:
        raise UserError(
            field_name,
            "password_too_short",
            f"密码至少{MIN_PASSWORD}位",
            f"A password needs at least {MIN_PASSWORD} characters",
        )
    if len(password) > MAX_PASSWORD:
        raise UserError(
            field_name,
            "password_too_long",
            f"密码最多{MAX_PASSWORD}位",
            f"A password may have at most {MAX_PASSWORD} characters",
        )


def _check_username(session: Session, username: str) -> str:
    username = (username or "").strip()
    if not _USERNAME.fullmatch(username):
        raise UserError(
            "username",
            "bad_username",
            "登录名须为2至64位字母、数字或 _ . @ -，不含空格",
            "A login is 2 to 64 letters, digits or _ . @ - with no spaces",
        )
    taken = session.scalar(
        select(User.id).where(func.lower(User.username) == username.lower()).limit(1)
    )
    if taken is not None:
        raise _duplicate(username)
    return username


def _duplicate(username: str) -> UserError:
    return UserError(
        "username",
        "duplicate_login",
        f"登录名“{username}”已被使用",
        f"The login “{username}” is already taken",
    )


def _check_details(data: UserData) -> None:
    """Refuse an empty name, a malformed phone number, or an unknown role."""
    name = (data.display_name or "").strip()
    if not name or len(name) > 64:
        raise UserError(
            "display_name", "bad_name", "姓名须为1至64个字", "A name is 1 to 64 characters"
        )
    if data.phone and not _PHONE.fullmatch(data.phone.strip()):
        raise UserError(
            "phone",
            "bad_phone",
            "电话号码只能含数字、+、-、括号和空格",
            "A phone number holds only digits, +, -, brackets and spaces",
        )
    if data.role not in ROLES:
        raise UserError(
            "role", "bad_role", f"未知的角色：{data.role}", f"Unknown role: {data.role}"
        )


def set_role(user: User, role: str) -> bool:
    """Give the user a role (one of vocab.ROLES); True if it changed."""
    if role not in ROLES:
        raise UserError("role", "bad_role", f"未知的角色：{role}", f"Unknown role: {role}")
    changed = user.role != role
    user.role = role
    return changed


def set_certificate(user: User, number: str | None, expires_on: date | None) -> bool:
    """Record the 执法证 number and expiry (both or neither; officers must hold one); True if changed."""
    number = (number or "").strip() or None
    if number is not None and len(number) > 64:
        raise UserError(
            "cert_number",
            "bad_certificate",
            "执法证号最多64个字",
            "A certificate no. is 64 at most",
        )
    if (number is None) != (expires_on is None):
        missing = "cert_expires_on" if expires_on is None else "cert_number"
        raise UserError(
            missing,
            "certificate_incomplete",
            "执法证号和有效期须同时填写或同时留空",
            "Give both the certificate number and its expiry, or neither",
        )
    if expires_on is not None and not CERT_YEARS[0] <= expires_on.year <= CERT_YEARS[1]:
        raise UserError(
            "cert_expires_on",
            "bad_certificate_date",
            f"执法证有效期须在{CERT_YEARS[0]}年至{CERT_YEARS[1]}年之间",
            f"The certificate expiry must lie between {CERT_YEARS[0]} and {CERT_YEARS[1]}",
        )
    if user.role == "officer" and number is None:
        raise UserError(
            "cert_number",
            "officer_needs_certificate",
            "执法队员须填写执法证号和有效期",
            "An enforcement officer needs a certificate number and its expiry",
        )
    changed = (user.cert_number, user.cert_expires_on) != (number, expires_on)
    user.cert_number, user.cert_expires_on = number, expires_on
    return changed


def set_cells(session: Session, user: User, cell_ids: list[int]) -> bool:
    """Tie the user to exactly these grid cells (by id); True if they changed."""
    wanted = sorted(set(cell_ids))
    cells = session.scalars(select(GridCell).where(GridCell.id.in_(wanted))).all() if wanted else []
    if len(cells) != len(wanted):
        raise UserError(
            "cell_ids",
            "unknown_cell",
            "所选网格不存在，请刷新页面",
            "A chosen cell no longer exists",
        )
    changed = sorted(c.id for c in user.cells) != wanted
    if changed:
        user.cells = sorted(cells, key=lambda c: c.code)
    return changed


def set_active(user: User, active: bool) -> bool:
    """Enable or disable the account; disabling ends every session of the user. True if changed."""
    changed = bool(user.active) != bool(active)
    user.active = bool(active)
    if changed and not active:
        end_sessions(user)
    return changed


def reset_password(user: User, password: str) -> None:
    """Set a new password and end every session of the user."""
    check_password_rules(password)
    user.set_password(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """End every session of the user: old cookies carry the old session version."""
    user.session_version = (user.session_version or 1) + 1


def _check_self(actor: User, user: User, data: UserData) -> None:
    if actor.id != user.id:
        return
    if not data.active:
        raise UserError(
            "active", "cannot_disable_self", "不能停用自己的账号", "You cannot disable yourself"
        )
    if data.role != "admin":
        raise UserError(
            "role",
            "cannot_demote_self",
            "不能取消自己的管理员角色",
            "You cannot take the admin role from yourself",
        )


def _apply(session: Session, user: User, data: UserData) -> list[str]:
    """Apply the form's values; return the names of the fields that changed."""
    _check_details(data)
    changed = []
    name, phone = data.display_name.strip(), (data.phone or "").strip() or None
    if user.display_name != name:
        changed.append("display_name")
    if user.phone != phone:
        changed.append("phone")
    user.display_name, user.phone = name, phone
    if set_role(user, data.role):
        changed.append("role")
    if set_certificate(user, data.cert_number, data.cert_expires_on):
        changed.append("certificate")
    if set_cells(session, user, data.cell_ids):
        changed.append("cells")
    return changed


def _summary(user: User) -> dict:
    return {
        "role": user.role,
        "cells": [c.code for c in user.cells],
        "cert_number": user.cert_number,
        "cert_expires_on": user.cert_expires_on.isoformat() if user.cert_expires_on else None,
        "active": bool(user.active),
    }


def _flush(session: Session, username: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:  # another admin took the login at the same moment
        session.rollback()
        raise _duplicate(username) from exc


def create_user(
    session: Session, actor: User, username: str, data: UserData, *, address: str | None = None
) -> User:
    """Create a user (admin only) with a password; audited as user_created. The caller commits."""
    begin_write(session)
    require_admin(actor)
    username = _check_username(session, username)
    user = User(username=username, role=data.role, session_version=1)
    _apply(session, user, data)
    check_password_rules(data.password or "")
    user.set_password(data.password)
    user.active = bool(data.active)
    session.add(user)
    _flush(session, username)
    journal.log(
        session,
        "user_created",
        user=actor,
        address=address,
        target=f"user:{user.id}",
        details={"username": username, **_summary(user)},
    )
    return user


def update_user(
    session: Session, actor: User, user: User, data: UserData, *, address: str | None = None
) -> list[str]:
    """Change a user (admin only); disabling or a new password ends his sessions. Audited."""
    begin_write(session)
    require_admin(actor)
    _check_self(actor, user, data)
    before = _summary(user)
    changed = _apply(session, user, data)
    target = f"user:{user.id}"
    if set_active(user, data.active):
        event = "user_enabled" if data.active else "user_disabled"
        journal.log(session, event, user=actor, address=address, target=target)
        changed.append("active")
    if data.password:
        reset_password(user, data.password)
        journal.log(session, "password_reset", user=actor, address=address, target=target)
        changed.append("password")
    if changed:
        after = _summary(user)
        journal.log(
            session,
            "user_updated",
            user=actor,
            address=address,
            target=target,
            details={
                "username": user.username,
                "changed": changed,
                "before": {k: v for k, v in before.items() if v != after[k]},
                "after": {k: v for k, v in after.items() if v != before[k]},
            },
        )
    session.flush()
    return changed


def change_own_password(
    session: Session, user: User, old: str, new: str, *, address: str | None = None
) -> None:
    """Change one's own password after checking the old one; ends every session. Audited."""
    begin_write(session)
    if not user.check_password(old or ""):
        raise UserError(
            "old_password", "wrong_password", "原密码不正确", "The current password is wrong"
        )
    check_password_rules(new or "", "new_password")
    if new == old:
        raise UserError(
            "new_password",
            "same_password",
            "新密码不能与原密码相同",
            "The new password must differ from the current one",
        )
    user.set_password(new)
    end_sessions(user)
    journal.log(session, "password_changed", user=user, address=address, target=f"user:{user.id}")
    session.flush()
