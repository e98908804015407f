"""Formulas as Excel stores them when a member fills one down a column (shared formulas) or enters an array
formula, in the plan's own columns: every command reads the file, and every cell of the shared formula or of
the array's range is a formula cell (``formula-in-text``), on both reading paths."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from bad_inputs import rezip, sheet_parts, zip_members
from click.testing import CliRunner

from reentry_workbook.audit.pipeline import audit_plan
from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.plan import schema
from reentry_workbook.workbook.example import EXAMPLE_AS_OF
from reentry_workbook.workbook.generate import new_workbook
from reentry_workbook.xlsx.refs import column_letter

STEPS = schema.sheet("steps")
DUE = column_letter([c.key for c in STEPS.columns].index("due_date"))
RESPONSIBLE = column_letter([c.key for c in STEPS.columns].index("responsible"))
SHARED_ROWS = range(2, 7)  # a due date filled down from row 2 to row 6
ARRAY_ROWS = range(2, 4)  # an array formula over Responsible, rows 2 and 3
SHARED = {f"{DUE}{r}" for r in SHARED_ROWS}
ARRAY = {f"{RESPONSIBLE}{r}" for r in ARRAY_ROWS}


def _with_formulas(example: Path, out: Path) -> Path:
    members = dict(zip_members(example.read_bytes()))
    part = sheet_parts(members)[STEPS.name]
    text = members[part].decode()
    first = f"{DUE}{SHARED_ROWS[0]}"
    for ref in sorted(SHARED | ARRAY):
        if ref in SHARED:
            formula = (
                f'<f t="shared" ref="{first}:{DUE}{SHARED_ROWS[-1]}" si="0">H2+180</f>' if ref == first
                else '<f t="shared" si="0"/>'
            )
            body = f"{formula}<v>46300</v>"
        elif ref == f"{RESPONSIBLE}{ARRAY_ROWS[0]}":
            body = f'<f t="array" ref="{ref}:{RESPONSIBLE}{ARRAY_ROWS[-1]}">UPPER(M2:M3)</f><v>CACHED NAME</v>'
        else:
            body = "<v>CACHED NAME</v>"  # the array's other cells hold only a cached result
        kind = ' t="str"' if ref in ARRAY else ""
        pattern = rf'<c r="{ref}"( s="\d+")?(?: t="\w+")?(?:/>|>.*?</c>)'
        text, n = re.subn(pattern, rf'<c r="{ref}"\1{kind}>{body}</c>', text, count=1)
        assert n == 1, f"no cell {ref} in the example"
    members[part] = text.encode()
    out.write_bytes(rezip(members.items()))
    with zipfile.ZipFile(out) as zf:
        assert b't="shared"' in zf.read(part)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("shared")
    example = new_workbook(folder / "example.xlsx", example=True)
    return example, _with_formulas(example, folder / "filled down.xlsx")


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "exact-path"])
def test_every_cell_of_a_shared_or_array_formula_is_a_formula_cell(files: tuple[Path, Path], fast: bool) -> None:
    result = read_plan(files[1], fast=fast)
    flagged = {f.cell for f in result.findings if f.rule == "formula-in-text" and f.sheet == STEPS.name}
    assert flagged >= SHARED | ARRAY
    values = {rec.row: rec.values for rec in result.plan.rows(STEPS.key)}
    for row in ARRAY_ROWS:
        assert values[row].get("responsible") != "CACHED NAME", "an array formula's cached result was read as data"


def test_a_formula_cell_gets_formula_in_text_and_nothing_else(files: tuple[Path, Path]) -> None:
    report = audit_plan(files[1], as_of=EXAMPLE_AS_OF)
    for cell in sorted(SHARED | ARRAY):
        assert [f.rule for f in report.findings if f.sheet == STEPS.name and f.cell == cell] == ["formula-in-text"]


def _commands(example: Path, filled: Path, out: Path) -> dict[str, list[str]]:
    return {
        "audit": ["audit", str(filled), "-o", str(out / "audited.xlsx"), "--as-of", EXAMPLE_AS_OF.isoformat()],
        "diff": ["diff", str(example), str(filled), "-o", str(out / "changes.xlsx")],
        "merge": ["merge", str(example), str(filled), "-o", str(out / "merged.xlsx")],
        "merge-master": ["merge", str(filled), str(example), "-o", str(out / "merged.xlsx")],
        "packets": ["packets", str(filled), "-o", str(out / "packets")],
        "upgrade": ["upgrade", str(filled), "-o", str(out / "upgraded.xlsx")],
    }


@pytest.mark.parametrize("command", ["audit", "diff", "merge", "merge-master", "packets", "upgrade"])
def test_every_command_reads_a_workbook_with_filled_down_formulas(
    files: tuple[Path, Path], tmp_path: Path, command: str
) -> None:
    result = CliRunner().invoke(cli, _commands(*files, tmp_path)[command])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if command == "audit":
        assert result.exit_code in (0, 1)
        assert (tmp_path / "audited.xlsx").exists()
    else:
        assert result.exit_code == 0, result.output


def test_a_folder_audit_gives_the_file_a_row_not_an_unexpected_error(files: tuple[Path, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["audit", str(files[1]), str(files[0]), "--no-copy", "--json", "--as-of", EXAMPLE_AS_OF.isoformat()]
    )
    rows = {row["label"]: row for row in json.loads(result.stdout)["files"]}
    assert rows["filled down.xlsx"]["reason"] is None
