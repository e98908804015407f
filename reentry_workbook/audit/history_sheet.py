"""Writes the Audit History sheet, in a scratch workbook of its own, for ``package.graft_sheets`` to add.

Plain values only (no formulas): a header row, then one row per audit, oldest first. Dates and times carry
date formats, shares a percentage format, costs a dollar format, so a person can read it and a spreadsheet
can chart or filter it; the audit reads it back with :func:`history.read_history`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..plan import schema
from ..workbook.formats import WORKBOOK_OPTIONS
from .history import COSTS, SHARES, TEXTS
from .report import HistoryRow

WIDTHS: dict[str, float] = {"as_of": 12, "audited_at": 17, "file": 34, "template_version": 10}
DEFAULT_WIDTH = 12


def write_history_workbook(rows: list[HistoryRow], path: Path) -> None:
    """Write a scratch .xlsx at ``path`` whose only worksheet is the Audit History of ``rows``."""
    import xlsxwriter
    import xlsxwriter.exceptions

    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    add_history_sheet(book, rows)
    try:
        book.close()
    except (xlsxwriter.exceptions.XlsxWriterException, OSError) as exc:
        raise OutputError(f"could not write the history workbook {path} ({exc}); check the disk and try again") from exc


def add_history_sheet(book: Any, rows: list[HistoryRow]) -> None:
    """Add the Audit History of ``rows`` to the XlsxWriter workbook ``book`` (the upgrade carries it this way)."""
    ws = book.add_worksheet(schema.HISTORY_SHEET)
    base = {"font_name": "Calibri", "font_size": 11, "valign": "top"}
    header = book.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "bottom": 1})
    formats = {
        "as_of": book.add_format({**base, "num_format": "yyyy-mm-dd", "align": "left"}),
        "audited_at": book.add_format({**base, "num_format": "yyyy-mm-dd hh:mm", "align": "left"}),
        **{k: book.add_format({**base, "num_format": "0%"}) for k in SHARES},
        **{k: book.add_format({**base, "num_format": "$#,##0"}) for k in COSTS},
    }
    plain = book.add_format(base)

    def check(rc: int, what: str) -> None:
        if rc != 0:
            raise OutputError(f"could not write {what} on the {schema.HISTORY_SHEET} sheet (XlsxWriter code {rc})")

    for c, (key, text) in enumerate(schema.HISTORY_COLUMNS):
        check(ws.set_column(c, c, WIDTHS.get(key, DEFAULT_WIDTH)), "a column width")
        check(ws.write_string(0, c, text, header), "a header")
    for r, row in enumerate(rows, start=1):
        for c, (key, _) in enumerate(schema.HISTORY_COLUMNS):
            value = getattr(row, key)
            fmt = formats.get(key, plain)
            if value is None or value == "":
                continue
            if isinstance(value, dt.datetime):
                check(ws.write_datetime(r, c, value.replace(tzinfo=None), fmt), "a time")
            elif isinstance(value, dt.date):
                check(ws.write_datetime(r, c, value, fmt), "a date")
            elif key in TEXTS:
                check(ws.write_string(r, c, str(value), fmt), "text")
            else:
                check(ws.write_number(r, c, value, fmt), "a number")
    ws.freeze_panes(1, 1)
    check(ws.autofilter(0, 0, max(len(rows), 1), len(schema.HISTORY_COLUMNS) - 1), "the filter")
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
