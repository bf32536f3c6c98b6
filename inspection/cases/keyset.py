"""Keyset paging of the case list: opaque cursors on its stable order, checked before use.

The list is ordered newest first (id descending) or, when only the overdue are shown, most
overdue first (deadline_on, then id). A cursor names the order and the key of one row: `after=`
lists the page following that row, `before=` the page preceding it. Rows added or removed between
two page loads never make a row appear twice or shift a page, as OFFSET paging did.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, Integer, Select, bindparam, tuple_

from inspection.cases.models import Case
from inspection.errors import InvalidInput
from inspection.params import MAX_INT

NEWEST = "n"  # id descending
DUE = "d"  # deadline_on ascending, then id ascending
MAX_CURSOR_CHARS = 64


@dataclass(frozen=True)
class Cursor:
    """A position in the list: the order it belongs to, the row's id and (order DUE) its deadline."""

    order: str
    case_id: int
    deadline_on: date | None = None

    def encode(self) -> str:
        """The cursor as URL-safe text (base64 without padding)."""
        raw = f"{self.order}:{self.case_id}"
        if self.order == DUE:
            raw = f"{self.order}:{self.deadline_on.isoformat()}:{self.case_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def bad_cursor() -> InvalidInput:
    """The refusal of a cursor that is not one of ours (or belongs to another order)."""
    return InvalidInput(
        "bad_cursor",
        "翻页参数无效（链接可能已损坏或属于另一种排序），已显示第一页",
        "The paging cursor is not valid (a damaged link, or one of another order); "
        "showing the first page",
    )


def decode(text: str, order: str) -> Cursor:
    """Read a cursor of the given order from URL text; InvalidInput when it is not a valid one."""
    text = text.strip()
    if not text or len(text) > MAX_CURSOR_CHARS:
        raise bad_cursor()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise bad_cursor() from None
    parts = raw.split(":")
    if parts[0] != order or len(parts) != (3 if order == DUE else 2):
        raise bad_cursor()
    digits = parts[-1]
    if not (digits.isdigit() and digits.isascii() and 0 < int(digits) <= MAX_INT):
        raise bad_cursor()
    deadline = None
    if order == DUE:
        try:
            deadline = date.fromisoformat(parts[1])
        except ValueError:
            raise bad_cursor() from None
        if len(parts[1]) != 10:
            raise bad_cursor()
    return Cursor(order, int(digits), deadline)


def order_of(overdue: bool) -> str:
    """The list's order: most overdue first when only the overdue are listed, else newest first."""
    return DUE if overdue else NEWEST


def cursor_of(case: Case, order: str) -> Cursor:
    """The cursor naming this row in that order."""
    return Cursor(order, case.id, case.deadline_on if order == DUE else None)


def _key(order: str):
    """The order's columns: a row value (deadline_on, id), or the id alone."""
    return tuple_(Case.deadline_on, Case.id) if order == DUE else Case.id


def _value(cursor: Cursor):
    """The cursor's key, typed (the date bound as a Date on every backend)."""
    case_id = bindparam(None, cursor.case_id, type_=Integer)
    if cursor.order == DUE:
        return tuple_(bindparam(None, cursor.deadline_on, type_=Date), case_id)
    return case_id


def seek(query: Select, order: str, after: Cursor | None, before: Cursor | None, size: int):
    """The query limited to size + 1 rows from a cursor, in list order when read (before: reversed).

    Rows are fetched in the order they are walked: forward after `after`, backward before `before`;
    the caller reverses a backward page. One extra row tells whether more lie beyond.
    """
    key, backward = _key(order), before is not None
    ascending = order == DUE
    if after is not None:
        query = query.where(key > _value(after) if ascending else key < _value(after))
    if before is not None:
        query = query.where(key < _value(before) if ascending else key > _value(before))
    columns = (Case.deadline_on, Case.id) if order == DUE else (Case.id,)
    forward_ascending = ascending != backward
    ordered = [c.asc() if forward_ascending else c.desc() for c in columns]
    return query.order_by(None).order_by(*ordered).limit(size + 1)


@dataclass(frozen=True)
class Page:
    """One page of the list: its rows in list order and the cursors of the pages around it."""

    cases: list
    next_cursor: str | None
    prev_cursor: str | None


def make_page(rows: list, order: str, size: int, *, after, before) -> Page:
    """Cut the fetched rows (size + 1 at most, walk order) into a page with its neighbours' cursors."""
    more = len(rows) > size
    rows = rows[:size]
    if before is not None:
        rows.reverse()
    if not rows:
        return Page([], None, None)
    first, last = cursor_of(rows[0], order).encode(), cursor_of(rows[-1], order).encode()
    if before is not None:
        return Page(rows, last, first if more else None)
    return Page(rows, last if more else None, first if after is not None else None)
