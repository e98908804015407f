"""The structural rules: every alignment gap of the catalogue that is computed from the plan model.

The reader reports what it meets while reading cells (invalid-choice, unreadable-date, date-as-text,
formula-in-text, error-value, missing-id); :func:`check` computes every other rule of
:data:`catalogue.RULES` from a :class:`model.Plan`. Each finding takes its severity and fix from the
catalogue, points at the most useful cell and names the row in plain language.

Decisions the brief leaves open, applied consistently here and in :mod:`figures`:

- A reference is *blank* when its cell is empty; it is *broken* when it holds anything that is not the
  ID of a row of the parent sheet (an ID of a deleted row, or text that names nothing). A blank reference
  gives the rule for the missing link (step-without-improvement, improvement-without-goal,
  goal-without-priority); a broken one gives broken-link. A measure has no rule for a blank improvement:
  the completeness figure counts it.
- "Has no child" rules (goal-without-improvement, priority-without-goal, improvement-without-step,
  improvement-without-measure) look for rows naming the parent's ID, whatever else those rows lack. They
  skip rows without an ID: nothing can name such a row until it gets one, and the reader already reports
  missing-id. When two rows share an ID, rows naming that ID count for both.
- Closed steps (``schema.CLOSED_STATUSES``: Complete, Dropped) are finished business: step-overdue,
  step-without-due-date, step-without-owner, step-outside-plan-period and step-not-serving-goal skip them.
  The structural rules (duplicate-id, broken-link, step-without-improvement, step-dates-reversed) apply to
  every step. A step with a blank or invalid status is open.
- "Without" rules fire on blank cells only. A cell holding an invalid choice, or one the reader could not take
  at face value (a formula, an error value, an unreadable date: a :class:`model.Unknown`), is not blank; the
  reader gives it its one finding (invalid-choice, formula-in-text, error-value, unreadable-date) and no rule
  here adds another. An unknown reference names no row: it is neither blank nor broken, and the step (or
  improvement, goal) it belongs to cannot be shown to serve a goal, which the alignment figure counts; a parent
  whose only child names it through an unknown cell still gets its "has no child" rule. An unknown date is
  never overdue, reversed or outside the plan period; an unknown status leaves a step open.
- resources-without-cost: an improvement whose Resources needed is filled, whose Resources secured is not Not
  needed, and whose Estimated cost is blank or not a number.
- resources-unsecured: an improvement whose Resources needed is filled and whose Resources secured is No
  or blank (Partly, Yes and Not needed are accepted).
- step-not-serving-goal: Serves goal? is No, or Partly with "How it serves the goal" blank. A blank Serves
  goal? gives no finding here (it counts against completeness).
- goal-not-measurable: one finding per goal, at the first of success measure, target, target date that is
  blank; the message names all the blank ones.
- plan-review-overdue: Last reviewed + the review cadence's days (``schema.FREQUENCY_DAYS``) is before the
  as-of date; with Last reviewed blank, when the plan started more than one cadence before the as-of date.
  No finding without a valid cadence, or with neither date.
- measure-stale: likewise from Latest as of and the measure's reporting frequency; a measure with no
  reading is stale once the plan started more than one period before the as-of date.
- step-outside-plan-period: an open step's due date before Plan start or after Plan end (either bound
  alone is enough).
- duplicate-id: one finding on every row after the first that uses an ID, at its ID cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..plan import catalogue, schema
from ..plan.model import Finding, Plan, Record, as_date, is_blank, is_unknown, written

TEXT_LIMIT = 48  # characters of a row's text quoted in a message

# Blank references and the rule each gives: (child sheet key, column key) -> slug.
BLANK_REFERENCE_RULES: dict[tuple[str, str], str] = {
    ("steps", "improvement"): "step-without-improvement",
    ("improvements", "goal"): "improvement-without-goal",
    ("goals", "priority"): "goal-without-priority",
}

# Parents that need children: (parent sheet key, child sheet key, child's reference column) -> slug.
CHILD_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("priorities", "goals", "priority", "priority-without-goal"),
    ("goals", "improvements", "goal", "goal-without-improvement"),
    ("improvements", "steps", "improvement", "improvement-without-step"),
    ("improvements", "measures", "improvement", "improvement-without-measure"),
)

# Cells that must not be blank: (sheet key, column key, slug, applies to closed steps too).
BLANK_CELL_RULES: tuple[tuple[str, str, str, bool], ...] = (
    ("improvements", "mechanism", "improvement-without-mechanism", True),
    ("improvements", "stakeholders", "improvement-without-stakeholder", True),
    ("measures", "target", "measure-without-target", True),
    ("measures", "baseline", "measure-without-baseline", True),
    ("steps", "responsible", "step-without-owner", False),
    ("steps", "due_date", "step-without-due-date", False),
)

# The columns that make a goal measurable, in the order the finding points at them.
MEASURABLE_COLUMNS: tuple[str, ...] = ("success_measure", "target", "target_date")


# --- small helpers ---------------------------------------------------------------------------------


def shorten(text: Any, limit: int = TEXT_LIMIT) -> str:
    """One-line text cut to ``limit`` characters, with "..." when cut."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def row_name(record: Record) -> str:
    """How a message names a row: "Action step A-7 'Draft MOU ...'", or by worksheet row without an ID."""
    sheet = schema.sheet(record.sheet)
    noun = sheet.column(sheet.label).header
    if record.id is not None:
        where = f"{noun} {record.id}"
    elif record.row:
        where = f"{noun} on row {record.row}"
    else:
        where = f"{noun} without an ID"
    text = written(record.get(sheet.label))
    return where if is_blank(text) else f"{where} '{shorten(text)}'"


_ROW_NUMBER = re.compile(r"(\d+)$")


def cell_row(cell: str) -> int:
    """The worksheet row of an A1 reference ("J7" -> 7); 0 for no cell."""
    match = _ROW_NUMBER.search(cell or "")
    return int(match.group(1)) if match else 0


_SHEET_ORDER: dict[str, int] = {name: i for i, name in enumerate(schema.SHEET_ORDER)}


def location_key(finding: Finding) -> tuple[int, int]:
    """Declaration order of a finding's sheet, then its row (whole-sheet findings first)."""
    return _SHEET_ORDER.get(finding.sheet, len(_SHEET_ORDER)), cell_row(finding.cell)


# --- the rules --------------------------------------------------------------------------------------


class _Context:
    """What every rule needs, built once per plan (ID maps, referenced IDs), so no rule is quadratic."""

    def __init__(self, plan: Plan, as_of: dt.date) -> None:
        self.plan = plan
        self.as_of = as_of
        self.ids: dict[str, set[str]] = {
            s.key: {r.id for r in plan.rows(s.key) if r.id is not None} for s in schema.SHEETS if s.id_prefix
        }
        self.plan_start = as_date(plan.coalition.get("plan_start"))
        self.plan_end = as_date(plan.coalition.get("plan_end"))

    def finding(self, slug: str, record: Record | None, column_key: str, message: str) -> Finding:
        rule = catalogue.rule(slug)
        if record is None:  # a Coalition field
            sheet_name = schema.COALITION_SHEET
            cell = self.plan.source.coalition_cells.get(column_key, "")
            row_id = None
        else:
            sheet_name = schema.sheet(record.sheet).name
            cell = self.plan.source.cell(record.sheet, column_key, record.row)
            row_id = record.id
        return Finding(rule.slug, rule.severity, sheet_name, cell, row_id, message, rule.fix)

    def referenced(self, child_key: str, column_key: str) -> set[str]:
        return {ref for r in self.plan.rows(child_key) if (ref := r.reference(column_key)) is not None}


def _header(sheet_key: str, column_key: str) -> str:
    return schema.sheet(sheet_key).column(column_key).header


def _duplicate_ids(ctx: _Context) -> Iterator[Finding]:
    for sheet in schema.SHEETS:
        if not sheet.id_prefix:
            continue
        first: dict[str, Record] = {}
        for rec in ctx.plan.rows(sheet.key):
            if rec.id is None:
                continue
            if rec.id not in first:
                first[rec.id] = rec
                continue
            earlier = first[rec.id]
            where = f"{sheet.name} row {earlier.row}" if earlier.row else f"another row of {sheet.name}"
            yield ctx.finding("duplicate-id", rec, "id", f"{row_name(rec)} repeats the ID of {where}")


def _references(ctx: _Context) -> Iterator[Finding]:
    for sheet in schema.SHEETS:
        for col in sheet.reference_columns:
            assert col.ref is not None
            parent = schema.sheet(col.ref)
            known = ctx.ids[col.ref]
            blank_rule = BLANK_REFERENCE_RULES.get((sheet.key, col.key))
            parent_noun = parent.column(parent.label).header.lower()
            for rec in ctx.plan.rows(sheet.key):
                ref = rec.reference(col.key)
                if ref is None:
                    if blank_rule and is_blank(rec.get(col.key)):
                        yield ctx.finding(
                            blank_rule,
                            rec,
                            col.key,
                            f"{row_name(rec)} leaves '{col.header}' blank, so it serves no {parent_noun}",
                        )
                elif ref not in known:
                    yield ctx.finding(
                        "broken-link",
                        rec,
                        col.key,
                        f"{row_name(rec)} names '{shorten(ref)}', but {parent.name} has no such row",
                    )


def _children(ctx: _Context) -> Iterator[Finding]:
    for parent_key, child_key, column_key, slug in CHILD_RULES:
        named = ctx.referenced(child_key, column_key)
        child = schema.sheet(child_key)
        child_noun = child.column(child.label).header.lower()
        for rec in ctx.plan.rows(parent_key):
            if rec.id is not None and rec.id not in named:
                message = f"{row_name(rec)} has no {child_noun}: no row of {child.name} names {rec.id}"
                yield ctx.finding(slug, rec, "id", message)


def _blank_cells(ctx: _Context) -> Iterator[Finding]:
    for sheet_key, column_key, slug, closed_too in BLANK_CELL_RULES:
        header = _header(sheet_key, column_key)
        for rec in ctx.plan.rows(sheet_key):
            if not is_blank(rec.get(column_key)):
                continue
            if not closed_too and rec.is_closed():
                continue
            yield ctx.finding(slug, rec, column_key, f"{row_name(rec)} leaves '{header}' blank")


def needs_resources(improvement: Record) -> bool:
    """Resources needed is filled and Resources secured is not Not needed."""
    return improvement.filled("resources_needed") and (
        improvement.get("resources_secured") != schema.RESOURCES_NOT_NEEDED
    )


def cost_of(improvement: Record) -> float | None:
    """The improvement's estimated cost in dollars, when it is a number (text such as "TBD" is not)."""
    cost = improvement.get("estimated_cost")
    if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not math.isfinite(cost):
        return None
    return cost


def _resources(ctx: _Context) -> Iterator[Finding]:
    header = _header("improvements", "resources_secured")
    cost_header = _header("improvements", "estimated_cost")
    for rec in ctx.plan.rows("improvements"):
        if is_blank(rec.get("resources_needed")):
            continue
        raw = rec.get("estimated_cost")
        if needs_resources(rec) and cost_of(rec) is None and not is_unknown(raw):  # the reader reports an Unknown
            state = "is blank" if is_blank(raw) else f"is '{shorten(raw, 24)}', not a sum"
            message = f"{row_name(rec)} needs resources but '{cost_header}' {state}"
            yield ctx.finding("resources-without-cost", rec, "estimated_cost", message)
        secured = rec.get("resources_secured")
        if is_blank(secured):
            state = f"'{header}' is blank"
        elif secured == schema.RESOURCES_SECURED_NO:
            state = f"'{header}' is {secured}"
        else:
            continue
        needed = shorten(rec.get("resources_needed"), 24)
        yield ctx.finding(
            "resources-unsecured", rec, "resources_secured", f"{row_name(rec)} needs '{needed}' but {state}"
        )


def _measurable(ctx: _Context) -> Iterator[Finding]:
    for rec in ctx.plan.rows("goals"):
        missing = [key for key in MEASURABLE_COLUMNS if is_blank(rec.get(key))]
        if missing:
            names = " and ".join(f"'{_header('goals', key)}'" for key in missing)
            verb = "is" if len(missing) == 1 else "are"
            yield ctx.finding(
                "goal-not-measurable", rec, missing[0], f"{row_name(rec)} is not measurable: {names} {verb} blank"
            )


def _steps(ctx: _Context) -> Iterator[Finding]:
    serves_header = _header("steps", "serves_goal")
    how_header = _header("steps", "how_it_serves")
    for rec in ctx.plan.rows("steps"):
        start = as_date(rec.get("start_date"))
        due = as_date(rec.get("due_date"))
        if start is not None and due is not None and start > due:
            yield ctx.finding(
                "step-dates-reversed",
                rec,
                "start_date",
                f"{row_name(rec)} starts {start.isoformat()}, after its due date {due.isoformat()}",
            )
        if rec.is_closed():
            continue
        if rec.is_overdue(ctx.as_of):
            assert due is not None
            status = rec.get("status")
            state = "has no status" if is_blank(status) else f"is {status}"
            yield ctx.finding("step-overdue", rec, "due_date", f"{row_name(rec)} was due {due.isoformat()} and {state}")
        serves = rec.get("serves_goal")
        if serves == schema.SERVES_GOAL_NO:
            yield ctx.finding(
                "step-not-serving-goal",
                rec,
                "serves_goal",
                f"{row_name(rec)} is marked {serves} under '{serves_header}'",
            )
        elif serves == schema.SERVES_GOAL_PARTLY and is_blank(rec.get("how_it_serves")):
            yield ctx.finding(
                "step-not-serving-goal",
                rec,
                "how_it_serves",
                f"{row_name(rec)} is marked {serves} but '{how_header}' is blank",
            )
        if due is not None:
            if ctx.plan_start is not None and due < ctx.plan_start:
                yield ctx.finding(
                    "step-outside-plan-period",
                    rec,
                    "due_date",
                    f"{row_name(rec)} is due {due.isoformat()}, before the plan starts {ctx.plan_start.isoformat()}",
                )
            elif ctx.plan_end is not None and due > ctx.plan_end:
                yield ctx.finding(
                    "step-outside-plan-period",
                    rec,
                    "due_date",
                    f"{row_name(rec)} is due {due.isoformat()}, after the plan ends {ctx.plan_end.isoformat()}",
                )


def _overdue_since(last: dt.date | None, start: dt.date | None, frequency: Any, as_of: dt.date) -> dt.date | None:
    """When the next update fell due, if that is before ``as_of``; None when nothing is late or unknown."""
    days = schema.FREQUENCY_DAYS.get(frequency) if isinstance(frequency, str) else None
    base = last if last is not None else start
    if days is None or base is None:
        return None
    due = base + dt.timedelta(days=days)
    return due if due < as_of else None


def _plan_review(ctx: _Context) -> Iterator[Finding]:
    cadence = ctx.plan.coalition.get("review_cadence")
    last = as_date(ctx.plan.coalition.get("last_reviewed"))
    if last is None and not is_blank(ctx.plan.coalition.get("last_reviewed")):
        return  # unreadable: the reader reports it
    due = _overdue_since(last, ctx.plan_start, cadence, ctx.as_of)
    if due is None:
        return
    label = schema.coalition_field("last_reviewed").label
    if last is not None:
        message = (
            f"The plan was last reviewed {last.isoformat()}; with a {cadence} review cadence "
            f"the next review was due by {due.isoformat()}"
        )
    else:
        assert ctx.plan_start is not None
        message = (
            f"'{label}' is blank and the plan started {ctx.plan_start.isoformat()}; with a {cadence} "
            f"review cadence the first review was due by {due.isoformat()}"
        )
    yield ctx.finding("plan-review-overdue", None, "last_reviewed", message)


def _measures_stale(ctx: _Context) -> Iterator[Finding]:
    for rec in ctx.plan.rows("measures"):
        raw = rec.get("latest_as_of")
        last = as_date(raw)
        if last is None and not is_blank(raw):
            continue  # unreadable: the reader reports it
        frequency = rec.get("reporting_frequency")
        due = _overdue_since(last, ctx.plan_start, frequency, ctx.as_of)
        if due is None:
            continue
        if last is not None:
            message = (
                f"{row_name(rec)} was last read {last.isoformat()}; a new reading was due by "
                f"{due.isoformat()} ({frequency})"
            )
        else:
            message = f"{row_name(rec)} has no reading yet; one was due by {due.isoformat()} ({frequency})"
        yield ctx.finding("measure-stale", rec, "latest_as_of", message)


_RULES: tuple[Callable[[_Context], Iterable[Finding]], ...] = (
    _duplicate_ids,
    _references,
    _children,
    _blank_cells,
    _resources,
    _measurable,
    _steps,
    _plan_review,
    _measures_stale,
)

# The slugs check() computes; the reader computes the rest of the catalogue.
COMPUTED: tuple[str, ...] = (
    "duplicate-id",
    "broken-link",
    "step-without-improvement",
    "improvement-without-goal",
    "goal-without-improvement",
    "step-overdue",
    "goal-without-priority",
    "priority-without-goal",
    "improvement-without-step",
    "improvement-without-measure",
    "improvement-without-mechanism",
    "improvement-without-stakeholder",
    "resources-unsecured",
    "goal-not-measurable",
    "measure-without-target",
    "step-without-owner",
    "step-without-due-date",
    "step-not-serving-goal",
    "step-dates-reversed",
    "plan-review-overdue",
    "resources-without-cost",
    "step-outside-plan-period",
    "measure-stale",
    "measure-without-baseline",
)


def check(plan: Plan, as_of: dt.date) -> list[Finding]:
    """Every structural gap of the plan as of ``as_of``, in sheet order then row order.

    Linear in the size of the plan: ID maps and referenced-ID sets are built once.
    """
    ctx = _Context(plan, as_of)
    findings = [f for rule in _RULES for f in rule(ctx)]
    findings.sort(key=location_key)
    return findings
