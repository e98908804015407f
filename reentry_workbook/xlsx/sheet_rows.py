"""A worksheet part's rows and cells, found for an edit while parsing as little of the part as possible.

:func:`parse_around_cells` parses the worksheet without its cell data and finds each row's offsets by pattern
(falling back to parsing the whole part when the cell data is not plain enough for the pattern to be exact);
a :class:`Row` parsed on its own parses a cell only when it is asked for. Rows and cells are counted as the reader
counts them: by their ``r`` attribute, else one past the one before.
"""

from __future__ import annotations

import re

from .opc import MAIN_NS
from .refs import parse_ref
from .xmltext import Node, Unsupported, attribute_value, ns_scope, parse_xml, tag_attributes, unescape, xml_tokens


class Row:
    """A row element and its cells by 0-based column (as the reader counts). A row parsed with its sheet has every
    cell parsed; a row parsed on its own (:meth:`around_cells`) parses a cell when it is first asked for: an edit
    writes a few cells of a row, and a large merge changes thousands of rows."""

    def __init__(self, node: Node, cells: dict[int, Node], spans: dict[int, tuple[int, int]] | None = None,
                 text: str = "") -> None:
        self.node = node
        self._cells = cells
        self._spans = spans  # column -> (start, end) of each cell, when its cells are parsed as asked for
        self._text = text

    @classmethod
    def around_cells(cls, text: str, start: int, end: int, scope: dict[str, str]) -> Row:
        """The row element at ``start``..``end`` of ``text`` (``scope``: the prefixes in force there), its cells
        found by their tags and parsed only when asked for. Every tag of the row is checked as :func:`parse_xml`
        checks it, and raises what it raises."""
        tokens = xml_tokens(text, start, end)
        head = next(tokens, None)
        if head is None or head.group("close") or head.group("empty"):
            return cls(parse_xml(text, ((start, end),), scope), {})
        name = head.group("name")
        inner = ns_scope(scope, tag_attributes(head))
        spans: dict[int, tuple[int, int]] = {}
        open_names: list[str] = []  # the elements open inside the row
        cell: tuple[int, int] | None = None  # (column, start) of the cell open at the row's level
        col = -1
        close: re.Match[str] | None = None
        for m in tokens:
            if close is not None:
                raise Unsupported("more than one root element")
            tag = m.group("name")
            if m.group("close"):
                if not open_names:
                    if tag != name:
                        raise Unsupported("an end tag that does not match its start tag")
                    close = m
                elif open_names.pop() != tag:
                    raise Unsupported("an end tag that does not match its start tag")
                elif not open_names and cell is not None:
                    spans[cell[0]] = (cell[1], m.end())
                    cell = None
                continue
            prefix, _, local = tag.rpartition(":")
            if not open_names and local == "c":  # a child of the row: a cell takes its column as index_cells gives it
                declares = "xmlns" in (m.group("attrs") or "")  # (never, where rows are parsed on their own)
                if (ns_scope(inner, tag_attributes(m)) if declares else inner).get(prefix) == MAIN_NS:
                    ref = attribute_value(m, "r")
                    found = parse_ref(ref) if ref is not None else None
                    col = found[1] if found is not None else col + 1
                    if m.group("empty"):
                        spans[col] = (m.start(), m.end())
                    else:
                        cell = (col, m.start())
            if not m.group("empty"):
                open_names.append(tag)
        if close is None:
            raise Unsupported("XML that ends early")
        return cls(parse_xml(text, ((start, head.end()), (close.start(), end)), scope), {}, spans, text)

    def cell(self, col: int) -> Node | None:
        found = self._cells.get(col)
        if found is None and self._spans is not None and col in self._spans:
            found = self._cells[col] = parse_xml(self._text, (self._spans[col],), self.node.nsmap)
        return found

    def columns(self) -> list[int]:
        """The columns of the row's cells, left to right."""
        return sorted(self._cells if self._spans is None else self._spans)

    def start_of(self, col: int) -> int:
        """The offset where the cell of ``col`` starts."""
        if self._spans is not None:
            return self._spans[col][0]
        return self._cells[col].start

    def trees(self) -> list[Node]:
        """The parsed nodes to let go (:func:`sheet_edit._let_go`): the row's, and the cells parsed on their own."""
        return [self.node] if self._spans is None else [self.node, *self._cells.values()]


def index_rows(data: Node) -> dict[int, Row]:
    """The rows of ``sheetData`` by 0-based index, with their cells by 0-based column (as the reader counts)."""
    rows: dict[int, Row] = {}
    current = -1
    for node in data.children:
        if not node.is_(MAIN_NS, "row"):
            continue
        where = node.get("r")
        current = int(where) - 1 if where is not None and where.strip().isdigit() else current + 1
        if current in rows:
            raise Unsupported(f"row {current + 1} written twice in a worksheet")
        rows[current] = Row(node, index_cells(node))
    return rows


def index_cells(row: Node) -> dict[int, Node]:
    """The cells of a row by 0-based column (as the reader counts)."""
    cells: dict[int, Node] = {}
    col = -1
    for cell in row.children:
        if not cell.is_(MAIN_NS, "c"):
            continue
        ref = cell.get("r")
        found = parse_ref(ref) if ref is not None else None
        col = found[1] if found is not None else col + 1
        cells[col] = cell
    return cells


_TAG_TAIL = r"""(?P<attrs>(?:\s+[^\s=/<>"']+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(?P<empty>/)?>"""
_SHEET_DATA = re.compile(r"<(?:(?P<prefix>[A-Za-z_][\w.\-]*):)?sheetData" + _TAG_TAIL)
_ROW = re.compile(r"<(?:(?P<prefix>[A-Za-z_][\w.\-]*):)?row" + _TAG_TAIL)
_R_ATTR = re.compile(r"""\sr\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")


def parse_around_cells(text: str) -> tuple[Node, dict[int, tuple[int, int]] | None]:
    """The worksheet parsed without the content of its cell data, and the (start, end) offsets of each row, found
    by pattern; or, when the cell data is not plain enough for the pattern to be exact (comments, CDATA,
    processing instructions or namespace declarations in it, rows under another prefix or closed oddly), the
    whole worksheet parsed and None. A large sheet's untouched rows are never parsed."""
    m = _SHEET_DATA.search(text)
    close = text.find(f"</{m.group('prefix') + ':' if m.group('prefix') else ''}sheetData>", m.end()) if m else -1
    if m is None or m.group("empty") or close < 0:
        return parse_xml(text), None
    start, end = m.end(), close
    if any(text.find(odd, start, end) >= 0 for odd in ("<!", "<?", "xmlns")):
        return parse_xml(text), None
    try:
        root = parse_xml(text, ((0, start), (end, None)))
    except Unsupported:
        return parse_xml(text), None
    data = root.first(MAIN_NS, "sheetData")
    rows = scan_rows(text, start, end, m.group("prefix") or "") if data is not None and data.end == start else None
    return (root, rows) if rows is not None else (parse_xml(text), None)


def scan_rows(text: str, start: int, end: int, prefix: str) -> dict[int, tuple[int, int]] | None:
    """Row index -> (start, end) offsets of the rows between ``start`` and ``end``, counted as the reader counts;
    None when a row is not as the pattern expects."""
    rows: dict[int, tuple[int, int]] = {}
    closing = f"</{prefix}:row>" if prefix else "</row>"
    current = -1
    pos = start
    for m in _ROW.finditer(text, start, end):
        if (m.group("prefix") or "") != prefix or m.start() < pos:
            return None
        found = _R_ATTR.search(m.group("attrs"))
        where = None if found is None else unescape(found.group(1) if found.group(1) is not None else found.group(2))
        current = int(where) - 1 if where is not None and where.strip().isdigit() else current + 1
        if current in rows:
            raise Unsupported(f"row {current + 1} written twice in a worksheet")
        if m.group("empty"):
            pos = m.end()
        else:
            pos = text.find(closing, m.end(), end)
            if pos < 0:
                return None
            pos += len(closing)
        rows[current] = (m.start(), pos)
    return rows
