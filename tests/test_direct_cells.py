"""The generator writes the cells of the data sheets and of the Lists sheet as XML (``workbook.direct_cells``): a
member must see exactly the workbook that one XlsxWriter call per cell wrote before.

The reference is that per-cell way, kept here: the previous ``_write_data_sheet`` and ``write_lists`` bodies,
put in place of the generator's own while it writes a plan. Both workbooks are compared cell by cell with
openpyxl (value, type, number format, font, fill, border, alignment, protection), row by row (heights), sheet by
sheet (dimension, validation and highlight ranges, notes), and with the toolkit's own readers (every cell's value
and the plan read back), for the example plan, for a plan of awkward text and for random plans.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from openpyxl.styles.proxy import StyleProxy
from test_property_roundtrip import TRICKY, plans
from xlsxwriter.worksheet import Worksheet

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.plan import describe, schema
from reentry_workbook.plan.model import Plan, Record
from reentry_workbook.plan.schema import Kind, Sheet
from reentry_workbook.workbook import generate
from reentry_workbook.workbook.checks import highlights, validation_options
from reentry_workbook.workbook.direct_cells import SheetRows
from reentry_workbook.workbook.example import example_plan
from reentry_workbook.workbook.formats import (
    Formats,
    GenerationError,
    cached_result,
    check,
    fit_row,
    line_room,
    wraps,
    write_value,
)
from reentry_workbook.workbook.lists import (
    derived_formula,
    label_formula,
    label_value,
    name_formula,
    name_value,
)
from reentry_workbook.xlsx import guard
from reentry_workbook.xlsx.cells import open_workbook

# --- the reference: one XlsxWriter call per cell ----------------------------------------------------------------


def per_cell_data_sheet(
    ws: Worksheet, fm: Formats, _cells: Any, sh: Sheet, rows: list[Mapping[str, Any]], context: set[str]
) -> SheetRows:
    first = schema.FIRST_DATA_ROW - 1
    last = first + len(rows) - 1
    for i, col in enumerate(sh.columns):
        check(ws.set_column(i, i, col.width, fm.cell(col.kind)), "column")
    for i, col in enumerate(sh.columns):
        check(ws.write_string(schema.HEADER_ROW - 1, i, col.header, fm.header), "header")
    check(ws.set_row(schema.HEADER_ROW - 1, 32), "header height")
    id_col = sh.id_column
    looks = {
        ctx: [(fm.cell(col.kind, context=ctx), fm.cell(col.kind, context=ctx, date_value=True)) for col in sh.columns]
        for ctx in (False, True)
    }
    wrapping = [(col.key, col.width, line_room(col.width)) for col in sh.columns if wraps(col.kind)]
    for r, values in enumerate(rows, start=first):
        in_context = id_col is not None and str(values.get(id_col.key) or "").strip().casefold() in context
        for c, col in enumerate(sh.columns):
            fmt, date_fmt = looks[in_context][c]
            value = values.get(col.key)
            if col.kind is Kind.DERIVED:
                check(ws.write_formula(r, c, derived_formula(sh, col, r + 1), fmt, cached_result(value or "")), "f")
            elif value not in (None, "") or in_context or col.kind is Kind.DATE:
                write_value(ws, r, c, value, fmt, date_fmt)
        if in_context:
            check(ws.write_comment(r, 0, generate.CONTEXT_NOTE, {"author": "reentry-workbook", "x_scale": 2}), "n")
        tall = [
            (text, width)
            for key, width, room in wrapping
            if isinstance(text := values.get(key), str) and (len(text) > room or "\n" in text)
        ]
        if tall:
            fit_row(ws, r, tall)
    for c, col in enumerate(sh.columns):
        message = describe.input_message(col.help, describe.column_hint(col), required=col.required)
        options = validation_options(col.header, col.kind, col.choices, col.ref, col.suggest, message)
        check(ws.data_validation(first, c, last, c, options), "validation")
    highlights(ws, fm, sh, first, last)
    ws.freeze_panes(schema.HEADER_ROW, 1)
    check(ws.autofilter(schema.HEADER_ROW - 1, 0, last, len(sh.columns) - 1), "filter")
    generate._print_setup(ws)
    return SheetRows(first)  # nothing left to splice


def per_cell_lists(ws: Worksheet, _cells: Any, grid: Any, rows: int, define: Any, chk: Any, header: Any) -> SheetRows:
    from xlsxwriter.utility import quote_sheetname, xl_col_to_name

    from reentry_workbook.plan.describe import referenced_sheets, suggested_sheets

    first = schema.FIRST_DATA_ROW - 1
    column = 0

    def start(name: str, count: int) -> None:
        chk(ws.set_column(column, column, 32), "width")
        chk(ws.write_string(schema.HEADER_ROW - 1, column, name, header), "header")
        col = xl_col_to_name(column)
        define(name, f"={quote_sheetname(schema.LISTS_SHEET)}!${col}${first + 1}:${col}${first + count}")

    for key, values in schema.CHOICES.items():
        start(schema.choice_list_name(key), len(values))
        for i, value in enumerate(values):
            chk(ws.write_string(first + i, column, value), "value")
        column += 1
    formula_lists = [
        (schema.reference_list_name(k), schema.sheet(k), label_formula, label_value) for k in referenced_sheets()
    ] + [(schema.suggest_list_name(k), schema.sheet(k), name_formula, name_value) for k in suggested_sheets()]
    for name, source, formula, value in formula_lists:
        start(name, rows)
        source_rows = grid.get(source.key, ())
        for i in range(rows):
            cached = cached_result(value(source, source_rows[i]) if i < len(source_rows) else "")
            chk(ws.write_formula(first + i, column, formula(source, schema.FIRST_DATA_ROW + i), None, cached), "f")
        column += 1
    ws.hide()
    return SheetRows(first)


@contextmanager
def per_cell(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with monkeypatch.context() as m:
        m.setattr(generate, "_write_data_sheet", per_cell_data_sheet)
        m.setattr(generate, "write_lists", per_cell_lists)
        yield


def both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plan: Plan, **options: Any) -> tuple[Path, Path]:
    direct = generate.write_plan_workbook(tmp_path / "direct.xlsx", plan, force=True, **options)
    with per_cell(monkeypatch):
        reference = generate.write_plan_workbook(tmp_path / "per-cell.xlsx", plan, force=True, **options)
    return direct, reference


# --- the comparison -------------------------------------------------------------------------------------------

STYLE = ("number_format", "font", "fill", "border", "alignment", "protection")


def _style(cell: Any, name: str) -> Any:
    value = getattr(cell, name)
    return value._StyleProxy__target if isinstance(value, StyleProxy) else value


def _at_precision(value: Any) -> Any:
    """A number as XlsxWriter wrote it (16 significant digits); the direct cells write every digit of a number,
    so that it reads back exactly as the plan held it (test below)."""
    return float(f"{value:.16G}") if value.__class__ is float else value


def _same_value(a: Any, b: Any) -> bool:
    return _at_precision(a) == _at_precision(b) and type(a) is type(b)


def differences(direct: Path, reference: Path) -> list[str]:
    found: list[str] = []
    a, b = openpyxl.load_workbook(direct), openpyxl.load_workbook(reference)
    if a.sheetnames != b.sheetnames:
        return [f"sheets {a.sheetnames} != {b.sheetnames}"]
    if {n: d.attr_text for n, d in a.defined_names.items()} != {n: d.attr_text for n, d in b.defined_names.items()}:
        found.append("defined names")
    for name in a.sheetnames:
        x, y = a[name], b[name]
        if x.dimensions != y.dimensions:
            found.append(f"{name} dimension {x.dimensions} != {y.dimensions}")
        if x.sheet_state != y.sheet_state:
            found.append(f"{name} state")
        for row_x, row_y in zip(x.iter_rows(), y.iter_rows(), strict=True):
            for c, d in zip(row_x, row_y, strict=True):
                if not _same_value(c.value, d.value) or c.data_type != d.data_type:
                    found.append(f"{name}!{c.coordinate}: {c.value!r} ({c.data_type}) != {d.value!r} ({d.data_type})")
                found += [f"{name}!{c.coordinate} {s}" for s in STYLE if _style(c, s) != _style(d, s)]
                if (c.comment and c.comment.text) != (d.comment and d.comment.text):
                    found.append(f"{name}!{c.coordinate} note")
        heights = [{r: d.height for r, d in s.row_dimensions.items() if d.height} for s in (x, y)]
        if heights[0] != heights[1]:
            found.append(f"{name} row heights")
        if [(v.sqref, v.formula1, v.type) for v in x.data_validations.dataValidation] != [
            (v.sqref, v.formula1, v.type) for v in y.data_validations.dataValidation
        ]:
            found.append(f"{name} validations")
        if [str(r.sqref) for r in x.conditional_formatting] != [str(r.sqref) for r in y.conditional_formatting]:
            found.append(f"{name} highlights")
        if x.auto_filter.ref != y.auto_filter.ref or x.freeze_panes != y.freeze_panes:
            found.append(f"{name} filter or panes")
    found += _reader_differences(direct, reference)
    return found


def _reader_differences(direct: Path, reference: Path) -> list[str]:
    """What the toolkit's own cell reader (both of its paths) and plan reader make of the two files."""
    found = []
    for fast in (True, False):
        values = []
        for path in (direct, reference):
            with guard.open_package(path) as zf:
                book = open_workbook(zf, fast=fast)
                cells = {}
                for ref in book.sheets:
                    sheet = book.read_sheet(ref)
                    cells[ref.name] = sorted(
                        (r, c, _at_precision(cell.value), cell[1:]) for r, c, cell in sheet.iter_cells()
                    )
                book.close()
                values.append(cells)
        if values[0] != values[1]:
            found.append(f"the cell reader ({'fast' if fast else 'exact'}) reads other values")
    plans_read = [read_plan(path).plan for path in (direct, reference)]
    plans_read[1].source = dataclasses.replace(plans_read[1].source, file=plans_read[0].source.file)
    for plan in plans_read:
        for records in plan.records.values():
            for record in records:
                record.values = {k: _at_precision(v) for k, v in record.values.items()}
    if plans_read[0] != plans_read[1]:
        found.append("the plan reads back differently")
    return found


# --- the cases --------------------------------------------------------------------------------------------------


def test_the_example_plan_is_written_as_one_call_per_cell_wrote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert differences(*both(tmp_path, monkeypatch, example_plan())) == []


def awkward_plan() -> Plan:
    """Every awkward text in every text column, with dates, numbers, booleans and references to them."""
    plan = example_plan()
    texts = [
        *TRICKY,
        "  leading and trailing  ",
        "a literal _x0041_ and _X00e9_",
        "controls \x01\x0b\x1f kept",
        "=HYPERLINK(\"http://x\")",
        "word " * 80,  # wraps onto many lines: a tall row
        "\n".join(["line"] * 12),
        "x" * 32_000,  # near what a cell holds (its label, "ID - text", still fits)
    ]
    for sheet in schema.SHEETS:
        rows = plan.rows(sheet.key)
        for i, text in enumerate(texts, start=500):
            values: dict[str, Any] = {}
            for col in sheet.columns:
                if col.kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.EMAIL):
                    values[col.key] = text
                elif col.kind is Kind.DATE:
                    values[col.key] = dt.date(1900, 1, 1) + dt.timedelta(days=i * 97)
                elif col.kind in (Kind.NUMBER, Kind.MONEY):
                    # (whole numbers stored as floats, up to where XlsxWriter writes them with an exponent)
                    values[col.key] = [0.1 + 0.2, 10**15, -3, 1.5e-7, True, 1e15, 9999999999999998.0, 1e16][i % 8]
                elif col.kind is Kind.CHOICE and col.choices:
                    values[col.key] = schema.CHOICES[col.choices][i % len(schema.CHOICES[col.choices])]
                elif col.kind is Kind.REF and plan.rows(col.ref or ""):
                    values[col.key] = plan.rows(col.ref or "")[i % len(plan.rows(col.ref or ""))].id
            row_id = f"{sheet.id_prefix}-{i}" if sheet.id_prefix else None
            if sheet.id_column is not None:
                values[sheet.id_column.key] = row_id
            rows.append(Record(sheet=sheet.key, id=row_id, values=values))
    return plan


def test_awkward_text_numbers_and_dates_are_written_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = awkward_plan()
    assert differences(*both(tmp_path, monkeypatch, plan)) == []
    # a number keeps every digit (XlsxWriter kept 16 significant ones)
    money = next(c for c in schema.sheet("improvements").columns if c.kind in (Kind.NUMBER, Kind.MONEY))
    read = read_plan(tmp_path / "direct.xlsx").plan
    rows = plan.rows("improvements")
    numbers = [(i, r.get(money.key)) for i, r in enumerate(rows) if type(r.get(money.key)) is float]
    assert numbers and all(read.rows("improvements")[i].get(money.key) == value for i, value in numbers)
    # and the grey rows of a member's packet, with their notes
    context = {sh.key: [r.id for r in plan.rows(sh.key)[::3] if r.id] for sh in schema.SHEETS if sh.id_prefix}
    assert differences(*both(tmp_path, monkeypatch, plan, context_rows=context)) == []


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(plan=plans())
def test_any_plan_is_written_as_one_call_per_cell_wrote_it(
    tmp_path_factory: pytest.TempPathFactory, plan: Plan
) -> None:
    tmp_path = tmp_path_factory.mktemp("random")
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert differences(*both(tmp_path, monkeypatch, plan, rows=8)) == []


def test_text_longer_than_a_cell_holds_is_refused_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = example_plan()
    plan.rows("steps")[0].values["step"] = "x" * 32_768
    with pytest.raises(GenerationError, match="Step"):
        generate.write_plan_workbook(tmp_path / "direct.xlsx", plan)
    with per_cell(monkeypatch), pytest.raises(GenerationError):
        generate.write_plan_workbook(tmp_path / "per-cell.xlsx", plan)
    assert not list(tmp_path.iterdir())  # nothing half written is left behind


def test_text_is_measured_as_excel_counts_it(tmp_path: Path) -> None:
    """Excel's 32,767 characters are UTF-16 code units: an emoji counts twice."""
    plan = example_plan()
    plan.rows("steps")[0].values["step"] = "\U0001f600" * 16_384  # 16,384 characters, 32,768 units
    with pytest.raises(GenerationError, match="Step"):
        generate.write_plan_workbook(tmp_path / "over.xlsx", plan)
    plan.rows("steps")[0].values["step"] = "\U0001f600" * 16_383 + "x"  # 32,767 units: fits
    read = read_plan(generate.write_plan_workbook(tmp_path / "fits.xlsx", plan)).plan
    assert read.rows("steps")[0].get("step") == "\U0001f600" * 16_383 + "x"


def test_the_lists_are_spliced_with_every_defined_name_covering_its_column(tmp_path: Path) -> None:
    path = generate.write_plan_workbook(tmp_path / "plan.xlsx", example_plan(), rows=30)
    book = openpyxl.load_workbook(path)
    lists = book[schema.LISTS_SHEET]
    for name, values in schema.CHOICES.items():
        ref = book.defined_names[schema.choice_list_name(name)].attr_text
        cells = [c.value for row in lists[ref.split("!")[1].replace("$", "")] for c in row]
        assert cells == list(values)
