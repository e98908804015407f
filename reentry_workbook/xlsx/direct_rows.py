"""Rows a graft writes straight into the sheet it adds, as XML, instead of taking them from the scratch workbook.

A long table (the summary's findings, a merge's log) is most of a scratch sheet's cells, and a scratch writer
spends its time per cell, as does the graft when it restyles each cell and writes its shared string inline.
Such a table is handed to :func:`package.graft_sheets` as :class:`DirectRows` instead: text and numbers, each
cell with a style index of the scratch workbook. The graft writes them below the scratch sheet's own rows, with
the member's style indices and inline strings, and brings the sheet's dimension and hyperlinks up to date.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ..errors import OutputError
from .limits import MAX_COLUMNS, MAX_ROWS
from .refs import cell_ref, column_letter, parse_range
from .xmltext import escape_attr, escape_text, number_text

_COLUMN = operator.itemgetter(0)  # of a Cell
MAX_CELL_TEXT = 32_767  # Excel's limit for the text of one cell, in UTF-16 code units (see cell_length)
MAX_ROW_HEIGHT = 409  # points

# One cell: (0-based column, style index in the scratch workbook, value). A blank value ("" or None) writes a
# styled empty cell (its borders and fill still show).
Cell = tuple[int, int, "str | int | float | None"]


@dataclass
class DirectRows:
    """Rows below every row of the scratch sheet: ``rows[i]`` is sheet row ``first + i`` (0-based)."""

    first: int
    rows: list[Sequence[Cell]] = field(default_factory=list)
    heights: dict[int, float] = field(default_factory=dict)  # 0-based sheet row -> height in points
    # Links within the workbook: (0-based row, column, location as 'Sheet'!B5, tooltip, the cell's text).
    links: list[tuple[int, int, str, str, str]] = field(default_factory=list)

    @property
    def last(self) -> int:
        """The 0-based index of the last row (``first - 1`` when there are none)."""
        return self.first + len(self.rows) - 1

    def width(self) -> int:
        """The number of columns the rows reach."""
        return max((max(map(_COLUMN, row)) + 1 for row in self.rows if row), default=0)


def cell_length(text: str) -> int:
    """The length of ``text`` as Excel counts it against :data:`MAX_CELL_TEXT`: in UTF-16 code units (a character
    beyond the Basic Multilingual Plane, an emoji say, counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def row_height(points: float, limit: float | None = MAX_ROW_HEIGHT) -> str:
    """A row height as spreadsheet apps store it: whole pixels at 96 dpi, written in points (at most ``limit``)."""
    pixels = round((points if limit is None else min(points, limit)) * 4 / 3)
    return format(pixels * 0.75, "g")


ROWS_PER_PIECE = 2_000  # rows rendered into one piece of text (a long table is never rendered whole)


def rendered_rows(rows: DirectRows, style_map: dict[int, int], prefix: str) -> Iterator[str]:
    """The XML of ``rows`` (``<row>`` elements), with the member's style indices (``style_map``: scratch index ->
    member index) and ``prefix`` for the spreadsheet namespace, a piece of text per :data:`ROWS_PER_PIECE` rows."""
    p = prefix
    texts: dict[str, str] = {}  # text -> its inline-string content and the cell's end (tables repeat their text)
    # What every cell of a (column, style) is written with around its row number: worked out once.
    heads: dict[tuple[int, int], tuple[str, str, str, str]] = {}
    parts: list[str] = []
    for offset, cells in enumerate(rows.rows):
        if offset % ROWS_PER_PIECE == 0 and parts:
            yield "".join(parts)
            parts = []
        r = rows.first + offset
        number = str(r + 1)
        height = rows.heights.get(r)
        if not cells and height is None:
            continue  # a gap in the table
        if height is None:
            parts.append(f'<{p}row r="{number}">')
        else:
            parts.append(f'<{p}row r="{number}" ht="{row_height(height)}" customHeight="1">')
        for col, style, value in cells:
            head = heads.get((col, style))
            if head is None:
                new = style_map.get(style)
                if new is None:
                    raise OutputError(f"a table row uses an unknown style {style}; please report this")
                s = f' s="{new}"' if new else ""
                head = (f'<{p}c r="{column_letter(col)}', f'"{s}/>', f'"{s} t="inlineStr">', f'"{s}><{p}v>')
                heads[(col, style)] = head
            if value.__class__ is str and value:
                content = texts.get(value)
                if content is None:
                    text = value[:MAX_CELL_TEXT]
                    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
                    content = f"<{p}is><{p}t{space}>{escape_text(text)}</{p}t></{p}is></{p}c>"
                    texts[value] = content
                parts += (head[0], number, head[2], content)
            elif value is None or value == "":
                parts += (head[0], number, head[1])
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                parts += (head[0], number, head[3], number_text(value), f"</{p}v></{p}c>")
            else:
                raise OutputError(f"a table row holds a {type(value).__name__} value; please report this")
        parts.append(f"</{p}row>")
    if parts:
        yield "".join(parts)


def render_links(rows: DirectRows, prefix: str) -> str:
    """The ``<hyperlink>`` elements of the links of ``rows``."""
    p = prefix
    return "".join(
        f'<{p}hyperlink ref="{column_letter(col)}{r + 1}" location="{escape_attr(location)}" '
        f'tooltip="{escape_attr(tip[:255])}" display="{escape_attr(shown[:255])}"/>'
        for r, col, location, tip, shown in rows.links
    )


# Elements of a worksheet that come after <hyperlinks>, in the schema's order (a new <hyperlinks> goes before the
# first of them present, else before the end tag).
_AFTER_HYPERLINKS = (
    "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties",
    "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF",
    "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst",
)
_ROW_NUMBER = re.compile(r'<(?:\w+:)?row r="(\d+)"')
_DIMENSION = re.compile(r'(<(?:\w+:)?dimension ref=")([^"]*)(")')


def splice_rows(text: str, rows: DirectRows, style_map: dict[int, int], prefix: str) -> str:
    """The worksheet XML ``text`` (as a scratch writer writes it: plain, one prefix) with ``rows`` added at the end
    of its sheet data, its dimension covering them and their links among its hyperlinks."""
    return "".join(spliced_rows(text, rows, style_map, prefix))


def spliced_rows(text: str, rows: DirectRows, style_map: dict[int, int], prefix: str) -> Iterator[str]:
    """:func:`splice_rows` in pieces: the sheet up to the new rows, the rows a piece at a time, then the rest (so a
    long table's XML is never held whole: each piece can be encoded and deflated as it comes)."""
    if not rows.rows:
        return iter((text,))
    width = rows.width()
    check_grid(rows.last, width, f"a table of {len(rows.rows):,} rows")
    head, tail = splice_ends(text, prefix, first=rows.first, last=rows.last, width=width,
                             links=render_links(rows, prefix))
    return itertools.chain((head,), rendered_rows(rows, style_map, prefix), (tail,))


def check_grid(last: int, width: int, what: str) -> None:
    """Refuse rows that would end past 0-based row ``last`` or reach past ``width`` columns of a worksheet."""
    if last >= MAX_ROWS or width > MAX_COLUMNS:
        raise OutputError(
            f"{what} would run past the last row or column a worksheet can have ({MAX_ROWS:,} rows, "
            f"{MAX_COLUMNS:,} columns); split the work into smaller parts and try again"
        )


def splice_body(text: str, body: str, prefix: str, *, first: int, last: int, width: int, links: str = "") -> str:
    """The worksheet XML ``text`` with ``body`` (``<row>`` elements, rendered, from 0-based row ``first`` to ``last``
    and ``width`` columns wide) added at the end of its sheet data, its dimension covering them and ``links``
    (``<hyperlink>`` elements) among its hyperlinks.

    The scratch sheet's own rows must end above ``first``, but for empty ``<row .../>`` elements (a scratch writer
    writes one for a row that only has a height or a cell note): those are dropped, and ``body`` must hold the
    same rows, with the same height."""
    head, tail = splice_ends(text, prefix, first=first, last=last, width=width, links=links)
    return head + body + tail


def splice_ends(text: str, prefix: str, *, first: int, last: int, width: int, links: str = "") -> tuple[str, str]:
    """What goes before and after the rows :func:`splice_body` adds: the sheet up to the end of its sheet data (its
    dimension grown), and from there on (``links`` among its hyperlinks)."""
    p = prefix
    end_tag = f"</{p}sheetData>"
    end = text.find(end_tag)
    if end < 0:
        empty = text.find(f"<{p}sheetData/>")
        if empty < 0:
            raise OutputError("the scratch sheet has no sheet data to add rows to; please report this")
        text = f"{text[:empty]}<{p}sheetData>{end_tag}{text[empty + len(p) + 12:]}"
        end = empty + len(p) + 11
    head, cut = [], 0
    for m in _ROW_NUMBER.finditer(text, 0, end):
        if int(m[1]) <= first:
            continue
        close = text.find(">", m.end())
        if text[close - 1] != "/":
            raise OutputError("the table rows would overlap the scratch sheet's own rows; please report this")
        head.append(text[cut : m.start()])
        cut = close + 1
    if head:  # empty rows at or below the first new row dropped
        head.append(text[cut:end])
        text = "".join(head) + text[end:]
        end = text.find(end_tag)
    head_text = _DIMENSION.sub(lambda m: _dimension(m, last, width), text[:end], count=1)
    tail = text[end:]  # the end of the sheet data and what follows it, <hyperlinks> among it
    if links:
        close = tail.find(f"</{p}hyperlinks>")
        if close >= 0:
            tail = tail[:close] + links + tail[close:]
        else:
            at = _first_of(tail, [f"<{p}{local}" for local in _AFTER_HYPERLINKS])
            if at is None:
                at = tail.rfind(f"</{p}worksheet>")
            tail = f"{tail[:at]}<{p}hyperlinks>{links}</{p}hyperlinks>{tail[at:]}"
    return head_text, tail


def _dimension(m: re.Match[str], last: int, width: int) -> str:
    """The sheet's ``<dimension>`` grown to take in rows down to ``last`` and ``width`` columns wide (left as it is
    when it does not read as a range)."""
    area = parse_range(m[2])
    if area is None:
        return m[0]
    r1, c1, r2, c2 = area
    grown = f"{cell_ref(r1, c1)}:{cell_ref(max(r2, last), max(c2, width - 1))}"
    return f"{m[1]}{grown}{m[3]}"


def _first_of(text: str, tags: list[str]) -> int | None:
    """The offset of the first of ``tags`` (start-tag openings) found in ``text``, by position."""
    found = []
    for tag in tags:
        at = text.find(tag)
        while at >= 0 and text[at + len(tag)] not in " />":
            at = text.find(tag, at + 1)
        if at >= 0:
            found.append(at)
    return min(found, default=None)
