"""The Open Packaging Conventions as a workbook uses them: namespaces and content types, relationships, and the
package held in memory, read once from its zip archive (:mod:`zip_io`) and edited without writing it."""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import defusedxml.ElementTree as SafeET

from ..errors import UnusableInputError
from . import guard
from .xmltext import Node, Unsupported, XmlText, parse_xml
from .zip_io import ZipEntry, read_members

# -- namespaces, relationship and content types ----------------------------------------------------------

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

REL_OFFICE_DOCUMENT = REL_NS + "/officeDocument"
REL_STRICT_OFFICE_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
REL_WORKSHEET = REL_NS + "/worksheet"
REL_STYLES = REL_NS + "/styles"
REL_SHARED_STRINGS = REL_NS + "/sharedStrings"
REL_CALC_CHAIN = REL_NS + "/calcChain"

CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_RELATIONSHIPS = "application/vnd.openxmlformats-package.relationships+xml"

CONTENT_TYPES = "[Content_Types].xml"

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


# -- the package ----------------------------------------------------------------------------------------


class _Parts(MutableMapping[str, bytes]):
    """Zip name -> a part's bytes; a large part read from a file is kept only as stored (compressed) and
    inflated when asked for, so that a package of large sheets costs little more memory than its file."""

    def __init__(self, entries: list[ZipEntry]) -> None:
        self._entries = {e.name: e for e in entries}

    def __getitem__(self, name: str) -> bytes:
        return self._entries[name].content()

    def head(self, name: str, size: int) -> bytes:
        """The first ``size`` bytes of the part ``name`` (:meth:`ZipEntry.head`)."""
        return self._entries[name].head(size)

    def entry(self, name: str) -> ZipEntry:
        return self._entries[name]

    def __setitem__(self, name: str, data: bytes) -> None:
        self._entries[name] = ZipEntry(name, data, None)

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries


@dataclass
class Rel:
    id: str
    type: str
    target: str
    external: bool
    node: Node
    part: str | None  # resolved zip name of the target (internal, existing parts only)


class Package:
    """A zip package held in memory (coalition workbooks are small; the guard bounds them): read from a file, or
    derived from another package's entries without writing them (several edits, one zip written)."""

    def __init__(self, path: Path, entries: list[ZipEntry], comment: bytes) -> None:
        self.path = path  # the file it was read from (or derived from), for messages
        self.entries = entries  # every zip entry, folders included, in the archive's order
        self.comment = comment
        # data: each part's bytes; stored: the same part as it sits in the member's archive (compressed), for the
        # parts no edit changed, so that a copy of them is written without compressing it again.
        parts = [e for e in entries if e.info is None or not e.info.is_dir()]
        self.data = _Parts(parts)
        self.stored = {e.name: e.stored for e in parts if e.stored is not None}
        self.lower = {name.lower(): name for name in self.data}
        if len(self.lower) != len(parts):
            raise UnusableInputError(
                f"{path.name} holds two entries with the same name; open it in Excel, save it again and retry"
            )
        self._xml: dict[str, tuple[XmlText, Node]] = {}
        self._rels: dict[str, list[Rel]] = {}

    @classmethod
    def read(cls, path: Path) -> Package:
        with guard.open_package(path) as zf:
            return cls.of(path, zf)

    @classmethod
    def of(cls, path: Path, zf: zipfile.ZipFile) -> Package:
        """The package of the archive ``zf``, opened (through the guard) from ``path``."""
        infos = zf.infolist()
        data, stored, checks = read_members(path, [i for i in infos if not i.is_dir()])

        def entry(info: zipfile.ZipInfo) -> ZipEntry:
            content = data.get(info.filename, b"")
            large = checks if content is None else None
            return ZipEntry(info.filename, content, info, stored.get(info.filename), large)

        entries = [entry(i) for i in infos]
        return cls(path, entries, zf.comment)

    def edited(
        self, changed: Mapping[str, bytes | ZipEntry], removed: set[str], added: Sequence[tuple[str, bytes | ZipEntry]]
    ) -> list[ZipEntry]:
        """This package's entries with the parts in ``changed`` given new bytes (or an entry from :func:`packed`),
        those in ``removed`` left out and ``added`` appended (bytes, or an entry from :func:`new_part`); every other
        entry keeps its stored bytes."""

        def change(e: ZipEntry) -> ZipEntry:
            new = changed[e.name]
            return new if isinstance(new, ZipEntry) else ZipEntry(e.name, new, e.info)

        out = [change(e) if e.name in changed else e for e in self.entries if e.name not in removed]
        out.extend(data if isinstance(data, ZipEntry) else ZipEntry(name, data, None) for name, data in added)
        return out

    def derive(self, entries: list[ZipEntry]) -> Package:
        """The package ``entries`` (from :meth:`edited`) make, in memory: the next edit's input."""
        return Package(self.path, entries, self.comment)

    def name(self, part: str) -> str | None:
        """The zip name of ``part`` (part names are case-insensitive)."""
        return self.lower.get(part.lstrip("/").lower())

    def xml(self, part: str) -> tuple[XmlText, Node]:
        if part not in self._xml:
            raw = self.data[part]
            try:
                SafeET.fromstring(raw)  # well-formed, and no entity tricks
                doc = XmlText.decode(raw)
                self._xml[part] = (doc, parse_xml(doc.text))
            except Unsupported:
                raise
            except Exception as exc:
                raise Unsupported(f"{part} is not well-formed XML ({exc})") from None
        return self._xml[part]

    def rels(self, source: str) -> list[Rel]:
        """Relationships of part ``source`` ('' for the package itself)."""
        if source in self._rels:
            return self._rels[source]
        name = self.name(rels_name(source))
        if name is None:
            return []
        _, root = self.xml(name)
        out: list[Rel] = []
        for node in root.children:
            if node.local != "Relationship":
                continue
            target = node.get("Target") or ""
            external = (node.get("TargetMode") or "").lower() == "external"
            part = None if external else self.name(resolve_target(source, target) or "")
            out.append(Rel(node.get("Id") or "", node.get("Type") or "", target, external, node, part))
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


def relative_target(source: str, part: str) -> str:
    return quote(posixpath.relpath(part, posixpath.dirname(source) or "."), safe="/-._~")


def part_closure(pkg: Package, start: str) -> list[str]:
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


def reachable_parts(pkg: Package, skip: tuple[str, str] | None) -> set[str]:
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
class ContentTypes:
    doc: XmlText
    root: Node
    defaults: dict[str, str]
    overrides: dict[str, Node]

    @classmethod
    def read(cls, pkg: Package) -> ContentTypes:
        name = pkg.name(CONTENT_TYPES)
        if name is None:
            raise Unsupported("the package has no [Content_Types].xml")
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


# -- the workbook part and its sheets ------------------------------------------------------------------


def unusable(path: Path, exc: Unsupported) -> UnusableInputError:
    return UnusableInputError(
        f"{path.name} cannot be updated safely ({exc}); open it in Excel or LibreOffice, save it as an "
        "Excel workbook (.xlsx) and try again"
    )


def workbook_part(pkg: Package) -> str:
    for rel in pkg.rels(""):
        if rel.type == REL_STRICT_OFFICE_DOCUMENT:
            raise Unsupported("it is saved as Strict Open XML")
        if rel.type == REL_OFFICE_DOCUMENT and rel.part:
            return rel.part
    raise Unsupported("it has no workbook part")


def sheet_names_in(path: Path, zf: zipfile.ZipFile) -> list[str]:
    """:func:`sheet_names_of` an archive already open, reading only its relationships and its workbook part."""
    infos = [i for i in zf.infolist() if not i.is_dir()]
    pkg = Package(path, [ZipEntry(i.filename, zf.read(i) if i.filename.endswith(".rels") else b"", i, None)
                         for i in infos], b"")
    part = workbook_part(pkg)
    pkg.data[part] = zf.read(part)
    return sheet_names_of(pkg)


def sheet_names_of(pkg: Package) -> list[str]:
    _, root = pkg.xml(workbook_part(pkg))
    sheets = root.first(MAIN_NS, "sheets")
    return [s.get("name") or "" for s in sheets.find(MAIN_NS, "sheet")] if sheets else []
