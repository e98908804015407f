"""The fast path of the cell reader: python-calamine reads the values, and a scan of the worksheet's XML
finds every formula and error cell. Taken only when the XML is plain enough for the scan to be exact."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .read_ahead import FAILED, UNSCANNED
from .refs import parse_range
from .sheet_cells import ERROR, FORMULA, RANGE_FORMULAS, DenseCells, SheetCells, SheetRef, flag_formula_range

# --- the fast path's scan ------------------------------------------------------------------------------------

if TYPE_CHECKING:
    from .cells import Workbook


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
_FORMULA_TYPE = re.compile(rb"""\st\s*=\s*["']([A-Za-z]+)["']""")
_FORMULA_REF = re.compile(rb"""\sref\s*=\s*["']([^"']+)["']""")
# Plain words looked for in megabytes of cells: a compiled pattern finds them about twice as fast as bytes.find.
_XMLNS_WORD = re.compile(rb"xmlns")
_ERROR_TYPE_VALUES = ((b'"', re.compile(rb'"e"')), (b"'", re.compile(rb"'e'")))  # t="e", an error cell


@functools.lru_cache(maxsize=8)
def _patterns(prefix: bytes) -> tuple[re.Pattern[bytes], ...]:
    p = re.escape(prefix)
    return (
        re.compile(b"<" + p + rb"sheetData([^>]*)>"),
        # In one pass over the cell data, every tag the scan must look at: a comment, CDATA section or processing
        # instruction (group 1: the scan gives up), a formula (group 2), and a row or cell whose reference is not
        # its first attribute, or lies beyond row 99,999 or column Z (the grid must then be checked).
        re.compile(b"<(?:([!?])|(" + p + rb"f[\s/>])|" + p + rb'(?:c|row)(?! r="[A-Za-z]?\d{1,5}")[\s>/])'),
        re.compile(
            b"<"
            + p
            + rb'c r="([A-Za-z]{1,3})(\d{1,7})"[^>]*>\s*()<'
            + p
            + rb"f(\s[^>]*?)?(?:/>|>([^<]*)</"
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
    if not data.startswith(b"<", first):
        return None
    enc = _ENCODING.match(data, first)
    if enc and enc[1].lower().replace(b"_", b"-") not in _SAFE_ENCODINGS:
        return None
    bound = _main_prefix(data, first)
    if bound is None:
        return None
    prefix = bound + b":" if bound else b""
    sheet_data, marks, formula_cell, cell_start, error_type, error_value = _patterns(prefix)
    m = sheet_data.search(data, first)
    if m is None or m[1].endswith(b"/"):
        if b"<!" in data or (m is None and b"sheetData" in data) or (m is not None and b"xmlns" in m[1]):
            return None
        return _Scan({}, _merged_ranges(data, first if m is None else m.end()))
    if b"xmlns" in m[1]:
        return None
    # The last end tag, looked for from the end (where it is): a sheet with another one in between is refused below.
    begin, end = m.end(), data.rfind(b"</" + prefix + b"sheetData>", m.end())
    if end < 0 or _XMLNS_WORD.search(data, begin, end) or data.find(b"sheetData", begin, end) >= 0:
        return None
    if data.find(b"<!", 0, begin) >= 0 or data.find(b"<!", end) >= 0:
        return None  # (among the cells, the pass below finds it)
    places: list[tuple[int, int]] = []  # each formula's cell, and its text as written (decoded all at once below)
    bodies: list[bytes] = []
    ranges: list[tuple[tuple[int, int, int, int] | None, int]] = []  # array formulas: (range, index in bodies)
    columns: dict[bytes, int] = {}
    grid_checked = False
    for f in marks.finditer(data, begin, end):
        if f[1]:
            return None  # a comment, CDATA section or processing instruction among the cells
        if not f[2]:
            if not grid_checked and not _grid_is_small(data, begin, end, prefix):
                return None  # a cell's place is implicit, or the grid python-calamine would allocate is too large
            grid_checked = True
            continue
        # The formula must be the first child of the cell whose start tag is the last tag before it.
        hit = formula_cell.match(data, data.rfind(b"<", begin, f.start()), end)
        if hit is None or hit.start(3) != f.start():
            return None  # a formula that is not the first child of a cell: let the parser judge
        letters, digits, _, attrs, body = hit.groups()
        col = columns.get(letters)
        places.append((int(digits) - 1, _column_index(letters, columns) if col is None else col))
        bodies.append(body or b"")  # no body: <f .../>, a cell a shared formula was filled into
        kind = _FORMULA_TYPE.search(attrs) if attrs else None
        if kind is not None and kind[1].decode() in RANGE_FORMULAS:
            area = _FORMULA_REF.search(attrs or b"")
            ranges.append((parse_range(area[1].decode("ascii", "replace")) if area else None, len(bodies) - 1))
    texts = _xml_texts(bodies)
    flags: dict[tuple[int, int], tuple[str, str]] = {}
    for place, text in zip(places, texts, strict=True):
        flags[place] = (FORMULA, text)
    for spanned, at in ranges:
        flag_formula_range(flags, spanned, texts[at])
    for quote, pattern in _ERROR_TYPE_VALUES:
        if quote not in data:
            continue  # no attribute in single quotes at all (the usual case): no need to look for 'e'
        found = pattern.search(data, begin, end)
        while found is not None:
            at = found.start()
            tag = data.rfind(b"<", begin, at)
            hit = cell_start.match(data, tag, end)
            if hit is not None and hit.end() > at and error_type.search(data, tag, hit.end()):
                where = (int(hit[2]) - 1, _column_index(hit[1], columns))
                if where not in flags:
                    value = error_value.match(data, hit.end(), end)
                    flags[where] = (ERROR, _xml_text(value[1]).strip() if value else "")
            found = pattern.search(data, at + 1, end)
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
    plain = _named_entities(text)
    return html.unescape(text) if plain is None else plain  # character references (and the rest): the full rules


def _named_entities(text: str) -> str | None:
    """``text`` with the five named entities replaced (``&amp;`` last), or ``None`` when it holds any other
    reference. Text whose only references are ``&amp;`` (a formula's ``&``, mostly) takes one pass."""
    if text.count("&amp;") != text.count("&"):
        text = text.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">")
        if "&" in text.replace("&amp;", ""):
            return None
    return text.replace("&amp;", "&")


def _xml_texts(raws: list[bytes]) -> list[str]:
    """:func:`_xml_text` of each of ``raws``, stripped: decoded and unescaped in one go (a sheet can hold tens of
    thousands of formulas), one by one when a NUL byte or a character reference makes that unsafe."""
    joined = b"\0".join(raws)
    if joined.count(b"\0") == len(raws) - 1:  # (no NUL in a text: the joins are where the texts part)
        # The five named entities never reach across a NUL; anything else takes the full rules, text by text.
        text = _named_entities(joined.decode("utf-8", "replace"))
        if text is not None:
            return [part.strip() for part in text.split("\0")]
    return [_xml_text(raw).strip() for raw in raws]


# ``_xHHHH_`` escapes python-calamine leaves as they are (the noncharacters U+FFFE/U+FFFF and surrogates): the
# exact path decodes them, so a sheet or shared-string table holding one is read there.
_UNDECODED_ESCAPE = re.compile(rb"_x(?:[Ff]{3}[EeFf]|[Dd][89A-Fa-f][0-9A-Fa-f]{2})_")


def _strings_hold_undecoded_escape(book: Workbook) -> bool:
    if book._strings_escaped is None:
        part = book._strings_part
        book._strings_escaped = part is not None and bool(_UNDECODED_ESCAPE.search(book._read_part(part) or b""))
    return book._strings_escaped


_MERGE_CELL = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?ref\s*=\s*["']([^"']+)["']""")


def _merged_ranges(data: bytes, pos: int) -> list[tuple[int, int, int, int]]:
    out = []
    for m in _MERGE_CELL.finditer(data, pos):
        found = parse_range(m[1].decode("ascii", "replace"))
        if found is not None:
            out.append(found)
    return out


def scan_fast(book: Workbook, ref: SheetRef) -> _Scan | None:
    """The scan of a sheet the fast path can read (its formula and error cells, its merged ranges); ``None`` when
    the exact path must read it."""
    filename = book.zf.filename
    if not filename or not Path(filename).is_file():
        return None
    data = book._read_part(ref.part) or b""
    scan = None if _UNDECODED_ESCAPE.search(data) else _scan_sheet(data)
    del data  # not needed while python-calamine reads the part again
    if scan is None or _strings_hold_undecoded_escape(book):
        return None
    return scan


def read_fast(book: Workbook, ref: SheetRef) -> SheetCells | None:
    ahead = book._ahead
    if ahead is not None and ahead.holds(ref):
        scan, grid = ahead.take(ref)
        if scan is UNSCANNED:
            scan = scan_fast(book, ref)  # raises what it raised ahead, now that the reader has got this far
        elif scan is not None and grid is FAILED:
            book._calamine_failed = True
            return None
        if scan is None or grid is FAILED:
            return None
        return DenseCells(ref.name, grid, scan.flags, scan.merged)
    if ahead is not None:
        book.finish_ahead()  # a sheet not read ahead: python-calamine's workbook is used here, in this thread
    scan = scan_fast(book, ref)
    if scan is None:
        return None
    try:
        import python_calamine

        if book._calamine is None:
            if book._strings_part is not None:
                book._refuse_dtd(book._strings_part)
            # (scan_fast clears a sheet only when the workbook is a file on disk)
            book._calamine = python_calamine.CalamineWorkbook.from_path(book.zf.filename or "")
        grid = book._calamine.get_sheet_by_name(ref.name).to_python(skip_empty_area=False)
    except Exception:  # calamine could not read it: the exact path says what is wrong
        book._calamine_failed = True
        return None
    return DenseCells(ref.name, grid, scan.flags, scan.merged)
