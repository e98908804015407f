"""The cells of the data sheets and of the hidden Lists sheet, written as worksheet XML instead of one XlsxWriter
call per cell.

A plan of 10,000 steps puts a quarter of a million cells there, and XlsxWriter spends its time on each one (its
checks, a cell object, then escaping the cell's attributes when it writes the sheet). It still writes everything
else of those sheets (columns, the header row, validations, conditional formats, the filter, notes, print set-up)
and the rest of the workbook; once it has closed the file, :func:`splice` puts these rows into the sheets' parts.

The cells are written as XlsxWriter writes them: text as shared strings of XlsxWriter's own table (which it writes
and escapes with every other string), each cell's style by XlsxWriter's numbering of the same format, numbers and
dates (serial numbers) in a ``<v>``, booleans as ``t="b"``, formulas with their cached results. A value is
checked against Excel's limits as XlsxWriter checks it, and refused with :class:`GenerationError` as before.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter
from xlsxwriter.format import Format

from ..plan import schema
from ..plan.schema import Kind, Sheet
from ..xlsx.direct_rows import MAX_CELL_TEXT, cell_length, check_grid, row_height, splice_body
from ..xlsx.opc import Package
from ..xlsx.refs import column_letter
from ..xlsx.serials import datetime_to_serial
from ..xlsx.workbook_edit import worksheet_parts
from ..xlsx.xmltext import number_text
from ..xlsx.zip_io import write_zip
from .formats import GenerationError, cached_result, fitted_height, line_room, shared_strings, wraps, xf_index

# Cached results XlsxWriter writes as error values rather than text (``t="e"``).
_ERROR_CODES = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"))


@dataclass
class SheetRows:
    """The rows of one sheet from 0-based row ``first`` on, rendered as ``<row>`` elements."""

    first: int
    parts: list[str] = field(default_factory=list)
    last: int = -1  # 0-based row of the last row written
    width: int = 0  # columns the rows reach
    heights: dict[int, int] = field(default_factory=dict)  # 0-based row -> height in points, for rows that have one


class CellsXml:
    """Renders cells of one XlsxWriter workbook: its shared strings and cell formats, each format's index asked for
    once."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.string_index = shared_strings(book)
        self._styles: dict[int, str] = {}

    def style(self, fmt: Format | None) -> str:
        """The ``s`` attribute of a cell in format ``fmt`` (none for the default format)."""
        if fmt is None:
            return ""
        found = self._styles.get(id(fmt))
        if found is None:
            index = xf_index(fmt)
            found = self._styles[id(fmt)] = f' s="{index}"' if index else ""
        return found

    def text(self, text: str) -> str:
        """The cell ending (after its reference and style) of a text cell."""
        if len(text) > MAX_CELL_TEXT // 2 and cell_length(text) > MAX_CELL_TEXT:
            raise Refused(f"its text is longer than the {MAX_CELL_TEXT:,} characters a cell can hold")
        return f' t="s"><v>{self.string_index(text)}</v></c>'

    def value(self, value: Any, style: str, date_style: str) -> str:
        """The cell ending of one plan value, by its type (text always as text, never as a formula)."""
        if value is None or value == "":
            return f"{style}/>"
        if value.__class__ is str:
            return style + self.text(value)
        if isinstance(value, bool):
            return f'{style} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, dt.date):
            return f"{date_style}><v>{number_text(datetime_to_serial(value, False))}</v></c>"
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                raise Refused(f"{value} is not a number a cell can hold")
            return f"{style}><v>{number_text(value)}</v></c>"
        return style + self.text(str(value))


class Refused(ValueError):
    """A value a cell cannot hold (the caller names the cell in a :class:`GenerationError`)."""


def refused(where: str, exc: Refused) -> GenerationError:
    return GenerationError(f"could not write {where}: {exc}; change it in the plan and try again")


def formula_ends(cached: str) -> tuple[str, str]:
    """What a formula cell holds around its formula, after its style: the type of its cached result (as XlsxWriter
    chooses it) and the result itself."""
    if cached == "":
        return "><f>", "</f><v></v></c>"
    kind = "e" if cached in _ERROR_CODES else "str"
    return f' t="{kind}"><f>', f"</f><v>{escape(cached)}</v></c>"


def data_rows(
    cells: CellsXml,
    sheet: Sheet,
    rows: Sequence[Mapping[str, Any]],
    looks: Mapping[bool, Sequence[tuple[Format, Format]]],
    context: Collection[int],
    first: int,
    formulas: Mapping[int, Sequence[str]],
) -> SheetRows:
    """The cells of a data sheet's pre-formatted rows (``rows[i]`` is 0-based row ``first + i``).

    ``looks[in_context][c]`` is column ``c``'s format and its format for a date value; rows whose index is in
    ``context`` take the context look and write every cell. ``formulas`` maps a derived column to its formula's
    pieces (:func:`lists.derived_pieces`). A row whose wrapped text needs more than one line gets its height.
    """
    out = SheetRows(first)
    parts = out.parts
    columns = list(enumerate(sheet.columns))
    letters = [f'<c r="{column_letter(c)}' for c, _col in columns]
    styles = {ctx: [(cells.style(f), cells.style(d)) for f, d in looks[ctx]] for ctx in looks}
    derived = {c: [escape(piece) for piece in formulas[c]] for c, col in columns if col.kind is Kind.DERIVED}
    always = {c for c, col in columns if col.kind is Kind.DATE}
    wrapping = [(col.key, col.width, line_room(col.width)) for col in sheet.columns if wraps(col.kind)]
    known: dict[str, tuple[str, str]] = {}  # cached result -> formula_ends
    string_index, short = cells.string_index, MAX_CELL_TEXT // 2  # text this short always fits in a cell
    last_column = -1
    for offset, values in enumerate(rows):
        r = first + offset
        number = str(r + 1)
        in_context = offset in context
        look = styles[in_context]
        row: list[str] = []
        reached = -1
        for c, col in columns:
            value = values.get(col.key)
            style, date_style = look[c]
            pieces = derived.get(c)
            if pieces is not None:
                cached = cached_result(value or "")
                ends = known.get(cached)
                if ends is None:
                    ends = known[cached] = formula_ends(cached)
                row.append(f'{letters[c]}{number}"{style}{ends[0]}{number.join(pieces)}{ends[1]}')
            elif value.__class__ is str and value and len(value) <= short:  # most cells: text
                row.append(f'{letters[c]}{number}"{style} t="s"><v>{string_index(value)}</v></c>')
            elif in_context or c in always or (value is not None and value != ""):
                try:
                    row.append(f'{letters[c]}{number}"' + cells.value(value, style, date_style))
                except Refused as exc:
                    raise refused(f"{sheet.name} {col.header} {number}", exc) from None
            else:
                continue
            reached = c
        tall = [
            (text, width)
            for key, width, room in wrapping
            if isinstance(text := values.get(key), str) and (len(text) > room or "\n" in text)
        ]
        height = fitted_height(tall) if tall else None
        if height is not None:
            out.heights[r] = height
            # as XlsxWriter's set_row writes it (not capped at 409 points, as the per-cell writer never capped it)
            parts.append(f'<row r="{number}" ht="{row_height(height, None)}" customHeight="1">')
        elif row:
            parts.append(f'<row r="{number}">')
        else:
            continue
        parts.extend(row)
        parts.append("</row>")
        out.last = r
        last_column = max(last_column, reached)
    out.width = last_column + 1
    return out


Formulas = Sequence[tuple[Sequence[str], Sequence[str]]]  # (formula pieces, cached result of each row)


def list_rows(cells: CellsXml, first: int, choices: Sequence[Sequence[str]], formulas: Formulas) -> SheetRows:
    """The cells of the Lists sheet from 0-based row ``first`` on: a column per choice list (its values as text),
    then a column per formula list (``(pieces, cached results)``: the formula of row ``n`` is
    ``str(n).join(pieces)``, one cached result per row)."""
    out = SheetRows(first)
    lengths = [len(values) for values in choices] + [len(cached) for _pieces, cached in formulas]
    count = max(lengths, default=0)
    listed = [(f'<c r="{column_letter(c)}', values) for c, values in enumerate(choices)]
    computed = [
        (f'<c r="{column_letter(c)}', [escape(piece) for piece in pieces], cached)
        for c, (pieces, cached) in enumerate(formulas, start=len(choices))
    ]
    known: dict[str, tuple[str, str]] = {}
    parts = out.parts
    for i in range(count):
        number = str(first + i + 1)
        parts.append(f'<row r="{number}">')
        for head, values in listed:
            if i < len(values):
                try:
                    parts.append(f'{head}{number}"' + cells.text(values[i]))
                except Refused as exc:
                    raise refused(f"{schema.LISTS_SHEET} {number}", exc) from None
        for head, pieces, results in computed:
            if i < len(results):
                result = cached_result(results[i])
                ends = known.get(result)
                if ends is None:
                    ends = known[result] = formula_ends(result)
                parts.append(f'{head}{number}"{ends[0]}{number.join(pieces)}{ends[1]}')
        parts.append("</row>")
    out.last = first + count - 1
    out.width = max((c + 1 for c, length in enumerate(lengths) if length), default=0)
    return out


def splice(path: Path, rows: Mapping[str, SheetRows]) -> None:
    """Put each sheet's ``rows`` into its part of the workbook XlsxWriter wrote at ``path``, rewriting the file
    (the other parts are copied as they are stored)."""
    pkg = Package.read(path)
    parts = worksheet_parts(pkg)
    changed: dict[str, bytes] = {}
    for name, sheet in rows.items():
        if not sheet.parts:
            continue
        check_grid(sheet.last, sheet.width, f"the {name} sheet")
        part = parts[name]
        text = pkg.data[part].decode("utf-8")
        body = "".join(sheet.parts)
        spliced = splice_body(text, body, "", first=sheet.first, last=sheet.last, width=sheet.width)
        changed[part] = spliced.encode("utf-8")
    write_zip(path, pkg.edited(changed, set(), []), pkg.comment)
