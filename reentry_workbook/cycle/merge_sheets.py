"""Renderings of a merge: the Merge Conflicts and Merge Log sheets, and the terminal summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..plan import schema
from .merge_model import (
    CONFLICT,
    CONTEXT_EDIT,
    DELETED,
    NOT_MERGED,
    UNREADABLE,
    MergeResult,
    label_of_field,
    label_of_sheet,
)
from .roundtrip import display, table_rows, table_sheet

if TYPE_CHECKING:
    from ..xlsx.direct_rows import DirectRows

# Header texts and widths of the two sheets (declared once; tests read them from here).
CONFLICT_HEADERS: tuple[tuple[str, float], ...] = (
    ("Kind", 18),
    ("Sheet", 14),
    ("ID", 16),
    ("Field", 20),
    ("Master value (kept)", 30),
    ("Value sent", 30),
    ("Sent by (file)", 28),
    ("Member", 20),
    ("Sender", 28),
    ("What happened", 44),
)
LOG_HEADERS: tuple[tuple[str, float], ...] = (
    ("File", 28),
    ("Member", 20),
    ("Sender", 28),
    ("Received", 17),
    ("Action", 16),
    ("Sheet", 14),
    ("ID in the return", 16),
    ("ID in the merged plan", 16),
    ("Field", 20),
    ("Master value", 28),
    ("Value sent", 28),
    ("Note", 48),
)
CONFLICTS_INTRO = (
    "What the merge could not decide for you: the master value was kept in each case. "
    "Change the plan sheets by hand where another value is right."
)
LOG_INTRO = "Everything the merge took from each returned file, and what it did with it."
NO_ISSUES = "Nothing to decide: no conflicts, deleted rows or context changes."
SHOWN = 40  # issues listed in the terminal before "... and N more"


def conflict_rows(result: MergeResult) -> list[tuple[Any, ...]]:
    rows = []
    for issue in result.issues:
        for origin, value in issue.sent:
            rows.append(
                (
                    issue.kind,
                    label_of_sheet(issue.sheet),
                    issue.id,
                    label_of_field(issue.sheet, issue.field),
                    display(issue.master),
                    display(value),
                    origin.file,
                    origin.member or "",
                    origin.sender or "",
                    issue.note,
                )
            )
    return rows


def log_rows(result: MergeResult) -> list[tuple[Any, ...]]:
    return [
        (
            e.origin.file,
            e.origin.member or "",
            e.origin.sender or "",
            e.origin.received,
            e.action,
            label_of_sheet(e.sheet) if e.sheet else "",
            e.id,
            e.merged_id,
            label_of_field(e.sheet, e.field),
            display(e.old),
            display(e.new),
            e.note,
        )
        for e in result.log
    ]


def render_merge(result: MergeResult, *, limit: int = SHOWN) -> str:
    """The terminal summary: counts, then every conflict and every other thing to decide."""
    conflicts = result.issues_of(CONFLICT)
    deleted = result.issues_of(DELETED)
    context = result.issues_of(CONTEXT_EDIT)
    unreadable = result.issues_of(UNREADABLE)
    kept = len({(i.sheet, i.id) for i in deleted})  # (a row two returns deleted is one row kept)
    lines = [
        f"Merged {len(result.returns)} returned {'copy' if len(result.returns) == 1 else 'copies'} into "
        f"{result.output.name}: {result.edits} {_s(result.edits, 'cell')} changed, "
        f"{result.added} {_s(result.added, 'row')} added, {len(conflicts)} {_s(len(conflicts), 'conflict')}, "
        f"{kept} {_s(kept, 'deleted row')} kept, "
        f"{len(context)} context {_s(len(context), 'change')} and {len(unreadable)} unreadable "
        f"{_s(len(unreadable), 'cell')} not applied."
    ]
    shown = 0
    for title, issues in (
        ("Conflicts (the master value is kept)", conflicts),
        ("Deleted or emptied in a return (kept in the merged plan)", deleted),
        ("Context rows changed in a packet (not applied)", context),
        ("Cells that could not be read (not applied)", unreadable),
    ):
        if not issues:
            continue
        lines += ["", f"{title}:"]
        for issue in issues:
            if shown >= limit:
                break
            shown += 1
            where = " ".join(
                p for p in (label_of_sheet(issue.sheet), issue.id, label_of_field(issue.sheet, issue.field)) if p
            )
            if issue.kind == CONFLICT:
                sent = "; ".join(f"{display(v)!r} from {o.who}" for o, v in issue.sent)
                lines.append(f"  {where}: master {display(issue.master)!r}; {sent}")
            elif issue.kind == DELETED:
                lines.append(f"  {where} ({display(issue.master)}): missing from {issue.sent[0][0].who}")
            else:
                sent = "; ".join(f"{display(v)!r} from {o.who}" if v is not None else o.who for o, v in issue.sent)
                lines.append(f"  {where}: {sent}")
    more = len(result.issues) - shown
    if more > 0:
        lines.append(f"  ... and {more} more in the {schema.MERGE_CONFLICTS_SHEET} sheet")
    if result.read_as_packets:
        lines += ["", "Read as a packet, though it does not say it is one (see the Merge Log):"]
        lines += [f"  {o.who}" for o in result.read_as_packets]
    left = [e for e in result.log if e.action == NOT_MERGED]
    if left:
        lines += ["", "Came back but not merged:"]
        lines += [f"  {e.origin.who}{f' ({e.origin.received})' if e.origin.date else ''}: {e.note}" for e in left]
    lines += ["", f"Wrote {result.output} (see its {schema.MERGE_CONFLICTS_SHEET} and {schema.MERGE_LOG_SHEET} sheets)"]
    if result.backup is not None:
        lines.append(f"The master as it was is kept as {result.backup.name}")
    return "\n".join(lines)


def _s(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def write_merge_workbook(result: MergeResult, path: Path) -> dict[str, DirectRows]:
    """A scratch workbook holding the Merge Conflicts and Merge Log sheets (grafted into the master) all but their
    rows, which are returned by sheet name for the graft to write (a merge's log can run to tens of thousands)."""
    import xlsxwriter

    from ..workbook.formats import WORKBOOK_OPTIONS, Formats, xf_index

    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    fm = Formats(book)
    conflicts = conflict_rows(result)
    tables = [
        (schema.MERGE_CONFLICTS_SHEET, CONFLICT_HEADERS, conflicts, CONFLICTS_INTRO if conflicts else NO_ISSUES),
        (schema.MERGE_LOG_SHEET, LOG_HEADERS, log_rows(result), LOG_INTRO),
    ]
    rows: dict[str, DirectRows] = {}
    for name, headers, values, intro in tables:
        _ws, top = table_sheet(book, fm, name, headers, len(values), intro=intro)
        rows[name] = table_rows(top + 1, xf_index(fm.wrap), headers, values)
    book.close()
    return rows
