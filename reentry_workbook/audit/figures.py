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
from ..plan.model import Finding, Plan, PlanIndex, Record, as_date, is_blank, is_unknown, written
from .report import NO_ONE, UNKNOWN_OWNER, GoalLine, PersonLine, Report, Summary
from .rules import cell_row, location_key

_SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(catalogue.SEVERITIES)}
_RULE_RANK: dict[str, int] = {r.slug: i for i, r in enumerate(catalogue.RULES)}


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Findings by severity (errors first), then the declaration's sheet order, then row; stable otherwise."""
    return sorted(findings, key=lambda f: (_SEVERITY_RANK.get(f.severity, len(_SEVERITY_RANK)), *location_key(f)))


# Required cells of each sheet (derived columns excluded), worked out once.
_REQUIRED: dict[str, tuple[str, ...]] = {
    sheet.key: tuple(c.key for c in sheet.columns if c.required and c.kind is not schema.Kind.DERIVED)
    for sheet in schema.SHEETS
}


def completeness(plan: Plan) -> float | None:
    """Share of required cells that are filled (rows of every sheet, plus the Coalition fields)."""
    filled = total = 0
    for sheet_key, required in _REQUIRED.items():
        if not required:
            continue
        rows = plan.rows(sheet_key)
        total += len(required) * len(rows)
        for rec in rows:  # row by row: each row's values are visited once, while they are in the cache
            get = rec.values.get
            for key in required:
                value = get(key)  # is_blank, inlined: this runs for every required cell of the plan
                if value is not None and not (value.__class__ is str and not value.strip()):
                    filled += 1
    for field in schema.COALITION_FIELDS:
        if field.required:
            total += 1
            filled += not is_blank(plan.coalition.get(field.key))  # an Unknown is filled
    return filled / total if total else None


def _person_key(name: str) -> str:
    return " ".join(name.split()).casefold()


class _Tables:
    """The per-goal and per-responsible tables and the alignment count, in one walk over the rows (each step is
    visited once, its chain of service taken from the shared index).

    ``goal_rows`` and ``goal_ids``: the goal ID each row of a goal's family belongs to, per sheet name, by
    worksheet row and by ID (the first row of an ID decides); the findings are matched to goals through them.
    """

    def __init__(self, plan: Plan, index: PlanIndex, as_of: dt.date) -> None:
        self.goals: dict[str, GoalLine] = {}
        self.owners: dict[str, PersonLine] = {}
        self.aligned = 0
        self.goal_rows: dict[str, dict[int, str]] = {}
        self.goal_ids: dict[str, dict[str, str]] = {}
        for rec in plan.rows("goals"):
            if rec.id is None or rec.id in self.goals:
                continue
            priority = index.parent(rec)
            text = written(rec.get("goal"))
            self.goals[rec.id] = GoalLine(
                id=rec.id,
                goal="" if is_blank(text) else str(text),
                priority=None if priority is None else priority.id,
            )
        for rec in plan.rows("goals"):
            self._belongs("goals", rec, rec)
        parent = index.parent
        for rec in plan.rows("improvements"):
            line = self._belongs("improvements", rec, parent(rec))
            if line is not None:
                line.improvements += 1
        for rec in plan.rows("measures"):
            improvement = parent(rec)
            goal = None if improvement is None or improvement.sheet != "improvements" else parent(improvement)
            line = self._belongs("measures", rec, goal)
            if line is not None:
                line.measures += 1
        self._steps(plan, index, as_of)

    def _belongs(self, sheet_key: str, rec: Record, goal: Record | None) -> GoalLine | None:
        """Record which goal ``rec`` belongs to; the goal's line when the table has one."""
        if goal is None or goal.id is None:
            return None
        name = schema.sheet(sheet_key).name
        if rec.row:
            self.goal_rows.setdefault(name, {})[rec.row] = goal.id
        if rec.id is not None:
            self.goal_ids.setdefault(name, {}).setdefault(rec.id, goal.id)
        return self.goals.get(goal.id)

    def _steps(self, plan: Plan, index: PlanIndex, as_of: dt.date) -> None:
        """Each step once: alignment, its goal's counts, its person's line (the rules' meanings of overdue and
        without due date, inlined: this runs for every step of the plan)."""
        name = schema.sheet("steps").name
        rows = self.goal_rows.setdefault(name, {})
        ids = self.goal_ids.setdefault(name, {})
        goals = self.goals
        by_owner: dict[str, PersonLine] = {}  # each spelling of a Responsible, as typed
        chain_of = index.chain
        for step in plan.rows("steps"):
            values = step.values
            chain = chain_of(step)
            if chain.priority is not None and values.get("serves_goal") != schema.SERVES_GOAL_NO:
                self.aligned += 1
            status = values.get("status")
            is_open = status not in schema.CLOSED_STATUSES
            due_value = values.get("due_date")
            due = due_value if due_value.__class__ is dt.date else as_date(due_value)
            overdue = is_open and due is not None and due < as_of
            goal = chain.goal
            if goal is not None and goal.id is not None:
                if step.row:
                    rows[step.row] = goal.id
                if step.id is not None:
                    ids.setdefault(step.id, goal.id)
                line = goals.get(goal.id)
                if line is not None:
                    line.steps += 1
                    line.complete += status == schema.COMPLETE_STATUS
                    line.overdue += overdue
            owner = values.get("responsible")
            person = by_owner.get(owner) if owner.__class__ is str else None
            if person is None:
                person = self._person(owner)
                if owner.__class__ is str:
                    by_owner[owner] = person
            person.steps += 1
            person.overdue += overdue
            person.without_due_date += is_open and is_blank(due_value)

    def _person(self, owner: object) -> PersonLine:
        """The line of a Responsible value: grouped ignoring case and spacing, shown as first met."""
        if is_blank(owner):
            key, shown = "", NO_ONE
        elif is_unknown(owner):
            key, shown = "?", UNKNOWN_OWNER
        else:
            shown = " ".join(str(owner).split())
            key = _person_key(shown)
        return self.owners.setdefault(key, PersonLine(shown))

    def people(self) -> list[PersonLine]:
        """One line per responsible person (named people alphabetically, then "(cannot be read)", then
        "(no one)")."""
        last = {UNKNOWN_OWNER: 1, NO_ONE: 2}
        return sorted(self.owners.values(), key=lambda p: (last.get(p.responsible, 0), _person_key(p.responsible)))

    def goal_lines(self, findings: Sequence[Finding]) -> list[GoalLine]:
        """The per-goal table, in the Goals sheet's order, with the gaps and rag of the goals' findings."""
        worst: dict[str, int] = {}
        for finding in findings:
            row = cell_row(finding.cell)
            goal_id = self.goal_rows.get(finding.sheet, {}).get(row) if row else None
            if goal_id is None and finding.id is not None:
                goal_id = self.goal_ids.get(finding.sheet, {}).get(finding.id)
            line = self.goals.get(goal_id or "")
            if line is None:
                continue
            line.gaps += 1
            rank = _SEVERITY_RANK.get(finding.severity, len(_SEVERITY_RANK))
            worst[line.id] = min(worst.get(line.id, rank), rank)
        for line in self.goals.values():
            gravest = worst.get(line.id)
            line.rag = (
                "red" if gravest == _SEVERITY_RANK["error"]
                else "amber" if gravest == _SEVERITY_RANK["warning"]
                else "green"
            )
        return list(self.goals.values())


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
    ordered = sort_findings(findings)
    tables = _Tables(plan, index or plan.index(), as_of)
    aligned, steps = tables.aligned, len(plan.rows("steps"))
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
        goals=tables.goal_lines(ordered),
        people=tables.people(),
    )
