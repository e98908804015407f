"""What members do to their copies, for the round-trip tests: edit cells, add rows, delete rows.

Edits go through openpyxl (load, change, save to a new file: the input is never touched) or are turned into
LibreOffice actions for ``libreoffice.edit``. Cells are found by header text and row ID from
``reentry_workbook.plan.schema``, never by spelling a name. Text is stored as text, even text starting with "=".

Import from tests as ``from member_edits import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from reentry_workbook.plan import schema
from reentry_workbook.plan.ids import normalise_id


@dataclass(frozen=True)
class Set:
    """Put ``value`` in column ``column`` of the row with ``id`` (a stakeholder's name on Stakeholders)."""

    sheet: str
    id: str
    column: str
    value: Any


@dataclass(frozen=True)
class Add:
    """Fill the first unused pre-formatted row (its pre-filled ID kept) with ``values``; column key -> value."""

    sheet: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Delete:
    """Delete the whole worksheet row of the row with ``id``."""

    sheet: str
    id: str


Edit = Set | Add | Delete


def load(path: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def columns(ws: Any, sheet_key: str) -> dict[str, int]:
    """Column key -> 1-based column index, found by header text in the header row."""
    sheet = schema.sheet(sheet_key)
    by_header = {schema.normalise_header(c.header): c.key for c in sheet.columns}
    out = {}
    for cell in ws[schema.HEADER_ROW]:
        key = by_header.get(schema.normalise_header(cell.value))
        if key is not None:
            out[key] = cell.column
    return out


def find_row(ws: Any, sheet_key: str, id: str) -> int:
    """Worksheet row of the row with that ID (or, on Stakeholders, that name)."""
    sheet = schema.sheet(sheet_key)
    cols = columns(ws, sheet_key)
    key_col = cols[sheet.id_column.key] if sheet.id_column else cols[sheet.label]
    for row in range(schema.FIRST_DATA_ROW, ws.max_row + 1):
        value = ws.cell(row=row, column=key_col).value
        if sheet.id_column is not None and normalise_id(value, sheet.id_prefix) == id:
            return row
        if sheet.id_column is None and value == id:
            return row
    raise KeyError(f"{sheet.name} has no row {id}")


def first_unused_row(ws: Any, sheet_key: str) -> int:
    """The first pre-formatted row whose member-filled cells are all empty."""
    sheet = schema.sheet(sheet_key)
    cols = columns(ws, sheet_key)
    inputs = [cols[c.key] for c in sheet.columns if c.kind not in (schema.Kind.ID, schema.Kind.DERIVED)]
    for row in range(schema.FIRST_DATA_ROW, ws.max_row + 2):
        if all(ws.cell(row=row, column=c).value in (None, "") for c in inputs):
            return row
    raise AssertionError("no unused row")


def cell(path: Path, sheet_key: str, id: str, column: str) -> str:
    """A1 reference of a column of the row with that ID, in the workbook at ``path``."""
    book = load(path)
    try:
        ws = book[schema.sheet(sheet_key).name]
        return f"{get_column_letter(columns(ws, sheet_key)[column])}{find_row(ws, sheet_key, id)}"
    finally:
        book.close()


def unused_cell(path: Path, sheet_key: str, column: str) -> tuple[str, str | None]:
    """(A1 reference of a column in the first unused row, that row's pre-filled ID)."""
    book = load(path)
    try:
        ws = book[schema.sheet(sheet_key).name]
        cols = columns(ws, sheet_key)
        row = first_unused_row(ws, sheet_key)
        sheet = schema.sheet(sheet_key)
        pre = ws.cell(row=row, column=cols[sheet.id_column.key]).value if sheet.id_column else None
        return f"{get_column_letter(cols[column])}{row}", pre
    finally:
        book.close()


def _put(ws: Any, row: int, col: int, value: Any) -> None:
    target = ws.cell(row=row, column=col)
    target.value = value
    if isinstance(value, str):
        target.data_type = "s"  # text stays text, even when it starts with "="
    elif isinstance(value, dt.date):
        target.number_format = "yyyy-mm-dd"


def edit_with_openpyxl(src: Path, dest: Path, edits: Iterable[Edit]) -> Path:
    """Apply ``edits`` to a copy of ``src`` saved as ``dest``, the way a script or a careful member would."""
    assert Path(src).resolve() != Path(dest).resolve()
    book = load(src)
    for edit in edits:
        ws = book[schema.sheet(edit.sheet).name]
        cols = columns(ws, edit.sheet)
        if isinstance(edit, Set):
            _put(ws, find_row(ws, edit.sheet, edit.id), cols[edit.column], edit.value)
        elif isinstance(edit, Add):
            row = first_unused_row(ws, edit.sheet)
            for key, value in edit.values.items():
                _put(ws, row, cols[key], value)
        else:
            ws.delete_rows(find_row(ws, edit.sheet, edit.id))
    book.save(dest)
    book.close()
    return dest


def formula(src: Path, dest: Path, sheet_key: str, id: str, column: str, text: str) -> Path:
    """Type a formula (``text`` starts with "=") into a cell of a copy, as a member pasting one would."""
    book = load(src)
    ws = book[schema.sheet(sheet_key).name]
    ws.cell(row=find_row(ws, sheet_key, id), column=columns(ws, sheet_key)[column]).value = text
    book.save(dest)
    book.close()
    return dest


def cell_value(path: Path, sheet_name: str, ref: str) -> tuple[Any, str]:
    """(value, openpyxl data type) of one cell."""
    book = load(path)
    try:
        c = book[sheet_name][ref]
        return c.value, c.data_type
    finally:
        book.close()


def table(path: Path, sheet_name: str, header: str) -> list[dict[str, Any]]:
    """The rows of a table sheet (found by a header cell with that text) as dicts keyed by header text."""
    book = load(path)
    try:
        ws = book[sheet_name]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        book.close()
    top = next(i for i, r in enumerate(rows) if header in r)
    names = rows[top]
    return [
        {n: v for n, v in zip(names, r, strict=False) if n}
        for r in rows[top + 1 :]
        if any(v not in (None, "") for v in r)
    ]
