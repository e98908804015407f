"""The master's formulas held as runs (cycle/merge_formulas.py): every formula given back as the sheet holds it,
and the merge's cached results as when every cell is held, however the master's formulas read its sheets."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from member_edits import Set, columns, edit_with_openpyxl, find_row, load
from openpyxl.utils import get_column_letter
from plans import add_step, clean_plan

from reentry_workbook.cycle import merge_layout
from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_formulas import Formulas
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import write_plan_workbook
from reentry_workbook.xlsx.cells import Workbook
from reentry_workbook.xlsx.opc import Package
from reentry_workbook.xlsx.sheet_cells import ERROR, FORMULA

LABEL = 'IF(Goals!$C{r}="","",Goals!$A{r}&" - "&Goals!$C{r})'


def _flags() -> dict[tuple[int, int], tuple[str, str]]:
    flags = {(r - 1, 9): (FORMULA, LABEL.format(r=r)) for r in range(2, 200)}
    flags[(99, 9)] = (FORMULA, LABEL.format(r=7))  # a cell of the column typed over: its own run
    flags[(149, 9)] = (FORMULA, LABEL.format(r="0150"))  # a row number with a leading zero: kept as typed
    flags |= {(r, 3): (FORMULA, f"SUM($B$2:$B$9)+B{r + 1}") for r in range(4, 40)}  # absolute rows stay
    flags |= {(r, 3): (FORMULA, f"B{r + 1}*2") for r in range(60, 70)}  # after a gap, another formula
    flags[(5, 5)] = (ERROR, "#REF!")
    return flags


def test_every_formula_is_given_back_as_the_sheet_holds_it() -> None:
    flags = _flags()
    found = Formulas.of(flags)
    formulas = {k: text for k, (flag, text) in flags.items() if flag == FORMULA}
    assert found.count() == len(formulas)
    assert {(r, c): found.get(r, c) for r, c in formulas} == formulas
    assert found.get(0, 9) is None and found.get(200, 9) is None and found.get(5, 5) is None
    assert found.get(50, 3) is None and found.get(3, 3) is None
    # Filled-down formulas are held once per run: column J breaks at the typed-over cell and at the leading zero
    # (kept as typed at the top of its run, the rows below it following on).
    assert [(run.first, run.last) for run in found.runs[9]] == [(1, 98), (99, 99), (100, 148), (149, 198)]
    assert [(run.first, run.last) for run in found.runs[3]] == [(4, 39), (60, 69)]
    assert found.in_row(10) == [(3, formulas[(10, 3)]), (9, formulas[(10, 9)])]


def test_only_the_runs_that_read_a_written_column_are_looked_at() -> None:
    found = Formulas.of(_flags())
    reading = list(found.reading("Lists", {"Goals": {2}}))
    assert [(r, c) for r, c, _text in reading] == [(r, 9) for r in range(1, 199)]
    assert all(text == found.get(r, c) for r, c, text in reading)
    assert not list(found.reading("Lists", {"Goals": {1}, "Lists": {3}}))
    assert set(found.columns_read("Lists")) == {("Goals", 0), ("Goals", 2)}


def _read_sheets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the names of the sheets read (by any workbook of this process, whole or for their formulas
    alone), in order."""
    read: list[str] = []
    for method in ("read_sheet", "read_formulas"):
        real = getattr(Workbook, method)

        def spy(self: Workbook, sheet: Any, real: Any = real) -> Any:
            read.append(sheet if isinstance(sheet, str) else sheet.name)
            return real(self, sheet)

        monkeypatch.setattr(Workbook, method, spy)
    return read


def _master_with_a_formula_reading_goals(folder: Path) -> tuple[Path, str]:
    """A master whose Action Steps sheet holds a formula of the template's shape that reads a goal's baseline, which
    no formula of the template reads; returns it and the formula's cell."""
    plan = clean_plan()
    for i in range(6, 30):
        add_step(plan, f"A-{i}", "I-1", f"Step {i} of the housing work")
    made = write_plan_workbook(folder / "made.xlsx", plan)
    book = load(made)
    goals = book[schema.sheet("goals").name]
    baseline = get_column_letter(columns(goals, "goals")["baseline"])
    row = find_row(goals, "goals", "G-1")
    steps = book[schema.sheet("steps").name]
    where = f"{get_column_letter(steps.max_column + 2)}{schema.FIRST_DATA_ROW}"
    sheet = schema.sheet("goals").name
    steps[where] = f"=IF('{sheet}'!${baseline}{row}=\"\",\"\",'{sheet}'!${baseline}{row}&\"\")"
    master = folder / "master.xlsx"
    book.save(master)
    book.close()
    return master, where


def test_a_sheet_read_before_a_formula_reading_more_of_it_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master, where = _master_with_a_formula_reading_goals(tmp_path)
    copy = shutil.copyfile(master, tmp_path / "copy.xlsx")
    edits = [Set("goals", "G-1", "baseline", "12 people housed")]
    returned = edit_with_openpyxl(copy, tmp_path / "return.xlsx", edits)
    read = _read_sheets(monkeypatch)
    merge(master, [returned], tmp_path / "pruned.xlsx", jobs=1)
    goals = schema.sheet("goals").name
    # The master is read once, its plan and its layout together (keeping of each sheet the columns the template's
    # formulas read), then the Lists sheet's formulas; but the goals, pruned before the steps' formula reading their
    # baseline was met, are read again. Then the return is read.
    master_reads = [schema.COALITION_SHEET, *(s.name for s in schema.SHEETS), schema.LISTS_SHEET, goals]
    assert read[: len(master_reads)] == master_reads
    assert read.count(goals) == 3  # the master, again for its layout, the return
    book = openpyxl.load_workbook(tmp_path / "pruned.xlsx", data_only=True)
    try:
        assert book[schema.sheet("steps").name][where].value == "12 people housed"
    finally:
        book.close()
    monkeypatch.setattr(merge_layout, "_keep_what_formulas_read", lambda cells, cols: cells)
    merge(master, [returned], tmp_path / "whole.xlsx", jobs=1)
    whole, pruned = Package.read(tmp_path / "whole.xlsx"), Package.read(tmp_path / "pruned.xlsx")
    assert {n: pruned.data[n] for n in pruned.data} == {n: whole.data[n] for n in whole.data}


def test_a_master_in_the_template_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The columns the template's own formulas read (the Lists sheet's labels, the derived Goal column) are kept as
    each sheet of the master is read for its plan: no sheet of the master is read twice."""
    plan = clean_plan()
    for i in range(6, 30):
        add_step(plan, f"A-{i}", "I-1", f"Step {i} of the housing work")
    master = write_plan_workbook(tmp_path / "master.xlsx", plan)
    copy = shutil.copyfile(master, tmp_path / "copy.xlsx")
    edits = [
        Set("improvements", "I-1", "improvement", "Warm handoff at release"),
        Set("improvements", "I-1", "goal", "G-2"),
        Set("goals", "G-1", "goal", "Housed"),
    ]
    returned = edit_with_openpyxl(copy, tmp_path / "return.xlsx", edits)
    read = _read_sheets(monkeypatch)
    merged = merge(master, [returned], tmp_path / "merged.xlsx", jobs=1)
    plan_sheets = [schema.COALITION_SHEET, *(s.name for s in schema.SHEETS)]
    assert read == [*plan_sheets, schema.LISTS_SHEET, *plan_sheets]  # the master, its Lists formulas, the return
    assert merged.edits == 3
    # The cached results of the formulas reading what changed are worked out from the columns kept.
    book = openpyxl.load_workbook(tmp_path / "merged.xlsx", data_only=True)
    try:
        lists = [c.value for row in book[schema.LISTS_SHEET].iter_rows() for c in row]
        steps = book[schema.sheet("steps").name]
        goal_column = columns(steps, "steps")["goal"]
        goals = {steps.cell(find_row(steps, "steps", f"A-{i}"), goal_column).value for i in range(6, 30)}
    finally:
        book.close()
    assert "I-1 - Warm handoff at release" in lists and "G-1 - Housed" in lists
    assert goals == {"G-2 - Two in three people employed within 90 days of release"}  # the steps of I-1
