"""Spreadsheet serial numbers: the two date systems (1900 and 1904) and the moment a serial stands for."""

from __future__ import annotations

import datetime as dt
import math

_EPOCH_1900 = dt.datetime(1899, 12, 30)  # serial 61 and later; Excel's day 60 is the fictitious 1900-02-29
_EPOCH_1904 = dt.datetime(1904, 1, 1)
MAX_SERIAL = 2_958_465  # 9999-12-31 in the 1900 system; a time of day may follow it


def serial_to_datetime(serial: float, date1904: bool) -> dt.datetime | None:
    """The moment a spreadsheet serial number stands for, or ``None`` outside the spreadsheet's calendar."""
    if not math.isfinite(serial) or serial < 0 or serial >= MAX_SERIAL + 1:
        return None
    if date1904:
        base = _EPOCH_1904
    elif serial >= 61:
        base = _EPOCH_1900
    else:
        base = _EPOCH_1900 + dt.timedelta(days=1)  # before Excel's phantom 1900-02-29 (serial 60)
    days = math.floor(serial)
    seconds = round((serial - days) * 86_400)
    try:
        return base + dt.timedelta(days=days, seconds=seconds)
    except OverflowError:
        return None


def datetime_to_serial(moment: dt.date | dt.datetime, date1904: bool) -> float:
    """The serial number a date (or moment) is stored as in a workbook of either date system."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time())
    base = _EPOCH_1904 if date1904 else _EPOCH_1900
    delta = moment - base
    serial = delta.days + delta.seconds / 86_400 + delta.microseconds / 86_400_000_000
    if not date1904 and serial < 61:
        serial -= 1  # before Excel's phantom 1900-02-29
    return serial
