"""The Alignment Summary sheet as the audited copy carries it: content, links, chart, layout, safety."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from decorate import AS_OF, AUDITED_AT, finding, sample_report
from openpyxl.worksheet.worksheet import Worksheet

from reentry_workbook.audit.pipeline import write_summary_copy
from reentry_workbook.audit.summary_writer import quote_sheet, wrapped_lines
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.xlsx import guard
from reentry_workbook.xlsx.cells import open_workbook
from reentry_workbook.xlsx.direct_rows import MAX_CELL_TEXT

INJECTIONS = ('=HYPERLINK("http://x","y")', "+cmd", "@SUM(A1)", "-2+3", "=1+1", "\t=cmd|' /C calc'!A0")


BLANK = Path(__file__).resolve().parent.parent / "workbook_templates" / "blank.xlsx"


def written(tmp_path: Path, report=None) -> Path:
    """The summary as a member gets it: in the audited copy of a blank plan (its findings table's rows are
    written by the graft, not in the scratch workbook)."""
    path = tmp_path / "audited.xlsx"
    write_summary_copy(BLANK, report or sample_report(), path)
    return path


def load(path: Path) -> Worksheet:
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == schema.SUMMARY_SHEET
    return book[schema.SUMMARY_SHEET]


def cells(ws: Worksheet) -> dict[str, object]:
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}


def row_of(ws: Worksheet, column: int, value: object) -> int:
    """First row whose cell in ``column`` (1-based) holds ``value``."""
    for row in ws.iter_rows(min_col=column, max_col=column):
        if row[0].value == value:
            return row[0].row
    raise AssertionError(f"{value!r} not found in column {column}")


def sheet_xml(path: Path) -> str:
    with guard.open_package(path) as zf:
        ref = open_workbook(zf).sheet(schema.SUMMARY_SHEET)
        assert ref is not None
        return zf.read(ref.part).decode()


def test_one_sheet_with_title_block_and_headline(tmp_path: Path) -> None:
    report = sample_report()
    ws = load(written(tmp_path, report))
    values = list(cells(ws).values())
    assert ws["A1"].value == schema.SUMMARY_SHEET
    for expected in (report.summary.coalition, report.summary.file, report.summary.template_version):
        assert expected in values
    assert ws.cell(row_of(ws, 1, "As of"), 2).value == dt.datetime.combine(AS_OF, dt.time())
    assert ws.cell(row_of(ws, 1, "As of"), 2).number_format == "yyyy-mm-dd"
    assert ws.cell(row_of(ws, 1, "Audited at"), 2).value == AUDITED_AT
    alignment = ws.cell(row_of(ws, 1, "Alignment"), 2)
    assert alignment.value == report.summary.alignment and alignment.number_format == "0%"
    assert ws.cell(row_of(ws, 1, "Completeness"), 2).value == report.summary.completeness
    for label, severity in (("Errors", "error"), ("Warnings", "warning"), ("Info", "info")):
        assert ws.cell(row_of(ws, 1, label), 2).value == report.summary.counts[severity]


def test_counts_per_rule_carry_the_catalogue_titles(tmp_path: Path) -> None:
    report = sample_report()
    ws = load(written(tmp_path, report))
    for slug, count in report.summary.rule_counts.items():
        row = row_of(ws, 3, slug)
        assert ws.cell(row, 2).value == catalogue.rule(slug).title
        assert ws.cell(row, 4).value == count
        assert ws.cell(row, 1).value.lower() == catalogue.rule(slug).severity


def test_goal_and_people_tables(tmp_path: Path) -> None:
    from reentry_workbook.audit.summary_writer import COLUMN_WIDTHS
    from reentry_workbook.xlsx.direct_rows import row_height

    report = sample_report()
    report.goals[0].goal = "a goal worded at length, " * 12  # wraps onto several lines: its row is made taller
    report.goals[0].estimated_cost, report.goals[0].unsecured_cost = 12500.5, 2500
    ws = load(written(tmp_path, report))
    fills = {}
    for goal in report.goals:
        row = row_of(ws, 1, goal.id)
        assert ws.cell(row, 2).value == goal.goal and ws.cell(row, 2).alignment.wrap_text
        numbers = [ws.cell(row, c).value for c in range(4, 12)]
        assert numbers == [goal.improvements, goal.measures, goal.steps, goal.complete, goal.overdue, goal.gaps,
                           goal.estimated_cost, goal.unsecured_cost]
        status = ws.cell(row, 3)
        assert status.value.lower().startswith(goal.rag)
        fills[goal.rag] = status.fill.fgColor.rgb
        lines = wrapped_lines(goal.goal, COLUMN_WIDTHS[1])
        assert ws.row_dimensions[row].height == (float(row_height(15 * lines + 2)) if lines > 1 else None)
    assert ws.row_dimensions[row_of(ws, 1, report.goals[0].id)].height > 30
    assert len(set(fills.values())) == 3, "red, amber and green cells must look different"
    for person in report.people:
        row = row_of(ws, 2, person.responsible)
        assert [ws.cell(row, c).value for c in (4, 5, 6)] == [person.steps, person.overdue, person.without_due_date]


def test_each_finding_links_to_its_cell(tmp_path: Path) -> None:
    member_sheet = "Maria's notes"
    findings = [*sample_report().findings, finding("formula-in-text", member_sheet, "C3", None, "A formula.")]
    report = sample_report(findings)
    ws = load(written(tmp_path, report))
    for f in report.findings:
        row = row_of(ws, 2, f.message)
        assert ws.cell(row, 1).value.lower() == f.severity
        assert [ws.cell(row, c).value for c in (3, 4, 6, 7)] == [f.fix, f.sheet, f.id, f.rule]
        link = ws.cell(row, 5).hyperlink
        assert link is not None and link.target is None
        assert link.location == f"{quote_sheet(f.sheet)}!{f.cell or 'A1'}"
    assert quote_sheet(member_sheet) == "'Maria''s notes'"
    assert ws.auto_filter.ref, "the findings list can be filtered"


def test_native_charts_use_data_on_the_summary_sheet(tmp_path: Path) -> None:
    path = written(tmp_path)
    with zipfile.ZipFile(path) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
        assert charts
        for name in charts:
            formulas = re.findall(r"<c:f>(.*?)</c:f>", zf.read(name).decode())
            assert formulas and all(f.startswith(quote_sheet(schema.SUMMARY_SHEET) + "!") for f in formulas)
    titles = {c.title.tx.rich.p[0].r[0].t for c in load(path)._charts}
    assert "Action steps per goal" in titles


def _chart_of_goals(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        charts = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/chart")]
    return next(c for c in charts if "Action steps per goal" in c)


def test_the_chart_of_goals_caches_the_values_of_the_table_it_draws(tmp_path: Path) -> None:
    """The goal table's cells are written by the graft, so the chart is given their values itself: an app that
    shows the cached values until it recalculates (or never does) draws the same bars as the table says."""
    report = sample_report()
    path = written(tmp_path, report)
    ws = load(path)
    chart = _chart_of_goals(path)
    header = row_of(ws, 1, "Goal ID")
    series = re.findall(r"<c:ser>.*?</c:ser>", chart, re.S)
    assert len(series) == 3
    for ser, col in zip(series, (6, 7, 8), strict=True):  # steps, complete, overdue
        sheet, last = quote_sheet(schema.SUMMARY_SHEET), header + len(report.goals)
        letter = "FGH"[col - 6]
        assert re.findall(r"<c:f>(.*?)</c:f>", ser) == [
            f"{sheet}!${letter}${header}",
            f"{sheet}!$A${header + 1}:$A${last}",
            f"{sheet}!${letter}${header + 1}:${letter}${last}",
        ]
        cached = re.findall(r"<c:pt idx=\"\d+\"><c:v>(.*?)</c:v></c:pt>", ser)
        shown = [ws.cell(header + 1 + i, c).value for c in (1, col) for i in range(len(report.goals))]
        assert cached[0] == ws.cell(header, col).value  # the series' name, as the header says
        assert [str(v) for v in shown] == cached[1:]  # the goal IDs, then the figures


def test_the_chart_of_goals_shows_the_first_forty_of_many(tmp_path: Path) -> None:
    from reentry_workbook.audit.report import GoalLine
    from reentry_workbook.audit.summary_sheet import CHART_GOALS

    report = sample_report()
    report.goals = [GoalLine(f"G-{n}", f"Goal {n}", "P-1", 1, 1, n % 5, 0, 0, 0, "green") for n in range(1, 61)]
    path = written(tmp_path, report)
    ws = load(path)
    header = row_of(ws, 1, "Goal ID")
    assert ws.cell(header + 60, 1).value == "G-60"  # the table has every goal
    chart = _chart_of_goals(path)
    assert f"Action steps per goal (the first {CHART_GOALS} of 60 goals)" in chart
    assert f"$A${header + 1}:$A${header + CHART_GOALS}<" in chart
    assert chart.count("<c:ptCount val=\"40\"/>") == 6 and "G-41" not in chart  # each series' categories and values


def test_a_report_without_goals_or_findings_still_has_a_chart(tmp_path: Path) -> None:
    report = sample_report([], with_goals=False)
    path = written(tmp_path, report)
    ws = load(path)
    assert ws.cell(row_of(ws, 1, "Alignment"), 2).value == "n/a"
    assert len(ws._charts) == 1
    assert "No findings: every check passed." in cells(ws).values()


@pytest.mark.parametrize("text", INJECTIONS)
def test_member_text_that_looks_like_a_formula_stays_text(tmp_path: Path, text: str) -> None:
    steps = schema.sheet("steps").name
    report = sample_report([finding("formula-in-text", steps, "D4", "A-3", text)])
    report.goals[0].goal = text
    report.people[0].responsible = text
    path = written(tmp_path, report)
    assert "<f>" not in sheet_xml(path) and "<f " not in sheet_xml(path)
    ws = load(path)
    found = [c for row in ws.iter_rows() for c in row if c.value == text]
    assert len(found) == 3
    assert all(c.data_type == "s" for c in found)


def test_layout_prints_landscape_one_page_wide_with_frozen_title(tmp_path: Path) -> None:
    ws = load(written(tmp_path))
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (1, None) and ws.page_setup.fitToHeight == 0
    assert ws.freeze_panes == "A3"
    assert ws.column_dimensions["B"].width > 40
    message_row = row_of(ws, 2, sample_report().findings[0].message)
    assert ws.cell(message_row, 2).alignment.wrap_text


def test_very_long_member_text_is_cut_to_the_cell_limit(tmp_path: Path) -> None:
    long = "x" * (MAX_CELL_TEXT + 500)
    report = sample_report([finding("missing-id", schema.sheet("steps").name, "A9", None, long)])
    ws = load(written(tmp_path, report))
    assert "x" * MAX_CELL_TEXT in cells(ws).values()


def test_wrapped_lines_estimate() -> None:
    assert wrapped_lines("short", 20) == 1
    assert wrapped_lines("two words " * 10, 20) >= 5
    assert wrapped_lines("line one\nline two", 50) == 2
    assert wrapped_lines("x" * 100, 10) == 10
