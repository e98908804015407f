"""The cells of one worksheet as the cell reader returns them: a value and a flag (plain value, formula,
error value) per cell, held densely (the fast path's grid) or sparsely (the exact path's rows)."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

VALUE = "value"
FORMULA = "formula"
ERROR = "error"

# Cells of one array formula's range flagged one by one; a larger range (never written by hand) flags only
# the cells that hold something.
MAX_ARRAY_CELLS = 100_000
# Formulas whose result fills a range: every cell of the range is a formula cell, though only the first
# carries the <f> element (the others hold cached results, never the member's data).
RANGE_FORMULAS = frozenset({"array", "dataTable"})


def flag_formula_range(
    flags: dict[tuple[int, int], tuple[str, str]], area: tuple[int, int, int, int] | None, text: str
) -> None:
    """Flag every cell of an array (or data table) formula's range ``area`` as a formula cell with ``text``
    (Excel shows the range's one formula in each of its cells)."""
    if area is None:
        return
    r1, c1, r2, c2 = area
    if (r2 - r1 + 1) * (c2 - c1 + 1) > MAX_ARRAY_CELLS:
        return
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            flags.setdefault((r, c), (FORMULA, text))


class Cell(NamedTuple):
    """One cell: ``value`` (``None`` when blank, for formulas and for error values), its ``flag`` (``VALUE``,
    ``FORMULA`` or ``ERROR``) and ``text``: the formula without its ``=``, or the error code."""

    value: Any
    flag: str = VALUE
    text: str = ""


@dataclass(frozen=True)
class SheetRef:
    name: str  # as shown on the sheet tab
    part: str  # zip member holding the worksheet
    state: str = "visible"  # "visible", "hidden" or "veryHidden"


# --- the cells of one sheet ----------------------------------------------------------------------------------


class SheetCells:
    """The cells of one worksheet, 0-based: row 0 is worksheet row 1, column 0 is column A.

    Formula and error cells read as ``None`` through :meth:`value` and :meth:`select`; :attr:`flags` holds
    ``(FORMULA or ERROR, text)`` for each of them. Of a merged range only the top-left cell keeps a value.
    """

    def __init__(
        self,
        name: str,
        flags: dict[tuple[int, int], tuple[str, str]],
        merged: list[tuple[int, int, int, int]],
    ) -> None:
        self.name = name
        self.flags = flags
        self.merged = merged

    def value(self, row: int, col: int) -> Any:
        raise NotImplementedError

    def row_count(self) -> int:
        """One past the last row index that holds a cell."""
        raise NotImplementedError

    def select(self, cols: Sequence[int], start: int = 0) -> Iterator[tuple[int, Sequence[Any]]]:
        """``(row, values of cols)`` for the rows from ``start`` on that may hold something, in order.

        A blank cell reads as ``None`` or ``""`` here (this is the bulk path, kept lean); formula and error
        cells read as ``None`` (see :attr:`flags`).
        """
        raise NotImplementedError

    def row_items(self, row: int) -> list[tuple[int, Any]]:
        """``(column, value)`` of the cells of one row that hold a plain value."""
        raise NotImplementedError

    def plain_rows(self) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        """``(row, row_items(row))`` of every row that holds a plain value, in order (formula and error cells are
        in :attr:`flags`): the bulk path through every cell of a sheet."""
        raise NotImplementedError

    def cell(self, row: int, col: int) -> Cell:
        flagged = self.flags.get((row, col))
        if flagged is not None:
            return Cell(None, flagged[0], flagged[1])
        return Cell(self.value(row, col))

    def iter_cells(self) -> Iterator[tuple[int, int, Cell]]:
        """Every cell that holds something, row by row."""
        raise NotImplementedError

    def column_values(self, col: int) -> dict[int, Any]:
        """Row -> the plain value of each cell of column ``col`` that holds one (as :meth:`iter_cells` gives them)."""
        return {r: cell.value for r, c, cell in self.iter_cells() if c == col and cell.flag == VALUE}

    def _flagged_columns(self) -> dict[int, list[int]]:
        """Row -> the columns of its formula and error cells."""
        by_row: dict[int, list[int]] = {}
        for r, c in self.flags:
            by_row.setdefault(r, []).append(c)
        return by_row

    def only_columns(self, cols: set[int]) -> SheetCells:
        """These cells but for the plain values outside the columns ``cols`` (they read as blank), which are let go
        (this object may be the one returned: use that one); the formula and error flags stay. For a caller that
        holds a large sheet but needs only some of its columns."""
        raise NotImplementedError

    def _blank_merged(self) -> None:
        for r1, c1, r2, c2 in self.merged:
            if (r2 - r1 + 1) * (c2 - c1 + 1) <= len(self.flags):
                covered = [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
            else:
                covered = [k for k in self.flags if r1 <= k[0] <= r2 and c1 <= k[1] <= c2]
            for key in covered:
                if key != (r1, c1):
                    self.flags.pop(key, None)
            self._clear_range(r1, c1, r2, c2)

    def _clear_range(self, r1: int, c1: int, r2: int, c2: int) -> None:
        raise NotImplementedError


class DenseCells(SheetCells):
    """Rows as lists from column A (the fast path: python-calamine's grid, ``""`` for blank)."""

    def __init__(
        self,
        name: str,
        rows: list[list[Any]],
        flags: dict[tuple[int, int], tuple[str, str]],
        merged: list[tuple[int, int, int, int]],
    ) -> None:
        super().__init__(name, flags, merged)
        self._rows = rows
        for r, c in flags:
            if r < len(rows) and c < len(rows[r]):
                rows[r][c] = None
        self._blank_merged()

    def value(self, row: int, col: int) -> Any:
        if row >= len(self._rows):
            return None
        cells = self._rows[row]
        value = cells[col] if col < len(cells) else None
        return None if value == "" else value

    def row_count(self) -> int:
        return max(len(self._rows), max((r + 1 for r, _ in self.flags), default=0))

    def row_items(self, row: int) -> list[tuple[int, Any]]:
        cells = self._rows[row] if row < len(self._rows) else []
        return [(c, v) for c, v in enumerate(cells) if v is not None and v != ""]

    def plain_rows(self) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        for r in range(len(self._rows)):
            items = self.row_items(r)
            if items:
                yield r, items

    def select(self, cols: Sequence[int], start: int = 0) -> Iterator[tuple[int, Sequence[Any]]]:
        rows = self._rows
        if not cols:
            return
        pick = operator.itemgetter(*cols)
        needed = max(cols) + 1
        single = len(cols) == 1
        for r in range(start, len(rows)):
            cells = rows[r]
            if len(cells) >= needed:
                yield r, (pick(cells),) if single else pick(cells)
            else:
                n = len(cells)
                yield r, [cells[c] if c < n else None for c in cols]
        # formula and error cells past the last value (a formula without a cached result)
        for r in sorted({r for r, _ in self.flags if r >= max(start, len(rows))}):
            yield r, [None] * len(cols)

    def iter_cells(self) -> Iterator[tuple[int, int, Cell]]:
        by_row = self._flagged_columns()
        for r in range(self.row_count()):
            cells = self._rows[r] if r < len(self._rows) else []
            flagged = by_row.get(r, ())
            for c in sorted({*(c for c, v in enumerate(cells) if v is not None and v != ""), *flagged}):
                yield r, c, self.cell(r, c)

    def only_columns(self, cols: set[int]) -> SheetCells:
        rows = self._rows
        columns = {c: [cells[c] if c < len(cells) else None for cells in rows] for c in sorted(cols)}
        return ColumnCells(self.name, columns, len(rows), self.flags, self.merged)

    def _clear_range(self, r1: int, c1: int, r2: int, c2: int) -> None:
        for r in range(r1, min(r2 + 1, len(self._rows))):
            cells = self._rows[r]
            for c in range(c1, min(c2 + 1, len(cells))):
                if (r, c) != (r1, c1):
                    cells[c] = None


class SparseCells(SheetCells):
    """Rows as ``{column: value}`` (the exact path; a far-away cell costs nothing)."""

    def __init__(
        self,
        name: str,
        rows: dict[int, dict[int, Any]],
        flags: dict[tuple[int, int], tuple[str, str]],
        merged: list[tuple[int, int, int, int]],
    ) -> None:
        super().__init__(name, flags, merged)
        self._rows = rows
        for r, c in flags:
            if r in rows:
                rows[r].pop(c, None)
        self._blank_merged()
        self._order = sorted(r for r, cells in rows.items() if cells)

    def value(self, row: int, col: int) -> Any:
        cells = self._rows.get(row)
        return None if cells is None else cells.get(col)

    def row_count(self) -> int:
        last = max((r for r, _ in self.flags), default=-1)
        return max(self._order[-1] if self._order else -1, last) + 1

    def row_items(self, row: int) -> list[tuple[int, Any]]:
        return sorted(self._rows.get(row, {}).items())

    def plain_rows(self) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        for r in self._order:
            items = self.row_items(r)
            if items:
                yield r, items

    def select(self, cols: Sequence[int], start: int = 0) -> Iterator[tuple[int, Sequence[Any]]]:
        flagged_rows = {r for r, _ in self.flags}
        for r in sorted({*self._order, *flagged_rows}):
            if r >= start:
                cells = self._rows.get(r, {})
                yield r, [cells.get(c) for c in cols]

    def iter_cells(self) -> Iterator[tuple[int, int, Cell]]:
        flagged_rows = self._flagged_columns()
        for r in sorted({*self._order, *flagged_rows}):
            cells = self._rows.get(r, {})
            for c in sorted({*cells, *flagged_rows.get(r, ())}):
                yield r, c, self.cell(r, c)

    def only_columns(self, cols: set[int]) -> SheetCells:
        for cells in self._rows.values():
            for c in [c for c in cells if c not in cols]:
                del cells[c]
        self._order = [r for r in self._order if self._rows[r]]
        return self

    def _clear_range(self, r1: int, c1: int, r2: int, c2: int) -> None:
        rows = range(r1, r2 + 1) if r2 - r1 < len(self._rows) else [r for r in self._rows if r1 <= r <= r2]
        for r in rows:
            cells = self._rows.get(r)
            if cells:
                for c in [c for c in cells if c1 <= c <= c2 and (r, c) != (r1, c1)]:
                    del cells[c]


class ColumnCells(SheetCells):
    """Some columns of a sheet read densely, each a list of values by row (``""`` or ``None`` for blank): what
    :meth:`DenseCells.only_columns` keeps of a large sheet (a list per row would cost some 80 bytes a row more)."""

    def __init__(
        self,
        name: str,
        columns: dict[int, list[Any]],
        rows: int,
        flags: dict[tuple[int, int], tuple[str, str]],
        merged: list[tuple[int, int, int, int]],
    ) -> None:
        super().__init__(name, flags, merged)  # (merged ranges already cleared by the cells these come from)
        self._columns = columns
        self._rows = rows

    def value(self, row: int, col: int) -> Any:
        values = self._columns.get(col)
        value = values[row] if values is not None and row < self._rows else None
        return None if value == "" else value

    def row_count(self) -> int:
        return max(self._rows, max((r + 1 for r, _ in self.flags), default=0))

    def row_items(self, row: int) -> list[tuple[int, Any]]:
        return [(c, v) for c in self._columns if (v := self.value(row, c)) is not None]

    def plain_rows(self) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        for r in range(self._rows):
            items = self.row_items(r)
            if items:
                yield r, items

    def select(self, cols: Sequence[int], start: int = 0) -> Iterator[tuple[int, Sequence[Any]]]:
        for r in range(start, self._rows):
            yield r, [self.value(r, c) for c in cols]
        for r in sorted({r for r, _ in self.flags if r >= max(start, self._rows)}):  # as DenseCells.select
            yield r, [None] * len(cols)

    def iter_cells(self) -> Iterator[tuple[int, int, Cell]]:
        by_row = self._flagged_columns()
        for r in range(self.row_count()):
            for c in sorted({*(c for c in self._columns if self.value(r, c) is not None), *by_row.get(r, ())}):
                yield r, c, self.cell(r, c)

    def only_columns(self, cols: set[int]) -> SheetCells:
        self._columns = {c: values for c, values in self._columns.items() if c in cols}
        return self

    def column_values(self, col: int) -> dict[int, Any]:
        values = self._columns.get(col, [])
        flags = self.flags
        return {r: v for r, v in enumerate(values[: self._rows]) if v is not None and v != "" and (r, col) not in flags}

    def _clear_range(self, r1: int, c1: int, r2: int, c2: int) -> None:
        for c, values in self._columns.items():
            if c1 <= c <= c2:
                for r in range(r1, min(r2 + 1, self._rows)):
                    if (r, c) != (r1, c1):
                        values[r] = None
