"""Which files a folder audit takes as returned workbooks, and what it says about the rest.

Every file given by name is an input. In a folder (and its subfolders with ``recursive``):

- every file that looks like a spreadsheet (``SPREADSHEET_SUFFIXES``, any case) is an input, so a return saved
  as .ods, .xls or CSV gets a row of the roll-up with its reason instead of vanishing; so is every mail file
  (.eml, .mbox, .msg: ``mail.kinds``), whose attached workbooks are returns;
- the tool's own outputs are left out: audited copies (``NAME.audited.xlsx``), backups of ``--in-place``
  (``NAME.backup.xlsx``), the roll-up (``rollup.xlsx``) and any workbook whose custom document property
  ``schema.PROP_OUTPUT`` says the tool wrote it (a roll-up or a diff under another name);
- clutter is left out without a word: hidden files, macOS ``._NAME`` and ``.DS_Store``, ``Thumbs.db``,
  ``desktop.ini``, and files that are not spreadsheets;
- without ``recursive``, a subfolder holding inputs is named in a note (it is not searched), never passed over in
  silence;
- an owner lock file (Excel's ``~$NAME``, LibreOffice's ``.~lock.NAME#``) is left out with a note: the file it
  belongs to is open on someone's machine, so the copy on disk may lack their latest edits.

An input is an :class:`InputItem`: the path to read and the label shown for it (its path inside the folder
given); the batch audit opens mail files into the workbooks attached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ReentryWorkbookError, UnusableInputError
from ..mail.kinds import MAIL_SUFFIXES
from ..plan import schema
from .pipeline import AUDITED_SUFFIX, BACKUP_TAG

SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".ods", ".xls", ".xlsb", ".csv", ".numbers"})
ROLLUP_NAME = "rollup.xlsx"
CLUTTER_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_BACKUP = re.compile(re.escape(BACKUP_TAG) + r"(?:-\d+)?$", re.IGNORECASE)
_LIBREOFFICE_LOCK = re.compile(r"^\.~lock\.(.+)#$")


@dataclass(frozen=True)
class InputItem:
    """One input to audit: the file to read and how messages and the roll-up name it."""

    path: Path
    label: str


@dataclass
class Inputs:
    items: list[InputItem]
    notes: list[str] = field(default_factory=list)  # one line each, for the person running the audit
    skipped_outputs: int = 0  # the tool's own outputs left out
    unsearched: list[str] = field(default_factory=list)  # subfolders holding inputs, left out without ``recursive``


def expand_inputs(paths: Iterable[Path], *, recursive: bool = False) -> Inputs:
    """The inputs named by ``paths``: files as given, and the spreadsheets inside folders (see the module)."""
    paths = list(paths)
    found = Inputs([])
    for path in paths:
        if path.is_dir() and path.suffix.lower() != ".numbers":  # a Numbers document may be a folder bundle
            _walk(path, path, recursive, found)
        else:
            found.items.append(InputItem(path, path.name or str(path)))
    if found.unsearched:
        shown = ", ".join(f"{name}/" for name in found.unsearched)
        found.notes.append(f"Not searched: {shown} (the spreadsheets in subfolders are taken with --recursive).")
    if found.skipped_outputs:
        n = found.skipped_outputs
        found.notes.append(
            f"Left out {n} file{'' if n == 1 else 's'} this tool wrote (audited copies, backups, roll-ups, diffs)."
        )
    if paths and not found.items:  # only folders were given, and none holds a spreadsheet
        shown = ", ".join(p.name or str(p) for p in paths)
        noun = "is a folder" if len(paths) == 1 else "are folders"
        if found.unsearched:
            inside = ", ".join(f"{name}/" for name in found.unsearched)
            raise UnusableInputError(
                f"{shown} {noun} with no spreadsheet or mail inside, only in subfolders ({inside}); add --recursive "
                "to take those, or give the path of a returned workbook."
            )
        where = "" if recursive else " (subfolders are searched with --recursive)"
        raise UnusableInputError(
            f"{shown} {noun} with no spreadsheet or mail inside{where}; give the path of a returned workbook, or "
            "of a folder that holds them."
        )
    return found


def _walk(folder: Path, top: Path, recursive: bool, found: Inputs) -> None:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name.casefold())
    except OSError as exc:
        raise UnusableInputError(
            f"the folder {folder} cannot be read ({exc.strerror or 'error'}); check its permissions, then run it again."
        ) from None
    names = {p.name for p in entries}
    for entry in entries:
        lock = _lock_target(entry.name, names)
        if lock is not None:
            app, target = lock
            found.notes.append(
                f"{target} is open in {app} on someone's machine: the copy on disk may not have their latest edits."
            )
            continue
        kind = _kind(entry)
        if kind == _FOLDER:
            if recursive:
                _walk(entry, top, recursive, found)
            elif _holds_input(entry):
                found.unsearched.append(entry.relative_to(top).as_posix())
        elif kind == _OUTPUT:
            found.skipped_outputs += 1
        elif kind == _INPUT:
            found.items.append(InputItem(entry, entry.relative_to(top).as_posix()))


_INPUT, _OUTPUT, _FOLDER, _OTHER = "input", "output", "folder", "other"  # what an entry of a folder is to the walk


def _kind(entry: Path) -> str:
    """What a folder's entry (not a lock file) is: an input (a spreadsheet or a mail file), one of the tool's own
    outputs, a folder to walk, or something else (clutter, hidden, not a spreadsheet)."""
    name, suffix = entry.name, entry.suffix.lower()
    if name.startswith(".") or name.casefold() in CLUTTER_NAMES:
        return _OTHER  # (macOS's ._NAME files start with a dot too)
    if entry.is_dir() and suffix != ".numbers":  # a Numbers document may be a folder bundle
        return _FOLDER
    if suffix in MAIL_SUFFIXES and entry.is_file():
        return _INPUT
    if suffix not in SPREADSHEET_SUFFIXES:
        return _OTHER
    return _OUTPUT if is_own_output(entry) else _INPUT


def _holds_input(folder: Path) -> bool:
    """Whether ``folder`` or a folder inside it holds an input the walk would take (looked for until the first one
    is found)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return False
    names = {p.name for p in entries}
    for entry in entries:
        if _lock_target(entry.name, names) is not None:
            continue
        kind = _kind(entry)
        if kind == _INPUT or (kind == _FOLDER and _holds_input(entry)):
            return True
    return False


def _lock_target(name: str, names: set[str]) -> tuple[str, str] | None:
    """(app, the locked file's name) when ``name`` is an owner lock file, else None."""
    if name.startswith("~$"):
        rest = name[2:]
        # Excel keeps short names whole (~$plan.xlsx) and drops the first two characters of longer ones.
        if rest in names:
            return "Excel", rest
        longer = (n for n in sorted(names) if n[2:] == rest and len(n) == len(rest) + 2 and n[0] not in ".~")
        return "Excel", next(longer, rest)
    m = _LIBREOFFICE_LOCK.match(name)
    if m:
        return "LibreOffice", m[1]
    return None


def is_own_output(path: Path) -> bool:
    """Whether ``path`` is something this tool wrote that is not a returned plan (see the module)."""
    stem = path.stem
    if stem.casefold().endswith(AUDITED_SUFFIX) or _BACKUP.search(stem) or path.name.casefold() == ROLLUP_NAME:
        return True
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    from ..xlsx.identity import custom_properties

    try:
        return bool(custom_properties(path).get(schema.PROP_OUTPUT))
    except ReentryWorkbookError:
        return False  # the audit will say what is wrong with it
