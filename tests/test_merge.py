"""Merging returned copies into the master: three-way by row ID, nothing silently dropped.

The master is tests/plans.py's clean plan: Maria Lopez answers for A-1, A-2 and A-4 (improvements I-1, I-2,
I-3), Sam Okafor for A-3 and A-5 (I-1, I-4). Maria's packet therefore pre-fills its blank rows with IDs
(A-5, I-4, ...) that other members' rows use in the master.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fill import Filler
from member_edits import Add, Delete, Set, cell_value, edit_with_openpyxl, formula, load, table
from plans import add, clean_plan, get

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.cycle.diff import compare
from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_model import (
    ADDED,
    COALITION,
    CONFLICT,
    CONTEXT_EDIT,
    DELETED,
    EDITED,
    NOT_MERGED,
    NOTE,
    READ,
    UNREADABLE,
    MergeResult,
)
from reentry_workbook.cycle.merge_sheets import CONFLICT_HEADERS, LOG_HEADERS, render_merge
from reentry_workbook.cycle.packets import make_packets, packet_base, read_packet_identity
from reentry_workbook.cycle.roundtrip import id_number
from reentry_workbook.errors import OutputError, UsageError
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import write_plan_workbook

STATUS = schema.CHOICES["status"]
MARIA, SAM = "Maria Lopez", "Sam Okafor"
STEPS_NOUN = schema.sheet("steps").column(schema.sheet("steps").label).header
KIND, SHEET, ID, FIELD, MASTER, SENT, FILE, MEMBER, *_ = (h for h, _w in CONFLICT_HEADERS)


@pytest.fixture()
def master(tmp_path: Path) -> Path:
    return write_plan_workbook(tmp_path / "master.xlsx", clean_plan())


@pytest.fixture()
def packets(master: Path, tmp_path: Path) -> dict[str, Path]:
    paths = make_packets(master, tmp_path / "packets")
    out = {}
    for path in paths:
        identity = read_packet_identity(path)
        assert identity is not None
        out[identity.member] = path
    return out


def _status_other_than(*values: str) -> str:
    return next(s for s in STATUS if s not in values)


def _rows(path: Path, sheet_key: str) -> dict[str | None, dict]:
    return {r.id: r.values for r in read_plan(path).plan.rows(sheet_key)}


def _conflict_lines(path: Path) -> list[dict]:
    return table(path, schema.MERGE_CONFLICTS_SHEET, KIND)


def _log_lines(path: Path) -> list[dict]:
    return table(path, schema.MERGE_LOG_SHEET, LOG_HEADERS[0][0])


def test_an_edit_in_one_return_is_applied_and_logged(master: Path, packets: dict[str, Path], tmp_path: Path) -> None:
    old = get(clean_plan(), "steps", "A-1").get("status")
    new = _status_other_than(old)
    maria = edit_with_openpyxl(packets[MARIA], tmp_path / "maria.xlsx", [Set("steps", "A-1", "status", new)])
    result = merge(master, [maria, packets[SAM]], tmp_path / "merged.xlsx")
    assert _rows(result.output, "steps")["A-1"]["status"] == new
    assert result.edits == 1 and not result.issues
    [edited] = [e for e in result.log if e.action == EDITED]
    assert (edited.origin.file, edited.origin.member, edited.id, edited.field) == ("maria.xlsx", MARIA, "A-1", "status")
    assert any(e.action == NOTE and e.origin.member == SAM for e in result.log)  # "no changes" is said, too
    log = _log_lines(result.output)
    assert any(line[LOG_HEADERS[0][0]] == "maria.xlsx" and line.get(LOG_HEADERS[10][0]) == new for line in log)


def test_the_same_change_from_two_copies_is_applied_once(master: Path, tmp_path: Path) -> None:
    new = _status_other_than(get(clean_plan(), "steps", "A-3").get("status"))
    a = edit_with_openpyxl(master, tmp_path / "a.xlsx", [Set("steps", "A-3", "status", new)])
    b = edit_with_openpyxl(master, tmp_path / "b.xlsx", [Set("steps", "A-3", "status", new)])
    result = merge(master, [a, b], tmp_path / "merged.xlsx")
    assert _rows(result.output, "steps")["A-3"]["status"] == new
    assert result.edits == 1 and not result.issues
    assert sorted(e.origin.file for e in result.log if e.action == EDITED) == ["a.xlsx", "b.xlsx"]


def test_different_changes_to_one_cell_are_a_conflict_and_the_master_value_stays(
    master: Path, tmp_path: Path
) -> None:
    old = get(clean_plan(), "steps", "A-3").get("status")
    first, second = _status_other_than(old), _status_other_than(old, _status_other_than(old))
    a = edit_with_openpyxl(master, tmp_path / "Plan v3 FINAL (Maria).xlsx", [Set("steps", "A-3", "status", first)])
    b = edit_with_openpyxl(master, tmp_path / "plan-sam.xlsx", [Set("steps", "A-3", "status", second)])
    result = merge(master, [a, b], tmp_path / "merged.xlsx")
    assert _rows(result.output, "steps")["A-3"]["status"] == old
    [issue] = result.issues
    assert issue.kind == CONFLICT and (issue.sheet, issue.id, issue.field) == ("steps", "A-3", "status")
    lines = _conflict_lines(result.output)
    assert {(x[KIND], x[ID], x[FIELD], x[MASTER], x[SENT], x[FILE]) for x in lines} == {
        (CONFLICT, "A-3", schema.sheet("steps").column("status").header, old, first, a.name),
        (CONFLICT, "A-3", schema.sheet("steps").column("status").header, old, second, b.name),
    }
    text = render_merge(result)
    assert "A-3" in text and first in text and second in text and a.name in text and b.name in text


def test_a_conflict_between_packets_names_the_members(master: Path, packets: dict[str, Path], tmp_path: Path) -> None:
    stakeholder = clean_plan().rows("stakeholders")[0].get("name")
    maria = edit_with_openpyxl(
        packets[MARIA], tmp_path / "m.xlsx", [Set("stakeholders", stakeholder, "email", "desk@example.org")]
    )
    sam = edit_with_openpyxl(
        packets[SAM], tmp_path / "s.xlsx", [Set("stakeholders", stakeholder, "email", "front@example.org")]
    )
    result = merge(master, [maria, sam], tmp_path / "merged.xlsx")
    lines = _conflict_lines(result.output)
    assert {(x[ID], x[SENT], x[MEMBER]) for x in lines} == {
        (stakeholder, "desk@example.org", MARIA),
        (stakeholder, "front@example.org", SAM),
    }
    kept = read_plan(result.output).plan.rows("stakeholders")[0].get("email")
    assert kept == clean_plan().rows("stakeholders")[0].get("email")


def test_new_rows_get_fresh_ids_and_references_to_them_follow(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    base = clean_plan()
    maria = edit_with_openpyxl(
        packets[MARIA],
        tmp_path / "maria.xlsx",
        [
            Add("improvements", {"goal": "G-1", "improvement": "Rent deposit loans", "mechanism": None}),
            # Her packet's first blank improvement row is pre-filled with I-4, which is Sam's I-4 in the master.
            Add("steps", {"improvement": "I-4", "step": "Talk to the credit union", "responsible": MARIA}),
        ],
    )
    sam = edit_with_openpyxl(
        packets[SAM], tmp_path / "sam.xlsx", [Add("steps", {"improvement": "I-4", "step": "Draft the fund rules"})]
    )
    result = merge(master, [maria, sam], tmp_path / "merged.xlsx")
    plan = read_plan(result.output).plan
    improvements = {r.id: r for r in plan.rows("improvements")}
    steps = {r.id: r for r in plan.rows("steps")}
    new_imp = next(r for r in improvements.values() if r.get("improvement") == "Rent deposit loans")
    maria_step = next(r for r in steps.values() if r.get("step") == "Talk to the credit union")
    sam_step = next(r for r in steps.values() if r.get("step") == "Draft the fund rules")
    master_ids = {r.id for r in base.rows("steps")} | {r.id for r in base.rows("improvements")}
    assert new_imp.id not in master_ids and maria_step.id not in master_ids and sam_step.id not in master_ids
    assert maria_step.id != sam_step.id
    assert maria_step.get("improvement") == new_imp.id  # rewritten from the packet's I-4
    assert sam_step.get("improvement") == "I-4"  # Sam's packet holds the master's I-4: untouched
    assert improvements["I-4"].get("improvement") == get(base, "improvements", "I-4").get("improvement")
    highest = max(id_number(schema.sheet("steps"), r.id) or 0 for r in base.rows("steps"))
    assert all((id_number(schema.sheet("steps"), s.id) or 0) > highest for s in (maria_step, sam_step))
    assert result.added == 3 and not result.issues


def test_deleted_rows_are_flagged_and_kept(master: Path, packets: dict[str, Path], tmp_path: Path) -> None:
    full = edit_with_openpyxl(master, tmp_path / "full.xlsx", [Delete("steps", "A-5")])
    maria = edit_with_openpyxl(packets[MARIA], tmp_path / "maria.xlsx", [Delete("steps", "A-4")])
    result = merge(master, [full, maria], tmp_path / "merged.xlsx")
    assert {"A-4", "A-5"} <= set(_rows(result.output, "steps"))
    deleted = {(i.id, i.sent[0][0].file) for i in result.issues_of(DELETED)}
    # were never in Maria's packet: their absence there is not a deletion.
    assert deleted == {("A-5", "full.xlsx"), ("A-4", "maria.xlsx")}
    lines = [x for x in _conflict_lines(result.output) if x[KIND] == DELETED]
    assert {x[ID] for x in lines} == {"A-4", "A-5"}


def test_an_emptied_row_counts_as_deleted_not_as_blanked(master: Path, tmp_path: Path) -> None:
    sheet = schema.sheet("measures")
    clear = [Set("measures", "M-2", c.key, None) for c in sheet.columns if c.kind not in (schema.Kind.ID,)]
    full = edit_with_openpyxl(master, tmp_path / "full.xlsx", clear)
    result = merge(master, [full], tmp_path / "merged.xlsx")
    assert _rows(result.output, "measures")["M-2"]["measure"] == get(clean_plan(), "measures", "M-2").get("measure")
    assert [(i.kind, i.id) for i in result.issues] == [(DELETED, "M-2")]


def test_context_rows_changed_in_a_packet_are_listed_not_applied(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    maria = edit_with_openpyxl(packets[MARIA], tmp_path / "maria.xlsx", [Set("improvements", "I-1", "buy_in", None)])
    result = merge(master, [maria], tmp_path / "merged.xlsx")
    old = get(clean_plan(), "improvements", "I-1").get("buy_in")
    assert _rows(result.output, "improvements")["I-1"]["buy_in"] == old
    [issue] = result.issues
    assert (issue.kind, issue.id, issue.field, issue.master) == (CONTEXT_EDIT, "I-1", "buy_in", old)


def test_a_formula_in_a_return_is_listed_not_applied(master: Path, tmp_path: Path) -> None:
    full = formula(master, tmp_path / "full.xlsx", "steps", "A-2", "notes", "=1+1")
    result = merge(master, [full], tmp_path / "merged.xlsx")
    assert _rows(result.output, "steps")["A-2"]["notes"] is None
    assert [(i.kind, i.id, i.field) for i in result.issues] == [(UNREADABLE, "A-2", "notes")]


def test_member_text_that_looks_like_a_formula_stays_text(master: Path, tmp_path: Path) -> None:
    text = "=HYPERLINK(\"http://example.org\",\"minutes\")"
    full = edit_with_openpyxl(master, tmp_path / "full.xlsx", [Set("steps", "A-2", "notes", text)])
    result = merge(master, [full], tmp_path / "merged.xlsx")
    plan = read_plan(result.output).plan
    row = get(plan, "steps", "A-2").row
    letter = plan.source.columns["steps"]["notes"]
    assert cell_value(result.output, schema.sheet("steps").name, f"{letter}{row}") == (text, "s")
    book = load(result.output)
    try:
        for name in (schema.MERGE_LOG_SHEET,):
            assert all(c.data_type != "f" for r in book[name].iter_rows() for c in r)
    finally:
        book.close()


def test_an_unchanged_full_copy_changes_nothing(master: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.xlsx"
    shutil.copyfile(master, copy)
    result = merge(master, [copy], tmp_path / "merged.xlsx")
    assert compare(read_plan(master).plan, read_plan(result.output).plan) == []
    assert [e.action for e in result.log][-1] == NOTE and not result.issues


def test_inputs_are_only_read_and_never_overwritten(master: Path, packets: dict[str, Path], tmp_path: Path) -> None:
    maria = edit_with_openpyxl(packets[MARIA], tmp_path / "maria.xlsx", [Set("steps", "A-1", "notes", "Called")])
    before = {p: p.read_bytes() for p in (master, maria)}
    with pytest.raises(OutputError):
        merge(master, [maria], master, force=True)
    with pytest.raises(OutputError):
        merge(master, [maria], maria, force=True)
    with pytest.raises(UsageError):
        merge(master, [maria, maria], tmp_path / "merged.xlsx")
    with pytest.raises(UsageError):
        merge(master, [], tmp_path / "merged.xlsx")
    merge(master, [maria], tmp_path / "merged.xlsx")
    assert {p: p.read_bytes() for p in (master, maria)} == before
    with pytest.raises(OutputError, match="--force"):
        merge(master, [maria], tmp_path / "merged.xlsx")


def test_cli_prints_the_summary_and_the_conflicts(master: Path, tmp_path: Path) -> None:
    old = get(clean_plan(), "steps", "A-3").get("status")
    first, second = _status_other_than(old), _status_other_than(old, _status_other_than(old))
    a = edit_with_openpyxl(master, tmp_path / "a.xlsx", [Set("steps", "A-3", "status", first)])
    b = edit_with_openpyxl(master, tmp_path / "b.xlsx", [Set("steps", "A-3", "status", second)])
    out = tmp_path / "merged.xlsx"
    result = CliRunner().invoke(cli, ["merge", str(master), str(a), str(b), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 conflict" in result.output and "A-3" in result.output and f"Wrote {out}" in result.output
    again = CliRunner().invoke(cli, ["merge", str(master), str(a), str(b), "-o", str(out), "--force", "--json"])
    data = json.loads(again.output)
    assert [i["kind"] for i in data["issues"]] == [CONFLICT]
    assert {s["value"] for s in data["issues"][0]["sent"]} == {first, second}


def test_a_members_own_sheet_is_named_in_the_log(master: Path, tmp_path: Path) -> None:
    book = load(master)
    book.create_sheet("Maria's notes")["A1"] = "Ask Sam about the fund"
    copy = tmp_path / "copy.xlsx"
    book.save(copy)
    book.close()
    result = merge(master, [copy], tmp_path / "merged.xlsx")
    notes = [e.note for e in result.log if e.action == NOTE]
    assert any("Maria's notes" in n for n in notes)  # not carried, but not silently dropped either
    assert any("no changes" in n for n in notes)


# --- every decision, word for word ---------------------------------------------------------------------------


def _entries(result: MergeResult, file: str) -> list[tuple]:
    return [
        (e.action, e.sheet, e.id, e.merged_id, e.field, e.old, e.new, e.note)
        for e in result.log
        if e.origin.file == file
    ]


KEPT = "deleted in this return; the row is kept in the merged plan: delete it there if that is right"
DIFFERENT = "different values sent; the master value is kept until you choose one"
FULL_COPY = "a full copy of the plan: every master row it lacks is flagged as deleted"


def test_every_decision_on_two_full_copies_is_logged_word_for_word(master: Path, tmp_path: Path) -> None:
    base = clean_plan()
    old_status = get(base, "steps", "A-3").get("status")
    new_status = _status_other_than(old_status)
    old_place = base.coalition["jurisdiction"]
    a = Filler(master)
    a.set("steps", "A-3", "status", new_status)
    a.set_coalition("jurisdiction", f"{old_place}, Michigan")
    a.add_row("priorities", {"id": None, "priority": "Transport"})
    a.add_row("goals", {"id": "G-9", "priority": "P-1", "goal": "Bus passes at release"})
    a.add_row("goals", {"id": "G-1", "priority": "P-1", "goal": "Copied goal"})
    a.add_row("improvements", {"id": "I-7", "goal": "G-9", "improvement": "Free passes"})
    a.add_row("steps", {"id": "A-30", "improvement": "i-07", "step": "Ring the transit office"})
    a.formula("steps", "A-2", "notes", "=1+1")
    a.save(tmp_path / "a.xlsx")
    b = Filler(master)
    b.set("steps", "A-3", "status", new_status)
    b.set_coalition("jurisdiction", "Lake County")
    b.add_row("steps", {"id": None, "improvement": "I-9", "step": "Orphan step"})
    b.save(tmp_path / "b.xlsx")

    result = merge(master, [tmp_path / "a.xlsx", tmp_path / "b.xlsx"], tmp_path / "merged.xlsx")

    notes = schema.sheet("steps").column("notes").header
    formula_said = f"{STEPS_NOUN} A-2: {notes} holds a formula (=1+1) where a value belongs; it was not evaluated"
    assert _entries(result, "a.xlsx") == [
        (READ, "", "", "", "", None, None, FULL_COPY),
        (ADDED, "priorities", "", "P-3", "", None, "Transport", "a row without an ID"),
        (ADDED, "goals", "G-9", "G-4", "", None, "Bus passes at release", "a new row (marked G-9 in the return)"),
        (ADDED, "goals", "G-1", "G-5", "", None, "Copied goal", "a second row with G-1; added as a row of its own"),
        (ADDED, "improvements", "I-7", "I-5", "", None, "Free passes", "a new row (marked I-7 in the return)"),
        (ADDED, "steps", "A-30", "A-6", "", None, "Ring the transit office", "a new row (marked A-30 in the return)"),
        (UNREADABLE, "steps", "A-2", "A-2", "notes", None, None, f"{formula_said}; the master value is kept"),
        (EDITED, "steps", "A-3", "A-3", "status", old_status, new_status, "the same change also came from b.xlsx"),
        (CONFLICT, COALITION, "", "", "jurisdiction", old_place, f"{old_place}, Michigan", DIFFERENT),
    ]
    assert _entries(result, "b.xlsx") == [
        (READ, "", "", "", "", None, None, FULL_COPY),
        (ADDED, "steps", "", "A-7", "", None, "Orphan step", "a row without an ID"),
        (EDITED, "steps", "A-3", "A-3", "status", old_status, new_status, "the same change also came from a.xlsx"),
        (CONFLICT, COALITION, "", "", "jurisdiction", old_place, "Lake County", DIFFERENT),
    ]
    assert [(i.kind, i.sheet, i.id, i.field, i.master, [(o.file, v) for o, v in i.sent]) for i in result.issues] == [
        (UNREADABLE, "steps", "A-2", "notes", None, [("a.xlsx", None)]),
        (
            CONFLICT,
            COALITION,
            "",
            "jurisdiction",
            old_place,
            [("a.xlsx", f"{old_place}, Michigan"), ("b.xlsx", "Lake County")],
        ),
    ]
    assert (result.edits, result.added) == (1, 6)
    plan = read_plan(result.output).plan
    assert get(plan, "goals", "G-4").get("priority") == "P-1"
    assert get(plan, "improvements", "I-5").get("goal") == "G-4"  # the return's G-9, now G-4
    assert get(plan, "steps", "A-6").get("improvement") == "I-5"  # "i-07" in the return
    assert get(plan, "steps", "A-7").get("improvement") == "I-9"  # names no row: kept for the audit to report
    assert get(plan, "steps", "A-3").get("status") == new_status
    assert plan.coalition["jurisdiction"] == old_place


def test_a_packet_s_log_says_what_was_done_with_each_row(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    maria = edit_with_openpyxl(
        packets[MARIA],
        tmp_path / "maria.xlsx",
        [
            Set("steps", "A-1", "notes", "Called"),
            Add("steps", {"improvement": "I-1", "step": "New one"}),
            Delete("steps", "A-4"),
            Set("improvements", "I-1", "buy_in", None),  # a context row of her packet
        ],
    )
    base = clean_plan()
    result = merge(master, [maria, packets[SAM]], tmp_path / "merged.xlsx")
    [read, *rest] = _entries(result, "maria.xlsx")
    assert read[:7] == (READ, "", "", "", "", None, None)
    assert read[7].startswith(f"a packet for {MARIA}, cut from {master.name} on ")
    context = "a context row of the packet: not applied, as the packet says"
    pre_filled = "its pre-filled ID A-5 belongs to another row of the master"
    buy_in = get(base, "improvements", "I-1").get("buy_in")
    assert rest == [
        (ADDED, "steps", "A-5", "A-6", "", None, "New one", f"a new row ({pre_filled})"),
        (CONTEXT_EDIT, "improvements", "I-1", "I-1", "buy_in", buy_in, None, context),
        (DELETED, "steps", "A-4", "A-4", "", None, None, KEPT),
        (EDITED, "steps", "A-1", "A-1", "notes", None, "Called", ""),
    ]
    assert [(i.kind, i.id, i.field, i.master, i.note) for i in result.issues] == [
        (CONTEXT_EDIT, "I-1", "buy_in", buy_in, context),
        (DELETED, "A-4", "", get(base, "steps", "A-4").get("step"), KEPT),
    ]
    sam = _entries(result, packets[SAM].name)
    assert sam[-1] == (NOTE, "", "", "", "", None, None, "no changes found in this file")
    assert result.issues_of(CONFLICT) == [] and len(result.issues_of(DELETED)) == 1


class _Cells:
    """Cells as the reader gives them, for packet_base: rows of (column, value)."""

    def __init__(self, *rows: tuple[object, ...]) -> None:
        self.rows = rows

    def plain_rows(self) -> Any:
        return iter((r, list(enumerate(values))) for r, values in enumerate(self.rows))


def test_the_packet_base_read_back_is_only_what_the_packet_wrote() -> None:
    """A base sheet emptied, with other headers, or with rows a member changed the shape of gives nothing for
    those rows (the merge then compares them as it does any copy's): never an error."""
    header = schema.PACKET_BASE_HEADERS
    good = ("steps", "A-1", "notes=aa status=bb")
    assert packet_base(_Cells()) == {}
    assert packet_base(_Cells(("Sheet", "Row", "Fingerprint"), good)) == {}
    assert packet_base(_Cells(header, good)) == {("steps", "A-1"): {"notes": "aa", "status": "bb"}}
    assert packet_base(_Cells(header, ("steps", "A-2"), ("steps", "A-3", 7), good)) == {
        ("steps", "A-1"): {"notes": "aa", "status": "bb"}
    }
    # A column key never holds "=": a pair is cut at its first one, whatever a hand edit left after it.
    assert packet_base(_Cells(header, ("steps", "A-1", "notes=a=b"))) == {("steps", "A-1"): {"notes": "a=b"}}


def test_a_cell_the_coordinator_changed_after_the_packets_went_out_keeps_the_coordinators_value(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    """The coordinator updated A-3's notes in the master after sending the packets; Sam, whose step it is, changed
    only A-5. His packet still holds A-3 as it was cut: that is no edit of his, so the coordinator's value stays
    (it was overwritten). What he did change is applied."""
    newer = edit_with_openpyxl(master, tmp_path / "master v2.xlsx", [Set("steps", "A-3", "notes", "Room booked")])
    sam = edit_with_openpyxl(packets[SAM], tmp_path / "sam.xlsx", [Set("steps", "A-5", "notes", "Called")])
    result = merge(newer, [sam], tmp_path / "merged.xlsx")
    assert _rows(result.output, "steps")["A-3"]["notes"] == "Room booked"
    assert _rows(result.output, "steps")["A-5"]["notes"] == "Called"
    assert [(e.id, e.field) for e in result.log if e.action == EDITED] == [("A-5", "notes")] and not result.issues
    # A packet that lost its record of the cells as cut (its very hidden sheet deleted) is merged as before: a
    # value it holds that differs from the master's is taken as the member's.
    book = load(sam)
    del book[schema.PACKET_BASE_SHEET]
    book.save(tmp_path / "sam without base.xlsx")
    older = merge(newer, [tmp_path / "sam without base.xlsx"], tmp_path / "merged-2.xlsx")
    assert [(e.id, e.field) for e in older.log if e.action == EDITED] == [("A-3", "notes"), ("A-5", "notes")]
    assert not any(e.action == NOTE and schema.PACKET_BASE_SHEET in e.note for e in result.log)  # not a member's


def test_a_returns_cells_as_cut_are_kept_only_for_the_rows_it_changed(
    master: Path, packets: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A packet of a large plan holds thousands of rows; what the merge keeps of it until the end is the
    fingerprints of the rows the member changed, not of every row (ten members' packets at 50,000 steps held
    100 MB more while they were all kept)."""
    from reentry_workbook.cycle.merge_decisions import Merge

    kept: list[set[tuple[str, str]]] = []
    real = Merge.take

    def take(self: Merge, ret: Any) -> None:
        kept.append(set(ret.base or {}))
        real(self, ret)

    monkeypatch.setattr(Merge, "take", take)
    sam = edit_with_openpyxl(packets[SAM], tmp_path / "sam.xlsx", [Set("steps", "A-5", "notes", "Called")])
    merge(master, [sam], tmp_path / "merged.xlsx", jobs=1)
    assert kept == [{("steps", "A-5")}]


def test_a_cell_both_the_coordinator_and_the_member_changed_since_the_cut_is_a_conflict(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    """The coordinator and Sam both changed A-3's notes after the packets went out: neither is an edit of the other,
    so the master value stays until the coordinator chooses, as for two returns that disagree. Sam's change to a
    cell the coordinator did not touch (A-3's status) is applied, and the same new value on both sides is no
    change at all."""
    status = _status_other_than(get(clean_plan(), "steps", "A-3").get("status"))
    newer = edit_with_openpyxl(
        master,
        tmp_path / "master v2.xlsx",
        [Set("steps", "A-3", "notes", "Room booked"), Set("steps", "A-5", "notes", "Board meets in May")],
    )
    sent = [
        Set("steps", "A-3", "notes", "Room booked for June"),
        Set("steps", "A-3", "status", status),
        Set("steps", "A-5", "notes", "Board meets in May"),
    ]
    sam = edit_with_openpyxl(packets[SAM], tmp_path / "sam.xlsx", sent)
    result = merge(newer, [sam], tmp_path / "merged.xlsx")
    steps = _rows(result.output, "steps")
    assert (steps["A-3"]["notes"], steps["A-3"]["status"]) == ("Room booked", status)
    assert steps["A-5"]["notes"] == "Board meets in May"
    [conflict] = result.issues_of(CONFLICT)
    assert (conflict.id, conflict.field, conflict.master) == ("A-3", "notes", "Room booked")
    assert conflict.sent[0][1] == "Room booked for June" and conflict.note == (
        "changed in the master after the packet was cut, and in the packet; the master value is kept until you "
        "choose one"
    )
    assert [(e.id, e.field) for e in result.log if e.action == EDITED] == [("A-3", "status")]


def test_a_packet_cut_from_an_older_master_says_so(master: Path, packets: dict[str, Path], tmp_path: Path) -> None:
    board = [Set("steps", "A-5", "notes", "Board meets in May")]
    newer = edit_with_openpyxl(master, tmp_path / "master v2.xlsx", board)
    maria = edit_with_openpyxl(packets[MARIA], tmp_path / "maria.xlsx", [Set("steps", "A-1", "notes", "Called")])
    result = merge(newer, [maria], tmp_path / "merged.xlsx")
    [read] = [e for e in result.log if e.action == READ]
    assert read.note.endswith(
        "; the master has changed since the packet was cut, so rows it held are worked out from the current master"
    )
    assert _rows(result.output, "steps")["A-5"]["notes"] == "Board meets in May"
    assert _rows(result.output, "steps")["A-1"]["notes"] == "Called"


def test_the_json_of_a_merge_names_sheets_and_fields_as_excel_shows_them(master: Path, tmp_path: Path) -> None:
    base = clean_plan()
    a = Filler(master)
    a.set("steps", "A-3", "notes", "Room booked")
    a.set_coalition("jurisdiction", "Lake County")
    a.save(tmp_path / "a.xlsx")
    b = Filler(master)
    b.set_coalition("jurisdiction", "Lakeside")
    b.save(tmp_path / "b.xlsx")
    data = merge(master, [tmp_path / "a.xlsx", tmp_path / "b.xlsx"], tmp_path / "merged.xlsx").to_dict()
    label = schema.coalition_field("jurisdiction").label
    assert (data["edits"], data["added"]) == (1, 0)
    assert [(r["file"], r["member"]) for r in data["returns"]] == [("a.xlsx", None), ("b.xlsx", None)]
    assert data["issues"] == [
        {
            "kind": CONFLICT,
            "sheet": schema.COALITION_SHEET,
            "id": "",
            "field": label,
            "master": base.coalition["jurisdiction"],
            "sent": [
                {"file": "a.xlsx", "member": None, "sender": None, "date": None, "value": "Lake County"},
                {"file": "b.xlsx", "member": None, "sender": None, "date": None, "value": "Lakeside"},
            ],
            "note": DIFFERENT,
        }
    ]
    edited = [line for line in data["log"] if line["action"] == EDITED]
    assert edited == [
        {
            "file": "a.xlsx",
            "member": None,
            "sender": None,
            "date": None,
            "action": EDITED,
            "sheet": schema.sheet("steps").name,
            "id": "A-3",
            "merged_id": "A-3",
            "field": schema.sheet("steps").column("notes").header,
            "old": "",
            "new": "Room booked",
            "note": "",
        }
    ]
    assert [line["sheet"] for line in data["log"] if line["action"] == READ] == ["", ""]


def test_rows_without_a_key_emptied_rows_stakeholders_and_edits_naming_new_rows(tmp_path: Path) -> None:
    plan = clean_plan()
    add(plan, "priorities", None, priority="Transport", why="No buses after 6 pm")  # a master row without an ID
    master = write_plan_workbook(tmp_path / "master.xlsx", plan)
    a = Filler(master)
    for column in schema.sheet("measures").columns:
        if column.kind not in (schema.Kind.ID, schema.Kind.DERIVED):
            a.set("measures", "M-2", column.key, None)
    a.formula("measures", "M-2", "data_source", "=A1")  # all that is left of the row
    a.add_row("improvements", {"id": "I-7", "goal": "G-1", "improvement": "Deposit fund"})
    a.set("steps", "A-1", "improvement", "I-7")  # names the row the same return adds
    a.add_row("stakeholders", {"name": "Dana Whitfield", "organization": "County"})
    a.add_row("stakeholders", {"organization": "Nameless org"})
    for _ in range(2):  # the master's row without an ID is in the copy too: these are two more
        a.add_row("priorities", {"id": None, "priority": "Transport", "why": "No buses after 6 pm"})
    a.save(tmp_path / "a.xlsx")

    result = merge(master, [tmp_path / "a.xlsx"], tmp_path / "merged.xlsx")

    emptied = KEPT.replace("deleted", "emptied", 1)
    assert _entries(result, "a.xlsx")[1:] == [
        (ADDED, "priorities", "", "P-3", "", None, "Transport", "a row without an ID"),
        (ADDED, "priorities", "", "P-4", "", None, "Transport", "a row without an ID"),
        (ADDED, "improvements", "I-7", "I-5", "", None, "Deposit fund", "a new row (marked I-7 in the return)"),
        (ADDED, "stakeholders", "Dana Whitfield", "Dana Whitfield", "", None, "Dana Whitfield", "a new row"),
        (ADDED, "stakeholders", "", "", "", None, "", "a row without a name"),
        (DELETED, "measures", "M-2", "M-2", "", None, None, emptied),
        (EDITED, "steps", "A-1", "A-1", "improvement", "I-1", "I-5", ""),
    ]
    merged = read_plan(result.output).plan
    assert get(merged, "steps", "A-1").get("improvement") == "I-5"
    assert [(r.id, r.get("priority")) for r in merged.rows("priorities")][2:] == [
        (None, "Transport"),
        ("P-3", "Transport"),
        ("P-4", "Transport"),
    ]
    assert get(merged, "measures", "M-2").get("measure") == get(plan, "measures", "M-2").get("measure")


def test_a_sheet_with_no_rows_anywhere_numbers_its_first_new_row_1(tmp_path: Path) -> None:
    plan = clean_plan()
    plan.records["measures"] = []
    master = write_plan_workbook(tmp_path / "master.xlsx", plan)
    a = Filler(master)
    a.add_row("measures", {"id": None, "improvement": "I-1", "measure": "People housed"})
    a.save(tmp_path / "a.xlsx")
    result = merge(master, [tmp_path / "a.xlsx"], tmp_path / "merged.xlsx")
    measure = schema.sheet("measures")
    assert [(e.action, e.merged_id) for e in result.log if e.action == ADDED] == [(ADDED, f"{measure.id_prefix}-1")]


def test_three_returns_where_two_agree_are_still_a_conflict_listing_all_three(master: Path, tmp_path: Path) -> None:
    old = get(clean_plan(), "steps", "A-3").get("status")
    first = _status_other_than(old)
    second = _status_other_than(old, first)
    paths = []
    for name, value in (("a.xlsx", first), ("b.xlsx", f"  {first.upper()} "), ("c.xlsx", second)):
        paths.append(edit_with_openpyxl(master, tmp_path / name, [Set("steps", "A-3", "status", value)]))
    result = merge(master, paths, tmp_path / "merged.xlsx")
    [issue] = result.issues
    assert (issue.kind, issue.id, issue.master) == (CONFLICT, "A-3", old)
    assert [(o.file, v) for o, v in issue.sent] == [("a.xlsx", first), ("b.xlsx", first), ("c.xlsx", second)]
    assert _rows(result.output, "steps")["A-3"]["status"] == old
    assert result.edits == 0


def test_the_same_change_from_two_packets_names_the_other_member(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    stakeholder = clean_plan().rows("stakeholders")[0]
    name, old = stakeholder.get("name"), stakeholder.get("email")
    edit = [Set("stakeholders", name, "email", "desk@example.org")]
    maria = edit_with_openpyxl(packets[MARIA], tmp_path / "m.xlsx", edit)
    sam = edit_with_openpyxl(packets[SAM], tmp_path / "s.xlsx", edit)
    result = merge(master, [maria, sam], tmp_path / "merged.xlsx")
    edited = [(e.origin.who, e.id, e.old, e.new, e.note) for e in result.log if e.action == EDITED]
    assert edited == [
        (f"m.xlsx ({MARIA})", name, old, "desk@example.org", f"the same change also came from s.xlsx ({SAM})"),
        (f"s.xlsx ({SAM})", name, old, "desk@example.org", f"the same change also came from m.xlsx ({MARIA})"),
    ]
    assert not result.issues


def test_formulas_in_a_return_are_not_applied_on_a_renamed_sheet_or_the_coalition_sheet(
    master: Path, tmp_path: Path
) -> None:
    a = Filler(master)
    row, col = a.coalition_cell("plan_end")
    a.ws(None).cell(row, col).value = "=TODAY()"
    a.formula("steps", "A-2", "notes", "=1+1")
    steps = a.ws("steps")
    steps.title = "renamed for a moment"
    steps.title = schema.sheet("steps").name.lower()  # the member retyped the tab's name in lower case
    a.save(tmp_path / "a.xlsx")
    result = merge(master, [tmp_path / "a.xlsx"], tmp_path / "merged.xlsx")
    notes, plan_end = schema.sheet("steps").column("notes").header, schema.coalition_field("plan_end").label
    kept = "where a value belongs; it was not evaluated; the master value is kept"
    assert _entries(result, "a.xlsx")[1:] == [
        (
            UNREADABLE,
            "steps",
            "A-2",
            "A-2",
            "notes",
            None,
            None,
            f"{STEPS_NOUN} A-2: {notes} holds a formula (=1+1) {kept}",
        ),
        (
            UNREADABLE,
            COALITION,
            "",
            "",
            "plan_end",
            clean_plan().coalition["plan_end"],
            None,
            f"{schema.COALITION_SHEET}: {plan_end} holds a formula (=TODAY()) {kept}",
        ),
    ]  # and no note calling the renamed sheet a member's own
    assert read_plan(result.output).plan.coalition["plan_end"] == clean_plan().coalition["plan_end"]


def test_a_folder_holding_the_master_the_output_and_a_return_saved_as_ods_merges_the_returns_and_lists_the_ods(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    """One folder as a coordinator keeps it: the master, the returns, last run's merged master, and a return a
    member saved from LibreOffice as .ods (and a stray CSV). The master and the merged master are no returns; the
    .ods and the CSV cannot be merged, and say so (and how to fix it) instead of being passed over; a return
    still open in Excel is pointed out, as the folder audit does."""
    from bad_inputs import _ods

    folder = tmp_path / "cycle"
    folder.mkdir()
    shutil.copy(master, folder / "plan.xlsx")
    new = _status_other_than(get(clean_plan(), "steps", "A-1").get("status"))
    edit_with_openpyxl(packets[MARIA], folder / "maria.xlsx", [Set("steps", "A-1", "status", new)])
    shutil.copy(packets[SAM], folder / "sam.xlsx")
    _ods(folder / "theo.ods", b"", None)
    (folder / "notes.csv").write_text("a,b\n", encoding="utf-8")
    (folder / "~$sam.xlsx").write_bytes(b"\0" * 165)  # Excel's lock file: Sam has his copy open right now
    args = ["merge", str(folder / "plan.xlsx"), str(folder), "-o", str(folder / "merged.xlsx"), "--force"]
    first = CliRunner().invoke(cli, args)
    again = CliRunner().invoke(cli, [*args, "--json"])  # last run's merged master now lies in the folder
    assert first.exit_code == again.exit_code == 2, first.output  # something came back that could not be merged
    assert "Came back but not merged:\n  notes.csv: notes.csv is a CSV text file" in first.stdout
    assert "  theo.ods: theo.ods is an OpenDocument spreadsheet (.ods); open it in LibreOffice Calc" in first.stdout
    lock = "sam.xlsx is open in Excel on someone's machine: the copy on disk may not have their latest edits."
    assert first.stdout.rstrip().endswith(lock) and again.stderr.strip() == lock  # (the JSON stays clean)
    report = json.loads(again.stdout)
    assert [r["file"] for r in report["returns"]] == ["maria.xlsx", "sam.xlsx"]
    assert [(e["file"], e["action"]) for e in report["log"] if e["action"] == NOT_MERGED] == [
        ("notes.csv", NOT_MERGED),
        ("theo.ods", NOT_MERGED),
    ]
    assert _rows(folder / "merged.xlsx", "steps")["A-1"]["status"] == new


def _sheet_renamed(src: Path, dest: Path) -> Path:
    book = load(src)
    book[schema.sheet("steps").name].title = "Steps (mine)"
    book.save(dest)
    book.close()
    return dest


def test_a_return_in_a_folder_that_cannot_be_read_as_a_plan_is_listed_and_the_others_merged(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    """Sam renamed his Action Steps sheet: in a folder of returns (or a mailbox, where it cannot be fixed in place)
    his return is listed with what to do, and Maria's is merged; exit 2, as for any return not merged. Named by
    itself, it still stops the merge, and nothing is written."""
    folder = tmp_path / "returns"
    folder.mkdir()
    new = _status_other_than(get(clean_plan(), "steps", "A-1").get("status"))
    edit_with_openpyxl(packets[MARIA], folder / "maria.xlsx", [Set("steps", "A-1", "status", new)])
    sam = _sheet_renamed(packets[SAM], folder / "sam.xlsx")
    out = tmp_path / "merged.xlsx"
    done = CliRunner().invoke(cli, ["merge", str(master), str(folder), "-o", str(out)])
    assert done.exit_code == 2, done.output
    says = "sam.xlsx has no 'Action Steps' sheet; rename the sheet back if it was renamed"
    assert f"Came back but not merged:\n  sam.xlsx: {says}" in done.stdout
    assert _rows(out, "steps")["A-1"]["status"] == new
    action = LOG_HEADERS[4][0]
    assert [x[LOG_HEADERS[0][0]] for x in _log_lines(out) if x.get(action) == NOT_MERGED] == ["sam.xlsx"]
    out.unlink()
    named = CliRunner().invoke(cli, ["merge", str(master), str(folder / "maria.xlsx"), str(sam), "-o", str(out)])
    assert named.exit_code == 2 and says in named.stderr and not out.exists()
    (folder / "maria.xlsx").unlink()
    alone = CliRunner().invoke(cli, ["merge", str(master), str(folder), "-o", str(out)])
    assert alone.exit_code == 2 and not out.exists()
    assert alone.stderr.strip() == f"Error: none of the returns can be read as a plan (sam.xlsx: {says}, or copy " \
        "it from a fresh template (`reentry-workbook new`), then run the command again)"


def test_a_master_named_again_among_the_returns_is_still_refused(master: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["merge", str(master), str(master), "-o", str(tmp_path / "merged.xlsx")])
    assert result.exit_code == 2 and "is named twice" in result.stderr
    assert not (tmp_path / "merged.xlsx").exists()


def test_returns_in_subfolders_are_named_and_merged_with_recursive(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "returns"
    (folder / "maria").mkdir(parents=True)
    new = _status_other_than(get(clean_plan(), "steps", "A-1").get("status"))
    edit_with_openpyxl(packets[MARIA], folder / "maria" / "plan.xlsx", [Set("steps", "A-1", "status", new)])
    shutil.copy(packets[SAM], folder / "sam.xlsx")
    args = ["merge", str(master), str(folder), "-o", str(tmp_path / "merged.xlsx"), "--force"]
    without = CliRunner().invoke(cli, args)
    assert without.exit_code == 0 and "Merged 1 returned copy" in without.stdout
    assert without.stdout.rstrip().endswith("Not searched: maria/ (the spreadsheets in subfolders are taken with "
                                            "--recursive).")
    recursive = CliRunner().invoke(cli, [*args, "--recursive"])
    assert recursive.exit_code == 0 and "Merged 2 returned copies" in recursive.stdout
    assert _rows(tmp_path / "merged.xlsx", "steps")["A-1"]["status"] == new


def test_a_row_two_returns_deleted_is_one_deleted_row_kept_with_both_named(master: Path, tmp_path: Path) -> None:
    copies = [edit_with_openpyxl(master, tmp_path / f"{n}.xlsx", [Delete("steps", "A-5")]) for n in ("a", "b")]
    result = merge(master, copies, tmp_path / "merged.xlsx")
    assert [(i.id, [o.file for o, _v in i.sent]) for i in result.issues] == [("A-5", ["a.xlsx"]), ("A-5", ["b.xlsx"])]
    assert ", 1 deleted row kept, " in render_merge(result)


def _without_packet_identity(src: Path, dest: Path) -> Path:
    """The workbook as pasted into a new one: no packet properties, no packet sheet."""
    from openpyxl.packaging.custom import CustomPropertyList

    book = load(src)
    del book[schema.PACKET_SHEET]
    book.custom_doc_props = CustomPropertyList()
    book.save(dest)
    book.close()
    assert read_packet_identity(dest) is None
    return dest


def test_a_packet_that_lost_what_says_it_is_one_is_read_as_the_packet_its_rows_are(
    master: Path, packets: dict[str, Path], tmp_path: Path
) -> None:
    """Maria's packet pasted into a new workbook: merged as her packet (her edit applied, the rows outside it not
    flagged as deleted), and the coordinator is told why."""
    new = _status_other_than(get(clean_plan(), "steps", "A-1").get("status"))
    edited = edit_with_openpyxl(packets[MARIA], tmp_path / "edited.xlsx", [Set("steps", "A-1", "status", new)])
    pasted = _without_packet_identity(edited, tmp_path / "pasted.xlsx")
    result = merge(master, [pasted], tmp_path / "merged.xlsx")
    assert _rows(result.output, "steps")["A-1"]["status"] == new
    assert not result.issues  # A-3 and A-5 (Sam's) and the parents outside her packet: not deleted
    assert [(o.file, o.member) for o in result.read_as_packets] == [("pasted.xlsx", MARIA)]
    shown = {"file": "pasted.xlsx", "member": MARIA, "sender": None, "date": None}
    assert result.to_dict()["read_as_packets"] == [shown]
    [note] = [e for e in result.log if e.action == NOTE and "does not say it is a packet" in e.note]
    assert note.origin.member == MARIA and f"{MARIA}'s packet" in note.note
    assert "Read as a packet, though it does not say it is one" in render_merge(result)
    assert "pasted.xlsx (Maria Lopez)" in render_merge(result)
    assert any(line.get(LOG_HEADERS[-1][0], "").startswith("it does not say") for line in _log_lines(result.output))


@pytest.mark.parametrize(
    ("edits", "deleted"),
    [
        # Sam's A-5 kept: rows of two members, so a full copy (A-3 missing is a deletion).
        ([Delete("steps", "A-3")], {"A-3"}),
        # Only Maria's steps, but Sam's improvement I-4 kept: a row outside her packet, so a full copy.
        ([Delete("steps", "A-3"), Delete("steps", "A-5")], {"A-3", "A-5"}),
    ],
)
def test_a_copy_holding_rows_outside_one_members_packet_is_a_full_copy(
    master: Path, tmp_path: Path, edits: list[Delete], deleted: set[str]
) -> None:
    copy = edit_with_openpyxl(master, tmp_path / "copy.xlsx", edits)
    result = merge(master, [copy], tmp_path / "merged.xlsx")
    assert {i.id for i in result.issues_of(DELETED)} == deleted
    assert result.read_as_packets == []
    assert not any(e.action == NOTE and "does not say it is a packet" in e.note for e in result.log)


def test_a_copy_of_a_plan_whose_steps_are_all_one_members_is_a_full_copy(tmp_path: Path) -> None:
    """Every row is in that member's packet, so nothing tells a packet from a full copy: it is read as one."""
    plan = clean_plan()
    for step in plan.rows("steps"):
        step.values["responsible"] = MARIA
    master = write_plan_workbook(tmp_path / "master.xlsx", plan)
    copy = edit_with_openpyxl(master, tmp_path / "copy.xlsx", [Delete("steps", "A-3")])
    result = merge(master, [copy], tmp_path / "merged.xlsx")
    assert result.read_as_packets == [] and {i.id for i in result.issues_of(DELETED)} == {"A-3"}


def test_a_copy_that_kept_no_action_step_of_the_master_is_a_full_copy(master: Path, tmp_path: Path) -> None:
    copy = edit_with_openpyxl(master, tmp_path / "copy.xlsx", [Delete("steps", f"A-{n}") for n in range(1, 6)])
    result = merge(master, [copy], tmp_path / "merged.xlsx")
    assert result.read_as_packets == [] and {i.id for i in result.issues_of(DELETED)} == {f"A-{n}" for n in range(1, 6)}


def test_a_full_copy_naming_two_members_is_told_from_a_packet_without_cutting_the_master(
    master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge of ten full copies of a large plan must not cut the master into packets ten times to find that
    none is one: steps naming two members say so at once."""
    from reentry_workbook.cycle import packets as packets_module

    def refuse(*_args: object) -> None:
        raise AssertionError("the master was cut into packets for a full copy")

    monkeypatch.setattr(packets_module.PacketIndex, "member_holding", refuse)
    copy = edit_with_openpyxl(master, tmp_path / "copy.xlsx", [Set("steps", "A-1", "notes", "Called")])
    result = merge(master, [copy], tmp_path / "merged.xlsx", jobs=1)
    assert result.read_as_packets == [] and _rows(result.output, "steps")["A-1"]["notes"] == "Called"
