"""The audit report: plain data with a stable shape. The terminal table, the JSON output and the
Alignment Summary sheet are three renderings of one Report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..plan.catalogue import SEVERITIES
from ..plan.model import Finding


def whole_percent(share: float) -> int:
    """A share as a whole percentage, rounded down, so 100% means every one (terminal and summary sheet alike)."""
    return int(share * 100 + 1e-9)


NO_ONE = "(no one)"  # PersonLine.responsible of the steps nobody is responsible for
UNKNOWN_OWNER = "(cannot be read)"  # PersonLine.responsible of the steps whose Responsible is a formula or error


@dataclass
class GoalLine:
    """One row of the per-goal table."""

    id: str
    goal: str
    priority: str | None  # the priority's ID, when the goal names one that exists
    improvements: int = 0
    measures: int = 0
    steps: int = 0
    complete: int = 0
    overdue: int = 0
    gaps: int = 0  # findings on the goal, its improvements, their measures and steps
    rag: str = "green"  # "red" (any error), "amber" (any warning), "green"
    estimated_cost: float = 0  # dollars, over the goal's improvements that give a number
    unsecured_cost: float = 0  # of which Resources secured is not Yes or Not needed


@dataclass
class PersonLine:
    """One row of the per-responsible table."""

    responsible: str  # as typed; NO_ONE for steps without an owner, UNKNOWN_OWNER when it cannot be read
    steps: int = 0
    overdue: int = 0
    without_due_date: int = 0


@dataclass
class Summary:
    file: str
    coalition: str
    as_of: dt.date
    template_version: str | None
    audited_at: dt.datetime
    alignment: float | None  # share of action steps whose chain of service holds; None without steps
    completeness: float | None  # share of required cells filled; None without rows
    steps: int = 0
    steps_aligned: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {s: 0 for s in SEVERITIES})
    rule_counts: dict[str, int] = field(default_factory=dict)  # only rules that fired, catalogue order

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "coalition": self.coalition,
            "as_of": self.as_of.isoformat(),
            "template_version": self.template_version,
            "audited_at": self.audited_at.isoformat(timespec="seconds"),
            "alignment": self.alignment,
            "completeness": self.completeness,
            "steps": self.steps,
            "steps_aligned": self.steps_aligned,
            "counts": dict(self.counts),
            "rule_counts": dict(self.rule_counts),
        }


# -- the three questions, the history and what is coming up ------------------------------------------------

YES, PARTLY, NO, UNKNOWN = "yes", "partly", "no", "unknown"  # the answer to each of the three questions
ANSWERS: tuple[str, ...] = (YES, PARTLY, NO, UNKNOWN)
NOT_STATED = "(not stated)"  # SecuredLine.status of improvements whose Resources secured is blank or invalid


def money(value: float) -> float:
    """Dollars as JSON shows them: a whole number when whole, else rounded to cents."""
    return int(value) if float(value).is_integer() else round(value, 2)


def _figure(key: str, value: float | None) -> float | None:
    """A headline figure for JSON: shares as they are, counts and dollars whole when whole."""
    return value if value is None or key in ("alignment", "completeness") else money(value)


@dataclass
class SecuredLine:
    """Improvements with one Resources secured value, and what they cost."""

    status: str  # one of the Resources secured choices, or NOT_STATED
    improvements: int = 0
    cost: float = 0  # sum of the estimated costs given as numbers


@dataclass
class CostLine:
    """Estimated and unsecured cost of one goal or priority."""

    id: str
    text: str
    estimated_cost: float = 0
    unsecured_cost: float = 0


@dataclass
class Resources:
    """Question 1: are the resources needed to carry out the priorities accounted for?"""

    answer: str
    improvements: int = 0  # proposed improvements in the plan
    needing: int = 0  # of which need resources (Resources needed filled, and not marked Not needed)
    estimated_cost: float = 0
    secured_cost: float = 0  # Resources secured is Yes or Not needed
    unsecured_cost: float = 0  # everything else with a cost (Partly, No, blank)
    by_status: list[SecuredLine] = field(default_factory=list)
    by_goal: list[CostLine] = field(default_factory=list)  # goals with a cost
    by_priority: list[CostLine] = field(default_factory=list)  # priorities with a cost
    without_cost: list[str] = field(default_factory=list)  # IDs of improvements needing resources with no cost

    def to_dict(self) -> dict[str, Any]:
        lines = lambda rows: [  # noqa: E731
            {**vars(r), "estimated_cost": money(r.estimated_cost), "unsecured_cost": money(r.unsecured_cost)}
            for r in rows
        ]
        return {
            "answer": self.answer,
            "improvements": self.improvements,
            "needing_resources": self.needing,
            "estimated_cost": money(self.estimated_cost),
            "secured_cost": money(self.secured_cost),
            "unsecured_cost": money(self.unsecured_cost),
            "by_status": [{"status": b.status, "improvements": b.improvements, "cost": money(b.cost)}
                          for b in self.by_status],
            "by_goal": lines(self.by_goal),
            "by_priority": lines(self.by_priority),
            "without_cost": list(self.without_cost),
        }


@dataclass
class Revisited:
    """Question 2: is the plan revisited regularly (reviewed, progress checked, adjusted)?"""

    answer: str
    cadence: str | None  # the Review cadence, when it is one of the choices
    last_reviewed: dt.date | None
    next_review_due: dt.date | None  # from Last reviewed (or Plan start) and the cadence
    days_overdue: int = 0  # days the next review is late by, as of the audit
    audits: int = 0  # rows in the audit history, this audit included
    previous_audit: dt.date | None = None  # as-of date of the audit before this one

    def to_dict(self) -> dict[str, Any]:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "answer": self.answer,
            "cadence": self.cadence,
            "last_reviewed": iso(self.last_reviewed),
            "next_review_due": iso(self.next_review_due),
            "days_overdue": self.days_overdue,
            "audits": self.audits,
            "previous_audit": iso(self.previous_audit),
        }


@dataclass
class InService:
    """Question 3: is every action step in service of the goals?"""

    answer: str
    steps: int = 0
    aligned: int = 0  # chain of service complete and not marked No
    not_serving: int = 0  # marked No under Serves goal?
    broken_chain: int = 0  # the chain stops short of a priority (and not marked No)

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "alignment": self.aligned / self.steps if self.steps else None}


@dataclass
class StepLine:
    """One action step in a list by person (coming up, overdue)."""

    id: str
    step: str
    due_date: dt.date | None
    status: str
    improvement: str | None  # the improvement's ID, when it exists
    goal: str | None  # the goal's ID, when the chain reaches one

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "due_date": self.due_date.isoformat() if self.due_date else None}


@dataclass
class PersonSteps:
    responsible: str  # as typed; NO_ONE for steps without an owner
    steps: list[StepLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"responsible": self.responsible, "steps": [s.to_dict() for s in self.steps]}


@dataclass
class HistoryRow:
    """One row of the Audit History sheet (keys of ``schema.HISTORY_COLUMNS``); None where a cell is blank."""

    as_of: dt.date
    audited_at: dt.datetime | None = None
    file: str = ""
    template_version: str | None = None
    alignment: float | None = None
    completeness: float | None = None
    errors: int | None = None
    warnings: int | None = None
    info: int | None = None
    steps: int | None = None
    complete: int | None = None
    overdue: int | None = None
    estimated_cost: float | None = None
    secured_cost: float | None = None
    priorities: int | None = None
    goals: int | None = None
    improvements: int | None = None
    measures: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["as_of"] = self.as_of.isoformat()
        out["audited_at"] = self.audited_at.isoformat(timespec="seconds") if self.audited_at else None
        for key in ("estimated_cost", "secured_cost"):
            out[key] = None if out[key] is None else money(out[key])
        return out


@dataclass
class FigureChange:
    """One headline figure now and at the previous audit."""

    key: str  # a key of HistoryRow
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass
class ChangedRow:
    """A row added, removed or changed since a previous version (from ``audit --since``)."""

    change: str  # "Added", "Removed" or "Changed"
    sheet: str  # sheet name
    id: str
    text: str
    fields: list[str] = field(default_factory=list)  # headers of the changed fields


@dataclass
class SinceLast:
    """What changed since the previous audit in the history (and, with --since, row by row)."""

    previous_as_of: dt.date | None  # None when no earlier audit is recorded (only --since tells what changed)
    steps_completed: int | None  # change in the number of Complete steps
    newly_overdue: list[str] = field(default_factory=list)  # open steps that fell due since the previous as-of
    rows: dict[str, int] = field(default_factory=dict)  # sheet name -> change in its number of rows
    figures: list[FigureChange] = field(default_factory=list)
    changes: list[ChangedRow] | None = None  # only with --since

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous_as_of": self.previous_as_of.isoformat() if self.previous_as_of else None,
            "steps_completed": self.steps_completed,
            "newly_overdue": list(self.newly_overdue),
            "rows": dict(self.rows),
            "figures": {
                f.key: {"before": _figure(f.key, f.before), "after": _figure(f.key, f.after),
                        "change": _figure(f.key, f.delta)}
                for f in self.figures
            },
            "changes": None if self.changes is None else [vars(c).copy() for c in self.changes],
        }


@dataclass
class ComingUp:
    """Open steps that fall due within the horizon, by person responsible."""

    horizon_days: int
    until: dt.date
    people: list[PersonSteps] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizon_days": self.horizon_days,
            "until": self.until.isoformat(),
            "people": [p.to_dict() for p in self.people],
        }


@dataclass
class Report:
    summary: Summary
    findings: list[Finding]
    goals: list[GoalLine] = field(default_factory=list)
    people: list[PersonLine] = field(default_factory=list)
    resources: Resources = field(default_factory=lambda: Resources(UNKNOWN))
    revisited: Revisited = field(default_factory=lambda: Revisited(UNKNOWN, None, None, None))
    in_service: InService = field(default_factory=lambda: InService(UNKNOWN))
    coming_up: ComingUp | None = None
    overdue: list[PersonSteps] = field(default_factory=list)
    history: list[HistoryRow] = field(default_factory=list)  # oldest first, this audit included
    since_last: SinceLast | None = None

    def count_at_or_above(self, severity: str) -> int:
        """Findings whose severity is ``severity`` or worse."""
        worst = SEVERITIES[: SEVERITIES.index(severity) + 1]
        return sum(self.summary.counts.get(s, 0) for s in worst)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report; its keys are documented in docs/json.md and only ever gain new ones."""
        return {
            "summary": self.summary.to_dict(),
            "questions": {
                "resources": self.resources.to_dict(),
                "revisited": self.revisited.to_dict(),
                "in_service": self.in_service.to_dict(),
            },
            "findings": [f.to_dict() for f in self.findings],
            "goals": [
                {**vars(g), "estimated_cost": money(g.estimated_cost), "unsecured_cost": money(g.unsecured_cost)}
                for g in self.goals
            ],
            "people": [vars(p).copy() for p in self.people],
            "overdue": [p.to_dict() for p in self.overdue],
            "coming_up": self.coming_up.to_dict() if self.coming_up else None,
            "history": [h.to_dict() for h in self.history],
            "since_last_audit": self.since_last.to_dict() if self.since_last else None,
        }
