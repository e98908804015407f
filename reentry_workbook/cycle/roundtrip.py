"""What the round-trip commands (packets, merge, diff, upgrade) share: matching rows across copies,
comparing cell values, and reading a workbook's document properties and sheet names without parsing cells.

- A row is matched across copies by its **key**: its normalised ID on sheets with IDs, and on the
  Stakeholders sheet (no IDs) by its name, ignoring case and spacing. A row without a key cannot be matched.
- Two values are **the same** when they would look the same to a member: blank and empty text are equal, text
  is compared without surrounding spaces and with one kind of line break, a number typed as text equals the
  number, and a date at midnight equals the date.
- A cell the reader could not take at face value (:class:`model.Unknown`) is carried as
  :func:`model.written`: a formula or an error value as blank (the generator never writes a formula or an
  error back, nor a formula's cached result), a date that cannot be read as the text the member typed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import posixpath
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..plan import schema
from ..plan.ids import normalise_id
from ..plan.model import Plan, Record, Unknown, written
from ..plan.schema import Column, Kind, Sheet
from ..xlsx.guard import open_package, require_defusedxml

if TYPE_CHECKING:
    from ..xlsx.direct_rows import DirectRows

NAME_KEY_PREFIX = "name:"  # keys of rows matched by name rather than ID (never shown)
TEXT_LIMIT = 60  # characters of a row's text shown beside its ID

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def ref_key(value: Any, parent: Sheet) -> str | None:
    """The ID a reference cell names (a bare ID, or the dropdown's "ID - text" label), or None."""
    from ..plan.ids import parse_reference

    return parse_reference(written(value), parent.id_prefix, {})


def name_key(text: Any) -> str:
    """A name as rows are matched and grouped by it: case and spacing ignored."""
    return " ".join(str(written(text) or "").split()).casefold()


def row_key(sheet: Sheet, rec: Record) -> str | None:
    """The key that matches a row across copies, or None when the row has none."""
    if sheet.id_column is not None:
        text = "" if rec.id is None else str(rec.id).strip()
        if not text:
            return None
        return normalise_id(rec.id, sheet.id_prefix) or text.upper()
    name = name_key(rec.get(sheet.label))
    return NAME_KEY_PREFIX + name if name else None


_COMPARED: dict[int, tuple[Sheet, tuple[Column, ...]]] = {}  # id(sheet) -> (sheet, its compared columns)


def compared_columns(sheet: Sheet) -> tuple[Column, ...]:
    """The columns a member fills in: neither the ID (it is the key) nor a derived column (never read)."""
    known = _COMPARED.get(id(sheet))
    if known is not None and known[0] is sheet:  # worked out once per sheet: merges ask for every row
        return known[1]
    columns = tuple(c for c in sheet.columns if c.kind not in (Kind.ID, Kind.DERIVED))
    _COMPARED[id(sheet)] = (sheet, columns)
    return columns


def content_blank(sheet: Sheet, rec: Record) -> bool:
    """True when every column a member fills in is blank (an ID alone is not content)."""
    values = rec.values
    for c in compared_columns(sheet):
        value = values.get(c.key)
        if value is not None and value != "" and comparable(value) != "":
            return False
    return True


def comparable(value: Any) -> Any:
    """A value reduced to what a member sees, so that equal-looking cells compare equal."""
    if value.__class__ is Unknown:
        value = value.written
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    try:
        number = float(text.replace(",", "")) if text and text[0] in "+-.0123456789" else None
    except ValueError:
        number = None
    return number if number is not None else text


def cell_fingerprint(value: Any) -> str:
    """A short digest of :func:`comparable` of a value: equal for values that look the same to a member, the same in
    every process (a packet keeps those of the cells it was cut with, see ``schema.PACKET_BASE_SHEET``)."""
    seen = comparable(value)
    return hashlib.blake2b(f"{type(seen).__name__}:{seen!r}".encode(), digest_size=8).hexdigest()


def same(a: Any, b: Any) -> bool:
    """True when two cell values look the same to a member."""
    if a.__class__ is b.__class__ and a == b:  # equal values of one type reduce alike (most cells of a merge)
        return True
    left, right = comparable(a), comparable(b)
    if type(left) is not type(right):
        return False
    return bool(left == right)


def display(value: Any) -> str:
    """A value as text for logs, tables and the terminal (dates as YYYY-MM-DD, 12.0 as 12)."""
    value = written(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def row_text(sheet: Sheet, rec: Record, limit: int = TEXT_LIMIT) -> str:
    """The row's main text (its label column), on one line and cut to ``limit`` characters."""
    flat = " ".join(display(rec.get(sheet.label)).split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def row_name(sheet: Sheet, rec: Record | None) -> str:
    """How a row is named in logs and lists: its ID, or the stakeholder's name as typed; "" without either."""
    if rec is None:
        return ""
    if sheet.id_column is not None:
        return row_key(sheet, rec) or ""
    return " ".join(display(rec.get(sheet.label)).split())


def index_rows(sheet: Sheet, rows: Iterable[Record]) -> tuple[dict[str, Record], list[Record]]:
    """(first row of each key, every other row: without a key, or repeating a key already seen)."""
    first: dict[str, Record] = {}
    rest: list[Record] = []
    for rec in rows:
        key = row_key(sheet, rec)
        if key is None or key in first:
            rest.append(rec)
        else:
            first[key] = rec
    return first, rest


def id_number(sheet: Sheet, key: str | None) -> int | None:
    """The number of an ID of this sheet ("A-12" -> 12), or None for anything else."""
    if not key or not sheet.id_prefix:
        return None
    prefix, sep, digits = key.partition("-")
    if not sep or prefix.upper() != sheet.id_prefix.upper() or not digits.strip().isdigit():
        return None
    return int(digits.strip())


def plan_fingerprint(plan: Plan) -> str:
    """A short hash of a plan's content (Coalition fields and every row), independent of file bytes."""
    content: dict[str, Any] = {
        "coalition": {f.key: display(comparable(plan.coalition.get(f.key))) for f in schema.COALITION_FIELDS}
    }
    for sheet in schema.SHEETS:
        content[sheet.key] = [
            [row_key(sheet, rec) or "", *(display(comparable(rec.get(c.key))) for c in compared_columns(sheet))]
            for rec in plan.rows(sheet.key)
        ]
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sheet_names(path: Path) -> list[str]:
    """The names of the workbook's sheets, in tab order, hidden ones included."""
    etree = require_defusedxml()
    with open_package(path) as zf:
        part = _workbook_part(zf.namelist(), etree, zf)
        root = etree.fromstring(zf.read(part))
    return [s.get("name") or "" for s in root.iter(f"{_NS_MAIN}sheet")]


def _workbook_part(names: Sequence[str], etree: Any, zf: Any) -> str:
    if "_rels/.rels" in names:
        rels = etree.fromstring(zf.read("_rels/.rels"))
        for rel in rels.iter(f"{_NS_REL}Relationship"):
            if (rel.get("Type") or "").endswith("/officeDocument"):
                target = posixpath.normpath((rel.get("Target") or "").lstrip("/"))
                if target in names:
                    return target
    return "xl/workbook.xml"


def extra_sheets(names: Sequence[str]) -> list[str]:
    """Of a workbook's sheet names, those that are not part of the plan template (members' own, summaries, logs);
    a plan sheet renamed in case or spacing is still the plan's, as the reader finds it."""
    template = {_loose(name) for name in schema.SHEET_ORDER}
    return [name for name in names if _loose(name) not in template]


def _loose(name: str) -> str:
    return "".join(name.split()).casefold()


def write_table(
    book: Any,
    fm: Any,
    name: str,
    headers: Sequence[tuple[str, float]],
    rows: Iterable[Sequence[Any]],
    *,
    intro: str = "",
) -> Any:
    """Add a sheet with a header row and rows of values to an XlsxWriter workbook; text always as text.

    ``headers`` are (text, width) pairs; ``fm`` is the generator's ``Formats``. With ``intro``, one line of
    explanation sits above the header. Rows are made tall enough for their wrapped text (spreadsheet apps do
    not size rows of a generated file themselves). Returns the worksheet.
    """
    from ..workbook.generate import check

    rows = list(rows)
    ws, top = table_sheet(book, fm, name, headers, len(rows), intro=intro)
    cell, wrap = f"{name} cell", fm.wrap
    per_line = [_per_line(width) for _text, width in headers]
    for r, values in enumerate(rows, start=top + 1):
        for c, value in enumerate(values):
            if _is_number(value):
                check(ws.write_number(r, c, value, wrap), cell)
            elif value is not None and value != "":
                check(ws.write_string(r, c, value if value.__class__ is str else display(value), wrap), cell)
        lines = _row_lines(values, per_line)
        if lines > 1:
            check(ws.set_row(r, _table_row_height(lines)), f"{name} row height")
    return ws


def table_sheet(
    book: Any, fm: Any, name: str, headers: Sequence[tuple[str, float]], count: int, *, intro: str = ""
) -> tuple[Any, int]:
    """:func:`write_table`'s sheet without its rows: the introduction, the header row, the frozen panes and a
    filter over ``count`` rows. Returns the worksheet and the (0-based) header row."""
    from ..workbook.generate import check

    ws = book.add_worksheet(name)
    top = 0
    if intro:
        check(ws.write_string(0, 0, intro, fm.get(bold=True)), f"{name} introduction")
        top = 2
    for c, (text, width) in enumerate(headers):
        check(ws.set_column(c, c, width, fm.wrap), f"{name} column {text}")
        check(ws.write_string(top, c, text, fm.header), f"{name} header {text}")
    check(ws.set_row(top, 30), f"{name} header height")
    ws.freeze_panes(top + 1, 0)
    if count:
        check(ws.autofilter(top, 0, top + count, len(headers) - 1), f"{name} filter")
    return ws, top


def table_rows(
    first: int, style: int, headers: Sequence[tuple[str, float]], rows: Sequence[Sequence[Any]]
) -> DirectRows:
    """The rows :func:`write_table` writes, as rows a graft writes straight into the sheet from row ``first``
    (0-based), every cell in the scratch workbook's cell format ``style`` (a long table: a merge's log)."""
    from ..xlsx.direct_rows import DirectRows

    per_line = [_per_line(width) for _text, width in headers]
    out = DirectRows(first)
    for r, values in enumerate(rows, start=first):
        out.rows.append([
            (c, style, value if value.__class__ is str or _is_number(value) else display(value))
            for c, value in enumerate(values)
            if value is not None and value != ""
        ])
        lines = _row_lines(values, per_line)
        if lines > 1:
            out.heights[r] = _table_row_height(lines)
    return out


LINE_HEIGHT = 15  # points per line of wrapped text
TABLE_ROW_CAP = 300  # points: a table's tallest row (a long note scrolls inside it rather than fill the screen)


def _per_line(width: float) -> int:
    """Characters a line holds in a column of ``width`` characters, roughly."""
    return max(int(width * 1.1), 1)


def _table_row_height(lines: int) -> float:
    """The height in points of a table row whose wrapped text takes ``lines`` lines."""
    return min(LINE_HEIGHT * lines, TABLE_ROW_CAP)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _row_lines(values: Sequence[Any], per_line: list[int]) -> int:
    """The lines of wrapped text the tallest cell of a table row takes."""
    lines = 1
    for c, value in enumerate(values):
        if value is None or value == "" or _is_number(value):
            continue
        text = value if value.__class__ is str else display(value)
        width = per_line[c] if c < len(per_line) else _per_line(10)
        if len(text) > width or "\n" in text:
            lines = max(lines, _lines(text, width))
    return lines


def _lines(text: str, per_line: int) -> int:
    """Lines a text takes with ``per_line`` characters a line, roughly (wrapping at words)."""
    return sum(max(-(-len(part) // per_line), 1) for part in text.split("\n"))
