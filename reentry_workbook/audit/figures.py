"""Headline figures and the per-goal and per-responsible tables: turns a plan and its findings into a Report.

- **alignment**: share of action steps whose chain of service holds (:attr:`model.Chain.serves`): the step
  names an improvement that exists, that improvement names a goal that exists, that goal names a priority
  that exists, and Serves goal? is not No. Every step counts, whatever its status (the brief's definition). A
  link that cannot be read (a formula, an error value) cannot be shown to hold, so that step is not aligned.
  None without steps.
- **completeness**: share of required cells (``Column.required``; derived columns excluded) filled across
  every row of the plan, plus the required Coalition fields. A cell holding an invalid choice, or one the
  reader could not take at face value (:class:`model.Unknown`), counts as filled (the reader reports it).
- **per goal**: one line per distinct goal ID, in sheet order (rows without an ID appear only in the
  findings list). A goal's improvements are the rows naming its ID; its measures and steps are those whose
  improvement ID leads to one of them (the first row of a duplicated ID decides). Gaps are the findings on
  the goal's row, its improvements, their measures and their steps, matched by sheet and row (by sheet and
  ID for findings without a cell). rag: red with any error among them, amber with any warning, else green.
- **per responsible**: steps grouped by Responsible ignoring case and spacing, shown with the first
  spelling met; steps whose Responsible cannot be read (a formula, an error value) under "(cannot be
  read)", then steps without an owner under "(no one)", listed last. "Overdue" and "without due date"
  follow the rules (closed steps are never either; an unknown due date is neither).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..plan import catalogue, schema
from ..plan.model import Finding, Plan, PlanIndex, is_blank, is_unknown, written
from .report import NO_ONE, UNKNOWN_OWNER, GoalLine, PersonLine, Report, Summary
from .rules import cell_row, location_key

_SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(catalogue.SEVERITIES)}
_RULE_RANK: dict[str, int] = {r.slug: i for i, r in enumerate(catalogue.RULES)}


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Findings by severity (errors first), then the declaration's sheet order, then row; stable otherwise."""
    return sorted(findings, key=lambda f: (_SEVERITY_RANK.get(f.severity, len(_SEVERITY_RANK)), *location_key(f)))


def aligned_steps(plan: Plan, index: PlanIndex | None = None) -> tuple[int, int]:
    """(steps whose chain of service holds, all steps)."""
    index = index or plan.index()
    steps = plan.rows("steps")
    return sum(index.chain(step).serves for step in steps), len(steps)


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
            filled += not is_blank(plan.coalition.get(field.key))  # an Unknown is filled
    return filled / total if total else None


def _person_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def people(plan: Plan, as_of: dt.date) -> list[PersonLine]:
    """One line per responsible person (named people alphabetically, then "(cannot be read)", then "(no one)")."""
    lines: dict[str, PersonLine] = {}
    for step in plan.rows("steps"):
        owner = step.get("responsible")
        if is_blank(owner):
            key, shown = "", NO_ONE
        elif is_unknown(owner):
            key, shown = "?", UNKNOWN_OWNER
        else:
            shown = " ".join(str(owner).split())
            key = _person_key(shown)
        line = lines.setdefault(key, PersonLine(shown))
        line.steps += 1
        line.overdue += step.is_overdue(as_of)
        line.without_due_date += step.lacks_due_date()
    last = {UNKNOWN_OWNER: 1, NO_ONE: 2}
    return sorted(lines.values(), key=lambda p: (last.get(p.responsible, 0), _person_key(p.responsible)))


def goal_lines(
    plan: Plan, findings: Sequence[Finding], as_of: dt.date, index: PlanIndex | None = None
) -> list[GoalLine]:
    """The per-goal table, in the Goals sheet's order."""
    index = index or plan.index()
    lines: dict[str, GoalLine] = {}
    for rec in plan.rows("goals"):
        if rec.id is None or rec.id in lines:
            continue
        priority = index.parent(rec)
        text = written(rec.get("goal"))
        lines[rec.id] = GoalLine(
            id=rec.id,
            goal="" if is_blank(text) else str(text),
            priority=None if priority is None else priority.id,
        )
    # Which goal ID each row of a goal's family belongs to, by (sheet name, row) and (sheet name, ID): the
    # findings are matched to goals through them.
    by_row: dict[tuple[str, int], str] = {}
    by_id: dict[tuple[str, str], str] = {}
    for key in ("goals", "improvements", "measures", "steps"):
        name = schema.sheet(key).name
        for rec in plan.rows(key):
            goal = index.goal(rec)
            if goal is None or goal.id is None:
                continue
            if rec.row:
                by_row[(name, rec.row)] = goal.id
            if rec.id is not None:
                by_id.setdefault((name, rec.id), goal.id)
            line = lines.get(goal.id)
            if line is None or key == "goals":
                continue
            if key == "improvements":
                line.improvements += 1
            elif key == "measures":
                line.measures += 1
            else:
                line.steps += 1
                line.complete += rec.get("status") == schema.COMPLETE_STATUS
                line.overdue += rec.is_overdue(as_of)

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
    index: PlanIndex | None = None,
) -> Report:
    """The whole report: sorted findings, headline figures, per-goal and per-responsible tables (``index``: the
    plan's navigation, when the caller shares one with the questions)."""
    index = index or plan.index()
    ordered = sort_findings(findings)
    aligned, steps = aligned_steps(plan, index)
    counts = {s: 0 for s in catalogue.SEVERITIES}
    fired: dict[str, int] = {}
    for finding in ordered:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
        fired[finding.rule] = fired.get(finding.rule, 0) + 1
    rule_counts = {
        slug: fired[slug] for slug in sorted(fired, key=lambda s: _RULE_RANK.get(s, len(_RULE_RANK)))
    }  # sorted() is stable: unknown slugs keep the order they were met
    name = written(plan.coalition.get("name"))
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
        goals=goal_lines(plan, ordered, as_of, index),
        people=people(plan, as_of),
    )
