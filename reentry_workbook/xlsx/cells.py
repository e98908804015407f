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
expat parser refuses DTDs and entity declarations, and the fast path only runs on parts with no ``<!`` at all."""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

from ..errors import UnsafeArchiveError, UnusableInputError
from .cell_values import (
    DTD_MESSAGE,
    SAVE_AGAIN,
    RootReached,
    Styles,
    expat_parser,
    format_kind,
    local_name,
    run_text,
    to_int,
    unescape_x,
)
from .exact_path import read_exact
from .fast_path import read_fast, scan_fast
from .guard import require_defusedxml
from .read_ahead import ReadAhead
from .sheet_cells import DenseCells, SheetCells, SheetRef

# --- the package ---------------------------------------------------------------------------------------------


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
    keep: bool = False  # keep each sheet read, for a caller that reads it again
    _names: dict[str, str] = field(default_factory=dict)
    _strings_part: str | None = None
    _styles: Styles = field(default_factory=Styles)
    _strings: list[str] | None = None
    _calamine: Any = None
    _strings_escaped: bool | None = None  # whether the shared strings hold an escape only the exact path decodes
    _calamine_failed: bool = False
    _kept: dict[str, SheetCells] = field(default_factory=dict)
    _ahead: ReadAhead | None = None
    _idle: Iterator[object] | None = None  # the caller's work while the reader waits (see read_ahead)
    _held: int | None = None  # at most this many sheets parsed ahead and not yet taken (see read_ahead)

    def sheet(self, name: str) -> SheetRef | None:
        return next((s for s in self.sheets if s.name == name), None)

    def close(self) -> None:
        """Release python-calamine's copy of the workbook (the zip archive is the caller's to close)."""
        self.finish_ahead()
        if self._calamine is not None:
            self._calamine.close()
            self._calamine = None

    def read_ahead(self, refs: Sequence[SheetRef]) -> None:
        """Have python-calamine parse the sheets ``refs`` (the next ones :meth:`read_sheet` is asked for, in that
        order) in a background thread while the caller works on the one before (:mod:`read_ahead`)."""
        filename = self.zf.filename
        if not self.fast or self._calamine_failed or self._ahead is not None or self._calamine is not None:
            return
        if not refs or not filename or not Path(filename).is_file():
            return
        import python_calamine

        if self._strings_part is not None:
            self._refuse_dtd(self._strings_part)  # before python-calamine parses the shared strings
        self._ahead = ReadAhead(
            lambda: python_calamine.CalamineWorkbook.from_path(filename),
            refs,
            lambda ref: scan_fast(self, ref),
            idle=self._idle,
            held=self._held,
        )

    def finish_ahead(self) -> None:
        """Stop reading ahead (waiting for the sheet being parsed); python-calamine's workbook is then this one's."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.finish()
            if self._calamine is None:
                self._calamine = ahead.calamine

    def read_sheet(self, sheet: SheetRef | str) -> SheetCells:
        """All cells of a worksheet."""
        ref = sheet if isinstance(sheet, SheetRef) else self.sheet(sheet)
        if ref is None:
            raise KeyError(sheet)
        cells = self._kept.get(ref.part)
        if cells is None:
            cells = read_fast(self, ref) if self.fast and not self._calamine_failed else None
            if cells is None:
                cells = read_exact(self, ref)
            if self.keep:
                self._kept[ref.part] = cells
        return cells

    def read_formulas(self, sheet: SheetRef | str) -> SheetCells:
        """A worksheet's formula and error cells, as :meth:`read_sheet` flags them, with its values left blank: the
        fast path's scan of its XML alone (python-calamine is not asked for the values: a sheet of tens of thousands
        of formulas is read at a fraction of the memory). Where the fast path cannot be taken, every cell, as
        :meth:`read_sheet` reads them."""
        ref = sheet if isinstance(sheet, SheetRef) else self.sheet(sheet)
        if ref is None:
            raise KeyError(sheet)
        cells = self._kept.get(ref.part)
        if cells is not None:
            return cells
        scan = scan_fast(self, ref) if self.fast and not self._calamine_failed else None
        if scan is None:
            return self.read_sheet(ref)
        return DenseCells(ref.name, [], scan.flags, scan.merged)

    # --- parts ---

    def _member(self, part: str) -> str | None:
        return self._names.get(part.lower())

    def _read_part(self, part: str) -> bytes | None:
        name = self._member(part)
        return None if name is None else self.zf.read(name)

    def _damaged(self, part: str, what: str = "is not valid XML") -> UnusableInputError:
        return UnusableInputError(f"{self.label} is damaged ({part} {what}); {SAVE_AGAIN}")

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
            raise UnsafeArchiveError(f"{self.label} {DTD_MESSAGE} (in {part}).") from None

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """``{id: (type, target part)}`` of a part's internal relationships; ``type`` is the last URI segment."""
        folder, name = posixpath.split(part)
        root = self._xml(posixpath.join(folder, "_rels", f"{name}.rels"))
        out: dict[str, tuple[str, str]] = {}
        if root is None:
            return out
        for rel in root:
            if local_name(rel.tag) != "Relationship" or rel.get("TargetMode", "").lower() == "external":
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
            raise UnusableInputError(f"{self.label} has no workbook inside the package; {SAVE_AGAIN}")
        rels = self._relationships(self.workbook_part)
        for child in root:
            tag = local_name(child.tag)
            if tag == "workbookPr":
                self.date1904 = child.get("date1904", "").strip().lower() in ("1", "true")
            elif tag == "sheets":
                for el in child:
                    rel_id = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
                    kind, target = rels.get(rel_id or "", ("", ""))
                    if local_name(el.tag) == "sheet" and kind == "worksheet" and self._member(target) is not None:
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
                if local_name(prop.tag) == "property" and name is not None and len(prop):
                    self.properties[name] = (prop[0].text or "").strip()

    def _read_styles(self, part: str) -> Styles:
        root = self._xml(part)
        if root is None:
            return Styles()
        codes: dict[int, str] = {}
        xfs: list[int] = []
        for el in root:
            tag = local_name(el.tag)
            if tag == "numFmts":
                for fmt in el:
                    num = to_int(fmt.get("numFmtId"))
                    if num is not None:
                        codes[num] = fmt.get("formatCode", "")
            elif tag == "cellXfs":
                xfs = [to_int(xf.get("numFmtId")) or 0 for xf in el if local_name(xf.tag) == "xf"]
        dates, durations = set(), set()
        for index, num in enumerate(xfs):
            kind = format_kind(num, codes.get(num))
            if kind == "date":
                dates.add(index)
            elif kind == "duration":
                durations.add(index)
        return Styles(frozenset(dates), frozenset(durations))

    # --- the fast path ---

    def _refuse_dtd(self, part: str) -> None:
        """Read ``part`` up to its root element and refuse a document type declaration before it."""
        name = self._member(part)
        if name is None:
            return
        parser = expat_parser(self.label, part)

        def reached(_name: str, _attrs: dict[str, str]) -> None:
            raise RootReached

        parser.StartElementHandler = reached
        try:
            with self.zf.open(name) as fh:
                while chunk := fh.read(16_384):
                    parser.Parse(chunk, False)
        except RootReached:
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
        state = {"t": False, "preserve": False}  # inside a <t>, and whether it keeps its outer spaces
        phonetic = [0]  # how deep inside <rPh> (a phonetic run, not part of the text)

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = name.rpartition(":")[2]
            if tag == "si":
                pieces.clear()
            elif tag == "t" and not phonetic[0]:
                run.clear()
                state["t"], state["preserve"] = True, attrs.get("xml:space") == "preserve"
            elif tag == "rPh":
                phonetic[0] += 1

        def end(name: str) -> None:
            tag = name.rpartition(":")[2]
            if tag == "si":
                out.append(unescape_x("".join(pieces)))
            elif tag == "t" and state["t"]:
                pieces.append(run_text(run, state["preserve"]))
                state["t"] = False
            elif tag == "rPh":
                phonetic[0] -= 1

        def text(data: str) -> None:
            if state["t"]:
                run.append(data)

        self._stream(part, start, end, text)
        return out

    def _stream(self, part: str, start: Any, end: Any, text: Any) -> None:
        name = self._member(part)
        if name is None:
            return
        parser = expat_parser(self.label, part)
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



def open_workbook(
    zf: zipfile.ZipFile,
    *,
    label: str | None = None,
    fast: bool = True,
    keep: bool = False,
    idle: Iterator[object] | None = None,
    held: int | None = None,
) -> Workbook:
    """Read the structure of the package ``zf`` (opened by :func:`guard.open_package`).

    ``fast=False`` reads every sheet on the exact path (the tests compare both paths); ``keep=True`` keeps each
    sheet read, so that reading it again costs nothing. ``idle``: steps of the caller's own work, taken while the
    reader waits for python-calamine, if it ever does; ``held``: at most this many sheets parsed ahead of the
    reader (:mod:`read_ahead`).
    """
    name = label or (Path(zf.filename).name if zf.filename else "the workbook")
    book = Workbook(zf, name, fast=fast, keep=keep, _idle=idle, _held=held)
    book._load()
    return book
