"""Merging returned copies into the master: three-way by row ID, nothing silently dropped.

The master is tests/plans.py's clean plan: Maria Lopez answers for A-1, A-2 and A-4 (improvements I-1, I-2,
I-3), Sam Okafor for A-3 and A-5 (I-1, I-4). Maria's packet therefore pre-fills its blank rows with IDs
(A-5, I-4, ...) that other members' rows use in the master.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from member_edits import Add, Delete, Set, cell_value, edit_with_openpyxl, formula, load, table
from plans import clean_plan, get

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.cycle.diff import compare
from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_model import CONFLICT, CONTEXT_EDIT, DELETED, EDITED, NOTE, UNREADABLE
from reentry_workbook.cycle.merge_sheets import CONFLICT_HEADERS, LOG_HEADERS, render_merge
from reentry_workbook.cycle.packets import make_packets, read_packet_identity
from reentry_workbook.cycle.roundtrip import id_number
from reentry_workbook.errors import OutputError, UsageError
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import write_plan_workbook

STATUS = schema.CHOICES["status"]
MARIA, SAM = "Maria Lopez", "Sam Okafor"
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
