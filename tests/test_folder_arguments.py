"""A folder where a command wants a workbook (or a file where it wants a folder) gets one line saying what to
give instead, never click's multi-line usage text; and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reentry_workbook.cli import cli
from reentry_workbook.workbook.generate import new_workbook


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_workbook(tmp_path_factory.mktemp("plan") / "plan.xlsx", example=True)


def _cases(plan: Path, folder: Path, out: Path) -> dict[str, list[str]]:
    return {
        "packets-plan": ["packets", str(folder), "-o", str(out)],
        "packets-output-is-a-file": ["packets", str(plan), "-o", str(plan)],
        "merge-master": ["merge", str(folder), str(plan), "-o", str(out / "merged.xlsx")],
        "merge-output": ["merge", str(plan), str(plan.with_name("x.xlsx")), "-o", str(folder)],
        "diff-old": ["diff", str(folder), str(plan)],
        "diff-new": ["diff", str(plan), str(folder)],
        "diff-output": ["diff", str(plan), str(plan), "-o", str(folder)],
        "upgrade": ["upgrade", str(folder), "-o", str(out / "upgraded.xlsx")],
        "upgrade-output": ["upgrade", str(plan), "-o", str(folder)],
        "new-output": ["new", str(folder)],
    }


@pytest.mark.parametrize("case", list(_cases(Path("p"), Path("f"), Path("o"))))
def test_a_folder_for_a_workbook_gets_one_line(plan: Path, tmp_path: Path, case: str) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(cli, _cases(plan, folder, out)[case])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Usage:" not in result.output and "Traceback" not in result.output
    assert list(out.iterdir()) == [] and list(folder.iterdir()) == []
