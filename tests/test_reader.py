"""The reader: a returned workbook, however the member left it, becomes the plan model plus reader findings.

Workbooks are built the way a member leaves them: cells written with openpyxl into a workbook laid out with the
declaration's sheet names and headers, or into a template made by the generator. Every test reads on both
paths (python-calamine plus a scan of the XML, and the expat parser) and expects the same plan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from reentry_workbook.audit.reader import ReadResult, read_plan
from reentry_workbook.errors import TemplateMismatchError, UnsafeArchiveError
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.plan.model import ERROR_VALUE, FORMULA, UNREADABLE_DATE, Finding, Unknown, written
from reentry_workbook.xlsx import cells, guard, refs, sheet_cells

STEPS = schema.sheet("steps")
GOALS = schema.sheet("goals")
PRIORITIES = schema.sheet("priorities")
IMPROVEMENTS = schema.sheet("improvements")
MEASURES = schema.sheet("measures")
STAKEHOLDERS = schema.sheet("stakeholders")
STATUS = schema.CHOICES["status"]
SERVES = schema.CHOICES["serves_goal"]


def pid(sheet: schema.Sheet, n: int) -> str:
    return f"{sheet.id_prefix}-{n}"


# --- building workbooks the way members leave them ---------------------------------------------------------


def new_book(
    *,
    omit: tuple[str, ...] = (),
    headers: dict[str, list[str]] | None = None,
    title_rows: dict[str, int] | None = None,
) -> openpyxl.Workbook:
    """A workbook with the plan's sheets and header rows, from the declaration (no generator involved)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if schema.COALITION_SHEET not in omit:
        ws = wb.create_sheet(schema.COALITION_SHEET)
        ws.append([schema.COALITION_LABEL_HEADER, schema.COALITION_VALUE_HEADER])
        for field in schema.COALITION_FIELDS:
            ws.append([field.label])
    for sheet in schema.SHEETS:
        if sheet.name in omit:
            continue
        ws = wb.create_sheet(sheet.name)
        for _ in range((title_rows or {}).get(sheet.key, 0)):
            ws.append([f"{sheet.name} of the coalition's plan"])
        ws.append((headers or {}).get(sheet.key, [c.header for c in sheet.columns]))
    return wb


def column_of(ws: Any, sheet: schema.Sheet, key: str, header_row: int | None = None) -> int:
    """1-based column of a declared column in a worksheet, found by its header text."""
    wanted = schema.normalise_header(sheet.column(key).header)
    row = header_row or 1
    for cell in ws[row]:
        if schema.normalise_header(cell.value) == wanted:
            return cell.column
    raise KeyError(key)


def put(wb: openpyxl.Workbook, sheet: schema.Sheet, row: int, header_row: int = 1, **values: Any) -> None:
    """Type values into one row of a sheet, by column key."""
    ws = wb[sheet.name]
    for key, value in values.items():
        ws.cell(row, column_of(ws, sheet, key, header_row), value)


def letter(wb: openpyxl.Workbook, sheet: schema.Sheet, key: str, header_row: int = 1) -> str:
    return refs.column_letter(column_of(wb[sheet.name], sheet, key, header_row) - 1)


def set_coalition(wb: openpyxl.Workbook, **values: Any) -> None:
    ws = wb[schema.COALITION_SHEET]
    for row in ws.iter_rows(min_row=2):
        for field in schema.COALITION_FIELDS:
            if row[0].value == field.label and field.key in values:
                ws.cell(row[0].row, 2, values[field.key])


def save(wb: openpyxl.Workbook, tmp_path: Path, name: str = "plan.xlsx") -> Path:
    path = tmp_path / name
    wb.save(path)
    return path


def patch_part(path: Path, part_of: Callable[[str], bool], edit: Callable[[bytes], bytes]) -> Path:
    """Rewrite the parts of a package that ``part_of`` selects (a file written by another app)."""
    out = path.with_name("patched-" + path.name)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, edit(data) if part_of(info.filename) else data)
    return out


def sheet_part(path: Path, sheet_name: str) -> str:
    with guard.open_package(path) as zf:
        book = cells.open_workbook(zf)
        ref = book.sheet(sheet_name)
        assert ref is not None
        return ref.part


def patch_sheet(path: Path, sheet_name: str, edit: Callable[[bytes], bytes]) -> Path:
    part = sheet_part(path, sheet_name)
    return patch_part(path, lambda name: name == part, edit)


def read_both(path: Path) -> ReadResult:
    """Read on both paths; they must agree."""
    fast = read_plan(path)
    exact = read_plan(path, fast=False)
    assert fast.plan == exact.plan
    assert fast.findings == exact.findings
    return fast


def only(result: ReadResult, slug: str) -> Finding:
    found = [f for f in result.findings if f.rule == slug]
    assert len(found) == 1, result.findings
    return found[0]


def rows(result: ReadResult, sheet: schema.Sheet) -> dict[str | None, dict[str, Any]]:
    return {r.id: r.values for r in result.plan.rows(sheet.key)}


def finding_shape(finding: Finding, slug: str) -> None:
    rule = catalogue.rule(slug)
    assert (finding.rule, finding.severity, finding.fix) == (slug, rule.severity, rule.fix)


# --- the generated template, filled in by a member ----------------------------------------------------------


@pytest.fixture
def template(tmp_path: Path) -> Path:
    from reentry_workbook.workbook.generate import new_workbook

    return new_workbook(tmp_path / "template.xlsx", rows=20)


def test_a_filled_in_template_reads_back_what_the_member_typed(template: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(template)
    set_coalition(wb, name="Alder County Reentry Coalition", plan_start=dt.date(2026, 7, 1), review_cadence="quarterly")
    put(wb, PRIORITIES, 2, priority="Stable housing after release")
    put(wb, GOALS, 2, priority=f"{pid(PRIORITIES, 1)}{schema.ID_SEPARATOR}Stable housing after release")
    put(wb, GOALS, 2, goal="Halve releases to no fixed address", target_date=dt.date(2028, 12, 31))
    put(wb, IMPROVEMENTS, 2, goal="halve releases to no fixed address", improvement="Plan release at booking")
    put(wb, IMPROVEMENTS, 2, mechanism=schema.CHOICES["mechanism"][1].upper(), estimated_cost=38000)
    put(wb, MEASURES, 2, improvement=1, measure="Share of stays with a release plan")
    put(wb, STEPS, 2, improvement=f"{pid(IMPROVEMENTS, 1)}{schema.ID_SEPARATOR}Plan release at booking")
    put(wb, STEPS, 2, step="Hire the release planner", due_date=dt.date(2026, 11, 30), status=STATUS[1])
    put(wb, STAKEHOLDERS, 2, name="Luis Ferreira", role=schema.CHOICES["role"][0])
    result = read_both(save(wb, tmp_path, "filled.xlsx"))

    plan = result.plan
    assert result.findings == []
    assert plan.coalition["name"] == "Alder County Reentry Coalition"
    assert plan.coalition["plan_start"] == dt.date(2026, 7, 1)
    assert plan.coalition["review_cadence"] == "Quarterly"
    assert plan.coalition["plan_end"] is None
    assert rows(result, GOALS)[pid(GOALS, 1)]["priority"] == pid(PRIORITIES, 1)
    assert rows(result, GOALS)[pid(GOALS, 1)]["target_date"] == dt.date(2028, 12, 31)
    improvement = rows(result, IMPROVEMENTS)[pid(IMPROVEMENTS, 1)]
    assert improvement["goal"] == pid(GOALS, 1)  # named by the goal's own text
    assert improvement["mechanism"] == schema.CHOICES["mechanism"][1]
    assert improvement["estimated_cost"] == 38000
    assert rows(result, MEASURES)[pid(MEASURES, 1)]["improvement"] == pid(IMPROVEMENTS, 1)
    step = rows(result, STEPS)[pid(STEPS, 1)]
    assert step["improvement"] == pid(IMPROVEMENTS, 1)
    assert step["step"] == "Hire the release planner"
    assert (step["due_date"], step["status"]) == (dt.date(2026, 11, 30), STATUS[1])
    assert "goal" not in step  # the derived column is never read
    assert [r.values["name"] for r in plan.rows("stakeholders")] == ["Luis Ferreira"]
    # the template's spare rows (an ID and nothing else) are not plan rows
    assert [len(plan.rows(s.key)) for s in schema.SHEETS] == [1, 1, 1, 1, 1, 1]
    assert plan.rows("steps")[0].row == schema.FIRST_DATA_ROW


def test_the_template_identity_and_cells_are_recorded(template: Path) -> None:
    result = read_both(template)
    source = result.plan.source
    assert (source.template_name, source.template_version) == (schema.TEMPLATE_NAME, schema.TEMPLATE_VERSION)
    assert source.fingerprint == schema.fingerprint()
    assert source.file == str(template)
    assert source.date1904 is False
    for sheet in schema.SHEETS:
        assert source.columns[sheet.key] == {c.key: refs.column_letter(i) for i, c in enumerate(sheet.columns)}
    assert set(source.coalition_cells) == {f.key for f in schema.COALITION_FIELDS}
    assert result.findings == []
    assert all(not result.plan.rows(s.key) for s in schema.SHEETS)


def test_the_bundled_example_reads_back_as_the_example_plan(tmp_path: Path) -> None:
    from reentry_workbook.workbook.example import example_plan
    from reentry_workbook.workbook.generate import new_workbook

    result = read_both(new_workbook(tmp_path / "example.xlsx", example=True))
    expected = example_plan()
    assert result.plan.coalition == expected.coalition
    for sheet in schema.SHEETS:
        got = [(r.id, {k: v for k, v in r.values.items() if k != "id"}) for r in result.plan.rows(sheet.key)]
        want = [(r.id, {k: r.values.get(k) for k in got[0][1]}) for r in expected.rows(sheet.key)] if got else []
        assert got == want, sheet.key


def test_reading_never_writes(template: Path) -> None:
    before = hashlib.sha256(template.read_bytes()).hexdigest()
    listing = sorted(template.parent.iterdir())
    read_plan(template)
    read_plan(template, fast=False)
    assert hashlib.sha256(template.read_bytes()).hexdigest() == before
    assert sorted(template.parent.iterdir()) == listing


# --- layout a member changed -------------------------------------------------------------------------------


def test_reordered_extra_and_renamed_case_columns_are_found_by_header(tmp_path: Path) -> None:
    headers = [c.header for c in STEPS.columns]
    shuffled = [headers[3], "My own column", *reversed(headers[4:]), headers[0], headers[1], headers[2]]
    shuffled = [h.upper() if i % 2 else f"  {h.lower()}\n" for i, h in enumerate(shuffled)]
    wb = new_book(headers={"steps": shuffled})
    put(wb, STEPS, 2, id="A-7", step="Draft the MOU", improvement="I-2", status=STATUS[0], notes="call Sam")
    wb[STEPS.name].cell(2, 2, "member's own note")
    wb.create_sheet("My scratch sheet")["A1"] = "ID"
    result = read_both(save(wb, tmp_path))

    step = rows(result, STEPS)["A-7"]
    assert (step["step"], step["improvement"], step["status"], step["notes"]) == (
        "Draft the MOU",
        "I-2",
        STATUS[0],
        "call Sam",
    )
    assert "My own column" not in step and "member's own note" not in step.values()
    columns = result.plan.source.columns["steps"]
    assert columns["step"] == "A" and columns["id"] == letter(wb, STEPS, "id")
    assert columns["due_date"] == letter(wb, STEPS, "due_date")


def test_a_title_row_above_the_header_is_skipped(tmp_path: Path) -> None:
    wb = new_book(title_rows={"steps": 2})
    put(wb, STEPS, 4, header_row=3, id="A-1", step="Hire the planner", due_date="TBD")
    result = read_both(save(wb, tmp_path))
    record = result.plan.rows("steps")[0]
    assert (record.id, record.row) == ("A-1", 4)
    finding = only(result, "unreadable-date")
    assert finding.cell == f"{letter(wb, STEPS, 'due_date', 3)}4"


def test_blank_rows_hidden_rows_and_spare_id_rows(tmp_path: Path) -> None:
    wb = new_book()
    ws = wb[STEPS.name]
    put(wb, STEPS, 2, id="A-1", step="First")
    put(wb, STEPS, 6, id="A-2", step="After three blank rows")
    ws.row_dimensions[6].hidden = True
    for n in range(7, 40):
        put(wb, STEPS, n, id=f"A-{n}")  # pre-filled IDs of spare rows
        ws.cell(n, 5).style = "Good"  # formatted but empty
    result = read_both(save(wb, tmp_path))
    assert [(r.id, r.row) for r in result.plan.rows("steps")] == [("A-1", 2), ("A-2", 6)]
    assert result.findings == []


def test_sheets_are_found_whatever_their_case_or_spacing(tmp_path: Path) -> None:
    wb = new_book()
    wb[STEPS.name].title = STEPS.name.upper().replace(" ", "  ")
    wb[GOALS.name].title = f" {GOALS.name.lower()}"
    ws = wb[STEPS.name.upper().replace(" ", "  ")]
    ws.cell(2, column_of(ws, STEPS, "id"), "A-1")
    ws.cell(2, column_of(ws, STEPS, "step"), "Hire")
    result = read_both(save(wb, tmp_path))
    assert [r.id for r in result.plan.rows("steps")] == ["A-1"]
    assert result.plan.source.sheet_names["steps"] == STEPS.name.upper().replace(" ", "  ")


def test_merged_cells_give_their_value_to_the_top_left_cell_only(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", improvement="I-1", step="First")
    put(wb, STEPS, 3, id="A-2", step="Second")
    imp = letter(wb, STEPS, "improvement")
    step_col, serves_col = letter(wb, STEPS, "step"), letter(wb, STEPS, "serves_goal")
    wb[STEPS.name].merge_cells(f"{imp}2:{imp}3")
    path = save(wb, tmp_path)
    # Another app left a value in a covered cell of a horizontal merge; it is not the member's.
    serves = SERVES[0]
    path = patch_sheet(
        path,
        STEPS.name,
        lambda xml: xml.replace(
            b"</row>",
            f'<c r="{serves_col}2" t="inlineStr"><is><t>{serves}</t></is></c></row>'.encode(),
            1,
        ).replace(b"</mergeCells>", f'<mergeCell ref="{step_col}2:{serves_col}2"/></mergeCells>'.encode()),
    )
    result = read_both(path)
    first, second = rows(result, STEPS)["A-1"], rows(result, STEPS)["A-2"]
    assert first["improvement"] == "I-1" and second["improvement"] is None
    assert first["step"] == "First" and first["serves_goal"] is None


# --- values ------------------------------------------------------------------------------------------------


def test_ids_in_every_form_a_member_leaves_them(tmp_path: Path) -> None:
    wb = new_book()
    for row, typed in enumerate([12, 13.0, "a-014 ", "A-0015", "A\u201316", " a 17"], start=2):
        put(wb, STEPS, row, id=typed, step=f"step {row}")
    result = read_both(save(wb, tmp_path))
    assert [r.id for r in result.plan.rows("steps")] == ["A-12", "A-13", "A-14", "A-15", "A-16", "A-17"]
    assert [r.values["id"] for r in result.plan.rows("steps")] == ["A-12", "A-13", "A-14", "A-15", "A-16", "A-17"]
    assert result.findings == []


def test_references_by_id_label_number_or_parent_text(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, IMPROVEMENTS, 2, id="I-1", improvement="Plan release at booking")
    put(wb, IMPROVEMENTS, 3, id="I-2", improvement="Open a reentry desk\nat the library")
    typed = [
        "I-1",
        "i-01",
        2,
        f"I-2{schema.ID_SEPARATOR}Open a reentry desk at the library",
        f"I-1{schema.ID_SEPARATOR}an old label the member never refreshed",
        "  open a REENTRY desk at the library ",
        "I-9",
        "the housing one",
    ]
    for row, value in enumerate(typed, start=2):
        put(wb, STEPS, row, id=f"A-{row}", improvement=value, step="x")
    result = read_both(save(wb, tmp_path))
    got = [r.values["improvement"] for r in result.plan.rows("steps")]
    assert got == ["I-1", "I-1", "I-2", "I-2", "I-1", "I-2", "I-9", "the housing one"]
    assert result.findings == []  # links that go nowhere are the rules' business (broken-link)


def test_a_reference_by_text_finds_the_row_with_an_id_when_a_row_without_one_has_the_same_text(
    tmp_path: Path,
) -> None:
    wb = new_book()
    put(wb, IMPROVEMENTS, 2, improvement="Open a reentry desk")  # no ID yet
    put(wb, IMPROVEMENTS, 3, id="I-2", improvement="Open a reentry desk")
    put(wb, STEPS, 2, id="A-1", improvement="open a REENTRY desk", step="x")
    result = read_both(save(wb, tmp_path))
    assert rows(result, STEPS)["A-1"]["improvement"] == "I-2"
    assert [(f.rule, f.cell) for f in result.findings] == [("missing-id", f"{letter(wb, IMPROVEMENTS, 'id')}2")]


def test_a_parents_text_holding_the_label_separator_is_found_by_its_text(tmp_path: Path) -> None:
    text = f"Reentry desk{schema.ID_SEPARATOR}phase two"
    wb = new_book()
    put(wb, IMPROVEMENTS, 2, id="I-1", improvement="Something else")
    put(wb, IMPROVEMENTS, 3, id="I-2", improvement=text)
    put(wb, STEPS, 2, id="A-1", improvement=text.upper(), step="x")
    put(wb, STEPS, 3, id="A-2", improvement=f"I-2{schema.ID_SEPARATOR}{text}", step="y")
    result = read_both(save(wb, tmp_path))
    assert [r.values["improvement"] for r in result.plan.rows("steps")] == ["I-2", "I-2"]
    assert result.findings == []


@pytest.mark.parametrize(
    ("typed", "shown"),
    [(dt.date(2027, 3, 15), "2027-03-15"), (dt.datetime(2027, 3, 15, 9, 30), "2027-03-15 09:30:00"), (-1, "-1")],
)
def test_a_date_or_negative_number_in_an_id_cell_is_no_id_and_is_quoted(tmp_path: Path, typed: Any, shown: str) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id=typed, step="Book the room")
    result = read_both(save(wb, tmp_path))
    assert [r.id for r in result.plan.rows("steps")] == [None]
    finding = only(result, "missing-id")
    noun = STEPS.column(STEPS.label).header
    assert finding.message == (
        f"{noun} on row 2 ('Book the room') has '{shown}' in its ID cell, which is not an ID like {STEPS.id_prefix}-1."
    )


@pytest.mark.parametrize(("typed", "number"), [(0, 0), (0.0, 0), ("0", 0), (" 007 ", 7)])
def test_zero_and_padded_bare_numbers_in_an_id_cell_are_ids(tmp_path: Path, typed: Any, number: int) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id=typed, step="Book the room")
    result = read_both(save(wb, tmp_path))
    assert [r.id for r in result.plan.rows("steps")] == [pid(STEPS, number)]
    assert result.findings == []


def test_text_is_stripped_but_kept_exactly_inside(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="  Line one\nLine two  ", notes=42, responsible=" Dana ")
    put(wb, GOALS, 2, id="G-1", goal="Goal", baseline=0.31, target=15)
    put(wb, IMPROVEMENTS, 2, id="I-1", improvement="x", estimated_cost="$12,500")
    result = read_both(save(wb, tmp_path))
    step = rows(result, STEPS)["A-1"]
    assert (step["step"], step["notes"], step["responsible"]) == ("Line one\nLine two", "42", "Dana")
    goal = rows(result, GOALS)["G-1"]
    assert (goal["baseline"], goal["target"]) == ("0.31", "15")
    assert rows(result, IMPROVEMENTS)["I-1"]["estimated_cost"] == 12500


def test_choices_match_whatever_the_case_and_anything_else_is_an_invalid_choice(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", status=f"  {STATUS[1].upper()} ", serves_goal=SERVES[0].lower())
    put(wb, STEPS, 3, id="A-2", step="y", status="Nearly there")
    result = read_both(save(wb, tmp_path))
    assert (rows(result, STEPS)["A-1"]["status"], rows(result, STEPS)["A-1"]["serves_goal"]) == (STATUS[1], SERVES[0])
    assert rows(result, STEPS)["A-2"]["status"] == "Nearly there"
    finding = only(result, "invalid-choice")
    finding_shape(finding, "invalid-choice")
    assert (finding.sheet, finding.cell, finding.id) == (STEPS.name, f"{letter(wb, STEPS, 'status')}3", "A-2")
    assert finding.message.startswith(f"{STEPS.column(STEPS.label).header} A-2: {STEPS.column('status').header}")
    assert "'Nearly there'" in finding.message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2027-03-15", dt.date(2027, 3, 15)),
        ("3/15/2027", dt.date(2027, 3, 15)),
        ("3/15/27", dt.date(2027, 3, 15)),
        ("15 March 2027", dt.date(2027, 3, 15)),
        ("March 15, 2027", dt.date(2027, 3, 15)),
        ("March 2027", dt.date(2027, 3, 1)),  # the 1st, as Excel and Calc read it
        ("Mar 2027", dt.date(2027, 3, 1)),
        ("Q2 2027", dt.date(2027, 4, 1)),
        ("2027-03-15T00:00:00", dt.date(2027, 3, 15)),
    ],
)
def test_dates_typed_as_text_are_read_with_a_date_as_text_note(tmp_path: Path, typed: str, expected: dt.date) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-12", step="x", due_date=typed)
    result = read_both(save(wb, tmp_path))
    assert rows(result, STEPS)["A-12"]["due_date"] == expected
    finding = only(result, "date-as-text")
    finding_shape(finding, "date-as-text")
    assert (finding.sheet, finding.cell, finding.id) == (STEPS.name, f"{letter(wb, STEPS, 'due_date')}2", "A-12")
    assert f"'{typed}'" in finding.message and expected.isoformat() in finding.message


@pytest.mark.parametrize(
    ("typed", "says"), [("3/4/27", "could be 4 March 2027 or 3 April 2027"), ("TBD", "is not a date")]
)
def test_ambiguous_or_unreadable_dates_are_unreadable_date_warnings(tmp_path: Path, typed: str, says: str) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-12", step="x", due_date=typed)
    result = read_both(save(wb, tmp_path))
    assert rows(result, STEPS)["A-12"]["due_date"] == Unknown(UNREADABLE_DATE, typed)  # kept as typed, never guessed
    finding = only(result, "unreadable-date")
    finding_shape(finding, "unreadable-date")
    assert (finding.cell, finding.id) == (f"{letter(wb, STEPS, 'due_date')}2", "A-12")
    noun, header = STEPS.column(STEPS.label).header, STEPS.column("due_date").header
    assert finding.message.startswith(f"{noun} A-12: {header} '{typed}' {says}")


def test_real_dates_and_serial_numbers_in_date_columns(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", start_date=dt.datetime(2027, 3, 1, 9, 30), due_date=46461)
    put(wb, STEPS, 3, id="A-2", step="y", due_date=2027)  # a year typed into a date cell
    result = read_both(save(wb, tmp_path))
    step = rows(result, STEPS)["A-1"]
    assert (step["start_date"], step["due_date"]) == (dt.date(2027, 3, 1), dt.date(2027, 3, 15))
    assert only(result, "unreadable-date").id == "A-2"


def test_a_1904_workbook_reads_the_same_days(tmp_path: Path) -> None:
    wb = new_book()
    wb.epoch = CALENDAR_MAC_1904
    put(wb, STEPS, 2, id="A-1", step="x", due_date=dt.date(2027, 3, 15), start_date=46461 - 1462)
    set_coalition(wb, plan_start=dt.date(2026, 7, 1))
    path = save(wb, tmp_path)
    with zipfile.ZipFile(path) as zf:
        assert b'date1904="1"' in zf.read("xl/workbook.xml")
    result = read_both(path)
    step = rows(result, STEPS)["A-1"]
    assert (step["due_date"], step["start_date"]) == (dt.date(2027, 3, 15), dt.date(2027, 3, 15))
    assert result.plan.coalition["plan_start"] == dt.date(2026, 7, 1)
    assert result.plan.source.date1904 is True


def test_formulas_are_never_evaluated_and_are_reported_where_values_belong(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step='=B2&" plan"', notes='=HYPERLINK("http://x","y")', goal="=1+1")
    put(wb, STEPS, 3, id='="A-"&ROW()', step="Formula ID")
    for n in range(4, 30):
        put(wb, STEPS, n, id='="A-"&ROW()-1')  # spare rows with formula IDs are still spare rows
    path = save(wb, tmp_path)
    result = read_both(path)
    records = rows(result, STEPS)
    assert records["A-1"]["step"] == Unknown(FORMULA, 'B2&" plan"')  # filled, but its value is unknown
    assert records["A-1"]["notes"] == Unknown(FORMULA, 'HYPERLINK("http://x","y")')
    assert None in records and records[None]["step"] == "Formula ID"
    formulas = [f for f in result.findings if f.rule == "formula-in-text"]
    assert [(f.cell, f.id) for f in formulas] == [
        (f"{letter(wb, STEPS, 'step')}2", "A-1"),
        (f"{letter(wb, STEPS, 'notes')}2", "A-1"),
        (f"{letter(wb, STEPS, 'id')}3", None),
    ]
    finding_shape(formulas[0], "formula-in-text")
    assert '(=B2&" plan")' in formulas[0].message
    assert [f.rule for f in result.findings] == ["formula-in-text"] * 3  # no missing-id on top, no derived column


def test_cached_formula_results_are_never_trusted(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="placeholder")
    step = f"{letter(wb, STEPS, 'step')}2"
    path = patch_sheet(
        save(wb, tmp_path),
        STEPS.name,
        lambda xml: re.sub(
            rb'<c r="' + step.encode() + rb'"[^>]*>.*?</c>',
            b'<c r="' + step.encode() + b'" t="str"><f>UPPER("looks like text")</f><v>LOOKS LIKE TEXT</v></c>',
            xml,
        ),
    )
    result = read_both(path)
    assert rows(result, STEPS)["A-1"]["step"] == Unknown(FORMULA, 'UPPER("looks like text")')
    assert only(result, "formula-in-text").cell == step


def test_error_values_are_reported_and_never_taken_as_data(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", due_date="#REF!", status="#N/A")
    set_coalition(wb, name="#DIV/0!")
    result = read_both(save(wb, tmp_path))
    step = rows(result, STEPS)["A-1"]
    assert (step["due_date"], step["status"]) == (Unknown(ERROR_VALUE, "#REF!"), Unknown(ERROR_VALUE, "#N/A"))
    assert result.plan.coalition["name"] == Unknown(ERROR_VALUE, "#DIV/0!")
    errors = [f for f in result.findings if f.rule == "error-value"]
    assert [(f.sheet, f.cell, f.id) for f in errors] == [
        (schema.COALITION_SHEET, result.plan.source.coalition_cells["name"], None),
        (STEPS.name, f"{letter(wb, STEPS, 'due_date')}2", "A-1"),
        (STEPS.name, f"{letter(wb, STEPS, 'status')}2", "A-1"),
    ]
    finding_shape(errors[1], "error-value")
    assert "#REF!" in errors[1].message and "#DIV/0!" in errors[0].message


def test_inline_rich_and_plain_string_cells(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="inline")
    how, who = letter(wb, STEPS, "how_it_serves"), letter(wb, STEPS, "responsible")
    path = patch_sheet(
        save(wb, tmp_path),
        STEPS.name,
        lambda xml: xml.replace(
            b"</row>",
            f'<c r="{how}2" t="str"><v>plain string cell</v></c>'
            f'<c r="{who}2" t="inlineStr"><is><r><t>Da</t></r><r><rPr><b/></rPr><t>na &amp; Co</t></r>'
            '<rPh sb="0" eb="1"><t>ignored reading aid</t></rPh></is></c></row>'.encode(),
            1,
        ),
    )
    result = read_both(path)
    step = rows(result, STEPS)["A-1"]
    assert (step["step"], step["how_it_serves"], step["responsible"]) == ("inline", "plain string cell", "Dana & Co")


def test_rich_text_in_the_shared_strings(tmp_path: Path) -> None:
    from reentry_workbook.workbook.example import example_plan
    from reentry_workbook.workbook.generate import new_workbook

    first = example_plan().rows("steps")[0]
    text = str(first.get("step"))
    half = len(text) // 2
    rich = (
        f'<si><r><t xml:space="preserve">{text[:half]}</t></r>'
        f'<r><rPr><b/></rPr><t xml:space="preserve">{text[half:]}</t></r>'
        '<rPh sb="0" eb="1"><t>reading aid</t></rPh></si>'
    )
    example = new_workbook(tmp_path / "example.xlsx", example=True)
    patched = patch_part(
        example,
        lambda name: name.endswith("sharedStrings.xml"),
        lambda xml: xml.replace(f"<si><t>{text}</t></si>".encode(), rich.encode(), 1),
    )
    assert patched.read_bytes() != example.read_bytes()
    result = read_both(patched)
    assert rows(result, STEPS)[first.id]["step"] == text


def test_missing_ids(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, step="Call the housing authority")
    put(wb, STEPS, 3, id="TBD", step="Book the room")
    result = read_both(save(wb, tmp_path))
    assert [r.id for r in result.plan.rows("steps")] == [None, None]
    missing = [f for f in result.findings if f.rule == "missing-id"]
    assert [(f.cell, f.id) for f in missing] == [("A2", None), ("A3", None)]
    finding_shape(missing[0], "missing-id")
    noun = STEPS.column(STEPS.label).header
    assert missing[0].message == f"{noun} on row 2 ('Call the housing authority') has content but no ID."
    assert "'TBD'" in missing[1].message


def test_the_coalition_sheet_is_read_by_label_wherever_the_labels_sit(tmp_path: Path) -> None:
    wb = new_book(omit=(schema.COALITION_SHEET,))
    ws = wb.create_sheet(schema.COALITION_SHEET, 0)
    ws["A1"] = "About our coalition"
    for i, field in enumerate(schema.COALITION_FIELDS, start=3):
        ws.cell(i, 3, f"  {field.label.upper()} ")
    by_key = {f.key: 3 + i for i, f in enumerate(schema.COALITION_FIELDS)}
    ws.cell(by_key["name"], 4, "Alder County Reentry Coalition")
    ws.cell(by_key["plan_end"], 4, "June 2029")
    ws.cell(by_key["review_cadence"], 4, "every so often")
    result = read_both(save(wb, tmp_path))
    coalition = result.plan.coalition
    assert coalition["name"] == "Alder County Reentry Coalition"
    assert coalition["plan_end"] == dt.date(2029, 6, 1)
    assert coalition["review_cadence"] == "every so often"
    assert result.plan.source.coalition_cells["name"] == f"D{by_key['name']}"
    assert [(f.rule, f.sheet, f.cell, f.id) for f in result.findings] == [
        ("date-as-text", schema.COALITION_SHEET, f"D{by_key['plan_end']}", None),
        ("invalid-choice", schema.COALITION_SHEET, f"D{by_key['review_cadence']}", None),
    ]
    assert result.findings[0].message.startswith(
        f"{schema.COALITION_SHEET}: {schema.coalition_field('plan_end').label}"
    )


def test_the_stakeholders_sheet_is_optional(tmp_path: Path) -> None:
    wb = new_book(omit=(STAKEHOLDERS.name,))
    put(wb, STEPS, 2, id="A-1", step="x")
    result = read_both(save(wb, tmp_path))
    assert result.plan.rows("stakeholders") == []
    assert rows(result, STEPS)["A-1"]["step"] == "x"


# --- package variants other apps write ----------------------------------------------------------------------

_TRANSITIONAL = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STRICT = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def _strict(xml: bytes) -> bytes:
    return xml.replace(_TRANSITIONAL, _STRICT).replace(
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
    )


def _prefixed(xml: bytes) -> bytes:
    xml = xml.replace(b'xmlns="' + _TRANSITIONAL + b'"', b'xmlns:x="' + _TRANSITIONAL + b'"')
    return re.sub(rb"<(/?)(?![?!])([A-Za-z])", rb"<\1x:\2", xml)


def _no_references(xml: bytes) -> bytes:
    return re.sub(rb' r="[A-Z]+\d+"', b"", xml)


@pytest.mark.parametrize("variant", [_strict, _prefixed, _no_references], ids=["strict", "prefixed", "no-refs"])
def test_strict_prefixed_and_unreferenced_xml_read_the_same(tmp_path: Path, variant: Callable[[bytes], bytes]) -> None:
    wb = new_book()
    # Rows filled from column A on without gaps, so cells without references keep their places.
    full = {c.key: f"{c.header} text" for c in STEPS.columns}
    put(wb, STEPS, 2, **{**full, "id": "A-1", "due_date": dt.date(2027, 3, 15), "notes": "=1+1", "status": "#N/A"})
    put(wb, STEPS, 3, **{**full, "id": "A-2", "improvement": "I-4", "due_date": "Q2 2027"})
    plain = save(wb, tmp_path)
    expected = read_both(plain)
    is_sheet = re.compile(r"xl/worksheets/sheet\d+\.xml")
    if variant is _strict:
        changed = patch_part(plain, lambda n: n.endswith((".xml", ".rels")), variant)
    else:
        changed = patch_part(plain, lambda n: bool(is_sheet.fullmatch(n)), variant)
    result = read_both(changed)
    assert result.plan.records == expected.plan.records
    assert result.plan.coalition == expected.plan.coalition
    assert [(f.rule, f.cell, f.id) for f in result.findings] == [(f.rule, f.cell, f.id) for f in expected.findings]


def test_a_value_typed_far_away_is_harmless(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x")
    wb[STEPS.name]["XFD1048576"] = "stray"
    result = read_both(save(wb, tmp_path))
    assert [r.id for r in result.plan.rows("steps")] == ["A-1"]


def _with_doctype(declaration: bytes) -> Callable[[bytes], bytes]:
    def edit(xml: bytes) -> bytes:
        head = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
        return xml[:head] + declaration + xml[head:].replace(b"</row>", b'<c r="Z9"><v>&b;</v></c></row>', 1)

    return edit


def test_a_document_type_declaration_is_refused(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x")
    path = save(wb, tmp_path)
    bomb = b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    hostile = patch_sheet(path, STEPS.name, _with_doctype(bomb))
    with pytest.raises(UnsafeArchiveError) as raised:
        read_plan(hostile)
    assert "document type declaration" in str(raised.value)


def test_the_exact_parser_refuses_a_document_type_declaration_itself(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x")
    path = save(wb, tmp_path)
    part = sheet_part(path, STEPS.name)
    hostile = patch_sheet(path, STEPS.name, _with_doctype(b'<!DOCTYPE worksheet [<!ENTITY b "x">]>'))
    with zipfile.ZipFile(hostile) as zf:  # bypass the guard, as a caller that skipped it would
        book = cells.open_workbook(zf)
        ref = book.sheet(STEPS.name)
        assert ref is not None and ref.part == part
        with pytest.raises(UnsafeArchiveError):
            book.read_sheet(ref)


# --- workbooks that are not the plan ------------------------------------------------------------------------


def test_a_workbook_with_none_of_the_plan_sheets_is_not_a_plan(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Budget 2027"
    with pytest.raises(TemplateMismatchError) as raised:
        read_plan(save(wb, tmp_path, "budget.xlsx"))
    message = str(raised.value)
    assert message.startswith("budget.xlsx is not a reentry-workbook plan")
    assert "reentry-workbook new" in message
    assert message.count(". ") == 0 and "\n" not in message


def test_a_missing_sheet_is_named(tmp_path: Path) -> None:
    wb = new_book(omit=(GOALS.name, MEASURES.name))
    with pytest.raises(TemplateMismatchError) as raised:
        read_plan(save(wb, tmp_path))
    message = str(raised.value)
    assert f"has no '{GOALS.name}' and '{MEASURES.name}' sheets" in message
    assert "reentry-workbook new" in message


def test_a_missing_header_is_named(tmp_path: Path) -> None:
    headers = [c.header for c in STEPS.columns if c.key not in ("due_date", "goal")]
    wb = new_book(headers={"steps": headers})
    with pytest.raises(TemplateMismatchError) as raised:
        read_plan(save(wb, tmp_path))
    message = str(raised.value)
    assert f"the '{STEPS.name}' sheet has no column headed '{STEPS.column('due_date').header}'" in message
    # the derived column is optional: it is not named
    assert STEPS.column("goal").header not in message.split("headed", 1)[1].split(" in ", 1)[0]


def test_both_paths_agree_on_a_messy_workbook(tmp_path: Path) -> None:
    wb = new_book(title_rows={"goals": 1})
    set_coalition(wb, name="  Coalition  ", plan_start="2026-07-01", review_cadence="MONTHLY", last_reviewed=45000)
    put(wb, PRIORITIES, 2, id=1, priority="Housing")
    put(wb, GOALS, 3, header_row=2, id="g-01", priority="housing", goal="Fewer releases\nto the street")
    put(wb, GOALS, 5, header_row=2, id="G 2", priority=f"P-1{schema.ID_SEPARATOR}Housing", target_date="Q3 2028")
    put(wb, IMPROVEMENTS, 2, id="I-1", goal=1.0, mechanism="Executive Order", buy_in="=A1", estimated_cost="lots")
    put(wb, STEPS, 2, id="A-1", improvement="I-1", step="x", due_date="3/4/27", status="#VALUE!")
    put(wb, STEPS, 9, step="no id here", start_date=dt.datetime(2027, 1, 2, 3, 4))
    put(wb, STAKEHOLDERS, 4, name="Priya", sector="nonsense", role=schema.CHOICES["role"][2].lower())
    result = read_both(save(wb, tmp_path))
    assert {f.rule for f in result.findings} == {
        "date-as-text",
        "invalid-choice",
        "formula-in-text",
        "unreadable-date",
        "error-value",
        "missing-id",
    }
    assert rows(result, GOALS)["G-1"]["priority"] == "P-1"
    assert rows(result, IMPROVEMENTS)["I-1"]["goal"] == "G-1"
    assert rows(result, IMPROVEMENTS)["I-1"]["estimated_cost"] == "lots"
    assert result.plan.coalition["last_reviewed"] == dt.date(2023, 3, 15)


def test_columns_beyond_z_are_read(tmp_path: Path) -> None:
    headers = [c.header for c in STEPS.columns if c.key != "notes"]
    headers += [f"Member column {n}" for n in range(20)] + [STEPS.column("notes").header]
    wb = new_book(headers={"steps": headers})
    put(wb, STEPS, 2, id="A-1", step="x", notes="far to the right")
    result = read_both(save(wb, tmp_path))
    assert rows(result, STEPS)["A-1"]["notes"] == "far to the right"
    assert result.plan.source.columns["steps"]["notes"] == refs.column_letter(len(headers) - 1)


def test_a_document_type_declaration_in_the_shared_strings_is_refused(template: Path) -> None:
    hostile = patch_part(
        template, lambda name: name.endswith("sharedStrings.xml"), _with_doctype(b'<!DOCTYPE sst [<!ENTITY b "x">]>')
    )
    with zipfile.ZipFile(hostile) as zf:  # bypass the guard: the cell reader refuses it on its own
        book = cells.open_workbook(zf)
        with pytest.raises(UnsafeArchiveError):
            book.read_sheet(STEPS.name)


# --- a real spreadsheet app ----------------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_values_typed_in_libreoffice_read_back(tmp_path: Path) -> None:
    import libreoffice

    # A workbook laid out like the plan, with its spare rows' IDs (the generated template, with its validation
    # input messages, crashes LibreOffice 7.4 when driven headless).
    wb = new_book()
    for sheet in (GOALS, STEPS):
        put(wb, sheet, schema.FIRST_DATA_ROW, id=pid(sheet, 1))
    template = save(wb, tmp_path, "laid-out.xlsx")

    def at(sheet: schema.Sheet, key: str, row: int = schema.FIRST_DATA_ROW) -> str:
        return f"{refs.column_letter([c.key for c in sheet.columns].index(key))}{row}"

    typed = [
        (GOALS, "goal", "Fewer people released with no address"),
        (STEPS, "improvement", f"{pid(IMPROVEMENTS, 1)}"),
        (STEPS, "step", "Hire the release planner"),
        (STEPS, "due_date", "3/15/2027"),  # Calc turns a typed date into a real date
    ]
    typed += [(GOALS, "target_date", "Q2 2028"), (STEPS, "start_date", "TBD"), (STEPS, "status", STATUS[1].lower())]
    actions = [{"op": "type", "sheet": s.name, "cell": at(s, key), "text": text} for s, key, text in typed]
    edited = tmp_path / "typed.xlsx"
    libreoffice.edit(template, edited, actions)
    result = read_both(edited)

    step = rows(result, STEPS)[pid(STEPS, 1)]
    assert step["due_date"] == dt.date(2027, 3, 15)
    assert (step["improvement"], step["status"]) == (pid(IMPROVEMENTS, 1), STATUS[1])
    assert step["start_date"] == Unknown(UNREADABLE_DATE, "TBD")
    assert rows(result, GOALS)[pid(GOALS, 1)]["target_date"] == dt.date(2028, 4, 1)
    assert sorted((f.rule, f.cell) for f in result.findings) == [
        ("date-as-text", at(GOALS, "target_date")),
        ("unreadable-date", at(STEPS, "start_date")),
    ]


@pytest.mark.libreoffice
def test_the_example_saved_by_libreoffice_reads_back_unchanged(tmp_path: Path) -> None:
    import libreoffice

    from reentry_workbook.workbook.generate import new_workbook

    original = read_both(new_workbook(tmp_path / "example.xlsx", example=True))
    resaved = read_both(libreoffice.convert(tmp_path / "example.xlsx", tmp_path / "lo"))
    assert resaved.plan.records == original.plan.records
    assert resaved.plan.coalition == original.plan.coalition
    assert resaved.findings == original.findings


# --- the two ways of reading cells agree --------------------------------------------------------------------

_XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\n\t "),
    max_size=20,
)
_CELL_VALUES = st.one_of(
    st.none(),
    _XML_TEXT,
    st.sampled_from(["=1+1", "=A1&B1", "#N/A", "#REF!", "TRUE", " padded ", "a & b < c", "_x000D_"]),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.dates(min_value=dt.date(1905, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.datetimes(min_value=dt.datetime(1905, 1, 1), max_value=dt.datetime(2100, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
)


def _cells_of(book: cells.Workbook, name: str) -> dict[tuple[int, int], sheet_cells.Cell]:
    return {(r, c): cell for r, c, cell in book.read_sheet(name).iter_cells()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    grid=st.dictionaries(
        st.tuples(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=8)),
        _CELL_VALUES,
        max_size=30,
    ),
    mac=st.booleans(),
    merge=st.booleans(),
)
def test_the_fast_and_the_exact_cell_readers_agree(tmp_path: Path, grid: dict, mac: bool, merge: bool) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cells"
    if mac:
        wb.epoch = CALENDAR_MAC_1904
    for (row, col), value in grid.items():
        ws.cell(row, col, value)
    if merge:
        ws.merge_cells("B2:C3")
    path = tmp_path / "cells.xlsx"
    wb.save(path)
    with guard.open_package(path) as zf:
        fast, exact = cells.open_workbook(zf), cells.open_workbook(zf, fast=False)
        assert isinstance(fast.read_sheet("Cells"), sheet_cells.DenseCells)  # the scan accepts what openpyxl writes
        assert _cells_of(fast, "Cells") == _cells_of(exact, "Cells")
        fast.close()


# --- typing values, boundary by boundary ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (42, "42"),
        (42.0, "42"),
        (-7, "-7"),
        (0.31, "0.31"),
        (0.1 + 0.2, "0.3"),  # as the spreadsheet shows it, not the float's last digits
        (1e15, "1e+15"),  # at the edge of whole numbers shown in full
        (999999999999999.0, "999999999999999"),
        (True, "TRUE"),
        (False, "FALSE"),
        (dt.datetime(2027, 3, 15), "2027-03-15"),
        (dt.datetime(2027, 3, 15, 9, 30), "2027-03-15 09:30:00"),
        (dt.time(9, 30), "09:30:00"),
    ],
)
def test_a_value_in_a_text_column_is_kept_as_the_text_a_member_sees(tmp_path: Path, typed: Any, expected: str) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", notes=typed, responsible=typed)
    set_coalition(wb, name=typed)
    result = read_both(save(wb, tmp_path))
    step = rows(result, STEPS)["A-1"]
    assert (step["notes"], step["responsible"]) == (expected, expected)
    assert result.plan.coalition["name"] == expected
    assert result.findings == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (38000, 38000),
        (38000.0, 38000),
        (1234.5, 1234.5),
        ("$12,500", 12500),
        ("€ 1 250", 1250),
        ("£99.50", 99.5),
        ("12.5", 12.5),
        (" 7 ", 7),
        ("0", 0),
        ("1.250,50", 1250.5),  # grouped by dots, a decimal comma
        ("12,5", 12.5),
        ("-1,250.75", -1250.75),
        ("1.250.000 €", 1250000),
        ("1\u202f250", 1250),  # a narrow no-break space groups the thousands
        ("1.5", 1.5),
        ("1,2,3", "1,2,3"),  # no way of writing a number: kept as typed, never 123
        ("1,25,0", "1,25,0"),
        ("1.250,5.0", "1.250,5.0"),
        ("about 5000", "about 5000"),  # not a number: kept as typed
        ("inf", "inf"),
        ("nan", "nan"),
        (True, "TRUE"),
    ],
)
def test_a_money_column_reads_numbers_and_keeps_anything_else_as_typed(
    tmp_path: Path, typed: Any, expected: Any
) -> None:
    wb = new_book()
    put(wb, IMPROVEMENTS, 2, id="I-1", improvement="x", estimated_cost=typed)
    result = read_both(save(wb, tmp_path))
    got = rows(result, IMPROVEMENTS)["I-1"]["estimated_cost"]
    assert (got, type(got)) == (expected, type(expected))
    assert result.findings == []


def test_an_invalid_choice_lists_a_short_list_and_counts_a_long_one(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", serves_goal="Kind of")
    put(wb, IMPROVEMENTS, 2, id="I-1", improvement="y", mechanism="A memo")
    set_coalition(wb, review_cadence="Now and then")
    result = read_both(save(wb, tmp_path))
    by_sheet = {f.sheet: f.message for f in result.findings}
    assert [f.rule for f in result.findings] == ["invalid-choice"] * 3
    serves = STEPS.column("serves_goal")
    assert by_sheet[STEPS.name] == (
        f"{STEPS.column(STEPS.label).header} A-1: {serves.header} 'Kind of' is not one of "
        f"{', '.join(schema.CHOICES['serves_goal'])}."
    )
    mechanism = IMPROVEMENTS.column("mechanism")
    assert by_sheet[IMPROVEMENTS.name] == (
        f"{IMPROVEMENTS.column(IMPROVEMENTS.label).header} I-1: {mechanism.header} 'A memo' is not one of the "
        f"{len(schema.CHOICES['mechanism'])} choices in the cell's dropdown."
    )
    cadence = schema.coalition_field("review_cadence")
    assert by_sheet[schema.COALITION_SHEET] == (
        f"{schema.COALITION_SHEET}: {cadence.label} 'Now and then' is not one of "
        f"{', '.join(schema.CHOICES[cadence.choices or ''])}."
    )
    assert rows(result, STEPS)["A-1"]["serves_goal"] == "Kind of"  # kept as typed


def test_a_choice_list_of_six_is_spelled_out_in_the_message(tmp_path: Path) -> None:
    assert len(STATUS) == 6  # the longest list still spelled out
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", status="Nearly there")
    result = read_both(save(wb, tmp_path))
    status = STEPS.column("status")
    assert [f.message for f in result.findings] == [
        f"{STEPS.column(STEPS.label).header} A-1: {status.header} 'Nearly there' is not one of {', '.join(STATUS)}."
    ]


@pytest.mark.parametrize("typed", [" yes ", "YES", "Yes", "y e s"])
def test_a_choice_is_matched_whatever_its_case_and_spaces(tmp_path: Path, typed: str) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", serves_goal=typed, status=STATUS[0].upper())
    put(wb, STEPS, 3, id="A-2", step="y", serves_goal=typed, status=f" {STATUS[-1].lower()}")
    result = read_both(save(wb, tmp_path))
    expected = SERVES[0] if typed != "y e s" else typed
    assert [(r.values["serves_goal"], r.values["status"]) for r in result.plan.rows("steps")] == [
        (expected, STATUS[0]),
        (expected, STATUS[-1]),
    ]


@pytest.mark.parametrize(
    ("typed", "note"),
    [
        (True, "is a TRUE/FALSE value, not a date"),
        (0, "is a time of day or zero, not a date"),
        (2027, "is the number 2027, perhaps a year; type a full date"),
        ("soon", "is not a date"),
    ],
)
def test_a_date_cell_that_holds_no_date_says_why_and_keeps_what_was_typed(
    tmp_path: Path, typed: Any, note: str
) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", due_date=typed)
    set_coalition(wb, last_reviewed=typed)
    result = read_both(save(wb, tmp_path))
    shown = {True: "TRUE", 0: "0", 2027: "2027"}.get(typed, typed) if not isinstance(typed, str) else typed
    assert written(rows(result, STEPS)["A-1"]["due_date"]) == shown  # kept as the member typed it
    assert written(result.plan.coalition["last_reviewed"]) == shown
    noun, header = STEPS.column(STEPS.label).header, STEPS.column("due_date").header
    label = schema.coalition_field("last_reviewed").label
    assert sorted(f.message for f in result.findings if f.rule == "unreadable-date") == sorted(
        [f"{noun} A-1: {header} '{shown}' {note}.", f"{schema.COALITION_SHEET}: {label} '{shown}' {note}."]
    )


def test_a_date_typed_as_text_says_how_it_was_read(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", due_date=" 2027-03-15 ")
    result = read_both(save(wb, tmp_path))
    noun, header = STEPS.column(STEPS.label).header, STEPS.column("due_date").header
    assert [f.message for f in result.findings] == [
        f"{noun} A-1: {header} '2027-03-15' is typed as text; read as 2027-03-15."
    ]
    assert rows(result, STEPS)["A-1"]["due_date"] == dt.date(2027, 3, 15)


@pytest.mark.parametrize(("typed", "kept"), [(2.5, "2.5"), (7.0, pid(IMPROVEMENTS, 7)), (True, "TRUE")])
def test_a_reference_that_names_no_row_is_kept_as_the_text_a_member_sees(tmp_path: Path, typed: Any, kept: str) -> None:
    wb = new_book()
    put(wb, IMPROVEMENTS, 2, id="I-1", improvement="x")
    put(wb, STEPS, 2, id="A-1", step="y", improvement=typed)
    put(wb, STEPS, 3, id="A-2", step="z", improvement=typed)  # the same value twice reads the same
    result = read_both(save(wb, tmp_path))
    assert [r.values["improvement"] for r in result.plan.rows("steps")] == [kept, kept]


def test_a_formula_filled_down_and_an_error_cell_without_its_code_are_reported_in_plain_words(
    tmp_path: Path,
) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", notes="=1+1")
    put(wb, STEPS, 3, id="A-2", step="y", notes="=1+2", status="#N/A")
    notes = letter(wb, STEPS, "notes")

    def fill_down_and_drop_the_code(xml: bytes) -> bytes:
        # Excel writes a formula filled down as a shared formula: the cells below the first hold no text of it.
        xml = xml.replace(b"<f>1+1</f>", f'<f t="shared" ref="{notes}2:{notes}3" si="0">1+1</f>'.encode())
        xml = xml.replace(b"<f>1+2</f>", b'<f t="shared" si="0"/>')
        return xml.replace(b"<v>#N/A</v>", b"")

    path = patch_sheet(save(wb, tmp_path), STEPS.name, fill_down_and_drop_the_code)
    result = read_both(path)
    noun, notes_header = STEPS.column(STEPS.label).header, STEPS.column("notes").header
    assert sorted(f.message for f in result.findings) == [
        f"{noun} A-1: {notes_header} holds a formula (=1+1) where a value belongs; it was not evaluated.",
        f"{noun} A-2: {notes_header} holds a formula where a value belongs; it was not evaluated.",
        f"{noun} A-2: {STEPS.column('status').header} holds an error value.",
    ]


def test_error_values_are_quoted_by_their_code(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", status="#DIV/0!")
    result = read_both(save(wb, tmp_path))
    noun, status = STEPS.column(STEPS.label).header, STEPS.column("status").header
    assert [f.message for f in result.findings] == [f"{noun} A-1: {status} holds the error value #DIV/0!."]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7, "7"),
        (-7, "-7"),
        (10**16, "10000000000000000"),
        (12.0, "12"),
        (1e16, "1e+16"),
        (0.1, "0.1"),
        (dt.datetime(2027, 3, 15), "2027-03-15"),
        (dt.datetime(2027, 3, 15, 1), "2027-03-15 01:00:00"),
        (dt.date(2027, 3, 15), "2027-03-15"),
        (dt.timedelta(hours=5), "5:00:00"),
    ],
)
def test_values_as_text_are_what_the_member_sees(value: object, text: str) -> None:
    from reentry_workbook.audit.value_typing import as_text

    assert as_text(value) == text


def test_a_date_typed_into_a_choice_or_money_cell_is_kept_as_its_text(tmp_path: Path) -> None:
    wb = new_book()
    put(wb, STEPS, 2, id="A-1", step="x", status=dt.date(2027, 3, 15))
    put(wb, IMPROVEMENTS, 2, id="I-1", improvement="y", estimated_cost=dt.date(2027, 3, 15))
    result = read_both(save(wb, tmp_path))
    assert rows(result, STEPS)["A-1"]["status"] == "2027-03-15"
    assert rows(result, IMPROVEMENTS)["I-1"]["estimated_cost"] == "2027-03-15"
    assert [(f.rule, f.id) for f in result.findings] == [("invalid-choice", "A-1")]
