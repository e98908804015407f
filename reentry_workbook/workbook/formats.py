"""Cell formats, the return-code check and value writing shared by every sheet the generator writes."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from ..errors import OutputError
from ..plan.schema import Kind

# Colours, shared with the Start Here legend.
HEADER_FILL = "#1F4E78"
REQUIRED_BLANK_FILL = "#FFE699"
OVERDUE_FILL = "#F4B6B6"
OVERDUE_FONT = "#7F0000"
CONTEXT_FILL = "#D9D9D9"
DERIVED_FONT = "#595959"
DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = '"$"#,##0'
LINE_HEIGHT = 15  # points per line of wrapped 11-point text


# Options of every workbook the toolkit writes: text stays text (never a formula, number or link).
WORKBOOK_OPTIONS: dict[str, Any] = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


class GenerationError(OutputError):
    """XlsxWriter refused a call: a bug in the generator (or text longer than a cell can hold)."""


def check(rc: int | None, what: str) -> None:
    """Raise when an XlsxWriter call reports failure (it returns -1 or -2 and writes nothing)."""
    if rc not in (None, 0):
        raise GenerationError(f"could not write {what} (XlsxWriter returned {rc}); please report this with the input")


# XlsxWriter's own numbering, asked for cells written outside it (rows a graft writes straight into a sheet,
# :mod:`xlsx.direct_rows`; the generator's data rows, :mod:`direct_cells`). These two functions are the only
# places that reach into XlsxWriter's private API.


def xf_index(fmt: Format) -> int:
    """The index ``fmt`` has among the workbook's cell formats.

    XlsxWriter numbers a format when a cell first uses it; ``_get_xf_index`` is that numbering, asked for now
    (the index holds once given, and the format is then written with the workbook)."""
    return int(fmt._get_xf_index())


def shared_strings(book: xlsxwriter.Workbook) -> Callable[[str], int]:
    """The function giving a text's index in the workbook's shared strings, adding it when it is new.

    ``write_string`` stores text the same way: each call counts one use, and the workbook writes (and escapes)
    every string of its table when it is closed."""
    return book.str_table._get_shared_string_index


class Formats:
    """The cell formats of one workbook, each made once; ``get`` makes any other look on demand."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self._book = book
        self._cache: dict[tuple[tuple[str, Any], ...], Format] = {}

    def get(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self._book.add_format(dict(props))
        return self._cache[key]

    @property
    def header(self) -> Format:
        return self.get(bold=True, font_color="#FFFFFF", bg_color=HEADER_FILL, text_wrap=True, valign="top", border=1)

    @property
    def title(self) -> Format:
        return self.get(bold=True, font_size=16, font_color=HEADER_FILL)

    @property
    def heading(self) -> Format:
        return self.get(bold=True, font_size=12, font_color=HEADER_FILL, bottom=1)

    @property
    def bold(self) -> Format:
        return self.get(bold=True, valign="top", text_wrap=True)

    @property
    def wrap(self) -> Format:
        return self.get(text_wrap=True, valign="top")

    @property
    def date(self) -> Format:
        return self.get(num_format=DATE_FORMAT, valign="top", align="left")

    @property
    def required_blank(self) -> Format:
        """Conditional format: a required cell left blank."""
        return self.get(bg_color=REQUIRED_BLANK_FILL)

    @property
    def overdue(self) -> Format:
        """Conditional format: an action step past its due date and not closed."""
        return self.get(bg_color=OVERDUE_FILL, font_color=OVERDUE_FONT)

    @property
    def context(self) -> Format:
        return self.get(bg_color=CONTEXT_FILL, text_wrap=True, valign="top")

    def cell(self, kind: Kind, *, context: bool = False, date_value: bool = False) -> Format:
        """The format of a data cell of a column of this kind (grey when the row is context only)."""
        props: dict[str, Any] = {"valign": "top"}
        if kind is Kind.DATE or date_value:
            props.update(num_format=DATE_FORMAT, align="left")
        elif kind is Kind.MONEY:
            props["num_format"] = MONEY_FORMAT
        elif kind is Kind.NUMBER:
            pass
        else:
            props["text_wrap"] = True
        if kind is Kind.ID:
            props["bold"] = True
        if kind is Kind.DERIVED:
            props.update(italic=True, font_color=DERIVED_FONT)
        if context:
            props["bg_color"] = CONTEXT_FILL
        return self.get(**props)


def write_value(ws: Worksheet, row: int, col: int, value: Any, fmt: Format, date_fmt: Format) -> None:
    """Write one plan value by its type; text always as a string, never as a formula."""
    if value is None or value == "":
        rc = ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        rc = ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, dt.date):
        rc = ws.write_datetime(row, col, value, date_fmt)
    elif isinstance(value, (int, float)):
        rc = ws.write_number(row, col, value, fmt)
    else:
        rc = ws.write_string(row, col, str(value), fmt)
    if rc:
        check(rc, f"{ws.get_name()}!{xl_col_to_name(col)}{row + 1}")


# Characters XML 1.0 cannot hold. XlsxWriter escapes them in text cells, not in cached formula results.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def cached_result(text: str) -> str:
    """A formula's cached result as XML can hold it (the app recalculates the exact text on opening)."""
    return _NOT_XML.sub("", text)


def wraps(kind: Kind) -> bool:
    return kind not in (Kind.DATE, Kind.NUMBER, Kind.MONEY)


def line_room(width: float) -> int:
    """Characters of wrapped text that fit on one line of a column this wide (Calibri 11)."""
    return max(4, int(width * 1.1) - 1)


def text_lines(value: Any, width: float) -> int:
    """About how many lines a wrapped text takes in a column of this width (Calibri 11)."""
    if not isinstance(value, str) or not value:
        return 1
    per_line = line_room(width)
    if len(value) <= per_line and "\n" not in value:
        return 1
    return sum(max(1, _wrapped_count(part, per_line)) for part in value.split("\n"))


_SPACES_OR_WORD = re.compile(r" +|[^ ]+")
# What makes textwrap split a word or a line other than at plain spaces: other white space, a hyphen before a
# letter (a hyphenated word), two hyphens (an em-dash).
_SPLITS_ELSEWHERE = re.compile(r"[^\S ]|-(?:-|[^\d\W])")


def _wrapped_count(text: str, width: int) -> int:
    """``len(textwrap.wrap(text, width))``, counted without building the lines when textwrap would split the
    text only at plain spaces (almost all plan text): its chunks are then the runs of spaces and of other
    characters, and textwrap's greedy filling is followed step by step (a chunk longer than a line is broken at
    the line's end, or after its last hyphen that fits, as textwrap does)."""
    if _SPLITS_ELSEWHERE.search(text):
        return len(textwrap.wrap(text, width))
    sizes = [len(word) for word in text.split(" ")]
    if max(sizes) <= width and 0 not in sizes:
        # Words one space apart, none longer than a line: a word goes on the line when it fits after a space.
        lines, used = 1, sizes[0]
        for size in sizes[1:]:
            if used + 1 + size <= width:
                used += 1 + size
            else:
                lines, used = lines + 1, size
        return lines
    chunks = _SPACES_OR_WORD.findall(text)
    chunks.reverse()
    lines = 0
    while chunks:
        if lines and chunks[-1][0] == " ":
            chunks.pop()  # white space at the start of a line after the first is dropped
        used = 0
        line: list[str] = []
        while chunks and used + len(chunks[-1]) <= width:
            used += len(chunks[-1])
            line.append(chunks.pop())
        if chunks and len(chunks[-1]) > width:  # a chunk longer than a line is broken where the line ends
            chunk = chunks[-1]
            end = width - used
            hyphen = chunk.rfind("-", 0, end)
            if hyphen > 0 and chunk[:hyphen].strip("-"):
                end = hyphen + 1
            line.append(chunk[:end])
            chunks[-1] = chunk[end:]
        if line and not line[-1].strip():
            line.pop()  # white space at the end of a line is dropped
        if line:
            lines += 1
    return lines


def fitted_height(cells: Iterable[tuple[Any, float]]) -> int | None:
    """The height in points a row with wrapped text needs (None when one line is enough).

    Excel grows such rows by itself, but LibreOffice keeps the stored height when it opens an .xlsx, and
    the text would be cut off there.
    """
    lines = max((text_lines(value, width) for value, width in cells), default=1)
    return LINE_HEIGHT * lines if lines > 1 else None


def fit_row(ws: Worksheet, row: int, cells: Iterable[tuple[Any, float]]) -> None:
    """Give a row with wrapped text the height it needs (:func:`fitted_height`)."""
    height = fitted_height(cells)
    if height is not None:
        check(ws.set_row(row, height), f"height of {ws.get_name()} row {row + 1}")
