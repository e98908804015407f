"""Upgrading a workbook made by an earlier template version: every entry survives.

The old workbooks here are built with openpyxl from the frozen declaration in tests/frozen/schema_v1.py (the
first template as shipped), never from the current one, so these tests keep proving the upgrade path after
the layout changes. Members' own additions (a column, a sheet, a Coalition row, a formula) must come out on
the Upgrade Notes sheet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from frozen import schema_v1 as v1
from member_edits import load, table
from opened import count_opens
from openpyxl.packaging.custom import StringProperty

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.cycle.diff import compare
from reentry_workbook.cycle.roundtrip import same
from reentry_workbook.cycle.upgrade import LEGACY, NOTE_HEADERS, RECORD_SHEETS, Legacy, prepare_upgrade, upgrade
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import Plan
from reentry_workbook.workbook.example import example_plan
from reentry_workbook.workbook.generate import write_plan_workbook

N_SHEET, N_CELL, N_ROW_ID, N_COLUMN, N_VALUE, N_WHY = (h for h, _w in NOTE_HEADERS)

# Things members add that no template has a place for (their own words, not template names).
OWN_COLUMN = "Budget line"
OWN_SHEET = "My notes"
OWN_LABEL = "Funding partner"
OWN_FORMULA = "=1+1"
BLANK_ROWS = 5  # pre-formatted rows with only an ID, as the generator leaves them


def _label(parent: v1.Sheet, plan: Plan, ref: Any) -> Any:
    """A reference as the v1 dropdown wrote it: "ID - text"."""
    row = next((r for r in plan.rows(parent.key) if r.id == ref), None)
    return f"{ref}{v1.ID_SEPARATOR}{row.get(parent.label)}" if row is not None else ref


def write_v1(
    path: Path,
    plan: Plan,
    *,
    own_additions: bool = True,
    renamed: dict[str, str] | None = None,
    without: tuple[str, ...] = (),
) -> Path:
    """Write ``plan`` in the v1 layout with openpyxl; ``renamed`` maps a v1 header to the text used instead,
    and headers or sheet names in ``without`` are left out (as if that layout had not had them)."""
    renamed = renamed or {}
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in v1.SHEET_ORDER:
        if name not in without:
            book.create_sheet(name)
    book[v1.START_SHEET]["A1"] = f"{v1.TEMPLATE_NAME} {v1.TEMPLATE_VERSION}"
    ws = book[v1.COALITION_SHEET]
    ws.append([v1.COALITION_LABEL_HEADER, v1.COALITION_VALUE_HEADER])
    for fld in v1.COALITION_FIELDS:
        ws.append([fld.label, plan.coalition.get(fld.key)])
    if own_additions:
        ws.append([OWN_LABEL, "Alder Community Foundation"])
    for sheet in v1.SHEETS:
        if sheet.name in without:
            continue
        ws = book[sheet.name]
        columns = [c for c in sheet.columns if c.header not in without]
        ws.append([renamed.get(c.header, c.header) for c in columns])
        for rec in plan.rows(sheet.key):
            row = []
            for col in columns:
                if col.kind is v1.Kind.ID:
                    row.append(rec.id)
                elif col.kind is v1.Kind.REF:
                    row.append(_label(v1.SHEETS_BY_KEY[col.ref], plan, rec.get(col.key)))
                elif col.kind is v1.Kind.DERIVED:
                    row.append(None)
                else:
                    row.append(rec.get(col.key))
            ws.append(row)
        if sheet.id_prefix:
            last = len(plan.rows(sheet.key))
            for n in range(last + 1, last + 1 + BLANK_ROWS):
                ws.append([f"{sheet.id_prefix}-{n}"])
    if own_additions:
        steps = book[v1.sheet("steps").name]
        own = len(v1.sheet("steps").columns) + 1
        steps.cell(row=v1.HEADER_ROW, column=own, value=OWN_COLUMN)
        steps.cell(row=v1.FIRST_DATA_ROW, column=own, value="County general fund")
        steps.cell(row=v1.FIRST_DATA_ROW + 1, column=own, value=12500)
        notes = next(i for i, c in enumerate(v1.sheet("steps").columns, start=1) if c.key == "notes")
        steps.cell(row=v1.FIRST_DATA_ROW + 2, column=notes, value=OWN_FORMULA)
        mine = book.create_sheet(OWN_SHEET)
        mine["A1"] = "Call Luis about the MOU"
        mine["B3"] = 42
    for name, value in (
        (v1.PROP_TEMPLATE, v1.TEMPLATE_NAME),
        (v1.PROP_VERSION, v1.TEMPLATE_VERSION),
        (v1.PROP_FINGERPRINT, v1.fingerprint()),
    ):
        book.custom_doc_props.append(StringProperty(name=name, value=value))
    book.save(path)
    book.close()
    return path


def _new_home(sheet: v1.Sheet, col: v1.Column, legacy: Legacy = LEGACY) -> str | None:
    """The current column key a v1 column's entries belong in, or None when it has none."""
    if sheet.key not in schema.SHEETS_BY_KEY:
        return None
    current = schema.sheet(sheet.key)
    mapped = {schema.normalise_header(k): v for k, v in legacy.headers.get(sheet.key, {}).items()}
    key = mapped.get(schema.normalise_header(col.header), col.key)
    return key if any(c.key == key and c.kind is not schema.Kind.DERIVED for c in current.columns) else None


def _notes(path: Path) -> list[dict[str, Any]]:
    book = load(path)
    try:
        if schema.UPGRADE_NOTES_SHEET not in book.sheetnames:
            return []
    finally:
        book.close()
    return table(path, schema.UPGRADE_NOTES_SHEET, N_SHEET)


def test_every_entry_of_a_v1_workbook_survives_the_upgrade(tmp_path: Path) -> None:
    plan = example_plan()
    old = write_v1(tmp_path / "plan-v1.xlsx", plan)
    new = upgrade(old, tmp_path / "plan-current.xlsx")
    upgraded = read_plan(new).plan
    notes = _notes(new)
    noted = {(n[N_SHEET], str(n.get(N_VALUE))) for n in notes}
    formula_cell = ("steps", plan.rows("steps")[2].id, "notes")
    for sheet in v1.SHEETS:
        current = upgraded.rows(sheet.key) if sheet.key in schema.SHEETS_BY_KEY else []
        by_id = {r.id or r.get(sheet.label): r for r in current}
        for rec in plan.rows(sheet.key):
            key = rec.id or rec.get(sheet.label)
            for col in sheet.columns:
                if col.kind in (v1.Kind.ID, v1.Kind.DERIVED) or rec.get(col.key) in (None, ""):
                    continue
                home = _new_home(sheet, col)
                if (sheet.key, rec.id, col.key) == formula_cell:
                    continue  # the formula typed over it is what the old cell holds now
                if home is None:
                    assert (sheet.name, str(rec.get(col.key))) in noted
                else:
                    assert same(by_id[key].get(home), rec.get(col.key)), (sheet.name, key, col.header)
    for fld in v1.COALITION_FIELDS:
        assert same(upgraded.coalition.get(fld.key), plan.coalition.get(fld.key)), fld.label
    # Exactly the members' own additions are in the notes: nothing else, nothing less.
    steps = v1.sheet("steps").name
    assert noted == {
        (steps, "County general fund"),
        (steps, "12500"),
        (steps, OWN_FORMULA),
        (OWN_SHEET, "Call Luis about the MOU"),
        (OWN_SHEET, "42"),
        (v1.COALITION_SHEET, "Alder Community Foundation"),
    }
    budget = next(n for n in notes if n[N_VALUE] == "County general fund")
    assert (budget[N_COLUMN], budget[N_ROW_ID]) == (OWN_COLUMN, plan.rows("steps")[0].id)
    book = load(new)
    try:
        ws = book[schema.UPGRADE_NOTES_SHEET]
        formula_notes = [c for r in ws.iter_rows() for c in r if c.value == OWN_FORMULA]
        assert formula_notes and all(c.data_type == "s" for c in formula_notes)  # kept as text, not run
    finally:
        book.close()


def test_a_current_workbook_comes_through_unchanged(tmp_path: Path) -> None:
    old = write_plan_workbook(tmp_path / "current.xlsx", example_plan())
    prepared = prepare_upgrade(old)
    assert prepared.current and prepared.from_version == schema.TEMPLATE_VERSION and prepared.notes == []
    new = upgrade(old, tmp_path / "again.xlsx")
    assert compare(read_plan(old).plan, read_plan(new).plan) == []
    assert schema.UPGRADE_NOTES_SHEET not in load(new).sheetnames


def test_an_earlier_header_name_lands_in_its_new_home_when_declared(tmp_path: Path) -> None:
    plan = example_plan()
    responsible = v1.sheet("steps").column("responsible").header
    old_name = "Owner"  # as if an earlier template had called the column this
    old = write_v1(tmp_path / "old.xlsx", plan, own_additions=False, renamed={responsible: old_name})
    legacy = Legacy(headers={"steps": {old_name: "responsible"}})
    prepared = prepare_upgrade(old, legacy=legacy)
    assert prepared.notes == []
    got = {r.id: r.get("responsible") for r in prepared.plan.rows("steps")}
    assert got == {r.id: r.get("responsible") for r in plan.rows("steps")}
    # Undeclared, the entries are not lost either: they wait on the notes sheet.
    plain = prepare_upgrade(old)
    kept = {n.value for n in plain.notes if n.column == old_name}
    assert kept == {str(r.get("responsible")) for r in plan.rows("steps") if r.get("responsible")}


def test_cli_upgrade_reports_the_notes_and_never_touches_the_input(tmp_path: Path) -> None:
    old = write_v1(tmp_path / "plan 2026.xlsx", example_plan())
    before = old.read_bytes()
    out = tmp_path / "upgraded.xlsx"
    runner = CliRunner()
    result = runner.invoke(cli, ["upgrade", str(old), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output and schema.UPGRADE_NOTES_SHEET in result.output
    assert old.read_bytes() == before
    again = runner.invoke(cli, ["upgrade", str(old), "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    same_file = runner.invoke(cli, ["upgrade", str(old), "-o", str(old), "--force"])
    assert same_file.exit_code == 2 and old.read_bytes() == before



def test_an_audited_and_merged_workbook_keeps_its_audit_history_and_merge_sheets_through_the_upgrade(
    tmp_path: Path,
) -> None:
    """The trend goes on after an upgrade, and what the last merge left to decide stays in view: the Audit History
    is carried as history and the Merge Conflicts and Merge Log as they were, none of them as upgrade notes."""
    from member_edits import Set, edit_with_openpyxl

    from reentry_workbook.cycle.merge import merge

    plan = write_plan_workbook(tmp_path / "plan.xlsx", example_plan())
    runner = CliRunner()
    for as_of, src, out in (("2027-02-01", plan, "feb.xlsx"), ("2027-03-01", tmp_path / "feb.xlsx", "mar.xlsx")):
        result = runner.invoke(cli, ["audit", str(src), "-o", str(tmp_path / out), "--as-of", as_of])
        assert result.exit_code in (0, 1), result.output
    audited = tmp_path / "mar.xlsx"
    copies = [
        edit_with_openpyxl(audited, tmp_path / f"{who}.xlsx", [Set("steps", "A-1", "notes", note)])
        for who, note in (("ana", "Room booked"), ("ben", "Room cancelled"))
    ]
    merged = merge(audited, copies, tmp_path / "merged.xlsx").output  # a conflict: left to decide
    prepared = prepare_upgrade(merged)
    assert not [n for n in prepared.notes if n.sheet in (schema.HISTORY_SHEET, *RECORD_SHEETS)]
    new = upgrade(merged, tmp_path / "upgraded.xlsx")
    book = load(new)
    old = load(merged)
    for name in RECORD_SHEETS:
        assert [[c.value for c in row] for row in book[name].iter_rows()] == [
            [c.value for c in row] for row in old[name].iter_rows()
        ], name
    result = runner.invoke(cli, ["audit", str(new), "--as-of", "2027-04-01", "--no-copy", "--json"])
    history = json.loads(result.stdout)["history"]
    assert [row["as_of"] for row in history] == ["2027-02-01", "2027-03-01", "2027-04-01"]


def test_a_sheet_or_column_the_old_layout_lacked_comes_out_empty(tmp_path: Path) -> None:
    plan = example_plan()
    missing_column = v1.sheet("steps").column("resources_needed")
    missing_sheet = v1.sheet("measures")
    old = write_v1(
        tmp_path / "older.xlsx", plan, own_additions=False, without=(missing_column.header, missing_sheet.name)
    )
    prepared = prepare_upgrade(old)
    assert prepared.notes == []
    assert prepared.plan.rows("measures") == []
    steps = {r.id: r for r in prepared.plan.rows("steps")}
    for rec in plan.rows("steps"):
        assert steps[rec.id].get("resources_needed") is None
        assert steps[rec.id].get("step") == rec.get("step")
    new = upgrade(old, tmp_path / "new.xlsx")
    assert schema.sheet("measures").name in load(new).sheetnames


def test_the_old_workbook_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = write_v1(tmp_path / "v1.xlsx", example_plan())
    opened = count_opens(monkeypatch)
    notes = prepare_upgrade(old).notes
    assert {n.value for n in notes} >= {OWN_FORMULA, "Alder Community Foundation"}
    assert opened == {old.name: 1}  # the plan and every other cell come from one read, not a second parser


def test_a_cell_far_below_the_plan_is_accounted_for_without_walking_the_empty_rows_above_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every cell the new layout has no home for becomes a note; the sheets are walked row by row, over the rows
    that hold something only (a stray cell a million rows down must not cost a million rows)."""
    from reentry_workbook.xlsx import sheet_cells

    plan = example_plan()
    path = write_plan_workbook(tmp_path / "plan.xlsx", plan)
    book = load(path)
    goals = book[schema.sheet("goals").name]
    goals.cell(1_000_000, 30, "a note far below")  # column AD: no column of the layout
    book.save(path)
    book.close()
    asked: list[int] = []
    for kind in (sheet_cells.DenseCells, sheet_cells.SparseCells):
        real = kind.row_items
        monkeypatch.setattr(kind, "row_items", lambda self, row, _real=real: asked.append(row) or _real(self, row))
    notes = prepare_upgrade(path).notes
    assert [(n.sheet, n.cell, n.value) for n in notes] == [(goals.title, "AD1000000", "a note far below")]
    assert len(asked) < 2_000
