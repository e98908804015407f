"""Turns a returned workbook into the plan model, driven by the one declaration in :mod:`schema`.

Sheets are found by name and columns by header text (case, spaces and line breaks ignored), wherever the member
moved them: the header row is the best match among the first rows (a title row may sit above it), extra columns
and sheets are ignored, blank rows are skipped, and a row holding nothing but an ID is a spare pre-formatted row,
not a plan row. Values are typed by their column's kind: IDs and references through :mod:`ids`, dates through
:mod:`dates`, choices matched to their canonical spelling. Formulas are never evaluated and their cached results
never used; error values are never taken as data. A formula, an error value or a date that cannot be read is
held in the model as a :class:`model.Unknown` (filled, meaning unknown), never as a blank.

The reader reports what it meets in cells (``invalid-choice``, ``unreadable-date``, ``date-as-text``,
``formula-in-text``, ``error-value``, ``missing-id``); every other rule is computed from the plan by
:mod:`rules`. A workbook that lacks a plan sheet or a header raises :class:`errors.TemplateMismatchError`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import TemplateMismatchError
from ..plan import catalogue, model, schema
from ..plan.dates import TEXT_DATE, UNREADABLE, read_date
from ..plan.ids import LazyLabels, parse_reference
from ..plan.model import Finding, Plan, Record, Source, Unknown, written
from ..plan.schema import Column, Kind, Sheet
from ..xlsx.bulk import collector_paused
from ..xlsx.cells import Workbook, open_workbook
from ..xlsx.guard import open_package
from ..xlsx.refs import cell_ref, column_letter
from ..xlsx.sheet_cells import FORMULA, VALUE, SheetCells, SheetRef
from .value_typing import (
    DATE_CODE,
    ID_CODE,
    REF_CODE,
    TEXT_CODE,
    RowKey,
    as_number,
    as_text,
    choice_table,
    choices_hint,
    id_reader,
    kind_code,
)

if TYPE_CHECKING:
    from ..xlsx.values_book import ValuesBook
    from .known_rows import KnownRows

HEADER_SCAN_ROWS = 10  # rows searched for the header row (a member may insert title rows above it)
_SHOWN_TEXT = 60  # characters of a cell's text quoted in a message
_NEW_TEMPLATE = "make a fresh template with `reentry-workbook new`"


@dataclass
class ReadResult:
    plan: Plan
    findings: list[Finding]  # reader-level findings only (see the module docstring)
    # The cells of the extra sheets asked for (by name, case and spaces ignored); absent when missing.
    extra: dict[str, SheetCells] = field(default_factory=dict)


def read_plan(
    path: Path, *, fast: bool = True, extra: Sequence[str] = (), idle: Iterator[object] | None = None
) -> ReadResult:
    """Read the plan in the workbook at ``path``; nothing is written and no formula is evaluated.

    Raises the errors of :func:`guard.open_package` for a file that is not a usable .xlsx package, and
    :class:`TemplateMismatchError` for a workbook that lacks a plan sheet or header. ``fast=False`` reads every
    sheet with the XML parser instead of python-calamine (the tests compare both). ``extra`` names sheets
    beside the plan (the Audit History, Merge Conflicts) whose cells are read in the same pass. ``idle``: steps of
    the caller's own work, taken while the reader waits for python-calamine, if it does (:mod:`xlsx.read_ahead`).
    """
    path = Path(path)
    with open_package(path) as zf:
        book = open_workbook(zf, label=path.name, fast=fast, idle=idle)
        try:
            return read_book(book, path, extra=extra)
        finally:
            book.close()


def read_book(
    book: Workbook,
    path: Path,
    *,
    extra: Sequence[str] = (),
    remember: KnownRows | None = None,
    known: KnownRows | None = None,
    sheet_read: SheetRead | None = None,
) -> ReadResult:
    """:func:`read_plan` on a workbook already opened (for commands that read more of it than the plan).

    The rows read are put in ``remember``. A row that holds exactly what a row ``known`` holds is taken from there
    instead of typed (see :mod:`known_rows`): the same plan, but no finding is made again for a row taken (it holds
    no formula or error cell; an invalid choice the master's row has too is not reported twice). ``sheet_read`` is
    given each data sheet's cells once its rows are read (the merge works out the master's layout from them)."""
    with collector_paused():
        result = _Reader(book, path, remember, known, sheet_read).read()
    for name in extra:
        ref = _find_sheet(book, name)
        if ref is not None:
            result.extra[name] = book.read_sheet(ref)
    return result


def read_one_sheet(path: Path, name: str) -> tuple[SheetCells | None, bool]:
    """The cells of the sheet ``name`` (found as ``extra`` sheets are) of the workbook at ``path``, and whether
    the workbook uses the 1904 date system; no other sheet is read (``None`` when it has no such sheet)."""
    path = Path(path)
    with open_package(path) as zf:
        book = open_workbook(zf, label=path.name)
        try:
            ref = _find_sheet(book, name)
            return (None if ref is None else book.read_sheet(ref)), book.date1904
        finally:
            book.close()


def read_values_plan(path: Path) -> ReadResult:
    """Read the plan from the values of an .ods, .xls or .xlsb workbook (python-calamine; see
    :mod:`xlsx.values_book`): the same reading and findings, except that formula cells read as their results."""
    from ..xlsx.values_book import open_values_book

    book = open_values_book(Path(path))
    try:
        return _Reader(book, Path(path)).read()
    finally:
        book.close()


def describe_row(sheet: Sheet, row_id: str | None, row: int) -> str:
    """How a message names a row: ``"Action step A-12"``, ``"Action step on row 14"``, ``"Row 5 of Stakeholders"``."""
    if sheet.id_prefix is None:
        return f"Row {row} of {sheet.name}"
    noun = sheet.column(sheet.label).header
    return f"{noun} {row_id}" if row_id else f"{noun} on row {row}"


# --- helpers ---------------------------------------------------------------------------------------------------


def _sheet_key(name: str) -> str:
    return "".join(name.split()).casefold()


def _find_sheet(book: Workbook, name: str) -> SheetRef | None:
    """The sheet named ``name``, else the first whose name matches it with case and spaces ignored."""
    return book.sheet(name) or next((s for s in book.sheets if _sheet_key(s.name) == _sheet_key(name)), None)


def _quoted(names: Sequence[str]) -> str:
    parts = [f"'{n}'" for n in names]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_TEXT else text[: _SHOWN_TEXT - 1] + "…"


# What read_book's ``sheet_read`` is given for each data sheet read: the plan's sheet, the workbook's sheet, its
# cells, its header row (0-based) and the column (0-based) of each column key found there.
SheetRead = Callable[[Sheet, SheetRef, SheetCells, int, dict[str, int]], None]

# A problem with one cell: (rule slug, what is wrong, said after the column's header).
_Problem = tuple[str, str]


class _Reader:
    def __init__(
        self,
        book: Workbook | ValuesBook,
        path: Path,
        remember: KnownRows | None = None,
        known: KnownRows | None = None,
        sheet_read: SheetRead | None = None,
    ) -> None:
        self.book = book
        self.path = path
        self.remember = remember
        self.known = known
        self.sheet_read = sheet_read
        self.findings: list[Finding] = []
        self.source = Source(
            file=str(path),
            template_name=book.properties.get(schema.PROP_TEMPLATE),
            template_version=book.properties.get(schema.PROP_VERSION),
            fingerprint=book.properties.get(schema.PROP_FINGERPRINT),
            date1904=book.date1904,
        )
        self.plan = Plan(source=self.source)
        self._choice_tables: dict[str, dict[str, str]] = {}

    # --- the whole workbook ---

    def read(self) -> ReadResult:
        refs = self._match_sheets()
        # The sheets in the order they are read below: the next is parsed while this one is typed.
        self.book.read_ahead([r for r in (refs[schema.COALITION_SHEET], *(refs[s.name] for s in schema.SHEETS)) if r])
        coalition = refs[schema.COALITION_SHEET]
        if coalition is not None:
            self._read_coalition(coalition)
        raw_refs: dict[str, list[tuple[Record, Column, Any]]] = {}
        for sheet in schema.SHEETS:
            ref = refs[sheet.name]
            if ref is not None:
                raw_refs[sheet.key] = self._read_data_sheet(sheet, ref)
        self._resolve_references(raw_refs)
        return ReadResult(self.plan, self.findings)

    def _match_sheets(self) -> dict[str, SheetRef | None]:
        exact = {s.name: s for s in self.book.sheets}
        loose: dict[str, SheetRef] = {}
        for s in self.book.sheets:
            loose.setdefault(_sheet_key(s.name), s)
        ours = [schema.COALITION_SHEET, *(s.name for s in schema.SHEETS)]
        refs = {name: exact.get(name) or loose.get(_sheet_key(name)) for name in ours}
        name = self.path.name
        if not any(refs.values()):
            raise TemplateMismatchError(
                f"{name} is not a reentry-workbook plan: it has none of the plan's sheets "
                f"({_quoted(schema.REQUIRED_SHEETS)}); start a plan with `reentry-workbook new`, or check that "
                f"this is the workbook that was sent back."
            )
        missing = [n for n in schema.REQUIRED_SHEETS if refs[n] is None]
        if missing:
            noun = "sheet" if len(missing) == 1 else "sheets"
            raise TemplateMismatchError(
                f"{name} has no {_quoted(missing)} {noun}; rename the sheet back if it was renamed, or copy it "
                f"from a fresh template (`reentry-workbook new`), then run the command again."
            )
        self.source.sheet_names = {
            key: ref.name
            for key, ref in [("coalition", refs[schema.COALITION_SHEET])]
            + [(s.key, refs[s.name]) for s in schema.SHEETS]
            if ref is not None
        }
        return refs

    # --- findings ---

    def _finding(self, slug: str, sheet_name: str, cell: str, row_id: str | None, message: str) -> None:
        rule = catalogue.rule(slug)
        self.findings.append(Finding(slug, rule.severity, sheet_name, cell, row_id, message, rule.fix))

    def _cell_problem(self, flag: str, text: str) -> tuple[Unknown, _Problem]:
        """What the model holds for a formula or error cell, and the problem found with it."""
        if flag == FORMULA:
            shown = f" (={_shown(text)})" if text else ""
            problem = "formula-in-text", f"holds a formula{shown} where a value belongs; it was not evaluated"
            return Unknown(model.FORMULA, text), problem
        said = f"holds the error value {text}" if text else "holds an error value"
        return Unknown(model.ERROR_VALUE, text), ("error-value", said)

    # --- typing one value ---

    def _typed(self, kind: Kind, choices: str | None, value: Any) -> tuple[Any, _Problem | None]:
        """The value a cell of this kind holds, and the problem found with it, if any."""
        if kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.EMAIL):
            return as_text(value), None
        if kind is Kind.CHOICE:
            text = as_text(value)
            table = self._choice_tables.get(choices or "")
            if table is None:
                table = self._choice_tables[choices or ""] = choice_table(choices)
            canonical = table.get(schema.normalise_header(text))
            if canonical is not None:
                return canonical, None
            return text, ("invalid-choice", f"'{_shown(text)}' is not {choices_hint(choices)}")
        if kind is Kind.DATE:
            verdict = read_date(
                value, is_date_format=isinstance(value, (dt.date, dt.time)), date1904=self.book.date1904
            )
            if verdict.kind == TEXT_DATE:
                return verdict.date, ("date-as-text", f"'{_shown(as_text(value))}' is typed as text; {verdict.note}")
            if verdict.kind == UNREADABLE:
                text = as_text(value)
                return Unknown(model.UNREADABLE_DATE, text), ("unreadable-date", f"'{_shown(text)}' {verdict.note}")
            return verdict.date, None
        if kind in (Kind.NUMBER, Kind.MONEY):
            return as_number(value), None
        return as_text(value), None

    # --- the Coalition sheet ---

    def _read_coalition(self, ref: SheetRef) -> None:
        cells = self.book.read_sheet(ref)
        labels = {schema.normalise_header(f.label): f for f in schema.COALITION_FIELDS}
        where: dict[str, tuple[int, int]] = {}
        for r, c, cell in cells.iter_cells():
            if cell.flag == VALUE and isinstance(cell.value, str):
                field = labels.get(schema.normalise_header(cell.value))
                if field is not None and field.key not in where:
                    where[field.key] = (r, c + 1)
        for field in schema.COALITION_FIELDS:
            if field.key not in where:
                continue
            r, c = where[field.key]
            cell = cells.cell(r, c)
            a1 = cell_ref(r, c)
            self.source.coalition_cells[field.key] = a1
            problem: _Problem | None = None
            value: Any = None
            if cell.flag != VALUE:
                value, problem = self._cell_problem(cell.flag, cell.text)
            elif cell.value is not None and as_text(cell.value) != "":
                value, problem = self._typed(field.kind, field.choices, cell.value)
            self.plan.coalition[field.key] = value
            if problem is not None:
                slug, what = problem
                self._finding(slug, ref.name, a1, None, f"{schema.COALITION_SHEET}: {field.label} {what}.")

    # --- a data sheet ---

    def _find_header(self, cells: SheetCells, sheet: Sheet) -> tuple[int, dict[str, int]]:
        """The header row (0-based) and the column index of each column key found in it."""
        wanted = {schema.normalise_header(c.header): c.key for c in sheet.columns}
        best_row = schema.HEADER_ROW - 1
        best: dict[str, int] = {}
        for r in range(min(HEADER_SCAN_ROWS, cells.row_count())):
            found: dict[str, int] = {}
            for c, value in cells.row_items(r):
                if isinstance(value, str):
                    key = wanted.get(schema.normalise_header(value))
                    if key is not None and key not in found:
                        found[key] = c
            if len(found) > len(best):
                best_row, best = r, found
        return best_row, best

    def _refuse_duplicate_headers(self, cells: SheetCells, sheet: Sheet, ref: SheetRef, header_row: int) -> None:
        """Two columns under one of the plan's headers: which one holds the plan would be a guess, so ask."""
        wanted = {schema.normalise_header(c.header): c.header for c in sheet.columns}
        seen: dict[str, list[int]] = {}
        for c, value in cells.row_items(header_row):
            if isinstance(value, str) and schema.normalise_header(value) in wanted:
                seen.setdefault(schema.normalise_header(value), []).append(c)
        for key, found in seen.items():
            if len(found) > 1:
                letters = [column_letter(c) for c in found]
                shown = ", ".join(letters[:-1]) + " and " + letters[-1]
                raise TemplateMismatchError(
                    f"{self.path.name}: the {ref.name!r} sheet has {len(found)} columns headed {wanted[key]!r} "
                    f"(columns {shown}); delete or rename the extra one so that it is clear which holds the plan, "
                    f"then run the command again."
                )

    def _read_data_sheet(self, sheet: Sheet, ref: SheetRef) -> list[tuple[Record, Column, Any]]:
        """Read the rows of one sheet into the plan; return the reference cells, resolved once all are read."""
        cells = self.book.read_sheet(ref)
        header_row, found = self._find_header(cells, sheet)
        self._refuse_duplicate_headers(cells, sheet, ref, header_row)
        optional = sheet.id_prefix is None  # the Stakeholders sheet: its columns may be missing
        missing = [c.header for c in sheet.columns if c.key not in found and c.kind is not Kind.DERIVED]
        if missing and not optional:
            noun = "column" if len(missing) == 1 else "columns"
            raise TemplateMismatchError(
                f"{self.path.name}: the {ref.name!r} sheet has no {noun} headed {_quoted(missing)} in its first "
                f"{HEADER_SCAN_ROWS} rows; put the header back (or copy the sheet from a fresh template made with "
                f"`reentry-workbook new`), then run the command again."
            )
        self.source.header_rows[sheet.key] = header_row + 1
        self.source.columns[sheet.key] = {c.key: column_letter(found[c.key]) for c in sheet.columns if c.key in found}
        columns = [c for c in sheet.columns if c.key in found and c.kind is not Kind.DERIVED]
        indexes = [found[c.key] for c in columns]
        keys = [c.key for c in columns]
        id_pos = next((i for i, c in enumerate(columns) if c.kind is Kind.ID), -1)
        converters = [self._converter(c) for c in columns]  # None for references, resolved at the end
        # Formula and error cells of the columns read, by row: {row: {position in columns: (flag, text)}}.
        position = {col: i for i, col in enumerate(indexes)}
        flagged_rows: dict[int, dict[int, tuple[str, str]]] = {}
        for (r, c), hit in cells.flags.items():
            if c in position and r > header_row:
                flagged_rows.setdefault(r, {})[position[c]] = hit
        records = self.plan.rows(sheet.key)
        pending: list[tuple[Record, Column, Any]] = []
        read_id = id_reader(sheet.id_prefix)
        codes = [kind_code(c.kind) for c in columns]
        ref_positions = [i for i, code in enumerate(codes) if code == REF_CODE]
        count = len(columns)
        date1904 = self.book.date1904
        learner = taker = row_key = None
        if id_pos >= 0:  # (rows are known by their ID)
            learner = None if self.remember is None else self.remember.learner(sheet.key, keys, date1904)
            taker = None if self.known is None else self.known.taker(sheet.key, keys, date1904)
        if taker is not None:
            row_key = RowKey(
                ref_positions,
                [schema.sheet(columns[i].ref or "").id_prefix for i in ref_positions],
                [i for i, c in enumerate(columns) if c.kind in (Kind.NUMBER, Kind.MONEY)],
            )

        for r, raw in cells.select(indexes, header_row + 1):
            flagged = flagged_rows.get(r)
            if flagged is None:
                # Blank rows and spare rows (an ID and nothing else) are most rows of a large template: skip
                # them without looking at each value. Cells of spaces only take the long way below.
                empty = raw.count("") + raw.count(None)
                if empty == count or (empty == count - 1 and id_pos >= 0 and raw[id_pos] not in _BLANK):
                    continue
                if row_key is not None and (known := row_key(raw)) is not None:  # (set with the taker)
                    taken = taker.take(raw[id_pos], known, r + 1)  # type: ignore[union-attr]
                    if taken is not None:
                        records.append(taken)
                        continue
            values: list[Any] = [None] * count
            content = False
            problems: list[tuple[int, str, str]] | None = None
            for i, value in enumerate(raw):
                if value.__class__ is str:
                    value = value.strip()
                    if not value:
                        continue
                    code = codes[i]
                    if code == TEXT_CODE:
                        values[i] = value
                        content = True
                        continue
                elif value is None:
                    continue
                else:
                    code = codes[i]
                values[i] = value
                if code == ID_CODE:
                    continue
                content = True
                if code == REF_CODE or (code == DATE_CODE and value.__class__ is dt.date):
                    continue
                typed, problem = converters[i](value)  # type: ignore[misc]  # (a reference's is None: not here)
                values[i] = typed
                if problem is not None:
                    problems = problems or []
                    problems.append((i, *problem))
            if not content and not (flagged and any(i != id_pos for i in flagged)):
                continue  # blank, or a spare row that holds only its ID
            id_flagged = flagged is not None and id_pos in flagged
            row_id = read_id(values[id_pos]) if id_pos >= 0 and not id_flagged else None
            raw_id = values[id_pos] if id_pos >= 0 else None
            if id_pos >= 0:
                values[id_pos] = row_id
            record = Record(sheet=sheet.key, id=row_id, values=dict(zip(keys, values, strict=True)), row=r + 1)
            for i in ref_positions:
                if values[i] is not None:
                    pending.append((record, columns[i], values[i]))
            if flagged:
                problems = problems or []
                for i, (flag, text) in flagged.items():
                    unknown, problem = self._cell_problem(flag, text)
                    record.values[keys[i]] = unknown
                    problems.append((i, *problem))
                problems.sort(key=lambda p: p[0])
            if problems or (row_id is None and id_pos >= 0 and not id_flagged):
                self._row_findings(sheet, ref, record, columns, indexes, raw_id, problems or [], id_pos, id_flagged)
            records.append(record)
            if learner is not None and raw_id is not None:
                learner.learn(raw_id, record)
        if self.sheet_read is not None:
            self.sheet_read(sheet, ref, cells, header_row, found)
        return pending

    def _converter(self, col: Column) -> Callable[[Any], tuple[Any, _Problem | None]] | None:
        """A function typing one non-blank value of a column (stripped when text); ``None`` for references."""
        kind = col.kind
        if kind is Kind.REF:
            return None
        if kind is Kind.ID:
            return lambda value: (value, None)
        if kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.EMAIL):
            return lambda value: (value if value.__class__ is str else as_text(value), None)
        if kind is Kind.DATE:

            def date(value: Any) -> tuple[Any, _Problem | None]:
                if value.__class__ is dt.date:
                    return value, None
                return self._typed(Kind.DATE, None, value)

            return date
        memo: dict[Any, tuple[Any, _Problem | None]] = {}

        def typed(value: Any) -> tuple[Any, _Problem | None]:
            hit = memo.get(value) if value.__class__ is str else None
            if hit is None:
                hit = self._typed(kind, col.choices, value)
                if value.__class__ is str:
                    memo[value] = hit
            return hit

        return typed

    def _row_findings(
        self,
        sheet: Sheet,
        ref: SheetRef,
        record: Record,
        columns: list[Column],
        indexes: list[int],
        raw_id: Any,
        problems: list[tuple[int, str, str]],
        id_pos: int,
        id_flagged: bool,
    ) -> None:
        r = record.row - 1
        subject = describe_row(sheet, record.id, record.row)
        for i, slug, what in problems:
            row_id = None if i == id_pos else record.id
            self._finding(slug, ref.name, cell_ref(r, indexes[i]), row_id, f"{subject}: {columns[i].header} {what}.")
        if record.id is not None or id_pos < 0 or id_flagged:
            return
        label = record.values.get(sheet.label)
        named = f" ('{_shown(label)}')" if isinstance(label, str) and label else ""
        if raw_id is not None:
            what = f"has '{_shown(as_text(raw_id))}' in its ID cell, which is not an ID like {sheet.id_prefix}-1"
        else:
            what = "has content but no ID"
        self._finding(
            "missing-id",
            ref.name,
            cell_ref(r, indexes[id_pos]),
            None,
            f"{describe_row(sheet, None, record.row)}{named} {what}.",
        )

    def _resolve_references(self, raw_refs: dict[str, list[tuple[Record, Column, Any]]]) -> None:
        """Turn reference cells into parent IDs, now that every parent sheet has been read."""
        labels: dict[str, LazyLabels] = {}
        memos: dict[str, dict[tuple[type, Any], str]] = {}
        for pending in raw_refs.values():
            for record, col, value in pending:
                parent = schema.sheet(col.ref or "")
                memo = memos.get(parent.key)
                if memo is None:
                    memo = memos[parent.key] = {}
                    labels[parent.key] = LazyLabels(functools.partial(self._labels, parent))
                key = (value.__class__, value)
                resolved = memo.get(key)
                if resolved is None:
                    found = parse_reference(value, parent.id_prefix, labels[parent.key])
                    resolved = memo[key] = found if found is not None else as_text(value)
                record.values[col.key] = resolved

    def _labels(self, parent: Sheet) -> Iterator[tuple[str | None, Any]]:
        """``(ID, text)`` of each row of a parent sheet, what a reference typed as the row's text is looked up in."""
        return ((rec.id, written(rec.values.get(parent.label))) for rec in self.plan.rows(parent.key))


_BLANK = ("", None)  # how a blank cell reads on the bulk path (SheetCells.select)
