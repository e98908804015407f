"""Many returns at once: one audited copy each, a roll-up, and broken files that do not stop the rest."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from reentry_workbook.audit.inputs import ROLLUP_NAME, expand_inputs
from reentry_workbook.audit.rollup_sheet import COLUMNS
from reentry_workbook.cli import cli
from reentry_workbook.workbook.example import EXAMPLE_AS_OF
from reentry_workbook.workbook.generate import new_workbook


def returns_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "returns"
    folder.mkdir()
    example = new_workbook(tmp_path / "example.xlsx", example=True)
    for name in ("Maria.xlsx", "Plan v3 FINAL (Joe).xlsx", "Housing team.xlsx"):
        shutil.copyfile(example, folder / name)
    (folder / "broken.xlsx").write_bytes(b"\x00\x01 not a workbook")
    (folder / "~$Maria.xlsx").write_bytes(b"lock file of an open Excel")
    (folder / "notes.txt").write_text("not a workbook either")
    return folder


def test_expand_inputs_keeps_workbooks_only(tmp_path: Path) -> None:
    folder = returns_folder(tmp_path)
    names = [item.label for item in expand_inputs([folder]).items]
    assert names == ["broken.xlsx", "Housing team.xlsx", "Maria.xlsx", "Plan v3 FINAL (Joe).xlsx"]  # as Explorer sorts


def test_folder_audit_writes_copies_and_rollup(tmp_path: Path) -> None:
    folder = returns_folder(tmp_path)
    out = tmp_path / "audited"
    result = CliRunner().invoke(
        cli, ["audit", str(folder), "-o", str(out), "--as-of", EXAMPLE_AS_OF.isoformat(), "--jobs", "2"]
    )
    assert result.exit_code == 2  # one file was unusable
    assert "broken.xlsx" in result.output and "unusable" in result.output
    assert "4 files: 3 audited, 1 unusable" in result.output
    copies = sorted(p.name for p in out.glob("*.audited.xlsx"))
    assert copies == ["Housing team.audited.xlsx", "Maria.audited.xlsx", "Plan v3 FINAL (Joe).audited.xlsx"]

    ws = openpyxl.load_workbook(out / ROLLUP_NAME).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["broken.xlsx", "Housing team.xlsx", "Maria.xlsx", "Plan v3 FINAL (Joe).xlsx"]
    broken = rows[0]
    reason = broken[[title for title, _ in COLUMNS].index("Reason it could not be audited")]
    assert reason and "broken.xlsx" in reason
    links = [ws.cell(row=i, column=9).hyperlink for i in range(3, 6)]
    assert all(link is not None and link.target.endswith(".audited.xlsx") for link in links)
    for src in folder.glob("*.xlsx"):
        assert not src.name.endswith(".audited.xlsx")
