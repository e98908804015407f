"""Writes a merge into the master workbook itself, cell by cell, so that everything else in it survives.

:func:`master_changes` turns what the merge decided into cell changes at the places :mod:`merge_layout` found: an
applied change rewrites its cell; an added row fills the next blank pre-formatted row, or is appended below them
(taking the styles and the derived formulas of the row above); references are written as the dropdown's
"ID - text" label. Then the cached result of every formula the template wrote (the Lists sheet's labels, the
derived Goal column) that reads a written cell is worked out again, so that apps that show cached results show
the new ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..plan import schema
from ..plan.model import Plan, Record, written
from ..plan.schema import Kind, Sheet
from ..workbook.formula_results import first_rows
from ..workbook.formula_results import inputs as formula_inputs
from ..workbook.formula_results import result as formula_result
from ..workbook.lists import label_value
from ..xlsx.refs import parse_ref, shift_formula
from ..xlsx.sheet_edit import Formula, SheetChanges
from .merge_layout import MasterLayout, Placed
from .merge_model import COALITION


def _col(letters: str) -> int:
    found = parse_ref(f"{letters}1")
    assert found is not None
    return found[1]


Applied = tuple[str, Record | None, str, Any]  # (sheet key or COALITION, master row or None, field key, value)


@dataclass
class MasterChanges:
    cells: dict[str, SheetChanges]  # sheet name -> its cell changes
    names: dict[str, str]  # defined names given a new range (a dropdown's list grown over appended rows)


def master_changes(layout: MasterLayout, merged: Plan, applied: Iterable[Applied],
                   placed: Iterable[Placed]) -> MasterChanges:
    """The cell changes that turn the master into the merged plan, cached formula results included."""
    changes: dict[str, SheetChanges] = {}
    labels = Labels(merged)

    def put(sheet_name: str, row: int, col: int, value: Any) -> None:
        changes.setdefault(sheet_name, SheetChanges()).cells[(row, col)] = value

    for sheet_key, base_row, field_key, value in applied:
        if sheet_key == COALITION:
            r, c = layout.coalition_cells[field_key]
            put(layout.coalition_sheet, r, c, _cell_value(None, field_key, value, labels))
            continue
        sheet = schema.sheet(sheet_key)
        where = layout.sheets[sheet_key]
        assert base_row is not None
        put(where.name, base_row.row - 1, where.columns[field_key], _cell_value(sheet, field_key, value, labels))

    for item in placed:
        where = layout.sheets[item.sheet.key]
        rec = item.record
        for col in item.sheet.columns:
            if col.kind is Kind.DERIVED or col.key not in where.columns:
                continue
            if col.kind is Kind.ID:
                if rec.id is not None and rec.id != item.prefilled:
                    put(where.name, item.row, where.columns[col.key], rec.id)
                continue
            value = rec.get(col.key)
            if value not in (None, ""):
                put(where.name, item.row, where.columns[col.key], _cell_value(item.sheet, col.key, value, labels))
        if item.appended:
            changes.setdefault(where.name, SheetChanges()).appended.add(item.row)
    names = _grow_lists(layout, changes, put)
    _formula_results(layout, changes)
    return MasterChanges(changes, names)


_LIST_RANGE = re.compile(r"^('(?:[^']|'')+'|[^!]+)!\$([A-Z]{1,3})\$(\d+):\$([A-Z]{1,3})\$(\d+)$")
_READ_ROW = re.compile(r"!\$?[A-Z]{1,3}\$?(\d+)")


def _grow_lists(layout: MasterLayout, changes: dict[str, SheetChanges], put: Any) -> dict[str, str]:
    """Grow the dropdown lists of the Lists sheet over rows appended past the pre-formatted ones.

    Each list of a sheet's rows (its "ID - text" labels, its suggested names) is a column of formulas, one per
    pre-formatted row, under a workbook-level name. For each appended row the column gets the formula of its
    last cell moved down to read that row, and the name's range grows over it.
    """
    from ..plan.describe import referenced_sheets, suggested_sheets

    lists = layout.formulas.get(schema.LISTS_SHEET)
    names: dict[str, str] = {}
    if lists is None:
        return names
    for sheet in schema.SHEETS:
        where = layout.sheets[sheet.key]
        appended = sorted(changes[where.name].appended) if where.name in changes else []
        if not appended:
            continue
        wanted = [schema.reference_list_name(sheet.key)] if sheet.key in referenced_sheets() else []
        wanted += [schema.suggest_list_name(sheet.key)] if sheet.key in suggested_sheets() else []
        for name in wanted:
            m = _LIST_RANGE.match(layout.names.get(name, "").lstrip("="))
            if m is None or m.group(2) != m.group(4):
                continue
            col, bottom = _col(m.group(2)), int(m.group(5)) - 1
            text = lists.get(bottom, col)
            read = _READ_ROW.search(text) if text is not None else None
            if text is None or read is None:
                continue
            for i, row in enumerate(appended, start=1):
                put(schema.LISTS_SHEET, bottom + i, col, Formula(shift_formula(text, row + 1 - int(read.group(1)))))
            names[name] = f"{m.group(1)}!${m.group(2)}${m.group(3)}:${m.group(4)}${bottom + len(appended) + 1}"
    return names


_REFERENCED = {sheet.key: sheet for sheet in schema.SHEETS if sheet.id_column is not None}  # sheets rows name by ID


class Labels:
    """The dropdown label of a row of a referenced sheet, by ID (the last row holding the ID gives it), worked out
    for the IDs asked about only: a merge writes a few references, and a large plan has tens of thousands of rows."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._rows: dict[str, dict[str, Record]] = {}  # sheet key -> ID -> its row, made when first asked

    def get(self, sheet_key: str, row_id: str) -> str | None:
        sheet = _REFERENCED.get(sheet_key)
        if sheet is None or sheet.id_column is None:
            return None
        rows = self._rows.get(sheet_key)
        if rows is None:
            rows = self._rows[sheet_key] = {rec.id: rec for rec in self.plan.rows(sheet_key) if rec.id}
        rec = rows.get(row_id)
        if rec is None:
            return None
        return label_value(sheet, {sheet.id_column.key: rec.id, sheet.label: rec.get(sheet.label)})


def _cell_value(sheet: Sheet | None, key: str, value: Any, labels: Labels) -> Any:
    """What a cell holds for a merged value: a reference as its dropdown label, text always as text; a cell the
    reader could not take (an :class:`Unknown`) as round trips carry it (never a formula or an error)."""
    value = written(value)
    if value is None or value == "":
        return None
    col = sheet.column(key) if sheet is not None else None
    if col is not None and col.kind is Kind.REF and isinstance(value, str):
        return labels.get(col.ref or "", value) or value
    if isinstance(value, (bool, int, float, dt.date)):
        return value
    return str(value)


# -- cached results of the template's formulas ------------------------------------------------------------


def _formula_results(layout: MasterLayout, changes: dict[str, SheetChanges]) -> None:
    """Set the cached result of every template formula that reads a written cell (appended rows first take the
    formulas of the row above)."""
    cells = layout.cells

    def value(sheet: str, row: int, col: int) -> Any:
        written = changes.get(sheet)
        if written is not None and (row, col) in written.cells:
            found = written.cells[(row, col)]
            return found.result if isinstance(found, Formula) else found
        book = cells.get(sheet)
        return book.value(row, col) if book is not None else None

    columns: dict[tuple[str, int], dict[str, int]] = {}

    def column(sheet: str, col: int) -> dict[str, int]:
        key = (sheet, col)
        if key not in columns:
            book = cells.get(sheet)
            found = book.column_values(col) if book is not None else {}
            for (r, c), v in changes.get(sheet, SheetChanges()).cells.items():
                if c == col:
                    found[r] = v.result if isinstance(v, Formula) else v
            columns[key] = first_rows(found)
        return columns[key]

    # Appended rows first take the formulas of the row above (their results are worked out below).
    for sheet_name, sheet_changes in list(changes.items()):
        formulas = layout.formulas.get(sheet_name)
        if formulas is None or not sheet_changes.appended:
            continue
        # (rows appended one under another take the formulas of the row above the first: found once for all)
        aboves: dict[int, int] = {}  # appended row -> the nearest row above it that is not appended
        in_row: dict[int, list[tuple[int, str]]] = {}
        for row in sorted(sheet_changes.appended):
            above = aboves[row] = aboves.get(row - 1, row - 1)
            if above not in in_row:
                in_row[above] = formulas.in_row(above)
            for c, text in in_row[above]:
                if (row, c) not in sheet_changes.cells:
                    sheet_changes.cells[(row, c)] = Formula(shift_formula(text, row - above))
    # The template's formulas read plain cells only (labels read data sheets; derived cells read a reference
    # cell and the parent sheet), so one pass over them sees every input as it will be. Only those reading a
    # written cell are worked out again: the others' cached results stay as the master has them.
    touched = {name: set(found.cells) for name, found in changes.items()}
    touched_columns = {name: {c for _r, c in cells_} for name, cells_ in touched.items()}

    def reads_a_written_cell(text: str, sheet_name: str) -> bool:
        read = formula_inputs(text, sheet_name)
        return read is not None and any(
            (r is None and c in touched_columns.get(s, ())) or (r is not None and (r, c) in touched.get(s, ()))
            for s, r, c in read
        )

    for sheet_name, formulas in layout.formulas.items():
        for r, c, text in formulas.reading(sheet_name, touched_columns):  # runs reading a written column
            if not reads_a_written_cell(text, sheet_name):
                continue
            found = formula_result(text, sheet_name, value, column)
            if found is not None:
                changes.setdefault(sheet_name, SheetChanges()).results[(r, c)] = found
    for sheet_name, sheet_changes in changes.items():
        for (r, c), cell in list(sheet_changes.cells.items()):
            if isinstance(cell, Formula):
                found = formula_result(cell.text, sheet_name, value, column)
                if found is not None:
                    sheet_changes.cells[(r, c)] = Formula(cell.text, found)
    for sheet_changes in changes.values():
        sheet_changes.results = {k: v for k, v in sheet_changes.results.items() if k not in sheet_changes.cells}

