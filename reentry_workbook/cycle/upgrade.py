"""Carry a workbook made by an earlier template version into the current layout without losing an entry.

The plan is read with the tolerant reader (it finds columns by header text, wherever they are) and written
afresh with :func:`generate.write_plan_workbook`. Then every cell of the old workbook is accounted for:

- a cell the reader took is in the new plan;
- the template's own content (the Start Here and Lists sheets, header and label texts, the IDs and
  derived formulas of unused pre-formatted rows) and the audit's Alignment Summary (the next audit
  writes a fresh one) are made again, not carried;
- the records the tool keeps in the workbook are carried as sheets of their own: the Audit History (read as
  the audit reads it and written as the audit writes it, so the trend goes on) and the last merge's Merge
  Conflicts and Merge Log (their values, cell for cell: what is left to decide stays in view);
- anything else that is not empty (a column or sheet the current layout has no home for, a Coalition
  label it does not know, a cell the reader could not take at face value such as a formula where text
  belongs) goes to the visible ``schema.UPGRADE_NOTES_SHEET`` sheet with its sheet, cell, row ID, column
  and value, written as text. Nothing is dropped.

A sheet or column the current layout has and the old one lacked comes out empty. When a later version renames
a sheet, a header or a Coalition label, add the old name to ``LEGACY`` so its entries land in their new home
instead of the notes; ``tests/frozen/`` keeps the first layout so that change is proven by a test.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..audit.reader import HEADER_SCAN_ROWS
from ..plan import schema
from ..plan.model import Plan, written
from ..plan.schema import Kind, normalise_header
from ..xlsx.atomic import check_output
from ..xlsx.identity import custom_properties
from ..xlsx.refs import cell_position, cell_ref
from ..xlsx.sheet_cells import FORMULA, SheetCells
from .roundtrip import display

if TYPE_CHECKING:
    from ..audit.report import HistoryRow
    from ..xlsx.cells import Workbook

# Header texts and widths of the Upgrade Notes sheet (declared once; tests read them from here).
NOTE_HEADERS: tuple[tuple[str, float], ...] = (
    ("Sheet", 18),
    ("Cell", 8),
    ("Row ID", 10),
    ("Column or label", 26),
    ("Value", 44),
    ("Why it is here", 48),
)
NOTES_INTRO = (
    "Entries of the old workbook that have no place in this version of the template, kept here as text. "
    "Move each one where it belongs, then delete this sheet."
)
WHY_COLUMN = "the current layout has no such column"
WHY_SHEET = "the current template has no such sheet"
WHY_LABEL = "the current Coalition sheet has no such field"
WHY_UNREAD = "the cell could not be taken as it was (for example a formula where an entry belongs)"
WHY_ROW = "the row was not read as a plan row"

# Sheets made again rather than carried: the template's instructions and lists, and the audit's summary.
REMADE_SHEETS: tuple[str, ...] = (schema.START_SHEET, schema.LISTS_SHEET, schema.SUMMARY_SHEET)
# The last merge's record, carried as it is (its values, cell for cell); the Audit History is carried as history.
RECORD_SHEETS: tuple[str, ...] = (schema.MERGE_CONFLICTS_SHEET, schema.MERGE_LOG_SHEET)
RECORD_WIDTH = 20  # the record sheets' column width (their own widths are not carried)
COALITION = "coalition"  # key of the Coalition sheet among the sheet keys


@dataclass(frozen=True)
class Legacy:
    """Names an earlier template version used, mapped to today's keys (empty while there is one version)."""

    sheets: Mapping[str, str] = field(default_factory=dict)  # old sheet name -> sheet key
    headers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # sheet key -> old header -> column key
    coalition: Mapping[str, str] = field(default_factory=dict)  # old Coalition label -> field key

    def __bool__(self) -> bool:
        return bool(self.sheets or self.headers or self.coalition)


LEGACY = Legacy()


@dataclass(frozen=True)
class UpgradeNote:
    sheet: str
    cell: str
    row_id: str
    column: str
    value: str
    why: str


@dataclass
class Upgrade:
    """An old workbook read into the current model, with whatever had no place in it."""

    source: Path
    plan: Plan
    notes: list[UpgradeNote]
    from_version: str | None  # the template version the old workbook declares, if any
    current: bool  # it was made by the current template already (same version and fingerprint)
    history: list[HistoryRow] | None = None  # the rows of its Audit History, when it has one
    records: dict[str, list[tuple[int, int, Any]]] = field(default_factory=dict)  # RECORD_SHEETS: 1-based cells


def prepare_upgrade(old: Path, *, legacy: Legacy = LEGACY) -> Upgrade:
    """Read ``old`` into the current model and collect every entry that has no home there; nothing is written.

    The workbook is read once, by the cell reader: the plan, then every other cell of the same sheets. When the
    old layout lacks a sheet or a column the current one has (or used a name ``legacy`` knows), the reader is
    given a scratch copy in which earlier names are renamed and the missing sheets and columns are added,
    empty; the old file itself is only read.
    """
    from ..errors import TemplateMismatchError

    old = Path(old)
    if not legacy:
        try:
            return _read_upgrade(old, old)
        except TemplateMismatchError:
            pass
    with tempfile.TemporaryDirectory(prefix="reentry-workbook-upgrade-") as tmp:
        return _read_upgrade(old, _current_layout_copy(old, Path(tmp) / "layout.xlsx", legacy))


def _read_upgrade(old: Path, readable: Path) -> Upgrade:
    """The plan in ``readable`` and the notes of every cell it did not take; ``old`` says the version."""
    from ..audit.reader import read_book
    from ..xlsx.cells import open_workbook
    from ..xlsx.guard import open_package
    from ..xlsx.read_ahead import importing

    with open_package(readable) as zf:
        # (the generator that writes the upgrade is imported while the reader waits for python-calamine)
        ahead = importing(("xlsxwriter", "..workbook.generate"), __package__)
        book = open_workbook(zf, label=old.name, keep=True, idle=ahead)
        try:
            plan = read_book(book, readable).plan
            notes = list(_unplaced(book, plan))
            props = book.properties if readable == old else custom_properties(old)
            history, records = _records(book, plan)
        finally:
            book.close()
    version = props.get(schema.PROP_VERSION)
    current = version == schema.TEMPLATE_VERSION and props.get(schema.PROP_FINGERPRINT) == schema.fingerprint()
    return Upgrade(old, plan, notes, version, current, history, records)


def _records(book: Workbook, plan: Plan) -> tuple[list[HistoryRow] | None, dict[str, list[tuple[int, int, Any]]]]:
    """The old workbook's Audit History, as history rows, and the cells of its RECORD_SHEETS."""
    from ..audit.history import read_history

    history: list[HistoryRow] | None = None
    records: dict[str, list[tuple[int, int, Any]]] = {}
    for ref in book.sheets:
        if ref.name == schema.HISTORY_SHEET:
            history = read_history(book.read_sheet(ref), date1904=plan.source.date1904)
        elif ref.name in RECORD_SHEETS:
            records[ref.name] = list(_Grid(ref.name, book.read_sheet(ref)).filled())
    return history, records


def write_upgrade(upgrade: Upgrade, out: Path, *, force: bool = False) -> Path:
    """Write the upgraded workbook (and its Upgrade Notes sheet, when there are notes) to ``out``."""
    from ..workbook.generate import write_plan_workbook
    from .roundtrip import write_table

    out = Path(out)
    check_output(out, force=force, inputs=(upgrade.source,))
    rows = [(n.sheet, n.cell, n.row_id, n.column, n.value, n.why) for n in upgrade.notes]

    def add_sheets(book: Any, fm: Any) -> None:
        if rows:
            write_table(book, fm, schema.UPGRADE_NOTES_SHEET, NOTE_HEADERS, rows, intro=NOTES_INTRO)
        for name, cells in upgrade.records.items():
            _write_record(book, fm, name, cells)
        if upgrade.history is not None:
            from ..audit.history_sheet import add_history_sheet

            add_history_sheet(book, upgrade.history)

    return write_plan_workbook(out, upgrade.plan, force=force, extra_sheets=add_sheets)


def _write_record(book: Any, fm: Any, name: str, cells: list[tuple[int, int, Any]]) -> None:
    """A record sheet's values where they were (1-based ``cells``): text always as text, dates as dates."""
    from ..workbook.generate import check

    ws = book.add_worksheet(name)
    date = fm.get(num_format="yyyy-mm-dd")
    check(ws.set_column(0, max((c for _r, c, _v in cells), default=1) - 1, RECORD_WIDTH), f"{name} columns")
    for r, c, value in cells:
        if isinstance(value, (dt.date, dt.datetime)):
            check(ws.write_datetime(r - 1, c - 1, value, date), f"{name} cell")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            check(ws.write_number(r - 1, c - 1, value), f"{name} cell")
        else:
            check(ws.write_string(r - 1, c - 1, display(value)), f"{name} cell")


def upgrade(old: Path, out: Path, *, force: bool = False) -> Path:
    """Carry ``old`` into the current template layout at ``out``; ``old`` is only read."""
    return write_upgrade(prepare_upgrade(old), out, force=force)


# --- accounting for every cell --------------------------------------------------------------------------------


class _Grid:
    """The cells of one worksheet, 1-based, each value as a member sees it: a formula as ``=...``, an error
    value as its code (the notes quote them)."""

    def __init__(self, name: str, cells: SheetCells) -> None:
        self.title = name
        self.rows: dict[int, dict[int, Any]] = {}  # row -> {column: value} of the cells that hold something
        flagged: dict[int, list[tuple[int, Any]]] = {}  # the formula and error cells, by row
        for (r, c), (flag, text) in cells.flags.items():
            flagged.setdefault(r, []).append((c, f"={text}" if flag == FORMULA else text))
        # Row by row (tens of thousands of them in a large plan), each row's cells in column order.
        for r, items in cells.plain_rows():
            extra = flagged.pop(r, None)
            self._add(r, items if extra is None else sorted([*items, *extra], key=_column_of))
        for r, extra in flagged.items():  # rows of formulas or errors only
            self._add(r, sorted(extra, key=_column_of))

    def _add(self, r: int, items: list[tuple[int, Any]]) -> None:
        row = {c + 1: value for c, value in items if not _blank(value)}
        if row:
            self.rows[r + 1] = row

    def value(self, row: int, col: int) -> Any:
        return self.rows.get(row, {}).get(col)

    def filled(self, min_row: int = 1) -> Iterator[tuple[int, int, Any]]:
        for row in sorted(r for r in self.rows if r >= min_row):
            for col, value in sorted(self.rows[row].items()):
                yield row, col, value


def _unplaced(book: Workbook, plan: Plan) -> Iterator[UpgradeNote]:
    keys = {s.name: s.key for s in schema.SHEETS} | {name: key for key, name in plan.source.sheet_names.items()}
    keys[schema.COALITION_SHEET] = COALITION
    for ref in book.sheets:
        if ref.name in REMADE_SHEETS or ref.name in RECORD_SHEETS or ref.name == schema.HISTORY_SHEET:
            continue  # (made again, or carried as records: see _records)
        ws = _Grid(ref.name, book.read_sheet(ref))
        key = keys.get(ref.name)
        if key == COALITION:
            yield from _coalition_notes(ws, plan)
        elif key is not None:
            yield from _data_notes(ws, schema.sheet(key), plan)
        else:
            for row, col, value in ws.filled():
                yield UpgradeNote(ws.title, _a1(row, col), "", "", _text(value), WHY_SHEET)


def _column_of(item: tuple[int, Any]) -> int:
    return item[0]


def _a1(row: int, col: int) -> str:
    return cell_ref(row - 1, col - 1)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    return display(value)


def _coalition_notes(ws: _Grid, plan: Plan) -> Iterator[UpgradeNote]:
    value_cells = {cell.upper(): key for key, cell in plan.source.coalition_cells.items()}
    labels = {normalise_header(f.label) for f in schema.COALITION_FIELDS}
    labels |= {normalise_header(schema.COALITION_LABEL_HEADER), normalise_header(schema.COALITION_VALUE_HEADER)}
    for row, col, value in ws.filled():
        a1 = _a1(row, col)
        key = value_cells.get(a1)
        label = _text(ws.value(row, 1))
        if key is not None:
            if _blank(written(plan.coalition.get(key))):
                yield UpgradeNote(ws.title, a1, "", label, _text(value), WHY_UNREAD)
            continue
        if col == 1 and normalise_header(value) in labels:
            continue
        if col == 1 and any(c > 1 for c in ws.rows[row]):
            continue  # an unknown label: its value's note names it
        if row == schema.HEADER_ROW and normalise_header(value) in labels:
            continue
        yield UpgradeNote(ws.title, a1, "", label, _text(value), WHY_LABEL)


def _data_notes(ws: _Grid, sheet: schema.Sheet, plan: Plan) -> Iterator[UpgradeNote]:
    letters = plan.source.columns.get(sheet.key, {})
    taken: dict[int, str] = {}  # 1-based column -> column key
    for column_key, letter in letters.items():
        at = cell_position(f"{letter}1")
        if at is not None:
            taken[at[1] + 1] = column_key
    derived_headers = {normalise_header(c.header) for c in sheet.columns if c.kind is Kind.DERIVED}
    header_row = _header_row(ws, sheet)
    headers = dict(ws.rows.get(header_row, {}))
    derived = {col for col, text in headers.items() if normalise_header(text) in derived_headers}
    id_key = sheet.id_column.key if sheet.id_column else None
    id_col = next((col for col, key in taken.items() if key == id_key), None)
    by_row = {rec.row: rec for rec in plan.rows(sheet.key)}
    has_data: set[int] = set()
    for row in sorted(r for r in ws.rows if r > header_row):
        filled = [(col, value) for col, value in sorted(ws.rows[row].items()) if col not in derived]
        if not filled or all(col == id_col for col, _ in filled):
            continue  # a blank pre-formatted row: its ID and formulas are made again
        rec = by_row.get(row)
        values = rec.values if rec is not None else {}
        for col, value in filled:  # (a cell the plan holds, the usual case, costs two lookups)
            key = taken.get(col)
            if key is None:
                has_data.add(col)
                why = WHY_COLUMN
            elif rec is None:
                why = WHY_ROW
            elif key != id_key and _blank(written(values.get(key))):
                why = WHY_UNREAD
            else:
                continue
            row_id = _text(ws.value(row, id_col)) if id_col else ""
            yield UpgradeNote(ws.title, _a1(row, col), row_id, _text(headers.get(col, "")), _text(value), why)
    for col, text in headers.items():
        if col not in taken and col not in derived and col not in has_data:
            yield UpgradeNote(ws.title, _a1(header_row, col), "", _text(text), "", WHY_COLUMN)


def _header_row(ws: _Grid, sheet: schema.Sheet) -> int:
    """The row holding the most of the sheet's header texts among the first rows."""
    return _best_header_row(((r, ws.rows.get(r, {}).values()) for r in range(1, HEADER_SCAN_ROWS + 1)), sheet)


def _best_header_row(
    rows: Iterable[tuple[int, Iterable[Any]]], sheet: schema.Sheet, extra: frozenset[str] = frozenset()
) -> int:
    """Of ``(row number, values)``, the row holding the most of the sheet's header texts (or ``extra`` ones)."""
    wanted = {normalise_header(c.header) for c in sheet.columns} | extra
    best, best_count = schema.HEADER_ROW, 0
    for row, values in rows:
        count = sum(normalise_header(v) in wanted for v in values)
        if count > best_count:
            best, best_count = row, count
    return best


# --- earlier names --------------------------------------------------------------------------------------------


def _load(path: Path) -> Any:
    import openpyxl

    from ..xlsx.guard import open_package

    open_package(path).close()  # the guard's checks before openpyxl parses anything
    with warnings.catch_warnings():  # openpyxl warns about parts it does not keep; only values matter here
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path, data_only=False)



def _current_layout_copy(old: Path, dest: Path, legacy: Legacy) -> Path:
    """A scratch copy of ``old`` in which the reader finds today's layout: earlier sheet names, headers and
    Coalition labels renamed to today's, and sheets and header cells the old layout lacked added, empty."""
    book = _load(old)
    try:
        for ws in book.worksheets:
            key = legacy.sheets.get(ws.title)
            if key is not None and schema.sheet(key).name not in book.sheetnames:
                ws.title = schema.sheet(key).name
        if schema.COALITION_SHEET not in book.sheetnames:
            ws = book.create_sheet(schema.COALITION_SHEET)
            ws.cell(row=schema.HEADER_ROW, column=1, value=schema.COALITION_LABEL_HEADER)
            ws.cell(row=schema.HEADER_ROW, column=2, value=schema.COALITION_VALUE_HEADER)
        ws = book[schema.COALITION_SHEET]
        labels = {normalise_header(k): v for k, v in legacy.coalition.items()}
        for cell in ws["A"]:
            key = labels.get(normalise_header(cell.value))
            if key is not None:
                cell.value = schema.coalition_field(key).label
        known = {normalise_header(c.value) for c in ws["A"]}
        for fld in schema.COALITION_FIELDS:
            if normalise_header(fld.label) not in known:
                ws.cell(row=ws.max_row + 1, column=1, value=fld.label)
        for sheet in schema.SHEETS:
            if sheet.name not in book.sheetnames:
                book.create_sheet(sheet.name)
            ws = book[sheet.name]
            renames = {normalise_header(k): v for k, v in legacy.headers.get(sheet.key, {}).items()}
            top = ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS)
            row = _best_header_row(((r[0].row, (c.value for c in r)) for r in top), sheet, frozenset(renames))
            for cell in ws[row]:
                key = renames.get(normalise_header(cell.value))
                if key is not None:
                    cell.value = sheet.column(key).header
            present = {normalise_header(c.value) for c in ws[row]}
            for col in sheet.columns:
                if normalise_header(col.header) not in present:
                    ws.cell(row=row, column=ws.max_column + 1, value=col.header)
        book.save(dest)
    finally:
        book.close()
    return dest
