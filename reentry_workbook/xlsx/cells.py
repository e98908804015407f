"""Reads the raw cells of an .xlsx package: values, formulas, error values, date formats, the 1904 date system.

The package structure is read here, from the parts themselves: the workbook part through ``_rels/.rels``, the
sheets through the workbook and its relationships (names to parts), the shared strings, the styles (which cell
formats show dates), ``date1904``, the custom document properties (the template's identity) and merged ranges.
Both the transitional and the strict (``http://purl.oclc.org/ooxml/...``) vocabularies are read, under any
namespace prefix.

Each cell comes back as a value plus a flag: a plain value, a formula (its cached result is never used: the
value is ``None``) or an error value (``#REF!``, ``#N/A``, ...; the value is ``None``). Date-formatted numbers
come back as ``datetime`` objects in the workbook's date system; other numbers as ``float``.

Two ways to read a worksheet give the same cells:

- the fast path: the values come from python-calamine (a compiled reader), and a scan of the worksheet's XML
  finds every formula and error cell, whose values are then dropped. It is taken only when the worksheet's XML
  is plain enough for that scan to be exact (UTF-8, no comments, CDATA, processing instructions or namespace
  declarations inside the cell data, every row and cell carrying its reference first, one namespace prefix,
  and a grid small enough for python-calamine's dense copy of it: ``MAX_FAST_GRID`` cells);
- the exact path: a streaming expat parser over the worksheet, for everything else.

XML is never parsed with a document type declaration: structure parts go through defusedxml, the exact path's
expat parser refuses DTDs and entity declarations, and the fast path only runs on parts with no ``<!`` at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import operator
import posixpath
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

from ..errors import UnsafeArchiveError, UnusableInputError
from .guard import MAX_COLUMNS, MAX_ROWS, require_defusedxml
from .serials import serial_to_datetime

VALUE = "value"
FORMULA = "formula"
ERROR = "error"

_SAVE_AGAIN = "open it in Excel, save it as .xlsx and run the command again"
_DTD_MESSAGE = (
    "contains XML with a document type declaration, which spreadsheet apps never write and which can hide an "
    "entity bomb; ask the sender to save the workbook again from Excel"
)

# Built-in number formats that show dates or times (ECMA-376 18.8.30, plus the East Asian date formats).
_BUILTIN_DATE_FORMATS = frozenset({*range(14, 23), *range(27, 37), 45, 47, *range(50, 59)})
_BUILTIN_DURATION_FORMATS = frozenset({46})


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


def column_letter(index: int) -> str:
    """Column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell_ref(row: int, col: int) -> str:
    """A1 reference of a 0-based row and column."""
    return f"{column_letter(col)}{row + 1}"


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


def parse_ref(ref: str) -> tuple[int, int] | None:
    """0-based (row, column) of an A1 reference, or ``None`` when it is not one inside Excel's grid."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m[1].upper():
        col = col * 26 + ord(ch) - 64
    row = int(m[2])
    if not (1 <= row <= MAX_ROWS and 1 <= col <= MAX_COLUMNS):
        return None
    return row - 1, col - 1


_DIGITS = "0123456789"
_COLUMNS: dict[str, int] = {}


def _cell_position(ref: str) -> tuple[int, int] | None:
    """:func:`parse_ref` for the plain ``r`` attribute of a cell (``"C12"``), with the column letters cached."""
    letters = ref.rstrip(_DIGITS)
    col = _COLUMNS.get(letters)
    if col is None:
        found = parse_ref(ref)
        if found is not None and letters.isalpha() and letters.isascii():
            _COLUMNS[letters] = found[1]
        return found
    digits = ref[len(letters) :]
    if not digits.isdigit() or not digits.isascii() or not 1 <= int(digits) <= MAX_ROWS:
        return parse_ref(ref)
    return int(digits) - 1, col


def _parse_range(ref: str) -> tuple[int, int, int, int] | None:
    first, _, last = ref.partition(":")
    a = parse_ref(first)
    b = parse_ref(last) if last else a
    if a is None or b is None:
        return None
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


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

    def cell(self, row: int, col: int) -> Cell:
        flagged = self.flags.get((row, col))
        if flagged is not None:
            return Cell(None, flagged[0], flagged[1])
        return Cell(self.value(row, col))

    def iter_cells(self) -> Iterator[tuple[int, int, Cell]]:
        """Every cell that holds something, row by row."""
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


class _DenseCells(SheetCells):
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
        by_row: dict[int, list[int]] = {}
        for r, c in self.flags:
            by_row.setdefault(r, []).append(c)
        for r in range(self.row_count()):
            cells = self._rows[r] if r < len(self._rows) else []
            flagged = by_row.get(r, ())
            for c in sorted({*(c for c, v in enumerate(cells) if v is not None and v != ""), *flagged}):
                yield r, c, self.cell(r, c)

    def _clear_range(self, r1: int, c1: int, r2: int, c2: int) -> None:
        for r in range(r1, min(r2 + 1, len(self._rows))):
            cells = self._rows[r]
            for c in range(c1, min(c2 + 1, len(cells))):
                if (r, c) != (r1, c1):
                    cells[c] = None


class _SparseCells(SheetCells):
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

    def select(self, cols: Sequence[int], start: int = 0) -> Iterator[tuple[int, Sequence[Any]]]:
        flagged_rows = {r for r, _ in self.flags}
        for r in sorted({*self._order, *flagged_rows}):
            if r >= start:
                cells = self._rows.get(r, {})
                yield r, [cells.get(c) for c in cols]

    def iter_cells(self) -> Iterator[tuple[int, int, Cell]]:
        flagged_rows: dict[int, list[int]] = {}
        for r, c in self.flags:
            flagged_rows.setdefault(r, []).append(c)
        for r in sorted({*self._order, *flagged_rows}):
            cells = self._rows.get(r, {})
            for c in sorted({*cells, *flagged_rows.get(r, ())}):
                yield r, c, self.cell(r, c)

    def _clear_range(self, r1: int, c1: int, r2: int, c2: int) -> None:
        rows = range(r1, r2 + 1) if r2 - r1 < len(self._rows) else [r for r in self._rows if r1 <= r <= r2]
        for r in rows:
            cells = self._rows.get(r)
            if cells:
                for c in [c for c in cells if c1 <= c <= c2 and (r, c) != (r1, c1)]:
                    del cells[c]


# --- the package ---------------------------------------------------------------------------------------------


@dataclass
class _Styles:
    dates: frozenset[int] = frozenset()  # cell format indexes whose number format shows a date or time
    durations: frozenset[int] = frozenset()  # ... an elapsed time ([h]:mm)


@dataclass
class Workbook:
    """An opened .xlsx package. Build it with :func:`open_workbook`; read sheets with :meth:`read_sheet`."""

    zf: zipfile.ZipFile
    label: str  # the file name, for messages
    workbook_part: str = ""
    sheets: list[SheetRef] = field(default_factory=list)
    date1904: bool = False
    properties: dict[str, str] = field(default_factory=dict)  # custom document properties
    fast: bool = True  # allow the fast path
    _names: dict[str, str] = field(default_factory=dict)
    _strings_part: str | None = None
    _styles: _Styles = field(default_factory=_Styles)
    _strings: list[str] | None = None
    _calamine: Any = None
    _calamine_failed: bool = False

    def sheet(self, name: str) -> SheetRef | None:
        return next((s for s in self.sheets if s.name == name), None)

    def close(self) -> None:
        """Release python-calamine's copy of the workbook (the zip archive is the caller's to close)."""
        if self._calamine is not None:
            self._calamine.close()
            self._calamine = None

    def read_sheet(self, sheet: SheetRef | str) -> SheetCells:
        """All cells of a worksheet."""
        ref = sheet if isinstance(sheet, SheetRef) else self.sheet(sheet)
        if ref is None:
            raise KeyError(sheet)
        if self.fast and not self._calamine_failed:
            cells = self._read_fast(ref)
            if cells is not None:
                return cells
        return self._read_exact(ref)

    # --- parts ---

    def _member(self, part: str) -> str | None:
        return self._names.get(part.lower())

    def _read_part(self, part: str) -> bytes | None:
        name = self._member(part)
        return None if name is None else self.zf.read(name)

    def _damaged(self, part: str, what: str = "is not valid XML") -> UnusableInputError:
        return UnusableInputError(f"{self.label} is damaged ({part} {what}); {_SAVE_AGAIN}")

    def _xml(self, part: str) -> Element | None:
        data = self._read_part(part)
        if data is None:
            return None
        safe = require_defusedxml()
        try:
            return safe.fromstring(data, forbid_dtd=True)
        except ParseError:
            raise self._damaged(part) from None
        except ValueError:  # defusedxml's DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
            raise UnsafeArchiveError(f"{self.label} {_DTD_MESSAGE} (in {part}).") from None

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """``{id: (type, target part)}`` of a part's internal relationships; ``type`` is the last URI segment."""
        folder, name = posixpath.split(part)
        root = self._xml(posixpath.join(folder, "_rels", f"{name}.rels"))
        out: dict[str, tuple[str, str]] = {}
        if root is None:
            return out
        for rel in root:
            if _local(rel.tag) != "Relationship" or rel.get("TargetMode", "").lower() == "external":
                continue
            target = unquote(rel.get("Target", ""))
            if not target:
                continue
            resolved = (
                target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            )
            out[rel.get("Id", "")] = (rel.get("Type", "").rstrip("/").rsplit("/", 1)[-1], resolved)
        return out

    def _load(self) -> None:
        self._names = {name.lower(): name for name in self.zf.namelist()}
        package_rels = self._relationships("")
        by_type = {kind: target for kind, target in package_rels.values()}
        self.workbook_part = by_type.get("officeDocument", "xl/workbook.xml")
        root = self._xml(self.workbook_part)
        if root is None:
            raise UnusableInputError(f"{self.label} has no workbook inside the package; {_SAVE_AGAIN}")
        rels = self._relationships(self.workbook_part)
        for child in root:
            tag = _local(child.tag)
            if tag == "workbookPr":
                self.date1904 = child.get("date1904", "").strip().lower() in ("1", "true")
            elif tag == "sheets":
                for el in child:
                    rel_id = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
                    kind, target = rels.get(rel_id or "", ("", ""))
                    if _local(el.tag) == "sheet" and kind == "worksheet" and self._member(target) is not None:
                        self.sheets.append(SheetRef(el.get("name", ""), target, el.get("state", "visible")))
        for kind, target in rels.values():
            if kind == "sharedStrings" and self._member(target) is not None:
                self._strings_part = target
            elif kind == "styles":
                self._styles = self._read_styles(target)
        custom = by_type.get("custom-properties", "docProps/custom.xml")
        props = self._xml(custom) if self._member(custom) else None
        if props is not None:
            for prop in props:
                name = prop.get("name")
                if _local(prop.tag) == "property" and name is not None and len(prop):
                    self.properties[name] = (prop[0].text or "").strip()

    def _read_styles(self, part: str) -> _Styles:
        root = self._xml(part)
        if root is None:
            return _Styles()
        codes: dict[int, str] = {}
        xfs: list[int] = []
        for el in root:
            tag = _local(el.tag)
            if tag == "numFmts":
                for fmt in el:
                    num = _int(fmt.get("numFmtId"))
                    if num is not None:
                        codes[num] = fmt.get("formatCode", "")
            elif tag == "cellXfs":
                xfs = [_int(xf.get("numFmtId")) or 0 for xf in el if _local(xf.tag) == "xf"]
        dates, durations = set(), set()
        for index, num in enumerate(xfs):
            kind = format_kind(num, codes.get(num))
            if kind == "date":
                dates.add(index)
            elif kind == "duration":
                durations.add(index)
        return _Styles(frozenset(dates), frozenset(durations))

    # --- the fast path ---

    def _read_fast(self, ref: SheetRef) -> SheetCells | None:
        filename = self.zf.filename
        if not filename or not Path(filename).is_file():
            return None
        data = self._read_part(ref.part) or b""
        scan = _scan_sheet(data)
        del data  # not needed while python-calamine reads the part again
        if scan is None:
            return None
        try:
            import python_calamine

            if self._calamine is None:
                if self._strings_part is not None:
                    self._refuse_dtd(self._strings_part)
                self._calamine = python_calamine.CalamineWorkbook.from_path(filename)
            grid = self._calamine.get_sheet_by_name(ref.name).to_python(skip_empty_area=False)
        except Exception:  # calamine could not read it: the exact path says what is wrong
            self._calamine_failed = True
            return None
        return _DenseCells(ref.name, grid, scan.flags, scan.merged)

    def _refuse_dtd(self, part: str) -> None:
        """Read ``part`` up to its root element and refuse a document type declaration before it."""
        name = self._member(part)
        if name is None:
            return
        parser = _expat_parser(self.label, part)

        def reached(_name: str, _attrs: dict[str, str]) -> None:
            raise _RootReached

        parser.StartElementHandler = reached
        try:
            with self.zf.open(name) as fh:
                while chunk := fh.read(16_384):
                    parser.Parse(chunk, False)
        except _RootReached:
            return
        except expat.ExpatError:
            raise self._damaged(part) from None

    # --- the exact path ---

    def _shared_strings(self) -> list[str]:
        if self._strings is None:
            self._strings = [] if self._strings_part is None else self._parse_strings(self._strings_part)
        return self._strings

    def _parse_strings(self, part: str) -> list[str]:
        out: list[str] = []
        pieces: list[str] = []  # the runs of the current string
        run: list[str] = []  # the text of the current <t>
        state = {"t": False, "rPh": 0, "preserve": False}

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = name.rpartition(":")[2]
            if tag == "si":
                pieces.clear()
            elif tag == "t" and not state["rPh"]:
                run.clear()
                state["t"], state["preserve"] = True, attrs.get("xml:space") == "preserve"
            elif tag == "rPh":
                state["rPh"] += 1

        def end(name: str) -> None:
            tag = name.rpartition(":")[2]
            if tag == "si":
                out.append(_unescape_x("".join(pieces)))
            elif tag == "t" and state["t"]:
                pieces.append(_run_text(run, state["preserve"]))
                state["t"] = False
            elif tag == "rPh":
                state["rPh"] -= 1

        def text(data: str) -> None:
            if state["t"]:
                run.append(data)

        self._stream(part, start, end, text)
        return out

    def _stream(self, part: str, start: Any, end: Any, text: Any) -> None:
        name = self._member(part)
        if name is None:
            return
        parser = _expat_parser(self.label, part)
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        try:
            with self.zf.open(name) as fh:
                while chunk := fh.read(65_536):
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError:
            raise self._damaged(part) from None

    def _read_exact(self, ref: SheetRef) -> SheetCells:
        strings = self._shared_strings()
        styles = self._styles
        date1904 = self.date1904
        rows: dict[int, dict[int, Any]] = {}
        flags: dict[tuple[int, int], tuple[str, str]] = {}
        merged: list[tuple[int, int, int, int]] = []
        # The cell being read: [row, col, type, style, formula?]; text collected per child element.
        pos = {"row": -1, "next_col": 0, "in_data": False}
        cell: list[Any] = [0, 0, None, 0, False]
        buffers: dict[str, list[str]] = {"v": [], "f": [], "is": [], "t": []}
        capture: list[list[str] | None] = [None]
        in_is = [0, 0]  # depth inside <is>, depth inside <rPh>
        preserve = {"v": False, "t": False}  # xml:space="preserve" on the current <v>, <t>
        label = self.label

        def out_of_grid() -> UnusableInputError:
            return UnusableInputError(
                f"{label} is damaged (the sheet {ref.name!r} has a cell beyond Excel's last row or column); "
                f"{_SAVE_AGAIN}"
            )

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = name.rpartition(":")[2]
            if tag == "c" and pos["in_data"]:
                where = attrs.get("r")
                if where is not None:
                    found = _cell_position(where)
                    if found is None:
                        raise out_of_grid()
                    row, col = found
                else:
                    row, col = max(pos["row"], 0), pos["next_col"]
                    if col >= MAX_COLUMNS:
                        raise out_of_grid()
                pos["next_col"] = col + 1
                cell[:] = [row, col, attrs.get("t"), _int(attrs.get("s")) or 0, False]
                for buf in buffers.values():
                    buf.clear()
            elif not pos["in_data"]:
                if tag == "sheetData":
                    pos["in_data"] = True
                elif tag == "mergeCell":
                    found = _parse_range(attrs.get("ref", ""))
                    if found is not None:
                        merged.append(found)
            elif tag == "v":
                capture[0] = buffers["v"]
                preserve["v"] = attrs.get("xml:space") == "preserve"
            elif tag == "f":
                cell[4] = True
                capture[0] = buffers["f"]
            elif tag == "is":
                in_is[0] += 1
            elif tag == "t" and in_is[0] and not in_is[1]:
                buffers["t"].clear()
                capture[0] = buffers["t"]
                preserve["t"] = attrs.get("xml:space") == "preserve"
            elif tag == "rPh":
                in_is[1] += 1
            elif tag == "row":
                where = attrs.get("r")
                row = (_int(where) or 0) - 1 if where is not None else pos["row"] + 1
                if not 0 <= row < MAX_ROWS:
                    raise out_of_grid()
                pos["row"], pos["next_col"] = row, 0

        def end(name: str) -> None:
            tag = name.rpartition(":")[2]
            if tag == "t" and capture[0] is buffers["t"]:
                buffers["is"].append(_run_text(buffers["t"], preserve["t"]))
                capture[0] = None
            elif tag in ("v", "f", "t"):
                capture[0] = None
            elif tag == "is":
                in_is[0] -= 1
            elif tag == "rPh":
                in_is[1] -= 1
            elif tag == "c" and pos["in_data"]:
                row, col, kind, style, formula = cell
                if formula:
                    flags[(row, col)] = (FORMULA, "".join(buffers["f"]).strip())
                    return
                raw = _run_text(buffers["v"], preserve["v"])
                if kind == "e":
                    flags[(row, col)] = (ERROR, raw.strip())
                    return
                value = _cell_value(kind, raw, "".join(buffers["is"]), style, strings, styles, date1904)
                if value is not None and value != "":
                    rows.setdefault(row, {})[col] = value
            elif tag == "sheetData":
                pos["in_data"] = False

        def text(data: str) -> None:
            target = capture[0]
            if target is not None:
                target.append(data)

        self._stream(ref.part, start, end, text)
        return _SparseCells(ref.name, rows, flags, merged)


def open_workbook(zf: zipfile.ZipFile, *, label: str | None = None, fast: bool = True) -> Workbook:
    """Read the structure of the package ``zf`` (opened by :func:`guard.open_package`).

    ``fast=False`` reads every sheet on the exact path (the tests compare both paths).
    """
    name = label or (Path(zf.filename).name if zf.filename else "the workbook")
    book = Workbook(zf, name, fast=fast)
    book._load()
    return book


# --- helpers -------------------------------------------------------------------------------------------------


class _RootReached(Exception):
    pass


def _expat_parser(label: str, part: str) -> Any:
    """An expat parser that refuses document type declarations, entity declarations and external entities."""
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def refuse(*_args: Any) -> None:
        raise UnsafeArchiveError(f"{label} {_DTD_MESSAGE} (in {part}).")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _run_text(parts: list[str], preserve: bool) -> str:
    """The text of one element; without xml:space="preserve" its outer white space is dropped, as
    python-calamine and Excel do."""
    text = "".join(parts)
    return text if preserve else text.strip(" \t\r\n")


_X_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape_x(text: str) -> str:
    """Undo OOXML's ``_xHHHH_`` escapes of characters XML cannot carry (``_x000D_`` is a carriage return)."""
    return _X_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


_QUOTED = re.compile(r'"[^"]*"|\\.|[_*].')
_BRACKETS = re.compile(r"\[[^\]]*\]")
_ELAPSED = re.compile(r"\[(?:h+|m+|s+)\]", re.IGNORECASE)


def format_kind(num_fmt_id: int | None, code: str | None) -> str | None:
    """``"date"`` when a number format shows a date or time, ``"duration"`` for elapsed time, else ``None``."""
    if code is None:
        if num_fmt_id in _BUILTIN_DATE_FORMATS:
            return "date"
        if num_fmt_id in _BUILTIN_DURATION_FORMATS:
            return "duration"
        return None
    section = _QUOTED.sub("", code).split(";", 1)[0]
    if _ELAPSED.search(section):
        return "duration"
    section = _BRACKETS.sub("", section).lower()
    if section.strip() == "general":
        return None
    return "date" if any(ch in section for ch in "dmyhs") else None


def _moment(number: float, date1904: bool, duration: bool) -> Any:
    """A date-formatted number as python-calamine gives it: a date, a time of day, a datetime or a duration."""
    if duration:
        return dt.timedelta(days=number)
    if 0 <= number < 1:
        seconds = round(number * 86_400)
        if seconds >= 86_400:
            return dt.time(0, 0)
        return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    moment = serial_to_datetime(number, date1904)
    if moment is None:
        return number
    return moment.date() if number.is_integer() else moment


def _cell_value(
    kind: str | None,
    raw: str,
    inline: str,
    style: int,
    strings: list[str],
    styles: _Styles,
    date1904: bool,
) -> Any:
    if kind == "s":
        index = _int(raw.strip())
        return strings[index] if index is not None and 0 <= index < len(strings) else None
    if kind == "inlineStr":
        return _unescape_x(inline)
    if kind == "str":
        return _unescape_x(raw)
    if kind == "b":
        return raw.strip().lower() in ("1", "true")
    if kind == "d":
        try:
            return dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            return raw
    text = raw.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if style in styles.dates or style in styles.durations:
        return _moment(number, date1904, style in styles.durations)
    return number


# --- the fast path's scan ------------------------------------------------------------------------------------


@dataclass
class _Scan:
    flags: dict[tuple[int, int], tuple[str, str]]
    merged: list[tuple[int, int, int, int]]


_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_PROCESSING = re.compile(rb"\s*<\?.*?\?>", re.DOTALL)
_ROOT = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*([^>]*)>")
_XMLNS = re.compile(rb"""xmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MAIN_NAMESPACES = (
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    b"http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_SAFE_ENCODINGS = (b"utf-8", b"utf8", b"us-ascii", b"ascii")


@functools.lru_cache(maxsize=8)
def _patterns(prefix: bytes) -> tuple[re.Pattern[bytes], ...]:
    p = re.escape(prefix)
    return (
        re.compile(b"<" + p + rb"sheetData([^>]*)>"),
        # a row or cell whose reference is not its first attribute, or lies beyond row 99,999 or column Z
        re.compile(b"<" + p + rb'(?:c|row)(?! r="[A-Za-z]?\d{1,5}")[\s>/]'),
        re.compile(b"<" + p + rb"f[\s/>]"),
        re.compile(
            b"<"
            + p
            + rb'c r="([A-Za-z]{1,3})(\d{1,7})"[^>]*>\s*()<'
            + p
            + rb"f(?:\s[^>]*)?(?:/>|>([^<]*)</"
            + p
            + rb"f>)"
        ),
        re.compile(b"<" + p + rb'c r="([A-Za-z]{1,3})(\d{1,7})"[^>]*>'),
        re.compile(rb"""\st\s*=\s*["']e["']"""),
        re.compile(rb"\s*<" + p + rb"v>([^<]*)</" + p + rb"v>"),
    )


def _main_prefix(data: bytes, pos: int) -> bytes | None:
    """The one namespace prefix (``b""`` for the default namespace) the root element binds to SpreadsheetML."""
    while m := _PROCESSING.match(data, pos):
        pos = m.end()
    root = _ROOT.match(data, pos)
    if root is None:
        return None
    bound = [
        (m[1] or b"") for m in _XMLNS.finditer(root[1]) if (m[2] if m[2] is not None else m[3]) in _MAIN_NAMESPACES
    ]
    return bound[0] if len(bound) == 1 else None


def _scan_sheet(data: bytes) -> _Scan | None:
    """Find the formula and error cells and the merged ranges of a worksheet's XML, when a scan of the text
    can do that exactly; ``None`` when the exact path must read the part. Works in place: no copy of the part."""
    first = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if not data.startswith(b"<", first) or b"<!" in data:
        return None
    enc = _ENCODING.match(data, first)
    if enc and enc[1].lower().replace(b"_", b"-") not in _SAFE_ENCODINGS:
        return None
    bound = _main_prefix(data, first)
    if bound is None:
        return None
    prefix = bound + b":" if bound else b""
    sheet_data, untagged, any_f, formula_cell, cell_start, error_type, error_value = _patterns(prefix)
    m = sheet_data.search(data, first)
    if m is None:
        return _Scan({}, _merged_ranges(data, first)) if b"sheetData" not in data else None
    if b"xmlns" in m[1]:
        return None
    if m[1].endswith(b"/"):
        return _Scan({}, _merged_ranges(data, m.end()))
    begin, end = m.end(), data.find(b"</" + prefix + b"sheetData>", m.end())
    if end < 0 or any(data.find(mark, begin, end) >= 0 for mark in (b"<?", b"xmlns", b"sheetData")):
        return None
    if untagged.search(data, begin, end) and not _grid_is_small(data, begin, end, prefix):
        return None  # a cell's place is implicit, or the grid python-calamine would allocate is too large
    flags: dict[tuple[int, int], tuple[str, str]] = {}
    columns: dict[bytes, int] = {}
    for f in any_f.finditer(data, begin, end):
        # The formula must be the first child of the cell whose start tag is the last tag before it.
        hit = formula_cell.match(data, data.rfind(b"<", begin, f.start()), end)
        if hit is None or hit.start(3) != f.start():
            return None  # a formula that is not the first child of a cell: let the parser judge
        letters, digits, _, body = hit.groups()
        flags[(int(digits) - 1, _column_index(letters, columns))] = (FORMULA, _xml_text(body).strip())
    for quote in (b'"e"', b"'e'"):
        at = data.find(quote, begin, end)
        while at >= 0:
            tag = data.rfind(b"<", begin, at)
            hit = cell_start.match(data, tag, end)
            if hit is not None and hit.end() > at and error_type.search(data, tag, hit.end()):
                where = (int(hit[2]) - 1, _column_index(hit[1], columns))
                if where not in flags:
                    value = error_value.match(data, hit.end(), end)
                    flags[where] = (ERROR, _xml_text(value[1]).strip() if value else "")
            at = data.find(quote, at + 1, end)
    return _Scan(flags, _merged_ranges(data, end))


MAX_FAST_GRID = 4_000_000  # cells of the dense grid python-calamine allocates for a sheet read on the fast path


def _grid_is_small(data: bytes, begin: int, end: int, prefix: bytes) -> bool:
    """Whether every row and cell carries its reference first and the sheet's grid stays small (the slow check,
    run when a reference lies beyond row 99,999 or column Z)."""
    p = re.escape(prefix)
    if re.compile(b"<" + p + rb'(?:c|row)(?! r=")[\s>/]').search(data, begin, end):
        return False
    rows = [int(n) for n in re.compile(b"<" + p + rb'row r="(\d+)"').findall(data, begin, end)]
    refs = re.compile(b"<" + p + rb'c r="([A-Za-z]+)(\d+)"').findall(data, begin, end)
    last_row = max([*rows, *(int(digits) for _, digits in refs)], default=0)
    columns: dict[bytes, int] = {}
    last_col = max((_column_index(letters, columns) for letters, _ in refs), default=0) + 1
    return last_row * last_col <= MAX_FAST_GRID


def _column_index(letters: bytes, cache: dict[bytes, int]) -> int:
    col = cache.get(letters)
    if col is None:
        col = 0
        for ch in letters.upper():
            col = col * 26 + ch - 64
        col -= 1
        cache[letters] = col
    return col


def _xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if "&" not in text:
        return text
    plain = text.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">")
    if "&" in plain.replace("&amp;", ""):
        return html.unescape(text)  # character references (and anything else): the full rules
    return plain.replace("&amp;", "&")  # only the five named entities, &amp; last


_MERGE_CELL = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?ref\s*=\s*["']([^"']+)["']""")


def _merged_ranges(data: bytes, pos: int) -> list[tuple[int, int, int, int]]:
    out = []
    for m in _MERGE_CELL.finditer(data, pos):
        found = _parse_range(m[1].decode("ascii", "replace"))
        if found is not None:
            out.append(found)
    return out
