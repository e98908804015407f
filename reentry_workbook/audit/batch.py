"""Audit many returned workbooks at once, spread over the cores, and roll the results up.

A broken file becomes a row with its one-sentence reason; it never stops the others.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OutputError, ReentryWorkbookError, UsageError
from ..mail.read import Found, is_mail, read_mail
from ..plan.catalogue import SEVERITIES
from ..xlsx.atomic import atomic_path, check_output
from ..xlsx.identity import WORKBOOK_EXTENSIONS
from .inputs import ROLLUP_NAME, InputItem
from .pipeline import AUDITED_SUFFIX, REPORT_ONLY, AuditResult, audit_file
from .report import NO_ONE


@dataclass
class BatchRow:
    file: Path
    label: str = ""  # how the roll-up names a file: its path inside the folder given
    output: Path | None = None
    coalition: str = ""
    responsible: int = 0  # distinct responsible members seen on the action steps
    alignment: float | None = None
    completeness: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    reason: str | None = None  # why the file could not be audited
    # A return that came by mail: ``file`` is the .eml or .mbox it came in.
    attachment: str = ""  # the attachment's name ("" for a file, or a message without a workbook)
    message: str = ""  # which message of the file ("reply.eml", "inbox.mbox, message 3")
    sender: str = ""  # "Name <address>"
    sent: dt.datetime | None = None  # the message's date
    note: str = ""  # what to know: no workbook attached, forwarded, name made safe, report only
    content: str = ""  # hash of the plan's content
    same_as: list[str] = field(default_factory=list)  # names of the other returns holding the same plan

    @property
    def name(self) -> str:
        """What the return is called: the attachment's name, or the file's (its path inside the folder given)."""
        return self.attachment or self.label or self.file.name

    @property
    def notes(self) -> str:
        """Everything to know about the row, on one line: its note, and the returns holding the same plan."""
        same = f"same plan as {', '.join(self.same_as)}" if self.same_as else ""
        return "; ".join(text for text in (self.note, same) if text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "label": self.name,
            "attachment": self.attachment or None,
            "message": self.message or None,
            "sender": self.sender or None,
            "sent": self.sent.isoformat() if self.sent else None,
            "note": self.note or None,
            "output": str(self.output) if self.output else None,
            "coalition": self.coalition,
            "responsible": self.responsible,
            "alignment": self.alignment,
            "completeness": self.completeness,
            "counts": self.counts,
            "overdue": self.overdue,
            "reason": self.reason,
            "same_plan_as": self.same_as,
        }


@dataclass
class BatchResult:
    rows: list[BatchRow]
    rollup: Path | None = None
    notes: list[str] = field(default_factory=list)  # lines about the folder (files open elsewhere, left out)

    @property
    def unusable(self) -> list[BatchRow]:
        return [r for r in self.rows if r.reason]

    def count_at_or_above(self, severity: str) -> int:
        worst = SEVERITIES[: SEVERITIES.index(severity) + 1]
        return sum(r.counts.get(s, 0) for r in self.rows for s in worst)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rollup": str(self.rollup) if self.rollup else None,
            "notes": self.notes,
            "files": [r.to_dict() for r in self.rows],
        }


def audit_many(
    inputs: Sequence[InputItem],
    *,
    out_dir: Path | None = None,
    in_place: bool = False,
    as_of: dt.date | None = None,
    force: bool = False,
    write: bool = True,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    rollup: bool = True,
) -> BatchResult:
    """Audit every input (in parallel), write each audited copy and, unless told not to, ``rollup.xlsx``."""
    as_of = as_of or dt.date.today()
    if out_dir is not None and write and not in_place:
        if out_dir.exists() and not out_dir.is_dir():
            raise OutputError(f"{out_dir} is a file; with several workbooks, -o names a folder for the audited copies")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot make the folder {out_dir} ({exc.strerror or 'error'}); choose another output folder with -o"
            ) from None
    paths = [item.path for item in inputs]
    rollup_path = _rollup_path(paths, out_dir) if write and rollup else None
    if rollup_path is not None:
        check_output(rollup_path, force=force, inputs=tuple(paths))
    if in_place and any(is_mail(p) for p in paths):
        raise UsageError("--in-place cannot write into a mail attachment; use -o to name a folder for the copies")
    with contextlib.ExitStack() as stack:
        sources = _sources(inputs, lambda: Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rw-mail-"))))
        result = _audit_sources(sources, len(inputs), out_dir, as_of, in_place, force, write, jobs, progress)
    if rollup_path is not None:
        from .rollup_sheet import write_rollup

        with atomic_path(rollup_path) as tmp:
            write_rollup(result, tmp, folder=rollup_path.parent)
        result.rollup = rollup_path
    return result


@dataclass
class _Source:
    """One thing to audit: a workbook file, or a workbook attached to a message (``found``)."""

    path: Path | None  # the workbook to audit; None for a message without a usable one
    home: Path  # the folder its audited copy goes to without -o
    given: int  # the input it came from (its index)
    found: Found | None = None
    label: str = ""  # a file's name in the roll-up (its path inside the folder given)


def _sources(inputs: Sequence[InputItem], folder: Callable[[], Path]) -> list[_Source]:
    """Files as they are, and every workbook attached to mail (saved into ``folder()``, made on first use)."""
    out: list[_Source] = []
    mail_folder: Path | None = None
    for given, item in enumerate(inputs):
        path = item.path
        if not is_mail(path):
            out.append(_Source(path, path.parent, given, label=item.label))
            continue
        mail_folder = mail_folder or folder()
        out.extend(_Source(f.path, path.parent, given, f) for f in read_mail([path], mail_folder))
    return out


def _audit_sources(
    sources: Sequence[_Source],
    given: int,
    out_dir: Path | None,
    as_of: dt.date,
    in_place: bool,
    force: bool,
    write: bool,
    jobs: int | None,
    progress: Callable[[int], None] | None,
) -> BatchResult:
    todo = [s for s in sources if s.path is not None]
    outputs = _output_paths(todo, out_dir) if write and not in_place else [None] * len(todo)
    tasks = [
        (path, s.label, out, as_of, in_place, force, write)
        for s, out in zip(todo, outputs, strict=True)
        if (path := s.path) is not None  # (every one of todo)
    ]
    workers = min(jobs or os.cpu_count() or 1, len(tasks)) or 1
    done: list[BatchRow | None] = [None] * len(tasks)
    # Progress counts the inputs given: one is done when every workbook it holds (a mailbox: many) is.
    waiting = Counter(s.given for s in todo)
    if progress and given > len(waiting):
        progress(given - len(waiting))

    def finished(i: int, row: BatchRow) -> None:
        done[i] = row
        waiting[todo[i].given] -= 1
        if progress and not waiting[todo[i].given]:
            progress(1)

    if workers == 1:
        for i, task in enumerate(tasks):
            finished(i, _audit_task(task))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed  # only here: a single audit skips it

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_audit_task, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    audited = iter(done)
    rows: list[BatchRow] = []
    for source in sources:
        row = next(audited) if source.path is not None else None
        if source.found is not None:
            row = _mail_row(source.found, row)
        if row is not None:
            rows.append(row)
    _mark_duplicates(rows)
    return BatchResult(rows)


def _mail_row(found: Found, row: BatchRow | None) -> BatchRow:
    """The row of a return that came by mail, labelled with its message."""
    msg = found.message
    row = row or BatchRow(msg.source, reason=found.reason)
    row.file = msg.source
    row.attachment = found.name
    row.message = msg.where
    row.sender = msg.sender.label if msg.sender else ""
    row.sent = msg.date
    row.note = "; ".join(text for text in (found.note, row.note) if text)
    return row


def _audit_task(task: tuple[Path, str, Path | None, dt.date, bool, bool, bool]) -> BatchRow:
    path, label, out, as_of, in_place, force, write = task
    try:
        result = audit_file(
            path, as_of=as_of, out=out, in_place=in_place, force=force, write=write, content=True
        )
    except ReentryWorkbookError as exc:
        return BatchRow(path, label, reason=str(exc))
    except Exception as exc:  # a bug must not stop the other files; say so plainly
        reason = f"could not be audited because of an unexpected error ({type(exc).__name__})"
        return BatchRow(path, label, reason=reason)
    return _row(path, label, result)


def _row(path: Path, label: str, result: AuditResult) -> BatchRow:
    report = result.report
    s = report.summary
    return BatchRow(
        file=path,
        label=label,
        output=result.output,
        note=REPORT_ONLY if result.no_copy else "",
        content=result.content,
        coalition=s.coalition,
        responsible=sum(1 for p in report.people if p.responsible != NO_ONE),
        alignment=s.alignment,
        completeness=s.completeness,
        counts=dict(s.counts),
        overdue=sum(p.overdue for p in report.people),
    )


def _mark_duplicates(rows: list[BatchRow]) -> None:
    """Tell each row which other returns hold exactly the same plan (``plan.xlsx`` and ``plan (1).xlsx``)."""
    groups: dict[str, list[BatchRow]] = {}
    for row in rows:
        if row.content and not row.reason:
            groups.setdefault(row.content, []).append(row)
    for group in groups.values():
        for row in group:
            row.same_as = [other.name for other in group if other is not row]


def _output_paths(sources: Sequence[_Source], out_dir: Path | None) -> list[Path | None]:
    """``NAME.audited.xlsx`` beside each input (a mail attachment's beside its mail file), or in ``out_dir``,
    with clashing names numbered."""
    seen: set[str] = set()
    outputs: list[Path | None] = []
    for source in sources:
        path = source.path or source.home
        folder = out_dir if out_dir is not None else source.home
        suffix = path.suffix if path.suffix.lower() in WORKBOOK_EXTENSIONS else ".xlsx"
        name = f"{path.stem}{AUDITED_SUFFIX}{suffix}"
        n = 2
        while str(Path(folder, name)).casefold() in seen:
            name = f"{path.stem} ({n}){AUDITED_SUFFIX}{suffix}"
            n += 1
        seen.add(str(Path(folder, name)).casefold())
        outputs.append(folder / name)
    return outputs


def _rollup_path(inputs: Sequence[Path], out_dir: Path | None) -> Path:
    if out_dir is not None:
        return out_dir / ROLLUP_NAME
    parents = {p.resolve().parent for p in inputs}
    folder = parents.pop() if len(parents) == 1 else Path.cwd()
    return folder / ROLLUP_NAME


def render_rollup(batch: BatchResult, *, color: bool = False) -> str:
    """The roll-up as a terminal table: one line per file."""
    from .terminal import Painter, percent

    paint = Painter(color)
    header = f"{'file':<34} {'align':>6} {'compl':>6} {'err':>4} {'warn':>5} {'overdue':>7}  coalition / reason"
    lines = [header, "-" * len(header)]
    for r in batch.rows:
        name = r.name if len(r.name) <= 34 else r.name[:31] + "..."
        if r.reason:
            lines.append(f"{name:<34} {paint('unusable', 'error')}  {r.reason}")
        elif r.attachment or not r.sender:
            lines.append(
                f"{name:<34} {percent(r.alignment):>6} {percent(r.completeness):>6} {r.counts.get('error', 0):>4} "
                f"{r.counts.get('warning', 0):>5} {r.overdue:>7}  {r.coalition}"
            )
        else:  # a message with no workbook attached
            lines.append(f"{name:<34} {'-':>6} {'-':>6} {'-':>4} {'-':>5} {'-':>7}  {r.note}")
        if r.sender or r.message:
            sent = f" on {r.sent:%Y-%m-%d %H:%M}" if r.sent else ""
            note = f"; {r.notes}" if r.notes and r.attachment else ""
            lines.append(f"    from {r.sender or 'an unknown sender'}{sent} ({r.message}){note}")
        elif r.notes and not r.reason:
            lines.append(f"{'':<34}   {paint(r.notes, 'warning')}")
    empty = sum(1 for r in batch.rows if r.message and not r.attachment and not r.reason)
    ok = len(batch.rows) - len(batch.unusable) - empty
    tail = f", {empty} {'message' if empty == 1 else 'messages'} with no workbook" if empty else ""
    count = len(batch.rows) - empty
    noun = ("return" if any(r.message for r in batch.rows) else "file") + ("" if count == 1 else "s")
    lines.append(f"{count} {noun}: {ok} audited, {len(batch.unusable)} unusable{tail}")
    lines.extend(batch.notes)
    return "\n".join(lines)

