"""Writes a merge into a copy of the master (or the master itself): its cell changes, then its two sheets.

The cells go in through :func:`xlsx.workbook_edit.edited_package`; the ``Merge Conflicts`` and ``Merge Log`` sheets
are written into a scratch workbook and grafted in with :func:`xlsx.package.graft_sheets`, which replaces a
previous merge's sheets of the same names. Each step keeps every part it does not need to change byte for
byte, so the master's own sheets, pictures, comments and properties come out as they went in; the steps are
made in memory, so the master is read once and the result written once.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..plan import schema
from ..xlsx.atomic import atomic_path
from .merge_master import MasterChanges
from .merge_model import MergeResult

if TYPE_CHECKING:
    from ..xlsx.opc import Package


def edit_master(master: Path | Package, changes: MasterChanges) -> Package:
    """The master's package with the merge's cell changes, in memory."""
    from ..xlsx.workbook_edit import edited_package

    return edited_package(master, changes.cells, changes.names)


def write_merge_sheets_into(edited: Package, result: MergeResult, target: Path) -> None:
    """Graft the merge's sheets into the edited master's package and write it to ``target`` atomically."""
    from ..xlsx.package import SheetGraft, graft_sheets
    from .merge_sheets import write_merge_workbook

    conflicts, log = schema.MERGE_CONFLICTS_SHEET, schema.MERGE_LOG_SHEET
    with tempfile.TemporaryDirectory(prefix="reentry-workbook-") as tmp:
        scratch = Path(tmp) / "merge-sheets.xlsx"
        rows = write_merge_workbook(result, scratch)
        grafts = [
            SheetGraft(scratch, conflicts, position=_position, rows=rows[conflicts]),
            SheetGraft(scratch, log, position=partial(_position, after=conflicts), rows=rows[log]),
        ]
        with atomic_path(target) as dest:
            graft_sheets(edited, dest, grafts)


def _position(names: list[str], after: str | None = None) -> int:
    """Where a sheet goes among the sheets ``names``: after ``after`` when there is one, else after the plan's last
    data sheet."""
    folded = [n.casefold() for n in names]
    if after is not None and after.casefold() in folded:
        return folded.index(after.casefold()) + 1
    plan = {s.name.casefold() for s in schema.SHEETS}
    return max((i + 1 for i, n in enumerate(folded) if n in plan), default=len(folded))
