"""Rows the graft writes straight into the sheet it adds (the summary's findings table): what a member sees of them
in the audited copy, and the sheet XML around them (dimension, hyperlinks, styles) in every shape a scratch sheet
can take."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from decorate import finding, sample_report

from reentry_workbook.audit import summary_sheet, summary_writer
from reentry_workbook.audit.pipeline import write_summary_copy
from reentry_workbook.errors import OutputError
from reentry_workbook.plan import schema
from reentry_workbook.xlsx import guard, package
from reentry_workbook.xlsx.atomic import atomic_path
from reentry_workbook.xlsx.cell_values import unescape_x
from reentry_workbook.xlsx.cells import open_workbook
from reentry_workbook.xlsx.direct_rows import DirectRows, row_height, splice_body, splice_rows
from reentry_workbook.xlsx.limits import MAX_COLUMNS, MAX_ROWS

BLANK = Path(__file__).resolve().parent.parent / "workbook_templates" / "blank.xlsx"
STEPS = schema.sheet("steps").name
SUMMARY = schema.SUMMARY_SHEET
HEADERS = ("Severity", "What is wrong", "How to fix it", "Sheet", "Cell", "ID", "Rule")


def audited(tmp_path: Path, findings: list) -> openpyxl.worksheet.worksheet.Worksheet:
    out = tmp_path / "audited.xlsx"
    write_summary_copy(BLANK, sample_report(findings), out)
    return openpyxl.load_workbook(out)[SUMMARY]


def table(ws) -> tuple[int, list[tuple]]:
    """The findings table's header row and its rows (up to the first empty row)."""
    header = next(r for r in range(1, ws.max_row + 1) if tuple(ws.cell(r, c).value for c in range(1, 8)) == HEADERS)
    rows = []
    for r in range(header + 1, ws.max_row + 1):
        values = tuple(ws.cell(r, c).value for c in range(1, 8))
        if not any(values):
            break
        rows.append(values)
    return header, rows


def test_every_finding_reads_back_as_written_with_its_link_and_height(tmp_path: Path) -> None:
    tricky = [
        "Step 'A & B <draft>' was due.",  # markup characters
        "  leading spaces and a\nline break",
        "a literal _x0041_ stays as typed",
        "a control \x01 character",
        "=SUM(A1:A9)",  # member text that looks like a formula stays text
        "word " * 60,  # long enough to wrap onto several lines
    ]
    findings = [finding("step-overdue", STEPS, f"I{n + 5}", f"A-{n}", text) for n, text in enumerate(tricky, 1)]
    findings.append(finding("plan-review-overdue", schema.COALITION_SHEET, "", None, "Review the plan."))
    ws = audited(tmp_path, findings)
    header, rows = table(ws)
    assert len(rows) == len(findings)
    for r, (f, row) in enumerate(zip(findings, rows, strict=True), start=header + 1):
        assert unescape_x(row[1]) == f.message  # as Excel reads it (openpyxl leaves the _xHHHH_ escapes)
        assert row[0] == f.severity.capitalize() and row[2] == f.fix and row[3] == f.sheet
        assert (row[4], row[5], row[6]) == (f.cell or "(sheet)", f.id, f.rule)
        assert ws.cell(r, 2).data_type == "s"
        link = ws.cell(r, 5).hyperlink
        assert link is not None and link.location == f"{summary_writer.quote_sheet(f.sheet)}!{f.cell or 'A1'}"
        assert ws.cell(r, 2).alignment.wrap_text and ws.cell(r, 1).fill.fgColor.rgb.endswith("FFC7CE") == (
            f.severity == "error"
        )
    assert rows[1][1] == "  leading spaces and a\nline break"
    assert unescape_x(rows[2][1]) == "a literal _x0041_ stays as typed"
    for r, f in enumerate(findings, start=header + 1):  # rows as tall as their wrapped text, others left alone
        lines = max(summary_writer.wrapped_lines(f.message, 50), summary_writer.wrapped_lines(f.fix, 40))
        assert ws.row_dimensions[r].height == (float(row_height(15 * lines + 2)) if lines > 1 else None)
    assert ws.row_dimensions[header + 6].height > 60
    assert ws.auto_filter.ref == f"A{header}:G{header + len(findings)}"


def test_past_excels_link_limit_the_cell_is_plain_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary_sheet, "MAX_LINKS", 2)
    findings = [finding("step-overdue", STEPS, f"I{n}", f"A-{n}", f"Step {n} was due.") for n in range(1, 5)]
    ws = audited(tmp_path, findings)
    header, rows = table(ws)
    links = [ws.cell(r, 5).hyperlink for r in range(header + 1, header + 5)]
    assert [link is not None for link in links] == [True, True, False, False]
    assert [row[4] for row in rows] == ["I1", "I2", "I3", "I4"]


def test_findings_past_the_shown_limit_point_at_the_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary_sheet, "MAX_FINDINGS_SHOWN", 3)
    findings = [finding("step-overdue", STEPS, f"I{n}", f"A-{n}", f"Step {n} was due.") for n in range(1, 6)]
    ws = audited(tmp_path, findings)
    header, rows = table(ws)
    assert len(rows) == 3
    assert ws.cell(header + 5, 1).value.startswith("2 more findings are not listed here")


def scratch_with_link(path: Path) -> int:
    """A scratch workbook whose sheet has a link of its own (so a <hyperlinks> element) and one format; returns the
    format's index."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(SUMMARY)
    bold = book.add_format({"bold": True})
    ws.write_url(0, 0, f"internal:'{STEPS}'!A1", string="to the steps")
    ws.write_string(1, 0, "above the table", bold)
    book.close()
    return bold.xf_index


def graft_rows(tmp_path: Path, scratch: Path, rows: DirectRows) -> Path:
    out = tmp_path / "out.xlsx"
    with atomic_path(out) as dest:
        package.graft_sheets(BLANK, dest, [package.SheetGraft(scratch, SUMMARY, rows=rows)])
    return out


def test_rows_join_a_sheet_that_has_links_of_its_own(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch.xlsx"
    bold = scratch_with_link(scratch)
    rows = DirectRows(3, [((0, bold, "text"), (2, bold, 12.5), (3, 0, 7)), (), ((1, bold, None),)], {3: 40})
    rows.links.append((3, 0, f"'{STEPS}'!B2", "Go to B2", "text"))
    out = graft_rows(tmp_path, scratch, rows)
    ws = openpyxl.load_workbook(out)[SUMMARY]
    assert ws["A1"].hyperlink.location == f"'{STEPS}'!A1"
    assert ws["A4"].hyperlink.location == f"'{STEPS}'!B2"
    assert (ws["A4"].value, ws["C4"].value, ws["D4"].value) == ("text", 12.5, 7)
    assert ws["A4"].font.b and ws["A2"].font.b  # the rows' style is the scratch format, mapped into the member's
    assert ws.row_dimensions[4].height == float(row_height(40))
    assert ws.max_row == 6 and ws.max_column == 4
    with guard.open_package(out) as zf:
        ref = open_workbook(zf).sheet(SUMMARY)
        assert ref is not None
        text = zf.read(ref.part).decode()
    assert text.count("<hyperlinks>") == 1 and '<row r="5"' not in text  # a gap writes no empty row
    assert '<dimension ref="A1:D6"/>' in text


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_splice_into_an_empty_sheet_adds_links_before_the_page_setup(prefix: str) -> None:
    p = prefix
    sheet = (f'<{p}worksheet xmlns{":x" if p else ""}="main"><{p}dimension ref="A1"/><{p}sheetData/>'
             f'<{p}pageMargins left="0.7"/></{p}worksheet>')
    rows = DirectRows(1, [((0, 3, "a"), (4, 3, "b"))], links=[(1, 0, "'S'!A1", "tip", "a")])
    out = splice_rows(sheet, rows, {3: 9}, p)
    assert f'<{p}dimension ref="A1:E2"/>' in out
    assert out.index(f"<{p}hyperlinks>") < out.index(f"<{p}pageMargins")
    assert f'<{p}c r="A2" s="9" t="inlineStr"><{p}is><{p}t>a</{p}t></{p}is></{p}c>' in out
    assert f"<{p}hyperlinks><{p}hyperlink ref=\"A2\" location=\"'S'!A1\" tooltip=\"tip\" display=\"a\"/>" in out


def test_rows_above_the_scratch_rows_or_with_unknown_styles_are_refused() -> None:
    sheet = '<worksheet><sheetData><row r="5"><c r="A5"/></row></sheetData></worksheet>'
    with pytest.raises(OutputError, match="overlap"):
        splice_rows(sheet, DirectRows(2, [((0, 0, "x"),)]), {0: 0}, "")
    with pytest.raises(OutputError, match="unknown style"):
        splice_rows(sheet, DirectRows(6, [((0, 7, "x"),)]), {0: 0}, "")


def test_rows_past_the_last_row_a_worksheet_can_have_are_refused() -> None:
    """Excel would open such a file only after repairing it: the table is refused instead, saying what to do."""
    sheet = '<worksheet><sheetData/></worksheet>'
    last = DirectRows(MAX_ROWS - 1, [((0, 0, "the last row"),)])
    assert '<row r="1048576">' in splice_rows(sheet, last, {0: 0}, "")
    with pytest.raises(OutputError, match="past the last row"):
        splice_rows(sheet, DirectRows(MAX_ROWS - 1, [((0, 0, "x"),), ((0, 0, "one too many"),)]), {0: 0}, "")
    with pytest.raises(OutputError, match="past the last row"):
        splice_rows(sheet, DirectRows(0, [((MAX_COLUMNS, 0, "x"),)]), {0: 0}, "")


def test_empty_rows_the_scratch_writer_wrote_for_a_note_give_way_to_the_rows_written_there() -> None:
    """XlsxWriter writes an empty ``<row>`` for a row that only holds a cell note or a height (the generator's grey
    context rows): the rows spliced in from there on stand in for it, and the sheet data stays in row order."""
    sheet = (
        '<worksheet><dimension ref="A1:B1"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="3" spans="1:2" ht="30" customHeight="1"/></sheetData></worksheet>'
    )
    body = '<row r="2"><c r="A2"/></row><row r="3" ht="30" customHeight="1"><c r="B3"/></row>'
    out = splice_body(sheet, body, "", first=1, last=2, width=2)
    assert out == (
        '<worksheet><dimension ref="A1:B3"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        f"{body}</sheetData></worksheet>"
    )
