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

from reentry_workbook.audit.rules import COMPUTED, check
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.plan.model import Plan

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
    assert "no status" in found.message


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
