"""What keeps the master's side of a merge cheap (all it does besides waiting for the returns), pinned by the work
done, never by timings; each shortcut gives what the general path gives.

- of the master's Lists sheet, the layout reads the formulas alone (python-calamine is not asked for its values),
  flagged as reading the whole sheet flags them;
- the shared-string table is read by one pattern call that finds each item and its one plain run together;
- a reference written into the master is given its dropdown label from the rows of the IDs written, not from a
  table of every row's label;
- the cached results of the formulas read a kept column straight from its list of values;
- rows appended one under another take the formulas of the row above the first, looked up once for them all;
- a run of formulas makes each row's text from one template, as moving its top formula down makes it;
- the worksheet editor parses, of a row it changes, the cells it writes (and the cells of the row whose styles
  appended rows take), and gives the part that parsing every cell gives.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from member_edits import Add, Set, edit_with_openpyxl, load
from plans import add_step, clean_plan
from sheet_fakes import edited
from xlsxwriter.utility import quote_sheetname

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cycle import merge_master
from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_formulas import Formulas, Run
from reentry_workbook.cycle.merge_master import Labels
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import Plan
from reentry_workbook.workbook.generate import write_plan_workbook
from reentry_workbook.workbook.lists import label_value, letter
from reentry_workbook.xlsx import sheet_edit, sheet_rows, workbook_edit, xmltext
from reentry_workbook.xlsx.cells import Workbook, open_workbook
from reentry_workbook.xlsx.opc import Package
from reentry_workbook.xlsx.refs import shift_formula
from reentry_workbook.xlsx.sheet_cells import DenseCells, SheetCells
from reentry_workbook.xlsx.sheet_edit import SheetChanges
from reentry_workbook.xlsx.xmltext import Unsupported, parse_xml

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STEPS = schema.sheet("steps")

def _lists_master(folder: Path) -> Path:
    plan = clean_plan()
    for i in range(6, 30):
        add_step(plan, f"A-{i}", "I-1", f"Step {i}")
    return write_plan_workbook(folder / "master.xlsx", plan)


@pytest.mark.parametrize("fast", [True, False], ids=["the scan", "the exact path"])
def test_a_sheets_formulas_read_alone_are_flagged_as_reading_every_cell_flags_them(tmp_path: Path, fast: bool) -> None:
    master = _lists_master(tmp_path)
    with zipfile.ZipFile(master) as zf:
        whole, alone = open_workbook(zf, label="m", fast=fast), open_workbook(zf, label="m", fast=fast)
        try:
            for ref in whole.sheets:
                every, formulas = whole.read_sheet(ref), alone.read_formulas(ref)
                assert formulas.flags == every.flags
                rows = range(every.row_count())
                # The scan leaves the values blank; where it cannot be taken, every cell is read.
                values = [formulas.row_items(r) for r in rows]
                assert values == ([[] for _r in rows] if fast else [every.row_items(r) for r in rows])
        finally:
            whole.close()
            alone.close()


def test_the_layout_reads_the_lists_formulas_alone_and_merges_as_when_it_reads_every_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = _lists_master(tmp_path)
    added = [Add("steps", {"improvement": "I-2", "step": "New"})]
    added += [Add("improvements", {"goal": "G-1", "improvement": "Rent deposit loans"})]
    returned = edit_with_openpyxl(master, tmp_path / "return.xlsx", added)
    alone: list[str] = []
    real = Workbook.read_formulas

    def spy(self: Workbook, sheet: Any) -> Any:
        alone.append(sheet if isinstance(sheet, str) else sheet.name)
        return real(self, sheet)

    with monkeypatch.context() as counted:
        counted.setattr(Workbook, "read_formulas", spy)
        merge(master, [returned], tmp_path / "formulas.xlsx", jobs=1)
    assert alone == [schema.LISTS_SHEET]
    monkeypatch.setattr(Workbook, "read_formulas", Workbook.read_sheet)
    merge(master, [returned], tmp_path / "every.xlsx", jobs=1)
    formulas, every = Package.read(tmp_path / "formulas.xlsx"), Package.read(tmp_path / "every.xlsx")
    assert {n: formulas.data[n] for n in formulas.data} == {n: every.data[n] for n in every.data}


def test_lists_formulas_reading_their_own_sheet_have_its_values_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _lists_master(tmp_path)
    book = load(made)
    lists = book[schema.LISTS_SHEET]
    column = next(c.column_letter for c in lists[1] if c.value == schema.reference_list_name("goals"))
    choice = lists["A2"].value
    goals = schema.sheet("goals")
    assert goals.id_column is not None
    id_cell = f"{quote_sheetname(goals.name)}!${letter(goals, goals.id_column.key)}2"
    label = lists[f"{column}2"].value
    assert id_cell in label
    lists[f"{column}2"] = label.replace(id_cell, f"{quote_sheetname(schema.LISTS_SHEET)}!$A2")  # reads the Lists sheet
    master = tmp_path / "reading-lists.xlsx"
    book.save(master)
    book.close()
    returned = edit_with_openpyxl(master, tmp_path / "return.xlsx", [Set("goals", "G-1", "goal", "Homes first")])
    whole: list[str] = []
    real = Workbook.read_sheet

    def spy(self: Workbook, sheet: Any) -> Any:
        whole.append(sheet if isinstance(sheet, str) else sheet.name)
        return real(self, sheet)

    monkeypatch.setattr(Workbook, "read_sheet", spy)
    merge(master, [returned], tmp_path / "merged.xlsx", jobs=1)
    assert whole.count(schema.LISTS_SHEET) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        merged = openpyxl.load_workbook(tmp_path / "merged.xlsx", data_only=True)
    try:
        assert merged[schema.LISTS_SHEET][f"{column}2"].value == f"{choice}{schema.ID_SEPARATOR}Homes first"
    finally:
        merged.close()


@pytest.mark.parametrize(
    "top",
    [
        'IF(Goals!$C2="","",Goals!$A2&" - "&Goals!$C2)',
        'IF(B2>50%,"100%",B2&"%d %s %%")',
        "SUM($B$2:$B$9)+B0150*C$3",
        "TODAY()",
        "'Q1 {x}'!A7&\"{}\"",
    ],
    ids=["a label", "percent signs", "absolute rows and a leading zero", "no row", "braces"],
)
def test_a_runs_text_is_its_top_formula_moved_down(top: str) -> None:
    run = Run.at(4, top)
    assert run.text(4) == top
    assert [run.text(row) for row in (5, 6, 17, 1_004)] == [shift_formula(top, row - 4) for row in (5, 6, 17, 1_004)]


ITEMS = [
    "<{p}si><{p}t>plain &amp; simple &#233;t&#xE9;</{p}t></{p}si>",
    '<{p}si><{p}t xml:space="preserve"> spaced </{p}t></{p}si>',
    "<{p}si><{p}r><{p}t>rich</{p}t></{p}r><{p}r><{p}rPr><{p}b/></{p}rPr><{p}t>text</{p}t></{p}r></{p}si>",
    "<{p}si><{p}t/></{p}si>",
    "<{p}si><{p}t></{p}t></{p}si>",
    "<{p}si/>",
    '<{p}si  count="1" ><{p}t>an attribute on the item</{p}t></{p}si>',
    "<{p}si>\n  <{p}t>indented</{p}t>\n</{p}si>",
    "<{p}si><{p}t>two</{p}t><{p}t>runs</{p}t></{p}si>",
    "<{p}si><{p}t>with a reading</{p}t><{p}rPh sb='0' eb='1'><{p}t>r</{p}t></{p}rPh></{p}si>",
    "<{p}si><{p}t>plain &amp; simple &#233;t&#xE9;</{p}t></{p}si>",
    "<{p}si><{p}t>&lt;b&gt; &quot;quoted&quot;</{p}t></{p}si>",
]


def _parsed_items(data: bytes) -> list[str | None]:
    """Each item's plain text as the parser reads it (the general path)."""
    text = data.decode()
    root = parse_xml(text)
    return [workbook_edit._plain_item(text, si) for si in root.find(MAIN, "si")]


@pytest.mark.parametrize("prefix", ["", "x"])
def test_shared_strings_found_in_one_pattern_call_are_those_the_parser_reads(prefix: str) -> None:
    p = f"{prefix}:" if prefix else ""
    declared = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    items = "".join(item.format(p=p) for item in ITEMS)
    data = f'<?xml version="1.0"?><{p}sst {declared} count="12" uniqueCount="12">{items}</{p}sst>'.encode()
    scanned = workbook_edit._scan_strings(data)
    assert scanned is not None
    assert scanned[2] == _parsed_items(data)
    assert [i for i, text in enumerate(scanned[2]) if text is None] == [2, 5, 8, 9]


def test_shared_strings_under_a_prefix_of_another_namespace_are_left_to_the_parser() -> None:
    data = (
        f'<sst xmlns="{MAIN}" xmlns:o="urn:other"><si><t>ours</t></si><o:si><o:t>theirs</o:t></o:si></sst>'
    ).encode()
    assert workbook_edit._scan_strings(data) is None


def _cells() -> DenseCells:
    grid = [["ID", "Text", "Notes"], ["A-1", "one", ""], ["A-2", "err", "n"], ["", " ", ""], ["A-4", 0, "x", "y"],
            ["A-5", "five", ""]]
    flags = {(2, 1): ("error", "#N/A"), (5, 1): ("formula", "A6&\"\""), (8, 1): ("formula", "A9&\"\"")}
    return DenseCells("S", [list(row) for row in grid], flags, [])


@pytest.mark.parametrize("col", [0, 1, 2, 3])
def test_a_kept_column_s_values_are_those_its_cells_give(col: int) -> None:
    kept = _cells().only_columns({0, 1})
    assert kept.column_values(col) == SheetCells.column_values(kept, col)
    assert kept.column_values(1) == {0: "Text", 1: "one", 3: " ", 4: 0}


def _plan_with_labels() -> Plan:
    plan = clean_plan()
    for i in range(6, 40):
        add_step(plan, f"A-{i}", "I-1", f"Step {i}")
    # A second row holding an ID already used (the last gives the label, as a table made row by row keeps it).
    add_step(plan, "A-7", "I-2", "The second A-7")
    return plan


def _every_label(plan: Plan) -> dict[str, dict[str, str]]:
    """The general path: a table of every row's label, sheet by sheet."""
    out: dict[str, dict[str, str]] = {}
    for sheet in schema.SHEETS:
        if sheet.id_column is None:
            continue
        out[sheet.key] = {
            rec.id: label_value(sheet, {sheet.id_column.key: rec.id, sheet.label: rec.get(sheet.label)})
            for rec in plan.rows(sheet.key)
            if rec.id
        }
    return out


def test_labels_are_worked_out_for_the_ids_asked_about_only(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan_with_labels()
    table = _every_label(plan)
    made: list[str] = []

    def counted(sheet: Any, row: Any) -> str:
        made.append(row[sheet.id_column.key])
        return label_value(sheet, row)

    monkeypatch.setattr(merge_master, "label_value", counted)
    labels = Labels(plan)
    assert labels.get("steps", "A-7") == table["steps"]["A-7"] == f"A-7{schema.ID_SEPARATOR}The second A-7"
    assert labels.get("improvements", "I-1") == table["improvements"]["I-1"]
    assert labels.get("steps", "A-999") is None and labels.get("stakeholders", "anyone") is None
    assert labels.get("", "A-7") is None
    assert made == ["A-7", "I-1"]
    for sheet_key, by_id in table.items():
        assert {row_id: labels.get(sheet_key, row_id) for row_id in by_id} == by_id


def test_rows_appended_one_under_another_take_the_formulas_of_the_row_above_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = clean_plan()
    master = write_plan_workbook(tmp_path / "tight.xlsx", plan, rows=len(plan.rows("steps")))
    added = [Add("steps", {"improvement": "I-2", "step": f"Appended step {n}"}) for n in range(4)]
    full = edit_with_openpyxl(master, tmp_path / "full.xlsx", added)
    looked_up: list[int] = []
    real = Formulas.in_row

    def spy(self: Formulas, row: int) -> list[tuple[int, str]]:
        looked_up.append(row)
        return real(self, row)

    monkeypatch.setattr(Formulas, "in_row", spy)
    result = merge(master, [full], tmp_path / "merged.xlsx")
    steps = read_plan(result.output).plan.rows("steps")
    rows = sorted(r.row for r in steps if str(r.get("step")).startswith("Appended"))
    last = max(r.row for r in read_plan(master).plan.rows("steps"))
    assert rows == [last + 1, last + 2, last + 3, last + 4]
    assert looked_up == [last - 1]  # (0-based: the master's last step row, once for the four rows below it)
    goal = merge_master._col(read_plan(master).plan.source.columns["steps"]["goal"])
    book = load(master)
    try:
        above = book[STEPS.name].cell(last, goal + 1).value
    finally:
        book.close()
    merged = load(result.output)
    try:
        ws = merged[STEPS.name]
        assert [ws.cell(row, goal + 1).value for row in rows] == [
            "=" + shift_formula(above.lstrip("="), row - last) for row in rows
        ]
    finally:
        merged.close()


# -- the worksheet editor's rows ------------------------------------------------------------------------------

ROWS = [
    '<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c><c r="B1"><v>1</v></c></row>',
    '<row r="2" spans="1:4"><c r="A2" s="1"><f>B2*2</f><v>2</v></c><c r="C2" s="3" t="s"><v>0</v></c></row>',
    '<row r="3"><c s="1"><v>1</v></c><c><v>2</v></c><c r="D3"/><c><v>4</v></c></row>',  # cells without a reference
    '<row r="4"/>',
    '<row r="5"><o:c r="A5"><o:v>odd</o:v></o:c><c r="B5" s="2"/><extLst><ext uri="u"><c r="C5"/></ext></extLst></row>',
    '<row r="6"><c r="&#66;6" ><v>6</v></c><c r="C6" s="4"><v>7</v></c><c r="C6" s="5"><v>8</v></c></row>',
    '<row r="7"><x:c r="A7" s="2"><x:v>7</x:v></x:c><c r="B7"><v>7</v></c></row>',
]
EDITS = SheetChanges(
    cells={(0, 1): "new", (1, 1): 5, (2, 1): "second", (2, 2): "between", (3, 0): "into an empty row",
           (4, 0): "x", (4, 2): 3, (5, 1): "b", (5, 2): "c", (6, 0): 1, (6, 3): 2, (7, 0): "appended"},
    results={(1, 0): 99},
    appended={7},
)


def _odd_sheet(rows: list[str]) -> str:
    return (
        f'<worksheet xmlns="{MAIN}" xmlns:x="{MAIN}" xmlns:o="urn:other"><dimension ref="A1:D7"/>'
        f'<cols><col min="1" max="4" style="4"/></cols><sheetData>{"".join(rows)}</sheetData></worksheet>'
    )


def test_rows_parsed_cell_by_cell_give_what_parsing_the_whole_sheet_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _odd_sheet(ROWS)
    parsed: list[str] = []
    real = xmltext.parse_xml

    def spy(text: str, *args: Any) -> xmltext.Node:
        root = real(text, *args)
        parsed.append(root.local)
        return root

    with monkeypatch.context() as counted:
        counted.setattr(sheet_rows, "parse_xml", spy)
        by_cell = edited(text, EDITS, inline=True)
    monkeypatch.setattr(sheet_edit, "parse_around_cells", lambda t: (xmltext.parse_xml(t), None))
    assert by_cell == edited(text, EDITS, inline=True)
    # Each row changed is parsed around its cells, then only the cells it holds that are written (or whose result
    # changes): none of an empty row, nor a cell of another namespace or inside an extension. The row above the
    # appended one is parsed again for its styles, every cell of it.
    assert parsed == [
        "worksheet",
        "row", "c",  # row 2: the result of A2
        "row", "c",  # row 1: B1
        "row", "c",  # row 3: B3 (C3 goes in before D3, unparsed)
        "row", "row",  # rows 4 and 5: A5 and C5 are new cells
        "row", "c", "c",  # row 6: B6 (its reference written with a character reference), C6 (the last of two)
        "row", "c",  # row 7: A7, under the other prefix of the main namespace
        "row", "c", "c",  # row 7 again, the styles of the row appended below it
    ]
    assert '<c r="B2" s="4"><v>5</v></c><c r="C2"' in by_cell
    assert '<c r="C3" s="4" t="inlineStr"><is><t>between</t></is></c><c r="D3"/>' in by_cell


@pytest.mark.parametrize(
    "row",
    ['<row r="1"><c r="A1"><v>1</c></row>', '<row r="1"><c r="A1"><v>1</v></row>', '<row r="1"><c r="A1"></row>'],
    ids=["a cell's content closed oddly", "a cell never closed", "a cell left open"],
)
def test_a_row_the_parser_refuses_is_refused_cell_by_cell(monkeypatch: pytest.MonkeyPatch, row: str) -> None:
    text = _odd_sheet([row, '<row r="2"><c r="A2"><v>2</v></c></row>'])
    with pytest.raises(Unsupported):
        edited(text, SheetChanges(cells={(0, 1): "x"}), inline=True)
    monkeypatch.setattr(sheet_edit, "parse_around_cells", lambda t: (xmltext.parse_xml(t), None))
    with pytest.raises(Unsupported):
        edited(text, SheetChanges(cells={(0, 1): "x"}), inline=True)


# -- the validations' ranges, from the end of a sheet's cell data -----------------------------------------------------


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_VALIDATIONS = '<dataValidations count="1"><dataValidation type="list" sqref="B2:B90 D2"/></dataValidations>'
_ROWS = "<row r='1'/>" * 400
_PREFIXED = _VALIDATIONS.replace("<", "<x:").replace("<x:/", "</x:")


@pytest.mark.parametrize(
    "part",
    [
        f'<worksheet xmlns="{_MAIN_NS}"><sheetData>{_ROWS}</sheetData>{_VALIDATIONS}</worksheet>',
        f'<x:worksheet xmlns:x="{_MAIN_NS}"><x:sheetData>{_ROWS.replace("<row", "<x:row")}</x:sheetData>'
        f"{_PREFIXED}</x:worksheet>",
        f'<worksheet xmlns="{_MAIN_NS}"><sheetData/>{_VALIDATIONS}</worksheet>',  # no cell data: read whole
        f'<worksheet xmlns="{_MAIN_NS}"><sheetData>{_ROWS}</sheetData></worksheet>',  # no validations
    ],
)
@pytest.mark.parametrize("piece", [7, 64, 1 << 20])
def test_validations_from_the_end_of_the_cell_data_are_those_of_the_whole_part(
    part: str, piece: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge reads a sheet's validations from its part inflated a piece at a time, keeping only what follows its
    cell data (never its rows): the same ranges as from the whole part, wherever the pieces cut the end tag."""
    monkeypatch.setattr(workbook_edit, "_PIECE", piece)
    archive = tmp_path / "parts.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("utf8.xml", part)
        zf.writestr("utf16.xml", part.encode("utf-16"))
    with zipfile.ZipFile(archive) as zf:
        for name in ("utf8.xml", "utf16.xml"):
            kept = workbook_edit.after_cell_data(zf, name)
            assert workbook_edit.validation_ranges(kept) == workbook_edit.validation_ranges(zf.read(name))
        assert b"row r=" not in workbook_edit.after_cell_data(zf, "utf8.xml")
    found = workbook_edit.validation_ranges(part.encode())
    assert found == ([(1, 1, 89, 1), (1, 3, 1, 3)] if "dataValidation" in part else [])
