"""The catalogue of alignment gaps: each rule declared once, with its stable slug, severity, title and fix.

Slugs are a public interface (scripts and other tools filter on them); never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Rule:
    slug: str
    severity: str
    title: str
    fix: str


RULES: tuple[Rule, ...] = (
    Rule("duplicate-id", "error", "Two rows share an ID", "Give one of the rows the next free ID on its sheet."),
    Rule(
        "broken-link",
        "error",
        "A reference names a row that does not exist",
        "Pick the parent again from the dropdown, or add the missing row.",
    ),
    Rule(
        "step-without-improvement",
        "error",
        "Action step names no proposed improvement",
        "Pick the improvement this step moves forward in the Improvement column.",
    ),
    Rule(
        "improvement-without-goal",
        "error",
        "Proposed improvement names no goal",
        "Pick the goal this improvement serves in the Goal column.",
    ),
    Rule(
        "goal-without-improvement",
        "error",
        "Goal has no proposed improvement",
        "Add at least one proposed improvement for this goal on the Improvements sheet.",
    ),
    Rule(
        "step-overdue",
        "error",
        "Action step is past its due date",
        "Mark it Complete or Dropped, or agree a new due date and record why in Notes.",
    ),
    Rule("goal-without-priority", "warning", "Goal names no priority", "Pick the priority this goal serves."),
    Rule(
        "priority-without-goal",
        "warning",
        "Priority has no goal",
        "Add a measurable goal for this priority, or remove the priority.",
    ),
    Rule(
        "improvement-without-step",
        "warning",
        "Proposed improvement has no action step",
        "Add at least one action step that moves this improvement forward.",
    ),
    Rule(
        "improvement-without-measure",
        "warning",
        "Proposed improvement has no performance measure",
        "Add a performance measure for it on the Measures sheet.",
    ),
    Rule(
        "improvement-without-mechanism",
        "warning",
        "No mechanism chosen",
        "Choose how the change will be made in the Mechanism column.",
    ),
    Rule(
        "improvement-without-stakeholder",
        "warning",
        "No stakeholders or decision makers named",
        "Name whose agreement the change needs.",
    ),
    Rule(
        "resources-unsecured",
        "warning",
        "Resources needed but not secured",
        "Find the resources, or set Resources secured to Partly or Yes once they are in hand.",
    ),
    Rule(
        "goal-not-measurable",
        "warning",
        "Goal is not measurable",
        "Fill in the success measure, the target and the target date.",
    ),
    Rule("measure-without-target", "warning", "Performance measure has no target", "Set a target value."),
    Rule("step-without-owner", "warning", "Action step has no one responsible", "Name who answers for it."),
    Rule("step-without-due-date", "warning", "Action step is not time-bound", "Give it a due date."),
    Rule(
        "step-not-serving-goal",
        "warning",
        "Action step does not serve its goal",
        "Rework or drop the step, or say in 'How it serves the goal' how it helps.",
    ),
    Rule(
        "step-dates-reversed",
        "warning",
        "Start date is after the due date",
        "Correct the start date or the due date.",
    ),
    Rule(
        "plan-review-overdue",
        "warning",
        "The plan has not been reviewed as often as agreed",
        "Hold a review of the whole plan and update Last reviewed on the Coalition sheet.",
    ),
    Rule(
        "invalid-choice",
        "warning",
        "Value is not one of the column's choices",
        "Pick a value from the cell's dropdown.",
    ),
    Rule(
        "unreadable-date",
        "warning",
        "Date cannot be read",
        "Type the date as year-month-day, e.g. 2027-03-15.",
    ),
    Rule(
        "formula-in-text",
        "warning",
        "Formula where text or a date belongs",
        "Replace the formula with the value itself; formulas in plan cells are never evaluated.",
    ),
    Rule(
        "error-value",
        "warning",
        "Cell holds a spreadsheet error value",
        "Replace the error (#REF!, #N/A, ...) with the value meant.",
    ),
    Rule(
        "missing-id",
        "warning",
        "Row has content but no ID",
        "Give the row the next free ID on its sheet so copies can be matched.",
    ),
    Rule(
        "date-as-text",
        "info",
        "Date typed as text",
        "Nothing is wrong, but a real date sorts and filters better: retype it as 2027-03-15.",
    ),
    Rule(
        "resources-without-cost",
        "info",
        "Resources needed but no estimated cost",
        "Enter a rough figure in dollars under Estimated cost, or set Resources secured to Not needed.",
    ),
    Rule(
        "step-outside-plan-period",
        "info",
        "Due date outside the plan period",
        "Move the due date into the plan period, or extend the plan on the Coalition sheet.",
    ),
    Rule(
        "measure-stale",
        "info",
        "Performance measure reading is out of date",
        "Record a new reading and its date.",
    ),
    Rule("measure-without-baseline", "info", "Performance measure has no baseline", "Record where it starts."),
)

RULES_BY_SLUG: dict[str, Rule] = {r.slug: r for r in RULES}

# The reader's rules for a cell it cannot take at face value (a ``model.Unknown``): such a cell is filled, not
# blank, and gets exactly one finding, one of these.
UNKNOWN_CELL_RULES: tuple[str, ...] = ("formula-in-text", "error-value", "unreadable-date")
UNKNOWN_CELL_NOTE = (
    "A cell holding a formula (never evaluated), an error value or a date that cannot be read is filled, not "
    "blank: it gets exactly one finding ({rules}) and no \"without\" rule, completeness counts it as filled, "
    "the per-person table lists a Responsible that cannot be read as {unknown_owner}, and a date that cannot be "
    "read is never overdue. A step whose improvement (or that improvement's goal, or that goal's priority) "
    "cannot be read is not an error, but it cannot be shown to serve a goal, so it does not count as aligned."
)


def rule(slug: str) -> Rule:
    return RULES_BY_SLUG[slug]
