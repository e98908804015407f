"""LibreOffice Calc as the member's spreadsheet app, end to end (issue 4, part 1).

The bundled example workbook goes through a real LibreOffice: opened and saved as it is; edited the way a
person types (GoToCell and EnterString through the dispatcher, Paste Special over a dropdown, a column
inserted); and the audited copy printed to PDF. The audit must read exactly what LibreOffice stored.

Every sheet name, header and choice comes from ``reentry_workbook.plan.schema``; each LibreOffice run takes a
few seconds, so the edits are grouped into one run.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import libreoffice
import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.workbook.workbook import Workbook

from reentry_workbook.audit.pipeline import audit_plan
from reentry_workbook.audit.reader import ReadResult, read_plan
from reentry_workbook.audit.report import Report
from reentry_workbook.cli import cli
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.plan.model import UNREADABLE_DATE, Finding, Unknown
from reentry_workbook.workbook.example import EXAMPLE_AS_OF, example_plan
from reentry_workbook.workbook.generate import new_workbook
from reentry_workbook.workbook.lists import letter

FIRST = schema.FIRST_DATA_ROW
STEPS = schema.sheet("steps")
IMPROVEMENTS = schema.sheet("improvements")
STATUS = schema.CHOICES[STEPS.column("status").choices or "status"]
AUDITED_AT = dt.datetime(2027, 3, 1, 9, 0)


def _load(path: Path) -> Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about parts it does not model; not our concern here
        return openpyxl.load_workbook(path)


def _audit(path: Path) -> Report:
    return audit_plan(path, as_of=EXAMPLE_AS_OF, audited_at=AUDITED_AT)


def _report_shape(report: Report) -> dict[str, Any]:
    """Everything the report shows, except the file it was read from."""
    shape = report.to_dict()
    shape["summary"] = {k: v for k, v in shape["summary"].items() if k != "file"}
    return shape


def _rows(result: ReadResult, sheet: schema.Sheet) -> dict[str | None, dict[str, Any]]:
    return {rec.id: rec.values for rec in result.plan.rows(sheet.key)}


def _list_validations(book: Workbook) -> Counter[tuple[str, str]]:
    """(sheet, source) of every list validation in the workbook."""
    found: Counter[tuple[str, str]] = Counter()
    for ws in book.worksheets:
        for dv in ws.data_validations.dataValidation:
            if dv.type == "list":
                found[(ws.title, str(dv.formula1))] += 1
    return found


def _list_source(col: schema.Column) -> str | None:
    if col.kind is schema.Kind.CHOICE and col.choices:
        return schema.choice_list_name(col.choices)
    if col.kind is schema.Kind.REF and col.ref:
        return schema.reference_list_name(col.ref)
    if col.suggest:
        return schema.suggest_list_name(col.suggest)
    return None


def _validation_at(book: Workbook, sheet: str, cell: str) -> Any:
    found = [dv for dv in book[sheet].data_validations.dataValidation if cell in dv.sqref]
    assert len(found) <= 1, f"{sheet}!{cell} has {len(found)} validations"
    return found[0] if found else None


@pytest.fixture(scope="module")
def example_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_workbook(tmp_path_factory.mktemp("example") / "example.xlsx", example=True)


# --- 1. opened and saved by LibreOffice -----------------------------------------------------------------------


@pytest.mark.libreoffice
def test_the_template_saved_by_libreoffice_audits_the_same(example_path: Path, tmp_path: Path) -> None:
    saved = libreoffice.convert(example_path, tmp_path / "lo")

    before, after = read_plan(example_path), read_plan(saved)
    assert after.plan.records == before.plan.records
    assert after.plan.coalition == before.plan.coalition
    assert after.plan.source.columns == before.plan.source.columns
    # The template's identity (custom document properties) survives, so the summary names the version.
    assert (after.plan.source.template_name, after.plan.source.template_version) == (
        schema.TEMPLATE_NAME,
        schema.TEMPLATE_VERSION,
    )
    assert after.findings == before.findings

    original, resaved = _audit(example_path), _audit(saved)
    assert [(f.rule, f.id, f.cell) for f in resaved.findings] == [(f.rule, f.id, f.cell) for f in original.findings]
    assert _report_shape(resaved) == _report_shape(original)

    # Every dropdown is still sourced from a workbook-level name that resolves on the hidden Lists sheet.
    book, made = _load(saved), _load(example_path)
    assert book[schema.LISTS_SHEET].sheet_state == "hidden"
    assert _list_validations(book) == _list_validations(made)
    for sheet, source in _list_validations(book):
        name = source.removeprefix("=")
        assert name in book.defined_names, f"{sheet}: dropdown source {source} is not a workbook-level name"
        [(target, ref)] = list(book.defined_names[name].destinations)
        assert target == schema.LISTS_SHEET, f"{name} now points at {target}!{ref}"
        assert list(book.defined_names[name].destinations) == list(made.defined_names[name].destinations)
    for key, choices in schema.CHOICES.items():
        [(target, ref)] = list(book.defined_names[schema.choice_list_name(key)].destinations)
        offered = [c.value for row in book[target][ref.replace("$", "")] for c in row]
        assert offered == list(choices), f"the {key} dropdown offers {offered}"
    # ... on the first and the last pre-formatted row of every column that has one.
    last = FIRST + schema.DEFAULT_ROWS - 1
    for sh in schema.SHEETS:
        for col in sh.columns:
            source = _list_source(col)
            if source is None:
                continue
            for row in (FIRST, last):
                dv = _validation_at(book, sh.name, f"{letter(sh, col.key)}{row}")
                assert dv is not None and dv.formula1 == source, f"{sh.name} {col.header} row {row} lost its dropdown"


# --- 2. a member types in LibreOffice -------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_what_a_member_types_in_libreoffice_is_what_the_audit_reads(example_path: Path, tmp_path: Path) -> None:
    plan = example_plan()
    steps = plan.rows(STEPS.key)
    row_of = {rec.id: FIRST + i for i, rec in enumerate(steps)}
    improvement_text = {rec.id: rec.get(IMPROVEMENTS.label) for rec in plan.rows(IMPROVEMENTS.key)}
    people = [rec.get("name") for rec in plan.rows("stakeholders")]
    yes = schema.SERVES_GOAL_YES
    not_started, in_progress = STATUS[0], STATUS[1]
    pid = STEPS.id_prefix
    prepared_rows = max(schema.DEFAULT_ROWS, len(steps))  # rows with an ID and dropdowns, from FIRST on
    next_prepared = FIRST + len(steps)  # the first unused prepared row
    new_id = f"{pid}-{len(steps) + 1}"
    past_with_id = FIRST + prepared_rows  # first row past the prepared ones; the member types the next ID
    past_without_id = past_with_id + 1  # ... and one row where they forget it
    typed_past_id = f"{pid}-{prepared_rows + 1}"

    # The member inserts a column of their own before Status; every column from Status on moves right.
    inserted_before = letter(STEPS, "status")
    shift_from = column_index_from_string(inserted_before)
    own_header = "Owner's phone"

    def at(key: str, row: int) -> str:
        index = column_index_from_string(letter(STEPS, key))
        return f"{get_column_letter(index + (index >= shift_from))}{row}"

    typed: list[tuple[str, int, str]] = [
        # Dates typed in several forms.
        ("start_date", row_of["A-27"], "3/15/2027"),
        ("due_date", row_of["A-27"], "2027-04-30"),  # A-27 had no due date: that gap goes
        ("due_date", row_of["A-16"], "March 2027"),
        ("due_date", row_of["A-8"], "TBD"),  # A-8 was overdue; now its due date cannot be read
        # Dropdown values typed instead of picked.
        ("status", row_of["A-6"], in_progress.lower()),
        ("improvement", row_of["A-12"], f"I-3{schema.ID_SEPARATOR}{improvement_text['I-3']}"),
        ("improvement", row_of["A-15"], "i-2"),
        # A new step in the next prepared row (its ID is already there).
        ("improvement", next_prepared, "I-10"),
        ("step", next_prepared, "Hand every person a printed list of clinic hours"),
        ("serves_goal", next_prepared, yes),
        ("how_it_serves", next_prepared, "People know where to go for the next dose"),
        ("responsible", next_prepared, people[0]),
        ("start_date", next_prepared, "4/1/2027"),
        ("due_date", next_prepared, "6/30/2027"),
        ("status", next_prepared, not_started),
        # Past the prepared rows: as the README says, type the next ID yourself ...
        ("id", past_with_id, typed_past_id),
        ("improvement", past_with_id, "I-1"),
        ("step", past_with_id, "Add the housing screen to the booking checklist"),
        ("serves_goal", past_with_id, yes),
        ("responsible", past_with_id, people[1]),
        ("due_date", past_with_id, "5/31/2027"),
        ("status", past_with_id, not_started),
        # ... or forget it: the row is still read, and the audit asks for an ID.
        ("improvement", past_without_id, "I-2"),
        ("step", past_without_id, "Count the reserved beds used each month"),
        ("serves_goal", past_without_id, yes),
        ("responsible", past_without_id, people[2]),
        ("due_date", past_without_id, "2027-05-31"),
        ("status", past_without_id, not_started),
    ]
    pasted_status = "Nearly done"  # the Status dropdown would refuse it; Paste Special values gets it in
    actions: list[dict[str, Any]] = [
        {"op": "insert_column", "sheet": STEPS.name, "before": inserted_before},
        {"op": "type", "sheet": STEPS.name, "cell": f"{inserted_before}{schema.HEADER_ROW}", "text": own_header},
        {"op": "type", "sheet": STEPS.name, "cell": f"{inserted_before}{row_of['A-1']}", "text": "555-0100"},
        *({"op": "type", "sheet": STEPS.name, "cell": at(key, row), "text": text} for key, row, text in typed),
        {"op": "paste_text", "sheet": STEPS.name, "cell": at("status", row_of["A-9"]), "text": pasted_status},
    ]
    edited = tmp_path / "edited.xlsx"
    libreoffice.edit(example_path, edited, actions)

    # The file as LibreOffice stored it: typed dates became real dates, except those Calc does not parse.
    ws = _load(edited)[STEPS.name]
    assert ws[f"{inserted_before}{schema.HEADER_ROW}"].value == own_header
    assert ws[at("due_date", row_of["A-16"])].value == dt.datetime(2027, 3, 1)  # Calc: "March 2027" is the 1st
    assert ws[at("due_date", row_of["A-8"])].value == "TBD"
    assert _validation_at(ws.parent, STEPS.name, at("status", row_of["A-9"])) is not None  # dropdown kept
    assert _validation_at(ws.parent, STEPS.name, at("status", past_with_id)) is None  # none past the prepared rows

    result = read_plan(edited)
    read = _rows(result, STEPS)
    # Columns are found by header text, wherever the inserted column pushed them.
    assert result.plan.source.columns[STEPS.key]["status"] == at("status", 1)[:-1]
    assert result.plan.source.columns[STEPS.key]["due_date"] == at("due_date", 1)[:-1]
    assert read["A-1"] == {"id": "A-1", **steps[0].values}  # the member's own column is ignored
    assert (read["A-27"]["start_date"], read["A-27"]["due_date"]) == (dt.date(2027, 3, 15), dt.date(2027, 4, 30))
    assert read["A-16"]["due_date"] == dt.date(2027, 3, 1)
    assert read["A-8"]["due_date"] == Unknown(UNREADABLE_DATE, "TBD")
    assert read["A-6"]["status"] == in_progress
    assert read["A-12"]["improvement"] == "I-3"
    assert read["A-15"]["improvement"] == "I-2"
    assert read["A-9"]["status"] == pasted_status
    assert read[new_id] == {
        "id": new_id,
        "improvement": "I-10",
        "step": "Hand every person a printed list of clinic hours",
        "serves_goal": yes,
        "how_it_serves": "People know where to go for the next dose",
        "responsible": people[0],
        "start_date": dt.date(2027, 4, 1),
        "due_date": dt.date(2027, 6, 30),
        "status": not_started,
        "resources_needed": None,
        "last_updated": None,
        "notes": None,
    }
    assert read[typed_past_id]["due_date"] == dt.date(2027, 5, 31)  # a real date, even with no date format there
    assert read[typed_past_id]["improvement"] == "I-1"
    assert read[None]["step"] == "Count the reserved beds used each month"
    assert read[None]["due_date"] == dt.date(2027, 5, 31)
    untouched = {"A-1", "A-6", "A-8", "A-9", "A-12", "A-15", "A-16", "A-27"}
    for rec in steps:
        if rec.id not in untouched:
            assert read[rec.id] == {"id": rec.id, **rec.values}, rec.id
    assert len(read) == len(steps) + 3

    # The findings: exactly the gaps typing fixed went away, and exactly these came.
    original = _audit(example_path)
    report = _audit(edited)

    def keyed(findings: list[Finding]) -> Counter[tuple[str, str | None]]:
        return Counter((f.rule, f.id) for f in findings)

    gone = keyed(original.findings) - keyed(report.findings)
    came = keyed(report.findings) - keyed(original.findings)
    assert gone == Counter({("step-without-due-date", "A-27"): 1, ("step-overdue", "A-8"): 1})
    assert came == Counter({("unreadable-date", "A-8"): 1, ("invalid-choice", "A-9"): 1, ("missing-id", None): 1})
    new = {f.rule: f for f in report.findings if (f.rule, f.id) in came}
    assert new["unreadable-date"].cell == at("due_date", row_of["A-8"])
    assert "'TBD'" in new["unreadable-date"].message
    assert new["invalid-choice"].cell == at("status", row_of["A-9"])
    assert f"'{pasted_status}'" in new["invalid-choice"].message
    missing = new["missing-id"]
    assert (missing.sheet, missing.cell) == (STEPS.name, f"{letter(STEPS, 'id')}{past_without_id}")
    assert (missing.severity, missing.fix) == (catalogue.rule("missing-id").severity, catalogue.rule("missing-id").fix)
    # No date typed in LibreOffice was left as text: Calc turned each one into a date or kept "TBD" as text.
    assert not [f for f in report.findings if f.rule == "date-as-text"]


# --- 3. the audited copy in LibreOffice -----------------------------------------------------------------------


@pytest.mark.libreoffice
def test_the_audited_copy_opens_in_libreoffice_and_prints(example_path: Path, tmp_path: Path) -> None:
    audited = tmp_path / "example.audited.xlsx"
    args = ["audit", str(example_path), "-o", str(audited), "--as-of", EXAMPLE_AS_OF.isoformat(), "--fail-on", "never"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    report = _audit(example_path)

    pdf = libreoffice.convert(audited, tmp_path / "pdf", "pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (poppler-utils)")

    def text(*pages: str) -> str:
        return subprocess.run(
            ["pdftotext", *pages, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout

    first_page = text("-f", "1", "-l", "1")
    # The summary is the first sheet, so it prints first: its title, the coalition, and the rules that fired.
    assert schema.SUMMARY_SHEET in first_page
    assert report.summary.coalition in first_page
    for slug in report.summary.rule_counts:
        assert catalogue.rule(slug).title in first_page, slug
    assert "###" not in text()  # no column anywhere in the workbook too narrow for its dates or numbers
