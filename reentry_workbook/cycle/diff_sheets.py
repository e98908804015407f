"""Renderings of a plan diff: the terminal text and the workbook for the review meeting."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..plan import schema
from ..plan.catalogue import SEVERITIES
from ..xlsx.atomic import atomic_path, check_output, write_failed
from ..xlsx.identity import check_extension
from .diff import ADDED, CHANGED, KINDS, REMOVED, FieldChange, PlanDiff, RowChange, field_label, sheet_label
from .roundtrip import display, write_table

# Header texts and widths of the diff workbook's sheets (declared once; tests read them from here).
CHANGE_HEADERS: tuple[tuple[str, float], ...] = (
    ("Change", 10),
    ("Sheet", 14),
    ("ID", 10),
    ("Row", 40),
    ("Field", 22),
    ("Before", 34),
    ("After", 34),
)
SUMMARY_HEADERS: tuple[tuple[str, float], ...] = (("", 30), ("Before", 34), ("After", 34))
LABEL_FILE = "File"
LABEL_ALIGNMENT = "Alignment"
LABEL_COMPLETENESS = "Completeness"
LABEL_STEPS = "Action steps"


def percent(share: float | None) -> str:
    from ..audit.terminal import percent as audit_percent

    return audit_percent(share)


def figure_rows(diff: PlanDiff) -> list[tuple[str, str, str]]:
    """Before/after lines: files, alignment, completeness, steps, counts by severity, rows changed."""
    b, a = diff.before, diff.after
    rows = [
        (LABEL_FILE, diff.old, diff.new),
        (LABEL_ALIGNMENT, percent(b.alignment), percent(a.alignment)),
        (LABEL_COMPLETENESS, percent(b.completeness), percent(a.completeness)),
        (LABEL_STEPS, str(b.steps), str(a.steps)),
    ]
    rows += [(f"Findings: {s}", str(b.counts.get(s, 0)), str(a.counts.get(s, 0))) for s in SEVERITIES]
    return rows


def change_rows(diff: PlanDiff) -> list[tuple[Any, ...]]:
    """One line per changed field (one per filled field of an added or removed row)."""
    out = []
    for change in diff.changes:
        fields: list[FieldChange | None] = [*change.fields] or [None]
        for f in fields:
            out.append(
                (
                    change.kind,
                    sheet_label(change.sheet),
                    change.id,
                    change.text,
                    field_label(change.sheet, f.field) if f else "",
                    display(f.old) if f else "",
                    display(f.new) if f else "",
                )
            )
    return out


def render_diff(diff: PlanDiff, *, limit: int | None = 60) -> str:
    """The terminal text: figures before and after, counts, then each row added, removed or changed."""
    width = max(len(label) for label, _b, _a in figure_rows(diff))
    lines = [f"{diff.old} -> {diff.new} (audit figures as of {diff.as_of.isoformat()})"]
    if diff.note:
        lines.append(f"  {diff.note}")
    for label, before, after in figure_rows(diff)[1:]:
        mark = "" if before == after else "  *"
        lines.append(f"  {label:<{width}}  {before:>6} -> {after:<6}{mark}")
    counts = ", ".join(f"{len(diff.of_kind(k))} {k.lower()}" for k in KINDS)
    lines += ["", f"Rows: {counts}" if diff.changes else "No differences in the plan's entries."]
    shown = 0
    for kind in KINDS:
        for change in diff.of_kind(kind):
            if limit is not None and shown >= limit:
                break
            shown += 1
            lines.extend(_change_lines(change))
    if limit is not None and len(diff.changes) > shown:
        lines.append(f"  ... and {len(diff.changes) - shown} more (use --json or -o diff.xlsx for all)")
    return "\n".join(lines)


def _change_lines(change: RowChange) -> list[str]:
    head = " ".join(p for p in (sheet_label(change.sheet), change.id) if p)
    text = f" {change.text!r}" if change.text else ""
    sign = {ADDED: "+", REMOVED: "-", CHANGED: "~"}[change.kind]
    lines = [f"{sign} {change.kind} {head}{text}"]
    if change.kind == CHANGED:
        for f in change.fields:
            label = field_label(change.sheet, f.field)
            lines.append(f"    {label}: {display(f.old)!r} -> {display(f.new)!r}")
    return lines


def write_diff_workbook(diff: PlanDiff, out: Path, *, force: bool = False, inputs: Sequence[Path] = ()) -> Path:
    """Write the diff as a workbook for the review meeting: a summary sheet and the list of changes."""
    import xlsxwriter
    from xlsxwriter.exceptions import XlsxWriterException

    from ..workbook.generate import WORKBOOK_OPTIONS, Formats

    out = Path(out)
    check_output(out, force=force, inputs=tuple(inputs))
    check_extension(out, ".xlsx")
    with atomic_path(out) as tmp:
        book = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        book.set_custom_property(schema.PROP_OUTPUT, schema.OUTPUT_DIFF)  # a folder audit leaves it out
        fm = Formats(book)
        intro = f"What changed from {diff.old} to {diff.new}; audit figures as of {diff.as_of.isoformat()}."
        if diff.note:
            intro += f" {diff.note}."
        summary = write_table(book, fm, schema.DIFF_SUMMARY_SHEET, SUMMARY_HEADERS, figure_rows(diff), intro=intro)
        start = len(figure_rows(diff)) + 4
        for i, kind in enumerate(KINDS):
            summary.write_string(start + i, 0, f"Rows {kind.lower()}", fm.bold)
            summary.write_number(start + i, 2, len(diff.of_kind(kind)))
        write_table(book, fm, schema.DIFF_CHANGES_SHEET, CHANGE_HEADERS, change_rows(diff))
        try:
            book.close()
        except (XlsxWriterException, OSError) as exc:
            raise write_failed(out, exc) from None
    return out

