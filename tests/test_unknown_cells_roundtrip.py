"""Round trips with cells the reader cannot take at face value (``model.Unknown``): formulas, error values,
dates that cannot be read. Packets, merge, diff and the generator carry ``model.written``: a formula or an
error value is never written back (the cell comes out blank, as it always has), a date the member typed as
unreadable text comes back as that text, and an unknown Responsible is nobody's packet but the "(no one)" one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from member_edits import Set, cell_value, edit_with_openpyxl, formula
from plans import clean_plan, get

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.audit.report import NO_ONE
from reentry_workbook.cycle.diff import compare
from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_model import EDITED
from reentry_workbook.cycle.packets import build_packets, make_packets, read_packet_identity
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import ERROR_VALUE, FORMULA, UNREADABLE_DATE, Unknown
from reentry_workbook.workbook.generate import write_plan_workbook


@pytest.fixture()
def master(tmp_path: Path) -> Path:
    return write_plan_workbook(tmp_path / "master.xlsx", clean_plan())


def _cell(path: Path, sheet_key: str, row_id: str, column: str) -> tuple[object, str]:
    plan = read_plan(path).plan
    row = get(plan, sheet_key, row_id).row
    return cell_value(path, schema.sheet(sheet_key).name, f"{plan.source.columns[sheet_key][column]}{row}")


def _no_formula_in_plan_cells(path: Path) -> None:
    """No plan cell holds a formula (the derived columns are the generator's own and are not compared)."""
    plan = read_plan(path).plan
    for sheet in schema.SHEETS:
        for rec in plan.rows(sheet.key):
            assert not any(isinstance(v, Unknown) for v in rec.values.values()), (sheet.name, rec.id)


def test_the_generator_writes_an_unknown_as_its_written_form_never_a_formula(tmp_path: Path) -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values["notes"] = Unknown(FORMULA, "HYPERLINK(\"http://x\",\"y\")")
    get(plan, "steps", "A-3").values["status"] = Unknown(ERROR_VALUE, "#N/A")
    get(plan, "steps", "A-4").values["due_date"] = Unknown(UNREADABLE_DATE, "next spring")
    plan.coalition["name"] = Unknown(FORMULA, "Lists!A1")
    path = write_plan_workbook(tmp_path / "written.xlsx", plan)

    assert _cell(path, "steps", "A-1", "notes") == (None, "n")
    assert _cell(path, "steps", "A-3", "status") == (None, "n")
    assert _cell(path, "steps", "A-4", "due_date") == ("next spring", "s")  # the member's text, as text
    back = read_plan(path).plan
    assert back.coalition["name"] is None
    assert get(back, "steps", "A-4").get("due_date") == Unknown(UNREADABLE_DATE, "next spring")


def test_a_master_formula_stays_out_of_packets_and_an_untouched_packet_changes_nothing(
    master: Path, tmp_path: Path
) -> None:
    with_formula = formula(master, tmp_path / "master (formula).xlsx", "steps", "A-1", "due_date", "=H5+180")
    packets = {read_packet_identity(p).member: p for p in make_packets(with_formula, tmp_path / "packets")}
    maria = packets["Maria Lopez"]
    assert _cell(maria, "steps", "A-1", "due_date") == (None, "n")

    result = merge(with_formula, [maria], tmp_path / "merged.xlsx")
    assert not [e for e in result.log if e.action == EDITED], "the member changed nothing"
    # The merge writes into the master: a cell no return changed is the coordinator's and stays as it was.
    assert _cell(result.output, "steps", "A-1", "due_date") == ("=H5+180", "f")


def test_a_date_typed_as_unreadable_text_is_merged_as_that_text(master: Path, tmp_path: Path) -> None:
    full = edit_with_openpyxl(master, tmp_path / "full.xlsx", [Set("steps", "A-1", "due_date", "next spring")])
    result = merge(master, [full], tmp_path / "merged.xlsx")
    assert [(e.action, e.id, e.field, e.new) for e in result.log if e.action == EDITED] == [
        (EDITED, "A-1", "due_date", Unknown(UNREADABLE_DATE, "next spring"))
    ]
    assert _cell(result.output, "steps", "A-1", "due_date") == ("next spring", "s")


def test_a_formula_over_a_value_reads_as_cleared_in_a_diff_and_the_same_formula_as_no_change(
    master: Path, tmp_path: Path
) -> None:
    one = formula(master, tmp_path / "one.xlsx", "steps", "A-1", "responsible", "=B2")
    two = formula(master, tmp_path / "two.xlsx", "steps", "A-1", "responsible", "=B2")
    assert compare(read_plan(one).plan, read_plan(two).plan) == []
    [change] = compare(read_plan(master).plan, read_plan(one).plan)
    assert (change.id, [(f.field, f.new) for f in change.fields]) == ("A-1", [("responsible", Unknown(FORMULA, "B2"))])
    assert change.to_dict()["fields"][0]["after"] is None, "a formula is never carried, in the JSON too"


def test_a_step_whose_responsible_cannot_be_read_goes_to_the_no_one_packet(master: Path, tmp_path: Path) -> None:
    path = formula(master, tmp_path / "owner.xlsx", "steps", "A-4", "responsible", '="Maria "&"Lopez"')
    packets = {p.member: p for p in build_packets(read_plan(path).plan)}
    assert set(packets) == {"Maria Lopez", "Sam Okafor", NO_ONE}
    assert [r.id for r in packets[NO_ONE].plan.rows("steps")] == ["A-4"]


def test_an_upgrade_notes_a_formula_and_writes_the_cell_blank(master: Path, tmp_path: Path) -> None:
    from reentry_workbook.cycle.upgrade import WHY_UNREAD, prepare_upgrade, write_upgrade

    old = formula(master, tmp_path / "old.xlsx", "goals", "G-1", "target_date", "=DATE(2028,6,30)")
    up = prepare_upgrade(old)
    assert [(n.value, n.why) for n in up.notes] == [("=DATE(2028,6,30)", WHY_UNREAD)]
    out = write_upgrade(up, tmp_path / "new.xlsx")
    assert _cell(out, "goals", "G-1", "target_date") == (None, "n")


def test_a_formula_s_date_never_counts_for_a_date_rule() -> None:
    plan = clean_plan()
    step = get(plan, "steps", "A-1")
    step.values["due_date"] = Unknown(FORMULA, "TODAY()-1")
    assert not step.is_overdue(dt.date(2030, 1, 1)) and not step.lacks_due_date()
