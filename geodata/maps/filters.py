"""What a map shows: case filters read from a URL query and applied to a case table."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from geodata.maps.styles import GROUP_COLORS, KIND_SHAPES, MAP_GROUPS

_TRUE = {"1", "true", "on", "yes"}
_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _values(args, name: str) -> list[str]:
    """All values of a query parameter, repeated (?k=a&k=b) or comma-separated (?k=a,b)."""
    raw = args.getlist(name) if hasattr(args, "getlist") else args.get(name, [])
    if isinstance(raw, str):
        raw = [raw]
    return [v.strip() for item in raw for v in str(item).split(",") if v.strip()]


@dataclass(frozen=True)
class CaseFilters:
    """What a map shows: kinds, statuses (keys or legend groups), sources, year found, overdue only."""

    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    year: int | None = None
    overdue: bool = False

    @classmethod
    def from_query(
        cls,
        args: Mapping,
        *,
        kinds: Iterable[str] = KIND_SHAPES,
        sources: Iterable[str] | None = None,
    ) -> "CaseFilters":
        """Read filters from URL query arguments, dropping values nobody knows (a shared link stays valid)."""
        known_kinds, known_statuses = set(kinds), set(MAP_GROUPS) | set(GROUP_COLORS)
        known_sources = set(sources) if sources is not None else None
        year_text = _values(args, "year")[:1]
        year = int(year_text[0]) if year_text and year_text[0].isdigit() else None
        return cls(
            kinds=tuple(dict.fromkeys(k for k in _values(args, "kind") if k in known_kinds)),
            statuses=tuple(
                dict.fromkeys(s for s in _values(args, "status") if s in known_statuses)
            ),
            sources=tuple(
                dict.fromkeys(
                    s
                    for s in _values(args, "source")
                    if _TOKEN.match(s) and (known_sources is None or s in known_sources)
                )
            ),
            year=year if year is not None and 1900 <= year <= 2999 else None,
            overdue=any(v.lower() in _TRUE for v in _values(args, "overdue")),
        )

    @property
    def status_keys(self) -> frozenset[str]:
        """The statuses selected, with legend groups (open …) expanded to their statuses."""
        return frozenset(
            s for s, g in MAP_GROUPS.items() if s in self.statuses or g in self.statuses
        )

    def query(self) -> list[tuple[str, str]]:
        """The filters as URL query pairs (the inverse of from_query)."""
        pairs = [("kind", k) for k in self.kinds]
        pairs += [("status", s) for s in self.statuses]
        pairs += [("source", s) for s in self.sources]
        if self.year is not None:
            pairs.append(("year", str(self.year)))
        if self.overdue:
            pairs.append(("overdue", "1"))
        return pairs

    def apply(self, cases: pd.DataFrame, today: date) -> pd.DataFrame:
        """The rows of a case table that pass (columns kind, status, source, found_on, deadline_on)."""
        keep = np.ones(len(cases), dtype=bool)
        if self.kinds:
            keep &= cases["kind"].isin(self.kinds).to_numpy()
        if self.statuses:
            keep &= cases["status"].isin(self.status_keys).to_numpy()
        if self.sources:
            keep &= cases["source"].isin(self.sources).to_numpy()
        if self.year is not None:
            keep &= (pd.to_datetime(cases["found_on"]).dt.year == self.year).to_numpy()
        if self.overdue:
            keep &= overdue_mask(cases, today)
        return cases[keep]


def overdue_mask(cases: pd.DataFrame, today: date) -> np.ndarray:
    """True per case past its deadline_on and still open; an `overdue` column, if any, wins."""
    if "overdue" in cases:
        return cases["overdue"].fillna(False).to_numpy(dtype=bool)
    if "deadline_on" not in cases or len(cases) == 0:
        return np.zeros(len(cases), dtype=bool)
    deadline = pd.to_datetime(cases["deadline_on"])
    still_open = cases["status"].map(MAP_GROUPS).eq("open")
    return ((deadline < pd.Timestamp(today)) & still_open).to_numpy(dtype=bool)
