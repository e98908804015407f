"""Fill a generated template the way a member would: openpyxl typing values into cells found by header text.

A :class:`Filler` opens a copy of a workbook (the input is never touched), finds every column by its header
text and every Coalition field by its label, both taken from ``reentry_workbook.plan.schema``, and types values
into cells: text stays text (even text starting with "="), dates become real date cells, a formula is typed
only when asked for (:meth:`Filler.formula`), and an error value such as ``#REF!`` becomes an error cell.
:func:`fill_plan` types a whole ``Plan`` into a blank template, picking references as the dropdown's
``"ID - text"`` labels.

Import from tests as ``from fill import Filler, fill_plan`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.utils import get_column_letter

from reentry_workbook.plan import schema
from reentry_workbook.plan.ids import normalise_id
from reentry_workbook.plan.model import Plan, Record

DATE_FORMAT = "yyyy-mm-dd"


def load(path: Path) -> Any:
    """Open a workbook with openpyxl; its notes about extensions it cannot keep are not the test's concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def dropdown_label(plan: Plan, sheet_key: str, row_id: str) -> str:
    """What a reference dropdown offers for a row: ``"G-2 - Two in three people employed ..."``."""
    sheet = schema.sheet(sheet_key)
    rec = next(r for r in plan.rows(sheet_key) if r.id == row_id)
    return f"{row_id}{schema.ID_SEPARATOR}{rec.get(sheet.label)}"


class Filler:
    """An open copy of a plan workbook, edited cell by cell as a member would, then saved elsewhere."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.book = load(self.path)
        self.added: dict[str, list[int]] = {}  # sheet key -> worksheet rows filled by add_row, in order

    # --- where things are ---

    def ws(self, sheet_key: str | None) -> Any:
        return self.book[schema.COALITION_SHEET if sheet_key is None else schema.sheet(sheet_key).name]

    def columns(self, sheet_key: str) -> dict[str, int]:
        """Column key -> 1-based column index, found by header text in the header row."""
        sheet = schema.sheet(sheet_key)
        wanted = {schema.normalise_header(c.header): c.key for c in sheet.columns}
        out: dict[str, int] = {}
        for cell in self.ws(sheet_key)[schema.HEADER_ROW]:
            key = wanted.get(schema.normalise_header(cell.value))
            if key is not None and key not in out:
                out[key] = cell.column
        return out

    def column_letter(self, sheet_key: str, column_key: str) -> str:
        return get_column_letter(self.columns(sheet_key)[column_key])

    def rows_of(self, sheet_key: str, row_id: str) -> list[int]:
        """Worksheet rows holding that ID (on Stakeholders, that name), top to bottom."""
        sheet = schema.sheet(sheet_key)
        ws = self.ws(sheet_key)
        key_col = self.columns(sheet_key)[sheet.id_column.key if sheet.id_column else sheet.label]
        found = []
        for row in range(schema.FIRST_DATA_ROW, ws.max_row + 1):
            value = ws.cell(row=row, column=key_col).value
            same = normalise_id(value, sheet.id_prefix) == row_id if sheet.id_column else value == row_id
            if same:
                found.append(row)
        return found

    def row_of(self, sheet_key: str, row_id: str) -> int:
        rows = self.rows_of(sheet_key, row_id)
        if not rows:
            raise KeyError(f"{schema.sheet(sheet_key).name} has no row {row_id}")
        return rows[0]

    def cell(self, sheet_key: str, row_id: str, column_key: str) -> str:
        """A1 reference of a column in the (first) row with that ID."""
        return f"{self.column_letter(sheet_key, column_key)}{self.row_of(sheet_key, row_id)}"

    def coalition_cell(self, field_key: str) -> tuple[int, int]:
        """(row, column) of a Coalition field's value: the cell right of its label."""
        label = schema.normalise_header(schema.coalition_field(field_key).label)
        for row in self.ws(None).iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and schema.normalise_header(cell.value) == label:
                    return cell.row, cell.column + 1
        raise KeyError(field_key)

    def coalition_a1(self, field_key: str) -> str:
        row, col = self.coalition_cell(field_key)
        return f"{get_column_letter(col)}{row}"

    def first_unused_row(self, sheet_key: str) -> int:
        """The first pre-formatted row whose member cells (all but the ID and derived ones) are empty."""
        sheet = schema.sheet(sheet_key)
        cols = self.columns(sheet_key)
        inputs = [cols[c.key] for c in sheet.columns if c.kind not in (schema.Kind.ID, schema.Kind.DERIVED)]
        ws = self.ws(sheet_key)
        for row in range(schema.FIRST_DATA_ROW, ws.max_row + 2):
            if all(ws.cell(row=row, column=c).value in (None, "") for c in inputs):
                return row
        raise AssertionError("no unused row")

    # --- typing ---

    def _type(self, ws: Any, row: int, col: int, value: Any) -> None:
        target = ws.cell(row=row, column=col)
        if isinstance(value, str) and value in ERROR_CODES:
            target.value = value  # openpyxl stores an error cell (t="e")
            assert target.data_type == "e"
            return
        target.value = value
        if isinstance(value, str):
            target.data_type = "s"  # text stays text, even when it starts with "="
        elif isinstance(value, dt.date):
            target.number_format = DATE_FORMAT

    def put(self, sheet_key: str, row: int, column_key: str, value: Any) -> None:
        self._type(self.ws(sheet_key), row, self.columns(sheet_key)[column_key], value)

    def set(self, sheet_key: str, row_id: str, column_key: str, value: Any) -> None:
        """Type ``value`` into a column of the row with that ID (``None`` clears the cell)."""
        self.put(sheet_key, self.row_of(sheet_key, row_id), column_key, value)

    def set_coalition(self, field_key: str, value: Any) -> None:
        row, col = self.coalition_cell(field_key)
        self._type(self.ws(None), row, col, value)

    def formula(self, sheet_key: str, row_id: str, column_key: str, text: str) -> None:
        """Type a formula (``text`` starts with "=") into a cell, as a member pasting one would."""
        assert text.startswith("=")
        cell = self.ws(sheet_key).cell(row=self.row_of(sheet_key, row_id), column=self.columns(sheet_key)[column_key])
        cell.value = text
        assert cell.data_type == "f"

    def add_row(self, sheet_key: str, values: dict[str, Any]) -> int:
        """Fill the first unused pre-formatted row with ``values`` (column key -> value); return its row.

        Its pre-filled ID stays unless ``values`` sets the ID column (``None`` clears it).
        """
        row = self.first_unused_row(sheet_key)
        for key, value in values.items():
            self.put(sheet_key, row, key, value)
        self.added.setdefault(sheet_key, []).append(row)
        return row

    def save(self, dest: Path) -> Path:
        dest = Path(dest)
        assert dest.resolve() != self.path.resolve(), "a member saves a copy; the input stays as it was"
        self.book.save(dest)
        self.book.close()
        return dest


def record_values(plan: Plan, rec: Record) -> dict[str, Any]:
    """The cells a member types for a record: references as dropdown labels, derived columns left alone."""
    sheet = schema.sheet(rec.sheet)
    out: dict[str, Any] = {}
    for col in sheet.columns:
        if col.kind is schema.Kind.DERIVED:
            continue
        if col.kind is schema.Kind.ID:
            out[col.key] = rec.id
            continue
        value = rec.get(col.key)
        if col.kind is schema.Kind.REF and isinstance(value, str) and any(
            r.id == value for r in plan.rows(col.ref or "")
        ):
            value = dropdown_label(plan, col.ref or "", value)
        out[col.key] = value
    return out


def fill_plan(template: Path, plan: Plan, dest: Path) -> Path:
    """Type ``plan`` into a copy of a blank generated template, row by row from the first data row."""
    filler = Filler(template)
    for fld in schema.COALITION_FIELDS:
        filler.set_coalition(fld.key, plan.coalition.get(fld.key))
    for sheet in schema.SHEETS:
        for i, rec in enumerate(plan.rows(sheet.key)):
            row = schema.FIRST_DATA_ROW + i
            for key, value in record_values(plan, rec).items():
                filler.put(sheet.key, row, key, value)
    return filler.save(dest)
