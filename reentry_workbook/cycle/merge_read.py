"""Reading the returns of a merge: each opened once, read one after another (on every core when there are several),
and given back as what the merge keeps of it, so that no two returns' plans are ever held at once.

:func:`read_once` reads a workbook's plan, its custom properties and its sheet names from one opening of the file.
:func:`each_in_processes` runs the merge's per-return work in worker processes started by ``fork`` (they inherit
the master as read, never sent to them); only each return's result comes back. Where ``fork`` is not available,
or for one return, the work runs here, one return after the other.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..audit.reader import ReadResult

T = TypeVar("T")


@dataclass
class ReadOnce:
    read: ReadResult
    properties: dict[str, str]  # custom document properties
    sheet_names: list[str]  # every sheet, in tab order


def read_once(path: Path) -> ReadOnce:
    """The plan of the workbook at ``path``, its custom properties and its sheet names, from one opening."""
    from ..audit.reader import read_book
    from ..xlsx.cells import open_workbook
    from ..xlsx.guard import open_package
    from ..xlsx.identity import identify_zip
    from ..xlsx.opc import sheet_names_in, unusable
    from ..xlsx.xmltext import Unsupported

    with open_package(path) as zf:
        book = open_workbook(zf, label=path.name)
        try:
            read = read_book(book, path)
        finally:
            book.close()
        try:
            names = sheet_names_in(path, zf)
        except Unsupported as exc:
            raise unusable(path, exc) from None
        return ReadOnce(read, identify_zip(zf).properties, names)


_WORK: Callable[[int], Any] | None = None  # a worker's job, inherited from the process that forked it


def _start(work: Callable[[int], Any]) -> None:
    global _WORK
    _WORK = work


def _run(index: int) -> Any:
    assert _WORK is not None
    return _WORK(index)


def each_in_processes(work: Callable[[int], T], count: int, jobs: int | None = None) -> list[T]:
    """``[work(0), ..., work(count - 1)]``, on up to ``jobs`` (default: every) cores; the first error raised, in
    that order, is raised here."""
    workers = min(jobs or os.cpu_count() or 1, count)
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [work(i) for i in range(count)]
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start, initargs=(work,)) as pool:
        futures = [pool.submit(_run, i) for i in range(count)]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:  # the merge stops at the first return it cannot read: the others are not needed
                f.cancel()
            raise

