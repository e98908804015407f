"""A folder of returns as coordinators really keep it: other formats, the tool's own outputs, lock files, system
clutter, the same plan saved twice, subfolders. Everything goes through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from bad_inputs import build_case
from click.testing import CliRunner

from reentry_workbook.audit.rollup_sheet import COLUMNS
from reentry_workbook.cli import cli
from reentry_workbook.workbook.example import EXAMPLE_AS_OF
from reentry_workbook.workbook.generate import new_workbook

AS_OF = EXAMPLE_AS_OF.isoformat()
NOTE_COLUMN = [title for title, _ in COLUMNS].index("Note")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_workbook(tmp_path_factory.mktemp("example") / "example.xlsx", example=True)


def audit(*args: str | Path) -> tuple[int, dict, str]:
    """Run ``audit ARGS --json``: exit code, the JSON document, stderr."""
    result = CliRunner().invoke(cli, ["audit", *map(str, args), "--as-of", AS_OF, "--json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout), result.stderr


def rows(document: dict) -> dict[str, dict]:
    return {row["label"]: row for row in document["files"]}


def folder_of(tmp_path: Path, example: Path, *names: str) -> Path:
    folder = tmp_path / "returns"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copyfile(example, folder / name)
    return folder


# --- 4. every spreadsheet is a row ------------------------------------------------------------------------------


def test_every_spreadsheet_in_a_folder_is_a_row_with_its_reason(example: Path, tmp_path: Path) -> None:
    folder = folder_of(tmp_path, example, "Maria.xlsx", "Joe.XLSX")
    template = tmp_path / "template.xlsx"
    shutil.copyfile(example, template)
    for case, name in (
        ("legacy-xls", "Ana.xls"),
        ("xlsb", "Ben.xlsb"),
        ("numbers-document", "Cy.numbers"),
        ("ods", "Dee.ods"),
        ("csv-renamed", "Eve.CSV"),
    ):
        built = build_case(case, tmp_path / "cases", template)
        shutil.copyfile(built, folder / name)
    (folder / "notes.txt").write_text("not a spreadsheet")

    code, document, _ = audit(folder, "--no-copy")
    found = rows(document)
    expected = ["Maria.xlsx", "Joe.XLSX", "Ana.xls", "Ben.xlsb", "Cy.numbers", "Dee.ods", "Eve.CSV"]
    assert sorted(found) == sorted(expected)
    assert code == 2  # some could not be audited
    for name in ("Ana.xls", "Ben.xlsb", "Cy.numbers", "Dee.ods", "Eve.CSV"):
        assert found[name]["reason"] and name in found[name]["reason"], found[name]
    assert found["Joe.XLSX"]["reason"] is None and found["Joe.XLSX"]["counts"] == found["Maria.xlsx"]["counts"]


@pytest.mark.libreoffice
def test_an_ods_return_is_audited_as_a_report_only_row(example: Path, tmp_path: Path) -> None:
    libreoffice = pytest.importorskip("libreoffice")
    if not libreoffice.available():
        pytest.skip("LibreOffice is not installed")
    folder = folder_of(tmp_path, example, "Maria.xlsx")
    ods = libreoffice.convert(example, tmp_path / "converted", "ods")
    shutil.copyfile(ods, folder / "Joe.ods")

    _code, document, _ = audit(folder, "-o", tmp_path / "audited")
    found = rows(document)
    joe = found["Joe.ods"]
    assert joe["reason"] is None
    assert joe["note"] == "report only: save as .xlsx to get the summary copy"
    assert joe["output"] is None and joe["counts"] == found["Maria.xlsx"]["counts"]
    assert sorted(p.name for p in (tmp_path / "audited").iterdir()) == ["Maria.audited.xlsx", "rollup.xlsx"]
    sheet = openpyxl.load_workbook(tmp_path / "audited" / "rollup.xlsx").active
    notes = {r[0]: r[NOTE_COLUMN] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert notes["Joe.ods"].startswith("report only")

    single = CliRunner().invoke(cli, ["audit", str(folder / "Joe.ods"), "--as-of", AS_OF])
    assert single.exit_code == 2 and "Alignment" in single.stdout
    (line,) = single.stderr.strip().splitlines()
    assert "Joe.ods is an OpenDocument spreadsheet (.ods), so no summary copy can be written" in line


# --- 5. the tool's own outputs are never returns ------------------------------------------------------------------


def test_a_second_run_on_the_same_folder_works_and_leaves_the_outputs_out(example: Path, tmp_path: Path) -> None:
    folder = folder_of(tmp_path, example, "Maria.xlsx", "Joe.xlsx")
    first = CliRunner().invoke(cli, ["audit", str(folder), "--as-of", AS_OF])
    assert (folder / "rollup.xlsx").exists() and (folder / "Maria.audited.xlsx").exists()

    again = CliRunner().invoke(cli, ["audit", str(folder), "--as-of", AS_OF, "--force"])
    assert again.exit_code == first.exit_code, again.output
    assert "2 files: 2 audited, 0 unusable" in again.stdout

    elsewhere = tmp_path / "elsewhere"
    _code, document, _ = audit(folder, "-o", elsewhere)
    assert sorted(rows(document)) == ["Joe.xlsx", "Maria.xlsx"]
    assert all(row["reason"] is None for row in document["files"])


def test_outputs_are_recognised_by_their_properties_not_only_their_names(example: Path, tmp_path: Path) -> None:
    folder = folder_of(tmp_path, example, "Maria.xlsx")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copyfile(example, work / "Joe.xlsx")
    shutil.copyfile(example, work / "Ana.xlsx")
    CliRunner().invoke(cli, ["audit", str(work), "--as-of", AS_OF])
    shutil.copyfile(work / "rollup.xlsx", folder / "Summary for the meeting.xlsx")
    diff = CliRunner().invoke(cli, ["diff", str(example), str(work / "Joe.xlsx"), "-o", str(folder / "changes.xlsx")])
    assert diff.exit_code == 0, diff.output
    in_place = CliRunner().invoke(cli, ["audit", str(work / "Joe.xlsx"), "--in-place", "--as-of", AS_OF])
    assert in_place.exit_code in (0, 1), in_place.output
    shutil.copyfile(work / "Joe.backup.xlsx", folder / "Joe.backup.xlsx")
    shutil.copyfile(work / "Ana.audited.xlsx", folder / "Ana.audited.xlsx")

    _code, document, _ = audit(folder, "--no-copy")
    assert sorted(rows(document)) == ["Maria.xlsx"]
    assert any("Left out 4 files this tool wrote" in note for note in document["notes"])


# --- 6. clutter, lock files, duplicates, subfolders ----------------------------------------------------------


def test_clutter_is_skipped_and_a_lock_file_says_who_has_the_file_open(example: Path, tmp_path: Path) -> None:
    folder = folder_of(tmp_path, example, "plan.xlsx", "Plan v3 FINAL (Maria).xlsx")
    (folder / "~$plan.xlsx").write_bytes(b"\x05owner lock of Excel")
    (folder / "~$an v3 FINAL (Maria).xlsx").write_bytes(b"\x05owner lock of Excel, long name")
    (folder / "._plan.xlsx").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / ".~lock.plan.xlsx#").write_text(",Maria,host,05.12.2026 10:00,file:///home/maria;")

    result = CliRunner().invoke(cli, ["audit", str(folder), "--as-of", AS_OF, "--no-copy"])
    assert "2 files: 2 audited, 0 unusable" in result.stdout
    lines = result.stdout.splitlines()
    assert "plan.xlsx is open in Excel on someone's machine: the copy on disk may not have their latest edits." in lines
    assert (
        "Plan v3 FINAL (Maria).xlsx is open in Excel on someone's machine: the copy on disk may not have their "
        "latest edits." in lines
    )
    opened = "plan.xlsx is open in LibreOffice on someone's machine: the copy on disk may not have their latest edits."
    assert opened in lines
    for clutter in ("._plan", "DS_Store", "Thumbs", "~$"):
        assert not any(line.startswith(clutter) for line in lines), result.stdout


def test_two_files_holding_the_same_plan_are_flagged_as_duplicates(example: Path, tmp_path: Path) -> None:
    folder = folder_of(tmp_path, example, "plan.xlsx", "plan (1).xlsx")
    other = new_workbook(folder / "blank.xlsx")
    assert other.exists()
    _code, document, _ = audit(folder, "-o", tmp_path / "out")
    found = rows(document)
    assert found["plan.xlsx"]["same_plan_as"] == ["plan (1).xlsx"]
    assert found["plan (1).xlsx"]["same_plan_as"] == ["plan.xlsx"]
    assert found["blank.xlsx"]["same_plan_as"] == []
    sheet = openpyxl.load_workbook(tmp_path / "out" / "rollup.xlsx").active
    notes = {r[0]: r[NOTE_COLUMN] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert notes["plan.xlsx"] == "same plan as plan (1).xlsx"
    result = CliRunner().invoke(cli, ["audit", str(folder), "--as-of", AS_OF, "--no-copy"])
    assert "same plan as plan.xlsx" in result.stdout


def test_subfolders_are_searched_only_with_recursive_and_named_when_they_hold_returns(
    example: Path, tmp_path: Path
) -> None:
    folder = folder_of(tmp_path, example, "Maria.xlsx")
    (folder / "April" / "late").mkdir(parents=True)
    shutil.copyfile(example, folder / "April" / "late" / "Joe.xlsx")
    (folder / "pictures").mkdir()
    (folder / "pictures" / "logo.png").write_bytes(b"png")
    _, document, _ = audit(folder, "--no-copy")
    assert sorted(rows(document)) == ["Maria.xlsx"]
    assert document["notes"] == ["Not searched: April/ (the spreadsheets in subfolders are taken with --recursive)."]
    _, document, _ = audit(folder, "--no-copy", "--recursive")
    assert sorted(rows(document)) == ["April/late/Joe.xlsx", "Maria.xlsx"]
    assert document["notes"] == []


def test_a_subfolder_holding_only_the_tools_own_outputs_is_not_named(example: Path, tmp_path: Path) -> None:
    folder = folder_of(tmp_path, example, "Maria.xlsx")
    code, _, _ = audit(folder, "-o", folder / "audited")  # audited/ then holds the audited copy and the roll-up
    assert code == 1 and sorted(p.name for p in (folder / "audited").iterdir()) == ["Maria.audited.xlsx", "rollup.xlsx"]
    result = CliRunner().invoke(cli, ["audit", str(folder), "--as-of", AS_OF, "--no-copy", "--fail-on", "never"])
    assert result.stdout.rstrip().endswith("1 file: 1 audited, 0 unusable")  # one file, and no note


def test_a_folder_whose_returns_are_all_in_subfolders_names_them_in_its_one_line(example: Path, tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    for member in ("maria", "joe"):
        (folder / member).mkdir(parents=True)
        shutil.copyfile(example, folder / member / "plan.xlsx")
    result = CliRunner().invoke(cli, ["audit", str(folder)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: returns is a folder with no spreadsheet or mail inside, only in subfolders (joe/, maria/); add "
        "--recursive to take those, or give the path of a returned workbook."
    )


def test_a_folder_with_nothing_to_audit_says_so_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    (folder / "~$plan.xlsx").write_bytes(b"lock")
    (folder / ".DS_Store").write_bytes(b"x")
    result = CliRunner().invoke(cli, ["audit", str(folder)])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "no spreadsheet or mail inside" in line and "--recursive" in line
