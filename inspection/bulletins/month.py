"""The month a bulletin is about: parsed from YYYY-MM, never in the future."""

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from inspection.errors import InvalidInput

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Month:
    """A calendar month: its first and last day, and the day its figures are read at (as_of)."""

    first: date
    last: date
    as_of: date  # the month's end, or today while the month runs

    @property
    def label(self) -> str:
        """YYYY-MM."""
        return f"{self.first.year:04d}-{self.first.month:02d}"


def parse_month(text: str | None, today: date) -> Month:
    """The month of a YYYY-MM text (town calendar); InvalidInput if malformed or in the future."""
    found = _MONTH.fullmatch((text or "").strip())
    year, month = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    if not found or not 1 <= month <= 12 or not 1990 <= year <= 2100:
        raise InvalidInput(
            "bad_month",
            f"月份格式应为YYYY-MM（如2022-05）：{text or ''}",
            f"A month is written YYYY-MM (e.g. 2022-05): {text or ''}",
        )
    first = date(year, month, 1)
    if first > today:
        raise InvalidInput(
            "future_month",
            f"{first:%Y-%m}尚未开始，不能通报",
            f"{first:%Y-%m} has not begun; there is nothing to report yet",
        )
    last = date(year, month, monthrange(year, month)[1])
    return Month(first, last, min(last, today))
