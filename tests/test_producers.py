"""A plan saved by other software audits exactly like the plan the tool wrote.

Each producer of tests/producers.py (Excel, the 1904 date system, Google Sheets, the Open XML SDK, Strict,
.xlsm and combinations) rewrites the bundled example's package while keeping its content. Through the command
line, each variant must give the same findings (rule, sheet, cell, ID) as the original, read back as the same
plan, leave its input untouched and write an audited copy whose parts the graft may not change are
byte-identical to the input's (a Strict file gets its findings and one line saying why no copy is written).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from producers import PRODUCERS, STRICT_PRODUCERS, build_variant, extension

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.workbook.example import EXAMPLE_AS_OF
from reentry_workbook.workbook.generate import new_workbook
from reentry_workbook.xlsx.package import parts_graft_may_change

AS_OF = EXAMPLE_AS_OF.isoformat()


def findings(stdout: str) -> list[tuple[str, str, str, str | None]]:
    return sorted((f["rule"], f["sheet"], f["cell"], f["id"]) for f in json.loads(stdout)["findings"])


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_workbook(tmp_path_factory.mktemp("example") / "plan.xlsx", example=True)


@pytest.fixture(scope="module")
def original(example: Path) -> tuple[int, list[tuple[str, str, str, str | None]], str]:
    """Exit code, findings and plan content of the tool's own example."""
    result = CliRunner().invoke(cli, ["audit", str(example), "--no-copy", "--json", "--as-of", AS_OF])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, findings(result.stdout), read_plan(example).plan.digest()


@pytest.mark.parametrize("name", list(PRODUCERS))
def test_a_plan_saved_by_other_software_audits_the_same(
    name: str, example: Path, original: tuple[int, list, str], tmp_path: Path
) -> None:
    variant = build_variant(name, example, tmp_path / "in")
    before = hashlib.sha256(variant.read_bytes()).hexdigest(), variant.stat().st_mtime_ns
    out = tmp_path / f"audited{extension(name)}"
    result = CliRunner().invoke(cli, ["audit", str(variant), "-o", str(out), "--json", "--as-of", AS_OF])

    assert "Traceback" not in result.output
    assert findings(result.stdout) == original[1]
    assert read_plan(variant).plan.digest() == original[2], "the plan read back differs from the original"
    assert (hashlib.sha256(variant.read_bytes()).hexdigest(), variant.stat().st_mtime_ns) == before
    if name in STRICT_PRODUCERS:
        assert result.exit_code == 2
        line = result.stderr.strip()
        assert len(line.splitlines()) == 1 and "Strict Open XML" in line and ".xlsx" in line, line
        assert not out.exists()
        return
    assert result.exit_code == original[0], result.stderr
    kept = members(variant)
    copy = members(out)
    may_change = parts_graft_may_change(variant, activate=True)
    for part, data in kept.items():
        if part not in may_change:
            assert copy.get(part) == data, f"{part} changed in the audited copy"


def test_a_strict_file_reports_its_findings_on_the_terminal_then_one_line(example: Path, tmp_path: Path) -> None:
    """Strict Open XML: the findings are printed (not thrown away), then one line says what to do; exit 2."""
    variant = build_variant("strict", example, tmp_path)
    result = CliRunner().invoke(cli, ["audit", str(variant), "--as-of", AS_OF])
    assert result.exit_code == 2
    assert result.stdout.startswith("Alignment") or "Alignment" in result.stdout
    assert "step-overdue" in result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert "Strict Open XML" in line and "Excel Workbook (.xlsx" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == [variant.name]


def test_a_strict_file_in_a_folder_is_a_report_only_row(example: Path, tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    build_variant("strict", example, folder)
    shutil.copyfile(example, folder / "plan.xlsx")
    result = CliRunner().invoke(cli, ["audit", str(folder), "--as-of", AS_OF, "--json"])
    rows = {row["label"]: row for row in json.loads(result.stdout)["files"]}
    strict_row = rows["plan-strict.xlsx"]
    assert strict_row["reason"] is None and strict_row["note"].startswith("report only")
    assert strict_row["output"] is None and strict_row["counts"] == rows["plan.xlsx"]["counts"]
