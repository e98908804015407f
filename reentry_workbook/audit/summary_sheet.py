"""Renders a Report as the Alignment Summary sheet, in a scratch workbook of its own.

The scratch file holds exactly one worksheet, named ``schema.SUMMARY_SHEET``. ``package.graft_sheets`` then
moves that sheet (with its chart) into a copy of the member's workbook without touching their parts.

Everything on the sheet is a value computed in Python: no formulas, so nothing depends on a spreadsheet
recalculating it. Member text (names, goals, messages that quote cells) is written with ``write_string``
into a workbook opened with ``strings_to_formulas`` off, so ``=HYPERLINK(...)`` stays the text it was.
Each finding's cell is an internal hyperlink (``'Sheet'!B5``) into the member's workbook; the target sheets
do not exist in the scratch file, which Excel does not check.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions

from ..errors import OutputError
from ..plan import schema
from ..plan.catalogue import RULES_BY_SLUG, SEVERITIES
from ..workbook.formats import WORKBOOK_OPTIONS
from ..xlsx.direct_rows import MAX_CELL_TEXT, DirectRows
from .report import NO_ONE, Report, whole_percent
from .summary_questions import write_questions
from .summary_writer import (
    ACCENT,
    COLUMN_WIDTHS,
    MAX_LINKS,
    SEVERITY_COLOURS,
    SheetWriter,
    quote_sheet,
    row_points,
    wrapped_lines,
)

MAX_FINDINGS_SHOWN = 50_000  # beyond this the list points at the JSON report instead
CHART_GOALS = 40  # goals the chart of steps per goal shows (the first ones of the table; all are in the table)


SEVERITY_LABELS: dict[str, str] = {"error": "Errors", "warning": "Warnings", "info": "Info"}
SEVERITY_NOTES: dict[str, str] = {
    "error": "must be put right: the chain of service is broken or a step is late",
    "warning": "worth a look before the next review",
    "info": "for information",
}
GOAL_STATUS: dict[str, str] = {
    "red": "Red: errors to fix",
    "amber": "Amber: warnings to review",
    "green": "Green: no gaps found",
}
CHART_COLOURS: dict[str, str] = {"steps": "#5B9BD5", "complete": "#70AD47", "overdue": "#C00000"}

_ROW_PX = 20  # default row height in pixels, used to keep charts clear of the next table


def write_summary_workbook(report: Report, path: Path) -> DirectRows:
    """Write a scratch .xlsx at ``path`` whose only worksheet is the Alignment Summary of ``report``, all but the
    rows of its goal, people and findings tables, which are returned for the graft to write
    (:mod:`xlsx.direct_rows`)."""
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    worksheet = workbook.add_worksheet(schema.SUMMARY_SHEET)
    sheet = SheetWriter(workbook, worksheet)
    _layout(sheet)
    row = _title_block(sheet, report)
    headline_row, row = _headline(sheet, report, row)
    top_chart_rows = (3, row - 1)
    row = write_questions(sheet, report, row)
    row = _rule_table(sheet, report, row)
    tables = sheet.rows_from(row)  # the goal, people and findings tables: they grow with the plan
    goal_rows = _goal_table(sheet, report, row)
    row = goal_rows[1]
    row = _people_table(sheet, report, row)
    _findings(sheet, report, row)
    _top_chart(sheet, report, headline_row, goal_rows, top_chart_rows)
    sheet.fit_rows()
    try:
        workbook.close()
    except (xlsxwriter.exceptions.XlsxWriterException, OSError) as exc:
        raise OutputError(f"could not write the summary workbook {path} ({exc}); check the disk and try again") from exc
    return tables


# -- layout and sections -------------------------------------------------------------------------------


def _layout(sheet: SheetWriter) -> None:
    ws = sheet.ws
    for col, width in enumerate(COLUMN_WIDTHS):
        sheet.check(ws.set_column(col, col, width), "a column width", 0, col)
    sheet.check(ws.set_row(0, 30), "a row height", 0, 0)
    ws.freeze_panes(2, 0)
    ws.hide_gridlines(2)
    ws.set_tab_color(ACCENT)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&L&A&RPage &P of &N")
    ws.set_header("&L&F")


def _title_block(sheet: SheetWriter, report: Report) -> int:
    s = report.summary
    sheet.string(0, 0, schema.SUMMARY_SHEET, sheet.title)
    sheet.string(
        1,
        0,
        "The toolkit's three questions answered for this plan, then the details. Written by the audit, in values "
        "only: run the audit again to refresh it.",
        sheet.subtitle,
    )
    sheet.string(3, 0, "About this audit", sheet.section)
    sheet.string(3, 1, "", sheet.section)
    sheet.string(3, 2, "", sheet.section)
    rows: list[tuple[str, Any]] = [
        ("Coalition", s.coalition),
        ("File", s.file),
        ("As of", s.as_of),
        ("Template version", s.template_version or "unknown (not made from the template)"),
        ("Audited at", s.audited_at),
    ]
    row = 4
    for label, value in rows:
        sheet.string(row, 0, label, sheet.label)
        if isinstance(value, dt.datetime):
            sheet.when(row, 1, value, sheet.datetime)
        elif isinstance(value, dt.date):
            sheet.when(row, 1, value, sheet.date)
        else:
            sheet.string(row, 1, value, sheet.value)
        row += 1
    return row + 1


def _headline(sheet: SheetWriter, report: Report, row: int) -> tuple[int, int]:
    """Alignment, completeness and counts by severity; returns (first severity row, next free row)."""
    s = report.summary
    sheet.string(row, 0, "Headline figures", sheet.section)
    sheet.string(row, 1, "", sheet.section)
    sheet.string(row, 2, "", sheet.section)
    row += 1
    shares = (
        ("Alignment", s.alignment, f"{s.steps_aligned} of {s.steps} action steps serve a goal through a complete "
         "chain", "no action steps yet"),
        ("Completeness", s.completeness, "share of the required cells that are filled in", "no rows yet"),
    )
    for label, share, note, when_none in shares:
        sheet.string(row, 0, label, sheet.label)
        if share is None:
            sheet.string(row, 1, "n/a", sheet.big_text)
            sheet.string(row, 2, when_none, sheet.note)
        else:
            sheet.number(row, 1, _shown_share(share), sheet.big_percent)
            sheet.string(row, 2, note, sheet.note)
        row += 1
    first = row
    for severity in SEVERITIES:
        sheet.string(row, 0, SEVERITY_LABELS.get(severity, severity.capitalize()), sheet.label)
        sheet.number(row, 1, s.counts.get(severity, 0), sheet.big_severity[severity])
        sheet.string(row, 2, SEVERITY_NOTES.get(severity, ""), sheet.note)
        row += 1
    return first, row + 1


def _rule_table(sheet: SheetWriter, report: Report, row: int) -> int:
    counts = report.summary.rule_counts
    sheet.string(row, 0, "Findings per rule", sheet.section)
    for col in range(1, 4):
        sheet.string(row, col, "", sheet.section)
    row += 1
    if not counts:
        sheet.string(row, 0, "No findings: every check passed.", sheet.remark)
        return row + 2
    sheet.headers(row, 0, ("Severity", "What it means", "Rule", "Findings"), numeric_from=3)
    header = row
    row += 1
    for slug, count in counts.items():
        rule = RULES_BY_SLUG.get(slug)
        severity = rule.severity if rule else ""
        sheet.string(row, 0, severity.capitalize(), sheet.severity.get(severity, sheet.code))
        sheet.string(row, 1, rule.title if rule else slug, sheet.text)
        sheet.string(row, 2, slug, sheet.code)
        sheet.number(row, 3, count, sheet.count)
        row += 1
    # A bar chart of the same counts, to the right of the table (columns E..I).
    chart = sheet.wb.add_chart({"type": "bar"})
    n = len(counts)
    chart.add_series({
        "name": "Findings",
        "categories": [schema.SUMMARY_SHEET, header + 1, 2, header + n, 2],
        "values": [schema.SUMMARY_SHEET, header + 1, 3, header + n, 3],
        "fill": {"color": CHART_COLOURS["steps"]},
        "data_labels": {"value": True},
        "gap": 60,
    })
    chart.set_title({"name": "Findings per rule", "name_font": {"size": 12}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True, "num_font": {"size": 9}})  # the category axis of a bar chart
    x_axis: dict[str, Any] = {"min": 0, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
    if max(counts.values()) <= 10:
        x_axis["major_unit"] = 1  # whole findings, not 0.5 steps
    chart.set_x_axis(x_axis)
    height = max(240, 70 + 24 * n)
    chart.set_size({"width": 470, "height": height})
    findings = ", ".join(f"{slug} {count}" for slug, count in counts.items())
    sheet.insert_chart(header, 4, chart, f"Bar chart of the findings per rule: {findings}.")
    chart_rows = -(-height // _ROW_PX) + 1
    return max(row, header + chart_rows) + 1


def _goal_headers() -> tuple[str, ...]:
    return (
        "Goal ID",
        schema.sheet("goals").column("goal").header,
        "Status",
        schema.sheet("improvements").name,
        schema.sheet("measures").name,
        schema.sheet("steps").name,
        schema.COMPLETE_STATUS,
        "Overdue",
        "Gaps",
        "Estimated cost",
        "Unsecured cost",
    )


def _goal_table(sheet: SheetWriter, report: Report, row: int) -> tuple[int, int]:
    """The per-goal table; returns (header row, next free row)."""
    sheet.string(row, 0, "By goal", sheet.section)
    for col in range(1, len(COLUMN_WIDTHS)):
        sheet.string(row, col, "", sheet.section)
    row += 1
    header = row
    if not report.goals:
        sheet.string(row, 0, "No goals in the plan yet.", sheet.remark)
        return header, row + 2
    sheet.headers(row, 0, _goal_headers(), numeric_from=3)
    rows = sheet.direct
    assert rows is not None and rows.last == header  # each goal's row is appended below the header
    code, text = sheet.xf(sheet.code), sheet.xf(sheet.text)
    width = COLUMN_WIDTHS[1]  # the goal's text wraps; the other cells hold a word or a number
    for row, goal in enumerate(report.goals, start=header + 1):
        name, status = goal.goal[:MAX_CELL_TEXT], GOAL_STATUS.get(goal.rag, goal.rag)[:MAX_CELL_TEXT]
        lines = wrapped_lines(name, width) if name else 1
        # (each style's index taken in the order the cells first use it, as the scratch workbook numbers them)
        style = sheet.xf(sheet.rag.get(goal.rag, sheet.text))
        count, money = sheet.xf(sheet.count), sheet.xf(sheet.money)
        rows.rows.append((
            (0, code, goal.id[:MAX_CELL_TEXT]),
            (1, text, name),
            (2, style, status),
            (3, count, goal.improvements),
            (4, count, goal.measures),
            (5, count, goal.steps),
            (6, count, goal.complete),
            (7, count, goal.overdue),
            (8, count, goal.gaps),
            (9, money, goal.estimated_cost),
            (10, money, goal.unsecured_cost),
        ))
        if lines > 1:
            rows.heights[row] = row_points(lines)
    return header, rows.last + 2


def _people_table(sheet: SheetWriter, report: Report, row: int) -> int:
    sheet.string(row, 0, "By person responsible", sheet.section)
    for col in range(1, 6):
        sheet.string(row, col, "", sheet.section)
    row += 1
    if not report.people:
        sheet.string(row, 0, "No action steps yet.", sheet.remark)
        return row + 2
    responsible = schema.sheet("steps").column("responsible").header
    sheet.headers(row, 1, (responsible, "Status", schema.sheet("steps").name, "Overdue", "No due date"), numeric_from=2)
    row += 1
    for person in report.people:
        if person.overdue:
            rag, status = "red", f"Red: {_plural(person.overdue, 'step')} overdue"
        elif person.responsible == NO_ONE:
            rag, status = "amber", f"Amber: {_plural(person.steps, 'step')} with no one responsible"
        elif person.without_due_date:
            rag, status = "amber", f"Amber: {_plural(person.without_due_date, 'step')} without a due date"
        else:
            rag, status = "green", "Green: on track"
        sheet.string(row, 1, person.responsible, sheet.text)
        sheet.string(row, 2, status, sheet.rag[rag])
        sheet.number(row, 3, person.steps, sheet.count)
        sheet.number(row, 4, person.overdue, sheet.count)
        sheet.number(row, 5, person.without_due_date, sheet.count)
        row += 1
    return row + 1


def _findings(sheet: SheetWriter, report: Report, row: int) -> None:
    """The findings table, among the rows the graft writes (there can be tens of thousands of findings)."""
    sheet.string(row, 0, "Findings", sheet.section)
    for col in range(1, 7):
        sheet.string(row, col, "", sheet.section)
    row += 1
    if not report.findings:
        sheet.string(row, 0, "No findings: every check passed.", sheet.remark)
        return
    sheet.string(row, 0, "Click a cell reference to go to the cell; the list can be filtered.", sheet.remark)
    row += 1
    header = row
    sheet.headers(row, 0, ("Severity", "What is wrong", "How to fix it", "Sheet", "Cell", "ID", "Rule"),
                  numeric_from=99)
    rows = sheet.direct
    assert rows is not None and rows.last == header  # each finding's row is appended below the header
    text, code, link = sheet.xf(sheet.text), sheet.xf(sheet.code), sheet.xf(sheet.link)
    severity = {s: sheet.xf(f) for s, f in sheet.severity.items()}
    message_width, fix_width = COLUMN_WIDTHS[1], COLUMN_WIDTHS[2]
    shown = report.findings[:MAX_FINDINGS_SHOWN]
    for r, finding in enumerate(shown, start=header + 1):
        message, fix = finding.message[:MAX_CELL_TEXT], finding.fix[:MAX_CELL_TEXT]
        cell = finding.cell or ""
        place: tuple[int, int, str | None] = (4, code, cell)
        if finding.sheet and sheet.links < MAX_LINKS:
            place = (4, link, cell or "(sheet)")
            location = f"{quote_sheet(finding.sheet)}!{cell or 'A1'}"
            rows.links.append((r, 4, location, f"Go to {finding.sheet}!{cell or 'A1'}", cell or "(sheet)"))
            sheet.links += 1
        elif finding.sheet:
            place = (4, code, cell or "(sheet)")
        rows.rows.append((
            (0, severity.get(finding.severity, code), finding.severity.capitalize()),
            (1, text, message),
            (2, text, fix),
            (3, code, finding.sheet),
            place,
            (5, code, finding.id or ""),
            (6, code, finding.rule),
        ))
        lines = max(wrapped_lines(message, message_width), wrapped_lines(fix, fix_width))
        if lines > 1:
            rows.heights[r] = row_points(lines)
    rc = sheet.ws.autofilter(header, 0, rows.last, 6)
    sheet.check(rc, "the filter", header, 0)
    hidden = len(report.findings) - len(shown)
    if hidden:
        sheet.string(rows.last + 2, 0, f"{hidden} more findings are not listed here; run the audit with --json to "
                     "see them all.", sheet.remark)


def _top_chart(
    sheet: SheetWriter, report: Report, severity_row: int, goal_rows: tuple[int, int], rows: tuple[int, int]
) -> None:
    """Action steps per goal (or, without goals, findings by severity) beside the headline figures."""
    name = schema.SUMMARY_SHEET
    goals = report.goals[:CHART_GOALS]
    if goals:
        header = goal_rows[0]
        first, last = header + 1, header + len(goals)
        chart = sheet.wb.add_chart({"type": "column"})
        headers = _goal_headers()
        # The table's cells are written by the graft, not in the scratch workbook: the chart's cached values,
        # which apps show until they recalculate, are given with each range.
        for col, key in ((5, "steps"), (6, "complete"), (7, "overdue")):
            chart.add_series({
                "name": [name, header, col],
                "name_data": [headers[col]],
                "categories": [name, first, 0, last, 0],
                "categories_data": [goal.id for goal in goals],
                "values": [name, first, col, last, col],
                "values_data": [getattr(goal, key) for goal in goals],
                "fill": {"color": CHART_COLOURS[key]},
                "gap": 80,
            })
        title = "Action steps per goal"
        if len(report.goals) > len(goals):
            title += f" (the first {len(goals)} of {len(report.goals):,} goals)"
        chart.set_title({"name": title, "name_font": {"size": 12}})
        y_axis: dict[str, Any] = {"min": 0, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
        if max((g.steps for g in goals), default=0) <= 10:
            y_axis["major_unit"] = 1
        chart.set_y_axis(y_axis)
        chart.set_legend({"position": "bottom"})
    else:
        chart = sheet.wb.add_chart({"type": "column"})
        chart.add_series({
            "name": "Findings",
            "categories": [name, severity_row, 0, severity_row + len(SEVERITIES) - 1, 0],
            "values": [name, severity_row, 1, severity_row + len(SEVERITIES) - 1, 1],
            "points": [{"fill": {"color": SEVERITY_COLOURS[s][1]}} for s in SEVERITIES],
            "data_labels": {"value": True},
        })
        chart.set_title({"name": "Findings by severity", "name_font": {"size": 12}})
        chart.set_y_axis({"min": 0})
        chart.set_legend({"none": True})
    chart.set_size({"width": 560, "height": max(200, (rows[1] - rows[0]) * _ROW_PX - 8)})
    if goals:
        alt = "Column chart of the action steps, steps complete and steps overdue per goal: " + "; ".join(
            f"{g.id} {g.steps} steps, {g.complete} complete, {g.overdue} overdue" for g in goals
        )
    else:
        alt = "Column chart of the findings by severity: " + ", ".join(
            f"{report.summary.counts.get(s, 0)} {SEVERITY_LABELS.get(s, s).lower()}" for s in SEVERITIES
        )
    sheet.insert_chart(rows[0], 3, chart, alt + ".")


def _shown_share(share: float) -> float:
    return whole_percent(share) / 100


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
