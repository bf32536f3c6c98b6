"""The bulletin's paragraph in Chinese, in the tone of the year summary."""


def percent(value: float | None) -> str:
    """A rate 0–1 as "87.5%", or "—" when there is nothing to divide by."""
    return "—" if value is None else f"{value * 100:.1f}%".replace(".0%", "%")


def _names(rows: list[dict]) -> str:
    return "、".join(r["name"] for r in rows) or "无"


def bulletin_paragraph(figures: dict, *, whole: str = "全镇") -> str:
    """ "5月，全镇共发现问题N个，整改完成M个，结案率…；红榜：…；黑榜：…" (rates at "—" left out)."""
    month = int(figures["month"][5:7])
    parts = [
        f"{month}月，{whole}共发现问题{figures['found']}个",
        f"整改完成{figures['rectified']}个",
    ]
    for key, name in (
        ("close_rate", "结案率"),
        ("on_time_rate", "按期结案率"),
        ("rework_rate", "返工率"),
        ("extension_rate", "延期率"),
    ):
        if figures[key] is not None:
            parts.append(f"{name}{percent(figures[key])}")
    if figures["overdue"]:
        parts.append(f"逾期未整改{figures['overdue']}个")
    if figures["patrols"]:
        parts.append(f"网格员巡查{figures['patrols']}次、{figures['length_m'] / 1000:.1f}公里")
    text = "，".join(parts)
    ranks = figures["ranking"]
    text += f"。红榜（村）：{_names(ranks['villages']['red'])}；黑榜（村）：{_names(ranks['villages']['black'])}"
    text += f"；红榜（网格员）：{_names(ranks['members']['red'])}；黑榜（网格员）：{_names(ranks['members']['black'])}。"
    return text
