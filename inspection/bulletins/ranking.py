"""红黑榜: the best and the worst 村 (or 网格员) of a month by a stated rule.

The rule: only rows with something due in the month take part (no due case, no 按期 figure to judge).
They are ordered best first by 按期结案率, then 结案率 (none counts as lowest), then found (more work
ranks higher), then name. With n taking part, the red list is the first k = min(3, n // 2) and the
black list the last k, worst first; so one row alone is on neither, and no row is on both.
"""

SIZE = 3
RULE_ZH = "按期结案率高者在前，相同时比结案率，再比发现数（多者在前）；当月无到期案件的不参与排名"


def _best_first(row: dict) -> tuple:
    close = row["close_rate"] if row["close_rate"] is not None else -1.0
    return (-row["on_time_rate"], -close, -row["found"], row["name"] or "")


def red_black(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """The red list (best first) and the black list (worst first) of rows with figures and rates."""
    ranked = sorted((r for r in rows if r["due"] > 0), key=_best_first)
    k = min(SIZE, len(ranked) // 2)
    return ranked[:k], list(reversed(ranked[len(ranked) - k :])) if k else []
