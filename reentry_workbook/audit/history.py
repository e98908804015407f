"""The audit history a workbook carries: one row per audit on its ``Audit History`` sheet.

Reading is as tolerant as for the plan sheets: the header row is found among the first rows and columns by
header text (case and spaces ignored, any order, extra columns ignored); a row counts when its as-of date can
be read (a date, a serial number or text such as 2027-03-01); other cells that cannot be read are left
blank, and percentages may be typed as ``85%`` or ``85``. A row the member deleted is gone; one they typed
is kept. Rows are keyed by as-of date: the audit's own row replaces any row of the same date.

"Since the last audit" compares the audit with the latest history row dated before it: the change in each
headline figure and in the number of rows per sheet, the steps completed since (change in the number of
Complete steps) and the open steps that fell due between the two as-of dates.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..plan import schema
from ..plan.dates import read_date, read_text_date
from ..plan.model import Plan
from ..xlsx.cells import SheetCells
from ..xlsx.serials import serial_to_datetime
from .report import ChangedRow, FigureChange, HistoryRow, Report, SinceLast

HEADER_SCAN_ROWS = 10
SHARES = ("alignment", "completeness")
COSTS = ("estimated_cost", "secured_cost")
TEXTS = ("file", "template_version")
SHEET_COUNTS = ("priorities", "goals", "improvements", "measures")
FIGURES = ("alignment", "completeness", "errors", "warnings", "info", "steps", "complete", "overdue",
           "estimated_cost", "secured_cost")
_NUMBER_NOISE = re.compile(r"[$€£,\s%]")


def history_row(report: Report, plan: Plan) -> HistoryRow:
    """This audit's row of the history."""
    s = report.summary
    steps = plan.rows("steps")
    return HistoryRow(
        as_of=s.as_of,
        audited_at=s.audited_at,
        file=Path(s.file).name,
        template_version=s.template_version,
        alignment=s.alignment,
        completeness=s.completeness,
        errors=s.counts.get("error", 0),
        warnings=s.counts.get("warning", 0),
        info=s.counts.get("info", 0),
        steps=len(steps),
        complete=sum(step.get("status") == schema.COMPLETE_STATUS for step in steps),
        overdue=sum(step.is_overdue(s.as_of) for step in steps),
        estimated_cost=report.resources.estimated_cost,
        secured_cost=report.resources.secured_cost,
        **{key: len(plan.rows(key)) for key in SHEET_COUNTS},
    )


def combine(current: HistoryRow, *sources: Iterable[HistoryRow]) -> list[HistoryRow]:
    """Every row of ``sources`` (the first source wins a date two share) with ``current`` replacing its date's
    row, oldest first."""
    rows: dict[dt.date, HistoryRow] = {}
    for source in sources:
        for row in source:
            rows.setdefault(row.as_of, row)
    rows[current.as_of] = current
    return [rows[d] for d in sorted(rows)]


def since_last(history: list[HistoryRow], current: HistoryRow, plan: Plan) -> SinceLast | None:
    """The change from the latest row dated before ``current``; None when there is none."""
    earlier = [row for row in history if row.as_of < current.as_of]
    if not earlier:
        return None
    before = earlier[-1]
    figures = [FigureChange(key, getattr(before, key), getattr(current, key)) for key in FIGURES]
    rows = {}
    for key in (*SHEET_COUNTS, "steps"):
        old, new = getattr(before, key), getattr(current, key)
        if old is not None and new is not None:
            rows[schema.sheet(key).name] = new - old
    newly = []
    for step in plan.rows("steps"):
        due = step.date("due_date")
        if due is not None and before.as_of <= due < current.as_of and not step.is_closed() and step.id:
            newly.append(step.id)
    completed = None if before.complete is None or current.complete is None else current.complete - before.complete
    return SinceLast(before.as_of, completed, newly, rows, figures)


def add_history(
    report: Report, plan: Plan, *sources: Iterable[HistoryRow], changes: list[ChangedRow] | None = None
) -> None:
    """Fill in the report's history (``sources`` first to last, then this audit), what changed since the last
    audit, and the history part of question 2."""
    current = history_row(report, plan)
    report.history = combine(current, *sources)
    report.since_last = since_last(report.history, current, plan)
    if changes is not None:
        if report.since_last is None:
            report.since_last = SinceLast(None, None)
        report.since_last.changes = list(changes)
    report.revisited.audits = len(report.history)
    report.revisited.previous_audit = report.since_last.previous_as_of if report.since_last else None


# -- reading ------------------------------------------------------------------------------------------------


def read_history(cells: SheetCells, *, date1904: bool = False) -> list[HistoryRow]:
    """The readable rows of an Audit History sheet, in sheet order (see the module docstring)."""
    headers = {schema.normalise_header(header): key for key, header in schema.HISTORY_COLUMNS}
    columns: dict[str, int] = {}
    header_row = -1
    for r in range(min(HEADER_SCAN_ROWS, cells.row_count())):
        found = {headers[h]: c for c, v in cells.row_items(r) if (h := schema.normalise_header(v)) in headers}
        if "as_of" in found and len(found) > len(columns):
            columns, header_row = found, r
    if header_row < 0:
        return []
    keys = list(columns)
    out = []
    for _, values in cells.select([columns[k] for k in keys], start=header_row + 1):
        raw = dict(zip(keys, values, strict=True))
        as_of = _date(raw.get("as_of"), date1904)
        if as_of is None:
            continue
        row = HistoryRow(as_of)
        for key, value in raw.items():
            if key != "as_of":
                setattr(row, key, _value(key, value, date1904))
        out.append(row)
    return out


def read_history_file(path: Path) -> list[HistoryRow]:
    """The history rows of another workbook (``audit --history FILE``); [] when it has no Audit History. Only
    that sheet is read: last month's plan is not this audit's business."""
    from .reader import read_one_sheet

    cells, date1904 = read_one_sheet(Path(path), schema.HISTORY_SHEET)
    return [] if cells is None else read_history(cells, date1904=date1904)


def _date(value: Any, date1904: bool) -> dt.date | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return read_text_date(value).date
    if isinstance(value, (dt.date, int, float)):
        return read_date(value, is_date_format=True, date1904=date1904).date
    return None


def _value(key: str, value: Any, date1904: bool) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, bool):
        return None
    if key == "audited_at":
        return _moment(value, date1904)
    if key in TEXTS:
        text = value.strip() if isinstance(value, str) else str(value)
        return text or None
    number = _number(value)
    if number is None:
        return None
    if key in SHARES:
        percent_typed = isinstance(value, str) and "%" in value
        return number / 100 if percent_typed or 1 < number <= 100 else number
    if key in COSTS:
        return number
    return round(number)


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(_NUMBER_NOISE.sub("", str(value)))
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def _moment(value: Any, date1904: bool) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            day = read_text_date(value).date
            return None if day is None else dt.datetime.combine(day, dt.time())
    if isinstance(value, (int, float)):
        return serial_to_datetime(float(value), date1904)
    return None
