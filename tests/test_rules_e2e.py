"""Every rule of the catalogue, end to end: a generated template filled and broken the way a member would.

A blank template from the generator is filled with the clean plan of ``plans.py`` by typing values into cells
found by header text (``fill.py``): references picked as the dropdown's "ID - text" labels, dates as real
dates. That workbook audits with no finding at all. Each case then makes the edits a member makes (a typed
text date, a typo'd reference, a formula pasted into a text cell, an error value, a copied row that keeps its
ID, a cleared cell...), saves a copy, runs the audit on the file and expects exactly the findings listed:
rule, severity, sheet, cell and row ID. Severities are the brief's, spelled here on purpose so a change in
the catalogue is noticed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fill import Filler, dropdown_label, fill_plan
from plans import AS_OF, PLAN_END, SHORTEST_FREQUENCY, clean_plan, get

from reentry_workbook.audit.pipeline import audit_plan
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.plan.model import Finding
from reentry_workbook.workbook.generate import new_workbook, write_plan_workbook

PLAN = clean_plan()
TEMPLATE_ROWS = 30  # pre-formatted rows per sheet; enough for the clean plan and the rows the cases add
CHOICE = schema.CHOICES


def label(sheet_key: str, row_id: str) -> str:
    return dropdown_label(PLAN, sheet_key, row_id)


def text_of(sheet_key: str, row_id: str) -> str:
    """The text of a row of the clean plan (what its dropdown label shows after the ID)."""
    return label(sheet_key, row_id).split(schema.ID_SEPARATOR, 1)[1]


@dataclass(frozen=True)
class Hit:
    """One finding the audit must give.

    ``sheet`` is a sheet key, or ``None`` for the Coalition sheet (``column`` is then a field key). The cell is
    on the row with ``row_id`` (default: ``id``); ``"added"`` means the row the case filled with ``add_row``.
    """

    rule: str
    severity: str
    sheet: str | None
    column: str
    id: str | None
    row_id: str | None = None


Edit = Callable[[Filler], object]


@dataclass(frozen=True)
class Case:
    edit: Edit
    hits: tuple[Hit, ...]


def set_(sheet_key: str, row_id: str, column: str, value: object) -> Edit:
    return lambda f: f.set(sheet_key, row_id, column, value)


def coalition(field: str, value: object) -> Edit:
    return lambda f: f.set_coalition(field, value)


def formula(sheet_key: str, row_id: str, column: str, text: str) -> Edit:
    return lambda f: f.formula(sheet_key, row_id, column, text)


def add_row(sheet_key: str, **values: object) -> Edit:
    return lambda f: f.add_row(sheet_key, values)


def hit(rule: str, severity: str, sheet: str | None, column: str, row_id: str | None, at: str | None = None) -> Hit:
    return Hit(rule, severity, sheet, column, row_id, at)


def case(edit: Edit, *hits: Hit) -> Case:
    return Case(edit, hits)


CASES: dict[str, Case] = {
    # A member copies the P-1 row into a spare row and keeps its ID, typed their own way.
    "duplicate-id": case(
        add_row("priorities", id=" p-01 ", priority="Housing, again", why="Copied from above."),
        hit("duplicate-id", "error", "priorities", "id", "P-1", "added"),
    ),
    "broken-link (typo'd ID)": case(
        set_("steps", "A-1", "improvement", "I-11"),
        hit("broken-link", "error", "steps", "improvement", "A-1"),
    ),
    "broken-link (typo'd text)": case(
        set_("steps", "A-1", "improvement", "Housing navigater in the jail"),
        hit("broken-link", "error", "steps", "improvement", "A-1"),
    ),
    "broken-link (label of a deleted row)": case(
        set_("goals", "G-3", "priority", f"P-7{schema.ID_SEPARATOR}Transport"),
        hit("broken-link", "error", "goals", "priority", "G-3"),
    ),
    "step-without-improvement": case(
        set_("steps", "A-3", "improvement", None),
        hit("step-without-improvement", "error", "steps", "improvement", "A-3"),
    ),
    "improvement-without-goal": case(
        set_("improvements", "I-4", "goal", "   "),
        hit("improvement-without-goal", "error", "improvements", "goal", "I-4"),
    ),
    # The member re-picks I-3's goal from the dropdown: G-3 is left with no improvement.
    "goal-without-improvement": case(
        set_("improvements", "I-3", "goal", label("goals", "G-1")),
        hit("goal-without-improvement", "error", "goals", "id", "G-3"),
    ),
    "step-overdue": case(
        set_("steps", "A-1", "due_date", AS_OF - dt.timedelta(days=1)),
        hit("step-overdue", "error", "steps", "due_date", "A-1"),
    ),
    "goal-without-priority": case(
        set_("goals", "G-3", "priority", None),
        hit("goal-without-priority", "warning", "goals", "priority", "G-3"),
    ),
    "priority-without-goal": case(
        set_("goals", "G-2", "priority", label("priorities", "P-1")),
        hit("priority-without-goal", "warning", "priorities", "id", "P-2"),
    ),
    "improvement-without-step": case(
        set_("steps", "A-2", "improvement", "i-1"),
        hit("improvement-without-step", "warning", "improvements", "id", "I-2"),
    ),
    "improvement-without-measure": case(
        set_("measures", "M-2", "improvement", label("improvements", "I-1")),
        hit("improvement-without-measure", "warning", "improvements", "id", "I-2"),
    ),
    "improvement-without-mechanism": case(
        set_("improvements", "I-1", "mechanism", None),
        hit("improvement-without-mechanism", "warning", "improvements", "mechanism", "I-1"),
    ),
    "improvement-without-stakeholder": case(
        set_("improvements", "I-1", "stakeholders", " \n "),
        hit("improvement-without-stakeholder", "warning", "improvements", "stakeholders", "I-1"),
    ),
    # Typed in lower case instead of picked: still the choice, and it says the resources are not there.
    "resources-unsecured": case(
        set_("improvements", "I-4", "resources_secured", schema.RESOURCES_SECURED_NO.lower()),
        hit("resources-unsecured", "warning", "improvements", "resources_secured", "I-4"),
    ),
    # The cost typed as words: not a sum, so the improvement gives no estimated cost.
    "resources-without-cost": case(
        set_("improvements", "I-3", "estimated_cost", "to be costed"),
        hit("resources-without-cost", "info", "improvements", "estimated_cost", "I-3"),
    ),
    "goal-not-measurable": case(
        set_("goals", "G-1", "target", None),
        hit("goal-not-measurable", "warning", "goals", "target", "G-1"),
    ),
    "measure-without-target": case(
        set_("measures", "M-3", "target", ""),
        hit("measure-without-target", "warning", "measures", "target", "M-3"),
    ),
    "step-without-owner": case(
        set_("steps", "A-4", "responsible", None),
        hit("step-without-owner", "warning", "steps", "responsible", "A-4"),
    ),
    "step-without-due-date": case(
        set_("steps", "A-5", "due_date", None),
        hit("step-without-due-date", "warning", "steps", "due_date", "A-5"),
    ),
    "step-not-serving-goal": case(
        set_("steps", "A-1", "serves_goal", schema.SERVES_GOAL_NO),
        hit("step-not-serving-goal", "warning", "steps", "serves_goal", "A-1"),
    ),
    "step-dates-reversed": case(
        set_("steps", "A-4", "start_date", dt.date(2027, 10, 1)),
        hit("step-dates-reversed", "warning", "steps", "start_date", "A-4"),
    ),
    "plan-review-overdue": case(
        coalition("last_reviewed", AS_OF - dt.timedelta(days=schema.FREQUENCY_DAYS[SHORTEST_FREQUENCY] + 1)),
        hit("plan-review-overdue", "warning", None, "last_reviewed", None),
    ),
    "invalid-choice": case(
        set_("steps", "A-1", "status", "Done"),
        hit("invalid-choice", "warning", "steps", "status", "A-1"),
    ),
    "invalid-choice (Coalition)": case(
        coalition("review_cadence", "Every so often"),
        hit("invalid-choice", "warning", None, "review_cadence", None),
    ),
    "unreadable-date": case(
        set_("steps", "A-4", "due_date", "TBD"),
        hit("unreadable-date", "warning", "steps", "due_date", "A-4"),
    ),
    "unreadable-date (day and month could swap)": case(
        set_("measures", "M-1", "latest_as_of", "2/3/2027"),
        hit("unreadable-date", "warning", "measures", "latest_as_of", "M-1"),
    ),
    # A month that does not exist, typed as text: one clear warning, never a crash.
    "unreadable-date (month 13)": case(
        set_("steps", "A-4", "due_date", "13/2027"),
        hit("unreadable-date", "warning", "steps", "due_date", "A-4"),
    ),
    "unreadable-date (month 00)": case(
        set_("measures", "M-1", "latest_as_of", "2027-00"),
        hit("unreadable-date", "warning", "measures", "latest_as_of", "M-1"),
    ),
    "unreadable-date (year 0000)": case(
        coalition("last_reviewed", "March 0000"),
        hit("unreadable-date", "warning", None, "last_reviewed", None),
    ),
    "unreadable-date (the number 0)": case(
        set_("steps", "A-4", "due_date", 0),
        hit("unreadable-date", "warning", "steps", "due_date", "A-4"),
    ),
    "formula-in-text": case(
        formula("steps", "A-1", "notes", '=B2&" see the MOU"'),
        hit("formula-in-text", "warning", "steps", "notes", "A-1"),
    ),
    "formula-in-text (date)": case(
        formula("steps", "A-5", "start_date", "=TODAY()"),
        hit("formula-in-text", "warning", "steps", "start_date", "A-5"),
    ),
    # A reference that pointed into a deleted row of another workbook: Excel leaves #REF! behind.
    "error-value": case(
        set_("measures", "M-5", "improvement", "#REF!"),
        hit("error-value", "warning", "measures", "improvement", "M-5"),
    ),
    "error-value (date)": case(
        set_("steps", "A-2", "last_updated", "#N/A"),
        hit("error-value", "warning", "steps", "last_updated", "A-2"),
    ),
    # A member adds a priority in a spare row and deletes the ID it came with.
    "missing-id": case(
        add_row("priorities", id=None, priority="Transportation", why="No buses after 6 pm."),
        hit("missing-id", "warning", "priorities", "id", None, "added"),
    ),
    # A date typed into the ID cell of a new row: not an ID, so the row has none.
    "missing-id (a date in the ID cell)": case(
        add_row("priorities", id=dt.date(2027, 3, 15), priority="Transportation", why="No buses after 6 pm."),
        hit("missing-id", "warning", "priorities", "id", None, "added"),
    ),
    "date-as-text": case(
        set_("steps", "A-1", "due_date", "2027-06-30"),
        hit("date-as-text", "info", "steps", "due_date", "A-1"),
    ),
    "date-as-text (spelled out)": case(
        set_("steps", "A-4", "due_date", "30 September 2027"),
        hit("date-as-text", "info", "steps", "due_date", "A-4"),
    ),
    "date-as-text (month and year, year first)": case(
        set_("steps", "A-4", "due_date", "2027 September"),
        hit("date-as-text", "info", "steps", "due_date", "A-4"),
    ),
    "step-outside-plan-period": case(
        set_("steps", "A-5", "due_date", PLAN_END + dt.timedelta(days=15)),
        hit("step-outside-plan-period", "info", "steps", "due_date", "A-5"),
    ),
    "measure-stale": case(
        set_("measures", "M-2", "latest_as_of", dt.date(2026, 12, 1)),
        hit("measure-stale", "info", "measures", "latest_as_of", "M-2"),
    ),
    "measure-without-baseline": case(
        set_("measures", "M-1", "baseline", None),
        hit("measure-without-baseline", "info", "measures", "baseline", "M-1"),
    ),
}


# Edits a member makes that the audit must take in its stride: each gives no finding at all.
QUIET: dict[str, Edit] = {
    "reference typed as a bare ID in lower case": set_("steps", "A-1", "improvement", "i-1"),
    "reference typed zero-padded with spaces": set_("goals", "G-2", "priority", " P-02 "),
    "reference typed as the parent's text": set_("steps", "A-4", "improvement", text_of("improvements", "I-3")),
    "ID typed zero-padded": set_("goals", "G-3", "id", "G-003"),
    "choice typed in another case": set_("steps", "A-1", "status", CHOICE["status"][1].upper()),
    "text with a leading = typed as text": set_("steps", "A-1", "notes", "=not a formula, just text"),
    "number typed as text in a money column": set_("improvements", "I-1", "estimated_cost", "$52,000"),
    "date picked as a date-and-time": set_("steps", "A-5", "due_date", dt.datetime(2027, 12, 31, 17, 30)),
    "step starting on its due day": set_("steps", "A-4", "start_date", get(PLAN, "steps", "A-4").get("due_date")),
    "step due on the plan's last day": set_("steps", "A-5", "due_date", PLAN_END),
    "parent's text holding the label separator, typed as the reference": lambda f: (
        f.set("improvements", "I-3", "improvement", f"ID replacement{schema.ID_SEPARATOR}at booking"),
        f.set("steps", "A-4", "improvement", f"id replacement{schema.ID_SEPARATOR}AT BOOKING"),
    ),
}


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean plan typed into a blank generated template."""
    folder = tmp_path_factory.mktemp("e2e")
    template = new_workbook(folder / "blank.xlsx", rows=TEMPLATE_ROWS)
    return fill_plan(template, PLAN, folder / "Plan (filled in).xlsx")


def expected(filler: Filler, h: Hit) -> tuple[str, str, str, str, str | None]:
    if h.sheet is None:
        return (h.rule, h.severity, schema.COALITION_SHEET, filler.coalition_a1(h.column), h.id)
    added = h.row_id == "added"
    row = filler.added[h.sheet][-1] if added else filler.row_of(h.sheet, h.row_id or h.id or "")
    cell = f"{filler.column_letter(h.sheet, h.column)}{row}"
    return (h.rule, h.severity, schema.sheet(h.sheet).name, cell, h.id)


def shape(f: Finding) -> tuple[str, str, str, str, str | None]:
    return (f.rule, f.severity, f.sheet, f.cell, f.id)


def test_every_rule_of_the_catalogue_has_an_end_to_end_case() -> None:
    covered = {h.rule for c in CASES.values() for h in c.hits}
    assert covered == {r.slug for r in catalogue.RULES}


def test_severities_here_are_the_catalogue_s() -> None:
    for c in CASES.values():
        for h in c.hits:
            assert catalogue.rule(h.rule).severity == h.severity, h.rule


def test_the_clean_plan_typed_into_the_template_gives_no_finding(filled: Path) -> None:
    report = audit_plan(filled, as_of=AS_OF)
    assert report.findings == []
    assert report.summary.alignment == 1.0
    assert report.summary.completeness == 1.0
    assert report.summary.steps == report.summary.steps_aligned == len(PLAN.rows("steps"))
    assert sum(report.summary.counts.values()) == 0


def test_the_clean_plan_written_by_the_generator_gives_no_finding(tmp_path: Path) -> None:
    path = write_plan_workbook(tmp_path / "clean.xlsx", clean_plan())
    report = audit_plan(path, as_of=AS_OF)
    assert report.findings == []
    assert (report.summary.alignment, report.summary.completeness) == (1.0, 1.0)


def test_the_clean_plan_reads_back_the_values_typed(filled: Path) -> None:
    from reentry_workbook.audit.reader import read_plan

    plan = read_plan(filled).plan
    for sheet in schema.SHEETS:
        got = [(r.id, r.values) for r in plan.rows(sheet.key)]
        want = [(r.id, r.values) for r in PLAN.rows(sheet.key)]
        assert got == want, sheet.name
    assert plan.coalition == PLAN.coalition


@pytest.mark.parametrize("name", list(CASES))
def test_a_member_s_edit_gives_exactly_its_findings(filled: Path, tmp_path: Path, name: str) -> None:
    c = CASES[name]
    filler = Filler(filled)
    c.edit(filler)
    want = sorted(expected(filler, h) for h in c.hits)
    path = filler.save(tmp_path / "Plan (returned).xlsx")

    report = audit_plan(path, as_of=AS_OF)

    assert sorted(shape(f) for f in report.findings) == want
    for f in report.findings:
        assert f.fix == catalogue.rule(f.rule).fix
        assert f.message and "\n" not in f.message
        if f.id is not None:
            assert f.id in f.message, "the message names the row"
    assert report.summary.counts[c.hits[0].severity] >= 1
    assert report.summary.rule_counts[c.hits[0].rule] == len([h for h in c.hits if h.rule == c.hits[0].rule])


@pytest.mark.parametrize("name", list(QUIET))
def test_a_tolerated_edit_gives_no_finding(filled: Path, tmp_path: Path, name: str) -> None:
    filler = Filler(filled)
    QUIET[name](filler)
    path = filler.save(tmp_path / "Plan (returned).xlsx")
    report = audit_plan(path, as_of=AS_OF)
    assert report.findings == []
    assert (report.summary.alignment, report.summary.completeness) == (1.0, 1.0)


def test_the_clean_plan_typed_into_a_full_size_template_gives_no_finding(tmp_path: Path) -> None:
    template = new_workbook(tmp_path / "blank.xlsx")  # the default number of pre-formatted rows
    path = fill_plan(template, PLAN, tmp_path / "Plan (filled in).xlsx")
    assert audit_plan(path, as_of=AS_OF).findings == []


def test_rows_without_an_id_are_each_missing_one_and_not_duplicates_of_each_other(filled: Path, tmp_path: Path) -> None:
    filler = Filler(filled)
    rows = [filler.add_row("priorities", {"id": None, "priority": "Transportation"}) for _ in range(2)]
    report = audit_plan(filler.save(tmp_path / "Plan (returned).xlsx"), as_of=AS_OF)
    column = filler.column_letter("priorities", "id")
    assert sorted(shape(f) for f in report.findings) == [
        ("missing-id", "warning", schema.sheet("priorities").name, f"{column}{row}", None) for row in rows
    ]
