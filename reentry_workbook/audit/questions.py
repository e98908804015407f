"""The toolkit's three questions, answered from a plan: resources, revisited, in service; and the steps by person.

- **Resources** (question 1): the estimated cost of the proposed improvements (those whose Estimated cost is
  a number), split by Resources secured. Secured cost is the cost of improvements marked Yes or Not needed;
  unsecured cost is everything else (Partly counts as unsecured: the plan does not say how much is in hand).
  Answer: yes when nothing that needs resources is unsecured or without a cost; no when resources are needed
  and none of those improvements is marked Yes; partly otherwise; unknown without improvements.
- **Revisited** (question 2): the next review falls due one cadence after Last reviewed (or after Plan start
  when no review is recorded). Answer: yes when it is not past due as of the audit, no when it is (the
  ``plan-review-overdue`` rule), unknown without a cadence or a date to count from.
- **In service** (question 3): the alignment figure, with the steps marked No and those whose chain of
  service stops short. Answer: yes when every step is aligned, partly when at least half are, no below half,
  unknown without steps.
- **Coming up**: open steps (not Complete or Dropped) due from the as-of date to ``horizon`` days after it;
  **overdue**: open steps due before the as-of date. Both grouped by person responsible like the per-person
  table, steps by due date.
"""

from __future__ import annotations

import datetime as dt

from ..plan import schema
from ..plan.model import Plan, PlanIndex, Record, as_date, is_blank, is_unknown
from .report import (
    NO,
    NO_ONE,
    NOT_STATED,
    PARTLY,
    UNKNOWN,
    UNKNOWN_OWNER,
    YES,
    ComingUp,
    CostLine,
    GoalLine,
    InService,
    PersonSteps,
    Report,
    Resources,
    Revisited,
    SecuredLine,
    StepLine,
)
from .rules import cost_of, needs_resources

SECURED: tuple[str, ...] = (schema.RESOURCES_SECURED_YES, schema.RESOURCES_NOT_NEEDED)
DEFAULT_HORIZON = schema.DEFAULT_HORIZON
PERSON_ORDER: dict[str, int] = {UNKNOWN_OWNER: 1, NO_ONE: 2}  # after the named people, as in the people table


def _text(rec: Record, key: str) -> str:
    value = rec.get(key)
    return "" if is_blank(value) else " ".join(str(value).split())


def resources(plan: Plan, goals: list[GoalLine], index: PlanIndex | None = None) -> Resources:
    """Question 1, and the estimated and unsecured cost of each line of ``goals`` (set in place)."""
    improvements = plan.rows("improvements")
    if not improvements:
        return Resources(UNKNOWN)
    statuses = [*schema.CHOICES["resources_secured"], NOT_STATED]
    by_status = {s: SecuredLine(s) for s in statuses}
    index = index or plan.index()
    per_goal: dict[str, CostLine] = {}
    per_priority: dict[str, CostLine] = {}
    out = Resources(UNKNOWN, improvements=len(improvements))
    unsecured_needing = secured_needing = 0
    for rec in improvements:
        status = rec.get("resources_secured")
        line = by_status.get(status) if isinstance(status, str) else None
        line = line or by_status[NOT_STATED]
        line.improvements += 1
        cost = cost_of(rec)
        secured = status in SECURED
        if needs_resources(rec):
            out.needing += 1
            secured_needing += status == schema.RESOURCES_SECURED_YES
            unsecured_needing += not secured
            if cost is None and rec.id is not None and not is_unknown(rec.get("estimated_cost")):
                out.without_cost.append(rec.id)
        if cost is None:
            continue
        line.cost += cost
        out.estimated_cost += cost
        unsecured = 0 if secured else cost
        out.secured_cost += cost - unsecured
        out.unsecured_cost += unsecured
        goal = index.parent(rec)
        if goal is None or goal.id is None:
            continue
        g = per_goal.setdefault(goal.id, CostLine(goal.id, _text(goal, "goal")))
        g.estimated_cost += cost
        g.unsecured_cost += unsecured
        priority = index.parent(goal)
        if priority is not None and priority.id is not None:
            p = per_priority.setdefault(priority.id, CostLine(priority.id, _text(priority, "priority")))
            p.estimated_cost += cost
            p.unsecured_cost += unsecured
    out.by_status = [line for line in by_status.values() if line.improvements]
    out.by_goal = list(per_goal.values())
    out.by_priority = list(per_priority.values())
    for goal_line in goals:
        cost_line = per_goal.get(goal_line.id)
        if cost_line is not None:
            goal_line.estimated_cost = cost_line.estimated_cost
            goal_line.unsecured_cost = cost_line.unsecured_cost
    if not out.needing or (not unsecured_needing and not out.without_cost):
        out.answer = YES
    elif not secured_needing:
        out.answer = NO
    else:
        out.answer = PARTLY
    return out


def next_review(plan: Plan) -> tuple[str | None, dt.date | None, dt.date | None]:
    """(cadence, last reviewed, next review due) from the Coalition sheet; None where unknown."""
    cadence = plan.coalition.get("review_cadence")
    days = schema.FREQUENCY_DAYS.get(cadence) if isinstance(cadence, str) else None
    last = as_date(plan.coalition.get("last_reviewed"))
    base = last if last is not None else as_date(plan.coalition.get("plan_start"))
    due = base + dt.timedelta(days=days) if days is not None and base is not None else None
    return (cadence if days is not None else None), last, due


def revisited(plan: Plan, as_of: dt.date) -> Revisited:
    """Question 2 (the history fields are filled in once the history is known)."""
    cadence, last, due = next_review(plan)
    if due is None:
        return Revisited(UNKNOWN, cadence, last, None)
    late = (as_of - due).days
    return Revisited(NO if late > 0 else YES, cadence, last, due, days_overdue=max(late, 0))


def in_service(steps: int, aligned: int, plan: Plan) -> InService:
    """Question 3 from the alignment figures."""
    not_serving = sum(s.serves_goal_no() for s in plan.rows("steps"))
    out = InService(UNKNOWN, steps, aligned, not_serving, max(steps - aligned - not_serving, 0))
    if steps:
        out.answer = YES if aligned == steps else PARTLY if aligned * 2 >= steps else NO
    return out


def person_key(name: str) -> str:
    """How steps are grouped by person: case and spacing ignored."""
    return " ".join(name.split()).casefold()


def _group(groups: dict[str, PersonSteps], step: Record, due: dt.date, index: PlanIndex) -> None:
    """Add an open step to its person's list (grouped like the per-person table)."""
    owner = step.get("responsible")
    shown = NO_ONE if is_blank(owner) else UNKNOWN_OWNER if is_unknown(owner) else _text(step, "responsible")
    group = groups.setdefault(person_key(shown), PersonSteps(shown))
    chain = index.chain(step)
    group.steps.append(
        StepLine(
            id=step.id or "",
            step=_text(step, "step"),
            due_date=due,
            status=_text(step, "status"),
            improvement=None if chain.improvement is None else chain.improvement.id,
            goal=None if chain.goal is None else chain.goal.id,
        )
    )


def _by_person(groups: dict[str, PersonSteps]) -> list[PersonSteps]:
    """Named people alphabetically, then UNKNOWN_OWNER, then NO_ONE; each person's steps by due date, then sheet
    order."""
    for group in groups.values():
        group.steps.sort(key=lambda s: s.due_date or dt.date.max)  # stable: sheet order among equal dates
    return sorted(groups.values(), key=lambda g: (PERSON_ORDER.get(g.responsible, 0), person_key(g.responsible)))


def coming_up_and_overdue(
    plan: Plan, as_of: dt.date, horizon: int = DEFAULT_HORIZON, index: PlanIndex | None = None
) -> tuple[ComingUp, list[PersonSteps]]:
    """The open steps due from ``as_of`` to ``horizon`` days after it, and those due before it (the rule's
    overdue), by person, in one walk over the steps."""
    index = index or plan.index()
    until = as_of + dt.timedelta(days=horizon)
    coming: dict[str, PersonSteps] = {}
    late: dict[str, PersonSteps] = {}
    for step in plan.rows("steps"):
        values = step.values  # Record.is_closed and Record.date, inlined: this runs for every step
        if values.get("status") in schema.CLOSED_STATUSES:
            continue
        due = as_date(values.get("due_date"))
        if due is None:
            continue
        if due < as_of:
            _group(late, step, due, index)
        elif due <= until:
            _group(coming, step, due, index)
    return ComingUp(horizon, until, _by_person(coming)), _by_person(late)


def answer_questions(
    report: Report, plan: Plan, *, horizon: int = DEFAULT_HORIZON, index: PlanIndex | None = None
) -> None:
    """Fill in the report's three questions, its coming-up and overdue lists, and the per-goal costs (``index``:
    the plan's navigation, when the caller shares one with the report's figures)."""
    as_of = report.summary.as_of
    index = index or plan.index()
    report.resources = resources(plan, report.goals, index)
    report.revisited = revisited(plan, as_of)
    report.in_service = in_service(report.summary.steps, report.summary.steps_aligned, plan)
    report.coming_up, report.overdue = coming_up_and_overdue(plan, as_of, horizon, index)
