"""The Start Here sheet: what the workbook is for, how to fill it in, the building blocks, the questions
to keep asking, the colour legend and the template's identity. Field descriptions come from the
declaration (through ``describe``), so they always match the sheets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xlsxwriter.worksheet import Worksheet

from ..plan import describe, schema
from ..plan.model import Plan, written
from .formats import CONTEXT_FILL, OVERDUE_FILL, OVERDUE_FONT, REQUIRED_BLANK_FILL, Formats, check, fit_row

LABEL_WIDTH = 30
TEXT_WIDTH = 100


class _Page:
    """Writes Start Here top to bottom: a label column and a wide text column."""

    def __init__(self, ws: Worksheet, fm: Formats) -> None:
        self.ws, self.fm, self.row = ws, fm, 0

    def line(self, label: str, text: str = "", label_format: Any = None, text_format: Any = None) -> None:
        if label:
            check(self.ws.write_string(self.row, 0, label, label_format or self.fm.bold), f"Start Here A{self.row + 1}")
        if text:
            check(self.ws.write_string(self.row, 1, text, text_format or self.fm.wrap), f"Start Here B{self.row + 1}")
        fit_row(self.ws, self.row, [(label, LABEL_WIDTH), (text, TEXT_WIDTH)])
        self.row += 1

    def heading(self, text: str) -> None:
        self.row += 1
        check(self.ws.write_string(self.row, 0, text, self.fm.heading), f"Start Here A{self.row + 1}")
        check(self.ws.write_blank(self.row, 1, None, self.fm.heading), f"Start Here B{self.row + 1}")
        self.row += 1


def _names() -> dict[str, str]:
    """Sheet and column names the text mentions, all taken from the declaration."""
    steps, improvements, measures = schema.sheet("steps"), schema.sheet("improvements"), schema.sheet("measures")
    return {
        "coalition": schema.COALITION_SHEET,
        "priorities": schema.sheet("priorities").name,
        "goals": schema.sheet("goals").name,
        "improvements": improvements.name,
        "measures": measures.name,
        "steps": steps.name,
        "stakeholders": schema.sheet("stakeholders").name,
        "res_needed": improvements.column("resources_needed").header,
        "res_secured": improvements.column("resources_secured").header,
        "cadence": schema.coalition_field("review_cadence").label,
        "reviewed": schema.coalition_field("last_reviewed").label,
        "status": steps.column("status").header,
        "updated": steps.column("last_updated").header,
        "latest": measures.column("latest_value").header,
        "serves": steps.column("serves_goal").header,
        "how": steps.column("how_it_serves").header,
        "improvement": steps.column("improvement").header,
        "closed": " or ".join(schema.CLOSED_STATUSES),
    }


def _next_id(last_id: str) -> str:
    prefix, _, number = last_id.rpartition("-")
    return f"{prefix}-{int(number) + 1}" if number.isdigit() else "the next number"


def write_start_sheet(
    ws: Worksheet,
    fm: Formats,
    plan: Plan,
    context: Mapping[str, set[str]],
    last_step_id: str,
) -> None:
    """Fill the Start Here sheet. ``last_step_id`` is the ID of the last prepared action step row."""
    n = _names()
    check(ws.set_column(0, 0, LABEL_WIDTH), "Start Here label column")
    check(ws.set_column(1, 1, TEXT_WIDTH), "Start Here text column")
    ws.set_tab_color("#1F4E78")
    page = _Page(ws, fm)
    name = str(written(plan.coalition.get("name")) or "").strip()
    page.line("Reentry coalition plan", name, fm.title, fm.title)
    page.line("", "Read this sheet first. It explains what goes where; the other sheets hold the plan itself.")

    if context:
        sheets = ", ".join(schema.sheet(key).name for key in context if key in schema.SHEETS_BY_KEY)
        page.heading("Rows shown for context")
        page.line(
            "Grey rows",
            f"Grey rows on {sheets} are shown for context only, so your own rows make sense. Do not edit "
            "them: changes there are not taken back into the plan.",
        )

    page.heading("What this workbook is for")
    page.line(
        "",
        "The coalition's strategic plan, in one place: the priorities chosen, the measurable goals under each, "
        "the policy and practice changes meant to reach them, how progress is tracked, and the concrete steps "
        "members have taken on. Every row points to the row it serves, so anyone can follow an action step up "
        "to its goal and priority, and the coordinator can check that no step is left without a purpose.",
    )

    page.heading("How to fill it in")
    for i, text in enumerate(
        (
            f"Start on the {n['coalition']} sheet: the coalition's name, the area covered, the plan's first and "
            f"last day, who coordinates it and how often the whole plan is reviewed.",
            f"Then work through {n['priorities']}, {n['goals']}, {n['improvements']}, {n['measures']} and "
            f"{n['steps']}, in that order: each row names the row it serves on the sheet before.",
            "Every row already has its ID in the first column. Keep it as it is: copies of the workbook are "
            "matched row by row through these IDs.",
            "To link a row to the one it serves, pick from the cell's dropdown. It lists the rows filled in so far "
            "as ID and text. If you type instead, start with the ID.",
            f"Type dates as year-month-day (e.g. {describe.DATE_EXAMPLE}); the cell turns them into real dates.",
            f"List the people and offices involved on {n['stakeholders']}; their names are offered in the "
            "columns that ask who leads or who is responsible.",
            "Select a cell to see what belongs in it. Coloured cells are explained in the legend below.",
            "Need more rows than the ones prepared? Copy the last row, paste it right below, and give the new row "
            f"the next ID (on {n['steps']} the last prepared row is {last_step_id}; the next one is "
            f"{_next_id(last_step_id)}). The copy keeps the dropdowns and the "
            "date checks. Dropdowns on other sheets only list the prepared rows, so if a sheet fills up, ask the "
            "coordinator for a workbook with more rows.",
            "Keep the sheet names and header texts as they are. You may add your own columns to the right, "
            "notes, colours and extra sheets; they are left alone.",
            "Save as .xlsx (Excel workbook) and send it back to the coordinator.",
        ),
        start=1,
    ):
        page.line(f"{i}.", text)

    page.heading("The building blocks")
    for sh in schema.SHEETS:
        page.line(sh.name, sh.help)

    page.heading("Three questions to keep asking")
    page.line(
        "Are the resources there?",
        f"For each improvement, say what it needs ({n['res_needed']}) and whether that is in hand "
        f"({n['res_secured']}); note what each action step needs too. A change without resources is a wish.",
    )
    page.line(
        "Is the plan revisited?",
        f"Review the whole plan as often as {n['cadence']} on {n['coalition']} says and record the date in "
        f"{n['reviewed']}. In between, keep {n['status']} and {n['updated']} on {n['steps']} and "
        f"{n['latest']} on {n['measures']} current, and adjust what is not working.",
    )
    page.line(
        "Does every step serve the goals?",
        f"Each action step names its improvement, each improvement its goal, each goal its priority. "
        f"{n['serves']} and {n['how']} ask you to say so in words; a step that does not serve a goal should "
        "be reworked or dropped.",
    )

    page.heading("Colours")
    page.line("Column header", "Keep the header text: the audit finds columns by it.", fm.header)
    page.line(
        "Blank required cell",
        "A cell that needs a value, in a row you have started.",
        fm.get(bg_color=REQUIRED_BLANK_FILL, bold=True),
    )
    page.line(
        "Overdue step",
        f"An action step past its due date that is not marked {n['closed']}.",
        fm.get(bg_color=OVERDUE_FILL, font_color=OVERDUE_FONT, bold=True),
    )
    page.line("Context row", "Shown for context only; do not edit it.", fm.get(bg_color=CONTEXT_FILL, bold=True))
    page.line(
        "Worked out for you",
        "Filled in by a formula from what you picked; leave it alone.",
        fm.cell(schema.Kind.DERIVED),
    )

    page.heading("What goes in each column")
    page.line(schema.COALITION_SHEET, "", fm.heading)
    for fld in schema.COALITION_FIELDS:
        page.line(fld.label, describe.field_description(fld))
    for sh in schema.SHEETS:
        page.row += 1
        page.line(sh.name, sh.help, fm.heading)
        for col in sh.columns:
            page.line(col.header, describe.column_description(col))

    page.heading("About this workbook")
    page.line("Template", schema.TEMPLATE_NAME)
    page.line("Template version", schema.TEMPLATE_VERSION)
    page.line("Fingerprint", schema.fingerprint())
    page.line("", "The coordinator's reentry-workbook tool reads these to recognise the layout.")
    ws.hide_gridlines(2)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&L&A&RPage &P of &N")
