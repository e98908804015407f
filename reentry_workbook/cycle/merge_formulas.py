"""The master's formulas as the merge holds them while its returns are read: by runs down a column.

A template fills its formulas down: each row of a dropdown's list, each derived cell of a data sheet, holds the
formula of the row above moved one row down. A :class:`Run` holds such a column of formulas once (the text at its
top row, split around the row numbers that move), and gives back each row's text exactly as the sheet holds it:
a formula joins the run above it only when the text the run makes for its row is the sheet's, character for
character. So the master's hundreds of thousands of formula cells cost a few runs, and what a run reads (the
same columns for each of its rows) is worked out once.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..workbook.formula_results import Input
from ..workbook.formula_results import inputs as formula_inputs
from ..xlsx.refs import relative_rows
from ..xlsx.sheet_cells import FORMULA


@dataclass
class Run:
    """Formulas of one column, rows ``first`` to ``last``: the text at ``first``, moved down one row a row."""

    first: int  # 0-based rows
    last: int
    top: str  # the formula at the first row, as the sheet holds it
    pieces: list[str]  # the top's text around its relative row numbers (one more piece than numbers)
    numbers: list[int]  # the top's relative row numbers
    # The pieces joined by "%d", their own "%" doubled: ``template % numbers`` is the text (a master's formulas are
    # made again by the hundred thousand, each compared with the sheet's).
    template: str = ""

    @classmethod
    def at(cls, row: int, text: str) -> Run:
        pieces, numbers, at = [], [], 0
        for start, end in relative_rows(text):
            pieces.append(text[at:start])
            numbers.append(int(text[start:end]))
            at = end
        pieces.append(text[at:])
        return cls(row, row, text, pieces, numbers, "%d".join(piece.replace("%", "%%") for piece in pieces))

    def text(self, row: int) -> str:
        """The formula this run makes for ``row`` (the top's relative rows moved down ``row - first``)."""
        down = row - self.first
        if not down:
            return self.top
        return self.template % tuple([number + down for number in self.numbers])

    def reads(self, sheet: str) -> list[Input] | None:
        """What the top formula reads (:func:`formula_inputs`): the same columns as every row of the run."""
        return formula_inputs(self.top, sheet)


@dataclass
class Formulas:
    """The formula cells of one sheet, by column, as runs top first."""

    runs: dict[int, list[Run]] = field(default_factory=dict)  # 0-based column -> its runs
    _tops: dict[int, list[int]] = field(default_factory=dict)  # column -> the first row of each run

    @classmethod
    def of(cls, flags: Mapping[tuple[int, int], tuple[str, str]]) -> Formulas:
        """The formulas among a sheet's flagged cells (``SheetCells.flags``)."""
        by_column: dict[int, list[tuple[int, str]]] = {}
        for (r, c), (flag, text) in flags.items():
            if flag == FORMULA:
                by_column.setdefault(c, []).append((r, text))
        out = cls()
        for c, cells in by_column.items():
            cells.sort()
            runs: list[Run] = []
            for r, text in cells:
                run = runs[-1] if runs else None
                if run is not None and r == run.last + 1 and run.text(r) == text:
                    run.last = r
                else:
                    runs.append(Run.at(r, text))
            out.runs[c] = runs
            out._tops[c] = [run.first for run in runs]
        return out

    def count(self) -> int:
        return sum(run.last - run.first + 1 for runs in self.runs.values() for run in runs)

    def get(self, row: int, col: int) -> str | None:
        """The formula of a cell, or None when it holds none."""
        tops = self._tops.get(col)
        if not tops:
            return None
        i = bisect.bisect_right(tops, row) - 1
        if i < 0:
            return None
        run = self.runs[col][i]
        return run.text(row) if row <= run.last else None

    def in_row(self, row: int) -> list[tuple[int, str]]:
        """``(column, formula)`` of a row's formula cells, left to right."""
        found = ((c, self.get(row, c)) for c in sorted(self.runs))
        return [(c, text) for c, text in found if text is not None]

    def columns_read(self, sheet: str) -> Iterator[tuple[str, int]]:
        """``(sheet name, column)`` of every cell the template's formulas here read (``sheet``: this sheet's name)."""
        for runs in self.runs.values():
            for run in runs:
                for name, _row, col in run.reads(sheet) or ():
                    yield name, col

    def reading(self, sheet: str, columns: Mapping[str, set[int]]) -> Iterator[tuple[int, int, str]]:
        """``(row, column, formula)`` of the formulas that read a cell of ``columns`` (sheet name -> columns), row by
        row: the runs that read none of them are passed over whole."""
        found: list[tuple[int, int, str]] = []
        for c, runs in self.runs.items():
            for run in runs:
                if any(col in columns.get(name, ()) for name, _row, col in run.reads(sheet) or ()):
                    found.extend((r, c, run.text(r)) for r in range(run.first, run.last + 1))
        found.sort()
        return iter(found)
