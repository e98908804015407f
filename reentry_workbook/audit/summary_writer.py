"""The writer of the Alignment Summary's scratch sheet: its formats, and writes that check XlsxWriter's return codes.

From the row :meth:`SheetWriter.rows_from` names on, the cells go instead to rows the graft writes straight into
the copy (:class:`DirectRows`): the tables that grow with the plan. Rows whose wrapped text needs more than one
line get their height either way.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ..errors import OutputError
from ..workbook.formats import xf_index
from ..xlsx.direct_rows import MAX_CELL_TEXT, MAX_ROW_HEIGHT, Cell, DirectRows

MAX_LINKS = 65_530  # Excel's limit of hyperlinks per worksheet

# Column layout, shared by every table on the sheet: A short, B and C wide text, D..I figures.
COLUMN_WIDTHS: tuple[float, ...] = (18, 50, 40, 14, 14, 12, 26, 12, 12, 13, 13)

SEVERITY_COLOURS: dict[str, tuple[str, str]] = {  # (fill, font)
    "error": ("#FFC7CE", "#9C0006"),
    "warning": ("#FFEB9C", "#7F6000"),
    "info": ("#DDEBF7", "#1F4E78"),
}
RAG_COLOURS: dict[str, tuple[str, str]] = {
    "red": ("#FFC7CE", "#9C0006"),
    "amber": ("#FFEB9C", "#7F6000"),
    "green": ("#C6EFCE", "#006100"),
}

ACCENT = "#1F4E78"


class SheetWriter:
    """The summary worksheet plus its formats; every write checks XlsxWriter's return code."""

    def __init__(self, workbook: xlsxwriter.Workbook, worksheet: Worksheet) -> None:
        self.wb = workbook
        self.ws = worksheet
        self.links = 0
        self.lines: dict[int, int] = {}  # row -> lines of wrapped text it needs
        # From its first row on, the cells go to rows the graft writes straight into the copy: the long tables.
        self.direct: DirectRows | None = None
        self._xf: dict[int, int] = {}  # id(format) -> its style index
        base = {"font_name": "Calibri", "font_size": 11, "valign": "top"}
        cell = {**base, "border": 1, "border_color": "#BFBFBF"}

        def fmt(start: dict[str, Any], **props: Any) -> Format:
            return workbook.add_format({**start, **props})

        self.title = fmt(base, bold=True, font_size=18, font_color=ACCENT, valign="vcenter")
        self.subtitle = fmt(base, italic=True, font_color="#595959")
        self.section = fmt(base, bold=True, font_size=13, font_color=ACCENT, bottom=2, bottom_color=ACCENT)
        self.label = fmt(base, bold=True)
        self.value = fmt(base, align="left", text_wrap=True)
        self.date = fmt(base, align="left", num_format="yyyy-mm-dd")
        self.datetime = fmt(base, align="left", num_format="yyyy-mm-dd hh:mm")
        self.big_percent = fmt(base, bold=True, font_size=14, align="left", num_format=9)  # 0%
        self.big_text = fmt(base, bold=True, font_size=14, align="left")
        self.note = fmt(base, italic=True, font_color="#595959", text_wrap=True)
        self.remark = fmt(base, italic=True, font_color="#595959")  # one line, may run into empty cells
        self.header = fmt(cell, bold=True, bg_color="#DDEBF7", text_wrap=True, valign="bottom")
        self.header_number = fmt(cell, bold=True, bg_color="#DDEBF7", text_wrap=True, align="right",
                                 valign="bottom")
        self.text = fmt(cell, text_wrap=True)
        self.code = fmt(cell)  # short codes (IDs, slugs, sheet names): no wrap
        self.count = fmt(cell, num_format="0")
        self.money = fmt(cell, num_format="$#,##0")
        self.share = fmt(cell, num_format=9)  # 0%
        self.day = fmt(cell, num_format="yyyy-mm-dd", align="left")
        self.link = fmt(cell, font_color="#0563C1", underline=1)
        self.severity = {s: fmt(cell, bold=True, bg_color=bg, font_color=fg)
                         for s, (bg, fg) in SEVERITY_COLOURS.items()}
        self.big_severity = {s: fmt(base, bold=True, font_size=14, align="left", bg_color=bg, font_color=fg)
                             for s, (bg, fg) in SEVERITY_COLOURS.items()}
        self.rag = {r: fmt(cell, bold=True, bg_color=bg, font_color=fg) for r, (bg, fg) in RAG_COLOURS.items()}
        self.answer = {r: fmt(cell, bold=True, bg_color=bg, font_color=fg, text_wrap=True)
                       for r, (bg, fg) in RAG_COLOURS.items()}
        self.wrapping = {id(f) for f in (self.value, self.note, self.header, self.header_number, self.text,
                                         *self.answer.values())}

    # -- checked writes -------------------------------------------------------------------------------

    def check(self, rc: int, what: str, row: int, col: int) -> None:
        if rc != 0:
            raise OutputError(
                f"could not write {what} at row {row + 1}, column {col + 1} of the summary sheet "
                f"(XlsxWriter code {rc}); please report this with the workbook"
            )

    def string(self, row: int, col: int, text: object, fmt: Format | None = None) -> None:
        """Text, always as text (never a formula, number or URL), cut to Excel's cell limit."""
        value = "" if text is None else str(text)
        value = value[:MAX_CELL_TEXT]
        if self.direct is not None and row >= self.direct.first:
            self.direct_row(row).append((col, self.xf(fmt), value))
        elif value == "":
            self.check(self.ws.write_blank(row, col, None, fmt), "a blank cell", row, col)
            return
        else:
            self.check(self.ws.write_string(row, col, value, fmt), "text", row, col)
        if value and id(fmt) in self.wrapping and col < len(COLUMN_WIDTHS):
            self.lines[row] = max(self.lines.get(row, 1), wrapped_lines(value, COLUMN_WIDTHS[col]))

    def fit_rows(self) -> None:
        """Give rows with wrapped text the height their text needs.

        Excel and LibreOffice do not reliably grow rows on opening a file, so the heights are written.
        """
        for row, lines in sorted(self.lines.items()):
            if lines <= 1:
                continue
            if self.direct is not None and row >= self.direct.first:
                self.direct.heights[row] = row_points(lines)
            else:
                self.check(self.ws.set_row(row, row_points(lines)), "a row height", row, 0)

    def number(self, row: int, col: int, value: float, fmt: Format | None = None) -> None:
        if self.direct is not None and row >= self.direct.first:
            self.direct_row(row).append((col, self.xf(fmt), value))
            return
        self.check(self.ws.write_number(row, col, value, fmt), "a number", row, col)

    def rows_from(self, first: int) -> DirectRows:
        """Send the cells of row ``first`` and below to rows the graft writes into the copy (:class:`DirectRows`):
        the long tables, whose cells would each cost the scratch writer and then the graft their time."""
        self.direct = DirectRows(first)
        return self.direct

    def direct_row(self, row: int) -> list[Cell]:
        """The cells of ``row``, one of the rows the graft writes."""
        assert self.direct is not None and row >= self.direct.first
        rows, at = self.direct.rows, row - self.direct.first
        if at >= len(rows):
            rows.extend([] for _ in range(at + 1 - len(rows)))
        cells = rows[at]
        if not isinstance(cells, list):
            cells = rows[at] = list(cells)
        return cells

    def xf(self, fmt: Format | None) -> int:
        """The style index of ``fmt`` in the scratch workbook (0, the default, for none)."""
        if fmt is None:
            return 0
        found = self._xf.get(id(fmt))
        if found is None:
            found = self._xf[id(fmt)] = xf_index(fmt)
        return found

    def when(self, row: int, col: int, value: dt.date | dt.datetime, fmt: Format) -> None:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)  # keep the wall-clock time the audit recorded
        self.check(self.ws.write_datetime(row, col, value, fmt), "a date", row, col)

    def headers(self, row: int, first_col: int, names: Sequence[str], numeric_from: int) -> None:
        for i, name in enumerate(names):
            fmt = self.header_number if i >= numeric_from else self.header
            self.string(row, first_col + i, name, fmt)

    def insert_chart(self, row: int, col: int, chart: Any, alt_text: str) -> None:
        """A chart whose alt text (``alt_text``) says what it shows for people who cannot see it."""
        options = {"x_offset": 8, "y_offset": 4, "description": alt_text}
        self.check(self.ws.insert_chart(row, col, chart, options), "a chart", row, col)


def quote_sheet(name: str) -> str:
    """A sheet name as a formula or link reference needs it: in single quotes, inner quotes doubled."""
    return "'" + name.replace("'", "''") + "'"


def row_points(lines: int) -> float:
    """The height in points of a row whose wrapped text takes ``lines`` lines."""
    return min(MAX_ROW_HEIGHT, 15 * lines + 2)


@functools.lru_cache(maxsize=256)
def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes in a wrapping column ``width`` characters wide (a safe estimate).

    Column widths count the digit 0 of the default font; ordinary text runs about 15% narrower. Kept for the
    texts met again (a rule's fix repeats on every finding of the rule).
    """
    room = max(1, int(width * 1.15) - 1)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        if len(paragraph) <= room:
            continue  # its words and the spaces between them fit on the line
        used = 0
        for word in paragraph.split():
            size = len(word)
            if used and used + 1 + size > room:
                lines += 1
                used = 0
            if used:
                used += 1
            while size > room:  # a word longer than the column breaks anywhere
                lines += 1
                size -= room
            used += size
    return max(1, lines)
