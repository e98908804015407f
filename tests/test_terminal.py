"""The terminal rendering: a headline, counts per rule, one aligned line per finding, fitting a screen."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from plans import AS_OF, clean_plan, get

from reentry_workbook.audit.figures import build_report
from reentry_workbook.audit.report import Report
from reentry_workbook.audit.rules import check
from reentry_workbook.audit.terminal import WIDTH, percent, render
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import Plan

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def finding_lines(text: str) -> list[str]:
    """Lines that start with a Sheet!Cell place."""
    sheets = (schema.COALITION_SHEET, *(s.name for s in schema.SHEETS))
    return [line for line in text.splitlines() if line.startswith(tuple(f"{name}!" for name in sheets))]


def report_of(plan: Plan) -> Report:
    return build_report(plan, check(plan, AS_OF), as_of=AS_OF, audited_at=dt.datetime(2027, 3, 1, 9, 0))


def ten_gap_plan() -> Plan:
    """The clean plan with ten gaps: 2 errors, 6 warnings, 2 infos."""
    plan = clean_plan()
    get(plan, "steps", "A-1").values["due_date"] = dt.date(2027, 2, 1)  # step-overdue
    get(plan, "measures", "M-5").values["improvement"] = "I-12"  # broken-link
    get(plan, "steps", "A-5").values["responsible"] = None  # step-without-owner
    get(plan, "steps", "A-3").values["serves_goal"] = schema.SERVES_GOAL_NO  # step-not-serving-goal
    get(plan, "goals", "G-2").values["target"] = None  # goal-not-measurable
    get(plan, "improvements", "I-1").values["mechanism"] = None  # improvement-without-mechanism
    get(plan, "improvements", "I-4").values["resources_secured"] = None  # resources-unsecured
    get(plan, "measures", "M-3").values["target"] = None  # measure-without-target
    get(plan, "measures", "M-1").values["baseline"] = None  # measure-without-baseline
    get(plan, "measures", "M-2").values["latest_as_of"] = dt.date(2026, 11, 1)  # measure-stale
    return plan


def test_headline_gives_alignment_completeness_and_counts() -> None:
    report = report_of(ten_gap_plan())
    assert sum(report.summary.counts.values()) == 10
    text = render(report)
    head = "\n".join(text.splitlines()[:2])
    assert report.summary.file in head
    assert report.summary.coalition in head
    assert AS_OF.isoformat() in head
    assert "Alignment 80% (4 of 5 steps)" in head
    assert f"Completeness {percent(report.summary.completeness)}" in head
    assert "2 errors, 6 warnings, 2 info" in head


def test_counts_per_rule_then_one_line_per_finding() -> None:
    report = report_of(ten_gap_plan())
    lines = render(report).splitlines()
    for slug, n in report.summary.rule_counts.items():
        assert any(re.match(rf"\s+{n}\s+{re.escape(slug)}\s", line) for line in lines), slug
    for finding in report.findings:
        place = f"{finding.sheet}!{finding.cell}"
        matching = [line for line in lines if line.startswith(place + " ")]
        assert matching, place
        assert any(finding.severity in line and finding.rule in line for line in matching)


def test_finding_columns_are_aligned() -> None:
    report = report_of(ten_gap_plan())
    lines = finding_lines(render(report))
    assert len(lines) == len(report.findings)
    severity_columns = {line.index(f.severity) for line, f in zip(lines, report.findings, strict=True)}
    rule_columns = {line.index(f.rule) for line, f in zip(lines, report.findings, strict=True)}
    assert len(severity_columns) == 1
    assert len(rule_columns) == 1


def test_fits_a_screen_for_about_ten_findings() -> None:
    lines = render(report_of(ten_gap_plan())).splitlines()
    assert len(lines) <= 50
    assert max(len(line) for line in lines) <= WIDTH


def test_long_messages_are_cut_to_the_width() -> None:
    plan = clean_plan()
    get(plan, "steps", "A-1").values.update(step="A very long action step " * 10, responsible=None)
    report = report_of(plan)
    (line,) = finding_lines(render(report))
    assert len(line) <= WIDTH
    # The row's long text gives way first, so the facts after it stay readable.
    assert line.endswith(f"A-1 leaves '{schema.sheet('steps').column('responsible').header}' blank")
    narrow = render(report, width=60)
    assert max(len(line) for line in narrow.splitlines()) <= 60
    assert finding_lines(narrow)[0].endswith("...")


def test_no_colour_codes_unless_asked() -> None:
    report = report_of(ten_gap_plan())
    plain = render(report)
    assert "\x1b" not in plain
    coloured = render(report, color=True)
    assert "\x1b[31m" in coloured  # errors in red
    assert ANSI.sub("", coloured) == plain


def test_limit_caps_the_finding_lines_and_says_where_the_rest_are() -> None:
    report = report_of(ten_gap_plan())
    text = render(report, limit=3)
    lines = text.splitlines()
    assert len(finding_lines(text)) == 3
    assert lines[-1].startswith("... and 7 more findings")
    assert schema.SUMMARY_SHEET in lines[-1]
    assert "--json" in lines[-1]
    assert render(report, limit=10) == render(report)


def test_a_clean_plan_says_no_gaps() -> None:
    text = render(report_of(clean_plan()))
    assert "No gaps found." in text
    assert "Alignment 100%" in text
    assert "0 errors, 0 warnings, 0 info" in text


def test_percentages_round_down_and_say_na_without_steps() -> None:
    assert percent(0.996) == "99%"
    assert percent(1.0) == "100%"
    assert percent(0.5) == "50%"
    assert percent(None) == "n/a"
    plan = clean_plan()
    plan.rows("steps").clear()
    assert "Alignment n/a" in render(report_of(plan))


def test_whole_sheet_findings_show_the_sheet_alone() -> None:
    plan = clean_plan()
    plan.coalition["last_reviewed"] = dt.date(2020, 1, 1)
    report = report_of(plan)
    finding = dataclasses.replace(report.findings[0], cell="")
    text = render(dataclasses.replace(report, findings=[finding]))
    assert any(line.startswith(f"{schema.COALITION_SHEET}  ") for line in text.splitlines())


def test_member_text_cannot_send_escape_sequences_to_the_terminal() -> None:
    plan = clean_plan()
    plan.coalition["name"] = "Evil\x1b[2J Coalition"
    get(plan, "steps", "A-1").values.update(step="Clear\x1b[2Jscreen\x07", responsible=None)
    text = render(report_of(plan))
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "Evil?[2J Coalition" in text
