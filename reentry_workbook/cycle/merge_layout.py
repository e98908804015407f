"""Where the plan sits in the master workbook, worked out from the merge's one reading of it.

:class:`LayoutReading` takes, as the reader reads each plan sheet of the master, what writing into it needs: the
sheets and columns the reader mapped, the pre-formatted rows still blank (an ID alone does not fill a row), where
rows past them go, the formulas (as runs) and the columns they read; the Lists sheet is read meanwhile in a
process of its own (:func:`read_lists`). :class:`SlotIds` holds the blank rows' pre-filled IDs compactly, as the
workers that read the returns are given them. :mod:`merge_master` turns the merge's decisions into cell changes
at the places this finds.
"""

from __future__ import annotations

import bisect
import zipfile
from array import array
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TemplateMismatchError
from ..plan import schema
from ..plan.ids import normalise_id
from ..plan.model import Plan, Record
from ..plan.schema import Kind, Sheet
from ..workbook.formula_results import inputs as formula_inputs
from ..xlsx.refs import parse_ref
from ..xlsx.sheet_cells import FORMULA, SheetCells, SheetRef
from .merge_formulas import Formulas
from .merge_model import COALITION

if TYPE_CHECKING:
    from ..xlsx.cells import Workbook
    from ..xlsx.opc import Package


class Slots:
    """A sheet's blank pre-formatted rows, top first: the 0-based worksheet row of each and the ID it is pre-filled
    with. A large template has tens of thousands, held as an array of rows and a list of IDs (an object per row
    would cost some 20 MB at 50,000 steps); :meth:`take` hands them out from the top."""

    def __init__(self) -> None:
        self.rows = array("l")
        self.ids: list[str | None] = []
        self._taken = 0

    def add(self, row: int, prefilled: str | None) -> None:
        self.rows.append(row)
        self.ids.append(prefilled)

    def take(self) -> tuple[int, str | None] | None:
        """The next blank row and its pre-filled ID, now taken; None when none is left."""
        i = self._taken
        if i >= len(self.rows):
            return None
        self._taken = i + 1
        return self.rows[i], self.ids[i]

    def left(self) -> list[str | None]:
        """The pre-filled IDs of the rows not taken yet."""
        return self.ids[self._taken :]


@dataclass
class SheetLayout:
    name: str  # the sheet's name in the master
    columns: dict[str, int]  # column key -> 0-based column
    slots: Slots  # blank pre-formatted rows, top first
    append_at: int  # 0-based row where rows past the pre-formatted ones go


@dataclass
class Placed:
    """An added row and where it goes in the master."""

    sheet: Sheet
    record: Record
    row: int  # 0-based worksheet row
    prefilled: str | None  # the ID the row was pre-filled with (None when appended)
    appended: bool


@dataclass
class MasterLayout:
    sheets: dict[str, SheetLayout]
    coalition_sheet: str
    coalition_cells: dict[str, tuple[int, int]]
    cells: dict[str, SheetCells] = field(default_factory=dict)  # the master's cells, by sheet name (no formulas)
    formulas: dict[str, Formulas] = field(default_factory=dict)  # the master's formulas, by sheet name
    names: dict[str, str] = field(default_factory=dict)  # workbook-level defined names -> their formula texts
    tabs: list[str] = field(default_factory=list)  # every sheet's name, in tab order

    def slot_ids(self, master_keys: Mapping[str, Collection[str]]) -> dict[str, SlotIds]:
        """Sheet key -> the IDs the blank pre-formatted rows are pre-filled with (``master_keys``: sheet key -> the
        keys of the master's rows)."""
        return {
            key: SlotIds(schema.sheet(key).id_prefix, where.slots.left(), master_keys.get(key, ()))
            for key, where in self.sheets.items()
        }


class LayoutReading:
    """The master's layout, worked out from the one reading of its plan.

    :meth:`sheet` is given to ``read_book`` (its ``sheet_read``): each plan sheet's blank pre-formatted rows, its
    formulas (as runs) and the columns those formulas read are taken from the cells the reader read, which then go.
    :meth:`check` refuses a master whose cells cannot all be placed; :meth:`finish` reads the rest (the Lists
    sheet, :func:`read_lists`) while the returns are read. Of the cells, only the columns formulas read are kept
    (see :func:`_keep_what_formulas_read`): those the template's own formulas read, kept as each sheet is read,
    and any other a formula turns out to read, for which its sheet is read again.
    """

    def __init__(self, master: Path, zf: zipfile.ZipFile) -> None:
        self.master, self.zf = master, zf  # (the master's package is read after the workers fork: see finish)
        self.layout = MasterLayout({}, "", {})
        self._template_reads = _template_reads()
        self._read: dict[str, set[int]] = {}  # sheet name -> the columns formulas read
        self._kept: dict[str, set[int]] = {}  # sheet name -> the columns kept of its cells
        self._names: list[str] = []  # the plan sheets' names, in the plan's order (see check)

    def sheet(self, sheet: Sheet, ref: SheetRef, cells: SheetCells, header: int, found: dict[str, int]) -> None:
        """Take what the layout needs of a plan sheet's cells (``header``: its header row, 0-based; ``found``: the
        column of each column key)."""
        from ..xlsx.opc import unusable
        from ..xlsx.workbook_edit import after_cell_data, validation_ranges
        from ..xlsx.xmltext import Unsupported

        if any(c.key not in found for c in sheet.columns if c.kind is not Kind.DERIVED):
            return  # (check refuses the master)
        columns = {c.key: found[c.key] for c in sheet.columns if c.key in found}
        try:
            ranges = validation_ranges(after_cell_data(self.zf, ref.part))
        except Unsupported as exc:
            raise unusable(self.master, exc) from None
        self.layout.sheets[sheet.key] = _sheet_layout(sheet, ref.name, columns, cells, ranges, header)
        self._hold(ref.name, cells, self._template_reads.get(sheet.name, set()))

    def check(self, base: Plan) -> None:
        """Refuse a master (read as ``base``) whose layout leaves a cell of the plan with nowhere to be written."""
        source = base.source
        unmapped = [
            f"{sheet.name}: {col.header}"
            for sheet in schema.SHEETS
            for col in sheet.columns
            if col.kind is not Kind.DERIVED and col.key not in source.columns.get(sheet.key, {})
        ]
        fields = source.coalition_cells
        unmapped += [f"{schema.COALITION_SHEET}: {f.label}" for f in schema.COALITION_FIELDS if f.key not in fields]
        if unmapped or COALITION not in source.sheet_names:
            missing = ", ".join(unmapped[:3]) + (" ..." if len(unmapped) > 3 else "")
            raise TemplateMismatchError(
                f"{self.master.name} cannot be merged in place: the merge cannot tell where to write "
                f"({missing or schema.COALITION_SHEET}); bring it to the current template with "
                "`reentry-workbook upgrade`, then merge into the upgraded master."
            )
        self.layout.coalition_sheet = source.sheet_names[COALITION]
        for key, a1 in source.coalition_cells.items():
            found = parse_ref(a1)
            if found is not None:
                self.layout.coalition_cells[key] = found
        self._names = [source.sheet_names[s.key] for s in schema.SHEETS]

    def finish(self, book: Workbook, pkg: Package, lists_read: ListsRead | None) -> MasterLayout:
        """The layout, with the Lists sheet as :func:`read_lists` read it (``book``: the master opened again, ``pkg``:
        its package)."""
        from ..xlsx.opc import sheet_names_of, unusable
        from ..xlsx.workbook_edit import defined_names
        from ..xlsx.xmltext import Unsupported

        layout = self.layout
        layout.names = defined_names(pkg)
        try:
            layout.tabs = sheet_names_of(pkg)
        except Unsupported as exc:
            raise unusable(self.master, exc) from None
        lists = []
        if lists_read is not None:
            name = schema.LISTS_SHEET
            lists.append(name)
            layout.formulas[name], layout.cells[name] = lists_read.formulas, lists_read.cells
            for sheet, col in lists_read.reads:
                self._read.setdefault(sheet, set()).add(col)
            self._kept[name] = lists_read.own
        for name in [*self._names, *lists]:
            if self._read.get(name, set()) - self._kept[name]:  # a formula reads a column not kept: read it again
                layout.cells[name] = _keep_what_formulas_read(book.read_sheet(name), self._read[name])
        # In the order of the plan's sheets, then the Lists sheet, as the cell changes are made.
        layout.sheets = {s.key: layout.sheets[s.key] for s in schema.SHEETS}
        layout.cells = {name: layout.cells[name] for name in [*self._names, *lists]}
        layout.formulas = {name: layout.formulas[name] for name in [*self._names, *lists]}
        return layout

    def _hold(self, name: str, cells: SheetCells, more: set[int]) -> None:
        """Keep a sheet's formulas (as runs) and, of its cells, the columns formulas read (so far) and ``more``."""
        formulas = self.layout.formulas[name] = Formulas.of(cells.flags)
        for sheet, col in formulas.columns_read(name):
            self._read.setdefault(sheet, set()).add(col)
        keep = self._kept[name] = self._read.get(name, set()) | more
        self.layout.cells[name] = _keep_what_formulas_read(cells, keep)


@dataclass
class ListsRead:
    """What the merge keeps of the master's Lists sheet: its formulas (as runs), the cells they read (sheet name,
    column) and, of its own cells, the columns they read (``own``)."""

    formulas: Formulas
    reads: list[tuple[str, int]]
    cells: SheetCells

    @property
    def own(self) -> set[int]:
        return {col for sheet, col in self.reads if sheet == schema.LISTS_SHEET}


def read_lists(master: Path) -> ListsRead | None:
    """The master's Lists sheet as the merge keeps it (None when it has none), from an opening of the file of its own:
    it is read in a process of its own while the master's plan is read (its 200,000 formulas at 50,000 steps cost
    more memory, as read, than the plan's largest sheet)."""
    from ..xlsx.cells import open_workbook
    from ..xlsx.guard import open_package

    name = schema.LISTS_SHEET
    with open_package(master) as zf:
        book = open_workbook(zf, label=master.name)
        try:
            if all(ref.name != name for ref in book.sheets):
                return None
            cells = book.read_formulas(name)  # its formulas are all the merge needs, unless they read their own sheet
            formulas = Formulas.of(cells.flags)
            found = ListsRead(formulas, list(formulas.columns_read(name)), cells)
            if found.own:
                found.cells = book.read_sheet(name)
            found.cells = _keep_what_formulas_read(found.cells, found.own)
            return found
        finally:
            book.close()


def _template_reads() -> dict[str, set[int]]:
    """Sheet name -> the columns the template's own formulas read: the Lists sheet's labels and suggested names,
    the derived columns (in the template's columns: a master whose columns were moved reads a sheet again)."""
    from ..plan.describe import referenced_sheets, suggested_sheets
    from ..workbook.lists import derived_formula, label_formula, name_formula

    texts = [(schema.LISTS_SHEET, label_formula(schema.sheet(key), 2)) for key in referenced_sheets()]
    texts += [(schema.LISTS_SHEET, name_formula(schema.sheet(key), 2)) for key in suggested_sheets()]
    texts += [(s.name, derived_formula(s, c, 2)) for s in schema.SHEETS for c in s.columns if c.kind is Kind.DERIVED]
    reads: dict[str, set[int]] = {}
    for sheet, text in texts:
        for name, _row, col in formula_inputs(text, sheet) or ():
            reads.setdefault(name, set()).add(col)
    return reads


class SlotIds:
    """The IDs a sheet's blank pre-formatted rows are pre-filled with, as the workers that read the returns are given
    them. A large template has tens of thousands, numbered in runs (``A-101``, ``A-102``, ...): they are held as runs
    of numbers (their texts in a set cost each worker some 20 MB at 50,000 steps), any other ID as its text."""

    def __init__(self, prefix: str | None, ids: Iterable[str | None], master_keys: Collection[str]) -> None:
        self.prefix = prefix.upper() if prefix else None
        self.starts, self.ends = array("q"), array("q")  # runs of numbers: from starts[i] to ends[i], both included
        self.others: set[str] = set()  # IDs that are not this sheet's prefix and a number as normalise_id writes it
        self.in_master: set[str] = set()  # IDs that are also keys of the master's rows (see among)
        numbers: set[int] = set()
        for found in ids:
            if not found:
                continue
            if found in master_keys:
                self.in_master.add(found)
            number = self._number(found)
            if number is None:
                self.others.add(found)
            else:
                numbers.add(number)
        for number in sorted(numbers):
            if self.ends and number == self.ends[-1] + 1:
                self.ends[-1] = number
            else:
                self.starts.append(number)
                self.ends.append(number)

    def _number(self, key: str) -> int | None:
        """The number of ``key`` when it is written ``<prefix>-<number>``, exactly as :func:`normalise_id` writes it."""
        head, _sep, digits = key.partition("-")
        if head != self.prefix or not (digits.isascii() and digits.isdigit()):
            return None
        number = int(digits)
        return number if digits == str(number) else None

    def __contains__(self, key: str) -> bool:
        number = self._number(key)
        if number is None:
            return key in self.others
        i = bisect.bisect_right(self.starts, number) - 1
        return i >= 0 and number <= self.ends[i]

    def among(self, names: set[str], master_keys: Collection[str]) -> set[str]:
        """The ``names`` that are IDs of blank rows (``master_keys``: the keys of the master's rows, as given when
        made). Most names of a return are keys of the master: only the others are looked up one by one."""
        return {name for name in names.difference(master_keys) if name in self} | (names & self.in_master)


def _keep_what_formulas_read(cells: SheetCells, columns: set[int]) -> SheetCells:
    """Of a sheet's cells, only the columns the template's formulas read, and no formula (the formulas are held as
    runs, :mod:`merge_formulas`): all that working out cached results needs (a large plan's cells are held while its
    returns are read)."""
    cells.flags = {k: v for k, v in cells.flags.items() if v[0] != FORMULA}
    return cells.only_columns(columns)


def _sheet_layout(sheet: Sheet, name: str, columns: dict[str, int], cells: SheetCells,
                  ranges: Iterable[tuple[int, int, int, int]], header: int) -> SheetLayout:
    id_col = columns.get(sheet.id_column.key) if sheet.id_column is not None else None
    derived = {columns[c.key] for c in sheet.columns if c.kind is Kind.DERIVED and c.key in columns}
    label = columns[sheet.label]
    bottom = max((r2 for r1, c1, r2, c2 in ranges if c1 <= label <= c2 and r2 > header), default=header)
    occupied: set[int] = set()  # rows holding something other than an ID or a derived formula
    for r in range(header + 1, cells.row_count()):
        for c, value in cells.row_items(r):
            if c != id_col and value is not None and not (isinstance(value, str) and not value.strip()):
                occupied.add(r)
                break
    for (r, c), (flag, _text) in cells.flags.items():
        if r > header and c != id_col and not (flag == FORMULA and c in derived):
            occupied.add(r)
    slots = Slots()
    for r in range(header + 1, bottom + 1):
        if r not in occupied:
            slots.add(r, normalise_id(cells.value(r, id_col), sheet.id_prefix) if id_col is not None else None)
    append_at = max([bottom, *occupied]) + 1
    return SheetLayout(name, columns, slots, append_at)
