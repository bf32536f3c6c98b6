"""Message bodies: WeCom and DingTalk robot markdown, and plain JSON, for one alert or a digest.

JSON schema (format `json`): {"type": "alert" | "digest", "day": "YYYY-MM-DD", "count": N,
"alerts": [{"tier", "source_kind", "source_id", "title", "due_on", "overdue_days", "cell_code",
"url"}]} — a digest lists at most JSON_LIST alerts, `count` is how many it stands for.
"""

from dataclasses import dataclass
from datetime import date

from inspection.alerts import sources
from inspection.alerts.rules import TIER_LABELS

MARKDOWN_LINES = 30  # WeCom takes 4096 bytes of markdown: a digest lists this many, then a count
JSON_LIST = 200
WECOM_COLOURS = {"red": "warning", "yellow": "comment", "blue": "info"}


@dataclass(frozen=True)
class Item:
    """One alert as a webhook receives it (the same for every person it went to)."""

    tier: str
    source_kind: str
    source_id: int
    title: str
    due_on: date
    cell_code: str


def item_url(item: Item, public_url: str) -> str:
    """The absolute link of the item's page (a path alone when PUBLIC_URL is empty; '' for none)."""
    path = sources.link(item.source_kind, item.source_id)
    return (public_url or "").rstrip("/") + path if path else ""


def _titled(item: Item, public_url: str) -> str:
    url = item_url(item, public_url)
    return f"[{item.title}]({url})" if url else item.title


def _when(item: Item, day: date) -> str:
    late = (day - item.due_on).days
    if late > 0:
        return f"已逾期{late}天"
    return "今日到期" if late == 0 else f"{-late}天后到期"


def _line(item: Item, day: date, public_url: str, fmt: str) -> str:
    tier = TIER_LABELS[item.tier][0]
    if fmt == "wecom":
        tier = f'<font color="{WECOM_COLOURS[item.tier]}">{tier}</font>'
    return (
        f"- **{tier}** {_titled(item, public_url)} · {item.cell_code} · "
        f"期限 {item.due_on.isoformat()}，{_when(item, day)}"
    )


def markdown(
    items: list[Item], day: date, public_url: str, fmt: str, digest: bool, count: int
) -> tuple[str, str]:
    """(title, markdown text) of one alert or of a digest of many."""
    if not digest:
        item = items[0]
        title = f"【{TIER_LABELS[item.tier][0]}】{item.title}"
        text = "\n".join(
            [
                f"### {title}",
                f"> 网格：{item.cell_code}",
                f"> 整改期限：{item.due_on.isoformat()}，{_when(item, day)}",
            ]
            + (
                [f"\n[查看详情]({item_url(item, public_url)})"]
                if item_url(item, public_url)
                else []
            )
        )
        return title, text
    title = f"督办汇总 {day.isoformat()}：共{count}条"
    lines = [f"### {title}"] + [_line(i, day, public_url, fmt) for i in items[:MARKDOWN_LINES]]
    if count > MARKDOWN_LINES:
        lines.append(f"- …另有{count - min(len(items), MARKDOWN_LINES)}条，请登录系统查看")
    return title, "\n".join(lines)


def body(
    fmt: str, items: list[Item], day: date, public_url: str, *, digest: bool, count: int
) -> dict:
    """The JSON body a webhook of that format receives."""
    if fmt == "json":
        return {
            "type": "digest" if digest else "alert",
            "day": day.isoformat(),
            "count": count,
            "alerts": [
                {
                    "tier": i.tier,
                    "source_kind": i.source_kind,
                    "source_id": i.source_id,
                    "title": i.title,
                    "due_on": i.due_on.isoformat(),
                    "overdue_days": max((day - i.due_on).days, 0),
                    "cell_code": i.cell_code,
                    "url": item_url(i, public_url),
                }
                for i in items[:JSON_LIST]
            ],
        }
    title, text = markdown(items, day, public_url, fmt, digest, count)
    if fmt == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
