"""Write a plan workbook with XlsxWriter, driven entirely by the declaration in ``schema``.

``new_workbook`` writes a blank plan (or the bundled example); ``write_plan_workbook`` writes any ``Plan``
(member packets and merged masters use it too). Every XlsxWriter call's return code is checked, member
text is written with ``write_string`` (never as a formula), and the output is reproducible: the same
inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException
from xlsxwriter.worksheet import Worksheet

from ..errors import UsageError
from ..plan import describe, schema
from ..plan.model import Plan, Record, written
from ..plan.schema import Kind, Sheet
from ..xlsx import atomic
from ..xlsx.bulk import collector_paused
from ..xlsx.identity import check_extension
from .checks import highlights, validation_options
from .direct_cells import CellsXml, SheetRows, data_rows, splice
from .formats import (
    CONTEXT_FILL,
    OVERDUE_FILL,
    REQUIRED_BLANK_FILL,
    WORKBOOK_OPTIONS,
    Formats,
    GenerationError,
    check,
    fit_row,
    write_value,
)
from .lists import Grid, derived_pieces, derived_values, label_value, write_lists
from .start_sheet import write_start_sheet

__all__ = [
    "CONTEXT_FILL",
    "FIXED_CREATED",
    "OVERDUE_FILL",
    "REQUIRED_BLANK_FILL",
    "SPARE_ROWS",
    "TEMPLATE_FILES",
    "WORKBOOK_OPTIONS",
    "Formats",
    "GenerationError",
    "check",
    "new_workbook",
    "stale_templates",
    "write_plan_workbook",
    "write_templates",
]

# Creation date written into every generated workbook unless one is given (reproducible output).
FIXED_CREATED = dt.datetime(2026, 1, 1, 0, 0, 0)
# The committed templates in workbook_templates/: file name -> whether it holds the example plan.
TEMPLATE_FILES: dict[str, bool] = {"blank.xlsx": False, "example.xlsx": True}
# Rows added after the last row of a plan when the caller lets the generator choose the row count.
SPARE_ROWS = 50

COALITION_VALUE_WIDTH = 46

CONTEXT_NOTE = (
    "Context – do not edit. This row belongs to someone else's part of the plan; it is shown so your own "
    "rows make sense. Changes made to it are not taken back into the plan."
)


# --- public API -------------------------------------------------------------------------------------


def new_workbook(
    out: Path,
    *,
    example: bool = False,
    rows: int = schema.DEFAULT_ROWS,
    force: bool = False,
    coalition: Mapping[str, Any] | None = None,
    created: dt.datetime | None = None,
) -> Path:
    """Write a blank plan workbook (or the bundled example plan) to ``out``.

    ``coalition`` fills in or overrides Coalition fields, keyed by ``schema.COALITION_FIELDS`` keys.
    """
    if rows < 1:
        raise UsageError(f"--rows must be at least 1, not {rows}; give the number of rows each sheet needs")
    if example:
        from .example import example_plan

        plan = example_plan()
    else:
        plan = Plan()
    known = {f.key for f in schema.COALITION_FIELDS}
    for key, value in (coalition or {}).items():
        if key not in known:
            raise UsageError(f"{key!r} is not a Coalition field; use one of {', '.join(sorted(known))}")
        if value is not None:
            plan.coalition[key] = value
    return write_plan_workbook(out, plan, rows=rows, force=force, created=created)


@collector_paused()
def write_plan_workbook(
    out: Path,
    plan: Plan,
    *,
    rows: int | None = None,
    force: bool = False,
    created: dt.datetime | None = None,
    context_rows: Mapping[str, Collection[str]] | None = None,
    extra_sheets: Callable[[xlsxwriter.Workbook, Formats], None] | None = None,
) -> Path:
    """Write ``plan`` as a plan workbook to ``out``.

    ``rows`` is the number of pre-formatted rows per data sheet (never fewer than the plan's rows); by
    default the larger of ``schema.DEFAULT_ROWS`` and the plan's longest sheet plus ``SPARE_ROWS``.
    ``context_rows`` maps a sheet key to the IDs of rows shown only as context (grey, marked do not edit).
    ``extra_sheets`` may add sheets after the plan's data sheets (before the hidden Lists sheet).
    """
    out = Path(out)
    atomic.check_output(out, force=force)
    check_extension(out, ".xlsx")  # XlsxWriter writes an ordinary workbook, which Excel opens only as .xlsx
    longest = max((len(plan.rows(s.key)) for s in schema.SHEETS), default=0)
    count = max(schema.DEFAULT_ROWS, longest + SPARE_ROWS) if rows is None else max(rows, longest)
    grid = build_grid(plan, count)
    context = {key: {_id_key(i) for i in ids} for key, ids in (context_rows or {}).items()}
    with atomic.atomic_path(out) as tmp:
        book = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        rows_of = _fill(book, plan, grid, count, context, created or FIXED_CREATED, extra_sheets)
        try:
            book.close()
        except (XlsxWriterException, OSError) as exc:
            raise atomic.write_failed(out, exc) from None
        splice(tmp, rows_of)
    return out


def write_templates(folder: Path) -> list[Path]:
    """Write the committed templates (blank and example) into ``folder``, overwriting them."""
    return [new_workbook(Path(folder) / name, example=example, force=True) for name, example in TEMPLATE_FILES.items()]


def stale_templates(folder: Path) -> list[str]:
    """Names of the templates in ``folder`` that are missing or differ from what the generator writes now.

    Compares the package parts, not the zip bytes, so a different zlib does not make a template stale.
    """
    with tempfile.TemporaryDirectory(prefix="reentry-templates-") as tmp:
        write_templates(Path(tmp))
        return [
            name
            for name in TEMPLATE_FILES
            if not (Path(folder) / name).is_file() or _parts(Path(folder) / name) != _parts(Path(tmp) / name)
        ]


def _parts(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist()}
    except zipfile.BadZipFile:
        return {}


# --- the values of the pre-formatted rows -----------------------------------------------------------


def build_grid(plan: Plan, rows: int) -> dict[str, list[dict[str, Any]]]:
    """What each pre-formatted row of each data sheet holds: the plan's rows, then blank rows with IDs.

    References are written as the parent's "ID - text" label (what the dropdown offers); derived
    columns hold the value their formula computes.
    """
    grid: dict[str, list[dict[str, Any]]] = {}
    for sh in schema.SHEETS:
        records = plan.rows(sh.key)
        keys = [c.key for c in sh.columns if c.kind not in (Kind.ID, Kind.DERIVED)]
        filled = [_record_values(sh, keys, rec) for rec in records]
        blanks: list[dict[str, Any]] = [{} for _ in range(max(rows, len(records)) - len(records))]
        if sh.id_column is not None:
            for values, new_id in zip(blanks, _next_ids(sh, records), strict=False):
                values[sh.id_column.key] = new_id
        grid[sh.key] = filled + blanks
    for sh in schema.SHEETS:
        for col in sh.reference_columns:
            parent = schema.sheet(col.ref or "")
            parent_id = parent.id_column.key if parent.id_column else ""
            by_id = {_id_key(r.get(parent_id)): r for r in grid[parent.key]}
            for values in grid[sh.key]:
                chosen = values.get(col.key)
                if isinstance(chosen, str) and _id_key(chosen) in by_id:
                    values[col.key] = label_value(parent, by_id[_id_key(chosen)]) or chosen
    for sh in schema.SHEETS:
        for col in sh.columns:
            if col.kind is Kind.DERIVED:
                for values, derived in zip(grid[sh.key], derived_values(sh, col, grid), strict=True):
                    values[col.key] = derived
    return grid


def _record_values(sh: Sheet, keys: list[str], rec: Record) -> dict[str, Any]:
    """What a row of the plan writes in the columns ``keys`` (the sheet's own, not its ID or derived ones)."""
    get = rec.values.get
    values = {key: written(get(key)) for key in keys}
    if sh.id_column is not None:
        values[sh.id_column.key] = rec.id
    return values


def _id_key(value: Any) -> str:
    return str(value or "").strip().casefold()


def _next_ids(sh: Sheet, records: list[Record]) -> Iterator[str]:
    """IDs for the blank rows: numbers after the highest one the plan uses."""
    pattern = re.compile(rf"{re.escape(sh.id_prefix or '')}-0*(\d+)", re.IGNORECASE)
    numbers = [int(m.group(1)) for rec in records if rec.id and (m := pattern.fullmatch(rec.id.strip()))]
    n = max(numbers, default=0)
    while True:
        n += 1
        yield f"{sh.id_prefix}-{n}"


# --- writing ----------------------------------------------------------------------------------------


def _fill(
    book: xlsxwriter.Workbook,
    plan: Plan,
    grid: Grid,
    rows: int,
    context: Mapping[str, set[str]],
    created: dt.datetime,
    extra_sheets: Callable[[xlsxwriter.Workbook, Formats], None] | None,
) -> dict[str, SheetRows]:
    """Write the workbook's sheets; the cells of the data sheets and the Lists sheet are returned, by sheet name,
    as rows to splice into the file once XlsxWriter has written it."""
    fm = Formats(book)
    cells = CellsXml(book)
    start = book.add_worksheet(schema.START_SHEET)
    coalition = book.add_worksheet(schema.COALITION_SHEET)
    data = {sh.key: book.add_worksheet(sh.name) for sh in schema.SHEETS}
    if extra_sheets is not None:
        extra_sheets(book, fm)
    lists = book.add_worksheet(schema.LISTS_SHEET)

    steps_id = schema.sheet("steps").id_column
    last_step_id = str(grid["steps"][-1].get(steps_id.key) or "") if steps_id and grid["steps"] else ""
    write_start_sheet(start, fm, plan, {k: v for k, v in context.items() if v}, last_step_id)
    _write_coalition(coalition, fm, plan)
    rows_of = {
        sh.name: _write_data_sheet(data[sh.key], fm, cells, sh, grid[sh.key], context.get(sh.key, set()))
        for sh in schema.SHEETS
    }

    def define(name: str, formula: str) -> None:
        check(book.define_name(name, formula), f"the defined name {name}")

    rows_of[schema.LISTS_SHEET] = write_lists(lists, cells, grid, rows, define, check, fm.header)
    start.activate()
    book.set_properties(
        {
            "title": f"{schema.TEMPLATE_NAME} {schema.TEMPLATE_VERSION}",
            "subject": "Strategic plan of a local reentry coalition",
            "author": "reentry-workbook",
            "comments": "Generated by reentry-workbook; see the Start Here sheet.",
            "created": created,
        }
    )
    for name, value in (
        (schema.PROP_TEMPLATE, schema.TEMPLATE_NAME),
        (schema.PROP_VERSION, schema.TEMPLATE_VERSION),
        (schema.PROP_FINGERPRINT, schema.fingerprint()),
    ):
        check(book.set_custom_property(name, value), f"the document property {name}")
    return rows_of


def _print_setup(ws: Worksheet) -> None:
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(schema.HEADER_ROW - 1)
    ws.set_footer("&L&A&RPage &P of &N")


def _header(ws: Worksheet, fm: Formats, headers: list[str]) -> None:
    for i, text in enumerate(headers):
        check(ws.write_string(schema.HEADER_ROW - 1, i, text, fm.header), f"header {text!r}")
    check(ws.set_row(schema.HEADER_ROW - 1, 32), "the header row height")


def _write_coalition(ws: Worksheet, fm: Formats, plan: Plan) -> None:
    check(ws.set_column(0, 0, 24, fm.bold), "Coalition label column")
    check(ws.set_column(1, 1, COALITION_VALUE_WIDTH, fm.wrap), "Coalition value column")
    _header(ws, fm, [schema.COALITION_LABEL_HEADER, schema.COALITION_VALUE_HEADER])
    for i, fld in enumerate(schema.COALITION_FIELDS):
        row = schema.FIRST_DATA_ROW - 1 + i
        check(ws.write_string(row, 0, fld.label, fm.bold), f"Coalition label {fld.label!r}")
        fmt = fm.date if fld.kind is Kind.DATE else fm.wrap
        value = written(plan.coalition.get(fld.key))
        write_value(ws, row, 1, value, fmt, fm.date)
        fit_row(ws, row, [(value, COALITION_VALUE_WIDTH)])
        message = describe.input_message(fld.help, describe.field_hint(fld), required=fld.required)
        options = validation_options(fld.label, fld.kind, fld.choices, None, None, message)
        check(ws.data_validation(row, 1, row, 1, options), f"validation of Coalition {fld.label!r}")
        if fld.required:
            rule = {"type": "formula", "criteria": f'=$B{row + 1}=""', "format": fm.required_blank}
            check(ws.conditional_format(row, 1, row, 1, rule), f"highlight of Coalition {fld.label!r}")
    ws.freeze_panes(schema.HEADER_ROW, 0)
    _print_setup(ws)


def _write_data_sheet(
    ws: Worksheet, fm: Formats, cells: CellsXml, sh: Sheet, rows: Sequence[Mapping[str, Any]], context: set[str]
) -> SheetRows:
    """Write a data sheet's header, formats, validations and highlights; its cells are returned as rows."""
    first = schema.FIRST_DATA_ROW - 1
    last = first + len(rows) - 1
    for i, col in enumerate(sh.columns):
        check(ws.set_column(i, i, col.width, fm.cell(col.kind)), f"{sh.name} column {col.header!r}")
    _header(ws, fm, [c.header for c in sh.columns])
    id_col = sh.id_column
    # (format, format for a date value) of each column, for own rows and for context rows.
    looks = {
        ctx: [(fm.cell(col.kind, context=ctx), fm.cell(col.kind, context=ctx, date_value=True)) for col in sh.columns]
        for ctx in (False, True)
    }
    in_context = (
        {i for i, values in enumerate(rows) if _id_key(values.get(id_col.key)) in context}
        if id_col is not None and context
        else set()
    )
    formulas = {c: derived_pieces(sh, col) for c, col in enumerate(sh.columns) if col.kind is Kind.DERIVED}
    out = data_rows(cells, sh, rows, looks, in_context, first, formulas)
    for i in sorted(in_context):
        r = first + i
        check(ws.write_comment(r, 0, CONTEXT_NOTE, {"author": "reentry-workbook", "x_scale": 2}), "context note")
    if in_context:
        # The notes' boxes are placed by the heights of the rows above them, so XlsxWriter is told every height.
        for r, height in out.heights.items():
            check(ws.set_row(r, height), f"height of {sh.name} row {r + 1}")
    for c, col in enumerate(sh.columns):
        message = describe.input_message(col.help, describe.column_hint(col), required=col.required)
        options = validation_options(col.header, col.kind, col.choices, col.ref, col.suggest, message)
        check(ws.data_validation(first, c, last, c, options), f"validation of {sh.name} {col.header!r}")
    highlights(ws, fm, sh, first, last)
    ws.freeze_panes(schema.HEADER_ROW, 1)
    check(ws.autofilter(schema.HEADER_ROW - 1, 0, last, len(sh.columns) - 1), f"filter on {sh.name}")
    _print_setup(ws)
    return out
