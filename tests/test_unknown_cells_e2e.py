"""A cell the reader cannot take at face value is filled, not blank (issue 9, item 3), end to end.

A blank template is filled with the clean plan as a member would (openpyxl), one cell is then given a formula,
an error value or a date that cannot be read, and the audit runs through the CLI (``audit --json``). Each
such cell gets exactly one finding (``formula-in-text``, ``error-value`` or ``unreadable-date``): never a
"without" rule on top, no error exit, and completeness and the per-person table count it as filled. A step
whose improvement cannot be read is not an error, but it cannot be shown to serve a goal: it does not count as
aligned.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fill import Filler, fill_plan
from plans import AS_OF, clean_plan

from reentry_workbook.audit.report import NO_ONE, UNKNOWN_OWNER
from reentry_workbook.cli import cli
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import new_workbook

PLAN = clean_plan()
STEPS = len(PLAN.rows("steps"))


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unknown")
    return fill_plan(new_workbook(folder / "blank.xlsx", rows=20), PLAN, folder / "Plan (filled in).xlsx")


def audit_json(path: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["audit", str(path), "--as-of", AS_OF.isoformat(), "--json", "--no-copy"])
    return result.exit_code, json.loads(result.output)


def returned(filled: Path, tmp_path: Path, edit) -> tuple[Filler, Path]:
    filler = Filler(filled)
    edit(filler)
    return filler, filler.save(tmp_path / "Plan (returned).xlsx")


# (sheet key or None for the Coalition sheet, row ID or field key, column key, what the member typed, the rule)
CELLS = {
    "due date typed as =H5+180": ("steps", "A-1", "due_date", "=H5+180", "formula-in-text"),
    "improvement typed as =B2": ("steps", "A-1", "improvement", "=B2", "formula-in-text"),
    "responsible typed as a formula": ("steps", "A-4", "responsible", '="Maria "&"Lopez"', "formula-in-text"),
    "due date left as #N/A": ("steps", "A-4", "due_date", "#N/A", "error-value"),
    "goal target typed as a formula": ("goals", "G-1", "target", "=B3*2", "formula-in-text"),
    "goal's priority left as #REF!": ("goals", "G-3", "priority", "#REF!", "error-value"),
    "mechanism typed as a formula": ("improvements", "I-2", "mechanism", "=Lists!A2", "formula-in-text"),
    "measure target typed as a formula": ("measures", "M-3", "target", "=M2+10", "formula-in-text"),
    "Last reviewed typed as a formula": (None, "last_reviewed", "", "=TODAY()", "formula-in-text"),
}


def _type(filler: Filler, sheet_key: str | None, where: str, column: str, text: str) -> str:
    """Type ``text`` as a member would (a formula, or an error value); return the cell's A1 reference."""
    if sheet_key is None:
        row, col = filler.coalition_cell(where)
        filler.ws(None).cell(row=row, column=col).value = text
        return filler.coalition_a1(where)
    if text.startswith("="):
        filler.formula(sheet_key, where, column, text)
    else:
        filler.set(sheet_key, where, column, text)
    return filler.cell(sheet_key, where, column)


@pytest.mark.parametrize("name", list(CELLS))
def test_a_cell_that_cannot_be_read_gets_one_finding_and_counts_as_filled(
    filled: Path, tmp_path: Path, name: str
) -> None:
    sheet_key, where, column, text, rule = CELLS[name]
    cell: list[str] = []
    _filler, path = returned(filled, tmp_path, lambda f: cell.append(_type(f, sheet_key, where, column, text)))

    code, report = audit_json(path)

    sheet_name = schema.COALITION_SHEET if sheet_key is None else schema.sheet(sheet_key).name
    assert [(f["rule"], f["sheet"], f["cell"]) for f in report["findings"]] == [(rule, sheet_name, cell[0])]
    assert code == 0, "a warning alone never makes the audit fail"
    assert report["summary"]["completeness"] == 1.0, "the cell is filled, only not readable"


def test_a_due_date_typed_as_a_formula_is_not_a_step_without_a_due_date(filled: Path, tmp_path: Path) -> None:
    _filler, path = returned(filled, tmp_path, lambda f: f.formula("steps", "A-1", "due_date", "=H5+180"))
    _code, report = audit_json(path)
    assert "step-without-due-date" not in report["summary"]["rule_counts"]
    assert sum(p["without_due_date"] for p in report["people"]) == 0
    assert sum(p["overdue"] for p in report["people"]) == 0, "an unknown date is never overdue"


def test_an_improvement_typed_as_a_formula_is_not_an_error_but_cannot_be_shown_to_serve_a_goal(
    filled: Path, tmp_path: Path
) -> None:
    _filler, path = returned(filled, tmp_path, lambda f: f.formula("steps", "A-1", "improvement", "=B2"))
    code, report = audit_json(path)
    assert code == 0
    assert report["summary"]["counts"]["error"] == 0
    assert "step-without-improvement" not in report["summary"]["rule_counts"]
    assert "broken-link" not in report["summary"]["rule_counts"]
    assert (report["summary"]["steps"], report["summary"]["steps_aligned"]) == (STEPS, STEPS - 1)
    g1 = next(g for g in report["goals"] if g["id"] == "G-1")
    assert g1["steps"] == 2, "A-1 no longer counts under G-1: which improvement it serves is unknown"


def test_a_responsible_typed_as_a_formula_is_someone_unknown_not_no_one(filled: Path, tmp_path: Path) -> None:
    edit = lambda f: f.formula("steps", "A-4", "responsible", '="Maria "&"Lopez"')  # noqa: E731
    _filler, path = returned(filled, tmp_path, edit)
    _code, report = audit_json(path)
    people = {p["responsible"]: p["steps"] for p in report["people"]}
    assert people[UNKNOWN_OWNER] == 1
    assert NO_ONE not in people
    assert list(people)[-1] == UNKNOWN_OWNER, "named people first"
    assert "step-without-owner" not in report["summary"]["rule_counts"]


def test_a_blank_cell_still_gives_its_without_rule(filled: Path, tmp_path: Path) -> None:
    """The control: what a formula no longer triggers, a cleared cell still does."""
    _filler, path = returned(filled, tmp_path, lambda f: f.set("steps", "A-1", "due_date", None))
    _code, report = audit_json(path)
    assert [f["rule"] for f in report["findings"]] == ["step-without-due-date"]
