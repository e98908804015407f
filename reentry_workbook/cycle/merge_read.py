"""Reading the returns of a merge: each opened once, read one after another (on every core when there are several),
and given back as what the merge keeps of it, so that no two returns' plans are ever held at once.

:func:`read_once` reads a workbook's plan, its custom properties and its sheet names from one opening of the file.
:class:`workers.Workers` runs the merge's per-return work in worker processes started by ``fork`` as soon as the
master's plan is read: they inherit what the process holds then (keep it small: a worker's peak memory is that plus one
return's reading), and the process goes on with the rest of the master (its Lists sheet's formulas) while they read.
Each return's result comes back. Where ``fork`` is not available, or for one return, the work runs here, one return
after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..audit.known_rows import KnownRows
    from ..audit.reader import ReadResult


@dataclass
class ReadOnce:
    read: ReadResult
    properties: dict[str, str]  # custom document properties
    sheet_names: list[str]  # every sheet, in tab order


def read_once(
    path: Path, known: KnownRows | None = None, *, held: int | None = 1, extra: tuple[str, ...] = ()
) -> ReadOnce:
    """The plan of the workbook at ``path``, its custom properties and its sheet names, from one opening; its rows
    that ``known`` holds (the master's, as they were) are taken from there (see :mod:`audit.known_rows`). ``held``:
    the sheets parsed ahead of the reader (None: as many as the thread gets to; see below); ``extra``: sheets whose
    cells are read too (:attr:`ReadResult.extra`)."""
    from ..audit.reader import read_book
    from ..xlsx.cells import open_workbook
    from ..xlsx.guard import open_package
    from ..xlsx.identity import identify_zip
    from ..xlsx.opc import sheet_names_in, unusable
    from ..xlsx.xmltext import Unsupported

    with open_package(path) as zf:
        # One sheet parsed ahead of the reader: the returns are read on every core at once, where parsing further
        # ahead gains no time and costs each worker the memory of the grids waiting.
        book = open_workbook(zf, label=path.name, held=held)
        try:
            read = read_book(book, path, known=known, extra=extra)
        finally:
            book.close()
        try:
            names = sheet_names_in(path, zf)
        except Unsupported as exc:
            raise unusable(path, exc) from None
        return ReadOnce(read, identify_zip(zf).properties, names)
