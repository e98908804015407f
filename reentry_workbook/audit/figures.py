"""Headline figures and the per-goal and per-responsible tables: turns a plan and its findings into a Report.

- **alignment**: share of action steps whose chain of service holds: the step names an improvement that
  exists, that improvement names a goal that exists, that goal names a priority that exists, and Serves
  goal? is not No. Every step counts, whatever its status (the brief's definition). None without steps.
- **completeness**: share of required cells (``Column.required``; derived columns excluded) filled across
  every row of the plan, plus the required Coalition fields. A cell holding an invalid choice or unreadable
  text counts as filled (the reader reports it).
- **per goal**: one line per distinct goal ID, in sheet order (rows without an ID appear only in the
  findings list). A goal's improvements are the rows naming its ID; its measures and steps are those whose
  improvement ID leads to one of them (the first row of a duplicated ID decides). Gaps are the findings on
  the goal's row, its improvements, their measures and their steps, matched by sheet and row (by sheet and
  ID for findings without a cell). rag: red with any error among them, amber with any warning, else green.
- **per responsible**: steps grouped by Responsible ignoring case and spacing, shown with the first
  spelling met; steps without an owner under "(no one)", listed last. "Overdue" and "without due date"
  follow the rules (closed steps are never either).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..plan import catalogue, schema
from ..plan.model import Finding, Plan, Record
from .report import NO_ONE, GoalLine, PersonLine, Report, Summary
from .rules import cell_row, is_blank, is_overdue, lacks_due_date, location_key, reference

_SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(catalogue.SEVERITIES)}
_RULE_RANK: dict[str, int] = {r.slug: i for i, r in enumerate(catalogue.RULES)}


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Findings by severity (errors first), then the declaration's sheet order, then row; stable otherwise."""
    return sorted(findings, key=lambda f: (_SEVERITY_RANK.get(f.severity, len(_SEVERITY_RANK)), *location_key(f)))


def aligned_steps(plan: Plan) -> tuple[int, int]:
    """(steps whose chain of service holds, all steps)."""
    chain = dict(schema.CHAIN)  # sheet key -> column naming its parent
    improvements = plan.by_id("improvements")
    goals = plan.by_id("goals")
    priorities = set(plan.by_id("priorities"))
    steps = plan.rows("steps")
    aligned = 0
    for step in steps:
        if step.get("serves_goal") == schema.SERVES_GOAL_NO:
            continue
        improvement = improvements.get(reference(step, chain["steps"]) or "")
        if improvement is None:
            continue
        goal = goals.get(reference(improvement, chain["improvements"]) or "")
        if goal is not None and reference(goal, chain["goals"]) in priorities:
            aligned += 1
    return aligned, len(steps)


def completeness(plan: Plan) -> float | None:
    """Share of required cells that are filled (rows of every sheet, plus the Coalition fields)."""
    filled = total = 0
    for sheet in schema.SHEETS:
        required = [c.key for c in sheet.columns if c.required and c.kind is not schema.Kind.DERIVED]
        if not required:
            continue
        rows = plan.rows(sheet.key)
        total += len(required) * len(rows)
        for rec in rows:
            values = rec.values
            for key in required:
                value = values.get(key)  # is_blank, inlined: this runs for every required cell of the plan
                if value is not None and not (isinstance(value, str) and not value.strip()):
                    filled += 1
    for field in schema.COALITION_FIELDS:
        if field.required:
            total += 1
            filled += not is_blank(plan.coalition.get(field.key))
    return filled / total if total else None


def _person_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def people(plan: Plan, as_of: dt.date) -> list[PersonLine]:
    """One line per responsible person (named people alphabetically, then "(no one)")."""
    lines: dict[str, PersonLine] = {}
    for step in plan.rows("steps"):
        owner = step.get("responsible")
        if is_blank(owner):
            key, shown = "", NO_ONE
        else:
            shown = " ".join(str(owner).split())
            key = _person_key(shown)
        line = lines.setdefault(key, PersonLine(shown))
        line.steps += 1
        line.overdue += is_overdue(step, as_of)
        line.without_due_date += lacks_due_date(step)
    return sorted(lines.values(), key=lambda p: (p.responsible == NO_ONE, _person_key(p.responsible)))


def _goal_of(plan: Plan) -> tuple[dict[tuple[str, int], str], dict[tuple[str, str], str]]:
    """Which goal ID each row of the goal's family belongs to, by (sheet name, row) and (sheet name, ID)."""
    goals = plan.by_id("goals")
    improvements = plan.by_id("improvements")
    by_row: dict[tuple[str, int], str] = {}
    by_id: dict[tuple[str, str], str] = {}

    names = {sheet.key: sheet.name for sheet in schema.SHEETS}

    def note(rec: Record, goal_id: str | None) -> None:
        if goal_id is None or goal_id not in goals:
            return
        name = names[rec.sheet]
        if rec.row:
            by_row[(name, rec.row)] = goal_id
        if rec.id is not None:
            by_id.setdefault((name, rec.id), goal_id)

    for rec in plan.rows("goals"):
        note(rec, rec.id)
    for rec in plan.rows("improvements"):
        note(rec, reference(rec, "goal"))

    def via_improvement(rec: Record) -> str | None:
        improvement = improvements.get(reference(rec, "improvement") or "")
        return None if improvement is None else reference(improvement, "goal")

    for key in ("measures", "steps"):
        for rec in plan.rows(key):
            note(rec, via_improvement(rec))
    return by_row, by_id


def goal_lines(plan: Plan, findings: Sequence[Finding], as_of: dt.date) -> list[GoalLine]:
    """The per-goal table, in the Goals sheet's order."""
    priorities = plan.by_id("priorities")
    improvements = plan.by_id("improvements")
    lines: dict[str, GoalLine] = {}
    for rec in plan.rows("goals"):
        if rec.id is None or rec.id in lines:
            continue
        priority = reference(rec, "priority")
        text = rec.get("goal")
        lines[rec.id] = GoalLine(
            id=rec.id,
            goal="" if is_blank(text) else str(text),
            priority=priority if priority in priorities else None,
        )
    for rec in plan.rows("improvements"):
        line = lines.get(reference(rec, "goal") or "")
        if line is not None:
            line.improvements += 1
    for key in ("measures", "steps"):
        for rec in plan.rows(key):
            improvement = improvements.get(reference(rec, "improvement") or "")
            line = None if improvement is None else lines.get(reference(improvement, "goal") or "")
            if line is None:
                continue
            if key == "measures":
                line.measures += 1
                continue
            line.steps += 1
            line.complete += rec.get("status") == schema.COMPLETE_STATUS
            line.overdue += is_overdue(rec, as_of)

    by_row, by_id = _goal_of(plan)
    worst: dict[str, int] = {}
    for finding in findings:
        row = cell_row(finding.cell)
        goal_id = by_row.get((finding.sheet, row)) if row else None
        if goal_id is None and finding.id is not None:
            goal_id = by_id.get((finding.sheet, finding.id))
        line = lines.get(goal_id or "")
        if line is None:
            continue
        line.gaps += 1
        rank = _SEVERITY_RANK.get(finding.severity, len(_SEVERITY_RANK))
        worst[line.id] = min(worst.get(line.id, rank), rank)
    for line in lines.values():
        rank = worst.get(line.id)
        line.rag = (
            "red" if rank == _SEVERITY_RANK["error"] else "amber" if rank == _SEVERITY_RANK["warning"] else "green"
        )
    return list(lines.values())


def build_report(
    plan: Plan,
    findings: Sequence[Finding],
    *,
    as_of: dt.date,
    audited_at: dt.datetime | None = None,
) -> Report:
    """The whole report: sorted findings, headline figures, per-goal and per-responsible tables."""
    ordered = sort_findings(findings)
    aligned, steps = aligned_steps(plan)
    counts = {s: 0 for s in catalogue.SEVERITIES}
    fired: dict[str, int] = {}
    for finding in ordered:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
        fired[finding.rule] = fired.get(finding.rule, 0) + 1
    rule_counts = {
        slug: fired[slug] for slug in sorted(fired, key=lambda s: _RULE_RANK.get(s, len(_RULE_RANK)))
    }  # sorted() is stable: unknown slugs keep the order they were met
    name = plan.coalition.get("name")
    summary = Summary(
        file=plan.source.file,
        coalition="" if is_blank(name) else str(name).strip(),
        as_of=as_of,
        template_version=plan.source.template_version,
        audited_at=audited_at if audited_at is not None else dt.datetime.now().replace(microsecond=0),
        alignment=aligned / steps if steps else None,
        completeness=completeness(plan),
        steps=steps,
        steps_aligned=aligned,
        counts=counts,
        rule_counts=rule_counts,
    )
    return Report(
        summary=summary,
        findings=ordered,
        goals=goal_lines(plan, ordered, as_of),
        people=people(plan, as_of),
    )
