"""The one-page brief for the coalition meeting: one self-contained HTML file, and the same in plain text.

``build_brief`` audits the plan (reading its Audit History and, when there is one, its Merge Conflicts sheet
in the same pass); ``brief_html`` renders it with the kept Jinja2 template ``templates/brief.html.j2``
(autoescaping on: member text is always escaped), with inline CSS, the trend as an inline SVG chart, no
script and no external resource, sized to print on one Letter or A4 page; ``brief_text`` gives the same
content as plain text (for an email body). Lists are capped so the page stays one page; each says how many
more there are and where to see them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..audit.report import HistoryRow, PersonSteps, Report, StepLine
from ..audit.rules import shorten
from ..audit.wording import (
    ANSWER_LABELS,
    ANSWER_RAG,
    FIGURE_LABELS,
    QUESTIONS,
    change,
    figure,
    sentence,
    since_sentence,
    when,
)
from ..plan import schema
from ..plan.model import Plan
from ..xlsx.atomic import atomic_path, check_output
from ..xlsx.cells import SheetCells
from .merge_sheets import CONFLICT_HEADERS

SHOWN_STEPS = 10  # overdue steps, and steps coming up, listed on the page
SHOWN_CONFLICTS = 5
STEP_TEXT = 70  # characters of a step's text shown
SHOWN_CHANGES = 6
TREND_POINTS = 12
CHART = {"width": 300, "height": 120, "left": 34, "right": 8, "top": 8, "bottom": 22}
TREND_SERIES: tuple[tuple[str, str, str], ...] = (  # (key, colour, dash pattern: "" for a solid line)
    ("alignment", "#1F4E78", ""),
    ("completeness", "#548235", "5 3"),
)
HEADLINE: tuple[str, ...] = ("alignment", "completeness", "errors", "warnings", "overdue", "estimated_cost",
                             "secured_cost")


@dataclass
class Conflict:
    """One open row of the Merge Conflicts sheet."""

    kind: str
    sheet: str
    id: str
    field: str
    kept: str
    sent: str
    sent_by: str


@dataclass
class Brief:
    report: Report
    conflicts: list[Conflict] | None = None  # None when the workbook has no Merge Conflicts sheet
    made: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    plan: Plan | None = field(default=None, repr=False)  # the plan read for it (the coalition email's addresses)


def build_brief(
    plan: Path,
    *,
    as_of: dt.date | None = None,
    horizon: int = schema.DEFAULT_HORIZON,
    history: Path | None = None,
    since: Path | None = None,
) -> Brief:
    """Audit ``plan`` (nothing is written) and gather what the brief shows; the plan, its Audit History and its
    Merge Conflicts sheet are read in one pass."""
    from ..audit.pipeline import REPORT_MAKERS, report_of
    from ..audit.reader import read_plan
    from ..xlsx.read_ahead import importing
    from .since import changed_rows

    changes = None if since is None else changed_rows(since, plan)
    ahead = importing((*REPORT_MAKERS, "jinja2"))  # while the reader waits for python-calamine
    read = read_plan(Path(plan), extra=(schema.HISTORY_SHEET, schema.MERGE_CONFLICTS_SHEET), idle=ahead)
    report = report_of(read, as_of=as_of, horizon=horizon, history=history, changes=changes)
    cells = read.extra.get(schema.MERGE_CONFLICTS_SHEET)
    return Brief(report, conflicts=None if cells is None else read_conflicts(cells), plan=read.plan)


def read_conflicts(cells: SheetCells) -> list[Conflict]:
    """The rows left on a Merge Conflicts sheet (the coordinator deletes those they have settled)."""
    wanted = [schema.normalise_header(text) for text, _ in CONFLICT_HEADERS[:7]]
    for r in range(min(10, cells.row_count())):
        found = {schema.normalise_header(v): c for c, v in cells.row_items(r)}
        if all(w in found for w in wanted):
            cols = [found[w] for w in wanted]
            out = []
            for _, values in cells.select(cols, start=r + 1):
                texts = ["" if v is None else str(v).strip() for v in values]
                if any(texts):
                    out.append(Conflict(*texts))
            return out
    return []


def write_brief(brief: Brief, out: Path, *, plan: Path, force: bool = False) -> Path:
    """Write ``brief`` (built from the workbook ``plan``, which is only read) to ``out`` as HTML, atomically."""
    out = Path(out)
    check_output(out, force=force, inputs=(Path(plan),))
    html = brief_html(brief)
    with atomic_path(out) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return out


# -- renderings --------------------------------------------------------------------------------------------


def brief_html(brief: Brief) -> str:
    """The brief as one self-contained HTML page (the kept template, autoescaped)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("reentry_workbook.cycle", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("brief.html.j2").render(**context(brief))


def brief_text(brief: Brief) -> str:
    """The brief as plain text, for an email body: the same sections as the page."""
    c = context(brief)
    lines = [c["title"], c["subtitle"], ""]
    lines += [f"{h['label']}: {h['value']}" + (f" ({h['change']})" if h["change"] else "") for h in c["headline"]]
    lines += ["", "The three questions"]
    lines += [f"{q['number']}. {q['question']} {q['answer']}: {q['detail']}" for q in c["questions"]]
    if c["since"]:
        lines += ["", c["since"]["title"], c["since"]["sentence"]]
        lines += [f"  {row['change']} {row['sheet']} {row['id']} {row['text']}" for row in c["since"]["changes"]]
    for block in (c["overdue"], c["coming"]):
        lines += ["", block["title"]]
        lines += [f"  {s['person']}: {s['id']} {s['step']} ({s['when']})" for s in block["steps"]] or ["  none"]
        if block["more"]:
            lines.append(f"  ... and {block['more']} more")
    if c["conflicts"] is not None:
        lines += ["", c["conflicts"]["title"]]
        lines += [f"  {x.sheet} {x.id} {x.field}: kept {x.kept!r}, {x.sent_by} sent {x.sent!r}"
                  for x in c["conflicts"]["rows"]]
    if c["trend"]:
        lines += ["", "Trend"] + [f"  {p['label']}: {p['text']}" for p in c["trend"]["rows"]]
    return "\n".join(lines) + "\n"


def context(brief: Brief) -> dict[str, Any]:
    """Everything the template shows, as plain values (the template escapes every string)."""
    report = brief.report
    s = report.summary
    as_of = s.as_of
    figures = {f.key: f for f in report.since_last.figures} if report.since_last else {}
    current = report.history[-1] if report.history else None
    headline = [
        {
            "label": FIGURE_LABELS[key],
            "value": figure(key, getattr(current, key) if current else None),
            "change": change(figures[key]) if key in figures else "",
        }
        for key in HEADLINE
    ]
    questions = [
        {
            "number": n,
            "name": name,
            "question": question,
            "answer": ANSWER_LABELS[getattr(report, key).answer],
            "rag": ANSWER_RAG[getattr(report, key).answer],
            "detail": sentence(report, key),
        }
        for n, (key, name, question) in enumerate(QUESTIONS, start=1)
    ]
    coming = report.coming_up
    horizon = f"next {coming.horizon_days} days, to {coming.until.isoformat()}" if coming else ""
    return {
        "title": s.coalition or "Reentry coalition plan",
        "subtitle": f"Plan brief for the coalition meeting, as of {as_of.isoformat()} ({Path(s.file).name})",
        "made": brief.made.strftime("%Y-%m-%d %H:%M"),
        "headline": headline,
        "questions": questions,
        "overdue": _steps("Overdue steps, by person responsible", report.overdue, as_of),
        "coming": _steps(f"Coming up in the {horizon}, by person responsible", coming.people if coming else [],
                         as_of),
        "conflicts": _conflicts(brief.conflicts),
        "since": _since(report),
        "trend": trend_chart(report.history[-TREND_POINTS:]),
        "summary_sheet": schema.SUMMARY_SHEET,
        "history_sheet": schema.HISTORY_SHEET,
        "as_of": as_of.isoformat(),
    }


def _steps(title: str, people: list[PersonSteps], as_of: dt.date) -> dict[str, Any]:
    rows: list[tuple[str, StepLine]] = [(p.responsible, st) for p in people for st in p.steps]
    shown = [
        {"person": person, "id": st.id, "step": shorten(st.step, STEP_TEXT),
         "due": st.due_date.isoformat() if st.due_date else "", "when": when(st.due_date, as_of), "status": st.status}
        for person, st in rows[:SHOWN_STEPS]
    ]
    return {"title": title, "steps": shown, "more": max(len(rows) - SHOWN_STEPS, 0)}


def _conflicts(conflicts: list[Conflict] | None) -> dict[str, Any] | None:
    if conflicts is None:
        return None
    n = len(conflicts)
    title = f"Open merge conflicts: {n}" if n else "Open merge conflicts: none"
    return {"title": title, "rows": conflicts[:SHOWN_CONFLICTS], "more": max(n - SHOWN_CONFLICTS, 0),
            "sheet": schema.MERGE_CONFLICTS_SHEET}


def _since(report: Report) -> dict[str, Any] | None:
    since = report.since_last
    if since is None:
        return None
    after = f" ({since.previous_as_of.isoformat()})" if since.previous_as_of else ""
    changes = since.changes or []
    return {
        "title": f"What changed since the last audit{after}",
        "sentence": since_sentence(since).capitalize() + ".",
        "newly_overdue": ", ".join(since.newly_overdue),
        "changes": [vars(c) for c in changes[:SHOWN_CHANGES]],
        "more": max(len(changes) - SHOWN_CHANGES, 0),
    }


def trend_chart(rows: list[HistoryRow]) -> dict[str, Any] | None:
    """Coordinates of an SVG line chart of alignment and completeness over the audits (two or more)."""
    if len(rows) < 2:
        return None
    w, h = CHART["width"], CHART["height"]
    left, right, top, bottom = CHART["left"], CHART["right"], CHART["top"], CHART["bottom"]
    span = w - left - right
    x_of = [left + span * i / (len(rows) - 1) for i in range(len(rows))]

    values = [v for r in rows for key, _, _ in TREND_SERIES if (v := getattr(r, key)) is not None]
    low = max(0.0, math.floor((min(values, default=0.0) - 0.05) * 10) / 10)  # the axis starts near the data

    def y_of(share: float) -> float:
        return top + (h - top - bottom) * (1 - (max(low, min(1.0, share)) - low) / (1 - low))

    series = []
    for key, colour, dash in TREND_SERIES:
        points = [(x, y_of(v)) for x, v in zip(x_of, (getattr(r, key) for r in rows), strict=True) if v is not None]
        series.append({
            "label": FIGURE_LABELS[key],
            "colour": colour,
            "dash": dash,
            "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
            "markers": [{"x": f"{x:.1f}", "y": f"{y:.1f}"} for x, y in points],
            "last": figure(key, getattr(rows[-1], key)),
        })
    ticks = [{"y": f"{y_of(v):.1f}", "label": f"{round(v * 100)}%"} for v in (low, (low + 1) / 2, 1.0)]
    labels = [{"x": f"{x_of[0]:.1f}", "text": rows[0].as_of.isoformat(), "anchor": "start"},
              {"x": f"{x_of[-1]:.1f}", "text": rows[-1].as_of.isoformat(), "anchor": "end"}]
    table = [
        {"label": r.as_of.isoformat(), "text": ", ".join(
            f"{FIGURE_LABELS[k].lower()} {figure(k, getattr(r, k))}" for k in ("alignment", "completeness", "errors",
                                                                             "overdue"))}
        for r in rows
    ]
    description = "; ".join(f"{row['label']}: {row['text']}" for row in table)
    return {"width": w, "height": h, "series": series, "ticks": ticks, "labels": labels, "left": left,
            "right": w - right, "bottom": h - bottom, "rows": table, "description": description,
            "audits": len(rows)}
