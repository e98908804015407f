"""Grafts worksheets of scratch workbooks into a copy of a member's workbook, part by part, in memory.

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

With ``activate`` (the audit's summary), one more edit is made, to the member's sheet parts and to nothing
else in them: their ``tabSelected`` attribute is removed, so that the new sheet is the active and only
selected one (a member's sheet left selected beside it would put Excel in group-edit mode, where typing
changes both sheets). ``parts_graft_may_change(path, activate=True)`` names those sheets as well.

The member's XML is edited textually, at the offsets found by a small tokenizer, never parsed and
re-serialised: prefixes, declarations, ``mc:Ignorable`` lists and unknown extensions stay as they were.
The new sheet's shared strings become inline strings, so the member's ``sharedStrings.xml`` is untouched."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError, UnusableInputError, UsageError
from .direct_rows import DirectRows
from .graft import Graft
from .opc import CONTENT_TYPES, REL_STYLES, Package, rels_name, sheet_names_of, unusable, workbook_part
from .xmltext import Unsupported, without_tab_selected_bytes
from .zip_io import write_zip


def parts_graft_may_change(path: Path, *, activate: bool = False) -> frozenset[str]:
    """Zip names of the member parts ``graft_sheet`` may rewrite in a copy of the workbook at ``path``; with
    ``activate``, also the member's sheets that carry ``tabSelected`` (that attribute is all it removes)."""
    pkg = Package.read(path)
    try:
        workbook = workbook_part(pkg)
        names = {CONTENT_TYPES, workbook, rels_name(workbook)}
        names.update(r.part for r in pkg.rels(workbook) if r.type == REL_STYLES and r.part)
        if activate:
            names.update(
                r.part for r in pkg.rels(workbook)
                if r.part and r.part in pkg.data and without_tab_selected_bytes(pkg.data[r.part]) != pkg.data[r.part]
            )
        return frozenset(pkg.name(n) or n for n in names)
    except Unsupported as exc:
        raise unusable(path, exc) from None


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, in tab order."""
    pkg = Package.read(path)
    try:
        return sheet_names_of(pkg)
    except Unsupported as exc:
        raise unusable(path, exc) from None


@dataclass(frozen=True)
class SheetGraft:
    """One sheet to add: the sheet ``sheet_name`` of the workbook ``scratch``, at tab ``position`` (0 = first; past
    the last tab = last), or at the tab ``position(names)`` gives for the workbook's sheet names at that point
    (those of the sheets added before it included, that of a sheet it replaces left out). ``activate``: the
    workbook opens on it, the only selected sheet. ``rows``: rows written straight into the new sheet below the
    scratch sheet's own (:mod:`direct_rows`)."""

    scratch: Path
    sheet_name: str
    position: int | Callable[[list[str]], int] = 0
    activate: bool = False
    rows: DirectRows | None = None  # a long table written below the scratch sheet's rows (see direct_rows)


def graft_sheets(src: Path | Package, dest: Path, grafts: Sequence[SheetGraft]) -> None:
    """Write to ``dest`` a copy of the workbook ``src`` (a file, or a package already edited in memory) with the
    sheets ``grafts`` name added in turn, reading ``src`` once and writing ``dest`` once.

    A sheet of the same name in the workbook (a previous run's) is replaced, with the parts only it used.
    ``src`` is only read; every part of it other than those named in the module docstring is copied byte for
    byte (as it is stored: not compressed again). With ``activate``, the workbook opens on the new sheet, the
    only selected one: the member's sheets lose their ``tabSelected`` flag (the one edit made to them: a sheet
    selected beside the new one would put Excel in group-edit mode, where typing changes both sheets).
    """
    member = src if isinstance(src, Package) else Package.read(src)
    donors: dict[Path, Package] = {}
    try:
        for graft in grafts:
            if graft.scratch not in donors:
                donors[graft.scratch] = _read_scratch(graft.scratch)
            position = graft.position
            if not isinstance(position, int):
                replaced = graft.sheet_name.casefold()
                position = position([n for n in sheet_names_of(member) if n.casefold() != replaced])
            entries = Graft(
                member, donors[graft.scratch], graft.sheet_name, max(0, position), activate=graft.activate,
                rows=graft.rows,
            ).run()
            member = member.derive(entries)
    except Unsupported as exc:
        raise unusable(member.path, exc) from None
    write_zip(dest, member.entries, member.comment)


def graft_sheet(
    src: Path, scratch: Path, dest: Path, *, sheet_name: str, position: int = 0, activate: bool = False
) -> None:
    """:func:`graft_sheets` with one sheet."""
    graft_sheets(src, dest, [SheetGraft(scratch, sheet_name, position, activate)])


def _read_scratch(scratch: Path) -> Package:
    try:
        return Package.read(scratch)
    except UnusableInputError as exc:
        raise OutputError(f"the scratch summary workbook cannot be read ({exc}); please report this") from None


def remove_sheet(src: Path, dest: Path, *, sheet_name: str) -> None:
    """Write to ``dest`` a copy of ``src`` without the sheet ``sheet_name`` and the parts only it used."""
    names = [n.casefold() for n in sheet_names(src)]
    if sheet_name.casefold() not in names:
        raise UsageError(f"{src.name} has no sheet named {sheet_name!r}; check the name and try again")
    if len(names) < 2:
        raise UsageError(f"{sheet_name!r} is the only sheet of {src.name}, and a workbook needs one; keep it")
    member = Package.read(src)
    try:
        entries = Graft(member, None, sheet_name, 0).run()
    except Unsupported as exc:
        raise unusable(src, exc) from None
    write_zip(dest, entries, member.comment)
