"""Webhooks: the URL check (http(s) only, never the app itself nor, by default, private addresses), add, list, disable."""

import ipaddress
import socket
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspection.alerts.models import Webhook
from inspection.alerts.rules import TIERS
from inspection.db import begin_write
from inspection.errors import DomainError, InvalidInput

FORMATS = ("wecom", "dingtalk", "json")
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class WebhookNotFound(DomainError):
    """No webhook with that id (404)."""

    status = 404


def _refuse(code: str, zh: str, en: str):
    raise InvalidInput(code, zh, en)


def _port(parts) -> int:
    try:
        port = parts.port
    except ValueError:
        _refuse("bad_webhook_url", "网址的端口无效", "The URL's port is not valid")
    return port or (443 if parts.scheme == "https" else 80)


def _addresses(host: str) -> list:
    """The IP addresses a host name resolves to (a literal address is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        _refuse(
            "webhook_host_unknown",
            f"无法解析网址中的主机名：{host}",
            f"The URL's host name does not resolve: {host}",
        )
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_url(url: str, *, public_url: str = "", app_ports=(), allow_private: bool = False) -> str:
    """The URL cleaned, or InvalidInput: not http(s), the app itself, or (unless allowed) private."""
    url = (url or "").strip()
    if len(url) > 500:
        _refuse("bad_webhook_url", "网址过长（最多500个字符）", "The URL is too long (500 at most)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _refuse(
            "webhook_scheme",
            "网址须以 http:// 或 https:// 开头并带有主机名",
            "The URL must start with http:// or https:// and name a host",
        )
    host, port = parts.hostname.lower().rstrip("."), _port(parts)
    own = urlsplit(public_url) if public_url else None
    ports = set(app_ports)
    if own and own.hostname:
        ports.add(_port(own))
        if (own.hostname.lower(), _port(own)) == (host, port):
            _refuse("webhook_self", "网址指向本系统自身", "The URL points at this app itself")
    addresses = _addresses(host)
    if port in ports and (host in LOCAL_NAMES or any(a.is_loopback for a in addresses)):
        _refuse("webhook_self", "网址指向本系统自身", "The URL points at this app itself")
    private = [a for a in addresses if _is_private(a)]
    if private and not allow_private:
        _refuse(
            "webhook_private",
            f"网址指向内网、本机或链路本地地址（{private[0]}），未允许（WEBHOOK_ALLOW_PRIVATE）",
            f"The URL points at a private, loopback or link-local address ({private[0]}); "
            "not allowed (WEBHOOK_ALLOW_PRIVATE)",
        )
    return url


def _is_private(address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def parse_tiers(text) -> list[str]:
    """Tiers from 'blue,yellow,red' (or a list); refuses unknown ones; empty means all."""
    words = (
        text if isinstance(text, list | tuple) else str(text or "").replace("，", ",").split(",")
    )
    tiers = [w.strip() for w in words if w and w.strip()]
    unknown = [t for t in tiers if t not in TIERS]
    if unknown:
        _refuse(
            "bad_webhook_tiers",
            f"未知的督办等级：{'、'.join(unknown)}（可选 blue、yellow、red）",
            f"Unknown tiers: {', '.join(unknown)} (blue, yellow, red)",
        )
    return [t for t in TIERS if t in tiers] or list(TIERS)


def add_webhook(session: Session, url: str, fmt: str, scope: str, tiers, **check) -> Webhook:
    """Check and store a webhook (check: public_url, app_ports, allow_private). Caller commits."""
    begin_write(session)
    if fmt not in FORMATS:
        _refuse(
            "bad_webhook_format",
            f"消息格式须为 {'、'.join(FORMATS)} 之一",
            f"The format must be one of {', '.join(FORMATS)}",
        )
    scope = (scope or "").strip()
    if len(scope) > 32 or any(c.isspace() for c in scope):
        _refuse(
            "bad_webhook_scope", "范围须为网格代码（前缀）", "The scope must be a grid code prefix"
        )
    webhook = Webhook(
        url=check_url(url, **check), format=fmt, scope=scope, tiers=parse_tiers(tiers), active=True
    )
    session.add(webhook)
    session.flush()
    return webhook


def set_active(session: Session, webhook_id: int, active: bool) -> Webhook:
    """Enable or disable a webhook (disabled ones get no new messages). Caller commits."""
    begin_write(session)
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise WebhookNotFound("webhook_not_found", "没有这个推送地址", "No such webhook")
    webhook.active = active
    session.flush()
    return webhook


def webhooks(session: Session) -> list[Webhook]:
    """Every webhook, oldest first."""
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))
