"""The audit command end to end: a generated plan, audited the way a coordinator runs it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from reentry_workbook.audit.pipeline import audit_plan
from reentry_workbook.cli import cli
from reentry_workbook.plan import schema
from reentry_workbook.workbook.example import EXAMPLE_AS_OF, EXAMPLE_GAPS
from reentry_workbook.workbook.generate import new_workbook

AS_OF = EXAMPLE_AS_OF.isoformat()


def run(*args: str | Path) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return new_workbook(tmp_path / "Plan v3 FINAL (Maria).xlsx", example=True)


def test_example_audits_with_exactly_the_listed_gaps(example: Path) -> None:
    report = audit_plan(example, as_of=EXAMPLE_AS_OF)
    found = sorted((f.rule, f.id or f.sheet) for f in report.findings)
    assert found == sorted(EXAMPLE_GAPS)


def test_audit_writes_a_copy_beside_the_input_and_leaves_the_input_alone(example: Path) -> None:
    before = digest(example)
    result = run("audit", example, "--as-of", AS_OF)
    assert result.exit_code == 1  # the example has errors on purpose
    copy = example.with_name("Plan v3 FINAL (Maria).audited.xlsx")
    assert copy.exists()
    assert digest(example) == before
    wb = openpyxl.load_workbook(copy)
    assert wb.sheetnames[0] == schema.SUMMARY_SHEET
    assert wb.sheetnames[1:] == [*schema.SHEET_ORDER, schema.HISTORY_SHEET]
    assert f"Wrote {copy}" in result.output


def test_a_folder_given_as_the_output_of_one_workbook_takes_the_copy_under_its_usual_name(
    example: Path, tmp_path: Path
) -> None:
    """As a folder audit does: `audit plan.xlsx -o audited/` writes audited/NAME.audited.xlsx, once (not over it)."""
    folder = tmp_path / "audited"
    folder.mkdir()
    result = run("audit", example, "-o", folder, "--as-of", AS_OF, "--fail-on", "never")
    copy = folder / "Plan v3 FINAL (Maria).audited.xlsx"
    assert result.exit_code == 0 and f"Wrote {copy}" in result.output
    assert openpyxl.load_workbook(copy, read_only=True).sheetnames[0] == schema.SUMMARY_SHEET
    again = run("audit", example, "-o", folder, "--as-of", AS_OF, "--fail-on", "never")
    assert again.exit_code == 2 and "--force" in again.output


def test_audit_refuses_to_overwrite_its_copy_without_force(example: Path) -> None:
    assert run("audit", example, "--as-of", AS_OF, "--fail-on", "never").exit_code == 0
    again = run("audit", example, "--as-of", AS_OF, "--fail-on", "never")
    assert again.exit_code == 2
    assert "--force" in again.output
    assert run("audit", example, "--as-of", AS_OF, "--fail-on", "never", "--force").exit_code == 0


def test_auditing_an_audited_copy_replaces_its_summary(example: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.xlsx"
    second = tmp_path / "second.xlsx"
    assert run("audit", example, "-o", first, "--as-of", AS_OF, "--fail-on", "never").exit_code == 0
    assert run("audit", first, "-o", second, "--as-of", AS_OF, "--fail-on", "never").exit_code == 0
    names = openpyxl.load_workbook(second).sheetnames
    assert names.count(schema.SUMMARY_SHEET) == 1
    assert names[0] == schema.SUMMARY_SHEET


def test_in_place_keeps_a_backup(example: Path) -> None:
    original = example.read_bytes()
    result = run("audit", example, "--in-place", "--as-of", AS_OF, "--fail-on", "never")
    assert result.exit_code == 0, result.output
    backup = example.with_name("Plan v3 FINAL (Maria).backup.xlsx")
    assert backup.read_bytes() == original
    assert openpyxl.load_workbook(example).sheetnames[0] == schema.SUMMARY_SHEET


@pytest.mark.parametrize(("fail_on", "code"), [("error", 1), ("warning", 1), ("info", 1), ("never", 0)])
def test_exit_code_follows_fail_on(example: Path, fail_on: str, code: int) -> None:
    result = run("audit", example, "--as-of", AS_OF, "--no-copy", "--fail-on", fail_on)
    assert result.exit_code == code


def test_clean_plan_exits_zero(tmp_path: Path) -> None:
    blank = new_workbook(tmp_path / "blank.xlsx", coalition={"name": "Lake County"})
    result = run("audit", blank, "--as-of", AS_OF, "--no-copy", "--fail-on", "error")
    assert result.exit_code == 0, result.output


def test_json_output_is_the_library_report(example: Path) -> None:
    result = run("audit", example, "--as-of", AS_OF, "--json", "--no-copy")
    printed = json.loads(result.output)
    expected = audit_plan(example, as_of=EXAMPLE_AS_OF).to_dict()
    for data in (printed, expected):  # the time each ran
        data["summary"].pop("audited_at")
        for row in data["history"]:
            row.pop("audited_at")
    assert printed == expected
    assert {"alignment", "completeness", "counts", "rule_counts", "as_of", "template_version", "file"} <= set(
        printed["summary"]
    )
    assert all(set(f) == {"rule", "severity", "sheet", "cell", "id", "message", "fix"} for f in printed["findings"])


def test_terminal_report_fits_a_screen(example: Path) -> None:
    result = run("audit", example, "--as-of", AS_OF, "--no-copy")
    lines = result.output.splitlines()
    assert len(lines) <= 50
    assert max(len(line) for line in lines) <= 120
    assert "\x1b[" not in result.output  # no colour when not on a terminal


def test_unusable_input_is_one_line_and_exit_two(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.xlsx"
    bogus.write_text("name,goal\nMaria,housing\n")
    result = CliRunner().invoke(cli, ["audit", str(bogus)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not any(p.name != "notes.xlsx" for p in tmp_path.iterdir())


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.xlsx"
    bogus.write_text("hello")
    result = CliRunner().invoke(cli, ["--debug", "audit", str(bogus)])
    assert result.exit_code != 0
    assert result.exception is not None and not isinstance(result.exception, SystemExit)


def test_output_in_missing_folder_is_one_line(example: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", str(example), "-o", str(tmp_path / "nowhere" / "out.xlsx")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "nowhere").exists()

