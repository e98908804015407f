"""The three questions on the Alignment Summary sheet, one block each, then the steps overdue and coming up.

1. Resources: the answer, the cost by Resources secured, the unsecured cost per priority, and the improvements
   that give no cost.
2. Revisited: the answer, the review dates, what changed since the last audit (and, with ``--since``, the rows
   that changed) and, from the second audit on, the trend: a table of the recent audits and two native line
   charts (alignment and completeness; errors and overdue steps).
3. In service: the answer and the counts behind the alignment figure.

Every answer is a word (Yes, Partly, No, Not known) beside its colour; every chart has a title and alt text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..plan import schema
from .questions import PERSON_ORDER, person_key
from .report import NOT_STATED, Report
from .wording import ANSWER_LABELS, ANSWER_RAG, FIGURE_LABELS, QUESTIONS, change, figure, sentence, since_sentence, when

if TYPE_CHECKING:
    from .summary_writer import SheetWriter

TREND_ROWS = 12  # recent audits in the trend table and charts
CHANGED_ROWS_SHOWN = 200  # rows changed since --since listed on the sheet
STEPS_SHOWN = 200  # overdue and coming-up steps listed on the sheet (the JSON report has them all)
STATUS_NOTES: dict[str, str] = {
    schema.RESOURCES_SECURED_YES: "in hand",
    schema.RESOURCES_SECURED_PARTLY: "partly in hand: counted as unsecured",
    schema.RESOURCES_SECURED_NO: "not in hand",
    schema.RESOURCES_NOT_NEEDED: "nothing to find",
    NOT_STATED: "Resources secured left blank or not a choice: counted as unsecured",
}
_CHART_PX = (470, 250)
_ROW_PX = 20


def write_questions(sheet: SheetWriter, report: Report, row: int) -> int:
    """Write the three blocks and the steps list from ``row``; returns the next free row."""
    for number, (key, name, question) in enumerate(QUESTIONS, start=1):
        row = _section(sheet, row, f"{number}. {name}: {question}")
        answer = getattr(report, key).answer
        sheet.string(row, 0, "Answer", sheet.label)
        sheet.string(row, 1, f"{ANSWER_LABELS[answer]}: {sentence(report, key)}", sheet.answer[ANSWER_RAG[answer]])
        row += 1
        row = {"resources": _resources, "revisited": _revisited, "in_service": _in_service}[key](sheet, report, row)
        row += 1
    return _steps(sheet, report, row)


def _section(sheet: SheetWriter, row: int, title: str, width: int = 6) -> int:
    sheet.string(row, 0, title, sheet.section)
    for col in range(1, width):
        sheet.string(row, col, "", sheet.section)
    return row + 1


def _pairs(sheet: SheetWriter, row: int, pairs: list[tuple[str, Any, str]]) -> int:
    """Label / value / note lines."""
    for label, value, note in pairs:
        sheet.string(row, 0, label, sheet.label)
        if hasattr(value, "isoformat"):
            sheet.when(row, 1, value, sheet.date)
        else:
            sheet.string(row, 1, value, sheet.value)
        if note:
            sheet.string(row, 2, note, sheet.note)
        row += 1
    return row


def _resources(sheet: SheetWriter, report: Report, row: int) -> int:
    r = report.resources
    if not r.improvements:
        return row
    sheet.headers(row, 0, ("Resources secured", "What it means", "", "Improvements", "Estimated cost"), numeric_from=3)
    row += 1
    for line in r.by_status:
        sheet.string(row, 0, line.status, sheet.code)
        sheet.string(row, 1, STATUS_NOTES.get(line.status, ""), sheet.text)
        sheet.string(row, 2, "", sheet.text)
        sheet.number(row, 3, line.improvements, sheet.count)
        sheet.number(row, 4, line.cost, sheet.money)
        row += 1
    sheet.string(row, 0, "Total", sheet.label)
    sheet.number(row, 3, r.improvements, sheet.count)
    sheet.number(row, 4, r.estimated_cost, sheet.money)
    row += 2
    if r.by_priority:
        priority = schema.sheet("priorities")
        sheet.headers(row, 0, ("Priority ID", priority.column("priority").header, "", "Estimated cost",
                               "Unsecured cost"), numeric_from=3)
        row += 1
        for cost in r.by_priority:
            sheet.string(row, 0, cost.id, sheet.code)
            sheet.string(row, 1, cost.text, sheet.text)
            sheet.string(row, 2, "", sheet.text)
            sheet.number(row, 3, cost.estimated_cost, sheet.money)
            sheet.number(row, 4, cost.unsecured_cost, sheet.money)
            row += 1
        sheet.string(row, 0, "The cost per goal is in the table By goal below.", sheet.remark)
        row += 2
    if r.without_cost:
        header = schema.sheet("improvements").column("estimated_cost").header
        sheet.string(row, 0, f"Need resources but give no {header.lower()}: {', '.join(r.without_cost)}",
                     sheet.remark)
        row += 1
    return row


def _revisited(sheet: SheetWriter, report: Report, row: int) -> int:
    v = report.revisited
    due_note = ""
    if v.next_review_due is not None:
        due_note = f"{v.days_overdue} days overdue" if v.days_overdue else when(v.next_review_due, report.summary.as_of)
    row = _pairs(sheet, row, [
        (schema.coalition_field("review_cadence").label, v.cadence or "not set", ""),
        (schema.coalition_field("last_reviewed").label, v.last_reviewed or "not recorded", ""),
        ("Next review due", v.next_review_due or "not known", due_note),
        ("Audits recorded", str(v.audits), f"one row per audit on the {schema.HISTORY_SHEET} sheet"),
    ])
    since = report.since_last
    if since is not None:
        row += 1
        after = f" ({since.previous_as_of.isoformat()})" if since.previous_as_of else ""
        sheet.string(row, 0, f"Since the last audit{after}: {since_sentence(since)}", sheet.remark)
        row += 1
        if since.newly_overdue:
            sheet.string(row, 0, f"Newly overdue: {', '.join(since.newly_overdue)}", sheet.remark)
            row += 1
        if since.figures:
            sheet.headers(row, 0, ("Figure", "", "", "Last audit", "This audit", "Change"), numeric_from=3)
            row += 1
            for f in since.figures:
                sheet.string(row, 0, FIGURE_LABELS[f.key], sheet.code)
                sheet.string(row, 1, "", sheet.text)
                sheet.string(row, 2, "", sheet.text)
                for col, text in ((3, figure(f.key, f.before)), (4, figure(f.key, f.after)), (5, change(f))):
                    sheet.string(row, col, text, sheet.code)
                row += 1
        if since.changes is not None:
            row = _changed_rows(sheet, since.changes, row + 1)
    if len(report.history) >= 2:
        row = _trend(sheet, report, row + 1)
    else:
        sheet.string(row + 1, 0, "The trend appears here from the second audit on.", sheet.remark)
        row += 2
    return row


def _changed_rows(sheet: SheetWriter, changes: list[Any], row: int) -> int:
    if not changes:
        sheet.string(row, 0, "No row changed since the previous version.", sheet.remark)
        return row + 1
    sheet.headers(row, 0, ("Change", "Row", "Fields changed", "Sheet", "ID"), numeric_from=99)
    row += 1
    for c in changes[:CHANGED_ROWS_SHOWN]:
        sheet.string(row, 0, c.change, sheet.code)
        sheet.string(row, 1, c.text, sheet.text)
        sheet.string(row, 2, ", ".join(c.fields), sheet.text)
        sheet.string(row, 3, c.sheet, sheet.code)
        sheet.string(row, 4, c.id, sheet.code)
        row += 1
    if len(changes) > CHANGED_ROWS_SHOWN:
        sheet.string(row, 0, f"{len(changes) - CHANGED_ROWS_SHOWN} more: run `reentry-workbook diff` to see them all.",
                     sheet.remark)
        row += 1
    return row


def _trend(sheet: SheetWriter, report: Report, row: int) -> int:
    rows = report.history[-TREND_ROWS:]
    sheet.string(row, 0, f"Trend over the last {len(rows)} audits", sheet.label)
    row += 1
    header = row
    sheet.headers(row, 0, ("As of", "", "", "Alignment", "Completeness", "Errors", "Steps overdue"), numeric_from=3)
    row += 1
    for h in rows:
        sheet.when(row, 0, h.as_of, sheet.day)
        sheet.string(row, 1, "", sheet.text)
        sheet.string(row, 2, "", sheet.text)
        for col, value, fmt in ((3, h.alignment, sheet.share), (4, h.completeness, sheet.share),
                                (5, h.errors, sheet.count), (6, h.overdue, sheet.count)):
            if value is None:
                sheet.string(row, col, "", fmt)
            else:
                sheet.number(row, col, value, fmt)
        row += 1
    first, last = header + 1, header + len(rows)
    name = schema.SUMMARY_SHEET
    charts = (
        ("Alignment and completeness", ((3, "#1F4E78", "solid"), (4, "#70AD47", "dash")), True),
        ("Errors and overdue steps", ((5, "#C00000", "solid"), (6, "#7F6000", "dash")), False),
    )
    chart_row = row + 1
    for i, (title, series, shares) in enumerate(charts):
        chart = sheet.wb.add_chart({"type": "line"})
        for col, colour, dash in series:
            chart.add_series({
                "name": [name, header, col],
                "categories": [name, first, 0, last, 0],
                "values": [name, first, col, last, col],
                "line": {"color": colour, "width": 2.25, "dash_type": dash},
                "marker": {"type": "circle" if dash == "solid" else "square", "size": 6,
                           "fill": {"color": colour}, "border": {"color": colour}},
            })
        chart.set_title({"name": title, "name_font": {"size": 12}})
        chart.set_x_axis({"num_format": "yyyy-mm-dd", "num_font": {"size": 9}})
        y_axis: dict[str, Any] = {"min": 0, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
        if shares:
            y_axis.update({"max": 1, "num_format": "0%"})
        chart.set_y_axis(y_axis)
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": _CHART_PX[0], "height": _CHART_PX[1]})
        keys = ("alignment", "completeness") if shares else ("errors", "overdue")
        points = "; ".join(
            h.as_of.isoformat() + " " + ", ".join(f"{FIGURE_LABELS[k].lower()} {figure(k, getattr(h, k))}"
                                                  for k in keys)
            for h in rows
        )
        alt = f"Line chart, {title.lower()} by as-of date: {points}."
        sheet.insert_chart(chart_row, 0 if i == 0 else 2, chart, alt)
    return chart_row + -(-_CHART_PX[1] // _ROW_PX) + 1


def _in_service(sheet: SheetWriter, report: Report, row: int) -> int:
    s = report.in_service
    if not s.steps:
        return row
    steps = schema.sheet("steps").name
    return _pairs(sheet, row, [
        ("Aligned", f"{s.aligned} of {s.steps}", f"{steps} whose chain of service reaches a priority"),
        ("Not serving", str(s.not_serving), f"marked No under '{schema.sheet('steps').column('serves_goal').header}'"),
        ("Broken chain", str(s.broken_chain), "the chain stops short of a priority: see the findings below"),
    ])


def _steps(sheet: SheetWriter, report: Report, row: int) -> int:
    """Overdue steps, then those coming up, by person responsible."""
    coming = report.coming_up
    horizon = f"the next {coming.horizon_days} days, to {coming.until.isoformat()}" if coming else "the horizon"
    row = _section(sheet, row, f"Overdue and coming up in {horizon}, by person responsible")
    listed = [(p.responsible, s, "red") for p in report.overdue for s in p.steps]
    listed += [(p.responsible, s, "amber") for p in (coming.people if coming else []) for s in p.steps]
    if not listed:
        sheet.string(row, 0, "No open step is overdue or falls due in that time.", sheet.remark)
        return row + 2
    steps = schema.sheet("steps")
    sheet.headers(row, 0, (steps.column("responsible").header, steps.column("step").header, "When",
                           steps.column("id").header, steps.column("due_date").header, steps.column("status").header),
                  numeric_from=99)
    row += 1
    as_of = report.summary.as_of
    listed.sort(key=lambda item: (PERSON_ORDER.get(item[0], 0), person_key(item[0])))
    for person, step, rag in listed[:STEPS_SHOWN]:
        sheet.string(row, 0, person, sheet.text)
        sheet.string(row, 1, step.step, sheet.text)
        sheet.string(row, 2, when(step.due_date, as_of).capitalize(), sheet.rag[rag])
        sheet.string(row, 3, step.id, sheet.code)
        if step.due_date:
            sheet.when(row, 4, step.due_date, sheet.day)
        else:
            sheet.string(row, 4, "", sheet.code)
        sheet.string(row, 5, step.status, sheet.code)
        row += 1
    if len(listed) > STEPS_SHOWN:
        sheet.string(row, 0, f"{len(listed) - STEPS_SHOWN} more: the findings below list every overdue step, and "
                             "the audit's --json report every step coming up.", sheet.remark)
        row += 1
    return row + 1
