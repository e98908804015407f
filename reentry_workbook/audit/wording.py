"""The words every rendering (terminal, summary sheet, brief) uses for the three questions and the trend."""

from __future__ import annotations

import datetime as dt

from .report import NO, PARTLY, UNKNOWN, YES, FigureChange, Report, SinceLast, whole_percent

# (key in the JSON report, short name, the question as the toolkit asks it), in the toolkit's order.
QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("resources", "Resources", "Are the resources needed to carry out the priorities accounted for?"),
    ("revisited", "Revisited", "Is the plan revisited regularly: reviewed, progress checked, adjusted?"),
    ("in_service", "In service", "Is every action step in service of the coalition's goals?"),
)
ANSWER_LABELS: dict[str, str] = {YES: "Yes", PARTLY: "Partly", NO: "No", UNKNOWN: "Not known"}
ANSWER_RAG: dict[str, str] = {YES: "green", PARTLY: "amber", NO: "red", UNKNOWN: "amber"}
FIGURE_LABELS: dict[str, str] = {
    "alignment": "Alignment",
    "completeness": "Completeness",
    "errors": "Errors",
    "warnings": "Warnings",
    "info": "Info",
    "steps": "Action steps",
    "complete": "Steps complete",
    "overdue": "Steps overdue",
    "estimated_cost": "Estimated cost",
    "secured_cost": "Secured cost",
}
SHARES = ("alignment", "completeness")
COSTS = ("estimated_cost", "secured_cost")


def dollars(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.0f}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def answer_of(report: Report, key: str) -> str:
    return getattr(report, key).answer


def sentence(report: Report, key: str) -> str:
    """One sentence answering question ``key`` (without the Yes/Partly/No that goes before it)."""
    if key == "resources":
        r = report.resources
        if r.answer == UNKNOWN:
            return "no proposed improvements yet"
        if not r.needing:
            return "no improvement says it needs resources"
        text = f"{dollars(r.secured_cost)} of {dollars(r.estimated_cost)} estimated is secured"
        if r.unsecured_cost:
            text += f", {dollars(r.unsecured_cost)} is not"
        if r.without_cost:
            text += f"; {plural(len(r.without_cost), 'improvement')} needing resources give no cost"
        return text
    if key == "revisited":
        v = report.revisited
        if v.next_review_due is None:
            return "no review cadence, or no date to count from, on the Coalition sheet"
        due = v.next_review_due.isoformat()
        if v.answer == NO:
            return f"the next {v.cadence} review was due {due}, {plural(v.days_overdue, 'day')} ago"
        last = f"last reviewed {v.last_reviewed.isoformat()}" if v.last_reviewed else "no review recorded yet"
        return f"{last}; next {v.cadence} review due {due}"
    s = report.in_service
    if s.answer == UNKNOWN:
        return "no action steps yet"
    text = f"{s.aligned} of {s.steps} steps serve a goal through a complete chain"
    if s.not_serving:
        text += f"; {s.not_serving} marked not serving"
    if s.broken_chain:
        text += f"; {s.broken_chain} with a broken chain"
    return text


def figure(key: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if key in SHARES:
        return f"{whole_percent(value)}%"
    if key in COSTS:
        return dollars(value)
    return f"{value:g}"


def change(f: FigureChange) -> str:
    """``"+3 pts"``, ``"-2"``, ``"+$5,000"``, ``"no change"``."""
    if f.before is None or f.after is None:
        return "n/a"
    if f.key in SHARES:
        points = whole_percent(f.after) - whole_percent(f.before)
        return "no change" if points == 0 else f"{points:+d} pts"
    delta = f.after - f.before
    if delta == 0:
        return "no change"
    sign = "+" if delta > 0 else "-"
    return f"{sign}{dollars(abs(delta))}" if f.key in COSTS else f"{sign}{abs(delta):g}"


def since_sentence(since: SinceLast) -> str:
    """What changed since the previous audit, in one sentence."""
    parts = []
    if since.steps_completed is not None:
        parts.append(f"{plural(since.steps_completed, 'step')} completed" if since.steps_completed >= 0
                     else f"{plural(-since.steps_completed, 'step')} fewer complete")
    if since.previous_as_of is not None:
        parts.append(f"{len(since.newly_overdue)} newly overdue")
        moved = [f"{name} {n:+d}" for name, n in since.rows.items() if n]
        parts.append("rows " + ", ".join(moved) if moved else "rows unchanged")
    if since.changes is not None:
        parts.append(f"{plural(len(since.changes), 'row')} changed")
    return "; ".join(parts)


def when(due: dt.date | None, as_of: dt.date) -> str:
    """``"overdue by 17 days"``, ``"due today"``, ``"due in 5 days"``."""
    if due is None:
        return "no due date"
    days = (due - as_of).days
    if days < 0:
        return f"overdue by {plural(-days, 'day')}"
    return "due today" if days == 0 else f"due in {plural(days, 'day')}"
