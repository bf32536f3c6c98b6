"""One row of the benchmark table and its printing."""

from dataclasses import dataclass


@dataclass
class Row:
    """A measured figure beside a naive baseline; ratio > 1 means ours is better."""

    task: str
    ours: float
    baseline: float
    unit: str
    goal: str
    met: bool
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float:
        """How many times better than the baseline."""
        if self.higher_is_better:
            return self.ours / self.baseline if self.baseline else float("inf")
        return self.baseline / self.ours if self.ours else float("inf")


def print_table(rows: list[Row]) -> None:
    """Print rows as an aligned text table."""
    header = ("task", "ours", "baseline", "unit", "ratio", "goal", "met", "note")
    cells = [
        (
            r.task,
            f"{r.ours:,.4g}",
            f"{r.baseline:,.4g}",
            r.unit,
            f"{r.ratio:,.1f}x",
            r.goal,
            "yes" if r.met else "NO",
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *cells]:
        print("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
