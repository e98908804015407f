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


@dataclass
class Report:
    summary: Summary
    findings: list[Finding]
    goals: list[GoalLine] = field(default_factory=list)
    people: list[PersonLine] = field(default_factory=list)

    def count_at_or_above(self, severity: str) -> int:
        """Findings whose severity is ``severity`` or worse."""
        worst = SEVERITIES[: SEVERITIES.index(severity) + 1]
        return sum(self.summary.counts.get(s, 0) for s in worst)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "goals": [vars(g).copy() for g in self.goals],
            "people": [vars(p).copy() for p in self.people],
        }
