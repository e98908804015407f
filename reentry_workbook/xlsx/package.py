"""Grafts one worksheet of a scratch workbook into a copy of a member's workbook, part by part.

Loading a member's workbook with openpyxl and saving it drops what openpyxl does not model (text boxes,
threaded comments, Excel 2010+ extensions, ...). Instead, the member's package is copied zip member by zip
member, and the new sheet's parts are added beside them. Only these parts of the member's package can
change (``MAY_CHANGE`` names them by role; ``parts_graft_may_change`` finds their names in a file):

- ``[Content_Types].xml``: content types of the new parts (and of removed ones);
- the workbook part (found through ``_rels/.rels``): the new ``<sheet>``, sheet positions in defined names
  (``localSheetId``) and book views (``activeTab``, ``firstSheet``), the new sheet's own defined names;
- the workbook's relationships part: the relationship to the new sheet;
- the styles part: the fonts, fills, borders, number formats, cell formats and differential formats the
  new sheet uses, appended only when the member's styles do not already hold an identical one (so auditing
  an audited workbook again leaves it byte-identical).

Everything else comes out byte-identical under its own name, except the parts of a sheet being replaced
(a previous audit's summary: its sheet part and whatever only it referenced) and, when that sheet held
formulas, the calculation chain (``calcChain.xml``: a cache Excel rebuilds). ``docProps/app.xml`` lists
sheet titles for file browsers; Excel and LibreOffice ignore it on opening, so it is left as it was.

The member's XML is edited textually, at the offsets found by a small tokenizer, never parsed and
re-serialised: prefixes, declarations, ``mc:Ignorable`` lists and unknown extensions stay as they were.
The new sheet's shared strings become inline strings, so the member's ``sharedStrings.xml`` is untouched.
"""

from __future__ import annotations

import functools
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

import defusedxml.ElementTree as SafeET

from ..errors import OutputError, UnusableInputError, UsageError
from . import guard

# -- namespaces, relationship and content types ----------------------------------------------------------

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
XML_NS = "http://www.w3.org/XML/1998/namespace"

REL_OFFICE_DOCUMENT = REL_NS + "/officeDocument"
REL_STRICT_OFFICE_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
REL_WORKSHEET = REL_NS + "/worksheet"
REL_STYLES = REL_NS + "/styles"
REL_SHARED_STRINGS = REL_NS + "/sharedStrings"
REL_CALC_CHAIN = REL_NS + "/calcChain"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_RELATIONSHIPS = "application/vnd.openxmlformats-package.relationships+xml"

CONTENT_TYPES = "[Content_Types].xml"
ROOT_RELS = "_rels/.rels"

# The roles of the member parts a graft may rewrite; every other part is copied byte for byte.
MAY_CHANGE: tuple[str, ...] = ("content types", "workbook", "workbook relationships", "styles")

# Children of <styleSheet> and of <workbook> in the order the schema requires (for inserting a missing one).
STYLE_ORDER = (
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs", "tableStyles",
    "colors", "extLst",
)
WORKBOOK_ORDER = (
    "fileVersion", "fileSharing", "workbookPr", "AlternateContent", "revisionPtr", "workbookProtection",
    "bookViews", "sheets", "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize",
    "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing", "fileRecoveryPr",
    "webPublishObjects", "extLst",
)
FIRST_CUSTOM_NUMFMT = 164

# Parts a grafted sheet may not bring: their ids must be unique across the workbook (tables, pivots,
# slicers, timelines), which copying cannot promise. The summary sheet uses none of them.
UNSUPPORTED_KINDS = ("table+xml", "pivot", "slicer", "timeline", "queryTable")


class _Unsupported(Exception):
    """A package this module cannot edit safely; turned into a typed error with the file's name."""


# -- a tokenizer that keeps offsets ---------------------------------------------------------------------

_MARKUP = re.compile(
    r"<!--.*?-->"
    r"|<!\[CDATA\[.*?\]\]>"
    r"|<\?.*?\?>"
    r"|<!(?P<decl>[A-Za-z]+)"
    r"|<(?P<close>/)?(?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)"
    r"(?P<attrs>(?:\s+[^\s=/<>\"']+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(?P<empty>/)?>",
    re.S,
)
_ATTR = re.compile(r"([^\s=/<>\"']+)\s*=\s*(?:\"([^\"<]*)\"|'([^'<]*)')")
_CHAR_REF = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _unescape(raw: str) -> str:
    def sub(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _NAMED[ref]

    return _CHAR_REF.sub(sub, raw)


def _escape_attr(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    )


@dataclass
class _Attr:
    qname: str
    value: str  # unescaped
    span: tuple[int, int]  # offsets of the raw value, inside the quotes
    name_start: int  # offset of the attribute's name


@dataclass(eq=False)
class _Node:
    """An element of a parsed XML text: names, attributes and the offsets of its tags."""

    qname: str
    start: int  # offsets of the start tag
    end: int
    attrs: list[_Attr]
    nsmap: dict[str, str]
    parent: _Node | None
    empty: bool
    close_start: int = -1  # offsets of the end tag (equal to start/end for an empty element)
    close_end: int = -1
    children: list[_Node] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.qname.split(":", 1)[0] if ":" in self.qname else ""

    @property
    def local(self) -> str:
        return self.qname.split(":", 1)[-1]

    @property
    def ns(self) -> str | None:
        return self.nsmap.get(self.prefix)

    def is_(self, ns: str, local: str) -> bool:
        return self.local == local and self.ns == ns

    def attr(self, local: str, ns: str | None = None) -> _Attr | None:
        """The attribute ``local`` without a namespace, or in namespace ``ns``."""
        for a in self.attrs:
            if a.qname.startswith("xmlns"):
                continue
            prefix, _, name = a.qname.rpartition(":")
            if name != local:
                continue
            if ns is None and not prefix:
                return a
            if ns is not None and prefix and self.nsmap.get(prefix) == ns:
                return a
        return None

    def get(self, local: str, default: str | None = None, ns: str | None = None) -> str | None:
        a = self.attr(local, ns)
        return a.value if a else default

    def find(self, ns: str, local: str) -> list[_Node]:
        return [c for c in self.children if c.is_(ns, local)]

    def first(self, ns: str, local: str) -> _Node | None:
        found = self.find(ns, local)
        return found[0] if found else None

    def iter(self) -> Iterator[_Node]:
        yield self
        for child in self.children:
            yield from child.iter()

    def prefix_for(self, ns: str) -> str | None:
        """A prefix bound to ``ns`` where this element is ('' for the default namespace)."""
        if self.nsmap.get("") == ns:
            return ""
        for prefix, uri in self.nsmap.items():
            if uri == ns and prefix:
                return prefix
        return None


def _tokens(text: str) -> Iterator[re.Match[str]]:
    """The element tags of ``text``, in order (comments, CDATA and processing instructions are skipped);
    raise _Unsupported on anything that is not plain XML."""
    pos = 0
    find = text.find
    for m in _MARKUP.finditer(text):
        if find("<", pos, m.start()) >= 0:
            raise _Unsupported("markup the tokenizer does not understand")
        pos = m.end()
        if m.group("name") is None:
            if m.group("decl"):
                raise _Unsupported("a DOCTYPE or entity declaration")
            continue  # comment, CDATA, processing instruction
        yield m
    if find("<", pos) >= 0:
        raise _Unsupported("XML that ends early")


def _attributes(m: re.Match[str]) -> list[_Attr]:
    """The attributes of a start tag found by ``_tokens``, with the offsets of their values."""
    raw = m.group("attrs")
    if not raw:
        return []
    base = m.start("attrs")
    out: list[_Attr] = []
    for am in _ATTR.finditer(raw):
        group = 2 if am.group(2) is not None else 3
        value = am.group(group)
        if "&" in value:
            value = _unescape(value)
        out.append(_Attr(am.group(1), value, (base + am.start(group), base + am.end(group)), base + am.start(1)))
    return out


def _scope(outer: dict[str, str], attrs: list[_Attr]) -> dict[str, str]:
    """The namespace prefixes in force inside an element: ``outer``, or a copy with its declarations added.

    Elements that declare nothing share their parent's mapping, which is never changed afterwards.
    """
    scope = outer
    for a in attrs:
        if a.qname == "xmlns" or a.qname.startswith("xmlns:"):
            if scope is outer:
                scope = dict(outer)
            scope[a.qname[6:]] = a.value  # "" for the default namespace
    return scope


def _parse(text: str) -> _Node:
    """Parse ``text`` into offset-carrying nodes; raise _Unsupported on anything not plain XML."""
    root: _Node | None = None
    stack: list[_Node] = []
    base = {"xml": XML_NS}
    for m in _tokens(text):
        name = m.group("name")
        if m.group("close"):
            if not stack or stack[-1].qname != name:
                raise _Unsupported("an end tag that does not match its start tag")
            node = stack.pop()
            node.close_start, node.close_end = m.start(), m.end()
            continue
        parent = stack[-1] if stack else None
        attrs = _attributes(m)
        nsmap = _scope(parent.nsmap if parent is not None else base, attrs)
        node = _Node(name, m.start(), m.end(), attrs, nsmap, parent, bool(m.group("empty")))
        if parent is not None:
            parent.children.append(node)
        elif root is not None:
            raise _Unsupported("more than one root element")
        else:
            root = node
        if node.empty:
            node.close_start, node.close_end = node.start, node.end
        else:
            stack.append(node)
    if stack or root is None:
        raise _Unsupported("XML that ends early")
    return root


class _Editor:
    """Collects replacements at offsets of a text and applies them at once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.edits: list[tuple[int, int, int, str]] = []

    def replace(self, start: int, end: int, new: str) -> None:
        self.edits.append((start, end, len(self.edits), new))

    def insert(self, pos: int, new: str) -> None:
        self.replace(pos, pos, new)

    def remove(self, node: _Node) -> None:
        self.replace(node.start, node.close_end, "")

    def set_attr(self, node: _Node, qname: str, value: str) -> None:
        for a in node.attrs:
            if a.qname == qname:
                self.replace(a.span[0], a.span[1], _escape_attr(value))
                return
        tag_end = node.end - (2 if node.empty else 1)
        self.insert(tag_end, f' {qname}="{_escape_attr(value)}"')

    def drop_attr(self, attrs: list[_Attr], qname: str) -> None:
        for a in attrs:
            if a.qname == qname:
                start = a.name_start  # from the whitespace before the name to the closing quote
                while self.text[start - 1].isspace():
                    start -= 1
                self.replace(start, a.span[1] + 1, "")

    def append_children(self, node: _Node, items: str, count: int | None = None) -> None:
        """Add ``items`` as the last children of ``node`` (opening it up when it is empty)."""
        if not node.empty:
            self.insert(node.close_start, items)
            if count is not None:
                self.set_attr(node, "count", str(count))
            return
        head = self.text[node.start : node.end - 2].rstrip()
        found = node.attr("count")
        if count is not None and found is not None:
            head = self.text[node.start : found.span[0]] + str(count) + self.text[found.span[1] : node.end - 2].rstrip()
        elif count is not None:
            head += f' count="{count}"'
        self.replace(node.start, node.end, f"{head}>{items}</{node.qname}>")

    @property
    def changed(self) -> bool:
        return any(start != end or new for start, end, _, new in self.edits)

    def result(self) -> str:
        # In text order, joined once (linear in the text); at one offset the insertions made there come first,
        # in the order they were made, then a replacement starting there.
        pieces: list[str] = []
        pos = 0
        for start, end, _, new in sorted(self.edits, key=lambda e: (e[0], e[1] > e[0], e[2])):
            if start < pos:
                raise AssertionError("overlapping edits")
            pieces += (self.text[pos:start], new)
            pos = end
        pieces.append(self.text[pos:])
        return "".join(pieces)


# -- encodings ------------------------------------------------------------------------------------------


@dataclass
class _XmlText:
    text: str
    encoding: str
    bom: bytes

    @classmethod
    def decode(cls, data: bytes) -> _XmlText:
        for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
            if data.startswith(bom):
                return cls(data[len(bom) :].decode(enc), enc, bom)
        head = data[:100]
        if head.startswith(b"<\x00"):
            return cls(data.decode("utf-16-le"), "utf-16-le", b"")
        if head.startswith(b"\x00<"):
            return cls(data.decode("utf-16-be"), "utf-16-be", b"")
        return cls(data.decode("utf-8"), "utf-8", b"")

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.encoding)


# -- the package ----------------------------------------------------------------------------------------


@dataclass
class _Rel:
    id: str
    type: str
    target: str
    external: bool
    node: _Node
    part: str | None  # resolved zip name of the target (internal, existing parts only)


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zip local file header (APPNOTE 4.3.7)
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")  # central directory file header (4.3.12)
_END_RECORD = struct.Struct("<4s4H2LH")  # end of central directory record (4.3.16)


def _read_members(path: Path, infos: list[zipfile.ZipInfo]) -> tuple[dict[str, bytes], dict[str, memoryview]]:
    """Every part's bytes, and its bytes as stored in the archive, from one read of the file.

    Each part is inflated here from the stored bytes and checked against the size and CRC the archive declares,
    so a part copied as stored is exactly the part that was read. (The guard has already bounded every size.)
    """
    def damaged(reason: str) -> UnusableInputError:
        return UnusableInputError(f"{path.name} is damaged ({reason}); open it in Excel, save it again and retry")

    try:
        blob = memoryview(path.read_bytes())
    except OSError as exc:
        raise damaged(exc.strerror or "it cannot be read") from None
    data: dict[str, bytes] = {}
    stored: dict[str, memoryview] = {}
    for info in infos:
        at = info.header_offset
        head = bytes(blob[at : at + _LOCAL_HEADER.size])
        if len(head) != _LOCAL_HEADER.size or not head.startswith(b"PK\x03\x04"):
            raise damaged(f"the part {info.filename} has no local header")
        name_len, extra_len = _LOCAL_HEADER.unpack(head)[-2:]
        name_at = at + _LOCAL_HEADER.size
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        if bytes(blob[name_at : name_at + name_len]) != info.orig_filename.encode(encoding, "replace"):
            raise damaged(f"the part {info.filename} is named differently in its local header")
        begin = name_at + name_len + extra_len
        raw = blob[begin : begin + info.compress_size]
        if len(raw) != info.compress_size:
            raise damaged(f"the part {info.filename} is cut short")
        if info.compress_type == zipfile.ZIP_STORED:
            content = bytes(raw)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                content = inflater.decompress(raw, info.file_size + 1)
            except zlib.error as exc:
                raise damaged(f"the part {info.filename} cannot be inflated: {exc}") from None
            if not inflater.eof:
                raise damaged(f"the part {info.filename} is cut short")
        else:
            raise damaged(f"the part {info.filename} uses compression method {info.compress_type}")
        if len(content) != info.file_size or zlib.crc32(content) != info.CRC:
            raise damaged(f"the part {info.filename} fails its checksum")
        data[info.filename] = content
        stored[info.filename] = raw
    return data, stored


class _Package:
    """A zip package read into memory (coalition workbooks are small; the guard bounds them)."""

    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.path = path
        self.entries = zf.infolist()  # every zip entry, folders included, in the archive's order
        self.infos = [i for i in self.entries if not i.is_dir()]
        self.comment = zf.comment
        # data: each part's bytes; stored: the same part as it sits in the archive (compressed), so that a copy
        # of an unchanged part is written without compressing it again.
        self.data, self.stored = _read_members(path, self.infos)
        self.lower = {name.lower(): name for name in self.data}
        if len(self.lower) != len(self.infos):
            raise UnusableInputError(
                f"{path.name} holds two entries with the same name; open it in Excel, save it again and retry"
            )
        self._xml: dict[str, tuple[_XmlText, _Node]] = {}
        self._rels: dict[str, list[_Rel]] = {}

    @classmethod
    def read(cls, path: Path) -> _Package:
        with guard.open_package(path) as zf:
            return cls(path, zf)

    def name(self, part: str) -> str | None:
        """The zip name of ``part`` (part names are case-insensitive)."""
        return self.lower.get(part.lstrip("/").lower())

    def xml(self, part: str) -> tuple[_XmlText, _Node]:
        if part not in self._xml:
            raw = self.data[part]
            try:
                SafeET.fromstring(raw)  # well-formed, and no entity tricks
                doc = _XmlText.decode(raw)
                self._xml[part] = (doc, _parse(doc.text))
            except _Unsupported:
                raise
            except Exception as exc:
                raise _Unsupported(f"{part} is not well-formed XML ({exc})") from None
        return self._xml[part]

    def rels(self, source: str) -> list[_Rel]:
        """Relationships of part ``source`` ('' for the package itself)."""
        if source in self._rels:
            return self._rels[source]
        name = self.name(rels_name(source))
        if name is None:
            return []
        _, root = self.xml(name)
        out: list[_Rel] = []
        for node in root.children:
            if node.local != "Relationship":
                continue
            target = node.get("Target") or ""
            external = (node.get("TargetMode") or "").lower() == "external"
            part = None if external else self.name(resolve_target(source, target) or "")
            out.append(_Rel(node.get("Id") or "", node.get("Type") or "", target, external, node, part))
        self._rels[source] = out
        return out


def rels_name(part: str) -> str:
    """Name of the relationships part of ``part`` ('' is the package itself)."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve_target(source: str, target: str) -> str | None:
    """Zip name a relationship target points to, or None when it leaves the package."""
    target = unquote(target.split("#", 1)[0])
    if not target:
        return None
    path = target[1:] if target.startswith("/") else posixpath.join(posixpath.dirname(source), target)
    path = posixpath.normpath(path)
    if path.startswith("..") or path.startswith("/") or path == ".":
        return None
    return path


def _relative(source: str, part: str) -> str:
    return quote(posixpath.relpath(part, posixpath.dirname(source) or "."), safe="/-._~")


def _closure(pkg: _Package, start: str) -> list[str]:
    """``start`` and every part reachable from it through internal relationships, in discovery order."""
    seen = [start]
    queue = [start]
    while queue:
        part = queue.pop(0)
        for rel in pkg.rels(part):
            if rel.part and rel.part not in seen:
                seen.append(rel.part)
                queue.append(rel.part)
    return seen


def _reachable(pkg: _Package, skip: tuple[str, str] | None) -> set[str]:
    """Parts reachable from the package root, ignoring relationship ``skip`` = (source part, Id)."""
    seen: set[str] = set()
    queue = [""]
    while queue:
        part = queue.pop()
        for rel in pkg.rels(part):
            if skip and part == skip[0] and rel.id == skip[1]:
                continue
            if rel.part and rel.part not in seen:
                seen.add(rel.part)
                queue.append(rel.part)
    return seen


@dataclass
class _ContentTypes:
    doc: _XmlText
    root: _Node
    defaults: dict[str, str]
    overrides: dict[str, _Node]

    @classmethod
    def read(cls, pkg: _Package) -> _ContentTypes:
        name = pkg.name(CONTENT_TYPES)
        if name is None:
            raise _Unsupported("the package has no [Content_Types].xml")
        doc, root = pkg.xml(name)
        defaults = {
            (n.get("Extension") or "").lower(): n.get("ContentType") or ""
            for n in root.children
            if n.local == "Default"
        }
        overrides = {(n.get("PartName") or "").lstrip("/").lower(): n for n in root.children if n.local == "Override"}
        return cls(doc, root, defaults, overrides)

    def of(self, part: str) -> str | None:
        node = self.overrides.get(part.lower())
        if node is not None:
            return node.get("ContentType")
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        return self.defaults.get(ext)


# -- public API -----------------------------------------------------------------------------------------


def parts_graft_may_change(path: Path) -> frozenset[str]:
    """Zip names of the member parts ``graft_sheet`` may rewrite in a copy of the workbook at ``path``."""
    pkg = _Package.read(path)
    try:
        workbook = _workbook_part(pkg)
        names = {CONTENT_TYPES, workbook, rels_name(workbook)}
        names.update(r.part for r in pkg.rels(workbook) if r.type == REL_STYLES and r.part)
        return frozenset(pkg.name(n) or n for n in names)
    except _Unsupported as exc:
        raise _unusable(path, exc) from None


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, in tab order."""
    pkg = _Package.read(path)
    try:
        _, root = pkg.xml(_workbook_part(pkg))
    except _Unsupported as exc:
        raise _unusable(path, exc) from None
    sheets = root.first(MAIN_NS, "sheets")
    return [s.get("name") or "" for s in sheets.find(MAIN_NS, "sheet")] if sheets else []


def graft_sheet(src: Path, scratch: Path, dest: Path, *, sheet_name: str, position: int = 0) -> None:
    """Write to ``dest`` a copy of the workbook ``src`` with the sheet ``sheet_name`` of ``scratch`` added.

    The sheet goes to tab ``position`` (0 = first). A sheet of the same name in ``src`` (a previous audit's
    summary) is replaced, with the parts only it used. ``src`` is only read; every part of it other than
    those named in the module docstring is copied byte for byte.
    """
    member = _Package.read(src)
    try:
        donor = _Package.read(scratch)
    except UnusableInputError as exc:
        raise OutputError(f"the scratch summary workbook cannot be read ({exc}); please report this") from None
    try:
        entries = _Graft(member, donor, sheet_name, max(0, position)).run()
    except _Unsupported as exc:
        raise _unusable(src, exc) from None
    _write(dest, entries, member.comment)


def remove_sheet(src: Path, dest: Path, *, sheet_name: str) -> None:
    """Write to ``dest`` a copy of ``src`` without the sheet ``sheet_name`` and the parts only it used."""
    names = [n.casefold() for n in sheet_names(src)]
    if sheet_name.casefold() not in names:
        raise UsageError(f"{src.name} has no sheet named {sheet_name!r}; check the name and try again")
    if len(names) < 2:
        raise UsageError(f"{sheet_name!r} is the only sheet of {src.name}, and a workbook needs one; keep it")
    member = _Package.read(src)
    try:
        entries = _Graft(member, None, sheet_name, 0).run()
    except _Unsupported as exc:
        raise _unusable(src, exc) from None
    _write(dest, entries, member.comment)


def _unusable(path: Path, exc: _Unsupported) -> UnusableInputError:
    return UnusableInputError(
        f"{path.name} cannot be updated safely ({exc}); open it in Excel or LibreOffice, save it as an "
        "Excel workbook (.xlsx) and try again"
    )


def _workbook_part(pkg: _Package) -> str:
    for rel in pkg.rels(""):
        if rel.type == REL_STRICT_OFFICE_DOCUMENT:
            raise _Unsupported("it is saved as Strict Open XML")
        if rel.type == REL_OFFICE_DOCUMENT and rel.part:
            return rel.part
    raise _Unsupported("it has no workbook part")


# -- the graft ------------------------------------------------------------------------------------------


@dataclass
class _Entry:
    name: str
    data: bytes
    info: zipfile.ZipInfo | None  # the member's zip entry it replaces or copies; None for a new part
    stored: memoryview | None = None  # an unchanged part's bytes as stored in the member's archive


@dataclass
class _DonorSheet:
    part: str
    text: _XmlText  # the sheet part, read as a stream of tags (it can be large), never parsed into nodes
    names: list[_Node]  # the donor workbook's defined names local to this sheet
    names_text: str
    styles: str | None
    strings: list[str]  # raw inner XML of each <si>, in the donor sheet's namespace prefixes


class _Graft:
    def __init__(self, member: _Package, donor: _Package | None, sheet_name: str, position: int) -> None:
        self.m = member
        self.d = donor
        self.sheet_name = sheet_name
        self.position = position
        self.changed: dict[str, bytes] = {}
        self.removed: set[str] = set()
        self.added: list[tuple[str, bytes]] = []
        self.taken = {n.lower() for n in member.data}
        self.new_local_names: list[str] = []
        self.new_rel_ids: set[str] = set()
        self._donor_ct: _ContentTypes | None = None

    # ---- overview

    def run(self) -> list[_Entry]:
        m = self.m
        self.wb_part = _workbook_part(m)
        self.wb_rels_part = m.name(rels_name(self.wb_part)) or rels_name(self.wb_part)
        self.wb_doc, self.wb = m.xml(self.wb_part)
        if self.wb.ns == STRICT_MAIN_NS:
            raise _Unsupported("it is saved as Strict Open XML")
        if not self.wb.is_(MAIN_NS, "workbook"):
            raise _Unsupported("its workbook part is not a spreadsheet workbook")
        self.wb_edit = _Editor(self.wb_doc.text)
        self.rels = m.rels(self.wb_part)
        if m.name(self.wb_rels_part) is None:
            raise _Unsupported("its workbook has no relationships part")
        self.rels_doc, self.rels_root = m.xml(self.wb_rels_part)
        self.rels_edit = _Editor(self.rels_doc.text)
        self.ct = _ContentTypes.read(m)
        self.ct_edit = _Editor(self.ct.doc.text)
        self.ct_new: list[str] = []

        sheets_node = self.wb.first(MAIN_NS, "sheets")
        if sheets_node is None:
            raise _Unsupported("its workbook lists no sheets")
        self.sheets_node = sheets_node
        self.sheet_nodes = sheets_node.find(MAIN_NS, "sheet")
        old_index = next(
            (i for i, s in enumerate(self.sheet_nodes)
             if (s.get("name") or "").casefold() == self.sheet_name.casefold()),
            None,
        )
        if self.d is None and (old_index is None or len(self.sheet_nodes) < 2):
            raise _Unsupported(f"the sheet {self.sheet_name!r} cannot be removed")

        self.old_index = old_index
        old_sheet_id = None
        if old_index is not None:
            old_sheet_id = self._remove_old_sheet(self.sheet_nodes[old_index])
        remaining = len(self.sheet_nodes) - (1 if old_index is not None else 0)
        self.position = min(self.position, remaining)
        keep_selected = False
        if self.d is not None:
            keep_selected = old_index is not None and self._active_index() == old_index
            self._add_new_sheet(old_sheet_id, keep_selected)
        self._shift_positions(keep_selected)

        self._commit(self.wb_part, self.wb_doc, self.wb_edit)
        self._commit(self.wb_rels_part, self.rels_doc, self.rels_edit)
        if self.ct_new:
            close = self.ct.root.close_start
            self.ct_edit.insert(close, "".join(self.ct_new))
        self._commit(m.name(CONTENT_TYPES) or CONTENT_TYPES, self.ct.doc, self.ct_edit)
        return self._entries()

    def _commit(self, part: str, doc: _XmlText, editor: _Editor) -> None:
        if not editor.changed:
            return
        data = doc.encode(editor.result())
        try:
            SafeET.fromstring(data)
        except Exception as exc:  # a bug here must never produce a broken workbook
            raise OutputError(f"editing {part} went wrong ({exc}); please report this with the workbook") from None
        if data != self.m.data[part]:
            self.changed[part] = data

    def _entries(self) -> list[_Entry]:
        out = [
            _Entry(info.filename, self.changed[info.filename], info)
            if info.filename in self.changed
            else _Entry(info.filename, self.m.data.get(info.filename, b""), info, self.m.stored.get(info.filename))
            for info in self.m.entries
            if info.filename not in self.removed
        ]
        out.extend(_Entry(name, data, None) for name, data in self.added)
        return out

    # ---- removing the old sheet

    def _active_index(self) -> int:
        views = self.wb.first(MAIN_NS, "bookViews")
        view = views.first(MAIN_NS, "workbookView") if views else None
        try:
            return int(view.get("activeTab") or 0) if view else 0
        except ValueError:
            return 0

    def _remove_old_sheet(self, node: _Node) -> int | None:
        """Drop the sheet entry, its relationship and the parts only it used; return its sheetId."""
        rid = node.get("id", ns=REL_NS)
        rel = next((r for r in self.rels if r.id == rid), None)
        self.wb_edit.remove(node)
        if rel is not None:
            self.rels_edit.remove(rel.node)
            if rel.part:
                reachable = _reachable(self.m, (self.wb_part, rel.id))
                for part in _closure(self.m, rel.part):
                    if part not in reachable:
                        self._remove_part(part)
        try:
            sheet_id = int(node.get("sheetId") or "")
        except ValueError:
            return None
        self._drop_stale_calc_chain(sheet_id)
        return sheet_id

    def _remove_part(self, part: str) -> None:
        self.removed.add(part)
        rels = self.m.name(rels_name(part))
        if rels:
            self.removed.add(rels)
        for name in (part, rels):
            override = self.ct.overrides.get((name or "").lower())
            if name and override is not None:
                self.ct_edit.remove(override)

    def _drop_stale_calc_chain(self, sheet_id: int) -> None:
        """Remove calcChain.xml (a cache Excel rebuilds) when it lists cells of the removed sheet."""
        for rel in self.rels:
            if rel.type != REL_CALC_CHAIN or not rel.part:
                continue
            _, root = self.m.xml(rel.part)
            current = 0
            for c in root.children:
                value = (c.get("i") or "").strip()
                current = int(value) if value.isdigit() else current
                if current == sheet_id:
                    self.rels_edit.remove(rel.node)
                    self._remove_part(rel.part)
                    return

    # ---- adding the new sheet

    def _add_new_sheet(self, old_sheet_id: int | None, keep_selected: bool) -> None:
        pkg = self.d
        assert pkg is not None
        donor = self._donor_sheet()
        style_map, dxf_map = _StyleMerge(self, donor).run()
        closure = _closure(pkg, donor.part)
        new_names: dict[str, str] = {}
        for part in closure:
            kind = self._donor_type(part)
            if any(word in kind for word in UNSUPPORTED_KINDS):
                raise OutputError(f"the sheet to add holds a part ({kind}) that cannot be copied; please report this")
            new_names[part] = self._fresh_name(part)
            self.taken.add(new_names[part].lower())
        for part in closure:
            new = new_names[part]
            data = (
                _rewrite_sheet(donor, style_map, dxf_map, keep_selected) if part == donor.part else pkg.data[part]
            )
            self._add_part(new, data, self._donor_type(part))
            rels = pkg.rels(part)
            if rels:
                self._add_part(rels_name(new), _write_rels(new, rels, new_names), CT_RELATIONSHIPS)

        # The workbook's relationship and <sheet> entry.
        rid = self._fresh_rel_id()
        rel_prefix = self.rels_root.prefix
        tag = f"{rel_prefix}:Relationship" if rel_prefix else "Relationship"
        target = _relative(self.wb_part, new_names[donor.part])
        self.rels_edit.insert(
            self.rels_root.close_start,
            f'<{tag} Id="{rid}" Type="{REL_WORKSHEET}" Target="{_escape_attr(target)}"/>',
        )
        sheet_ids = [int(s.get("sheetId") or 0) for s in self.sheet_nodes if (s.get("sheetId") or "").isdigit()]
        sheet_id = max([*sheet_ids, old_sheet_id or 0, 0]) + 1
        p = self.wb.prefix
        mp = f"{p}:" if p else ""
        r_prefix = self.sheets_node.prefix_for(REL_NS)
        # A workbook that binds no prefix to the relationships namespace gets a local declaration.
        rattr = f'{r_prefix}:id="{rid}"' if r_prefix else f'r:id="{rid}" xmlns:r="{REL_NS}"'
        element = f'<{mp}sheet name="{_escape_attr(self.sheet_name)}" sheetId="{sheet_id}" {rattr}/>'
        remaining = [s for i, s in enumerate(self.sheet_nodes) if i != self.old_index]
        if self.position < len(remaining):
            self.wb_edit.insert(remaining[self.position].start, element)
        else:
            self.wb_edit.append_children(self.sheets_node, element)
        self.new_local_names = [
            _serialize(donor.names_text, n, mp, drop=("localSheetId",),
                       extra={"localSheetId": str(self.position)})
            for n in donor.names
        ]

    def _donor_sheet(self) -> _DonorSheet:
        d = self.d
        assert d is not None
        try:
            wb_part = _workbook_part(d)
            doc, wb = d.xml(wb_part)
            rels = d.rels(wb_part)
            sheets = wb.first(MAIN_NS, "sheets")
            nodes = sheets.find(MAIN_NS, "sheet") if sheets else []
            index, node = next(
                (i, s) for i, s in enumerate(nodes) if (s.get("name") or "") == self.sheet_name
            )
            rid = node.get("id", ns=REL_NS)
            part = next(r.part for r in rels if r.id == rid and r.part)
        except (StopIteration, _Unsupported) as exc:
            raise OutputError(f"the scratch workbook has no usable sheet {self.sheet_name!r} ({exc})") from None
        names_node = wb.first(MAIN_NS, "definedNames")
        names = [n for n in names_node.find(MAIN_NS, "definedName") if n.get("localSheetId") == str(index)] \
            if names_node else []
        sheet_doc = _XmlText.decode(d.data[part])
        styles = next((r.part for r in rels if r.type == REL_STYLES and r.part), None)
        strings: list[str] = []
        sst = next((r.part for r in rels if r.type == REL_SHARED_STRINGS and r.part), None)
        if sst:
            try:
                cell_prefix = next(_tokens(sheet_doc.text)).group("name").rpartition(":")[0]
            except (StopIteration, _Unsupported) as exc:
                raise OutputError(f"the scratch summary sheet is not plain XML ({exc}); please report this") from None
            prefix = f"{cell_prefix}:" if cell_prefix else ""
            found = _plain_shared_strings(_XmlText.decode(d.data[sst]).text, prefix)
            if found is None:
                sst_doc, sst_root = d.xml(sst)
                found = [_serialize(sst_doc.text, si, prefix, inner_only=True) for si in sst_root.find(MAIN_NS, "si")]
            strings = found
        return _DonorSheet(part, sheet_doc, names, doc.text, styles, strings)

    def _donor_type(self, part: str) -> str:
        if self._donor_ct is None:
            assert self.d is not None
            self._donor_ct = _ContentTypes.read(self.d)
        found = self._donor_ct.of(part)
        if not found:
            raise OutputError(f"the scratch workbook gives no content type for {part}; please report this")
        return found

    def _add_part(self, name: str, data: bytes, content_type: str) -> None:
        self.added.append((name, data))
        self.taken.add(name.lower())
        ext = posixpath.splitext(name)[1].lstrip(".").lower()
        if self.ct.defaults.get(ext) != content_type:
            prefix = self.ct.root.prefix
            tag = f"{prefix}:Override" if prefix else "Override"
            self.ct_new.append(
                f'<{tag} PartName="/{_escape_attr(name)}" ContentType="{_escape_attr(content_type)}"/>'
            )

    def _fresh_name(self, part: str) -> str:
        """A name like ``part`` numbered past every existing part of that kind in the member package."""
        folder, base = posixpath.split(part)
        m = re.fullmatch(r"(.*?)(\d*)(\.[^.]*)?", base)
        assert m is not None
        stem, ext = m.group(1), m.group(3) or ""
        pattern = re.compile(re.escape((folder + "/" + stem).lower().lstrip("/")) + r"(\d+)" + re.escape(ext.lower()))
        numbers = [int(x.group(1)) for n in self.taken if (x := pattern.fullmatch(n))]
        number = max(numbers, default=0) + 1
        name = posixpath.join(folder, f"{stem}{number}{ext}")
        while name.lower() in self.taken:
            number += 1
            name = posixpath.join(folder, f"{stem}{number}{ext}")
        return name

    def _fresh_rel_id(self) -> str:
        """An Id no relationship of the workbook has, or had before this graft."""
        ids = {r.id for r in self.rels} | self.new_rel_ids
        numbers = [int(i[3:]) for i in ids if i.startswith("rId") and i[3:].isdigit()]
        rid = f"rId{max(numbers, default=0) + 1}"
        self.new_rel_ids.add(rid)
        return rid

    # ---- positions: defined names and book views

    def _new_index(self, i: int) -> int:
        """Where the member's sheet that was at tab ``i`` ends up."""
        if self.old_index is not None and i > self.old_index:
            i -= 1
        if self.d is not None and i >= self.position:
            i += 1
        return i

    def _shift_positions(self, keep_selected: bool) -> None:
        p = self.wb.prefix
        mp = f"{p}:" if p else ""
        names = self.wb.first(MAIN_NS, "definedNames")
        new_names = self.new_local_names
        kept = 0
        if names is not None:
            for n in names.find(MAIN_NS, "definedName"):
                local = n.attr("localSheetId")
                if local is None or not local.value.strip().isdigit():
                    kept += 1
                    continue
                index = int(local.value)
                if index == self.old_index:
                    self.wb_edit.remove(n)
                    continue
                kept += 1
                moved = self._new_index(index)
                if moved != index:
                    self.wb_edit.replace(local.span[0], local.span[1], str(moved))
            if new_names:
                self.wb_edit.append_children(names, "".join(new_names))
            elif kept == 0:
                self.wb_edit.remove(names)
        elif new_names:
            anchor = self._insert_point("definedNames")
            self.wb_edit.insert(anchor, f"<{mp}definedNames>{''.join(new_names)}</{mp}definedNames>")

        views = self.wb.first(MAIN_NS, "bookViews")
        view_nodes = views.find(MAIN_NS, "workbookView") if views else []
        for view in view_nodes:
            self._shift_view(view, keep_selected)
        if views is None and self.d is not None:
            active = self._new_index(0) if self.old_index != 0 else self.position
            if active != 0:
                anchor = self._insert_point("bookViews")
                self.wb_edit.insert(
                    anchor, f'<{mp}bookViews><{mp}workbookView activeTab="{active}"/></{mp}bookViews>'
                )

    def _shift_view(self, view: _Node, keep_selected: bool) -> None:
        def number(name: str) -> int:
            value = view.get(name)
            return int(value) if value and value.strip().isdigit() else 0

        active = number("activeTab")
        if active == self.old_index:
            new_active = self.position if self.d is not None else max(0, min(active, self._count_after() - 1))
        else:
            new_active = self._new_index(active)
        if new_active != active:
            self.wb_edit.set_attr(view, "activeTab", str(new_active))
        first = number("firstSheet")
        first_new = first - 1 if self.old_index is not None and first > self.old_index else first
        if self.d is not None and first_new > self.position:
            first_new += 1
        if first_new != first:
            self.wb_edit.set_attr(view, "firstSheet", str(first_new))

    def _count_after(self) -> int:
        return len(self.sheet_nodes) - (self.old_index is not None) + (self.d is not None)

    def _insert_point(self, local: str) -> int:
        """Offset where a missing child ``local`` of <workbook> goes, by the schema's order."""
        later = WORKBOOK_ORDER[WORKBOOK_ORDER.index(local) + 1 :]
        for child in self.wb.children:
            if child.local in later:
                return child.start
        return self.wb.close_start


# -- rewriting the donor sheet --------------------------------------------------------------------------


def _rewrite_sheet(donor: _DonorSheet, style_map: dict[int, int], dxf_map: dict[int, int],
                   keep_selected: bool) -> bytes:
    """The donor sheet with the member's style indices, without ``tabSelected`` (unless it keeps the selection)
    and with its shared strings written inline.

    A summary of a large plan has tens of thousands of cells, so the sheet is never parsed into nodes: it is
    read as a stream of tags, or, when it is as plain as XlsxWriter writes it, its few kinds of edited tags are
    found by pattern (both give the same bytes).
    """
    text = donor.text.text
    try:
        result = _rewrite_plain_tags(text, donor.strings, style_map, dxf_map, keep_selected)
        if result is None:
            edit = _Editor(text)
            _rewrite_tags(edit, donor.strings, style_map, dxf_map, keep_selected)
            result = edit.result()
    except _Unsupported as exc:
        raise OutputError(f"the scratch summary sheet is not plain XML ({exc}); please report this") from None
    return donor.text.encode(result)


def _edit_tag(edit: _Editor, local: str, attrs: list[_Attr], style_map: dict[int, int], dxf_map: dict[int, int],
              keep_selected: bool) -> _Attr | None:
    """The edits of one start tag of the donor sheet; returns the ``t`` attribute of a shared-string cell."""
    if local in ("c", "row"):
        _remap_attr(edit, attrs, "s", style_map)
        if local == "c":
            t = _attr(attrs, "t")
            if t is not None and t.value == "s":
                return t
    elif local == "col":
        _remap_attr(edit, attrs, "style", style_map)
    elif local == "cfRule":
        _remap_attr(edit, attrs, "dxfId", dxf_map)
    elif local == "sheetView" and not keep_selected and _attr(attrs, "tabSelected") is not None:
        edit.drop_attr(attrs, "tabSelected")
    return None


def _rewrite_tags(edit: _Editor, strings: list[str], style_map: dict[int, int], dxf_map: dict[int, int],
                  keep_selected: bool) -> None:
    """The edits of :func:`_rewrite_sheet`, reading the sheet as a stream of tags (any well-formed sheet)."""
    text = edit.text
    base = {"xml": XML_NS}
    stack: list[tuple[str, dict[str, str]]] = []  # (qname, namespace scope) of the open elements
    cell: _SharedCell | None = None  # the shared-string cell being read
    for m in _tokens(text):
        close, name, raw_attrs, empty = m.group("close", "name", "attrs", "empty")
        if close:
            if not stack or stack[-1][0] != name:
                raise _Unsupported("an end tag that does not match its start tag")
            stack.pop()
            if cell is not None:
                if len(stack) == cell.depth:
                    _inline_string(edit, cell, m.start(), strings)
                    cell = None
                elif cell.value_open and len(stack) == cell.depth + 1 and cell.value is not None:
                    cell.value = (cell.value[0], m.start())
                    cell.value_open = False
            continue
        scope = stack[-1][1] if stack else base
        attrs = _attributes(m) if "xmlns" in raw_attrs else None
        if attrs:
            scope = _scope(scope, attrs)
        prefix, _, local = name.rpartition(":")
        if local in _SHEET_TAGS and scope.get(prefix) == MAIN_NS:
            if local == "v":
                if cell is not None and cell.value is None and len(stack) == cell.depth + 1:
                    cell.value = (m.end(), m.end())
                    cell.value_open = not empty
            else:
                t = _edit_tag(edit, local, attrs if attrs is not None else _attributes(m), style_map, dxf_map,
                              keep_selected)
                if t is not None:
                    cell = _SharedCell(len(stack), prefix, m.end(), t.span)
                    if empty:
                        _inline_string(edit, cell, m.end(), strings)
                        cell = None
        if not empty:
            stack.append((name, scope))
    if stack:
        raise _Unsupported("XML that ends early")


class _NotPlain(Exception):
    """The donor sheet is not as plain as _rewrite_plain_tags needs; the stream of tags takes over."""


def _rewrite_plain_tags(text: str, strings: list[str], style_map: dict[int, int], dxf_map: dict[int, int],
                        keep_selected: bool) -> str | None:
    """:func:`_rewrite_sheet`'s result, finding the edited tags by pattern; None when the sheet is not plain.

    Plain: no comment, CDATA section, processing instruction or namespace declaration after the root's start
    tag, one prefix for the spreadsheet namespace, and every shared-string cell written ``<v>N</v></c>``. In
    such a text every ``<`` opens a tag, so the pattern finds exactly the start tags the stream would.
    """
    root = next(_tokens(text), None)
    if root is None or root.group("close"):
        return None
    body = root.end()
    if "<!" in text or text.find("<?", body) >= 0 or text.find("xmlns", body) >= 0:
        return None
    scope = _scope({"xml": XML_NS}, _attributes(root))
    bound = [prefix for prefix, ns in scope.items() if ns == MAIN_NS]
    if len(bound) != 1:
        return None
    prefix = f"{bound[0]}:" if bound[0] else ""
    # Tags that read the same after their leading r="..." (most cells of a column, most rows) are edited the
    # same way: the edited rest of each kind of tag is worked out once, with the stream's own edit function.
    known: dict[tuple[str, str], tuple[str, bool]] = {}

    def rewrite(m: re.Match[str]) -> str:
        local, raw, tag, value = m.group("local", "attrs", "tag", "value")
        cut = m.start("attrs") - m.start() + (raw.find('"', 4) + 1 if raw.startswith(' r="') else 0)
        key = (local, tag[cut:])
        found = known.get(key)
        if found is None:
            probe = _Editor(m.string)  # offsets of m are in the searched text
            t = _edit_tag(probe, local, _attributes(m), style_map, dxf_map, keep_selected)
            if t is not None:
                probe.replace(t.span[0], t.span[1], "inlineStr")
            anchor = m.start() + cut
            rest = _Editor(key[1])
            for start, end, _, new in probe.edits:
                if start < anchor:
                    raise _NotPlain
                rest.replace(start - anchor, end - anchor, new)
            found = known[key] = (rest.result(), t is not None)
        rest, shared = found
        if not shared:
            return tag[:cut] + rest + (m.group("content") or "")
        index = (_unescape(value) if "&" in value else value).strip() if value is not None else ""
        if value is None and not m.group("empty"):
            raise _NotPlain  # the cell holds more than <v>N</v>: the stream reads it
        if not index.isdigit() or int(index) >= len(strings):
            raise OutputError("the scratch sheet refers to a missing shared string; please report this")
        return f"{tag[:cut]}{rest}<{prefix}is>{strings[int(index)]}</{prefix}is>"

    try:
        return text[:body] + _plain_pattern(prefix).sub(rewrite, text[body:])
    except _NotPlain:
        return None


@functools.lru_cache(maxsize=4)
def _plain_pattern(prefix: str) -> re.Pattern[str]:
    """A start tag _rewrite_plain_tags edits, with the ``<v>`` that makes up the whole of a cell's content."""
    p = re.escape(prefix)
    return re.compile(
        rf"(?P<tag><{p}(?P<local>c|row|col|cfRule|sheetView)"
        r"(?P<attrs>(?:\s+[^\s=/<>\"']+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(?P<empty>/)?>)"
        rf"(?P<content><{p}v>(?P<value>[^<]*)</{p}v>(?=</{p}c>))?"
    )


# The elements of a donor sheet that _rewrite_sheet edits, and <v> (a shared-string cell's first is read).
_SHEET_TAGS = frozenset({"c", "row", "col", "cfRule", "sheetView", "v"})


@dataclass
class _SharedCell:
    depth: int  # open elements around the cell
    prefix: str  # the cell's namespace prefix, for its <is>
    content: int  # offset where the cell's content starts (end of its start tag)
    t_span: tuple[int, int]  # offsets of the value of its t attribute
    value: tuple[int, int] | None = None  # offsets of the text of its first <v>
    value_open: bool = False  # inside that <v>


def _inline_string(edit: _Editor, cell: _SharedCell, end: int, strings: list[str]) -> None:
    """Write the shared string a cell points at inline: ``t="inlineStr"`` and an ``<is>`` for its content."""
    raw = edit.text[cell.value[0] : cell.value[1]] if cell.value is not None else ""
    index = _unescape(raw).strip()
    if not index.isdigit() or int(index) >= len(strings):
        raise OutputError("the scratch sheet refers to a missing shared string; please report this")
    edit.replace(cell.t_span[0], cell.t_span[1], "inlineStr")
    prefix = f"{cell.prefix}:" if cell.prefix else ""
    edit.replace(cell.content, end, f"<{prefix}is>{strings[int(index)]}</{prefix}is>")


def _attr(attrs: list[_Attr], local: str) -> _Attr | None:
    """The attribute ``local`` without a namespace prefix."""
    return next((a for a in attrs if a.qname == local), None)


def _remap_attr(edit: _Editor, attrs: list[_Attr], name: str, mapping: dict[int, int]) -> None:
    a = _attr(attrs, name)
    if a is None or not a.value.isdigit():
        return
    new = mapping.get(int(a.value))
    if new is None:
        raise OutputError(f"the scratch sheet uses an unknown style {a.value}; please report this")
    if new != int(a.value):
        edit.replace(a.span[0], a.span[1], str(new))


def _write_rels(source: str, rels: list[_Rel], new_names: dict[str, str]) -> bytes:
    lines = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}">']
    for rel in rels:
        if rel.external:
            target, mode = rel.target, ' TargetMode="External"'
        elif rel.part in new_names:
            target, mode = _relative(source, new_names[rel.part]), ""
        else:
            raise OutputError(f"the scratch workbook links to a missing part {rel.target}; please report this")
        lines.append(
            f'<Relationship Id="{_escape_attr(rel.id)}" Type="{_escape_attr(rel.type)}" '
            f'Target="{_escape_attr(target)}"{mode}/>'
        )
    lines.append("</Relationships>")
    return "".join(lines).encode("utf-8")


def _serialize(text: str, node: _Node, prefix: str, *, drop: Iterable[str] = (), extra: dict[str, str] | None = None,
               inner_only: bool = False, attrs: list[tuple[str, str]] | None = None) -> str:
    """Write ``node`` again with ``prefix`` for its spreadsheet-namespace elements.

    Text between tags is copied as it was (already escaped). Attributes keep their names; only unprefixed
    attributes and ``xml:`` ones are allowed (the scratch workbook writes nothing else in these parts).
    """
    drop = set(drop)
    parts: list[str] = []
    if not inner_only:
        if node.ns != MAIN_NS:
            raise _Unsupported(f"an unexpected element {node.qname} in the scratch workbook")
        pairs = attrs if attrs is not None else [
            (a.qname, a.value) for a in node.attrs if not a.qname.startswith("xmlns") and a.qname not in drop
        ]
        for name, _ in pairs:
            if ":" in name and not name.startswith("xml:"):
                raise _Unsupported(f"an unexpected attribute {name} in the scratch workbook")
        pairs = pairs + list((extra or {}).items())
        head = f"<{prefix}{node.local}" + "".join(f' {n}="{_escape_attr(v)}"' for n, v in pairs)
        if node.empty:
            return head + "/>"
        parts.append(head + ">")
    if not node.empty:
        pos = node.end
        for child in node.children:
            parts.append(text[pos : child.start])
            parts.append(_serialize(text, child, prefix))
            pos = child.close_end
        parts.append(text[pos : node.close_start])
    if not inner_only:
        parts.append(f"</{prefix}{node.local}>")
    return "".join(parts)


_PLAIN_TAG = re.compile(
    r"<(?P<close>/)?(?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)"
    r"(?P<attrs>(?:\s+[^\s=/<>\"']+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(?P<empty>/)?>"
)


def _plain_shared_strings(text: str, prefix: str) -> list[str] | None:
    """What ``_serialize(..., inner_only=True)`` gives for each ``<si>`` of a shared-strings part, read by pattern
    from a part as plain as XlsxWriter writes it (see :func:`_rewrite_plain_tags`); None when it is not that plain
    (the caller then parses the part)."""
    try:
        root = next(_tokens(text), None)
    except _Unsupported:
        return None
    if root is None or root.group("close") or root.group("empty"):
        return None
    body = root.end()
    if "<!" in text or text.find("<?", body) >= 0 or text.find("xmlns", body) >= 0:
        return None
    scope = _scope({"xml": XML_NS}, _attributes(root))
    bound = [p for p, ns in scope.items() if ns == MAIN_NS]
    if len(bound) != 1 or scope.get(root.group("name").rpartition(":")[0]) != MAIN_NS:
        return None
    own = bound[0]
    tags = list(_PLAIN_TAG.finditer(text, body))
    if len(tags) != text.count("<", body):
        return None  # a "<" the pattern does not read as a tag
    strings: list[str] = []
    rebuilt: dict[str, str] = {}  # a start tag as written -> as _serialize writes it
    stack: list[str] = [root.group("name")]
    parts: list[str] = []
    pos = body
    for m in tags:
        close, name, empty = m.group("close", "name", "empty")
        element_prefix, _, local = name.rpartition(":")
        if element_prefix != own:
            return None  # another namespace: the parser decides
        depth = len(stack)
        if close:
            if stack[-1] != name:
                return None
            stack.pop()
            if depth == 1:  # the root's end tag: nothing may follow
                return strings if m.end() == len(text.rstrip()) else None
            parts.append(text[pos : m.start()])
            if depth == 2:
                strings.append("".join(parts))
                parts = []
            else:
                parts.append(f"</{prefix}{local}>")
        elif depth == 1:
            if local != "si":
                return None  # something other than a string: the parser decides
            if empty:
                strings.append("")
            else:
                stack.append(name)
        else:
            parts.append(text[pos : m.start()])
            tag = m.group()
            head = rebuilt.get(tag)
            if head is None:
                pairs = [(a.qname, a.value) for a in _attributes(m) if not a.qname.startswith("xmlns")]
                if any(":" in n and not n.startswith("xml:") for n, _ in pairs):
                    return None
                head = f"<{prefix}{local}" + "".join(f' {n}="{_escape_attr(v)}"' for n, v in pairs)
                head = rebuilt[tag] = head + ("/>" if empty else ">")
            parts.append(head)
            if not empty:
                stack.append(name)
        pos = m.end()
    return None  # the root never ended


def _canonical(node: _Node, text: str) -> tuple[object, ...]:
    """A form of an element that two writers agree on when they mean the same thing."""
    attrs = []
    for a in node.attrs:
        if a.qname.startswith("xmlns"):
            continue
        prefix, _, name = a.qname.rpartition(":")
        attrs.append((node.nsmap.get(prefix, prefix) if prefix else "", name, a.value))
    gaps = []
    if not node.empty:
        pos = node.end
        for child in node.children:
            gaps.append(text[pos : child.start].strip())
            pos = child.close_end
        gaps.append(text[pos : node.close_start].strip())
    return (node.ns, node.local, tuple(sorted(attrs)), tuple(_canonical(c, text) for c in node.children),
            _unescape("".join(gaps)))


# -- styles ---------------------------------------------------------------------------------------------


class _StyleMerge:
    """Appends the donor's formats the member's styles lack, and maps the donor's indices to the member's."""

    LISTS = (("fonts", "font"), ("fills", "fill"), ("borders", "border"), ("cellXfs", "xf"), ("dxfs", "dxf"))

    def __init__(self, graft: _Graft, donor: _DonorSheet) -> None:
        self.g = graft
        self.donor = donor

    def run(self) -> tuple[dict[int, int], dict[int, int]]:
        g, d = self.g, self.g.d
        assert d is not None
        if self.donor.styles is None:
            return {0: 0}, {}
        d_doc, d_root = d.xml(self.donor.styles)
        member_styles = next((r for r in g.rels if r.type == REL_STYLES and r.part), None)
        if member_styles is None or member_styles.part is None:
            return self._adopt(self.donor.styles, d_root)
        part = member_styles.part
        doc, root = g.m.xml(part)
        edit = _Editor(doc.text)
        prefix = f"{root.prefix}:" if root.prefix else ""
        text, d_text = doc.text, d_doc.text

        def children(r: _Node, container: str, item: str) -> tuple[_Node | None, list[_Node]]:
            c = r.first(MAIN_NS, container)
            return c, (c.find(MAIN_NS, item) if c is not None else [])

        pending: dict[str, list[str]] = {}

        # Number formats: by format code.
        _, m_fmts = children(root, "numFmts", "numFmt")
        _, d_fmts = children(d_root, "numFmts", "numFmt")
        by_code = {}
        for n in m_fmts:
            if (n.get("numFmtId") or "").isdigit():
                by_code.setdefault(n.get("formatCode"), int(n.get("numFmtId") or 0))
        next_id = max([FIRST_CUSTOM_NUMFMT - 1, *by_code.values()]) + 1
        fmt_map: dict[int, int] = {}
        for n in d_fmts:
            old, code = int(n.get("numFmtId") or 0), n.get("formatCode")
            if code in by_code:
                fmt_map[old] = by_code[code]
                continue
            by_code[code] = fmt_map[old] = next_id
            pending.setdefault("numFmts", []).append(
                _serialize(d_text, n, prefix, attrs=[("numFmtId", str(next_id)), ("formatCode", code or "")])
            )
            next_id += 1

        style_xfs = root.first(MAIN_NS, "cellStyleXfs")
        has_style_xfs = style_xfs is not None and bool(style_xfs.find(MAIN_NS, "xf"))
        maps: dict[str, dict[int, int]] = {}
        counts: dict[str, int] = {}
        for container, item in self.LISTS:
            _, m_items = children(root, container, item)
            _, d_items = children(d_root, container, item)
            counts[container] = len(m_items)
            known = {}
            for i, n in enumerate(m_items):
                known.setdefault(_canonical(n, text), i)
            mapping: dict[int, int] = {}
            for i, n in enumerate(d_items):
                if container == "cellXfs":
                    serialised = self._xf(d_text, n, prefix, maps, fmt_map, has_style_xfs)
                    if i == 0 and m_items:
                        mapping[0] = 0  # the donor's default format is the member's default format
                        continue
                else:
                    serialised = _serialize(d_text, n, prefix)
                wrapped = _with_ns(serialised, prefix)
                key = _canonical(_parse(wrapped).children[0], wrapped)
                if key in known:
                    mapping[i] = known[key]
                    continue
                new_index = counts[container] + len(pending.get(container, []))
                known[key] = mapping[i] = new_index
                pending.setdefault(container, []).append(serialised)
            maps[container] = mapping

        for container, items in pending.items():
            self._append(edit, root, container, items, prefix)
        g._commit(part, doc, edit)
        return maps["cellXfs"], maps["dxfs"]

    @staticmethod
    def _xf(d_text: str, n: _Node, prefix: str, maps: dict[str, dict[int, int]], fmt_map: dict[int, int],
            has_style_xfs: bool) -> str:
        """A donor cell format with its font, fill, border and number format indices turned into the member's."""
        pairs: list[tuple[str, str]] = []
        for a in n.attrs:
            if a.qname.startswith("xmlns"):
                continue
            value = a.value
            if a.qname == "numFmtId" and value.isdigit():
                value = str(fmt_map.get(int(value), int(value)))
            elif a.qname in ("fontId", "fillId", "borderId") and value.isdigit():
                value = str(maps[{"fontId": "fonts", "fillId": "fills", "borderId": "borders"}[a.qname]][int(value)])
            elif a.qname == "xfId":
                if not has_style_xfs:
                    continue
                value = "0"  # based on the member's Normal style
            pairs.append((a.qname, value))
        return _serialize(d_text, n, prefix, attrs=pairs)

    @staticmethod
    def _append(edit: _Editor, root: _Node, container: str, items: list[str], prefix: str) -> None:
        node = root.first(MAIN_NS, container)
        joined = "".join(items)
        if node is not None:
            existing = len([c for c in node.children if c.ns == MAIN_NS])
            edit.append_children(node, joined, existing + len(items))
            return
        later = STYLE_ORDER[STYLE_ORDER.index(container) + 1 :]
        anchor = next((c.start for c in root.children if c.local in later), root.close_start)
        edit.insert(anchor, f'<{prefix}{container} count="{len(items)}">{joined}</{prefix}{container}>')

    def _adopt(self, donor_styles: str, d_root: _Node) -> tuple[dict[int, int], dict[int, int]]:
        """The member has no styles part: the donor's becomes the workbook's, indices unchanged."""
        g = self.g
        name = g._fresh_name("xl/styles.xml") if "xl/styles.xml" in g.taken else "xl/styles.xml"
        g._add_part(name, g.d.data[donor_styles], CT_STYLES)  # type: ignore[union-attr]
        rid = g._fresh_rel_id()
        prefix = g.rels_root.prefix
        tag = f"{prefix}:Relationship" if prefix else "Relationship"
        g.rels_edit.insert(
            g.rels_root.close_start,
            f'<{tag} Id="{rid}" Type="{REL_STYLES}" Target="{_escape_attr(_relative(g.wb_part, name))}"/>',
        )
        xfs = d_root.first(MAIN_NS, "cellXfs")
        dxfs = d_root.first(MAIN_NS, "dxfs")
        n_xfs = len(xfs.find(MAIN_NS, "xf")) if xfs else 1
        n_dxfs = len(dxfs.find(MAIN_NS, "dxf")) if dxfs else 0
        return {i: i for i in range(max(1, n_xfs))}, {i: i for i in range(n_dxfs)}


def _with_ns(fragment: str, prefix: str) -> str:
    """Wrap a serialised fragment so it parses with ``prefix`` bound to the spreadsheet namespace."""
    p = prefix.rstrip(":")
    decl = f'xmlns:{p}="{MAIN_NS}"' if p else f'xmlns="{MAIN_NS}"'
    return f"<wrap {decl}>{fragment}</wrap>"


# -- writing the zip ------------------------------------------------------------------------------------


def _write(dest: Path, entries: list[_Entry], comment: bytes) -> None:
    """Write the zip archive: unchanged parts as they were stored (not compressed again), new ones deflated.

    The guard bounds a member's package far below the classic zip format's 4 GB and 65,535 entries.
    """
    directory: list[bytes] = []
    offset = 0
    try:
        with open(dest, "wb") as fh:
            for entry in entries:
                name, flags = _zip_name(entry.name)
                if entry.info is not None:
                    when = max(entry.info.date_time, (1980, 1, 1, 0, 0, 0))
                    attributes = entry.info.external_attr
                    stored_as_is = entry.info.compress_type == zipfile.ZIP_STORED
                    method = zipfile.ZIP_STORED if stored_as_is else zipfile.ZIP_DEFLATED
                else:
                    when, attributes, method = (1980, 1, 1, 0, 0, 0), 0o600 << 16, zipfile.ZIP_DEFLATED
                if entry.stored is not None and entry.info is not None and entry.info.compress_type == method:
                    payload: bytes | memoryview = entry.stored
                    crc, size = entry.info.CRC, entry.info.file_size
                else:
                    crc, size = zlib.crc32(entry.data), len(entry.data)
                    payload = entry.data if method == zipfile.ZIP_STORED else _deflate(entry.data)
                year, month, day, hour, minute, second = when
                dos_time = hour << 11 | minute << 5 | second // 2
                dos_date = (year - 1980) << 9 | month << 5 | day
                fields = (flags, method, dos_time, dos_date, crc, len(payload), size, len(name))
                if offset + len(payload) + len(name) + _LOCAL_HEADER.size > 0xFFFFFFFF or len(directory) == 0xFFFF:
                    raise OutputError(f"the workbook is too large to write as {dest.name}; please report this")
                fh.write(_LOCAL_HEADER.pack(b"PK\x03\x04", 20, 0, *fields, 0))
                fh.write(name)
                fh.write(payload)
                # version made by 2.0 on Unix (the attributes are Unix modes), no extra field, comment or disk
                directory.append(
                    _CENTRAL_HEADER.pack(b"PK\x01\x02", 20, 3, 20, 0, *fields, 0, 0, 0, 0, attributes, offset) + name
                )
                offset += _LOCAL_HEADER.size + len(name) + len(payload)
            central = b"".join(directory)
            count = len(directory)
            fh.write(central)
            fh.write(_END_RECORD.pack(b"PK\x05\x06", 0, 0, count, count, len(central), offset, len(comment)))
            fh.write(comment)
    except OSError as exc:
        raise OutputError(f"could not write {dest} ({exc.strerror}); check the disk and the folder") from None


def _zip_name(name: str) -> tuple[bytes, int]:
    """A part name as the archive stores it, and the flag that marks it UTF-8 when it is not ASCII."""
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), 0x800


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()
