"""The toolkit's three questions (resources, revisited, in service) and the steps coming up, on plans built for
each: every Resources secured value with costs, improvements with no cost, a plan with no improvements."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from plans import AS_OF, OPEN_STATUS, add_improvement, add_step, clean_plan, empty_plan, get

from reentry_workbook.audit.figures import build_report
from reentry_workbook.audit.questions import answer_questions
from reentry_workbook.audit.report import NO, NO_ONE, NOT_STATED, PARTLY, UNKNOWN, YES, Report
from reentry_workbook.audit.rules import check
from reentry_workbook.audit.summary_sheet import write_summary_workbook
from reentry_workbook.cli import cli
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import Plan
from reentry_workbook.workbook.generate import write_plan_workbook

SECURED = schema.CHOICES["resources_secured"]  # Yes, Partly, No, Not needed


def report_of(plan: Plan, horizon: int = schema.DEFAULT_HORIZON) -> Report:
    report = build_report(plan, check(plan, AS_OF), as_of=AS_OF, audited_at=dt.datetime(2027, 3, 1, 9, 0))
    answer_questions(report, plan, horizon=horizon)
    return report


def costed_plan() -> Plan:
    """I-1 Yes $100 (G-1), I-2 Partly $200 (G-2), I-3 No $300 (G-3), I-4 Not needed $400 (G-1), I-5 blank $500
    (G-2); G-1 and G-3 serve P-1, G-2 serves P-2."""
    plan = clean_plan()
    for (id_, status), cost in zip(
        [("I-1", schema.RESOURCES_SECURED_YES), ("I-2", schema.RESOURCES_SECURED_PARTLY),
         ("I-3", schema.RESOURCES_SECURED_NO), ("I-4", schema.RESOURCES_NOT_NEEDED)], (100, 200, 300, 400), strict=True
    ):
        get(plan, "improvements", id_).values.update(resources_secured=status, estimated_cost=cost)
    add_improvement(plan, "I-5", "G-2", "Employer outreach", resources_secured=None, estimated_cost=500)
    return plan


def test_costs_with_every_resources_secured_value() -> None:
    r = report_of(costed_plan()).resources
    assert (r.estimated_cost, r.secured_cost, r.unsecured_cost) == (1500, 500, 1000)  # Yes + Not needed secured
    assert {b.status: (b.improvements, b.cost) for b in r.by_status} == {
        SECURED[0]: (1, 100), SECURED[1]: (1, 200), SECURED[2]: (1, 300), SECURED[3]: (1, 400), NOT_STATED: (1, 500)
    }
    assert {g.id: (g.estimated_cost, g.unsecured_cost) for g in r.by_goal} == {
        "G-1": (500, 0), "G-2": (700, 700), "G-3": (300, 300)
    }
    assert {p.id: (p.estimated_cost, p.unsecured_cost) for p in r.by_priority} == {"P-1": (800, 300), "P-2": (700, 700)}
    assert r.answer == PARTLY and r.without_cost == []


def test_the_per_goal_table_gains_estimated_and_unsecured_cost() -> None:
    report = report_of(costed_plan())
    assert {g.id: (g.estimated_cost, g.unsecured_cost) for g in report.goals} == {
        "G-1": (500, 0), "G-2": (700, 700), "G-3": (300, 300)
    }
    goals = json.loads(json.dumps(report.to_dict()))["goals"]
    assert goals[1]["estimated_cost"] == 700 and goals[1]["unsecured_cost"] == 700


def test_improvements_needing_resources_without_a_cost_are_listed_and_found() -> None:
    plan = clean_plan()
    get(plan, "improvements", "I-1").values["estimated_cost"] = None
    get(plan, "improvements", "I-2").values.update(estimated_cost="TBD", resources_needed="Two trainers")
    get(plan, "improvements", "I-3").values.update(estimated_cost=None, resources_secured=schema.RESOURCES_NOT_NEEDED)
    report = report_of(plan)
    assert report.resources.without_cost == ["I-1", "I-2"]
    assert sorted(f.id for f in report.findings if f.rule == "resources-without-cost") == ["I-1", "I-2"]
    assert report.resources.answer == PARTLY


def test_fully_secured_is_yes_and_nothing_secured_is_no() -> None:
    assert report_of(clean_plan()).resources.answer == YES
    plan = clean_plan()
    for rec in plan.rows("improvements"):
        rec.values["resources_secured"] = schema.RESOURCES_SECURED_NO
    assert report_of(plan).resources.answer == NO


def test_a_plan_with_no_improvements(tmp_path: Path) -> None:
    report = report_of(empty_plan())
    assert report.resources.answer == UNKNOWN
    assert report.resources.estimated_cost == 0 and report.resources.by_status == []
    assert report.in_service.answer == UNKNOWN
    assert report.to_dict()["questions"]["resources"]["answer"] == UNKNOWN
    write_summary_workbook(report, tmp_path / "summary.xlsx")  # every block renders without rows


def test_revisited_on_time_late_and_unknown() -> None:
    on_time = report_of(clean_plan()).revisited
    assert on_time.answer == YES and on_time.next_review_due is not None and on_time.next_review_due >= AS_OF
    plan = clean_plan()
    plan.coalition["last_reviewed"] = AS_OF - dt.timedelta(days=400)
    late = report_of(plan).revisited
    days = schema.FREQUENCY_DAYS[plan.coalition["review_cadence"]]
    assert late.answer == NO and late.days_overdue == 400 - days
    assert any(f.rule == "plan-review-overdue" for f in report_of(plan).findings)
    plan.coalition["review_cadence"] = None
    assert report_of(plan).revisited.answer == UNKNOWN


def test_in_service_counts_not_serving_and_broken_chains() -> None:
    assert report_of(clean_plan()).in_service.answer == YES
    plan = clean_plan()
    get(plan, "steps", "A-1").values["serves_goal"] = schema.SERVES_GOAL_NO
    get(plan, "steps", "A-4").values["improvement"] = "I-99"
    s = report_of(plan).in_service
    assert (s.not_serving, s.broken_chain, s.aligned, s.steps) == (1, 1, 3, 5)
    assert s.answer == PARTLY


def test_coming_up_by_person_within_the_horizon() -> None:
    plan = clean_plan()
    for rec in plan.rows("steps"):
        rec.values["due_date"] = AS_OF + dt.timedelta(days=200)
    get(plan, "steps", "A-1").values.update(due_date=AS_OF + dt.timedelta(days=20), responsible="Zoe Park")
    get(plan, "steps", "A-3").values.update(due_date=AS_OF, responsible=None)
    get(plan, "steps", "A-4").values.update(due_date=AS_OF + dt.timedelta(days=5), responsible="  zoe  PARK ")
    get(plan, "steps", "A-5").values.update(due_date=AS_OF + dt.timedelta(days=10), status=schema.COMPLETE_STATUS)
    add_step(plan, "A-6", "I-1", "Late one", due_date=AS_OF - dt.timedelta(days=3), status=OPEN_STATUS)
    coming = report_of(plan).coming_up
    assert coming is not None and coming.until == AS_OF + dt.timedelta(days=schema.DEFAULT_HORIZON)
    assert [(p.responsible, [s.id for s in p.steps]) for p in coming.people] == [
        ("Zoe Park", ["A-4", "A-1"]), (NO_ONE, ["A-3"])
    ]  # by due date; closed and overdue steps are not coming up
    narrow = report_of(plan, horizon=7).coming_up
    assert narrow is not None and [s.id for p in narrow.people for s in p.steps] == ["A-4", "A-3"]
    assert [s.id for p in report_of(plan).overdue for s in p.steps] == ["A-6"]


def test_the_three_renderings_answer_in_order_and_the_terminal_stays_one_screen(tmp_path: Path) -> None:
    plan = costed_plan()
    src = write_plan_workbook(tmp_path / "plan.xlsx", plan, rows=10)
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", str(src), "--as-of", AS_OF.isoformat(), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    numbered = [line for line in lines if re.match(r"[123] ", line)]
    assert [line.split()[1] for line in numbered] == ["Resources", "Revisited", "In"]
    assert numbered[0].split()[2] == "Partly:" and "$500 of $1,500" in numbered[0]
    assert any(line.startswith("Coming up by ") for line in lines)
    data = json.loads(runner.invoke(cli, ["audit", str(src), "--as-of", AS_OF.isoformat(), "--json", "--no-copy",
                                          "--fail-on", "never", "--horizon", "7"]).output)
    assert list(data["questions"]) == ["resources", "revisited", "in_service"]
    assert data["coming_up"]["horizon_days"] == 7
    assert data["questions"]["resources"]["unsecured_cost"] == 1000


def test_the_example_report_fits_one_screen(tmp_path: Path) -> None:
    from reentry_workbook.workbook.example import EXAMPLE_AS_OF

    runner = CliRunner()
    src = tmp_path / "example.xlsx"
    assert runner.invoke(cli, ["new", "--example", str(src)]).exit_code == 0
    for months in (2, 1, 0):  # three audits, so the trend and "since the last audit" lines show
        as_of = EXAMPLE_AS_OF - dt.timedelta(days=30 * months)
        result = runner.invoke(cli, ["audit", str(src), "--as-of", as_of.isoformat(), "--fail-on", "never",
                                     "-o", str(tmp_path / f"audited-{months}.xlsx")])
        assert result.exit_code == 0, result.output
        src = tmp_path / f"audited-{months}.xlsx"
    lines = result.output.splitlines()
    assert len(lines) <= 40 and max(len(line) for line in lines) <= 100
    assert sum(line.startswith(("Trend ", "       20")) for line in lines) == 3


@pytest.mark.parametrize("key", ["resources", "revisited", "in_service"])
def test_every_question_has_its_block_on_the_summary_sheet_before_the_details(tmp_path: Path, key: str) -> None:
    import openpyxl

    from reentry_workbook.audit.wording import QUESTIONS

    write_summary_workbook(report_of(costed_plan()), tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")[schema.SUMMARY_SHEET]
    column_a = [str(c.value or "") for c in ws["A"]]
    number = [k for k, _, _ in QUESTIONS].index(key) + 1
    block = next(i for i, text in enumerate(column_a) if text.startswith(f"{number}. "))
    details = column_a.index("Findings per rule")
    assert block < details
    assert column_a[block + 1] == "Answer"
    assert ws.cell(block + 2, 2).value.split(":")[0] in ("Yes", "Partly", "No", "Not known")
