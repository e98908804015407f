"""Atomic output: write beside the target, flush to disk, then rename over it in one step.

A crash or an error half-way leaves either the old file or nothing, never a partial workbook.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError


def check_output(out: Path, *, force: bool = False, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse an output that would overwrite an input, or an existing file without ``force``."""
    for src in inputs:
        if out.exists() and src.exists() and os.path.samefile(out, src):
            raise OutputError(f"the output {out} is the input file; choose another output path with -o")
        if out.resolve() == src.resolve():
            raise OutputError(f"the output {out} is the input file; choose another output path with -o")
    if out.is_dir():  # before the --force advice: --force cannot turn a folder into a file
        raise OutputError(f"{out} is a folder; give a file name for the output")
    if out.exists() and not force:
        raise OutputError(f"{out} already exists; pass --force to overwrite it or choose another name")
    folder = out.parent if str(out.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder; choose another output path")
    if not folder.is_dir():
        raise OutputError(f"the folder {folder} does not exist; create it first or choose another output path")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write in the folder {folder}; choose another output path")


@contextlib.contextmanager
def atomic_path(out: Path) -> Iterator[Path]:
    """Yield a temporary path in ``out``'s folder; on success it replaces ``out`` atomically."""
    folder = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write in the folder {folder} ({exc.strerror}); choose another output path") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
        except OSError as exc:  # the disk filled up, or the folder went away, while writing
            raise write_failed(out, exc) from None
        except OutputError as exc:
            if tmp.name in str(exc):  # a writer named the file it was given: name the output instead
                raise write_failed(out, exc) from None
            raise
        try:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644 & ~_umask())
            os.replace(tmp, out)
        except OSError as exc:  # e.g. the old file is open in Excel on Windows, or the disk failed
            raise OutputError(
                f"could not write {out} ({exc.strerror or exc}); close it if a spreadsheet app has it open and "
                f"check the disk, then try again"
            ) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_failed(out: Path, exc: BaseException) -> OutputError:
    """The one line for a write of ``out`` that failed: the output's name (never the temporary file's) and the
    system's reason."""
    reason = _reason(exc) or "the write failed"
    return OutputError(
        f"could not write {out} ({reason}); free some space on the disk or choose another folder, then try again"
    )


def _reason(exc: BaseException | None) -> str:
    """The operating system's words for the first OSError in ``exc``'s chain (no file names)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.strerror:
            return exc.strerror
        inner = next((a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)), None)
        exc = inner or exc.__cause__ or exc.__context__
        seen += 1
    return ""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
