"""Writes a merge into a copy of the master (or the master itself): its cell changes, then its two sheets.

The cells go in through :func:`xlsx.workbook_edit.edit_cells`; the ``Merge Conflicts`` and ``Merge Log`` sheets
are written into a scratch workbook and grafted in with :func:`xlsx.package.graft_sheet`, which replaces a
previous merge's sheets of the same names. Each step keeps every part it does not need to change byte for
byte, so the master's own sheets, pictures, comments and properties come out as they went in.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..plan import schema
from ..xlsx.atomic import atomic_path
from .merge_master import MasterChanges
from .merge_model import MergeResult


def write_merged_master(master: Path, changes: MasterChanges, result: MergeResult, target: Path) -> None:
    """Write ``master`` with ``changes`` and the merge's sheets to ``target`` atomically."""
    from ..xlsx.package import graft_sheet
    from ..xlsx.workbook_edit import edit_cells
    from .merge_sheets import write_merge_workbook

    conflicts, log = schema.MERGE_CONFLICTS_SHEET, schema.MERGE_LOG_SHEET
    with tempfile.TemporaryDirectory(prefix="reentry-workbook-") as tmp:
        edited = Path(tmp) / "edited.xlsx"
        edit_cells(master, edited, changes.cells, changes.names)
        scratch = Path(tmp) / "merge-sheets.xlsx"
        write_merge_workbook(result, scratch)
        with_conflicts = Path(tmp) / "with-conflicts.xlsx"
        graft_sheet(edited, scratch, with_conflicts, sheet_name=conflicts, position=_position(edited, conflicts))
        with atomic_path(target) as dest:
            graft_sheet(with_conflicts, scratch, dest, sheet_name=log,
                        position=_position(with_conflicts, log, after=conflicts))


def _position(path: Path, name: str, after: str | None = None) -> int:
    """Where sheet ``name`` goes: after ``after`` when the workbook has it, else after the plan's last data sheet."""
    from ..xlsx.package import sheet_names

    names = [n.casefold() for n in sheet_names(path) if n.casefold() != name.casefold()]
    if after is not None and after.casefold() in names:
        return names.index(after.casefold()) + 1
    plan = {s.name.casefold() for s in schema.SHEETS}
    return max((i + 1 for i, n in enumerate(names) if n in plan), default=len(names))
