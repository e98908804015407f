"""Audit many returned workbooks at once, spread over the cores, and roll the results up.

A broken file becomes a row with its one-sentence reason; it never stops the others.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OutputError, ReentryWorkbookError, UnusableInputError
from ..plan.catalogue import SEVERITIES
from ..xlsx.atomic import atomic_path, check_output
from .pipeline import AUDITED_SUFFIX, audit_file
from .report import NO_ONE, Report

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
ROLLUP_NAME = "rollup.xlsx"


@dataclass
class BatchRow:
    file: Path
    output: Path | None = None
    coalition: str = ""
    responsible: int = 0  # distinct responsible members seen on the action steps
    alignment: float | None = None
    completeness: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    reason: str | None = None  # why the file could not be audited

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "output": str(self.output) if self.output else None,
            "coalition": self.coalition,
            "responsible": self.responsible,
            "alignment": self.alignment,
            "completeness": self.completeness,
            "counts": self.counts,
            "overdue": self.overdue,
            "reason": self.reason,
        }


@dataclass
class BatchResult:
    rows: list[BatchRow]
    rollup: Path | None = None

    @property
    def unusable(self) -> list[BatchRow]:
        return [r for r in self.rows if r.reason]

    def count_at_or_above(self, severity: str) -> int:
        worst = SEVERITIES[: SEVERITIES.index(severity) + 1]
        return sum(r.counts.get(s, 0) for r in self.rows for s in worst)

    def to_dict(self) -> dict[str, Any]:
        return {"rollup": str(self.rollup) if self.rollup else None, "files": [r.to_dict() for r in self.rows]}


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the workbooks inside folders (not audited copies, lock files or hidden files)."""
    paths = list(paths)
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                p
                for p in sorted(path.iterdir())
                if p.suffix.lower() in WORKBOOK_SUFFIXES
                and not p.name.startswith(("~$", "."))
                and not p.stem.endswith(AUDITED_SUFFIX)
                and p.is_file()
            )
        else:
            out.append(path)
    if paths and not out:  # only folders were given, and none holds a workbook
        shown = ", ".join(p.name or str(p) for p in paths)
        noun = "is a folder" if len(paths) == 1 else "are folders"
        raise UnusableInputError(
            f"{shown} {noun} with no .xlsx or .xlsm workbook inside (audited copies and hidden files are left out); "
            "give the path of a returned workbook, or of a folder that holds them."
        )
    return out


def audit_many(
    inputs: Sequence[Path],
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
    outputs = _output_paths(inputs, out_dir) if write and not in_place else [None] * len(inputs)
    rollup_path = _rollup_path(inputs, out_dir) if write and rollup else None
    if rollup_path is not None:
        check_output(rollup_path, force=force, inputs=tuple(inputs))

    tasks = [(path, out, as_of, in_place, force, write) for path, out in zip(inputs, outputs, strict=True)]
    workers = min(jobs or os.cpu_count() or 1, len(tasks)) or 1
    rows: list[BatchRow | None] = [None] * len(tasks)
    if workers == 1:
        for i, task in enumerate(tasks):
            rows[i] = _audit_task(task)
            if progress:
                progress(1)
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed  # only here: a single audit skips it

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_audit_task, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                rows[futures[future]] = future.result()
                if progress:
                    progress(1)
    result = BatchResult([r for r in rows if r is not None])
    if rollup_path is not None:
        from .rollup_sheet import write_rollup

        with atomic_path(rollup_path) as tmp:
            write_rollup(result, tmp, folder=rollup_path.parent)
        result.rollup = rollup_path
    return result


def _audit_task(task: tuple[Path, Path | None, dt.date, bool, bool, bool]) -> BatchRow:
    path, out, as_of, in_place, force, write = task
    try:
        result = audit_file(path, as_of=as_of, out=out, in_place=in_place, force=force, write=write)
    except ReentryWorkbookError as exc:
        return BatchRow(path, reason=str(exc))
    except Exception as exc:  # a bug must not stop the other files; say so plainly
        return BatchRow(path, reason=f"could not be audited because of an unexpected error ({type(exc).__name__})")
    return _row(path, result.output, result.report)


def _row(path: Path, output: Path | None, report: Report) -> BatchRow:
    s = report.summary
    return BatchRow(
        file=path,
        output=output,
        coalition=s.coalition,
        responsible=sum(1 for p in report.people if p.responsible != NO_ONE),
        alignment=s.alignment,
        completeness=s.completeness,
        counts=dict(s.counts),
        overdue=sum(p.overdue for p in report.people),
    )


def _output_paths(inputs: Sequence[Path], out_dir: Path | None) -> list[Path | None]:
    """``NAME.audited.xlsx`` beside each input, or in ``out_dir`` with clashing names numbered."""
    seen: set[str] = set()
    outputs: list[Path | None] = []
    for path in inputs:
        folder = out_dir if out_dir is not None else path.parent
        name = f"{path.stem}{AUDITED_SUFFIX}{path.suffix or '.xlsx'}"
        n = 2
        while name.casefold() in seen:
            name = f"{path.stem} ({n}){AUDITED_SUFFIX}{path.suffix or '.xlsx'}"
            n += 1
        if out_dir is not None:
            seen.add(name.casefold())
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
        name = r.file.name if len(r.file.name) <= 34 else r.file.name[:31] + "..."
        if r.reason:
            lines.append(f"{name:<34} {paint('unusable', 'error')}  {r.reason}")
            continue
        lines.append(
            f"{name:<34} {percent(r.alignment):>6} {percent(r.completeness):>6} {r.counts.get('error', 0):>4} "
            f"{r.counts.get('warning', 0):>5} {r.overdue:>7}  {r.coalition}"
        )
    ok = len(batch.rows) - len(batch.unusable)
    lines.append(f"{len(batch.rows)} files: {ok} audited, {len(batch.unusable)} unusable")
    return "\n".join(lines)

