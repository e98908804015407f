"""The audited copy and the merged master are each made in one pass: the input package read once, its sheets
grafted in memory, the zip written once (two passes made the copy ~40 % dearer when the Audit History came).

Counted: every zip written by the package layer (``zip_io.write_zip``, as the graft and the cell edit call it) and
every package read (``opc.Package.of``, which ``opc.Package.read`` goes through), by file name."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from member_edits import Set, edit_with_openpyxl
from plans import clean_plan

from reentry_workbook.audit.pipeline import audit_file
from reentry_workbook.cycle.merge import merge
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import new_workbook, write_plan_workbook
from reentry_workbook.xlsx import opc, package, workbook_edit, zip_io


def _count(monkeypatch: pytest.MonkeyPatch) -> tuple[Counter[str], Counter[str]]:
    """(zips written, packages read), by file name, from now on."""
    written: Counter[str] = Counter()
    read: Counter[str] = Counter()
    real_write, real_read = zip_io.write_zip, opc.Package.of.__func__  # type: ignore[attr-defined]

    def write(dest: Path, *args: Any) -> None:
        written[Path(dest).name] += 1
        real_write(dest, *args)

    def read_package(cls: type[opc.Package], path: Path, zf: Any) -> opc.Package:
        read[Path(path).name] += 1
        return real_read(cls, path, zf)

    for module in (package, workbook_edit):
        monkeypatch.setattr(module, "write_zip", write)
    monkeypatch.setattr(opc.Package, "of", classmethod(read_package))
    return written, read


def test_the_audited_copy_reads_the_plan_once_and_writes_one_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = new_workbook(tmp_path / "plan.xlsx", example=True)
    written, read = _count(monkeypatch)
    out = audit_file(plan, as_of=dt.date(2027, 3, 1), out=tmp_path / "audited.xlsx").output
    assert out is not None
    assert sum(written.values()) == 1, written
    assert read[plan.name] == 1, read
    names = openpyxl.load_workbook(out, read_only=True).sheetnames
    assert names[0] == schema.SUMMARY_SHEET and names[-1] == schema.HISTORY_SHEET
    # Auditing the copy again: still one write, and each sheet replaced rather than added twice.
    written.clear()
    again = audit_file(out, as_of=dt.date(2027, 4, 1), out=tmp_path / "again.xlsx").output
    assert again is not None and sum(written.values()) == 1, written
    assert openpyxl.load_workbook(again, read_only=True).sheetnames == names


def test_the_merged_master_reads_the_master_once_and_writes_one_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = write_plan_workbook(tmp_path / "master.xlsx", clean_plan())
    copy = shutil.copyfile(master, tmp_path / "copy.xlsx")
    returned = edit_with_openpyxl(copy, tmp_path / "returned.xlsx", [Set("steps", "A-2", "notes", "Minutes sent")])
    written, read = _count(monkeypatch)
    merged = tmp_path / "merged.xlsx"
    merge(master, [returned], merged)
    assert sum(written.values()) == 1, written
    # The master's package is read once, for the merge's planning and its write; no intermediate workbook is read.
    assert read == {master.name: 1, "merge-sheets.xlsx": 1}, read
    names = openpyxl.load_workbook(merged, read_only=True).sheetnames
    conflicts = names.index(schema.MERGE_CONFLICTS_SHEET)
    assert names[conflicts + 1] == schema.MERGE_LOG_SHEET
    assert names.count(schema.MERGE_CONFLICTS_SHEET) == names.count(schema.MERGE_LOG_SHEET) == 1
