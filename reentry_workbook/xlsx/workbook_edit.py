"""Applies cell changes to worksheets of a workbook package, copying every other part byte for byte.

Only these parts can change (``EDIT_MAY_CHANGE`` names them by role):

- the worksheet parts holding a changed cell or an appended row (see :mod:`sheet_edit`);
- the shared-string table: new strings are appended to its end, existing ones are never renumbered (a
  workbook without one gets inline strings instead);
- the styles part: a date format is appended when a date goes into a cell whose style shows none, and no
  other format of the column does;
- the workbook part, only when a workbook-level defined name is given a new range (a dropdown's source list
  grown over appended rows), and then only that name's text;
- the calculation chain (``calcChain.xml``, a cache Excel rebuilds) is dropped when a formula cell was
  overwritten by a value, so that it never lists a cell that holds no formula.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError
from .cell_values import format_kind
from .opc import (
    CONTENT_TYPES,
    MAIN_NS,
    REL_CALC_CHAIN,
    REL_NS,
    REL_SHARED_STRINGS,
    REL_STYLES,
    ContentTypes,
    Package,
    rels_name,
    unusable,
    workbook_part,
)
from .refs import parse_range
from .sheet_edit import SheetChanges, edit_sheet, string_item
from .xmltext import (
    Editor,
    Node,
    Unsupported,
    XmlCheck,
    XmlText,
    escape_text,
    parse_xml,
    unescape,
    xml_problem,
    xml_tokens,
)
from .zip_io import ZipEntry, packed, packed_pieces, write_zip

EDIT_MAY_CHANGE: tuple[str, ...] = (
    "edited worksheets", "shared strings", "styles", "workbook (defined names)", "calculation chain"
)

Range = tuple[int, int, int, int]  # 0-based first row, first column, last row, last column


@dataclass
class _Sheet:
    name: str
    part: str


class _Book:
    """The workbook part's view of a package: its sheets, shared strings, styles and date system."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        self.part = workbook_part(pkg)
        _, root = pkg.xml(self.part)
        if not root.is_(MAIN_NS, "workbook"):
            raise Unsupported("its workbook part is not a spreadsheet workbook")
        self.rels = pkg.rels(self.part)
        by_id = {r.id: r for r in self.rels}
        self.sheets: list[_Sheet] = []
        sheets = root.first(MAIN_NS, "sheets")
        for node in sheets.find(MAIN_NS, "sheet") if sheets is not None else []:
            rel = by_id.get(node.get("id", ns=REL_NS) or "")
            if rel is not None and rel.part:
                self.sheets.append(_Sheet(node.get("name") or "", rel.part))
        pr = root.first(MAIN_NS, "workbookPr")
        self.date1904 = pr is not None and (pr.get("date1904") or "").strip().lower() in ("1", "true")
        self.strings_part = next((r.part for r in self.rels if r.type == REL_SHARED_STRINGS and r.part), None)
        self.styles_part = next((r.part for r in self.rels if r.type == REL_STYLES and r.part), None)

    def sheet_part(self, name: str) -> str:
        found = next((s.part for s in self.sheets if s.name == name), None)
        if found is None:
            raise Unsupported(f"it has no worksheet named {name!r}")
        return found


# -- shared strings: append only ---------------------------------------------------------------------------


class _SharedStrings:
    """The workbook's shared-string table; new strings are appended, an existing plain one is reused.

    With ``wanted`` (the texts the edit is expected to write), only those of the table are looked up, not the whole
    table held as a dictionary (a large plan's holds hundreds of thousands); another text asked for looks up the
    whole table then."""

    def __init__(self, pkg: Package, part: str | None, wanted: set[str] | None = None) -> None:
        self.part = part
        self.new: list[str] = []
        self.known: dict[str, int] = {}
        self.count = 0
        self.used = 0  # cells written that point at the table
        self._pkg, self._wanted = pkg, wanted
        if part is None:
            return
        self._look_up(wanted)

    def _look_up(self, wanted: set[str] | None) -> None:
        assert self.part is not None
        scanned = _scan_strings(self._pkg.data[self.part])
        if scanned is not None:
            self.doc, self.root, plain = scanned
            self.count = len(plain)
        else:
            self.doc, self.root = self._pkg.xml(self.part)
            plain = [_plain_item(self.doc.text, si) for si in self.root.find(MAIN_NS, "si")]
            self.count = len(plain)
        if not self.root.is_(MAIN_NS, "sst"):
            raise Unsupported("its shared-string table is not one")
        found: dict[str, int] = {}
        for i, text in enumerate(plain):
            if text is not None and (wanted is None or text in wanted) and "_x" not in text and "\r" not in text:
                found.setdefault(text, i)
        for i, text in enumerate(self.new):  # appended before the whole table was looked up
            found.setdefault(text, self.count + i)
        self.known = found

    def index(self, text: str) -> int | None:
        if self.part is None:
            return None
        if self._wanted is not None and text not in self._wanted:
            self._wanted = None
            self._look_up(None)
        self.used += 1
        found = self.known.get(text)
        if found is None:
            found = self.known[text] = self.count + len(self.new)
            self.new.append(text)
        return found

    def result(self) -> bytes | None:
        if self.part is None or not self.used:
            return None
        edit = Editor(self.doc.text)
        prefix = f"{self.root.prefix}:" if self.root.prefix else ""
        items = "".join(string_item(prefix, t) for t in self.new)
        total = self.count + len(self.new)
        old_count = self.root.get("count")
        if old_count is not None and old_count.strip().isdigit():
            edit.set_attr(self.root, "count", str(int(old_count) + self.used))
        if self.new:
            if self.root.get("uniqueCount") is not None:
                edit.set_attr(self.root, "uniqueCount", str(total))
            edit.append_children(self.root, items)
        return self.doc.encode(edit.result()) if edit.changed else None


def _plain_item(text: str, si: Node) -> str | None:
    """The text of a shared-string item that is one plain run, else None."""
    runs = si.children
    if len(runs) == 1 and runs[0].local == "t" and not runs[0].children:
        t = runs[0]
        return "" if t.empty else unescape(text[t.end : t.close_start])
    return None


_ATTRS = r"""(?:\s+[^\s=/<>"']+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*"""
_ITEM = re.compile(r"<(?:(?P<prefix>[A-Za-z_][\w.\-]*):)?si" + _ATTRS + "(?P<empty>/)?>")
# An item's one plain run and the item's end tag: <t>text</t></si>, <t/></si>, any prefix and attributes.
_PLAIN_RUN = r"\s*<(?P<t>(?:[A-Za-z_][\w.\-]*:)?t)" + _ATTRS + r"(?:/>|>(?P<text>[^<]*)</(?P=t)>)\s*</"
# An item's start tag and, when it holds one plain run, that run: one match per item, all found in one call (a large
# plan's table holds hundreds of thousands of items). The run is looked for where the start tag ends, as a match
# started there would find it; a run that is not there (rich text, several runs) leaves the groups empty.
_ITEMS = re.compile(_ITEM.pattern + r"(?(empty)|(?:" + _PLAIN_RUN + r")?)")


def _scan_strings(data: bytes) -> tuple[XmlText, Node, list[str | None]] | None:
    """The shared-string table, its root and each item's text when plain (one run), found by pattern without
    parsing the items; None when the table is not plain enough for the pattern to be exact."""
    if xml_problem(data) is not None:
        return None
    doc = XmlText.decode(data)
    text = doc.text
    first = next(xml_tokens(text), None)
    end = text.rfind("</")
    if first is None or first.group("empty") or end < first.end():
        return None
    start = first.end()
    if any(text.find(odd, start, end) >= 0 for odd in ("<!", "<?", "xmlns")):
        return None
    try:
        root = parse_xml(text, ((0, start), (end, None)))
    except Unsupported:
        return None
    if root.end != start:
        return None
    items = _ITEMS.findall(text, start, end)  # (prefix, "/" or "", the run's tag or "" when none, its text)
    if any(root.nsmap.get(prefix) != MAIN_NS for prefix in {prefix for prefix, _e, _t, _text in items}):
        return None
    plain = [(unescape(body) if "&" in body else body) if t else None for _p, _e, t, body in items]
    return doc, root, plain


# -- styles: a date format when one is needed -------------------------------------------------------------


class _DateStyles:
    """Which cell formats show dates, and a date format like a given one, appended when the styles lack it."""

    DATE_FORMAT = 14  # the built-in short date

    def __init__(self, pkg: Package, part: str | None) -> None:
        self.part = part
        self.xfs: list[Node] = []
        self.dates: set[int] = set()
        self.appended: dict[int, int] = {}
        if part is None:
            return
        self.doc, self.root = pkg.xml(part)
        codes = {}
        fmts = self.root.first(MAIN_NS, "numFmts")
        for n in fmts.find(MAIN_NS, "numFmt") if fmts is not None else []:
            if (n.get("numFmtId") or "").isdigit():
                codes[int(n.get("numFmtId") or 0)] = n.get("formatCode")
        xfs = self.root.first(MAIN_NS, "cellXfs")
        self.container = xfs
        self.xfs = xfs.find(MAIN_NS, "xf") if xfs is not None else []
        for i, xf in enumerate(self.xfs):
            num = int(xf.get("numFmtId") or 0) if (xf.get("numFmtId") or "0").isdigit() else 0
            if format_kind(num, codes.get(num)) == "date":
                self.dates.add(i)

    def is_date(self, xf: int) -> bool:
        return xf in self.dates

    def date_style(self, xf: int) -> int:
        if xf in self.appended:
            return self.appended[xf]
        base = self.xfs[xf] if 0 <= xf < len(self.xfs) else None
        if self.part is None or self.container is None or base is None:
            raise Unsupported("a date goes into a cell whose styles cannot show one")
        want = {k: base.get(k) for k in ("fontId", "fillId", "borderId")}
        for i in sorted(self.dates):
            if {k: self.xfs[i].get(k) for k in want} == want:
                self.appended[xf] = i
                return i
        self.appended[xf] = len(self.xfs) + len([k for k, v in self.appended.items() if v >= len(self.xfs)])
        return self.appended[xf]

    def result(self) -> bytes | None:
        added = sorted((v, k) for k, v in self.appended.items() if v >= len(self.xfs))
        if not added or self.container is None:  # (date_style appends only where there is a container)
            return None
        edit = Editor(self.doc.text)
        items = []
        for _, base in added:
            node = self.xfs[base]
            raw = self.doc.text[node.start : node.close_end]
            head_end = node.end - node.start - (2 if node.empty else 1)
            head = raw[:head_end]
            for name in ("numFmtId", "applyNumberFormat"):
                a = node.attr(name)
                if a is not None:
                    start, end = a.name_start - node.start, a.span[1] + 1 - node.start
                    head = head[:start] + " " * (end - start) + head[end:]
            head = " ".join(head.split()) + f' numFmtId="{self.DATE_FORMAT}" applyNumberFormat="1"'
            items.append(head + raw[head_end:])
        edit.append_children(self.container, "".join(items), len(self.xfs) + len(items))
        return self.doc.encode(edit.result())


# -- public API -------------------------------------------------------------------------------------------


def edit_cells(src: Path, dest: Path, changes: Mapping[str, SheetChanges],
               names: Mapping[str, str] | None = None) -> None:
    """Write to ``dest`` a copy of ``src`` with ``changes`` (sheet name -> changes) applied to its worksheets, and
    the workbook-level defined names in ``names`` (name -> formula text, without ``=``) given new texts.

    ``src`` is only read; every part other than those named in the module docstring is copied byte for byte.
    """
    edited = edited_package(src, changes, names)
    write_zip(dest, edited.entries, edited.comment)


def edited_package(src: Path | Package, changes: Mapping[str, SheetChanges],
                   names: Mapping[str, str] | None = None) -> Package:
    """What :func:`edit_cells` writes, held in memory (for more edits before the one write); ``src`` may be a package
    already read."""
    pkg = src if isinstance(src, Package) else Package.read(src)
    try:
        book = _Book(pkg)
        wanted = {v for found in changes.values() for v in found.cells.values() if isinstance(v, str)}
        strings = _SharedStrings(pkg, book.strings_part, wanted)
        styles = _DateStyles(pkg, book.styles_part)
        changed: dict[str, bytes] = {}
        sheets: dict[str, ZipEntry] = {}  # the edited worksheets, each held deflated once checked
        problems: dict[str, str | None] = {}
        formulas_removed = False
        for name, sheet_changes in changes.items():
            if not sheet_changes:
                continue
            part = book.sheet_part(name)
            doc = XmlText.decode_pieces(pkg.data.entry(part).pieces())  # its text only is held whole
            report = edit_sheet(doc.text, sheet_changes, strings=strings, styles=styles, date1904=book.date1904)
            formulas_removed = formulas_removed or report.formulas_removed
            if not report.edit.unchanged():
                # Encoded, checked and deflated piece by piece: a large sheet is held once, as read, then deflated.
                check = XmlCheck()
                sheets[part] = packed_pieces(pkg.data.entry(part), _checked(doc, report.edit.pieces(), check))
                problems[part] = check.problem()
            del doc, report  # a large sheet's text, before the next one is read
        if names:
            renamed = _rename(pkg, book.part, names)
            if renamed is not None:
                changed[book.part] = renamed
        for kept, data in ((book.strings_part, strings.result()), (book.styles_part, styles.result())):
            if kept is not None and data is not None:
                changed[kept] = data
        removed = _stale_calc_chain(pkg, book, changed) if formulas_removed else set()
    except Unsupported as exc:
        raise unusable(pkg.path, exc) from None
    for name in pkg.data:  # in the archive's order, so that the first broken part is the one named
        if name in removed:
            continue
        if name in changed:
            problems[name] = xml_problem(changed[name])
        if problems.get(name) is not None:  # a bug here must never produce a broken workbook
            raise OutputError(f"editing {name} went wrong ({problems[name]}); please report this with the workbook")
    sheets.update((name, packed(pkg.data.entry(name), data)) for name, data in changed.items() if name in pkg.data)
    return pkg.derive(pkg.edited(sheets, removed, []))


def _checked(doc: XmlText, pieces: Iterable[str], check: XmlCheck) -> Iterator[bytes]:
    """The pieces of an edited part's text encoded as the part was (its byte order mark first), each fed to ``check``
    as it goes by."""
    for data in itertools.chain([doc.bom], (piece.encode(doc.encoding) for piece in pieces)):
        if data:
            check.feed(data)
            yield data


_VALIDATION = re.compile(r"""<(?:[A-Za-z_][\w.-]*:)?dataValidation\s[^>]*?\bsqref\s*=\s*["']([^"']*)["']""")


_CELL_DATA_END = b"sheetData>"
_PIECE = 1 << 20  # bytes inflated at a time
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
_END_TAG_HEAD = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?")


def after_cell_data(zf: zipfile.ZipFile, part: str) -> bytes:
    """What :func:`validation_ranges` needs of a worksheet part in the archive ``zf``: the part from the end tag of
    its cell data on, inflated a piece at a time, so that a large sheet is never held whole (nor twice, as a whole
    read holds it); the whole part when it has no such end tag or is in UTF-16."""
    held = b""
    with zf.open(part) as stream:
        while piece := stream.read(_PIECE):
            if not held and piece.startswith(_UTF16_STARTS):
                return piece + stream.read()
            held += piece
            if held.startswith(_CELL_DATA_END):
                continue  # found: the rest of the part is kept
            at = held.rfind(_CELL_DATA_END)
            tag = held.rfind(b"<", 0, at) if at > 0 else -1
            ended = tag >= 0 and _END_TAG_HEAD.fullmatch(held, tag, at)
            held = held[at:] if ended else held[-64:]  # (kept: a tag cut between two pieces)
    return held if held.startswith(_CELL_DATA_END) else zf.read(part)


def validation_ranges(data: bytes) -> list[Range]:
    """The ranges of the plain data validations of the worksheet part ``data`` (0-based, inclusive); raises
    :class:`Unsupported` for a part in an encoding it cannot read.

    Read by pattern from the part's text after its cell data (where the schema puts them), so a large sheet is
    never parsed for them; Excel 2010 extended validations carry their ranges in ``<xm:sqref>``, not here.
    """
    utf16 = data.startswith(_UTF16_STARTS)
    cut = -1 if utf16 else data.rfind(_CELL_DATA_END)
    # Only the text after the cell data is decoded (in UTF-8, "sheetData>" starts on a character).
    text = XmlText.decode(data[cut:] if cut > 0 else data).text
    return [
        found
        for m in _VALIDATION.finditer(text, max(0, text.rfind(_CELL_DATA_END.decode())))
        for item in unescape(m.group(1)).split()
        if (found := parse_range(item)) is not None
    ]


def defined_names(src: Path | Package) -> dict[str, str]:
    """The workbook-level defined names and their formula texts (without ``=``)."""
    pkg = src if isinstance(src, Package) else Package.read(src)
    try:
        part = workbook_part(pkg)
        doc, root = pkg.xml(part)
    except Unsupported as exc:
        raise unusable(pkg.path, exc) from None
    holder = root.first(MAIN_NS, "definedNames")
    out: dict[str, str] = {}
    for node in holder.find(MAIN_NS, "definedName") if holder is not None else []:
        if node.get("localSheetId") is None and not node.empty:
            out.setdefault(node.get("name") or "", unescape(doc.text[node.end : node.close_start]))
    return out


def _rename(pkg: Package, part: str, names: Mapping[str, str]) -> bytes | None:
    doc, root = pkg.xml(part)
    holder = root.first(MAIN_NS, "definedNames")
    edit = Editor(doc.text)
    for node in holder.find(MAIN_NS, "definedName") if holder is not None else []:
        new = names.get(node.get("name") or "")
        if new is not None and node.get("localSheetId") is None and not node.empty:
            edit.replace(node.end, node.close_start, escape_text(new))
    return doc.encode(edit.result()) if edit.changed else None


def worksheet_parts(src: Path | Package) -> dict[str, str]:
    """Sheet name -> the zip name of its worksheet part, in tab order."""
    pkg = src if isinstance(src, Package) else Package.read(src)
    try:
        return {s.name: s.part for s in _Book(pkg).sheets}
    except Unsupported as exc:
        raise unusable(pkg.path, exc) from None


def _stale_calc_chain(pkg: Package, book: _Book, changed: dict[str, bytes]) -> set[str]:
    """Drop the calculation chain (and its relationship and content type): Excel rebuilds it."""
    rel = next((r for r in book.rels if r.type == REL_CALC_CHAIN and r.part), None)
    if rel is None or rel.part is None:
        return set()
    rels_part = pkg.name(rels_name(book.part)) or rels_name(book.part)
    doc, _ = pkg.xml(rels_part)
    edit = Editor(doc.text)
    edit.remove(rel.node)
    changed[rels_part] = doc.encode(edit.result())
    ct = ContentTypes.read(pkg)
    override = ct.overrides.get(rel.part.lower())
    if override is not None:
        ct_edit = Editor(ct.doc.text)
        ct_edit.remove(override)
        changed[pkg.name(CONTENT_TYPES) or CONTENT_TYPES] = ct.doc.encode(ct_edit.result())
    return {rel.part}
