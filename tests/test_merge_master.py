"""The master survives the cycle: merge writes the returns' changes into the coordinator's own workbook.

The master is tests/plans.py's clean plan, kept by a coordinator who added a column of their own on Action
Steps (with values and a fill), and then a sheet of their own with a picture, a note, a threaded comment, an
Excel 2010 extended validation, a defined name and a custom property (tests/decorate.py). Three copies come
back: Maria's packet (one edit, one added step), Sam's packet (one status) and a full copy (an improvement's
new text, a deleted step, and another status for Sam's step: the conflict).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from decorate import MEMBER_SHEET, decorate
from member_edits import Add, Delete, Set, edit_with_openpyxl, load, table
from openpyxl.styles import PatternFill
from plans import AS_OF, clean_plan, get

from reentry_workbook.audit.pipeline import audit_file, audit_plan
from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_model import CONFLICT, DELETED, ReturnedCopy
from reentry_workbook.cycle.merge_sheets import CONFLICT_HEADERS, LOG_HEADERS
from reentry_workbook.cycle.packets import make_packets, read_packet_identity
from reentry_workbook.errors import TemplateMismatchError
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import write_plan_workbook
from reentry_workbook.xlsx import package
from reentry_workbook.xlsx.workbook_edit import worksheet_parts

MARIA, SAM = "Maria Lopez", "Sam Okafor"
EXTRA_HEADER = "Budget code"  # the coordinator's own column: not part of the plan
EXTRA_VALUES = ["HSG-01", "WRK-02", "HSG-03", "ID-04", "HSG-05"]
KIND, _SHEET, ID, _FIELD, MASTER, SENT, FILE, MEMBER, SENDER, _WHAT = (h for h, _w in CONFLICT_HEADERS)
STEPS = schema.sheet("steps")
STATUS = schema.CHOICES["status"]
NEW_STEP = "Book the church hall for the landlord forum"
NEW_IMPROVEMENT_TEXT = "Landlord incentive fund, with a damage guarantee"
EDITED_STEP = "Draft and sign the MOU with the housing authority"


def _coordinators_master(folder: Path) -> Path:
    plain = write_plan_workbook(folder / "plain.xlsx", clean_plan())
    book = load(plain)
    ws = book[STEPS.name]
    col = ws.max_column + 1
    ws.cell(row=schema.HEADER_ROW, column=col, value=EXTRA_HEADER).fill = PatternFill("solid", fgColor="FFD966")
    for i, value in enumerate(EXTRA_VALUES):
        ws.cell(row=schema.FIRST_DATA_ROW + i, column=col, value=value)
    ws.cell(row=schema.FIRST_DATA_ROW, column=2).fill = PatternFill("solid", fgColor="C6E0B4")
    styled = folder / "styled.xlsx"
    book.save(styled)
    book.close()
    decorated = folder / "decorated.xlsx"
    decorate(styled, decorated)
    master = folder / "master.xlsx"
    audit_file(decorated, out=master, as_of=AS_OF)  # the coordinator audits the master: an Alignment Summary
    return master


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its worksheet part."""
    return worksheet_parts(path)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cycle")
    master = _coordinators_master(folder)
    packets = {read_packet_identity(p).member: p for p in make_packets(master, folder / "packets")}  # type: ignore[union-attr]
    old_status = get(clean_plan(), "steps", "A-3").get("status")
    sam_status, full_status = [s for s in STATUS if s != old_status][:2]
    maria = edit_with_openpyxl(packets[MARIA], folder / "maria.xlsx", [
        Set("steps", "A-1", "step", EDITED_STEP),
        Add("steps", {"improvement": "I-1", "step": NEW_STEP, "responsible": MARIA, "due_date": dt.date(2027, 5, 14)}),
    ])
    sam = edit_with_openpyxl(packets[SAM], folder / "sam.xlsx", [Set("steps", "A-3", "status", sam_status)])
    full = edit_with_openpyxl(master, folder / "full.xlsx", [
        Set("improvements", "I-1", "improvement", NEW_IMPROVEMENT_TEXT),
        Set("steps", "A-3", "status", full_status),
        Delete("steps", "A-5"),
    ])
    out = folder / "merged.xlsx"
    sender = "Maria Lopez <maria@example.org>"
    returns = [ReturnedCopy(maria, sender=sender, date=dt.datetime(2027, 3, 2, 9, 15)), sam, full]
    merge(master, returns, out)
    return {"master": master, "maria": maria, "sam": sam, "full": full, "merged": out, "folder": folder}


# The parts a merge may rewrite (docs/round-trips.md): the package's lists of parts, the styles, the shared
# strings, and the worksheets whose cells changed: here Action Steps, Improvements and the hidden Lists sheet.
def _may_change(master: Path) -> set[str]:
    sheets = _sheet_parts(master)
    allowed = set(package.parts_graft_may_change(master)) | {"xl/sharedStrings.xml", "xl/calcChain.xml"}
    return allowed | {sheets[STEPS.name], sheets[schema.sheet("improvements").name], sheets[schema.LISTS_SHEET]}


def test_every_part_outside_the_documented_list_is_byte_identical(cycle: dict[str, Path]) -> None:
    before, after = _parts(cycle["master"]), _parts(cycle["merged"])
    assert set(before) <= set(after), "a part of the master was dropped"
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= _may_change(cycle["master"]), changed - _may_change(cycle["master"])
    sheets = _sheet_parts(cycle["master"])
    kept = (MEMBER_SHEET, schema.SUMMARY_SHEET, schema.START_SHEET, schema.sheet("goals").name,
            schema.sheet("stakeholders").name)
    for name in kept:
        assert before[sheets[name]] == after[sheets[name]], name
    assert any("threadedComment" in n for n in before) and any(n.startswith("xl/media/") for n in before)


def test_applied_edits_and_the_added_row_read_back(cycle: dict[str, Path]) -> None:
    plan = read_plan(cycle["merged"]).plan
    steps = {r.id: r for r in plan.rows("steps")}
    assert steps["A-1"].get("step") == EDITED_STEP
    assert plan.by_id("improvements")["I-1"].get("improvement") == NEW_IMPROVEMENT_TEXT
    assert "A-5" in steps  # deleted in the full copy: flagged, kept
    [new] = [r for r in steps.values() if r.get("step") == NEW_STEP]
    assert new.get("improvement") == "I-1" and new.get("responsible") == MARIA
    assert new.get("due_date") == dt.date(2027, 5, 14)
    # It took the master's first blank pre-formatted row, and that row's pre-filled ID.
    assert new.row == max(r.row for r in read_plan(cycle["master"]).plan.rows("steps")) + 1
    assert new.id == "A-6"
    old_status = get(clean_plan(), "steps", "A-3").get("status")
    assert steps["A-3"].get("status") == old_status  # the conflict keeps the master's value


def test_the_conflict_and_the_deletion_are_on_merge_conflicts(cycle: dict[str, Path]) -> None:
    lines = table(cycle["merged"], schema.MERGE_CONFLICTS_SHEET, KIND)
    assert {(x[KIND], x[ID], x[FILE]) for x in lines if x[KIND] == CONFLICT} == {
        (CONFLICT, "A-3", "sam.xlsx"), (CONFLICT, "A-3", "full.xlsx"),
    }
    assert [(x[ID], x[FILE]) for x in lines if x[KIND] == DELETED] == [("A-5", "full.xlsx")]
    log = table(cycle["merged"], schema.MERGE_LOG_SHEET, LOG_HEADERS[0][0])
    senders = {x.get(LOG_HEADERS[2][0]) for x in log if x[LOG_HEADERS[0][0]] == "maria.xlsx"}
    assert senders == {"Maria Lopez <maria@example.org>"}


def test_the_coordinators_column_and_sheet_are_unchanged(cycle: dict[str, Path]) -> None:
    book = load(cycle["merged"])
    try:
        ws = book[STEPS.name]
        col = next(c for c in range(1, ws.max_column + 1) if ws.cell(schema.HEADER_ROW, c).value == EXTRA_HEADER)
        values = [ws.cell(schema.FIRST_DATA_ROW + i, col).value for i in range(len(EXTRA_VALUES))]
        assert values == EXTRA_VALUES
        assert ws.cell(schema.HEADER_ROW, col).fill.fgColor.rgb.endswith("FFD966")
        assert book.sheetnames.count(schema.MERGE_CONFLICTS_SHEET) == 1
    finally:
        book.close()


def test_the_dropdown_labels_and_derived_goals_have_correct_cached_values(cycle: dict[str, Path]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl drops the extensions it does not know, and says so
        book = openpyxl.load_workbook(cycle["merged"], data_only=True)
    try:
        lists = [c.value for row in book[schema.LISTS_SHEET].iter_rows() for c in row]
        assert f"I-1{schema.ID_SEPARATOR}{NEW_IMPROVEMENT_TEXT}" in lists
        plan = read_plan(cycle["merged"]).plan
        new = next(r for r in plan.rows("steps") if r.get("step") == NEW_STEP)
        ws = book[STEPS.name]
        goal_col = plan.source.columns["steps"]["goal"]
        goal = get(clean_plan(), "goals", get(clean_plan(), "improvements", "I-1").get("goal"))
        assert ws[f"{goal_col}{new.row}"].value == f"{goal.id}{schema.ID_SEPARATOR}{goal.get('goal')}"
    finally:
        book.close()


def test_merging_twice_keeps_one_pair_of_merge_sheets_and_loses_nothing(cycle: dict[str, Path]) -> None:
    folder = cycle["folder"]
    again = edit_with_openpyxl(cycle["merged"], folder / "again.xlsx", [Set("steps", "A-2", "notes", "Minutes sent")])
    second = folder / "merged-twice.xlsx"
    merge(cycle["merged"], [again], second)
    names = package.sheet_names(second)
    assert names.count(schema.MERGE_CONFLICTS_SHEET) == 1 and names.count(schema.MERGE_LOG_SHEET) == 1
    assert names[: names.index(schema.MERGE_CONFLICTS_SHEET)] == [
        n for n in package.sheet_names(cycle["merged"]) if n not in (schema.MERGE_CONFLICTS_SHEET,
                                                                      schema.MERGE_LOG_SHEET)
    ][: names.index(schema.MERGE_CONFLICTS_SHEET)]
    first_plan, second_plan = read_plan(cycle["merged"]).plan, read_plan(second).plan
    assert get(second_plan, "steps", "A-2").get("notes") == "Minutes sent"
    for sheet in schema.SHEETS:
        before = {r.id or r.get(sheet.label): r.values for r in first_plan.rows(sheet.key)}
        after = {r.id or r.get(sheet.label): r.values for r in second_plan.rows(sheet.key)}
        assert set(before) == set(after)
    before, after = _parts(cycle["merged"]), _parts(second)
    sheets = _sheet_parts(cycle["merged"])
    assert before[sheets[MEMBER_SHEET]] == after[sheets[MEMBER_SHEET]]
    assert {n for n in before if n.startswith(("xl/media/", "xl/threadedComments/", "docProps/"))} <= set(after)


def test_in_place_keeps_a_backup_and_an_unmappable_master_is_refused(cycle: dict[str, Path], tmp_path: Path) -> None:
    master = tmp_path / "plan.xlsx"
    master.write_bytes(cycle["master"].read_bytes())
    neither = CliRunner().invoke(cli, ["merge", str(master), str(cycle["sam"])])
    assert neither.exit_code != 0 and "--in-place" in neither.output
    result = CliRunner().invoke(cli, ["merge", str(master), str(cycle["sam"]), "--in-place"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plan.backup.xlsx").read_bytes() == cycle["master"].read_bytes()
    assert schema.MERGE_LOG_SHEET in package.sheet_names(master)
    missing = tmp_path / "no-status.xlsx"
    book = load(cycle["master"])
    ws = book[STEPS.name]
    for c in range(1, ws.max_column + 1):
        if ws.cell(schema.HEADER_ROW, c).value == STEPS.column("status").header:
            ws.cell(schema.HEADER_ROW, c).value = "State"
    book.save(missing)
    book.close()
    with pytest.raises(TemplateMismatchError, match="upgrade"):
        merge(missing, [cycle["sam"]], tmp_path / "out.xlsx")
    refused = CliRunner().invoke(cli, ["merge", str(missing), str(cycle["sam"]), "-o", str(tmp_path / "o.xlsx")])
    assert refused.exit_code != 0 and "upgrade" in refused.output and len(refused.output.strip().splitlines()) == 1


def test_the_merged_master_passes_openxml_audit_as_well_as_the_master(cycle: dict[str, Path]) -> None:
    from openxml_audit import OpenXmlValidator, ValidationSeverity

    validator = OpenXmlValidator()

    def errors(path: Path) -> set[tuple[str, str, str]]:
        """The file's findings, numbers left out ("sheet7.xml has 249 inline-string cells" is one kind of finding);
        a warning counts once whatever part it is about (the grafted sheets carry the master's own kind)."""
        found = validator.validate(str(path)).errors
        return {
            (e.part_uri if e.severity is ValidationSeverity.ERROR else "", str(e.severity),
             re.sub(r"\d+", "N", e.description))
            for e in found
        }

    before = errors(cycle["master"])
    assert not [e for e in before if "File not found" in e[2]]
    assert errors(cycle["merged"]) <= before


def test_findings_of_the_merged_master(cycle: dict[str, Path]) -> None:
    """Auditing the merged master works and names the row the merge added (it has no measure of its own)."""
    report = audit_plan(cycle["merged"], as_of=AS_OF)
    assert report.summary.steps == len(read_plan(cycle["merged"]).plan.rows("steps"))


@pytest.mark.libreoffice
def test_the_merged_master_in_libreoffice(tmp_path: Path) -> None:
    """LibreOffice shows the edited texts and the new row, its improvements dropdown offers the edited text at once
    (read from the file LibreOffice saves: the values it shows), and its saved copy audits the same.

    The master is the generator's own (decorated, never saved by openpyxl): LibreOffice trusts the cached results
    of such a file instead of recalculating, so only correct cached results make the dropdown offer the new text.
    """
    import libreoffice

    master = tmp_path / "master.xlsx"
    decorate(write_plan_workbook(tmp_path / "plain.xlsx", clean_plan()), master)
    maria = next(p for p in make_packets(master, tmp_path / "packets")
                 if read_packet_identity(p).member == MARIA)  # type: ignore[union-attr]
    maria = edit_with_openpyxl(maria, tmp_path / "maria.xlsx", [
        Add("steps", {"improvement": "I-1", "step": NEW_STEP, "responsible": MARIA}),
    ])
    full = edit_with_openpyxl(master, tmp_path / "full.xlsx", [
        Set("improvements", "I-1", "improvement", NEW_IMPROVEMENT_TEXT), Set("steps", "A-1", "step", EDITED_STEP),
    ])
    merged = merge(master, [maria, full], tmp_path / "merged.xlsx").output
    saved = libreoffice.convert(merged, tmp_path / "lo")
    plan = read_plan(saved).plan
    steps = {r.id: r for r in plan.rows("steps")}
    assert steps["A-1"].get("step") == EDITED_STEP and steps["A-6"].get("step") == NEW_STEP
    assert plan.by_id("improvements")["I-1"].get("improvement") == NEW_IMPROVEMENT_TEXT
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(saved, data_only=True)
    try:
        name = schema.reference_list_name("improvements")
        [(target, ref)] = list(book.defined_names[name].destinations)
        offered = [c.value for row in book[target][ref.replace("$", "")] for c in row]
        goal_col = plan.source.columns["steps"]["goal"]
        shown_goal = book[STEPS.name][f"{goal_col}{steps['A-6'].row}"].value
    finally:
        book.close()
    assert f"I-1{schema.ID_SEPARATOR}{NEW_IMPROVEMENT_TEXT}" in offered
    goal = get(clean_plan(), "goals", get(clean_plan(), "improvements", "I-1").get("goal"))
    assert shown_goal == f"{goal.id}{schema.ID_SEPARATOR}{goal.get('goal')}"
    direct, resaved = audit_plan(merged, as_of=AS_OF), audit_plan(saved, as_of=AS_OF)
    assert [(f.rule, f.id, f.cell) for f in resaved.findings] == [(f.rule, f.id, f.cell) for f in direct.findings]


def test_a_row_past_the_pre_formatted_ones_is_appended_with_the_formats_above(tmp_path: Path) -> None:
    plan = clean_plan()
    master = write_plan_workbook(tmp_path / "tight.xlsx", plan, rows=len(plan.rows("steps")))
    full = edit_with_openpyxl(master, tmp_path / "full.xlsx", [
        Add("steps", {"improvement": "I-2", "step": NEW_STEP, "due_date": dt.date(2027, 9, 1)}),
        Add("improvements", {"goal": "G-1", "improvement": "Rent deposit loans"}),  # the last blank row
        Add("improvements", {"goal": "G-1", "improvement": NEW_IMPROVEMENT_TEXT}),  # past the blank rows
    ])
    result = merge(master, [full], tmp_path / "merged.xlsx")
    merged = read_plan(result.output).plan
    [new] = [r for r in merged.rows("steps") if r.get("step") == NEW_STEP]
    assert new.row == max(r.row for r in read_plan(master).plan.rows("steps")) + 1
    assert new.get("due_date") == dt.date(2027, 9, 1) and new.get("improvement") == "I-2"
    cols = merged.source.columns["steps"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(result.output)
        values = openpyxl.load_workbook(result.output, data_only=True)
    try:
        ws = book[STEPS.name]
        due, above = ws[f"{cols['due_date']}{new.row}"], ws[f"{cols['due_date']}{new.row - 1}"]
        assert due.number_format == above.number_format and due.style_id == above.style_id
        validated = {str(dv.sqref) for dv in ws.data_validations.dataValidation}
        assert any(f"{cols['status']}{new.row}" in dv.sqref for dv in ws.data_validations.dataValidation), validated
        row_cells = [f"{letter}{new.row}" for letter in cols.values()]
        assert any(cell in rng.sqref for rng in ws.conditional_formatting for cell in row_cells)
        goal_cell = f"{cols['goal']}{new.row}"
        assert str(ws[goal_cell].value).startswith("=") and f"{cols['improvement']}{new.row}" in ws[goal_cell].value
        goal = get(plan, "goals", get(plan, "improvements", "I-2").get("goal"))
        assert values[STEPS.name][goal_cell].value == f"{goal.id}{schema.ID_SEPARATOR}{goal.get('goal')}"
        # The improvements dropdown grows over the appended improvement, and offers it at once.
        [appended] = [r for r in merged.rows("improvements") if r.get("improvement") == NEW_IMPROVEMENT_TEXT]
        [(target, ref)] = list(values.defined_names[schema.reference_list_name("improvements")].destinations)
        offered = [c.value for row in values[target][ref.replace("$", "")] for c in row]
        assert offered[-1] == f"{appended.id}{schema.ID_SEPARATOR}{NEW_IMPROVEMENT_TEXT}"
    finally:
        book.close()
        values.close()
