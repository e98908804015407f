"""The roll-up workbook of a batch audit: one row per file, with a link to its audited copy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import xlsxwriter
import xlsxwriter.exceptions

from ..errors import OutputError
from ..workbook.formats import WORKBOOK_OPTIONS, check

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
    ("Reason it could not be audited", 60),
)


def write_rollup(batch: BatchResult, path: Path, *, folder: Path) -> None:
    """Write ``batch`` to ``path``; links to audited copies are relative to ``folder`` (the file's home)."""
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    ws = wb.add_worksheet(ROLLUP_SHEET)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top", "border": 1})
    pct = wb.add_format({"num_format": "0%"})
    link = wb.add_format({"font_color": "#0563C1", "underline": 1})
    bad = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE", "text_wrap": True})
    for col, (title, width) in enumerate(COLUMNS):
        check(ws.write_string(0, col, title, head), "roll-up write_string")
        check(ws.set_column(col, col, width), "roll-up set_column")
    for i, row in enumerate(batch.rows, start=1):
        check(ws.write_string(i, 0, row.file.name), "roll-up write_string")
        if row.reason:
            check(ws.write_string(i, 9, row.reason, bad), "roll-up write_string")
            continue
        check(ws.write_string(i, 1, row.coalition), "roll-up write_string")
        check(ws.write_number(i, 2, row.responsible), "roll-up write_number")
        for col, value in ((3, row.alignment), (4, row.completeness)):
            if value is not None:
                check(ws.write_number(i, col, value, pct), "roll-up write_number")
        check(ws.write_number(i, 5, row.counts.get("error", 0)), "roll-up write_number")
        check(ws.write_number(i, 6, row.counts.get("warning", 0)), "roll-up write_number")
        check(ws.write_number(i, 7, row.overdue), "roll-up write_number")
        if row.output is not None:
            target = Path(os.path.relpath(row.output.resolve(), folder.resolve())).as_posix()
            check(ws.write_url(i, 8, f"external:{target}", link, string=row.output.name), "roll-up write_url")
    check(ws.freeze_panes(1, 1), "roll-up freeze_panes")
    check(ws.autofilter(0, 0, max(len(batch.rows), 1), len(COLUMNS) - 1), "roll-up autofilter")
    try:
        wb.close()
    except (xlsxwriter.exceptions.XlsxWriterException, OSError) as exc:
        raise OutputError(
            f"could not write the roll-up workbook in {folder} ({exc}); check the disk and the folder, then try again"
        ) from None
