"""The audit report as the terminal shows it: a headline, the counts per rule, then one line per finding.

Plain text unless ``color=True`` (the CLI asks for colour only when stdout is a terminal). Every line is cut
to ``width`` characters so a report of about ten findings fits one screen; ``limit`` caps the finding lines
and says where the rest can be seen.
"""

from __future__ import annotations

import re

from ..plan import catalogue, schema
from .report import Report, whole_percent
from .wording import ANSWER_LABELS, ANSWER_RAG, FIGURE_LABELS, QUESTIONS, change, figure, sentence, since_sentence

WIDTH = 100  # characters per line

_RESET = "\033[0m"
_STYLES: dict[str, str] = {
    "error": "\033[31m",  # red
    "warning": "\033[33m",  # yellow
    "info": "\033[36m",  # cyan
    "green": "\033[32m",
    "bold": "\033[1m",
    "dim": "\033[2m",
}


def percent(share: float | None) -> str:
    """A share as a whole percentage, rounded down so 100% means every one (None -> "n/a")."""
    if share is None:
        return "n/a"
    return f"{whole_percent(share)}%"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 or word == "info" else f"{n} {word}s"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _safe(text: str) -> str:
    """Member text with control characters (escape sequences included) shown as "?", so it cannot drive the
    terminal."""
    return _CONTROL.sub("?", text)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)].rstrip() + "..."


# A message that opens by naming a row: "Action step A-7 '...' was due ..." or "Goal on row 12 '...' ...".
_NAMED_ROW = re.compile(r"[^']*? (?P<who>[A-Za-z]+-\d+|row \d+) '")
_MIN_QUOTE = 12  # characters of the row's text kept when a message is squeezed


def _fit(message: str, room: int) -> str:
    """Cut a message to ``room`` characters, keeping the facts that follow the row's name.

    A message that names its row ("Action step A-7 'Draft MOU ...' was due ...") first loses most of the
    quoted row text, then the whole name but the ID ("A-7 was due ..."); only then is its end cut.
    """
    if len(message) <= room:
        return message
    opening = _NAMED_ROW.match(message)
    end = message.find("' ", opening.end()) if opening else -1
    if opening and end > opening.end():
        start = opening.end()
        quoted = message[start:end].removesuffix("...")
        keep = max(len(quoted) - (len(message) - room) - 3, _MIN_QUOTE)
        if keep < len(quoted):
            squeezed = message[:start] + quoted[:keep].rstrip() + "..." + message[end:]
            if len(squeezed) <= room:
                return squeezed
        who = opening.group("who")
        message = who[0].upper() + who[1:] + message[end + 1 :]
    return _cut(message, room)


class Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or style not in _STYLES or not text:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"


def render(report: Report, *, color: bool = False, limit: int | None = None, width: int = WIDTH) -> str:
    """The report as terminal text (lines joined by newlines, with a final newline)."""
    paint = Painter(color)
    summary = report.summary
    lines: list[str] = []

    title = f"Audit of {_safe(summary.file) or 'the plan'}"
    if summary.coalition:
        title += f" ({_safe(summary.coalition)})"
    lines.append(paint(_cut(f"{title}, as of {summary.as_of.isoformat()}", width), "bold"))

    aligned = f"Alignment {percent(summary.alignment)}"
    if summary.steps:
        aligned += f" ({summary.steps_aligned} of {summary.steps} steps)"
    completeness = f"Completeness {percent(summary.completeness)}"
    tallies = [
        (_plural(summary.counts.get(s, 0), s), s if summary.counts.get(s, 0) else "") for s in catalogue.SEVERITIES
    ]
    plain_counts = ", ".join(text for text, _ in tallies)
    counts = ", ".join(paint(text, style) for text, style in tallies)
    if len(f"{aligned}   {completeness}   {plain_counts}") <= width:
        lines.append(f"{aligned}   {completeness}   {counts}")
    else:  # a narrow terminal: one figure per line
        lines.extend([aligned, completeness, counts])

    lines.extend(question_lines(report, paint, width))

    if summary.rule_counts:
        lines.append("")
        slug_width = max(len(slug) for slug in summary.rule_counts)
        for slug, n in summary.rule_counts.items():
            rule = catalogue.RULES_BY_SLUG.get(slug)
            severity = rule.severity if rule else ""
            title_text = rule.title if rule else ""
            lead = f"  {n:>5}  {slug:<{slug_width}}  "
            rest = _cut(f"{severity:<7}  {title_text}", max(width - len(lead), 0))
            lines.append(lead + paint(rest[:7], severity) + rest[7:])

    findings = report.findings
    shown = findings if limit is None else findings[: max(limit, 0)]
    lines.append("")
    if not findings:
        lines.append("No gaps found.")
    else:
        places = [_safe(f"{f.sheet}!{f.cell}" if f.cell else f.sheet) for f in shown]
        place_width = max((len(p) for p in places), default=0)
        rule_width = max((len(f.rule) for f in shown), default=0)
        for place, finding in zip(places, shown, strict=True):
            lead = f"{place:<{place_width}}  "
            severity = f"{finding.severity:<7}"
            middle = f"  {finding.rule:<{rule_width}}  "
            room = width - len(lead) - len(severity) - len(middle)
            message = _fit(_safe(finding.message), max(room, 10))
            lines.append(lead + paint(severity, finding.severity) + middle + message)
        hidden = len(findings) - len(shown)
        if hidden:
            more = f"... and {hidden} more finding{'s' if hidden != 1 else ''}"
            lines.append(paint(_cut(f"{more}: see the {schema.SUMMARY_SHEET} sheet or run with --json", width), "dim"))
    return "\n".join(lines) + "\n"


TREND_LINES = 3  # recent audits the terminal lists
_ANSWER_STYLES: dict[str, str] = {"green": "green", "amber": "warning", "red": "error"}


def question_lines(report: Report, paint: Painter, width: int = WIDTH) -> list[str]:
    """One line per question, then what changed since the last audit, the recent audits and what is coming up."""
    lines = [""]
    name_width = max(len(name) for _, name, _ in QUESTIONS)
    for number, (key, name, _) in enumerate(QUESTIONS, start=1):
        answer = getattr(report, key).answer
        label = ANSWER_LABELS[answer]
        lead = f"{number} {name:<{name_width}}  "
        rest = _cut(f"{label}: {_safe(sentence(report, key))}", max(width - len(lead), 0))
        style = _ANSWER_STYLES[ANSWER_RAG[answer]]
        lines.append(lead + paint(rest[: len(label)], style) + rest[len(label):])
    since = report.since_last
    if since is not None:
        figures = ", ".join(f"{FIGURE_LABELS[f.key].lower()} {change(f)}" for f in since.figures
                            if f.key in ("alignment", "completeness", "errors", "overdue") and f.delta)
        after = f" {since.previous_as_of.isoformat()}" if since.previous_as_of else " the last audit"
        text = f"Since{after}: {since_sentence(since)}"
        if figures and len(f"{text}; {figures}") > width:  # the figures on a line of their own
            lines.extend([_cut(text, width), _cut(f"  {figures}", width)])
        else:
            lines.append(_cut(text + (f"; {figures}" if figures else ""), width))
    recent = report.history[-TREND_LINES:] if len(report.history) >= 2 else []
    for i, h in enumerate(recent):
        lead = "Trend  " if i == 0 else "       "
        lines.append(_cut(
            f"{lead}{h.as_of.isoformat()}  alignment {figure('alignment', h.alignment):>4}  completeness "
            f"{figure('completeness', h.completeness):>4}  errors {figure('errors', h.errors)}  overdue "
            f"{figure('overdue', h.overdue)}",
            width,
        ))
    coming = report.coming_up
    if coming is not None:
        people = "; ".join(
            f"{_safe(p.responsible)} {', '.join(s.id for s in p.steps)}" for p in coming.people
        )
        lines.append(_cut(f"Coming up by {coming.until.isoformat()}: {people or 'nothing falls due'}", width))
    return lines
