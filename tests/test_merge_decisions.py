"""The merge's decisions at their edges: which ID an added row gets and where it goes, rows without an ID, what
the merge reports and returns.

Each test pins a boundary mutation testing found unguarded (docs/testing.md). The master is tests/plans.py's
clean plan written with few pre-formatted rows, so a return soon runs past them: Action Steps holds A-1 to A-5
and one blank row pre-filled with A-6.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fill import Filler
from member_edits import table
from plans import add, clean_plan, get

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cycle.diff import compare
from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_model import (
    ADDED,
    CONTEXT_EDIT,
    DELETED,
    EDITED,
    NOTE,
    READ,
    UNREADABLE,
    Issue,
    Origin,
    ReturnedCopy,
)
from reentry_workbook.cycle.merge_sheets import LOG_HEADERS
from reentry_workbook.cycle.packets import make_packets
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import write_plan_workbook
from reentry_workbook.xlsx.workbook_edit import worksheet_parts

STEPS = schema.sheet("steps")
SPARE_ID = f"{STEPS.id_prefix}-6"  # the pre-filled ID of the master's one blank Action Steps row


def _id(n: int) -> str:
    return f"{STEPS.id_prefix}-{n}"


@pytest.fixture()
def master(tmp_path: Path) -> Path:
    plan = clean_plan()
    assert len(plan.rows("steps")) == 5
    return write_plan_workbook(tmp_path / "master.xlsx", plan, rows=6)


def _steps(path: Path) -> dict[str, tuple[str | None, int]]:
    """Each step's text -> (its ID, its worksheet row), as the reader finds them in ``path``."""
    return {r.get("step"): (r.id, r.row) for r in read_plan(path).plan.rows("steps")}


def _copy_adding_steps(master: Path, dest: Path, *texts: str) -> Path:
    """A full copy of the master where a member typed one new step per text into the next unused rows."""
    copy = Filler(master)
    for text in texts:
        copy.add_row("steps", {"improvement": "I-1", "step": text})
    return copy.save(dest)


def _defined_names(path: Path) -> dict[str, str]:
    """The workbook-level defined names (the dropdowns' lists), not those of one sheet (filters)."""
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/workbook.xml").decode()
    return dict(re.findall(r'<definedName name="([^"]+)">([^<]*)</definedName>', xml))


def _last_row(reference: str) -> int:
    return int(reference.rsplit("$", 1)[1])


# --- where an added row goes and which ID it gets ----------------------------------------------------------


def test_added_rows_fill_the_blank_row_then_go_one_below_the_other_with_the_next_ids(
    master: Path, tmp_path: Path
) -> None:
    first = schema.FIRST_DATA_ROW + 5  # the blank pre-formatted row, pre-filled with A-6
    copy = _copy_adding_steps(master, tmp_path / "copy.xlsx", "Rent the hall", "Print flyers", "Call the radio")
    result = merge(master, [copy], tmp_path / "merged.xlsx")
    steps = _steps(result.output)
    assert steps["Rent the hall"] == (SPARE_ID, first)  # its pre-filled ID is kept: nobody else uses it
    assert steps["Print flyers"] == (_id(7), first + 1)
    assert steps["Call the radio"] == (_id(8), first + 2)
    assert [(e.id, e.merged_id) for e in result.log if e.action == ADDED] == [
        (SPARE_ID, SPARE_ID), ("", _id(7)), ("", _id(8))
    ]


def test_the_dropdown_lists_grow_by_the_rows_appended_and_not_by_a_blank_row_filled(
    master: Path, tmp_path: Path
) -> None:
    def copy_adding_improvements(dest: Path, count: int) -> Path:  # Improvements has two blank rows
        copy = Filler(master)
        for n in range(count):
            copy.add_row("improvements", {"goal": "G-1", "improvement": f"Fund {n}"})
        return copy.save(dest)

    listed = schema.reference_list_name("improvements")
    before = _defined_names(master)[listed]
    one = merge(master, [copy_adding_improvements(tmp_path / "one.xlsx", 1)], tmp_path / "a.xlsx")
    assert _defined_names(one.output)[listed] == before
    four = merge(master, [copy_adding_improvements(tmp_path / "four.xlsx", 4)], tmp_path / "b.xlsx")
    assert _last_row(_defined_names(four.output)[listed]) == _last_row(before) + 2
    merged = read_plan(four.output).plan
    assert [r.get("improvement") for r in merged.rows("improvements")][-4:] == [f"Fund {n}" for n in range(4)]


def test_a_blank_rows_pre_filled_id_cell_is_left_untouched_when_the_row_keeps_that_id(
    master: Path, tmp_path: Path
) -> None:
    def id_cell(path: Path, row: int) -> str:
        part = worksheet_parts(path)[STEPS.name]
        with zipfile.ZipFile(path) as zf:
            xml = zf.read(part).decode()
        found = re.search(rf'<c r="A{row}"[^>]*?(?:/>|>.*?</c>)', xml)
        assert found is not None
        return found.group(0)

    row = schema.FIRST_DATA_ROW + 5
    result = merge(master, [_copy_adding_steps(master, tmp_path / "copy.xlsx", "Rent the hall")], tmp_path / "m.xlsx")
    assert id_cell(result.output, row) == id_cell(master, row)  # the ID it showed is the ID it keeps: untouched


def test_a_pre_filled_id_two_returns_both_used_goes_to_neither(master: Path, tmp_path: Path) -> None:
    mine = _copy_adding_steps(master, tmp_path / "mine.xlsx", "Rent the hall")
    theirs = _copy_adding_steps(master, tmp_path / "theirs.xlsx", "Print flyers")
    result = merge(master, [mine, theirs], tmp_path / "merged.xlsx")
    steps = _steps(result.output)
    first = schema.FIRST_DATA_ROW + 5
    assert steps["Rent the hall"] == (_id(7), first)
    assert steps["Print flyers"] == (_id(8), first + 1)
    assert SPARE_ID not in {i for i, _row in steps.values()}


def test_a_pre_filled_id_the_master_already_uses_is_never_given_twice(tmp_path: Path) -> None:
    plain = write_plan_workbook(tmp_path / "plain.xlsx", clean_plan(), rows=7)
    coordinator = Filler(plain)  # typed a step into the blank row of A-6, but gave it the ID of the next one
    coordinator.add_row("steps", {"id": _id(7), "improvement": "I-2", "step": "Visit the shelter"})
    master = coordinator.save(tmp_path / "master.xlsx")
    copy = _copy_adding_steps(master, tmp_path / "copy.xlsx", "Rent the hall")  # lands on the row pre-filled A-7
    result = merge(master, [copy], tmp_path / "merged.xlsx")
    steps = _steps(result.output)
    assert steps["Visit the shelter"][0] == _id(7)
    assert steps["Rent the hall"][0] == _id(8)
    ids = [r.id for r in read_plan(result.output).plan.rows("steps")]
    assert len(ids) == len(set(ids))


def test_blank_rows_pre_filled_with_one_id_by_hand_never_give_it_twice(tmp_path: Path) -> None:
    plain = write_plan_workbook(tmp_path / "plain.xlsx", clean_plan(), rows=7)
    coordinator = Filler(plain)  # filled the A-6 of the first blank row down into the next one
    coordinator.put("steps", schema.FIRST_DATA_ROW + 6, "id", SPARE_ID)
    master = coordinator.save(tmp_path / "master.xlsx")
    copy = _copy_adding_steps(master, tmp_path / "copy.xlsx", "Rent the hall", "Print flyers")
    result = merge(master, [copy], tmp_path / "merged.xlsx")
    steps = _steps(result.output)
    assert steps["Rent the hall"][0] == SPARE_ID
    assert steps["Print flyers"][0] == _id(7)


def test_a_new_row_and_the_steps_under_it_keep_the_id_the_member_saw(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    copy.add_row("improvements", {"goal": "G-1", "improvement": "Deposit fund"})  # on the row pre-filled I-5
    copy.add_row("steps", {"improvement": "I-5", "step": "Rent the hall"})
    copy.save(tmp_path / "copy.xlsx")
    merged = read_plan(merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx").output).plan
    fund = next(r for r in merged.rows("improvements") if r.get("improvement") == "Deposit fund")
    hall = next(r for r in merged.rows("steps") if r.get("step") == "Rent the hall")
    assert (fund.id, hall.get("improvement")) == ("I-5", "I-5")


def test_an_id_another_return_refers_to_is_not_given_to_a_new_row(master: Path, tmp_path: Path) -> None:
    mine = Filler(master)
    mine.add_row("improvements", {"goal": "G-1", "improvement": "Deposit fund"})  # on the row pre-filled I-5
    mine.save(tmp_path / "mine.xlsx")
    theirs = Filler(master)
    theirs.set("steps", "A-4", "improvement", "I-5")  # names an I-5 their copy does not have
    theirs.save(tmp_path / "theirs.xlsx")
    result = merge(master, [tmp_path / "mine.xlsx", tmp_path / "theirs.xlsx"], tmp_path / "merged.xlsx")
    merged = read_plan(result.output).plan
    fund = next(r for r in merged.rows("improvements") if r.get("improvement") == "Deposit fund")
    assert fund.id != "I-5"  # else their step would silently point at a row they never saw


def test_fresh_ids_come_after_every_id_a_return_typed(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    copy.add_row("steps", {"id": _id(99), "improvement": "I-1", "step": "Rent the hall"})
    copy.add_row("steps", {"id": None, "improvement": "I-1", "step": "Print flyers"})
    copy.save(tmp_path / "copy.xlsx")
    steps = _steps(merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx").output)
    assert steps["Rent the hall"][0] == SPARE_ID  # the blank row's ID: nobody else uses it
    assert steps["Print flyers"][0] == _id(100)


def test_a_sheet_without_a_single_id_anywhere_numbers_its_first_new_row_1(tmp_path: Path) -> None:
    plan = clean_plan()
    plan.records["measures"] = []
    plain = write_plan_workbook(tmp_path / "plain.xlsx", plan, rows=6)
    coordinator = Filler(plain)  # cleared the pre-filled IDs of every blank row
    for row in range(schema.FIRST_DATA_ROW, schema.FIRST_DATA_ROW + 6):
        coordinator.put("measures", row, "id", None)
    master = coordinator.save(tmp_path / "master.xlsx")
    copy = Filler(master)
    copy.add_row("measures", {"improvement": "I-1", "measure": "People housed"})
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    measure = schema.sheet("measures")
    assert [e.merged_id for e in result.log if e.action == ADDED] == [f"{measure.id_prefix}-1"]


def test_references_to_an_id_the_return_repeats_follow_its_first_row(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    for text in ("Deposit fund", "Landlord forum"):  # the member typed I-9 on both new rows
        copy.add_row("improvements", {"id": "I-9", "goal": "G-1", "improvement": text})
    copy.set("steps", "A-1", "improvement", "I-9")
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    merged = read_plan(result.output).plan
    fund = next(r for r in merged.rows("improvements") if r.get("improvement") == "Deposit fund")
    assert get(merged, "steps", "A-1").get("improvement") == fund.id


# --- a row sent twice -----------------------------------------------------------------------------------------


def _texts(path: Path, sheet_key: str, column_key: str) -> list[Any]:
    return [r.get(column_key) for r in read_plan(path).plan.rows(sheet_key)]


def test_a_new_row_two_returns_sent_alike_is_added_once_and_each_line_names_the_other(
    master: Path, tmp_path: Path
) -> None:
    """A member who sent their copy twice (or a folder still holding an earlier merge) adds nothing twice."""
    first = _copy_adding_steps(master, tmp_path / "copy.xlsx", "Rent the hall")
    again = _copy_adding_steps(master, tmp_path / "copy (2).xlsx", "Rent the hall")
    result = merge(master, [first, again], tmp_path / "merged.xlsx")
    assert _texts(result.output, "steps", "step").count("Rent the hall") == 1
    assert result.added == 1
    lines = [(e.origin.file, e.sheet, e.id, e.merged_id, e.new, e.note) for e in result.log if e.action == ADDED]
    [hall_id] = [r.id for r in read_plan(result.output).plan.rows("steps") if r.get("step") == "Rent the hall"]
    assert lines == [
        ("copy.xlsx", "steps", SPARE_ID, hall_id, "Rent the hall",
         f"a new row (marked {SPARE_ID} in the return); the same new row also came from copy (2).xlsx"),
        ("copy (2).xlsx", "steps", SPARE_ID, hall_id, "Rent the hall",
         "the same new row as copy.xlsx sent; added once"),
    ]
    assert not result.issues


def test_a_new_row_differing_in_one_cell_from_another_returns_is_a_row_of_its_own(
    master: Path, tmp_path: Path
) -> None:
    first = _copy_adding_steps(master, tmp_path / "a.xlsx", "Rent the hall")
    other = Filler(master)
    other.add_row("steps", {"improvement": "I-1", "step": "Rent the hall", "notes": "the big one"})
    other.save(tmp_path / "b.xlsx")
    result = merge(master, [first, tmp_path / "b.xlsx"], tmp_path / "merged.xlsx")
    assert _texts(result.output, "steps", "step").count("Rent the hall") == 2 and result.added == 2


def test_alike_rows_of_one_return_are_each_added_and_another_returns_add_only_the_ones_beyond(
    master: Path, tmp_path: Path
) -> None:
    once = _copy_adding_steps(master, tmp_path / "once.xlsx", "Rent the hall")
    twice = _copy_adding_steps(master, tmp_path / "twice.xlsx", "Rent the hall", "Rent the hall")
    thrice = _copy_adding_steps(master, tmp_path / "thrice.xlsx", "Rent the hall", "Rent the hall", "Rent the hall")
    result = merge(master, [once, twice, thrice], tmp_path / "merged.xlsx")
    assert _texts(result.output, "steps", "step").count("Rent the hall") == 3
    assert result.added == 3
    assert [e.origin.file for e in result.log if e.action == ADDED and "added once" not in e.note] == [
        "once.xlsx", "twice.xlsx", "thrice.xlsx"
    ]


def test_steps_under_a_new_improvement_two_returns_sent_alike_name_the_one_added(master: Path, tmp_path: Path) -> None:
    copies = []
    for name in ("a.xlsx", "b.xlsx"):
        copy = Filler(master)
        copy.add_row("improvements", {"goal": "G-1", "improvement": "Deposit fund"})  # on the row pre-filled I-5
        copy.add_row("steps", {"improvement": "I-5", "step": "Rent the hall"})
        copies.append(copy.save(tmp_path / name))
    other = Filler(master)
    other.add_row("improvements", {"id": "I-9", "goal": "G-1", "improvement": "Deposit fund"})
    other.add_row("steps", {"improvement": "I-9", "step": "Print flyers"})
    copies.append(other.save(tmp_path / "c.xlsx"))
    result = merge(master, copies, tmp_path / "merged.xlsx")
    merged = read_plan(result.output).plan
    [fund] = [r for r in merged.rows("improvements") if r.get("improvement") == "Deposit fund"]
    steps = {r.get("step"): r.get("improvement") for r in merged.rows("steps")}
    assert _texts(result.output, "steps", "step").count("Rent the hall") == 1
    assert (steps["Rent the hall"], steps["Print flyers"]) == (fund.id, fund.id)


def test_a_packet_sent_back_again_after_its_new_row_was_merged_adds_nothing_and_flags_nothing(
    master: Path, tmp_path: Path
) -> None:
    [packet] = [p for p in make_packets(master, tmp_path / "packets") if p.stem == "Sam Okafor"]
    edited = Filler(packet)
    edited.add_row("steps", {"improvement": "I-1", "step": "Rent the hall", "responsible": "Sam Okafor"})
    edited.save(tmp_path / "sam.xlsx")
    other = _copy_adding_steps(master, tmp_path / "other.xlsx", "Print flyers")  # also on the row pre-filled A-6
    once = merge(master, [tmp_path / "sam.xlsx", other], tmp_path / "merged.xlsx")
    assert once.added == 2 and SPARE_ID not in _texts(once.output, "steps", "id")  # so Sam's row got another ID
    again = merge(once.output, [tmp_path / "sam.xlsx"], tmp_path / "merged again.xlsx")
    assert _texts(again.output, "steps", "step").count("Rent the hall") == 1
    assert again.added == 0 and not again.issues
    [hall] = [e for e in once.log if e.action == ADDED and e.origin.file == "sam.xlsx"]
    notes = [(e.id, e.merged_id, e.note) for e in again.log if e.action == NOTE]
    assert (hall.id, hall.merged_id, f"the same row as {hall.merged_id} of the master; not added again") in notes


def test_a_full_copy_that_renumbered_a_row_neither_deletes_nor_adds_it(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    copy.set("steps", _id(5), "id", _id(77))
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    assert result.added == 0 and not result.issues
    assert [(e.sheet, e.id, e.merged_id, e.note) for e in result.log if e.action == NOTE] == [
        ("steps", _id(77), _id(5), f"the same row as {_id(5)} of the master; not added again"),
        ("", "", "", "no changes found in this file"),
    ]
    assert _texts(result.output, "steps", "id") == _texts(master, "steps", "id")


def test_a_full_copy_that_renumbered_one_row_and_deleted_the_next_flags_only_the_deleted_one(
    master: Path, tmp_path: Path
) -> None:
    copy = Filler(master)
    copy.set("steps", _id(4), "id", _id(77))
    copy.ws("steps").delete_rows(copy.row_of("steps", _id(5)))
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    assert [(i.kind, i.id) for i in result.issues] == [(DELETED, _id(5))] and result.added == 0


def test_new_rows_that_repeat_their_own_id_and_rows_another_return_added_follow_the_first_for_references(
    master: Path, tmp_path: Path
) -> None:
    first = Filler(master)
    for text in ("Deposit fund", "Landlord forum"):
        first.add_row("improvements", {"goal": "G-1", "improvement": text})
    first.save(tmp_path / "first.xlsx")
    second = Filler(master)
    for text in ("Deposit fund", "Landlord forum"):  # the same two rows, both typed I-9
        second.add_row("improvements", {"id": "I-9", "goal": "G-1", "improvement": text})
    second.set("steps", "A-1", "improvement", "I-9")
    second.save(tmp_path / "second.xlsx")
    result = merge(master, [tmp_path / "first.xlsx", tmp_path / "second.xlsx"], tmp_path / "merged.xlsx")
    merged = read_plan(result.output).plan
    fund = next(r for r in merged.rows("improvements") if r.get("improvement") == "Deposit fund")
    assert _texts(result.output, "improvements", "improvement").count("Landlord forum") == 1
    assert get(merged, "steps", "A-1").get("improvement") == fund.id


def test_a_packets_new_row_alike_a_master_row_outside_it_is_that_row_whatever_shares_its_text(
    tmp_path: Path,
) -> None:
    """Rows with the same text are looked at one by one: one without an ID, one the packet holds and one outside
    it; the new row is the last, and is not added again."""
    plan = clean_plan()
    hall = {"improvement": "I-1", "step": "Rent the hall", "due_date": dt.date(2027, 5, 1)}
    add(plan, "steps", None, **hall, responsible="Sam Okafor", notes="without an ID")
    add(plan, "steps", "A-6", **hall, responsible="Sam Okafor", notes="Sam's own")
    add(plan, "steps", "A-7", **hall, responsible="Kim Lee", notes="Kim's")
    master = write_plan_workbook(tmp_path / "master.xlsx", plan, rows=9)
    [packet] = [p for p in make_packets(master, tmp_path / "packets") if p.stem == "Sam Okafor"]
    edited = Filler(packet)
    edited.add_row("steps", {**hall, "responsible": "Kim Lee", "notes": "Kim's"})
    edited.save(tmp_path / "sam.xlsx")
    result = merge(master, [tmp_path / "sam.xlsx"], tmp_path / "merged.xlsx")
    assert result.added == 0
    assert [(e.merged_id, e.note) for e in result.log if e.action == NOTE] == [
        ("A-7", "the same row as A-7 of the master; not added again"),
        ("", "no changes found in this file"),
    ]


def test_a_master_holding_an_id_twice_sent_back_as_it_was_adds_nothing(tmp_path: Path) -> None:
    plan = clean_plan()
    add(plan, "steps", "A-3", improvement="I-1", step="Book the hall")  # a second A-3, as members sometimes leave
    master = write_plan_workbook(tmp_path / "master.xlsx", plan, rows=8)
    same = Filler(master).save(tmp_path / "same.xlsx")
    edited = Filler(master)
    second = edited.rows_of("steps", "A-3")[1]
    edited.put("steps", second, "notes", "Hall booked")
    edited.save(tmp_path / "edited.xlsx")
    result = merge(master, [same], tmp_path / "merged.xlsx")
    assert result.added == 0 and not result.issues
    assert _texts(result.output, "steps", "step").count("Book the hall") == 1
    again = merge(master, [tmp_path / "edited.xlsx"], tmp_path / "merged again.xlsx")
    assert again.added == 1  # edited, it is a row of its own (the audit asks for a new ID either way)


@pytest.mark.parametrize("kind", ["full copy", "packet"])
def test_a_new_row_alike_a_row_the_return_holds_is_added(kind: str, master: Path, tmp_path: Path) -> None:
    """A member who copies one of their own rows means a second one, in a full copy as in a packet."""
    packets = make_packets(master, tmp_path / "packets") if kind == "packet" else []
    source = next((p for p in packets if p.stem == "Sam Okafor"), master)
    mine = next(r for r in read_plan(source).plan.rows("steps") if r.get("responsible") == "Sam Okafor")
    edited = Filler(source)
    edited.add_row("steps", {k: v for k, v in mine.values.items() if k != "id" and v is not None})
    edited.save(tmp_path / "return.xlsx")
    result = merge(master, [tmp_path / "return.xlsx"], tmp_path / "merged.xlsx")
    assert result.added == 1
    assert _texts(result.output, "steps", "step").count(mine.get("step")) == 2


# --- rows without an ID --------------------------------------------------------------------------------------


def _master_with_unkeyed_priorities(tmp_path: Path, *texts: str) -> Path:
    plan = clean_plan()
    for text in texts:
        add(plan, "priorities", None, priority=text, why="No buses after 6 pm")
    return write_plan_workbook(tmp_path / "master.xlsx", plan)


def test_two_identical_rows_without_an_id_sent_back_unchanged_add_nothing(tmp_path: Path) -> None:
    master = _master_with_unkeyed_priorities(tmp_path, "Transport", "Transport")
    copy = Filler(master).save(tmp_path / "copy.xlsx")
    result = merge(master, [copy], tmp_path / "merged.xlsx")
    assert result.added == 0 and not result.issues
    assert [r.get("priority") for r in read_plan(result.output).plan.rows("priorities")].count("Transport") == 2


def test_a_row_without_an_id_edited_in_a_return_is_added_never_dropped(tmp_path: Path) -> None:
    master = _master_with_unkeyed_priorities(tmp_path, "Transport")
    copy = Filler(master)
    ws = copy.ws("priorities")
    column = copy.columns("priorities")["priority"]
    row = next(r for r in range(schema.FIRST_DATA_ROW, ws.max_row + 1) if ws.cell(r, column).value == "Transport")
    copy.put("priorities", row, "priority", "Transport at night")
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    texts = [r.get("priority") for r in read_plan(result.output).plan.rows("priorities")]
    assert "Transport at night" in texts and "Transport" in texts
    assert result.added == 1


# --- what the merge reports and returns ----------------------------------------------------------------------


def test_the_plan_a_merge_returns_is_the_plan_it_wrote(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    for text in ("Rent the hall", "Print flyers"):
        copy.add_row("steps", {"improvement": "I-1", "step": text})
    copy.set("steps", "A-3", "notes", "Room booked")
    copy.set_coalition("jurisdiction", "Lake County")
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    written = read_plan(result.output).plan
    assert compare(written, result.plan) == []
    assert result.plan.coalition == written.coalition
    assert result.plan.source.sheet_names == written.source.sheet_names
    assert result.backup is None and result.to_dict()["backup"] is None
    for sheet in schema.SHEETS:
        assert [(r.sheet, r.id, r.row, r.values) for r in result.plan.rows(sheet.key)] == [
            (r.sheet, r.id, r.row, r.values) for r in written.rows(sheet.key)
        ], sheet.key


def test_the_json_of_a_merge_in_place_names_its_backup_and_each_messages_sender(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    copy.set("steps", "A-3", "responsible", "Dana Whitfield")
    copy.save(tmp_path / "copy.xlsx")
    old = get(clean_plan(), "steps", "A-3").get("responsible")
    sent = dt.datetime(2027, 3, 2, 9, 15)
    sender = "Maria Lopez <maria@example.org>"
    result = merge(master, [ReturnedCopy(tmp_path / "copy.xlsx", sender=sender, date=sent)], in_place=True)
    data = result.to_dict()
    assert result.backup is not None and result.backup.exists()
    who = {"file": "copy.xlsx", "member": None, "sender": sender, "date": "2027-03-02T09:15:00"}
    assert {k: data[k] for k in ("output", "backup", "returns", "edits", "added")} == {
        "output": str(master),
        "backup": str(result.backup),
        "returns": [who],
        "edits": 1,
        "added": 0,
    }
    assert [(line["sheet"], line["field"]) for line in data["log"] if line["action"] == READ] == [("", "")]
    edited = [line for line in data["log"] if line["action"] != READ]
    assert edited == [
        {
            **who,
            "action": "Edited",
            "sheet": STEPS.name,
            "id": "A-3",
            "merged_id": "A-3",
            "field": STEPS.column("responsible").header,
            "old": old,
            "new": "Dana Whitfield",
            "note": "",
        }
    ]


def test_a_formula_in_a_return_is_an_issue_naming_the_master_value_and_the_readers_words(
    master: Path, tmp_path: Path
) -> None:
    copy = Filler(master)
    copy.formula("steps", "A-3", "responsible", "=B2")
    copy.save(tmp_path / "copy.xlsx")
    said = next(f.message for f in read_plan(tmp_path / "copy.xlsx").findings if f.rule == "formula-in-text")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    old = get(clean_plan(), "steps", "A-3").get("responsible")
    note = f"{said.rstrip('. ')}; the master value is kept"
    assert result.issues == [Issue(UNREADABLE, "steps", "A-3", "responsible", old, [(Origin("copy.xlsx"), None)], note)]


def test_a_packet_cut_from_the_current_master_does_not_say_the_master_changed(master: Path, tmp_path: Path) -> None:
    packet = make_packets(master, tmp_path / "packets")[0]
    result = merge(master, [packet], tmp_path / "merged.xlsx")
    notes = [line[LOG_HEADERS[-1][0]] for line in table(result.output, schema.MERGE_LOG_SHEET, LOG_HEADERS[0][0])]
    read = [e.note for e in result.log if e.action == READ]
    assert read and all("changed" not in n for n in read)
    assert all("changed since" not in str(n) for n in notes)


# --- what a return's rows send -------------------------------------------------------------------------------


def test_a_row_added_where_the_return_deleted_the_masters_last_row_never_takes_its_id(tmp_path: Path) -> None:
    master = write_plan_workbook(tmp_path / "master.xlsx", clean_plan(), rows=5)  # no blank Action Steps row
    copy = Filler(master)
    last = copy.row_of("steps", _id(5))
    for key in copy.columns("steps"):
        copy.put("steps", last, key, None)  # the member emptied the last row, ID and all, and wrote over it
    copy.put("steps", last, "improvement", "I-1")
    copy.put("steps", last, "step", "Rent the hall")
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    steps = _steps(result.output)
    assert steps["Rent the hall"][0] == _id(6)
    assert _id(5) in {i for i, _row in steps.values() if i != steps["Rent the hall"][0]}  # kept, flagged as deleted


def test_a_cell_filled_or_cleared_by_the_member_is_filled_or_cleared_in_the_master(
    master: Path, tmp_path: Path
) -> None:
    assert get(clean_plan(), "steps", "A-3").get("notes") in (None, "")
    assert get(clean_plan(), "steps", "A-4").get("responsible")
    copy = Filler(master)
    copy.set("steps", "A-3", "notes", "Room booked")
    copy.set("steps", "A-4", "responsible", None)
    copy.save(tmp_path / "copy.xlsx")
    merged = read_plan(merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx").output).plan
    assert get(merged, "steps", "A-3").get("notes") == "Room booked"
    assert get(merged, "steps", "A-4").get("responsible") in (None, "")


def test_a_formula_in_one_cell_does_not_hide_the_other_changes_of_its_row(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    copy.formula("steps", "A-3", "responsible", "=B2")  # a column left of notes
    copy.set("steps", "A-3", "notes", "Room booked")
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    merged = read_plan(result.output).plan
    assert get(merged, "steps", "A-3").get("notes") == "Room booked"
    assert [(i.kind, i.field) for i in result.issues] == [(UNREADABLE, "responsible")]


def test_a_value_the_audit_flags_but_can_read_is_merged_as_typed(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    copy.set("steps", "A-3", "status", "Nearly done")  # not one of the dropdown's choices
    copy.save(tmp_path / "copy.xlsx")
    assert any(f.rule == "invalid-choice" for f in read_plan(tmp_path / "copy.xlsx").findings)
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    assert get(read_plan(result.output).plan, "steps", "A-3").get("status") == "Nearly done"
    assert result.issues == []


def test_a_formula_in_a_plan_cell_at_the_address_of_a_coalition_field_is_that_plan_cells_issue(
    master: Path, tmp_path: Path
) -> None:
    copy = Filler(master)
    row, col = copy.coalition_cell("jurisdiction")
    column = next(k for k, c in copy.columns("steps").items() if c == col)
    step = next(r for r in clean_plan().rows("steps") if copy.row_of("steps", r.id or "") == row)
    copy.formula("steps", step.id or "", column, "=B2")
    copy.set_coalition("jurisdiction", "Lake County")
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    assert [(i.kind, i.sheet, i.id, i.field) for i in result.issues] == [(UNREADABLE, "steps", step.id, column)]
    assert read_plan(result.output).plan.coalition["jurisdiction"] == "Lake County"


def test_a_packets_change_to_a_row_it_showed_as_context_is_logged_with_the_value_sent(
    master: Path, tmp_path: Path
) -> None:
    packets = make_packets(master, tmp_path / "packets")
    maria = next(p for p in packets if "Maria" in p.name)
    old = get(clean_plan(), "improvements", "I-1").get("buy_in")
    other = next(c for c in schema.CHOICES["buy_in"] if c != old)
    copy = Filler(maria)
    copy.set("improvements", "I-1", "buy_in", other)  # I-1 is context in her packet: Sam's step hangs on it too
    copy.save(tmp_path / "maria.xlsx")
    result = merge(master, [tmp_path / "maria.xlsx"], tmp_path / "merged.xlsx")
    logged = [(e.field, e.old, e.new) for e in result.log if e.action == CONTEXT_EDIT]
    assert logged == [("buy_in", old, other)]


def test_a_packet_cut_from_an_older_master_is_named_and_said_to_be_older(master: Path, tmp_path: Path) -> None:
    packet = make_packets(master, tmp_path / "packets")[0]
    newer = Filler(master)
    newer.set("steps", "A-5", "notes", "Board meets in May")
    newer.save(tmp_path / "master v2.xlsx")
    result = merge(tmp_path / "master v2.xlsx", [packet], tmp_path / "merged.xlsx")
    [note] = [e.note for e in result.log if e.action == READ]
    assert note.startswith("a packet for ") and f", cut from {master.name} on " in note
    assert note.endswith("the master has changed since the packet was cut, so rows it held are worked out from the "
                         "current master")


def test_a_formula_in_a_column_a_member_moved_as_far_as_x_is_listed_not_merged(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    ws = copy.ws("steps")
    notes = copy.columns("steps")["notes"]
    ws.insert_cols(notes, 24 - notes)  # the member's own columns push Notes to column X
    assert copy.column_letter("steps", "notes") == "X"
    copy.formula("steps", "A-3", "notes", "=B2")
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    assert [(i.kind, i.id, i.field) for i in result.issues] == [(UNREADABLE, "A-3", "notes")]


def test_a_row_deleted_in_a_return_is_an_issue_naming_its_sheet_row_and_text(master: Path, tmp_path: Path) -> None:
    copy = Filler(master)
    row = copy.row_of("steps", _id(5))
    copy.ws("steps").delete_rows(row)
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    text = get(clean_plan(), "steps", _id(5)).get("step")
    note = "deleted in this return; the row is kept in the merged plan: delete it there if that is right"
    assert result.issues == [Issue(DELETED, "steps", _id(5), "", text, [(Origin("copy.xlsx"), None)], note)]


def test_the_same_change_from_three_copies_names_the_other_two_in_each_line(master: Path, tmp_path: Path) -> None:
    copies = []
    for name in ("a.xlsx", "b.xlsx", "c.xlsx"):
        copy = Filler(master)
        copy.set("steps", "A-3", "notes", "Room booked")
        copies.append(copy.save(tmp_path / name))
    result = merge(master, copies, tmp_path / "merged.xlsx")
    notes = {e.origin.file: e.note for e in result.log if e.action == EDITED}
    assert notes == {
        "a.xlsx": "the same change also came from b.xlsx, c.xlsx",
        "b.xlsx": "the same change also came from a.xlsx, c.xlsx",
        "c.xlsx": "the same change also came from a.xlsx, b.xlsx",
    }


def test_a_cell_retyped_so_that_it_looks_the_same_sends_no_change(master: Path, tmp_path: Path) -> None:
    """A member who retypes a baseline of 12 as "12.0" changed nothing a reader of the plan would see: the master
    keeps its own text and the log says the file sent no change (mutation testing found this unguarded)."""
    measure = clean_plan().rows("measures")[0]
    assert measure.get("baseline") == "12"
    copy = Filler(master)
    copy.set("measures", measure.id, "baseline", "12.0")
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    assert get(read_plan(result.output).plan, "measures", measure.id).get("baseline") == "12"
    assert [e.action for e in result.log if e.action != READ] == [NOTE]
    assert "no changes found" in result.log[-1].note
