"""The one date reader: every date cell of a returned workbook gets exactly one verdict here.

A verdict is one of

- ``blank``: nothing in the cell;
- ``date``: a real date (a date-formatted cell, a datetime, or a serial number in a date column, read in the
  workbook's date system, 1900 or 1904);
- ``text-date``: text a member typed that reads as one date (``2027-03-15``, ``3/15/2027``, ``15 March 2027``,
  ``March 15, 2027``; a month or quarter without a day, ``March 2027`` or ``Q2 2027``, is read as its first
  day, as Excel and LibreOffice Calc read ``March 2027`` typed into a cell: ``PERIOD_RULE``);
- ``unreadable``: anything else, with a note saying why (``TBD``, a day and month that could be swapped such as
  ``3/4/2027``, a date that does not exist, a time of day, a bare year).

Serial numbers are turned into moments by ``xlsx.serials``; everything else here is pure standard library.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from ..xlsx.serials import serial_to_datetime

# How a month or quarter typed without a day is read, everywhere (the audit, merge, diff, upgrade, the docs).
PERIOD_RULE = (
    "A month or quarter typed without a day (March 2027, 03/2027, Q2 2027) is read as its first day, "
    "as Excel and LibreOffice Calc read a month typed into a cell."
)

BLANK = "blank"
DATE = "date"
TEXT_DATE = "text-date"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class DateVerdict:
    """What a date cell holds. ``date`` is set for ``date`` and ``text-date``; ``note`` explains the reading
    in words that fit after the quoted cell text (``"read as 2027-03-31, the last day of March 2027"``,
    ``"could be 3 April 2027 or 4 March 2027"``)."""

    kind: str
    date: dt.date | None = None
    note: str = ""


def read_date(value: Any, *, is_date_format: bool, date1904: bool) -> DateVerdict:
    """Give the verdict on one date cell.

    ``value`` is the cell's value as the cell reader returns it (``None``/``""`` when blank, ``str``, ``float``,
    ``bool``, ``datetime.date``/``datetime``/``time``/``timedelta``). ``is_date_format`` says whether the cell's
    number format shows a date; ``date1904`` whether the workbook counts serial numbers from 1904.
    """
    if value is None:
        return DateVerdict(BLANK)
    if isinstance(value, str):
        return read_text_date(value)
    if isinstance(value, bool):
        return DateVerdict(UNREADABLE, note="is a TRUE/FALSE value, not a date")
    if isinstance(value, dt.datetime):
        return DateVerdict(DATE, value.date())
    if isinstance(value, dt.date):
        return DateVerdict(DATE, value)
    if isinstance(value, dt.time):
        return DateVerdict(UNREADABLE, note="is a time of day, not a date")
    if isinstance(value, dt.timedelta):
        return DateVerdict(UNREADABLE, note="is a duration, not a date")
    if isinstance(value, (int, float)):
        return _read_serial(float(value), is_date_format=is_date_format, date1904=date1904)
    return DateVerdict(UNREADABLE, note="is not a date")


def _read_serial(serial: float, *, is_date_format: bool, date1904: bool) -> DateVerdict:
    if not math.isfinite(serial):
        return DateVerdict(UNREADABLE, note="is not a date")
    if not is_date_format and serial.is_integer() and 1000 <= serial <= 9999:
        return DateVerdict(UNREADABLE, note=f"is the number {int(serial)}, perhaps a year; type a full date")
    if 0 <= serial < 1:
        return DateVerdict(UNREADABLE, note="is a time of day or zero, not a date")
    moment = serial_to_datetime(serial, date1904)
    if moment is None:
        return DateVerdict(UNREADABLE, note="is a number outside the spreadsheet's calendar")
    return DateVerdict(DATE, moment.date())


# --- text -----------------------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _number, _name in enumerate(calendar.month_name[1:], start=1):
    _MONTHS[_name.lower()] = _number
    _MONTHS[_name[:3].lower()] = _number
_MONTHS["sept"] = 9
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAYS = "|".join(
    sorted({d.lower() for d in calendar.day_name} | {d.lower() for d in calendar.day_abbr}, key=len, reverse=True)
)

_SPACES = re.compile(r"[\s\u00a0\u200b\ufeff]+")
_TIME = r"(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[ap]\.?m\.?)?(?:z|[+-]\d{2}:?\d{2})?)?"
_YMD = re.compile(rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME}")
_NUMERIC = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}|\d{{2}}){_TIME}")
_MONTH_YEAR_NUMERIC = re.compile(r"(\d{1,2})[-/.](\d{4})|(\d{4})[-/.](\d{1,2})")
_QUARTER = re.compile(r"q([1-4])[ /-]?(?:fy)?(\d{4})|(\d{4})[ /-]?q([1-4])")
_DAY_MONTH_YEAR = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? ({_MONTH_NAMES})\.? (\d{{4}}|\d{{2}})")
_MONTH_DAY_YEAR = re.compile(rf"({_MONTH_NAMES})\.? (\d{{1,2}})(?:st|nd|rd|th)? (\d{{4}}|\d{{2}})")
_MONTH_YEAR = re.compile(rf"({_MONTH_NAMES})\.? (\d{{4}})|(\d{{4}}) ({_MONTH_NAMES})")
_MONTH_NUMBER = re.compile(rf"({_MONTH_NAMES})\.? (\d{{1,2}})(st|nd|rd|th)?")
_NUMBER_MONTH = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? ({_MONTH_NAMES})\.?")
_WEEKDAY_PREFIX = re.compile(rf"(?:{_WEEKDAYS})\.?,? ")
_YEAR_ONLY = re.compile(r"(?:fy ?)?\d{4}")


def read_text_date(text: str) -> DateVerdict:
    """Read a date typed as text; the verdict is ``blank``, ``text-date`` or ``unreadable``."""
    raw = _SPACES.sub(" ", text).strip()
    if not raw:
        return DateVerdict(BLANK)
    s = raw.lower().rstrip(".")
    s = _WEEKDAY_PREFIX.sub("", s, count=1) if _WEEKDAY_PREFIX.match(s) else s
    s = s.replace(",", " ")
    s = _SPACES.sub(" ", s).strip()

    if m := _YMD.fullmatch(s):
        return _day(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.fullmatch(s):
        return _day_or_month_first(int(m[1]), int(m[3]), _year(m[4]))
    if m := _MONTH_YEAR_NUMERIC.fullmatch(s):
        month, year = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
        return _month_start(year, month)
    if m := _QUARTER.fullmatch(s):
        quarter, year = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
        return _quarter_start(year, quarter)
    words = s.replace("-", " ").replace("/", " ")
    words = _SPACES.sub(" ", words)
    if m := _DAY_MONTH_YEAR.fullmatch(words):
        return _day(_year(m[3]), _MONTHS[m[2]], int(m[1]))
    if m := _MONTH_DAY_YEAR.fullmatch(words):
        return _day(_year(m[3]), _MONTHS[m[1]], int(m[2]))
    if m := _MONTH_YEAR.fullmatch(words):
        month, year = (_MONTHS[m[1]], int(m[2])) if m[1] else (_MONTHS[m[4]], int(m[3]))
        return _month_start(year, month)
    if m := _MONTH_NUMBER.fullmatch(words):
        month_label = calendar.month_name[_MONTHS[m[1]]]
        if len(m[2]) == 2 and not m[3] and int(m[2]) <= 31:
            return DateVerdict(
                UNREADABLE,
                note=f"could be {int(m[2])} {month_label} (no year given) or {month_label} 20{m[2]}; "
                "type the full date",
            )
        return DateVerdict(UNREADABLE, note="has no year; type the full date")
    if _NUMBER_MONTH.fullmatch(words):
        return DateVerdict(UNREADABLE, note="has no year; type the full date")
    if _YEAR_ONLY.fullmatch(s):
        return DateVerdict(UNREADABLE, note="is only a year; type a full date")
    return DateVerdict(UNREADABLE, note="is not a date")


def _year(text: str) -> int:
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _long(day: dt.date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _day(year: int, month: int, day: int) -> DateVerdict:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return DateVerdict(UNREADABLE, note="is not a real date")
    return DateVerdict(TEXT_DATE, value, f"read as {_iso(value)}")


def _day_or_month_first(first: int, second: int, year: int) -> DateVerdict:
    """``first/second/year``: month first when the second number cannot be a month, and the other way round."""
    month_first = _valid(year, first, second)
    day_first = _valid(year, second, first)
    if month_first and day_first and month_first != day_first:
        return DateVerdict(
            UNREADABLE,
            note=f"could be {_long(month_first)} or {_long(day_first)}; type it as year-month-day",
        )
    chosen = month_first or day_first
    if chosen is None:
        return DateVerdict(UNREADABLE, note="is not a real date")
    return DateVerdict(TEXT_DATE, chosen, f"read as {_iso(chosen)}")


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month_start(year: int, month: int) -> DateVerdict:
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        return DateVerdict(UNREADABLE, note="is not a real date")
    value = dt.date(year, month, 1)
    return DateVerdict(TEXT_DATE, value, f"read as {_iso(value)}, the first day of {calendar.month_name[month]} {year}")


def _quarter_start(year: int, quarter: int) -> DateVerdict:
    value = dt.date(year, quarter * 3 - 2, 1)
    return DateVerdict(TEXT_DATE, value, f"read as {_iso(value)}, the first day of Q{quarter} {year}")
