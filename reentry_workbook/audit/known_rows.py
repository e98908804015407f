"""Rows one read takes from another: the master's rows, for the reads of its returned copies.

A merge reads the master, then ten copies of it in which most rows are as they were sent. Typing such a row again
(IDs, dates, choices, references) and comparing it cell by cell with the master's, only to find nothing, is most of
a copy's reading. The master's read remembers each row by the raw value of its ID cell; the read of a copy takes
the master's typed row, instead of typing its own, when the copy's row holds exactly what the master's row holds
after typing, under the same headers and date system.

Taking a row gives exactly what typing it would have. The copy's raw values (a blank as ``None``, a reference
as the ID it names by itself) must equal the master's typed values, one for one and of the same types. Typing
leaves such a value as it is: text without spaces around it, a date, a choice in its canonical spelling, an ID in
its canonical form, a number of the type typing gives. Not taken, and so typed as usual:

- a row with a formula or an error cell (those are read from the sheet's XML, not from the values);
- a row with a reference typed as a parent's text (it names what the parent rows of the copy being read say);
- a row whose raw values typing would change (``" Housing"``, ``"g-3"``, a date typed as text);
- a row whose ID the master holds twice.

The taken row is a new :class:`Record` with the copy's worksheet row, holding the master row's ``values`` dict
itself (not a copy: a large plan is not held twice); :meth:`KnownRows.unchanged` tells such a row from one read.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import is_not
from typing import Any

from ..plan.model import Record

_TWICE = None  # the entry of a raw row the master holds more than once


class KnownRows:
    """The master's rows by the raw value of their ID cell, sheet by sheet (see the module docstring)."""

    def __init__(self) -> None:
        self.date1904: bool | None = None
        # sheet key -> (the keys of the columns read, in order; the raw value of an ID cell -> the typed row, or _TWICE)
        self._sheets: dict[str, tuple[tuple[str, ...], dict[Any, Record | None]]] = {}

    def learner(self, sheet_key: str, keys: Sequence[str], date1904: bool) -> _Learner:
        """Where the read of the master puts a sheet's rows (columns ``keys``, in the order of the raw values)."""
        self.date1904 = date1904
        rows: dict[Any, Record | None] = {}
        self._sheets[sheet_key] = (tuple(keys), rows)
        return _Learner(rows)

    def taker(self, sheet_key: str, keys: Sequence[str], date1904: bool) -> _Taker | None:
        """What the read of a copy takes a sheet's rows from, or None when its columns or date system differ from
        the master's (then every row is typed)."""
        known = self._sheets.get(sheet_key)
        if known is None or known[0] != tuple(keys) or date1904 != self.date1904:
            return None
        return _Taker(known[1])

    @staticmethod
    def unchanged(rec: Record, master: Record) -> bool:
        """True when ``rec`` was taken from the master's row ``master`` (so it sends no change)."""
        return rec.values is master.values


class _Learner:
    def __init__(self, rows: dict[Any, Record | None]) -> None:
        self._rows = rows

    def learn(self, raw_id: Any, record: Record) -> None:
        """Remember a row of the master by the raw value of its ID cell."""
        self._rows[raw_id] = _TWICE if raw_id in self._rows else record


class _Taker:
    def __init__(self, rows: dict[Any, Record | None]) -> None:
        self._rows = rows

    def take(self, raw_id: Any, values: tuple[Any, ...], row: int) -> Record | None:
        """The master's typed row when a copy's row (the raw value of its ID cell, its values as the module docstring
        says, read from worksheet row ``row``, 1-based) holds exactly what it holds; else None."""
        master = self._rows.get(raw_id)
        if master is None:
            return None
        typed = tuple(master.values.values())
        if values != typed or any(map(is_not, map(type, values), map(type, typed))):
            return None
        return Record(master.sheet, master.id, master.values, row)
