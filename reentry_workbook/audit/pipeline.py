"""The audit pipeline: read a returned workbook, find the gaps, build the report, write the summary copy."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputError, ReentryWorkbookError, UsageError
from ..plan import schema
from ..xlsx.atomic import atomic_path, check_output
from ..xlsx.bulk import collector_paused
from ..xlsx.sniff import FORMAT_ODS, FORMAT_XLS, FORMAT_XLSB

if TYPE_CHECKING:
    from .reader import ReadResult
    from .report import ChangedRow, Report

AUDITED_SUFFIX = ".audited"
BACKUP_TAG = ".backup"
REPORT_ONLY = "report only: save as .xlsx to get the summary copy"

# What the report is made with, then what write_summary_copy writes with (XlsxWriter among them): about 25 ms of
# start-up in all, imported while the reader waits for python-calamine (xlsx.read_ahead.importing).
REPORT_MAKERS = tuple(f"{__package__}.{name}" for name in ("rules", "figures", "questions", "history"))
_COPY_WRITERS = ("xlsxwriter", "..xlsx.package", "..workbook.formats", ".history_sheet", ".summary_sheet")


@dataclass
class AuditResult:
    report: Report
    output: Path | None  # the audited copy, when one was written
    backup: Path | None = None  # the kept original, with --in-place
    content: str = ""  # a hash of the plan's content (two files holding the same plan share it), when asked for
    no_copy: str | None = None  # why no summary copy can be written into this file (one sentence), if so


def _read(
    path: Path,
    as_of: dt.date,
    audited_at: dt.datetime | None,
    values_only: bool,
    content: bool,
    copy: bool = False,
    **options: Any,
) -> tuple[Report, str]:
    """The report of ``path`` (``options`` as :func:`report_of` takes them) and, with ``content``, a hash of its
    plan's content ("" without). The plan itself is not kept: the summary copy is written without it in memory.
    With ``copy`` (a summary copy follows), what it is written with is imported while the reader waits."""
    from ..xlsx.read_ahead import importing
    from .reader import read_plan, read_values_plan

    if values_only:
        read = read_values_plan(path)
    else:
        ahead = importing((*REPORT_MAKERS, *(_COPY_WRITERS if copy else ())), __package__)
        read = read_plan(path, extra=(schema.HISTORY_SHEET,), idle=ahead)
    report = report_of(read, as_of=as_of, audited_at=audited_at, **options)
    return report, read.plan.digest() if content else ""


def default_output(path: Path, extension: str | None = None) -> Path:
    """``NAME.audited.xlsx`` beside the input (``.xlsm`` and the like when its content calls for it)."""
    stem = path.stem
    if stem.endswith(AUDITED_SUFFIX):
        return path
    return path.with_name(f"{stem}{AUDITED_SUFFIX}{extension or path.suffix or '.xlsx'}")


def audit_plan(
    path: Path,
    *,
    as_of: dt.date | None = None,
    audited_at: dt.datetime | None = None,
    horizon: int = schema.DEFAULT_HORIZON,
    history: Path | None = None,
    changes: list[ChangedRow] | None = None,
) -> Report:
    """Read ``path`` and return its report; nothing is written.

    The report's history is the input's own Audit History, plus the rows of the workbook ``history`` (last
    month's audited copy) for dates the input lacks, with this audit's row in place of its date's row.
    ``changes`` are the rows changed since a previous version (``audit --since``), listed as they are.
    """
    from .reader import read_plan

    read = read_plan(path, extra=(schema.HISTORY_SHEET,))
    return report_of(read, as_of=as_of, audited_at=audited_at, horizon=horizon, history=history, changes=changes)


@collector_paused()
def report_of(
    read: ReadResult,
    *,
    as_of: dt.date | None = None,
    audited_at: dt.datetime | None = None,
    horizon: int = schema.DEFAULT_HORIZON,
    history: Path | None = None,
    changes: list[ChangedRow] | None = None,
) -> Report:
    """The report of a plan already read (commands that need the plan too read the workbook once); its history
    is the Audit History read with it (``extra``), if any, then ``history``'s, then this audit's row."""
    from .figures import build_report
    from .history import add_history, read_history, read_history_file
    from .questions import answer_questions
    from .rules import check

    as_of = as_of or dt.date.today()
    findings = [*read.findings, *check(read.plan, as_of)]
    index = read.plan.index()  # one walk of the chain of service for the figures and the questions
    report = build_report(read.plan, findings, as_of=as_of, audited_at=audited_at, index=index)
    answer_questions(report, read.plan, horizon=horizon, index=index)
    cells = read.extra.get(schema.HISTORY_SHEET)
    own = [] if cells is None else read_history(cells, date1904=read.plan.source.date1904)
    earlier = [] if history is None else read_history_file(history)
    add_history(report, read.plan, own, earlier, changes=changes)
    return report


def audit_file(
    path: Path,
    *,
    as_of: dt.date | None = None,
    out: Path | None = None,
    in_place: bool = False,
    force: bool = False,
    write: bool = True,
    audited_at: dt.datetime | None = None,
    horizon: int = schema.DEFAULT_HORIZON,
    history: Path | None = None,
    changes: list[ChangedRow] | None = None,
    content: bool = False,
) -> AuditResult:
    """Audit ``path`` and, unless ``write`` is false, write the Alignment Summary into a copy.

    The copy is ``out``, or ``NAME.audited.xlsx`` beside the input or in the folder ``out``. The input is never
    modified, except with ``in_place``, which first keeps a backup beside it. ``content``:
    also hash the plan's content (:attr:`AuditResult.content`, the folder audit's duplicate check).
    """
    from ..xlsx import guard
    from ..xlsx.identity import check_extension, identify

    if in_place and out is not None:
        raise UsageError("--in-place and -o both name where to write; use one of them")
    as_of = as_of or dt.date.today()
    fmt = guard.sniff(path)
    if fmt in VALUES_ONLY_FORMATS:
        # Readable, but the tool writes into .xlsx packages only: the findings, and no copy.
        try:
            report, digest = _read(path, as_of, audited_at, values_only=True, content=content)
        except ReentryWorkbookError:
            guard.open_package(path)  # not readable as a plan: the guard's line says how to save it as .xlsx
            raise
        kind = VALUES_ONLY_FORMATS[fmt]
        reason = f"{_shown(path)} is {kind}, so no summary copy can be written into it; {REPORT_ONLY}"
        return AuditResult(report, None, content=digest, no_copy=reason if write else None)
    identity = identify(path)  # raises the guard's one-line errors for a file that is not a workbook
    if out is not None and out.is_dir():  # a folder, as a folder audit takes: the copy goes in under its usual name
        out = out / default_output(path, identity.extension).name
    target = path if in_place else (out or default_output(path, identity.extension))
    if write and not in_place:
        # Only the default name can be the input itself because it is an audited copy already; an -o that
        # names the input (or a link to it) is refused by check_output as the input file.
        if out is None and target.resolve() == path.resolve():
            raise OutputError(
                f"{path.name} is already an audited copy; use --in-place to refresh its summary, "
                "or -o to choose another output"
            )
        check_output(target, force=force, inputs=(path,))
        check_extension(target, identity.extension, source=path)

    options = {"horizon": horizon, "history": history, "changes": changes}
    copy = write and not identity.strict
    report, digest = _read(path, as_of, audited_at, values_only=False, content=content, copy=copy, **options)
    if identity.strict:
        reason = (
            f"{_shown(path)} is saved as Strict Open XML, so no summary copy can be written into it; open it in Excel "
            "and save it as an Excel Workbook (.xlsx, not Strict Open XML Spreadsheet), then run the audit again"
        )
        return AuditResult(report, None, content=digest, no_copy=reason if write else None)
    if not write:
        return AuditResult(report, None, content=digest)

    backup = keep_backup(path) if in_place else None
    write_summary_copy(path, report, target)
    return AuditResult(report, target, backup, content=digest)


# Formats python-calamine reads whose audit is a report only, and how a message names them.
VALUES_ONLY_FORMATS = {
    FORMAT_ODS: "an OpenDocument spreadsheet (.ods)",
    FORMAT_XLS: "a legacy Excel 97-2003 workbook (.xls)",
    FORMAT_XLSB: "an Excel binary workbook (.xlsb)",
}


def _shown(path: Path) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in (path.name or str(path)))


@collector_paused()
def write_summary_copy(src: Path, report: Report, out: Path) -> None:
    """Write ``src`` plus the Alignment Summary (first) and Audit History (last) sheets to ``out`` atomically;
    ``src`` is only read."""
    from ..xlsx.package import SheetGraft, graft_sheets
    from .history_sheet import write_history_workbook
    from .summary_sheet import write_summary_workbook

    with tempfile.TemporaryDirectory(prefix="reentry-workbook-") as tmp:
        summary = Path(tmp) / "summary.xlsx"
        history = Path(tmp) / "history.xlsx"
        findings = write_summary_workbook(report, summary)
        write_history_workbook(report.history, history)
        # The copy opens on the summary, the only selected sheet (the member's sheets lose tabSelected); one read
        # of the member, one write of the copy.
        grafts = [
            SheetGraft(summary, schema.SUMMARY_SHEET, position=0, activate=True, rows=findings),
            SheetGraft(history, schema.HISTORY_SHEET, position=len),  # the last tab
        ]
        with atomic_path(out) as dest:
            graft_sheets(src, dest, grafts)


def keep_backup(path: Path) -> Path:
    """Copy ``path`` to a free ``NAME.backup[-N].xlsx`` beside it, keeping its bytes and times."""
    for n in range(1, 1000):
        tag = BACKUP_TAG if n == 1 else f"{BACKUP_TAG}-{n}"
        backup = path.with_name(f"{path.stem}{tag}{path.suffix}")
        if not backup.exists():
            with atomic_path(backup) as tmp:
                shutil.copy2(path, tmp)
            return backup
    raise OutputError(f"too many backups of {path.name} beside it; tidy the folder and try again")
