"""The one date reader: every form a member types, real dates, serial numbers in both date systems."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reentry_workbook.plan.dates import (
    BLANK,
    DATE,
    TEXT_DATE,
    UNREADABLE,
    read_date,
    read_text_date,
    serial_to_datetime,
)

MARCH_15 = dt.date(2027, 3, 15)


def text(value: str) -> object:
    return read_date(value, is_date_format=False, date1904=False)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2027-03-15", MARCH_15),
        ("2027/03/15", MARCH_15),
        ("3/15/2027", MARCH_15),
        ("03/15/2027", MARCH_15),
        ("3/15/27", MARCH_15),
        ("3-15-2027", MARCH_15),
        ("15/3/2027", MARCH_15),  # only one reading: there is no month 15
        ("15.03.2027", MARCH_15),
        ("15 March 2027", MARCH_15),
        ("15 Mar 2027", MARCH_15),
        ("15-Mar-2027", MARCH_15),
        ("15th of March 2027", MARCH_15),
        ("March 15, 2027", MARCH_15),
        ("Mar. 15 2027", MARCH_15),
        ("march 15th, 2027", MARCH_15),
        ("Monday, March 15, 2027", MARCH_15),
        ("2027-03-15T00:00:00", MARCH_15),
        ("2027-03-15 14:30", MARCH_15),
        ("2027-03-15T00:00:00Z", MARCH_15),
        ("  2027-03-15\n", MARCH_15),
        ("3/3/2027", dt.date(2027, 3, 3)),  # both readings are the same day
    ],
)
def test_dates_typed_as_text_are_read(typed: str, expected: dt.date) -> None:
    verdict = text(typed)
    assert verdict.kind == TEXT_DATE
    assert verdict.date == expected
    assert verdict.note == f"read as {expected.isoformat()}"


@pytest.mark.parametrize(
    ("typed", "expected", "period"),
    [
        ("March 2027", dt.date(2027, 3, 1), "March 2027"),
        ("Mar 2027", dt.date(2027, 3, 1), "March 2027"),
        ("mar-2027", dt.date(2027, 3, 1), "March 2027"),
        ("Feb 2028", dt.date(2028, 2, 1), "February 2028"),
        ("Sept 2027", dt.date(2027, 9, 1), "September 2027"),
        ("2027-03", dt.date(2027, 3, 1), "March 2027"),
        ("03/2027", dt.date(2027, 3, 1), "March 2027"),
        ("Q2 2027", dt.date(2027, 4, 1), "Q2 2027"),
        ("q4-2027", dt.date(2027, 10, 1), "Q4 2027"),
        ("2027 Q1", dt.date(2027, 1, 1), "Q1 2027"),
    ],
)
def test_a_month_or_quarter_is_read_as_its_first_day_like_excel_and_calc(
    typed: str, expected: dt.date, period: str
) -> None:
    verdict = text(typed)
    assert (verdict.kind, verdict.date) == (TEXT_DATE, expected)
    assert verdict.note == f"read as {expected.isoformat()}, the first day of {period}"


def test_day_and_month_that_could_be_swapped_are_unreadable_and_say_both_readings() -> None:
    verdict = text("3/4/27")
    assert verdict.kind == UNREADABLE
    assert verdict.date is None
    assert "could be 4 March 2027 or 3 April 2027" in verdict.note


@pytest.mark.parametrize(
    ("typed", "note"),
    [
        ("TBD", "is not a date"),
        ("soon", "is not a date"),
        ("ongoing", "is not a date"),
        ("end of spring", "is not a date"),
        ("2/30/2027", "is not a real date"),
        ("13/13/2027", "is not a real date"),
        ("2027-02-29", "is not a real date"),
        ("2027", "is only a year; type a full date"),
        ("Mar 5", "has no year; type the full date"),
        ("27 March", "has no year; type the full date"),
        ("Mar 27", "could be 27 March (no year given) or March 2027; type the full date"),
        ("March Sunday 2027", "is not a date"),  # a weekday is taken off the front only
        ("Monday, March Sunday 2027", "is not a date"),  # and only once
    ],
)
def test_text_that_is_no_single_date_is_unreadable(typed: str, note: str) -> None:
    verdict = text(typed)
    assert (verdict.kind, verdict.date, verdict.note) == (UNREADABLE, None, note)


@pytest.mark.parametrize("value", [None, "", "   ", "\n"])
def test_blank_cells(value: object) -> None:
    assert read_date(value, is_date_format=True, date1904=False).kind == BLANK


def test_real_dates_and_datetimes_are_dates() -> None:
    assert read_date(MARCH_15, is_date_format=True, date1904=False) == read_date(
        dt.datetime(2027, 3, 15, 17, 45), is_date_format=True, date1904=True
    )
    verdict = read_date(MARCH_15, is_date_format=True, date1904=False)
    assert (verdict.kind, verdict.date, verdict.note) == (DATE, MARCH_15, "")


def test_serial_numbers_in_date_columns_are_read_in_the_workbooks_date_system() -> None:
    assert read_date(46461, is_date_format=False, date1904=False).date == MARCH_15
    assert read_date(46461.0, is_date_format=True, date1904=False).date == MARCH_15
    assert read_date(46461.99, is_date_format=False, date1904=False).date == MARCH_15
    # The Mac 1904 system counts 1,462 days fewer for the same day.
    assert read_date(46461 - 1462, is_date_format=False, date1904=True).date == MARCH_15
    assert read_date(46461, is_date_format=False, date1904=True).date == dt.date(2031, 3, 16)


def test_a_bare_year_typed_as_a_number_is_not_taken_for_a_day_in_1905() -> None:
    verdict = read_date(2027, is_date_format=False, date1904=False)
    assert verdict.kind == UNREADABLE
    assert "2027" in verdict.note
    # Formatted as a date, the cell shows a day, and that day is what it holds.
    assert read_date(2027, is_date_format=True, date1904=False).kind == DATE


@pytest.mark.parametrize(
    ("value", "note"),
    [
        (True, "is a TRUE/FALSE value, not a date"),
        (False, "is a TRUE/FALSE value, not a date"),
        (dt.time(9, 30), "is a time of day, not a date"),
        (dt.timedelta(hours=5), "is a duration, not a date"),
        (0.5, "is a time of day or zero, not a date"),
        (-3, "is a number outside the spreadsheet's calendar"),
        (1e12, "is a number outside the spreadsheet's calendar"),
        (float("nan"), "is not a date"),
        (float("inf"), "is not a date"),
        (Decimal("46461"), "is not a date"),  # a value of a kind no cell reader gives
    ],
)
def test_values_that_are_not_dates(value: object, note: str) -> None:
    verdict = read_date(value, is_date_format=False, date1904=False)
    assert (verdict.kind, verdict.date, verdict.note) == (UNREADABLE, None, note)


def test_serial_number_epochs() -> None:
    assert serial_to_datetime(1, False) == dt.datetime(1900, 1, 1)
    assert serial_to_datetime(61, False) == dt.datetime(1900, 3, 1)
    assert serial_to_datetime(0, True) == dt.datetime(1904, 1, 1)
    assert serial_to_datetime(46461.5, False) == dt.datetime(2027, 3, 15, 12)
    assert serial_to_datetime(-1, False) is None


@given(st.dates(min_value=dt.date(1904, 1, 2), max_value=dt.date(9999, 12, 31)))
def test_every_iso_date_and_its_serial_number_read_back_as_that_date(day: dt.date) -> None:
    assert read_text_date(day.isoformat()).date == day
    serial = (day - dt.date(1899, 12, 30)).days
    assert read_date(serial, is_date_format=True, date1904=False).date == day
    assert read_date(serial - 1462, is_date_format=True, date1904=True).date == day


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_us_style_dates_read_as_that_date_or_are_flagged_as_ambiguous(day: dt.date) -> None:
    verdict = read_text_date(f"{day.month}/{day.day}/{day.year}")
    if day.day <= 12 and day.day != day.month:
        assert verdict.kind == UNREADABLE
        assert "could be" in verdict.note
    else:
        assert (verdict.kind, verdict.date) == (TEXT_DATE, day)


@pytest.mark.parametrize("typed", ["13/2027", "0/2027", "2027-00", "2027-13", "March 0000", "0000 March", "Dec 0000"])
def test_a_month_and_year_that_do_not_exist_are_not_a_real_date(typed: str) -> None:
    verdict = text(typed)
    assert (verdict.kind, verdict.date) == (UNREADABLE, None)
    assert verdict.note == "is not a real date"


@pytest.mark.parametrize(
    ("typed", "year", "month"),
    [
        ("2027 March", 2027, 3),
        ("2027 dec", 2027, 12),
        ("January 2027", 2027, 1),
        ("December 2027", 2027, 12),
        ("1/2027", 2027, 1),
        ("12/2027", 2027, 12),
        ("2027-1", 2027, 1),
        ("2027.12", 2027, 12),
        ("March 0001", 1, 3),
        ("December 9999", 9999, 12),
    ],
)
def test_a_month_typed_as_text_is_read_in_that_month_and_year(typed: str, year: int, month: int) -> None:
    # Which day of the month stands for it is the month reading's own decision; the month and year are not.
    verdict = text(typed)
    assert verdict.kind == TEXT_DATE
    assert verdict.date is not None
    assert (verdict.date.year, verdict.date.month) == (year, month)
    assert f"{dt.date(2000, month, 1):%B} {year}" in verdict.note


@pytest.mark.parametrize(("typed", "quarter"), [("Q1 2027", 1), ("Q4 2027", 4), ("2027Q3", 3), ("Q2 FY2027", 2)])
def test_a_quarter_is_read_in_its_first_month(typed: str, quarter: int) -> None:
    # A period typed without a day is its first day (dates.PERIOD_RULE), as Excel and Calc read a month.
    verdict = text(typed)
    assert verdict.kind == TEXT_DATE
    assert verdict.date is not None
    assert (verdict.date.year, verdict.date.month) == (2027, quarter * 3 - 2)
    assert f"Q{quarter} 2027" in verdict.note


@pytest.mark.parametrize("typed", ["Q0 2027", "Q5 2027"])
def test_a_quarter_that_does_not_exist_is_not_a_date(typed: str) -> None:
    assert text(typed).kind == UNREADABLE


@pytest.mark.parametrize("is_date_format", [False, True])
def test_zero_in_a_date_column_is_not_a_date(is_date_format: bool) -> None:
    for zero in (0, 0.0):
        verdict = read_date(zero, is_date_format=is_date_format, date1904=False)
        assert (verdict.kind, verdict.date) == (UNREADABLE, None)
        assert verdict.note == "is a time of day or zero, not a date"


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, dt.date(1900, 1, 1)),
        (1.5, dt.date(1900, 1, 1)),
        (59, dt.date(1900, 2, 28)),
        (60, dt.date(1900, 3, 1)),  # Excel shows its phantom 29 February 1900: read as the next real day
        (61, dt.date(1900, 3, 1)),
        (62, dt.date(1900, 3, 2)),
    ],
)
def test_the_first_serial_numbers_and_the_phantom_29_february_1900(serial: float, expected: dt.date) -> None:
    verdict = read_date(serial, is_date_format=True, date1904=False)
    assert (verdict.kind, verdict.date, verdict.note) == (DATE, expected, "")


def test_the_last_serial_number_is_31_december_9999_and_the_next_is_outside_the_calendar() -> None:
    for last in (2_958_465, 2_958_465.0, 2_958_465.75):
        assert read_date(last, is_date_format=True, date1904=False).date == dt.date(9999, 12, 31)
    beyond = read_date(2_958_466, is_date_format=True, date1904=False)
    assert (beyond.kind, beyond.date) == (UNREADABLE, None)
    assert beyond.note == "is a number outside the spreadsheet's calendar"


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (999, dt.date(1902, 9, 25)),  # not a four-digit year: a day
        (1000, None),
        (2027.0, None),
        (9999, None),
        (10000, dt.date(1927, 5, 18)),
        (1000.5, dt.date(1902, 9, 26)),  # a fraction is no year
    ],
)
def test_a_number_that_could_be_a_year_is_only_one_from_1000_to_9999(number: float, expected: dt.date | None) -> None:
    verdict = read_date(number, is_date_format=False, date1904=False)
    assert verdict.date == expected
    if expected is None:
        assert verdict.kind == UNREADABLE
        assert verdict.note == f"is the number {int(number)}, perhaps a year; type a full date"
    else:
        assert verdict.kind == DATE
    # Formatted as a date, the cell shows a day, and that day is what it holds.
    assert read_date(number, is_date_format=True, date1904=False).kind == DATE


@pytest.mark.parametrize("fraction", [0.001, 0.25, 0.75, 0.999])
def test_a_fraction_of_a_day_keeps_the_day(fraction: float) -> None:
    assert read_date(46461 + fraction, is_date_format=False, date1904=False).date == MARCH_15
    assert read_date(46461 - 1462 + fraction, is_date_format=True, date1904=True).date == MARCH_15


@pytest.mark.parametrize(
    "typed",
    [
        "March 15, 2027,",
        "15 March 2027,",
        "2027-03-15.",
        "15 - March - 2027",
        "15 / Mar / 2027",
        "15-march-27",
        "Monday 15 March 2027",
        "Mon., March 15th, 2027",
        "15\u00a0March\u00a02027",
    ],
)
def test_trailing_punctuation_and_spaced_separators_still_read(typed: str) -> None:
    verdict = text(typed)
    assert (verdict.kind, verdict.date, verdict.note) == (TEXT_DATE, MARCH_15, "read as 2027-03-15")


@pytest.mark.parametrize(
    ("typed", "note"),
    [
        ("Mar 31", "could be 31 March (no year given) or March 2031; type the full date"),
        ("Sept 10", "could be 10 September (no year given) or September 2010; type the full date"),
        ("Mar 32", "has no year; type the full date"),
        ("Mar 31st", "has no year; type the full date"),
        ("Mar 7", "has no year; type the full date"),
        ("31st of March", "has no year; type the full date"),
        ("FY2027", "is only a year; type a full date"),
        ("fy 2027", "is only a year; type a full date"),
    ],
)
def test_a_month_and_day_without_a_year_is_unreadable_and_says_why(typed: str, note: str) -> None:
    verdict = text(typed)
    assert (verdict.kind, verdict.date, verdict.note) == (UNREADABLE, None, note)


def test_a_day_and_month_that_could_be_swapped_name_both_days_in_full() -> None:
    verdict = text("3/4/2027")
    assert verdict.note == "could be 4 March 2027 or 3 April 2027; type it as year-month-day"
    assert text("4/3/2027").note == "could be 3 April 2027 or 4 March 2027; type it as year-month-day"
