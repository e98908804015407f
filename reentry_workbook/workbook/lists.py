"""The generator's formulas: the hidden Lists sheet, its defined names, and derived columns.

Every dropdown's source is a workbook-level defined name over a column of the hidden Lists sheet. Choice
lists are static values; reference lists ("ID - text" labels of a parent sheet's rows) and name
suggestions are formulas over the parent sheet's pre-formatted rows, so rows filled in later show up.
Each formula is written with its computed result as the cached value: LibreOffice trusts cached results
of a file that names Excel as its writer, and would otherwise show 0 (excel-pitfalls.md, item 7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from xlsxwriter.utility import quote_sheetname, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from ..plan import schema
from ..plan.describe import referenced_sheets, suggested_sheets
from ..plan.schema import Column, Sheet
from .direct_cells import CellsXml, SheetRows, list_rows

# The values written into each pre-formatted row: sheet key -> rows -> column key -> value.
Grid = Mapping[str, Sequence[Mapping[str, Any]]]
Define = Callable[[str, str], None]  # (defined name, "=Lists!$A$2:$A$9")
Check = Callable[[int | None, str], None]  # raises when an XlsxWriter call failed

_EXCEL_EPOCH = dt.date(1899, 12, 30)


def letter(sheet: Sheet, column_key: str) -> str:
    """Column letter of a declared column in a generated workbook."""
    keys = [c.key for c in sheet.columns]
    return xl_col_to_name(keys.index(column_key))


def excel_text(value: Any) -> str:
    """What Excel's ``value&""`` gives for a cell value (used for cached formula results)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime.combine(_EXCEL_EPOCH, dt.time())
        return excel_text(delta.days + delta.seconds / 86400)
    if isinstance(value, dt.date):
        return str((value - _EXCEL_EPOCH).days)
    return str(value)


# --- reference labels -------------------------------------------------------------------------------


def label_formula(parent: Sheet, excel_row: int) -> str:
    """Formula of one "ID - text" label: blank while the parent row's text is blank."""
    return "=" + str(excel_row).join(label_pieces(parent))


def label_pieces(parent: Sheet) -> list[str]:
    """:func:`label_formula` without its ``=``, cut where its row number goes (``str(row).join(pieces)``)."""
    name = quote_sheetname(parent.name)
    id_cell = f"{name}!${letter(parent, _id_key(parent))}"
    text_cell = f"{name}!${letter(parent, parent.label)}"
    return [f"IF({text_cell}", f'="","",{id_cell}', f'&"{schema.ID_SEPARATOR}"&{text_cell}', ")"]


def label_value(parent: Sheet, row: Mapping[str, Any]) -> str:
    """The result of :func:`label_formula` for a row with these values."""
    text = excel_text(row.get(parent.label))
    if text == "":
        return ""
    return excel_text(row.get(_id_key(parent))) + schema.ID_SEPARATOR + text


def _id_key(parent: Sheet) -> str:
    id_col = parent.id_column
    if id_col is None:
        raise ValueError(f"{parent.name} has no ID column, so no sheet can refer to it")
    return id_col.key


def name_formula(source: Sheet, excel_row: int) -> str:
    """Formula of one suggested name: the source row's label text, blank while it is blank."""
    return "=" + str(excel_row).join(name_pieces(source))


def name_pieces(source: Sheet) -> list[str]:
    """:func:`name_formula` without its ``=``, cut where its row number goes."""
    cell = f"{quote_sheetname(source.name)}!${letter(source, source.label)}"
    return [f"IF({cell}", f'="","",{cell}', '&"")']


def name_value(source: Sheet, row: Mapping[str, Any]) -> str:
    return excel_text(row.get(source.label))


# --- derived columns --------------------------------------------------------------------------------


def derived_source(sheet: Sheet, col: Column) -> tuple[Column, Sheet]:
    """The reference column a derived column follows, and the parent sheet that holds its value.

    A derived column shows the parent's column of the same key (Action Steps.Goal is the goal of the
    step's improvement).
    """
    for ref_col in sheet.reference_columns:
        parent = schema.sheet(ref_col.ref or "")
        if any(c.key == col.key for c in parent.columns):
            return ref_col, parent
    raise ValueError(f"{sheet.name}.{col.header} is derived, but no referenced sheet has a column {col.key!r}")


def derived_formula(sheet: Sheet, col: Column, excel_row: int) -> str:
    """Look the chosen parent's ID up on the parent sheet (whole columns, so every app agrees)."""
    return "=" + str(excel_row).join(derived_pieces(sheet, col))


def derived_pieces(sheet: Sheet, col: Column) -> list[str]:
    """:func:`derived_formula` without its ``=``, cut where its row number goes."""
    ref_col, parent = derived_source(sheet, col)
    ref = f"${letter(sheet, ref_col.key)}"  # the row number follows
    name = quote_sheetname(parent.name)
    ids = f"{name}!${letter(parent, _id_key(parent))}:${letter(parent, _id_key(parent))}"
    values = f"{name}!${letter(parent, col.key)}:${letter(parent, col.key)}"
    sep = schema.ID_SEPARATOR
    return [
        f"IF({ref}",
        f'="","",IFERROR(INDEX({values},MATCH(TRIM(LEFT({ref}',
        f',FIND("{sep}",{ref}',
        f'&"{sep}")-1)),{ids},0))&"",""))',
    ]


def derived_values(sheet: Sheet, col: Column, grid: Grid) -> list[str]:
    """The results of :func:`derived_formula` for every row of ``sheet``, given what the parent sheet holds."""
    ref_col, parent = derived_source(sheet, col)
    id_key = _id_key(parent)
    found: dict[str, str] = {}
    for parent_row in grid.get(parent.key, ()):  # MATCH takes the first row with the ID
        found.setdefault(excel_text(parent_row.get(id_key)).casefold(), excel_text(parent_row.get(col.key)))
    out = []
    for row in grid.get(sheet.key, ()):
        chosen = excel_text(row.get(ref_col.key))
        wanted = chosen.split(schema.ID_SEPARATOR, 1)[0].strip().casefold()
        out.append(found.get(wanted, "") if chosen else "")
    return out


# --- the Lists sheet --------------------------------------------------------------------------------


def write_lists(
    ws: Worksheet, cells: CellsXml, grid: Grid, rows: int, define: Define, check: Check, header_format: Any
) -> SheetRows:
    """Fill the hidden Lists sheet, one column per list, and define a workbook-level name over each. XlsxWriter
    writes the headers; the values are returned as rows to splice into the sheet (:mod:`direct_cells`)."""
    first = schema.FIRST_DATA_ROW - 1  # 0-based row of the first value on the Lists sheet
    column = 0

    def start(name: str, count: int) -> None:
        nonlocal column
        check(ws.set_column(column, column, 32), f"width of {name}")
        check(ws.write_string(schema.HEADER_ROW - 1, column, name, header_format), f"header of {name}")
        col = xl_col_to_name(column)
        define(name, f"={quote_sheetname(schema.LISTS_SHEET)}!${col}${first + 1}:${col}${first + count}")
        column += 1

    choices: list[Sequence[str]] = []
    for key, values in schema.CHOICES.items():
        start(schema.choice_list_name(key), len(values))
        choices.append(values)

    formula_lists = [
        (schema.reference_list_name(k), schema.sheet(k), label_pieces, label_value) for k in referenced_sheets()
    ] + [(schema.suggest_list_name(k), schema.sheet(k), name_pieces, name_value) for k in suggested_sheets()]
    formulas: list[tuple[Sequence[str], Sequence[str]]] = []
    for name, source, pieces, value in formula_lists:
        start(name, rows)
        source_rows = list(grid.get(source.key, ()))[:rows]
        results = [value(source, row) for row in source_rows] + [""] * (rows - len(source_rows))
        formulas.append((pieces(source), results))
    ws.hide()
    return list_rows(cells, first, choices, formulas)
