"""How the reader types one value by its column's kind, and a row's raw values as :mod:`known_rows` compares them.

Text as a member sees it (numbers without a trailing ``.0``, dates as ``YYYY-MM-DD``), numbers and money from
typed text (currency signs and grouping dropped, a decimal comma read), choices matched to their canonical
spelling, IDs normalised; :class:`RowKey` gives the raw values of a row of a returned copy in the form the
master's typed row is compared in. :mod:`reader` drives them, row by row.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from ..plan import schema
from ..plan.describe import SHORT_CHOICE_LIST
from ..plan.ids import named_by_itself, normalise_id
from ..plan.schema import Kind


def _number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g") if isinstance(value, float) else str(value)


def as_text(value: Any) -> str:
    """A cell value as the text a member sees: numbers without a trailing ``.0``, dates as ``YYYY-MM-DD``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


_CURRENCY_AND_SPACES = re.compile(r"[$€£\s]")  # \s takes the no-break and narrow spaces that group digits too
_GROUPED_BY_COMMAS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 12,500 and 12,500.75
_DECIMAL_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+")  # 12,5 and 1.250,50
_GROUPED_BY_DOTS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3}){2,}")  # 1.250.000 (one dot alone is a decimal point)


def _number_of(text: str) -> str:
    """Typed money or number text as Python reads a number: currency signs and grouping spaces dropped, commas
    grouping thousands dropped, a decimal comma made a point. Anything else is left for ``float`` to refuse."""
    bare = _CURRENCY_AND_SPACES.sub("", text)
    if _GROUPED_BY_COMMAS.fullmatch(bare):
        return bare.replace(",", "")
    if _DECIMAL_COMMA.fullmatch(bare) or _GROUPED_BY_DOTS.fullmatch(bare):
        return bare.replace(".", "").replace(",", ".")
    return bare


def as_number(value: Any) -> Any:
    if isinstance(value, bool):
        return as_text(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() and math.isfinite(value) else value
    if isinstance(value, int):
        return value
    text = as_text(value)
    try:
        number = float(_number_of(text))
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if number.is_integer() else number


def choice_table(choices: str | None) -> dict[str, str]:
    return {schema.normalise_header(c): c for c in schema.CHOICES.get(choices or "", ())}


def choices_hint(choices: str | None) -> str:
    options = schema.CHOICES.get(choices or "", ())
    if len(options) <= SHORT_CHOICE_LIST:  # spelled out as the workbook's guidance spells them
        return "one of " + ", ".join(options)
    return f"one of the {len(options)} choices in the cell's dropdown"


class RowKey:
    """A row's raw values as :mod:`known_rows` compares them with the master's typed row: a blank as ``None``, a
    number of a number column and each reference as the reader types them (a reference by the ID it names by
    itself); None when a reference is typed as a parent's text (it names what the parent rows of the copy being
    read say)."""

    def __init__(self, refs: list[int], prefixes: list[str | None], numbers: list[int]) -> None:
        # (position, the parent's ID letter, what each value there is typed as: None when a parent's text)
        self.refs: list[tuple[int, str | None, dict[Any, str | None]]] = [
            (i, prefix, {}) for i, prefix in zip(refs, prefixes, strict=True)
        ]
        self.numbers = numbers

    def __call__(self, raw: Sequence[Any]) -> tuple[Any, ...] | None:
        if raw.__class__ is not tuple:
            return None  # a short row (see SheetCells.select): rare, typed each time
        items = list(map(_BLANK_AS_NONE, raw, raw)) if "" in raw else list(raw)
        for i in self.numbers:
            if items[i].__class__ is float:
                items[i] = as_number(items[i])  # a spreadsheet's 52000.0 is the reader's 52000
        for i, prefix, memo in self.refs:
            value = items[i]
            if value is None:
                continue
            typed = memo.get(value, _UNSEEN)
            if typed is _UNSEEN:
                stripped = value.strip() if value.__class__ is str else value
                found, settled = named_by_itself(stripped, prefix)
                typed = memo[value] = (found if found is not None else as_text(stripped)) if settled else None
            if typed is None:
                return None
            items[i] = typed
        return tuple(items)


_UNSEEN = object()
_BLANK_AS_NONE = {"": None}.get  # (value, value): None for a blank, else the value itself


TEXT_CODE, ID_CODE, REF_CODE, DATE_CODE, OTHER_CODE = range(5)


def kind_code(kind: Kind) -> int:
    if kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.EMAIL):
        return TEXT_CODE
    if kind is Kind.ID:
        return ID_CODE
    if kind is Kind.REF:
        return REF_CODE
    if kind is Kind.DATE:
        return DATE_CODE
    return OTHER_CODE


def id_reader(prefix: str | None) -> Callable[[Any], str | None]:
    def read(value: Any) -> str | None:
        return None if value is None else normalise_id(value, prefix)

    return read
