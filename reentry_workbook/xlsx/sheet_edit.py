"""Rewrites cells of one worksheet part in place, leaving every other byte of the part as it was.

The part is read with the package layer's offset-keeping tokenizer and edited textually: a changed cell's
``<c>`` element is written again (keeping its attributes as they were written: style, reference, and anything
else), a missing cell or row is inserted where the schema's order puts it, and nothing else is re-serialised.
Rows and cells are located the way the reader locates them, so rows and cells without an ``r`` attribute,
any namespace prefix and both date systems are handled.

What a change can be (:class:`SheetChanges`):

- a value for a cell: text (a shared string appended to the workbook's table, or an inline string when the
  workbook has none), a number, a date (a serial number in the workbook's date system, with a date style:
  the cell's own when it shows dates, else one like it that does), a blank (the cell keeps only its style),
  or a :class:`Formula` with its cached result;
- a new cached result for a formula cell (the formula itself is kept);
- rows appended below the pre-formatted ones: they take the styles of the row above, and the sheet's data
  validation and conditional format ranges (Excel 2010 extensions included) and its dimension grow to cover
  them.

Member text is always written as text, never as a formula.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from .opc import MAIN_NS
from .refs import column_letter, parse_range
from .serials import datetime_to_serial
from .sheet_rows import Row, index_rows, parse_around_cells
from .xmltext import (
    Editor,
    Node,
    Unsupported,
    escape_attr,
    escape_text,
    number_text,
    text_run,
    unescape,
)

Position = tuple[int, int]  # 0-based (row, column)


@dataclass(frozen=True)
class Formula:
    """A formula (without its ``=``) and its cached result: text, or a number."""

    text: str
    result: str | float = ""


CellValue = str | int | float | bool | dt.date | dt.datetime | Formula | None


@dataclass
class SheetChanges:
    """What to change in one worksheet; positions are 0-based (row 0 is worksheet row 1)."""

    cells: dict[Position, CellValue] = field(default_factory=dict)
    results: dict[Position, str | float] = field(default_factory=dict)  # new cached results of formula cells
    appended: set[int] = field(default_factory=set)  # rows added below the pre-formatted ones

    def __bool__(self) -> bool:
        return bool(self.cells or self.results or self.appended)


class Strings(Protocol):
    def index(self, text: str) -> int | None:
        """The shared-string index holding ``text`` (appended when new), or None to write it inline."""


class Styles(Protocol):
    def is_date(self, xf: int) -> bool:
        """True when cell format ``xf`` shows a date."""

    def date_style(self, xf: int) -> int:
        """A cell format like ``xf`` that shows a date (appended to the styles when there is none)."""


@dataclass
class EditReport:
    edit: Editor  # the part's text and the edits made to it (:meth:`Editor.pieces` gives the result in pieces)
    formulas_removed: bool  # a formula cell was overwritten by a value (the calculation chain is stale)

    @property
    def text(self) -> str:
        return self.edit.result()


# -- the edit ---------------------------------------------------------------------------------------------


def edit_sheet(text: str, changes: SheetChanges, *, strings: Strings, styles: Styles, date1904: bool) -> EditReport:
    """``text`` (a worksheet part) with ``changes`` applied; raises the package layer's unsupported error on a
    part it cannot edit safely."""
    root, rows = parse_around_cells(text)
    if not root.is_(MAIN_NS, "worksheet"):
        raise Unsupported("a worksheet part that is not a spreadsheet worksheet")
    data = root.first(MAIN_NS, "sheetData")
    if data is None:
        raise Unsupported("a worksheet without cell data")
    job = _Job(text, root, data, strings, styles, date1904, rows)
    try:
        job.run(changes)
    finally:
        _let_go([root, *(tree for row in job.parsed.values() for tree in row.trees())])
    return EditReport(job.edit, job.formulas_removed)


def _let_go(trees: list[Node]) -> None:
    """Unlink the parsed trees' nodes from their parents (a node and its parent refer to each other), so that the
    trees are freed as soon as the edit is done, by reference counting: a merge edits with the cyclic collector
    resting (:func:`xlsx.bulk.collector_paused`), and a large sheet's changed rows make many nodes."""
    while trees:
        node = trees.pop()
        node.parent = None
        trees.extend(node.children)


class _Job:
    def __init__(self, text: str, root: Node, data: Node, strings: Strings, styles: Styles, date1904: bool,
                 rows: dict[int, tuple[int, int]] | None) -> None:
        self.text = text
        self.root = root
        self.data = data
        self.edit = Editor(text)
        self.strings = strings
        self.styles = styles
        self.date1904 = date1904
        self.p = f"{data.prefix}:" if data.prefix else ""
        # Every row's (start, end) offsets; a row's cells are parsed only when the edit needs them.
        self.parsed: dict[int, Row] = {}
        self.on_demand = rows is not None  # rows parsed one by one, each let go once written (see _done)
        if rows is None:
            self.parsed = index_rows(data)
            rows = {r: (row.node.start, row.node.close_end) for r, row in self.parsed.items()}
        self.rows = rows
        self.models: dict[int, int] = {}  # appended row -> the existing row whose styles it takes
        self.columns = _column_styles(root)
        self.formulas_removed = False

    def run(self, changes: SheetChanges) -> None:
        by_row: dict[int, dict[int, CellValue]] = {}
        for (r, c), value in changes.cells.items():
            by_row.setdefault(r, {})[c] = value
        for r in changes.appended:
            by_row.setdefault(r, {})
        for (r, c), result in changes.results.items():
            row = self._row(r)
            cell = row.cell(c) if row else None
            if cell is not None and (r, c) not in changes.cells:
                self._set_result(cell, result)
        for r in [r for r in self.parsed if r not in by_row]:
            self._done(r)
        existing = sorted(self.rows)
        new_rows: dict[int, list[str]] = {}  # index of the existing row they go before (-1: at the end) -> xml
        for r in sorted(by_row):
            row = self._row(r)
            if row is not None:
                self._write_into(row, r, by_row[r])
                self._done(r)
                continue
            model = self._model_row(r, changes.appended)
            later = bisect.bisect_right(existing, r)
            after = existing[later] if later < len(existing) else -1
            new_rows.setdefault(after, []).append(self._new_row(r, by_row[r], model))
        for after, items in new_rows.items():
            if after < 0:
                self.edit.append_children(self.data, "".join(items))
            else:
                self.edit.insert(self.rows[after][0], "".join(items))
        if changes.appended:
            self._extend_ranges(changes.appended)
        written = [(r, c) for r, cols in by_row.items() for c in cols] + [(r, 0) for r in changes.appended]
        if written:
            self._grow_dimension(written)

    # ---- cells

    def _write_into(self, row: Row, r: int, values: dict[int, CellValue]) -> None:
        tail: list[str] = []  # new cells after the row's last one
        for c, value in sorted(values.items()):
            cell = row.cell(c)
            if cell is not None:
                if cell.first(MAIN_NS, "f") is not None and not isinstance(value, Formula):
                    self.formulas_removed = True
                keep = [a for a in cell.attrs if a.qname not in ("t", "s", "vm", "cm")]
                head = "".join(self.text[a.name_start - 1 : a.span[1] + 1] for a in keep)
                style = _int(cell.get("s"))
                self.edit.replace(cell.start, cell.close_end, self._cell(cell.qname, head, style, value))
                continue
            style = self._inherited_style(row.node, c)
            xml = self._cell(f"{self.p}c", f' r="{column_letter(c)}{r + 1}"', style, value)
            later = next((col for col in row.columns() if col > c), None)
            if later is not None:
                self.edit.insert(row.start_of(later), xml)
            else:
                tail.append(xml)
        if tail:  # one edit: an empty row element is opened up once
            self.edit.append_children(row.node, "".join(tail))

    def _cell(self, qname: str, head: str, style: int | None, value: CellValue) -> str:
        """A whole ``<c>`` element; ``head`` holds its attributes other than ``s`` and ``t`` (as written)."""
        kind, content = "", ""
        if isinstance(value, Formula):
            kind, result = _result(value.result)
            content = f"<{self.p}f>{escape_text(value.text)}</{self.p}f><{self.p}v>{result}</{self.p}v>"
        elif isinstance(value, bool):
            kind, content = "b", f"<{self.p}v>{int(value)}</{self.p}v>"
        elif isinstance(value, (int, float)):
            content = f"<{self.p}v>{number_text(value)}</{self.p}v>"
        elif isinstance(value, (dt.date, dt.datetime)):
            if not self.styles.is_date(style or 0):
                style = self.styles.date_style(style or 0)
            content = f"<{self.p}v>{number_text(datetime_to_serial(value, self.date1904))}</{self.p}v>"
        elif value is not None and value != "":
            index = self.strings.index(str(value))
            if index is None:
                kind, content = "inlineStr", f"<{self.p}is>{text_run(self.p, str(value))}</{self.p}is>"
            else:
                kind, content = "s", f"<{self.p}v>{index}</{self.p}v>"
        attrs = head + (f' s="{style}"' if style else "") + (f' t="{kind}"' if kind else "")
        return f"<{qname}{attrs}>{content}</{qname}>" if content else f"<{qname}{attrs}/>"

    def _set_result(self, cell: Node, result: str | float) -> None:
        formula = cell.first(MAIN_NS, "f")
        if formula is None:
            return
        kind, text = _result(result)
        old_v = cell.first(MAIN_NS, "v")
        old_text = unescape(self.text[old_v.end : old_v.close_start]) if old_v is not None and not old_v.empty else ""
        if (cell.get("t") or "") == kind and old_text == unescape(text):
            return
        keep = [a for a in cell.attrs if a.qname not in ("t", "vm", "cm")]
        head = "".join(self.text[a.name_start - 1 : a.span[1] + 1] for a in keep)
        parts = [self.text[formula.start : formula.close_end], f"<{self.p}v>{text}</{self.p}v>"]
        parts += [self.text[ch.start : ch.close_end] for ch in cell.children if ch.local not in ("v", "is", "f")]
        t = f' t="{kind}"' if kind else ""
        self.edit.replace(cell.start, cell.close_end, f"<{cell.qname}{head}{t}>{''.join(parts)}</{cell.qname}>")

    def _inherited_style(self, row: Node, c: int) -> int | None:
        """The style a cell that is not written takes: its row's (when the row is formatted), else its column's."""
        if (row.get("customFormat") or "").strip() in ("1", "true"):
            found = _int(row.get("s"))
            if found is not None:
                return found
        return next((style for lo, hi, style in self.columns if lo <= c <= hi), None)

    # ---- rows

    def _model_row(self, r: int, appended: set[int]) -> Row | None:
        """The row whose styles an appended row takes: the nearest existing row above, across appended ones."""
        if r not in appended:
            return None
        above = r - 1
        while above in appended and above not in self.rows:
            if above in self.models:  # rows appended one under another share the row above the first
                above = self.models[above]
                break
            above -= 1
        self.models[r] = above
        return self._row(above)

    def _row(self, r: int) -> Row | None:
        """Row ``r`` with its cells (parsed now, when the part was parsed around its cell data)."""
        found = self.parsed.get(r)
        if found is None and r in self.rows:
            start, end = self.rows[r]
            found = self.parsed[r] = Row.around_cells(self.text, start, end, self.data.nsmap)
        return found

    def _done(self, r: int) -> None:
        """Let row ``r`` go once its edits are made (they hold text and offsets, never nodes): a large merge changes
        thousands of rows, whose parsed cells held together cost some 90 MB at 50,000 steps. (Parsed again should a
        row appended below take its styles.)"""
        row = self.parsed.pop(r, None) if self.on_demand else None
        if row is not None:
            _let_go(row.trees())

    def _new_row(self, r: int, values: dict[int, CellValue], model: Row | None) -> str:
        attrs = f' r="{r + 1}"'
        styles: dict[int, int | None] = {}
        if model is not None:
            for name in ("s", "customFormat"):
                found = model.node.get(name)
                if found is not None:
                    attrs += f' {name}="{escape_attr(found)}"'
            model_cells = {c: model.cell(c) for c in model.columns()}
            styles = {
                c: _int(n.get("s")) for c, n in model_cells.items() if n is not None and n.get("s") is not None
            }
        cells = []
        for c in sorted(set(values) | set(styles)):
            style = styles.get(c)
            if style is None and model is None:
                style = next((s for lo, hi, s in self.columns if lo <= c <= hi), None)
            cells.append(self._cell(f"{self.p}c", f' r="{column_letter(c)}{r + 1}"', style, values.get(c)))
        tag = f"{self.p}row"
        return f"<{tag}{attrs}>{''.join(cells)}</{tag}>" if cells else f"<{tag}{attrs}/>"

    # ---- ranges

    def _extend_ranges(self, appended: set[int]) -> None:
        for node in self.root.iter():
            if node.local in ("dataValidation", "conditionalFormatting") and node.attr("sqref") is not None:
                a = node.attr("sqref")
                assert a is not None
                grown = _grow_sqref(a.value, appended)
                if grown != a.value:
                    self.edit.replace(a.span[0], a.span[1], escape_attr(grown))
            elif node.local == "sqref" and not node.empty and not node.children:
                raw = self.text[node.end : node.close_start]
                grown = _grow_sqref(unescape(raw), appended)
                if grown != unescape(raw):
                    self.edit.replace(node.end, node.close_start, escape_text(grown))

    def _grow_dimension(self, written: list[Position]) -> None:
        node = self.root.first(MAIN_NS, "dimension")
        a = node.attr("ref") if node is not None else None
        if a is None:
            return
        found = parse_range(a.value)
        if found is None:
            return
        rows = [r for r, _ in written]
        cols = [c for _, c in written]
        r1, c1 = min(found[0], *rows), min(found[1], *cols)
        r2, c2 = max(found[2], *rows), max(found[3], *cols)
        new = f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}"
        if new != a.value:
            self.edit.replace(a.span[0], a.span[1], new)


def _column_styles(root: Node) -> list[tuple[int, int, int]]:
    """(first, last 0-based column, style) of every ``<col>`` that sets a style."""
    out = []
    for cols in root.find(MAIN_NS, "cols"):
        for col in cols.find(MAIN_NS, "col"):
            lo, hi, style = _int(col.get("min")), _int(col.get("max")), _int(col.get("style"))
            if lo and hi and style:
                out.append((lo - 1, hi - 1, style))
    return out


def _grow_sqref(sqref: str, appended: set[int]) -> str:
    """Each range of a space-separated list whose last row sits just above an appended row, grown over it."""
    out = []
    for item in sqref.split():
        found = parse_range(item)
        if found is None:
            out.append(item)
            continue
        r1, c1, r2, c2 = found
        end = r2
        while end + 1 in appended:
            end += 1
        if end == r2:
            out.append(item)
        else:
            out.append(f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{end + 1}")
    return " ".join(out)


# -- writing values ---------------------------------------------------------------------------------------

def string_item(prefix: str, text: str) -> str:
    """A shared-string item (``<si>``) holding ``text``."""
    return f"<{prefix}si>{text_run(prefix, text)}</{prefix}si>"


def _result(value: str | float) -> tuple[str, str]:
    """The ``t`` attribute and ``<v>`` text of a cached formula result."""
    if isinstance(value, str):
        return "str", escape_text(value)
    return "", number_text(value)


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None

