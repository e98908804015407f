"""How one raw cell becomes a value: number formats that show dates or durations, serial numbers in the
workbook's date system, rich-text runs and escaped characters, and an expat parser that refuses DTDs."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, NoReturn
from xml.parsers import expat

from ..errors import UnsafeArchiveError
from .serials import serial_to_datetime

SAVE_AGAIN = "open it in Excel, save it as .xlsx and run the command again"
DTD_MESSAGE = (
    "contains XML with a document type declaration, which spreadsheet apps never write and which can hide an "
    "entity bomb; ask the sender to save the workbook again from Excel"
)

# Built-in number formats that show dates or times (ECMA-376 18.8.30, plus the East Asian date formats).
_BUILTIN_DATE_FORMATS = frozenset({*range(14, 23), *range(27, 37), 45, 47, *range(50, 59)})
_BUILTIN_DURATION_FORMATS = frozenset({46})

@dataclass
class Styles:
    dates: frozenset[int] = frozenset()  # cell format indexes whose number format shows a date or time
    durations: frozenset[int] = frozenset()  # ... an elapsed time ([h]:mm)


# --- helpers -------------------------------------------------------------------------------------------------


class RootReached(Exception):
    pass


def expat_parser(label: str, part: str) -> Any:
    """An expat parser that refuses document type declarations, entity declarations and external entities."""
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def refuse(*_args: Any) -> NoReturn:
        raise UnsafeArchiveError(f"{label} {DTD_MESSAGE} (in {part}).")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def to_int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def run_text(parts: list[str], preserve: bool) -> str:
    """The text of one element; without xml:space="preserve" its outer white space is dropped, as
    python-calamine and Excel do."""
    text = "".join(parts)
    return text if preserve else text.strip(" \t\r\n")


_X_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_x(text: str) -> str:
    """Undo OOXML's ``_xHHHH_`` escapes of characters XML cannot carry (``_x000D_`` is a carriage return)."""
    return _X_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


_QUOTED = re.compile(r'"[^"]*"|\\.|[_*].')
_BRACKETS = re.compile(r"\[[^\]]*\]")
_ELAPSED = re.compile(r"\[(?:h+|m+|s+)\]", re.IGNORECASE)


def format_kind(num_fmt_id: int | None, code: str | None) -> str | None:
    """``"date"`` when a number format shows a date or time, ``"duration"`` for elapsed time, else ``None``."""
    if code is None:
        if num_fmt_id in _BUILTIN_DATE_FORMATS:
            return "date"
        if num_fmt_id in _BUILTIN_DURATION_FORMATS:
            return "duration"
        return None
    section = _QUOTED.sub("", code).split(";", 1)[0]
    if _ELAPSED.search(section):
        return "duration"
    section = _BRACKETS.sub("", section).lower()
    if section.strip() == "general":
        return None
    return "date" if any(ch in section for ch in "dmyhs") else None


def _moment(number: float, date1904: bool, duration: bool) -> Any:
    """A date-formatted number as python-calamine gives it: a date, a time of day, a datetime or a duration."""
    if duration:
        return dt.timedelta(days=number)
    if 0 <= number < 1:
        seconds = round(number * 86_400)
        if seconds >= 86_400:
            return dt.time(0, 0)
        return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    moment = serial_to_datetime(number, date1904)
    if moment is None:
        return number
    return moment.date() if number.is_integer() else moment


def cell_value(
    kind: str | None,
    raw: str,
    inline: str,
    style: int,
    strings: list[str],
    styles: Styles,
    date1904: bool,
) -> Any:
    if kind == "s":
        index = to_int(raw.strip())
        return strings[index] if index is not None and 0 <= index < len(strings) else None
    if kind == "inlineStr":
        return unescape_x(inline)
    if kind == "str":
        return unescape_x(raw)
    if kind == "b":
        return raw.strip().lower() in ("1", "true")
    if kind == "d":
        try:
            return dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            return raw
    text = raw.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if style in styles.dates or style in styles.durations:
        return _moment(number, date1904, style in styles.durations)
    return number
