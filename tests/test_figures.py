"""Headline figures, the per-goal and per-responsible tables, and the order of findings in the report."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from plans import AS_OF, add_goal, add_step, clean_plan, empty_plan, get

from reentry_workbook.audit.figures import NO_ONE, build_report
from reentry_workbook.audit.report import Report
from reentry_workbook.audit.rules import check
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.plan.model import Finding, Plan

AUDITED_AT = dt.datetime(2027, 3, 1, 9, 30, 15)


def report_of(plan: Plan, extra: list[Finding] | None = None) -> Report:
    return build_report(plan, [*check(plan, AS_OF), *(extra or [])], as_of=AS_OF, audited_at=AUDITED_AT)


def reader_finding(plan: Plan, slug: str, sheet_key: str, id: str, column_key: str) -> Finding:
    """A finding shaped like the reader's, on a row of the plan."""
    rule = catalogue.rule(slug)
    cell = plan.source.cell(sheet_key, column_key, get(plan, sheet_key, id).row)
    return Finding(slug, rule.severity, schema.sheet(sheet_key).name, cell, id, "as the reader says", rule.fix)


def test_clean_plan_summary() -> None:
    plan = clean_plan()
    summary = report_of(plan).summary
    assert summary.alignment == 1.0
    assert summary.completeness == 1.0
    assert (summary.steps, summary.steps_aligned) == (len(plan.rows("steps")), len(plan.rows("steps")))
    assert summary.counts == {s: 0 for s in catalogue.SEVERITIES}
    assert summary.rule_counts == {}
    assert summary.file == plan.source.file
    assert summary.coalition == plan.coalition["name"]
    assert summary.template_version == schema.TEMPLATE_VERSION
    assert summary.as_of == AS_OF
    assert summary.audited_at == AUDITED_AT


def test_audited_at_defaults_to_now_in_whole_seconds() -> None:
    before = dt.datetime.now().replace(microsecond=0)
    report = build_report(clean_plan(), [], as_of=AS_OF)
    assert report.summary.audited_at.microsecond == 0
    assert report.summary.audited_at >= before


def test_alignment_counts_steps_whose_whole_chain_holds_and_not_marked_no() -> None:
    plan = clean_plan()
    assert len(plan.rows("steps")) == 5
    get(plan, "steps", "A-1").values["serves_goal"] = schema.SERVES_GOAL_NO  # marked not serving
    get(plan, "steps", "A-4").values["improvement"] = "I-9"  # names a row that does not exist
    get(plan, "goals", "G-2").values["priority"] = None  # A-2's goal serves no priority
    summary = report_of(plan).summary
    assert (summary.steps_aligned, summary.steps) == (2, 5)  # A-3 (marked Partly) and A-5 hold
    assert summary.alignment == pytest.approx(0.4)


def test_alignment_breaks_where_a_middle_link_is_broken() -> None:
    plan = clean_plan()
    get(plan, "improvements", "I-4").values["goal"] = "G-77"
    get(plan, "goals", "G-3").values["priority"] = "P-9"
    summary = report_of(plan).summary
    assert summary.steps_aligned == 3  # A-4 (via G-3) and A-5 (via I-4) fall out


def test_alignment_is_none_without_steps() -> None:
    plan = clean_plan()
    plan.rows("steps").clear()
    summary = report_of(plan).summary
    assert summary.alignment is None
    assert summary.steps == 0


def test_completeness_is_the_share_of_required_cells_filled() -> None:
    plan = empty_plan(jurisdiction=None)
    add_goal(plan, "G-1", "P-1", "A goal", target=None, target_date=None)
    n_fields = sum(f.required for f in schema.COALITION_FIELDS)
    n_goal = sum(c.required for c in schema.sheet("goals").columns)
    total = n_fields + n_goal
    assert report_of(plan).summary.completeness == pytest.approx((total - 3) / total)


def test_completeness_ignores_derived_and_optional_columns() -> None:
    plan = clean_plan()
    for step in plan.rows("steps"):
        step.values.update(goal=None, notes=None, start_date=None, resources_needed=None)
    assert report_of(plan).summary.completeness == 1.0


def test_counts_by_severity_and_by_rule_in_catalogue_order() -> None:
    plan = clean_plan()
    get(plan, "measures", "M-1").values["baseline"] = None  # info
    get(plan, "steps", "A-1").values["due_date"] = dt.date(2027, 2, 2)  # error
    get(plan, "steps", "A-4").values["due_date"] = dt.date(2027, 2, 3)  # error
    get(plan, "steps", "A-5").values["responsible"] = None  # warning
    report = report_of(plan)
    assert report.summary.counts == {"error": 2, "warning": 1, "info": 1}
    order = [r.slug for r in catalogue.RULES]
    assert report.summary.rule_counts == {"step-overdue": 2, "step-without-owner": 1, "measure-without-baseline": 1}
    assert list(report.summary.rule_counts) == sorted(report.summary.rule_counts, key=order.index)
    assert report.count_at_or_above("warning") == 3


def test_findings_are_sorted_by_severity_then_sheet_then_row() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-5").values["responsible"] = None  # warning, Action Steps
    get(plan, "goals", "G-2").values["target"] = None  # warning, Goals
    get(plan, "measures", "M-1").values["baseline"] = None  # info
    get(plan, "steps", "A-4").values["due_date"] = dt.date(2027, 2, 3)  # error
    get(plan, "steps", "A-1").values["start_date"] = dt.date(2027, 12, 1)  # warning, Action Steps, earlier row
    plan.coalition["last_reviewed"] = dt.date(2020, 1, 1)  # warning, Coalition
    extra = reader_finding(plan, "date-as-text", "goals", "G-1", "target_date")
    report = report_of(plan, [extra])
    assert [(f.rule, f.id) for f in report.findings] == [
        ("step-overdue", "A-4"),
        ("plan-review-overdue", None),
        ("goal-not-measurable", "G-2"),
        ("step-dates-reversed", "A-1"),
        ("step-without-owner", "A-5"),
        ("date-as-text", "G-1"),
        ("measure-without-baseline", "M-1"),
    ]


def test_report_leaves_the_given_findings_alone() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-5").values["responsible"] = None
    findings = [reader_finding(plan, "date-as-text", "goals", "G-1", "target_date"), *check(plan, AS_OF)]
    copy = list(findings)
    build_report(plan, findings, as_of=AS_OF)
    assert findings == copy


def test_per_goal_table_of_a_clean_plan() -> None:
    lines = {g.id: g for g in report_of(clean_plan()).goals}
    assert list(lines) == ["G-1", "G-2", "G-3"]
    g1 = lines["G-1"]
    assert (g1.priority, g1.improvements, g1.measures, g1.steps, g1.complete, g1.overdue) == ("P-1", 2, 3, 3, 0, 0)
    assert (g1.gaps, g1.rag) == (0, "green")
    assert g1.goal == get(clean_plan(), "goals", "G-1").get("goal")
    g2 = lines["G-2"]
    assert (g2.improvements, g2.measures, g2.steps, g2.complete) == (1, 1, 1, 1)


def test_per_goal_gaps_and_rag_follow_the_findings_of_the_goal_family() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values["due_date"] = dt.date(2027, 2, 2)  # error on a step of G-1 (via I-1)
    get(plan, "measures", "M-4").values["target"] = None  # warning on a measure of G-1 (via I-4)
    get(plan, "measures", "M-2").values["baseline"] = None  # info on G-2's measure
    extra = [
        reader_finding(plan, "invalid-choice", "steps", "A-4", "status"),  # warning on G-3's step
        Finding("unreadable-date", "warning", schema.sheet("goals").name, "", "G-3", "no cell", "fix"),  # by ID
    ]
    lines = {g.id: g for g in report_of(plan, extra).goals}
    assert (lines["G-1"].gaps, lines["G-1"].overdue, lines["G-1"].rag) == (2, 1, "red")
    assert (lines["G-2"].gaps, lines["G-2"].rag) == (1, "green")
    assert (lines["G-3"].gaps, lines["G-3"].rag) == (2, "amber")


def test_per_goal_table_with_broken_links() -> None:
    plan = clean_plan()
    get(plan, "goals", "G-2").values["priority"] = "P-7"
    get(plan, "steps", "A-2").values["improvement"] = "I-70"
    lines = {g.id: g for g in report_of(plan).goals}
    g2 = lines["G-2"]
    assert g2.priority is None  # names a priority that does not exist
    assert (g2.improvements, g2.steps, g2.complete) == (1, 0, 0)
    assert g2.rag == "red"  # broken-link on the goal itself, and I-2 has no step left
    assert g2.gaps == 2


def test_goals_without_an_id_are_left_out_and_duplicates_listed_once() -> None:
    plan = clean_plan()
    add_goal(plan, None, "P-1", "No ID yet")  # type: ignore[arg-type]
    add_goal(plan, "G-1", "P-1", "Same ID as the first goal")
    lines = report_of(plan).goals
    assert [g.id for g in lines] == ["G-1", "G-2", "G-3"]
    g1 = lines[0]
    assert g1.goal == get(plan, "goals", "G-1").get("goal")
    assert g1.rag == "red"  # the duplicate's duplicate-id counts against G-1


def test_per_responsible_table() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-3").values["due_date"] = dt.date(2027, 2, 1)  # Sam: overdue
    get(plan, "steps", "A-5").values["responsible"] = " "  # nobody
    get(plan, "steps", "A-5").values["due_date"] = None
    add_step(plan, "A-6", "I-1", "Book a room", responsible="  SAM   okafor ", due_date=None)
    add_step(plan, "A-7", "I-1", "Old idea", responsible=None, due_date=None, status=schema.COMPLETE_STATUS)
    people = report_of(plan).people
    table = [(p.responsible, p.steps, p.overdue, p.without_due_date) for p in people]
    assert table == [
        ("Maria Lopez", 3, 0, 0),  # typed "maria  LOPEZ", A-4
        ("Sam Okafor", 2, 1, 1),  # typed differently
        (NO_ONE, 2, 0, 1),  # A-5 (open, no due date) and A-7 (complete: needs none)
    ]


def test_report_is_plain_json() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values["due_date"] = dt.date(2027, 2, 2)
    data = json.loads(json.dumps(report_of(plan).to_dict()))
    assert data["summary"]["counts"] == {"error": 1, "warning": 0, "info": 0}
    assert data["summary"]["audited_at"] == AUDITED_AT.isoformat()
    assert data["findings"][0]["rule"] == "step-overdue"
    assert {g["id"] for g in data["goals"]} == {"G-1", "G-2", "G-3"}
    assert data["people"][0]["responsible"] == "Maria Lopez"


def test_blank_coalition_name_gives_empty_coalition() -> None:
    plan = clean_plan()
    plan.coalition["name"] = None
    assert report_of(plan).summary.coalition == ""
