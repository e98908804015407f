"""The audit pipeline: read a returned workbook, find the gaps, build the report, write the summary copy."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OutputError, UsageError
from ..plan import schema
from ..xlsx.atomic import atomic_path, check_output
from .report import Report

if TYPE_CHECKING:
    from .reader import ReadResult

AUDITED_SUFFIX = ".audited"


@dataclass
class AuditResult:
    report: Report
    output: Path | None  # the audited copy, when one was written
    backup: Path | None = None  # the kept original, with --in-place


def default_output(path: Path) -> Path:
    """``NAME.audited.xlsx`` beside the input."""
    stem = path.stem
    if stem.endswith(AUDITED_SUFFIX):
        return path
    return path.with_name(f"{stem}{AUDITED_SUFFIX}{path.suffix or '.xlsx'}")


def audit_plan(path: Path, *, as_of: dt.date | None = None, audited_at: dt.datetime | None = None) -> Report:
    """Read ``path`` and return its report; nothing is written."""
    from .reader import read_plan

    return report_of(read_plan(path), as_of=as_of, audited_at=audited_at)


def report_of(read: ReadResult, *, as_of: dt.date | None = None, audited_at: dt.datetime | None = None) -> Report:
    """The report of a plan already read (commands that need the plan too read the workbook once)."""
    from .figures import build_report
    from .rules import check

    as_of = as_of or dt.date.today()
    findings = [*read.findings, *check(read.plan, as_of)]
    return build_report(read.plan, findings, as_of=as_of, audited_at=audited_at)


def audit_file(
    path: Path,
    *,
    as_of: dt.date | None = None,
    out: Path | None = None,
    in_place: bool = False,
    force: bool = False,
    write: bool = True,
    audited_at: dt.datetime | None = None,
) -> AuditResult:
    """Audit ``path`` and, unless ``write`` is false, write the Alignment Summary into a copy.

    The input is never modified, except with ``in_place``, which first keeps a backup beside it.
    """
    if in_place and out is not None:
        raise UsageError("--in-place and -o both name where to write; use one of them")
    target = path if in_place else (out or default_output(path))
    if write and not in_place:
        # Only the default name can be the input itself because it is an audited copy already; an -o that
        # names the input (or a link to it) is refused by check_output as the input file.
        if out is None and target.resolve() == path.resolve():
            raise OutputError(
                f"{path.name} is already an audited copy; use --in-place to refresh its summary, "
                "or -o to choose another output"
            )
        check_output(target, force=force, inputs=(path,))

    report = audit_plan(path, as_of=as_of, audited_at=audited_at)
    if not write:
        return AuditResult(report, None)

    backup = keep_backup(path) if in_place else None
    write_summary_copy(path, report, target)
    return AuditResult(report, target, backup)


def write_summary_copy(src: Path, report: Report, out: Path) -> None:
    """Write ``src`` plus the Alignment Summary sheet to ``out`` atomically; ``src`` is only read."""
    from ..xlsx.package import graft_sheet
    from .summary_sheet import write_summary_workbook

    with tempfile.TemporaryDirectory(prefix="reentry-workbook-") as tmp:
        scratch = Path(tmp) / "summary.xlsx"
        write_summary_workbook(report, scratch)
        with atomic_path(out) as dest:
            graft_sheet(src, scratch, dest, sheet_name=schema.SUMMARY_SHEET, position=0)


def keep_backup(path: Path) -> Path:
    """Copy ``path`` to a free ``NAME.backup[-N].xlsx`` beside it, keeping its bytes and times."""
    for n in range(1, 1000):
        tag = ".backup" if n == 1 else f".backup-{n}"
        backup = path.with_name(f"{path.stem}{tag}{path.suffix}")
        if not backup.exists():
            with atomic_path(backup) as tmp:
                shutil.copy2(path, tmp)
            return backup
    raise OutputError(f"too many backups of {path.name} beside it; tidy the folder and try again")
