"""The structural rules over a plan: a clean plan gives nothing; each single break gives its one finding."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from plans import (
    AS_OF,
    DROPPED_STATUS,
    FREQUENCIES,
    OPEN_STATUS,
    PLAN_END,
    PLAN_START,
    SECURED_OK,
    SHORTEST_FREQUENCY,
    add,
    add_goal,
    add_priority,
    add_step,
    clean_plan,
    get,
)

from reentry_workbook.audit.rules import COMPUTED, cell_row, check, location_key
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.plan.model import ERROR_VALUE, FORMULA, Finding, Plan, Unknown

# The rules the reader reports while reading cells; check() computes every other one.
READER_RULES = {"invalid-choice", "unreadable-date", "date-as-text", "formula-in-text", "error-value", "missing-id"}


def _set(sheet_key: str, id: str, **values: object) -> Callable[[Plan], None]:
    def mutate(plan: Plan) -> None:
        get(plan, sheet_key, id).values.update(values)

    return mutate


def _set_coalition(**values: object) -> Callable[[Plan], None]:
    def mutate(plan: Plan) -> None:
        plan.coalition.update(values)

    return mutate


def _duplicate_priority(plan: Plan) -> None:
    add_priority(plan, "P-1", "Housing, again")


@dataclass
class Case:
    mutate: Callable[[Plan], None]
    rule: str
    sheet: str | None  # sheet key; None for the Coalition sheet
    column: str  # column key (or Coalition field key) of the cell the finding points at
    id: str | None
    row_id: str | None = None  # the row the cell is on, when the finding's ID is not given (duplicates)


CASES: dict[str, Case] = {
    "duplicate-id": Case(_duplicate_priority, "duplicate-id", "priorities", "id", "P-1"),
    "broken-link (deleted row)": Case(
        _set("steps", "A-1", improvement="I-9"), "broken-link", "steps", "improvement", "A-1"
    ),
    "broken-link (text naming nothing)": Case(
        _set("goals", "G-3", priority="Jobs for everyone"), "broken-link", "goals", "priority", "G-3"
    ),
    "broken-link (measure)": Case(
        _set("measures", "M-1", improvement="I-40"), "broken-link", "measures", "improvement", "M-1"
    ),
    "step-without-improvement": Case(
        _set("steps", "A-3", improvement=None), "step-without-improvement", "steps", "improvement", "A-3"
    ),
    "improvement-without-goal": Case(
        _set("improvements", "I-4", goal=" "), "improvement-without-goal", "improvements", "goal", "I-4"
    ),
    "goal-without-improvement": Case(
        _set("improvements", "I-3", goal="G-1"), "goal-without-improvement", "goals", "id", "G-3"
    ),
    "step-overdue": Case(
        _set("steps", "A-1", due_date=AS_OF - dt.timedelta(days=1)), "step-overdue", "steps", "due_date", "A-1"
    ),
    "goal-without-priority": Case(
        _set("goals", "G-3", priority=None), "goal-without-priority", "goals", "priority", "G-3"
    ),
    "priority-without-goal": Case(
        _set("goals", "G-2", priority="P-1"), "priority-without-goal", "priorities", "id", "P-2"
    ),
    "improvement-without-step": Case(
        _set("steps", "A-2", improvement="I-1"), "improvement-without-step", "improvements", "id", "I-2"
    ),
    "improvement-without-measure": Case(
        _set("measures", "M-2", improvement="I-1"), "improvement-without-measure", "improvements", "id", "I-2"
    ),
    "improvement-without-mechanism": Case(
        _set("improvements", "I-1", mechanism=None),
        "improvement-without-mechanism",
        "improvements",
        "mechanism",
        "I-1",
    ),
    "improvement-without-stakeholder": Case(
        _set("improvements", "I-1", stakeholders=""),
        "improvement-without-stakeholder",
        "improvements",
        "stakeholders",
        "I-1",
    ),
    "resources-unsecured (blank)": Case(
        _set("improvements", "I-1", resources_secured=None),
        "resources-unsecured",
        "improvements",
        "resources_secured",
        "I-1",
    ),
    "resources-unsecured (No)": Case(
        _set("improvements", "I-4", resources_secured=schema.RESOURCES_SECURED_NO),
        "resources-unsecured",
        "improvements",
        "resources_secured",
        "I-4",
    ),
    "resources-without-cost (blank)": Case(
        _set("improvements", "I-1", estimated_cost=None),
        "resources-without-cost",
        "improvements",
        "estimated_cost",
        "I-1",
    ),
    "resources-without-cost (text)": Case(
        _set("improvements", "I-1", estimated_cost="TBD"),
        "resources-without-cost",
        "improvements",
        "estimated_cost",
        "I-1",
    ),
    "goal-not-measurable (target)": Case(
        _set("goals", "G-1", target=None), "goal-not-measurable", "goals", "target", "G-1"
    ),
    "goal-not-measurable (target date)": Case(
        _set("goals", "G-2", target_date=None), "goal-not-measurable", "goals", "target_date", "G-2"
    ),
    "goal-not-measurable (success measure)": Case(
        _set("goals", "G-3", success_measure=None), "goal-not-measurable", "goals", "success_measure", "G-3"
    ),
    "measure-without-target": Case(
        _set("measures", "M-3", target=None), "measure-without-target", "measures", "target", "M-3"
    ),
    "step-without-owner": Case(
        _set("steps", "A-4", responsible="  "), "step-without-owner", "steps", "responsible", "A-4"
    ),
    "step-without-due-date": Case(
        _set("steps", "A-5", due_date=None), "step-without-due-date", "steps", "due_date", "A-5"
    ),
    "step-not-serving-goal (No)": Case(
        _set("steps", "A-1", serves_goal=schema.SERVES_GOAL_NO), "step-not-serving-goal", "steps", "serves_goal", "A-1"
    ),
    "step-not-serving-goal (Partly, not saying how)": Case(
        _set("steps", "A-3", how_it_serves=None), "step-not-serving-goal", "steps", "how_it_serves", "A-3"
    ),
    "step-dates-reversed": Case(
        _set("steps", "A-4", start_date=dt.date(2027, 10, 1)), "step-dates-reversed", "steps", "start_date", "A-4"
    ),
    "plan-review-overdue": Case(
        _set_coalition(last_reviewed=AS_OF - dt.timedelta(days=schema.FREQUENCY_DAYS[SHORTEST_FREQUENCY] + 1)),
        "plan-review-overdue",
        None,
        "last_reviewed",
        None,
    ),
    "plan-review-overdue (never reviewed)": Case(
        _set_coalition(last_reviewed=None), "plan-review-overdue", None, "last_reviewed", None
    ),
    "step-outside-plan-period (after end)": Case(
        _set("steps", "A-1", due_date=PLAN_END + dt.timedelta(days=1)),
        "step-outside-plan-period",
        "steps",
        "due_date",
        "A-1",
    ),
    "step-outside-plan-period (before start)": Case(
        _set_coalition(plan_start=dt.date(2027, 7, 1)), "step-outside-plan-period", "steps", "due_date", "A-1"
    ),
    "measure-stale": Case(
        _set("measures", "M-2", latest_as_of=dt.date(2026, 12, 1)), "measure-stale", "measures", "latest_as_of", "M-2"
    ),
    "measure-stale (never read)": Case(
        _set("measures", "M-4", latest_as_of=None, latest_value=None),
        "measure-stale",
        "measures",
        "latest_as_of",
        "M-4",
    ),
    "measure-without-baseline": Case(
        _set("measures", "M-1", baseline=None), "measure-without-baseline", "measures", "baseline", "M-1"
    ),
}


def test_clean_plan_gives_no_finding_at_all() -> None:
    assert check(clean_plan(), AS_OF) == []


def test_check_computes_every_catalogue_rule_the_reader_does_not() -> None:
    slugs = {r.slug for r in catalogue.RULES}
    assert set(COMPUTED) == slugs - READER_RULES
    assert {c.rule for c in CASES.values()} == set(COMPUTED)


def test_choice_constants_are_choices_of_their_columns() -> None:
    serves = schema.CHOICES["serves_goal"]
    assert {schema.SERVES_GOAL_YES, schema.SERVES_GOAL_PARTLY, schema.SERVES_GOAL_NO} <= set(serves)
    assert schema.RESOURCES_SECURED_NO in schema.CHOICES["resources_secured"]


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_one_break_gives_its_one_finding(case: Case) -> None:
    plan = clean_plan()
    case.mutate(plan)
    findings = check(plan, AS_OF)
    assert [f.rule for f in findings] == [case.rule]
    found = findings[0]
    rule = catalogue.rule(case.rule)
    assert (found.severity, found.fix) == (rule.severity, rule.fix)
    assert found.id == case.id
    if case.sheet is None:
        assert found.sheet == schema.COALITION_SHEET
        assert found.cell == plan.source.coalition_cells[case.column]
    else:
        assert found.sheet == schema.sheet(case.sheet).name
        rows = [r for r in plan.rows(case.sheet) if r.id == case.id]
        row = rows[-1].row  # a duplicate is reported on the later row
        assert found.cell == plan.source.cell(case.sheet, case.column, row)
        assert case.id in found.message  # the message names the row
    assert "\n" not in found.message


def test_overdue_message_names_the_step_its_due_date_and_status() -> None:
    plan = clean_plan()
    step = get(plan, "steps", "A-1")
    step.values["due_date"] = dt.date(2027, 1, 31)
    (found,) = check(plan, AS_OF)
    status = step.get("status")
    assert found.message == f"Action step A-1 'Draft MOU with the housing authority' was due 2027-01-31 and is {status}"


def test_long_row_text_is_shortened_in_messages() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values.update(step="word " * 60, responsible=None)
    (found,) = check(plan, AS_OF)
    assert found.rule == "step-without-owner"
    assert "..." in found.message
    assert len(found.message) < 120


def test_goal_not_measurable_names_every_blank_part_once() -> None:
    plan = clean_plan()
    get(plan, "goals", "G-1").values.update(success_measure=None, target=None, target_date=None)
    (found,) = check(plan, AS_OF)
    goals = schema.sheet("goals")
    assert found.cell == plan.source.cell("goals", "success_measure", get(plan, "goals", "G-1").row)
    for key in ("success_measure", "target", "target_date"):
        assert goals.column(key).header in found.message


def test_a_blank_reference_is_not_also_a_broken_link() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values["improvement"] = None
    assert [f.rule for f in check(plan, AS_OF)] == ["step-without-improvement"]


@pytest.mark.parametrize("status", schema.CLOSED_STATUSES)
def test_closed_steps_are_not_held_to_time_owner_or_service(status: str) -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values.update(
        status=status,
        due_date=None,
        responsible=None,
        serves_goal=schema.SERVES_GOAL_NO,
    )
    get(plan, "steps", "A-4").values.update(status=status, start_date=None, due_date=AS_OF - dt.timedelta(days=300))
    assert check(plan, AS_OF) == []


def test_closed_steps_still_need_an_improvement_and_ordered_dates() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-3").values.update(status=DROPPED_STATUS, improvement=None)
    get(plan, "steps", "A-2").values.update(start_date=dt.date(2027, 2, 1))  # A-2 is complete
    assert sorted(f.rule for f in check(plan, AS_OF)) == ["step-dates-reversed", "step-without-improvement"]


def test_a_step_with_no_status_that_is_past_due_is_overdue() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values.update(status=None, due_date=dt.date(2027, 2, 1))
    (found,) = check(plan, AS_OF)
    assert found.rule == "step-overdue"
    assert found.message == f"{_named(plan, 'steps', 'A-1')} was due 2027-02-01 and has no status"


def test_due_today_is_not_overdue() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values["due_date"] = AS_OF
    assert check(plan, AS_OF) == []
    assert [f.rule for f in check(plan, AS_OF + dt.timedelta(days=1))] == ["step-overdue"]


@pytest.mark.parametrize("secured", SECURED_OK)
def test_resources_partly_or_fully_secured_or_not_needed_pass(secured: str) -> None:
    plan = clean_plan()
    get(plan, "improvements", "I-1").values["resources_secured"] = secured
    assert check(plan, AS_OF) == []


def test_no_resources_needed_means_nothing_to_secure() -> None:
    plan = clean_plan()
    get(plan, "improvements", "I-1").values.update(resources_needed=None, resources_secured=None)
    assert check(plan, AS_OF) == []


def test_partly_serving_step_that_says_how_passes_and_yes_needs_no_explanation() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values["how_it_serves"] = None  # A-1 serves Yes
    assert check(plan, AS_OF) == []


def test_plan_review_follows_the_cadence() -> None:
    longest = FREQUENCIES[-1]
    days = schema.FREQUENCY_DAYS[longest]
    plan = clean_plan()
    plan.coalition.update(review_cadence=longest, last_reviewed=AS_OF - dt.timedelta(days=days))
    assert check(plan, AS_OF) == []  # exactly one cadence ago: due today, not overdue
    plan.coalition["last_reviewed"] = AS_OF - dt.timedelta(days=days + 1)
    (found,) = check(plan, AS_OF)
    assert found.rule == "plan-review-overdue"
    assert longest in found.message


def test_a_young_plan_never_reviewed_is_not_overdue() -> None:
    plan = clean_plan()
    plan.coalition.update(last_reviewed=None, plan_start=AS_OF - dt.timedelta(days=5))
    assert check(plan, AS_OF) == []


def test_no_review_finding_without_a_cadence_or_any_date() -> None:
    plan = clean_plan()
    plan.coalition.update(review_cadence=None, last_reviewed=dt.date(2020, 1, 1))
    assert check(plan, AS_OF) == []
    plan.coalition.update(review_cadence=SHORTEST_FREQUENCY, last_reviewed=None, plan_start=None)
    assert check(plan, AS_OF) == []


def test_unreadable_dates_left_as_text_are_for_the_reader_to_report() -> None:
    plan = clean_plan()
    plan.coalition["last_reviewed"] = "last spring"
    get(plan, "measures", "M-1").values["latest_as_of"] = "TBD"
    get(plan, "steps", "A-1").values.update(due_date="end of Q2", start_date="soon")
    assert check(plan, AS_OF) == []


def test_invalid_choices_left_as_text_do_not_trigger_blank_rules() -> None:
    plan = clean_plan()
    get(plan, "improvements", "I-1").values["mechanism"] = "Memo from the sheriff"
    get(plan, "steps", "A-1").values["serves_goal"] = "Sort of"
    assert check(plan, AS_OF) == []


def test_measure_without_frequency_is_never_stale() -> None:
    plan = clean_plan()
    get(plan, "measures", "M-1").values.update(reporting_frequency=None, latest_as_of=dt.date(2020, 1, 1))
    assert check(plan, AS_OF) == []


def test_datetimes_are_read_by_their_day() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values["due_date"] = dt.datetime(2027, 2, 28, 17, 30)
    (found,) = check(plan, AS_OF)
    assert found.rule == "step-overdue"
    assert "2027-02-28" in found.message


def test_rows_without_an_id_are_checked_and_named_by_row() -> None:
    plan = clean_plan()
    rec = add_step(plan, None, "I-1", "Call the landlords", responsible=None)  # type: ignore[arg-type]
    orphan_goal = add_goal(plan, None, "P-1", "A goal nobody can name yet")  # type: ignore[arg-type]
    findings = check(plan, AS_OF)
    assert [(f.rule, f.id) for f in findings] == [("step-without-owner", None)]
    assert f"row {rec.row}" in findings[0].message
    assert findings[0].cell == plan.source.cell("steps", "responsible", rec.row)
    assert orphan_goal.row  # an ID-less goal is not asked for improvements: nothing can name it yet


def test_each_duplicate_after_the_first_is_reported_and_children_count_for_both() -> None:
    plan = clean_plan()
    first = get(plan, "goals", "G-2")
    second = add_goal(plan, "G-2", "P-2", "Same ID, other goal")
    third = add_goal(plan, "G-2", "P-2", "And again")
    findings = check(plan, AS_OF)
    assert [(f.rule, f.cell) for f in findings] == [
        ("duplicate-id", plan.source.cell("goals", "id", second.row)),
        ("duplicate-id", plan.source.cell("goals", "id", third.row)),
    ]
    assert f"row {first.row}" in findings[0].message


def test_broken_links_are_reported_on_each_child_and_not_as_missing_children() -> None:
    plan = clean_plan()
    get(plan, "improvements", "I-2").values["goal"] = "G-20"
    rules = sorted((f.rule, f.id) for f in check(plan, AS_OF))
    # G-2 loses its only improvement, I-2's link is broken.
    assert rules == [("broken-link", "I-2"), ("goal-without-improvement", "G-2")]


def test_findings_come_in_sheet_then_row_order() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-5").values["responsible"] = None
    get(plan, "steps", "A-1").values["due_date"] = None
    get(plan, "goals", "G-2").values["target"] = None
    plan.coalition["last_reviewed"] = dt.date(2020, 1, 1)
    assert [(f.sheet, f.id) for f in check(plan, AS_OF)] == [
        (schema.COALITION_SHEET, None),
        (schema.sheet("goals").name, "G-2"),
        (schema.sheet("steps").name, "A-1"),
        (schema.sheet("steps").name, "A-5"),
    ]


def test_a_large_plan_is_checked_in_one_pass() -> None:
    plan = clean_plan()
    n = 20_000
    for i in range(n):
        add(
            plan,
            "steps",
            f"A-{100 + i}",
            improvement="I-1" if i % 2 else "I-999",
            step=f"Step {i}",
            serves_goal=schema.SERVES_GOAL_YES,
            responsible=f"Person {i % 50}",
            due_date=PLAN_START + dt.timedelta(days=400),
            status=schema.COMPLETE_STATUS,
        )
    findings = check(plan, AS_OF)
    assert len(findings) == n // 2
    assert {f.rule for f in findings} == {"broken-link"}


# --- boundaries: each pinned on both sides ------------------------------------------------------------------


def _noun(sheet_key: str) -> str:
    sheet = schema.sheet(sheet_key)
    return sheet.column(sheet.label).header


def _header(sheet_key: str, column_key: str) -> str:
    return schema.sheet(sheet_key).column(column_key).header


def _named(plan: Plan, sheet_key: str, id: str, text: str | None = None) -> str:
    """How a message names a row of the clean plan: its noun, ID and (short) text."""
    sheet = schema.sheet(sheet_key)
    return f"{_noun(sheet_key)} {id} '{text or get(plan, sheet_key, id).get(sheet.label)}'"


def _sheet_name(sheet_key: str) -> str:
    return schema.sheet(sheet_key).name


# Each case's message, word for word: what the coordinator reads in the report and the summary sheet.
MESSAGES: dict[str, Callable[[Plan], str]] = {
    "duplicate-id": lambda p: (
        f"{_named(p, 'priorities', 'P-1', 'Housing, again')} repeats the ID of {_sheet_name('priorities')} row "
        f"{get(p, 'priorities', 'P-1').row}"
    ),
    "broken-link (deleted row)": lambda p: (
        f"{_named(p, 'steps', 'A-1')} names 'I-9', but {_sheet_name('improvements')} has no such row"
    ),
    "broken-link (text naming nothing)": lambda p: (
        f"{_named(p, 'goals', 'G-3')} names 'Jobs for everyone', but {_sheet_name('priorities')} has no such row"
    ),
    "broken-link (measure)": lambda p: (
        f"{_named(p, 'measures', 'M-1')} names 'I-40', but {_sheet_name('improvements')} has no such row"
    ),
    "step-without-improvement": lambda p: (
        f"{_named(p, 'steps', 'A-3')} leaves '{_header('steps', 'improvement')}' blank, so it serves no "
        f"{_noun('improvements').lower()}"
    ),
    "improvement-without-goal": lambda p: (
        f"{_named(p, 'improvements', 'I-4')} leaves '{_header('improvements', 'goal')}' blank, so it serves no "
        f"{_noun('goals').lower()}"
    ),
    "goal-without-improvement": lambda p: (
        f"{_named(p, 'goals', 'G-3')} has no {_noun('improvements').lower()}: no row of "
        f"{_sheet_name('improvements')} names G-3"
    ),
    "step-overdue": lambda p: (
        f"{_named(p, 'steps', 'A-1')} was due {AS_OF - dt.timedelta(days=1)} and is "
        f"{get(p, 'steps', 'A-1').get('status')}"
    ),
    "goal-without-priority": lambda p: (
        f"{_named(p, 'goals', 'G-3')} leaves '{_header('goals', 'priority')}' blank, so it serves no "
        f"{_noun('priorities').lower()}"
    ),
    "priority-without-goal": lambda p: (
        f"{_named(p, 'priorities', 'P-2')} has no {_noun('goals').lower()}: no row of {_sheet_name('goals')} names P-2"
    ),
    "improvement-without-step": lambda p: (
        f"{_named(p, 'improvements', 'I-2')} has no {_noun('steps').lower()}: no row of {_sheet_name('steps')} "
        "names I-2"
    ),
    "improvement-without-measure": lambda p: (
        f"{_named(p, 'improvements', 'I-2')} has no {_noun('measures').lower()}: no row of "
        f"{_sheet_name('measures')} names I-2"
    ),
    "improvement-without-mechanism": lambda p: (
        f"{_named(p, 'improvements', 'I-1')} leaves '{_header('improvements', 'mechanism')}' blank"
    ),
    "improvement-without-stakeholder": lambda p: (
        f"{_named(p, 'improvements', 'I-1')} leaves '{_header('improvements', 'stakeholders')}' blank"
    ),
    "resources-unsecured (blank)": lambda p: (
        f"{_named(p, 'improvements', 'I-1')} needs 'One case manager' but "
        f"'{_header('improvements', 'resources_secured')}' is blank"
    ),
    "resources-unsecured (No)": lambda p: (
        f"{_named(p, 'improvements', 'I-4')} needs 'One case manager' but "
        f"'{_header('improvements', 'resources_secured')}' is {schema.RESOURCES_SECURED_NO}"
    ),
    "resources-without-cost (blank)": lambda p: (
        f"{_named(p, 'improvements', 'I-1')} needs resources but "
        f"'{_header('improvements', 'estimated_cost')}' is blank"
    ),
    "resources-without-cost (text)": lambda p: (
        f"{_named(p, 'improvements', 'I-1')} needs resources but "
        f"'{_header('improvements', 'estimated_cost')}' is 'TBD', not a sum"
    ),
    "goal-not-measurable (target)": lambda p: (
        f"{_named(p, 'goals', 'G-1')} is not measurable: '{_header('goals', 'target')}' is blank"
    ),
    # The goal's text is over the quoting limit: cut, with "..." to say so.
    "goal-not-measurable (target date)": lambda p: (
        f"{_named(p, 'goals', 'G-2', 'Two in three people employed within 90 days o...')} is not measurable: "
        f"'{_header('goals', 'target_date')}' is blank"
    ),
    "goal-not-measurable (success measure)": lambda p: (
        f"{_named(p, 'goals', 'G-3')} is not measurable: '{_header('goals', 'success_measure')}' is blank"
    ),
    "measure-without-target": lambda p: (
        f"{_named(p, 'measures', 'M-3')} leaves '{_header('measures', 'target')}' blank"
    ),
    "step-without-owner": lambda p: f"{_named(p, 'steps', 'A-4')} leaves '{_header('steps', 'responsible')}' blank",
    "step-without-due-date": lambda p: f"{_named(p, 'steps', 'A-5')} leaves '{_header('steps', 'due_date')}' blank",
    "step-not-serving-goal (No)": lambda p: (
        f"{_named(p, 'steps', 'A-1')} is marked {schema.SERVES_GOAL_NO} under '{_header('steps', 'serves_goal')}'"
    ),
    "step-not-serving-goal (Partly, not saying how)": lambda p: (
        f"{_named(p, 'steps', 'A-3')} is marked {schema.SERVES_GOAL_PARTLY} but "
        f"'{_header('steps', 'how_it_serves')}' is blank"
    ),
    "step-dates-reversed": lambda p: f"{_named(p, 'steps', 'A-4')} starts 2027-10-01, after its due date 2027-09-30",
    "plan-review-overdue": lambda p: (
        f"The plan was last reviewed {p.coalition['last_reviewed']}; with a {SHORTEST_FREQUENCY} review cadence "
        f"the next review was due by {AS_OF - dt.timedelta(days=1)}"
    ),
    "plan-review-overdue (never reviewed)": lambda p: (
        f"'{schema.coalition_field('last_reviewed').label}' is blank and the plan started {PLAN_START}; with a "
        f"{SHORTEST_FREQUENCY} review cadence the first review was due by "
        f"{PLAN_START + dt.timedelta(days=schema.FREQUENCY_DAYS[SHORTEST_FREQUENCY])}"
    ),
    "step-outside-plan-period (after end)": lambda p: (
        f"{_named(p, 'steps', 'A-1')} is due {PLAN_END + dt.timedelta(days=1)}, after the plan ends {PLAN_END}"
    ),
    "step-outside-plan-period (before start)": lambda p: (
        f"{_named(p, 'steps', 'A-1')} is due 2027-06-30, before the plan starts 2027-07-01"
    ),
    "measure-stale": lambda p: (
        f"{_named(p, 'measures', 'M-2')} was last read 2026-12-01; a new reading was due by "
        f"{dt.date(2026, 12, 1) + dt.timedelta(days=schema.FREQUENCY_DAYS[SHORTEST_FREQUENCY])} ({SHORTEST_FREQUENCY})"
    ),
    "measure-stale (never read)": lambda p: (
        f"{_named(p, 'measures', 'M-4')} has no reading yet; one was due by "
        f"{PLAN_START + dt.timedelta(days=schema.FREQUENCY_DAYS[SHORTEST_FREQUENCY])} ({SHORTEST_FREQUENCY})"
    ),
    "measure-without-baseline": lambda p: (
        f"{_named(p, 'measures', 'M-1')} leaves '{_header('measures', 'baseline')}' blank"
    ),
}


def test_every_case_has_its_message() -> None:
    assert set(MESSAGES) == set(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_each_rule_says_its_message_once_word_for_word(name: str) -> None:
    plan = clean_plan()
    CASES[name].mutate(plan)
    (found,) = check(plan, AS_OF)
    assert found.message == MESSAGES[name](plan)


def test_a_step_that_starts_on_its_due_day_is_not_reversed() -> None:
    plan = clean_plan()
    step = get(plan, "steps", "A-4")
    step.values["start_date"] = step.get("due_date")
    assert check(plan, AS_OF) == []
    step.values["start_date"] = step.get("due_date") + dt.timedelta(days=1)
    assert [f.rule for f in check(plan, AS_OF)] == ["step-dates-reversed"]


def test_a_step_due_on_the_plans_first_day_is_inside_the_plan_period() -> None:
    plan = clean_plan()
    due = get(plan, "steps", "A-1").get("due_date")  # the first due date of the open steps
    plan.coalition["plan_start"] = due
    assert check(plan, AS_OF) == []
    plan.coalition["plan_start"] = due + dt.timedelta(days=1)
    assert [(f.rule, f.id) for f in check(plan, AS_OF)] == [("step-outside-plan-period", "A-1")]


def test_a_step_due_on_the_plans_last_day_is_inside_the_plan_period() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-5").values["due_date"] = PLAN_END
    assert check(plan, AS_OF) == []
    plan.coalition["plan_end"] = PLAN_END - dt.timedelta(days=1)
    assert [(f.rule, f.id) for f in check(plan, AS_OF)] == [("step-outside-plan-period", "A-5")]


def test_either_bound_of_the_plan_period_is_enough_alone() -> None:
    plan = clean_plan()
    plan.coalition.update(plan_start=None, plan_end=dt.date(2027, 12, 30))
    assert [(f.rule, f.id) for f in check(plan, AS_OF)] == [("step-outside-plan-period", "A-5")]
    plan.coalition.update(plan_start=dt.date(2027, 7, 1), plan_end=None)
    assert [(f.rule, f.id) for f in check(plan, AS_OF)] == [("step-outside-plan-period", "A-1")]


def test_a_closed_step_is_never_outside_the_plan_period() -> None:
    plan = clean_plan()
    early = PLAN_START - dt.timedelta(days=1)
    get(plan, "steps", "A-2").values.update(start_date=early, due_date=early)  # A-2 is complete
    assert check(plan, AS_OF) == []


def test_two_rows_without_an_id_on_one_sheet_are_not_duplicates_of_each_other() -> None:
    plan = clean_plan()
    for _ in range(2):
        add_step(plan, None, "I-1", "Call the landlords")  # type: ignore[arg-type]
        add_priority(plan, None, "Transport")  # type: ignore[arg-type]
    assert check(plan, AS_OF) == []


def test_a_duplicate_names_the_first_row_of_its_id_not_the_previous_duplicate() -> None:
    plan = clean_plan()
    first = get(plan, "priorities", "P-2")
    for text in ("Employment, again", "Employment, a third time"):
        add_priority(plan, "P-2", text)
    messages = [f.message for f in check(plan, AS_OF)]
    assert len(messages) == 2
    assert all(m.endswith(f"repeats the ID of {_sheet_name('priorities')} row {first.row}") for m in messages)


def test_a_duplicate_of_a_row_without_a_worksheet_row_says_another_row() -> None:
    plan = clean_plan()
    get(plan, "priorities", "P-2").row = 0  # a row built in code, not read from a worksheet
    add_priority(plan, "P-2", "Employment, again")
    (found,) = check(plan, AS_OF)
    assert found.message.endswith(f"repeats the ID of another row of {_sheet_name('priorities')}")


def test_a_row_without_an_id_or_worksheet_row_is_named_by_its_text() -> None:
    plan = clean_plan()
    rec = add_step(plan, None, "I-1", "Call the landlords", responsible=None)  # type: ignore[arg-type]
    rec.row = 0
    (found,) = check(plan, AS_OF)
    responsible = _header("steps", "responsible")
    assert found.message == f"{_noun('steps')} without an ID 'Call the landlords' leaves '{responsible}' blank"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("x" * 48, "x" * 48),  # at the limit: whole
        ("x" * 49, "x" * 45 + "..."),  # one over: cut, and says so
        ("word " * 9 + "end of it", "word " * 8 + "word..."),  # cut at 45, spaces before the dots dropped
        ("Two\nlines  and   spaces", "Two lines and spaces"),  # on one line
    ],
)
def test_quoted_row_text_is_cut_at_the_limit_and_says_so(text: str, quoted: str) -> None:
    plan = clean_plan()
    get(plan, "steps", "A-4").values.update(step=text, responsible=None)
    (found,) = check(plan, AS_OF)
    assert found.message == f"{_noun('steps')} A-4 '{quoted}' leaves '{_header('steps', 'responsible')}' blank"


def test_a_row_with_blank_text_is_named_by_its_id_alone() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-4").values.update(step="  ", responsible=None)
    (found,) = check(plan, AS_OF)
    assert found.message == f"{_noun('steps')} A-4 leaves '{_header('steps', 'responsible')}' blank"


@pytest.mark.parametrize(
    ("needed", "quoted"),
    [
        ("Two case managers, a van", "Two case managers, a van"),  # 24 characters: whole
        ("Two case managers, a van.", "Two case managers, a..."),  # 25: cut
        ("Two case managers and a van", "Two case managers and..."),
    ],
)
def test_resources_quoted_in_a_message_are_cut_at_24_characters(needed: str, quoted: str) -> None:
    plan = clean_plan()
    improvement = get(plan, "improvements", "I-1")
    improvement.values.update(resources_needed=needed, resources_secured=None)
    (found,) = check(plan, AS_OF)
    secured = _header("improvements", "resources_secured")
    assert found.message == f"{_named(plan, 'improvements', 'I-1')} needs '{quoted}' but '{secured}' is blank"


@pytest.mark.parametrize(
    ("blank", "said"),
    [
        (("target", "target_date"), "'{target}' and '{target_date}' are blank"),
        (("success_measure", "target_date"), "'{success_measure}' and '{target_date}' are blank"),
        (
            ("success_measure", "target", "target_date"),
            "'{success_measure}' and '{target}' and '{target_date}' are blank",
        ),
        (("target_date",), "'{target_date}' is blank"),
    ],
)
def test_goal_not_measurable_says_is_for_one_blank_and_are_for_several(blank: tuple[str, ...], said: str) -> None:
    plan = clean_plan()
    goal = get(plan, "goals", "G-1")
    goal.values.update({key: None for key in blank})
    (found,) = check(plan, AS_OF)
    headers = {key: _header("goals", key) for key in ("success_measure", "target", "target_date")}
    assert found.message == f"{_named(plan, 'goals', 'G-1')} is not measurable: {said.format(**headers)}"
    assert found.cell == plan.source.cell("goals", blank[0], goal.row)


def test_a_measure_read_exactly_one_period_ago_is_not_stale() -> None:
    days = schema.FREQUENCY_DAYS[SHORTEST_FREQUENCY]
    plan = clean_plan()
    measure = get(plan, "measures", "M-2")
    measure.values["latest_as_of"] = AS_OF - dt.timedelta(days=days)
    assert check(plan, AS_OF) == []
    measure.values["latest_as_of"] = AS_OF - dt.timedelta(days=days + 1)
    assert [(f.rule, f.id) for f in check(plan, AS_OF)] == [("measure-stale", "M-2")]


def test_a_measure_never_read_in_a_young_plan_is_not_stale() -> None:
    days = schema.FREQUENCY_DAYS[SHORTEST_FREQUENCY]
    plan = clean_plan()
    get(plan, "measures", "M-4").values["latest_as_of"] = None
    plan.coalition["plan_start"] = AS_OF - dt.timedelta(days=days)
    assert check(plan, AS_OF) == []
    plan.coalition["plan_start"] = AS_OF - dt.timedelta(days=days + 1)
    assert [(f.rule, f.id) for f in check(plan, AS_OF)] == [("measure-stale", "M-4")]


# --- the helpers the rules and the figures share -----------------------------------------------------------


def test_an_open_step_without_a_due_date_lacks_one_and_a_closed_step_never_does() -> None:
    plan = clean_plan()
    step = get(plan, "steps", "A-1")
    assert not step.lacks_due_date()
    for blank in (None, "", "   "):
        step.values["due_date"] = blank
        assert step.lacks_due_date()
    for status in schema.CLOSED_STATUSES:
        step.values["status"] = status
        assert not step.lacks_due_date()


def test_a_step_is_overdue_from_the_day_after_its_due_date_while_it_is_open() -> None:
    plan = clean_plan()
    step = get(plan, "steps", "A-1")
    due = step.get("due_date")
    assert not step.is_overdue(due)
    assert step.is_overdue(due + dt.timedelta(days=1))
    step.values["status"] = schema.COMPLETE_STATUS
    assert not step.is_overdue(due + dt.timedelta(days=1))
    step.values.update(status=OPEN_STATUS, due_date="end of June")  # unreadable: the reader reports it
    assert not step.is_overdue(due + dt.timedelta(days=1))


@pytest.mark.parametrize(("cell", "row"), [("J7", 7), ("AB120", 120), ("$C$12", 12), ("", 0), (None, 0)])
def test_a_cell_reference_gives_its_worksheet_row(cell: str | None, row: int) -> None:
    assert cell_row(cell) == row  # type: ignore[arg-type]


def test_findings_on_a_sheet_the_plan_does_not_declare_come_after_the_plan_sheets() -> None:
    def finding(sheet: str, cell: str) -> Finding:
        return Finding("missing-id", "warning", sheet, cell, None, "m", "f")

    last_declared = schema.SHEET_ORDER[-1]
    assert location_key(finding(schema.COALITION_SHEET, "")) == (schema.SHEET_ORDER.index(schema.COALITION_SHEET), 0)
    assert location_key(finding("Maria's notes", "B3")) == (len(schema.SHEET_ORDER), 3)
    assert location_key(finding(last_declared, "A900")) < location_key(finding("Maria's notes", "A1"))


def test_a_reference_held_as_a_number_is_read_as_its_text() -> None:
    plan = clean_plan()
    step = get(plan, "steps", "A-1")
    for value, text in ((7, "7"), (7.5, "7.5"), ("  I-1 ", "I-1"), ("   ", None), (None, None)):
        step.values["improvement"] = value
        assert step.reference("improvement") == text
    step.values["improvement"] = 7
    (found,) = check(plan, AS_OF)
    assert (found.rule, found.message) == (
        "broken-link",
        f"{_named(plan, 'steps', 'A-1')} names '7', but {_sheet_name('improvements')} has no such row",
    )


def test_a_coalition_finding_without_a_cell_points_at_no_cell() -> None:
    plan = clean_plan()
    plan.coalition["last_reviewed"] = None
    del plan.source.coalition_cells["last_reviewed"]  # the Coalition sheet has no Last reviewed row
    (found,) = check(plan, AS_OF)
    assert (found.rule, found.sheet, found.cell, found.id) == ("plan-review-overdue", schema.COALITION_SHEET, "", None)


def test_a_frequency_that_is_not_a_choice_never_makes_anything_overdue() -> None:
    plan = clean_plan()
    plan.coalition.update(review_cadence=30, last_reviewed=dt.date(2020, 1, 1))
    get(plan, "measures", "M-1").values.update(reporting_frequency="Every blue moon", latest_as_of=dt.date(2020, 1, 1))
    assert check(plan, AS_OF) == []


def test_findings_about_a_whole_row_point_at_its_id_cell_wherever_the_member_moved_it() -> None:
    plan = clean_plan()
    for sheet_key in ("priorities", "goals", "improvements"):
        plan.source.columns[sheet_key]["id"] = "F"  # the ID column dragged to the right
    add_priority(plan, "P-1", "Housing, again")
    get(plan, "goals", "G-2").values["priority"] = "P-1"  # P-2 loses its goal
    get(plan, "steps", "A-2").values["improvement"] = "I-1"  # I-2 loses its step
    found = [(f.rule, f.cell) for f in check(plan, AS_OF)]
    p2, i2 = get(plan, "priorities", "P-2"), get(plan, "improvements", "I-2")
    assert found == [
        ("priority-without-goal", f"F{p2.row}"),
        ("duplicate-id", f"F{plan.rows('priorities')[-1].row}"),
        ("improvement-without-step", f"F{i2.row}"),
    ]


def test_a_row_without_an_id_does_not_hide_the_duplicates_after_it() -> None:
    plan = clean_plan()
    add_priority(plan, None, "Transport")  # type: ignore[arg-type]
    add_priority(plan, "P-2", "Employment, again")
    assert [(f.rule, f.id) for f in check(plan, AS_OF)] == [("duplicate-id", "P-2")]


def test_an_unreadable_reading_date_does_not_hide_the_stale_measures_after_it() -> None:
    plan = clean_plan()
    get(plan, "measures", "M-1").values["latest_as_of"] = "TBD"
    get(plan, "measures", "M-2").values["latest_as_of"] = dt.date(2026, 12, 1)
    assert [(f.rule, f.id) for f in check(plan, AS_OF)] == [("measure-stale", "M-2")]


def test_a_closed_step_does_not_hide_the_open_steps_after_it_from_the_owner_rule() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-2").values.update(responsible=None, due_date=None)  # A-2 is complete
    get(plan, "steps", "A-4").values.update(responsible=None, due_date=None)
    found = [(f.rule, f.id) for f in check(plan, AS_OF)]
    assert found == [("step-without-owner", "A-4"), ("step-without-due-date", "A-4")]


def test_a_reference_cell_holding_a_formula_or_an_error_is_for_the_reader_to_report() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-3").values["improvement"] = Unknown(FORMULA, "B2")
    get(plan, "goals", "G-3").values["priority"] = Unknown(ERROR_VALUE, "#REF!")
    assert check(plan, AS_OF) == []


def test_a_measure_that_names_no_improvement_has_no_rule_of_its_own() -> None:
    plan = clean_plan()
    get(plan, "measures", "M-5").values["improvement"] = None  # I-1 keeps M-1: completeness counts the blank
    assert check(plan, AS_OF) == []


def test_resources_marked_not_needed_need_no_cost() -> None:
    plan = clean_plan()
    get(plan, "improvements", "I-1").values.update(estimated_cost=None, resources_secured=schema.RESOURCES_NOT_NEEDED)
    assert check(plan, AS_OF) == []


def test_a_cost_cell_holding_a_formula_is_for_the_reader_to_report() -> None:
    plan = clean_plan()
    get(plan, "improvements", "I-1").values["estimated_cost"] = Unknown(FORMULA, "B2*12")
    assert check(plan, AS_OF) == []


def test_a_cost_that_is_not_a_sum_is_quoted_cut_at_24_characters() -> None:
    plan = clean_plan()
    get(plan, "improvements", "I-1").values["estimated_cost"] = "about fifty thousand dollars a year"
    (found,) = check(plan, AS_OF)
    cost = _header("improvements", "estimated_cost")
    assert (found.rule, found.message) == (
        "resources-without-cost",
        f"{_named(plan, 'improvements', 'I-1')} needs resources but '{cost}' is 'about fifty thousand...', not a sum",
    )
