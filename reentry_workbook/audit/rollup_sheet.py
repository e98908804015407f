"""The roll-up workbook of a batch audit: one row per file (or mailed return, with who sent it and when), with a
link to its audited copy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import xlsxwriter
import xlsxwriter.exceptions

from ..plan import schema
from ..workbook.formats import WORKBOOK_OPTIONS, check
from ..xlsx.atomic import write_failed

if TYPE_CHECKING:
    from .batch import BatchResult

ROLLUP_SHEET = "Roll-up"
COLUMNS: tuple[tuple[str, float], ...] = (
    ("File", 36),
    ("Coalition", 30),
    ("Responsible members", 12),
    ("Alignment", 11),
    ("Completeness", 13),
    ("Errors", 8),
    ("Warnings", 9),
    ("Overdue steps", 9),
    ("Audited copy", 36),
    ("Sent by", 30),
    ("Sent on", 17),
    ("Message", 30),
    ("Note", 50),
    ("Reason it could not be audited", 60),
)
_COL = {title: i for i, (title, _width) in enumerate(COLUMNS)}


def write_rollup(batch: BatchResult, path: Path, *, folder: Path) -> None:
    """Write ``batch`` to ``path``; links to audited copies are relative to ``folder`` (the file's home)."""
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    ws = wb.add_worksheet(ROLLUP_SHEET)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top", "border": 1})
    pct = wb.add_format({"num_format": "0%"})
    link = wb.add_format({"font_color": "#0563C1", "underline": 1})
    bad = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE", "text_wrap": True})
    check(wb.set_custom_property(schema.PROP_OUTPUT, schema.OUTPUT_ROLLUP), "roll-up custom property")
    for col, (title, width) in enumerate(COLUMNS):
        check(ws.write_string(0, col, title, head), "roll-up write_string")
        check(ws.set_column(col, col, width), "roll-up set_column")
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for i, row in enumerate(batch.rows, start=1):
        check(ws.write_string(i, _COL["File"], row.name), "roll-up write_string")
        for title, text in (("Sent by", row.sender), ("Message", row.message), ("Note", row.notes)):
            if text:
                check(ws.write_string(i, _COL[title], text), "roll-up write_string")
        if row.sent is not None:  # as the sender's wall-clock time, which is what their mail app showed
            check(ws.write_datetime(i, _COL["Sent on"], row.sent.replace(tzinfo=None), when), "roll-up write_datetime")
        if row.reason:
            check(ws.write_string(i, _COL["Reason it could not be audited"], row.reason, bad), "roll-up write_string")
            continue
        if row.message and not row.attachment:  # a message with no workbook: nothing was audited
            continue
        check(ws.write_string(i, _COL["Coalition"], row.coalition), "roll-up write_string")
        check(ws.write_number(i, _COL["Responsible members"], row.responsible), "roll-up write_number")
        for title, value in (("Alignment", row.alignment), ("Completeness", row.completeness)):
            if value is not None:
                check(ws.write_number(i, _COL[title], value, pct), "roll-up write_number")
        check(ws.write_number(i, _COL["Errors"], row.counts.get("error", 0)), "roll-up write_number")
        check(ws.write_number(i, _COL["Warnings"], row.counts.get("warning", 0)), "roll-up write_number")
        check(ws.write_number(i, _COL["Overdue steps"], row.overdue), "roll-up write_number")
        if row.output is not None:
            target = Path(os.path.relpath(row.output.resolve(), folder.resolve())).as_posix()
            check(
                ws.write_url(i, _COL["Audited copy"], f"external:{target}", link, string=row.output.name),
                "roll-up write_url",
            )
    check(ws.freeze_panes(1, 1), "roll-up freeze_panes")
    check(ws.autofilter(0, 0, max(len(batch.rows), 1), len(COLUMNS) - 1), "roll-up autofilter")
    try:
        wb.close()
    except (xlsxwriter.exceptions.XlsxWriterException, OSError) as exc:
        raise write_failed(path, exc) from None  # atomic_path names the roll-up, not this temporary file
