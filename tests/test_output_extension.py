"""Every workbook written carries the extension its content calls for: Excel refuses a macro-enabled package
named .xlsx (and an ordinary one named .xlsm). A command either keeps the right extension or refuses with one
line naming it. Through the command line only, so the tests hold however a command writes its output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from producers import build_variant

from reentry_workbook.cli import cli
from reentry_workbook.workbook.example import EXAMPLE_AS_OF
from reentry_workbook.workbook.generate import new_workbook
from reentry_workbook.xlsx.identity import identify

AS_OF = EXAMPLE_AS_OF.isoformat()


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("plans")
    example = new_workbook(folder / "plan.xlsx", example=True)
    returned = folder / "returned.xlsx"
    shutil.copyfile(example, returned)
    return {"xlsx": example, "xlsm": build_variant("xlsm", example, folder), "returned": returned}


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_auditing_a_macro_workbook_into_an_xlsx_name_is_refused_naming_xlsm(
    plans: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "copy.xlsx"
    result = CliRunner().invoke(cli, ["audit", str(plans["xlsm"]), "-o", str(out), "--as-of", AS_OF])
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert "copy.xlsm" in line and "macro" in line, line
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_macro_workbooks_audited_copy_stays_a_macro_workbook(plans: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "Maria.xlsm"
    shutil.copyfile(plans["xlsm"], src)
    result = CliRunner().invoke(cli, ["audit", str(src), "--as-of", AS_OF])
    assert result.exit_code in (0, 1), result.output
    copy = tmp_path / "Maria.audited.xlsm"
    assert identify(copy).extension == ".xlsm"
    folder = CliRunner().invoke(cli, ["audit", str(tmp_path), "-o", str(tmp_path / "out"), "--as-of", AS_OF])
    assert folder.exit_code in (0, 1), folder.output
    assert identify(tmp_path / "out" / "Maria.audited.xlsm").extension == ".xlsm"


def _commands(src: Path, out: Path, other: Path) -> dict[str, list[str]]:
    return {
        "new": ["new", str(out)],
        "merge": ["merge", str(src), str(other), "-o", str(out)],
        "diff": ["diff", str(other), str(src), "-o", str(out)],
        "upgrade": ["upgrade", str(src), "-o", str(out)],
    }


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm", ".XLSX"])
@pytest.mark.parametrize("command", ["new", "merge", "diff", "upgrade"])
@pytest.mark.parametrize("kind", ["xlsx", "xlsm"])
def test_every_written_workbook_matches_its_extension_or_is_refused_in_one_line(
    plans: dict[str, Path], tmp_path: Path, command: str, suffix: str, kind: str
) -> None:
    out = tmp_path / f"written{suffix}"
    result = CliRunner().invoke(cli, _commands(plans[kind], out, plans["returned"])[command])
    if result.exit_code == 0:
        assert identify(out).extension == suffix.lower(), f"{command} wrote {identify(out).extension} as {out.name}"
    else:
        assert result.exit_code == 2, result.output
        line = one_line(result.stderr)
        right = ".xlsm" if suffix.lower() == ".xlsx" else ".xlsx"
        assert right in line, line  # the extension the content needs
        assert not out.exists()


def test_packets_of_a_macro_workbook_are_ordinary_workbooks_named_xlsx(plans: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["packets", str(plans["xlsm"]), "-o", str(tmp_path / "packets")])
    assert result.exit_code == 0, result.output
    written = list((tmp_path / "packets").iterdir())
    assert written
    for path in written:
        assert identify(path).extension == path.suffix.lower(), path.name


def test_merging_a_macro_master_misnamed_xlsx_is_refused_by_its_content(plans: dict[str, Path], tmp_path: Path) -> None:
    # The master's name says .xlsx but its content is a macro package: the merge judges the content, not the name.
    master = tmp_path / "master.xlsx"
    shutil.copyfile(plans["xlsm"], master)
    out = tmp_path / "merged.xlsx"
    result = CliRunner().invoke(cli, ["merge", str(master), str(plans["returned"]), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "merged.xlsm" in one_line(result.stderr)
    assert not out.exists()
