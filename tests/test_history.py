"""The Audit History a workbook carries: three audits on three as-of dates, with a member's edits between them,
through audited copies, ``--history`` and ``audit --in-place``; the trend chart from the second audit on; a
history row the member deleted or typed; ``--since``."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from plans import clean_plan

from reentry_workbook.cli import cli
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import write_plan_workbook
from reentry_workbook.xlsx.package import sheet_names

DATES = (dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1))


def audit(*args: str | Path) -> dict:
    result = CliRunner().invoke(cli, ["audit", *map(str, args), "--json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def edit(path: Path, sheet_key: str, row_id: str, column_key: str, value: object) -> None:
    """Change one cell of a plan row as a member would (openpyxl load and save)."""
    book = openpyxl.load_workbook(path)
    sheet = schema.sheet(sheet_key)
    ws = book[sheet.name]
    headers = [schema.normalise_header(c.value) for c in ws[schema.HEADER_ROW]]
    col = headers.index(schema.normalise_header(sheet.column(column_key).header)) + 1
    row = next(r for r in range(schema.FIRST_DATA_ROW, ws.max_row + 1) if ws.cell(r, 1).value == row_id)
    ws.cell(row, col).value = value
    book.save(path)


def line_charts(path: Path) -> list[str]:
    """The XML of the line charts in a workbook."""
    with zipfile.ZipFile(path) as zf:
        parts = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/chart")]
    return [p for p in parts if "<c:lineChart>" in p]


def history_dates(data: dict) -> list[str]:
    return [row["as_of"] for row in data["history"]]


def test_three_audits_carry_three_rows_through_copies_history_and_in_place(tmp_path: Path) -> None:
    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    first = tmp_path / "plan.audited.xlsx"
    data = audit(plan, "--as-of", DATES[0].isoformat())
    assert history_dates(data) == [DATES[0].isoformat()] and data["since_last_audit"] is None
    assert sheet_names(first)[-1] == schema.HISTORY_SHEET
    assert line_charts(first) == []  # one audit: no trend yet

    edit(first, "steps", "A-1", "status", schema.COMPLETE_STATUS)  # the member completes a step
    second = tmp_path / "second.xlsx"
    data = audit(first, "--as-of", DATES[1].isoformat(), "-o", second)
    assert history_dates(data) == [d.isoformat() for d in DATES[:2]]
    assert data["since_last_audit"]["steps_completed"] == 1
    assert data["since_last_audit"]["previous_as_of"] == DATES[0].isoformat()
    charts = line_charts(second)
    assert len(charts) == 2 and all("<c:title>" in c for c in charts)  # from the second audit on
    with zipfile.ZipFile(second) as zf:
        drawings = " ".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/drawings/drawing"))
    assert len(re.findall(r'descr="Line chart', drawings)) == 2  # alt text

    edit(second, "steps", "A-4", "status", schema.COMPLETE_STATUS)
    data = audit(second, "--in-place", "--as-of", DATES[2].isoformat())
    assert history_dates(data) == [d.isoformat() for d in DATES]
    assert data["questions"]["revisited"]["audits"] == 3
    again = audit(second, "--in-place", "--as-of", DATES[2].isoformat())  # same date: replaced, not added
    assert history_dates(again) == [d.isoformat() for d in DATES]

    # Last month's audited copy lends its rows to a workbook that has none (the plain plan).
    data = audit(plan, "--as-of", DATES[2].isoformat(), "--history", second, "--no-copy")
    assert history_dates(data) == [d.isoformat() for d in DATES]
    assert data["since_last_audit"]["previous_as_of"] == DATES[1].isoformat()


def test_the_history_sheet_is_plain_values_a_person_can_read(tmp_path: Path) -> None:
    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    audit(plan, "--as-of", DATES[0].isoformat())
    book = openpyxl.load_workbook(tmp_path / "plan.audited.xlsx")
    ws = book[schema.HISTORY_SHEET]
    assert [c.value for c in ws[1]] == [header for _, header in schema.HISTORY_COLUMNS]
    values = [c.value for c in ws[2]]
    assert values[0] == dt.datetime(2027, 1, 1) and values[2] == "plan.xlsx"
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    assert ws.max_row == 2


def test_a_deleted_row_is_gone_and_a_typed_row_is_kept(tmp_path: Path) -> None:
    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    copy = tmp_path / "plan.audited.xlsx"
    audit(plan, "--as-of", DATES[0].isoformat())
    audit(copy, "--in-place", "--as-of", DATES[1].isoformat())
    book = openpyxl.load_workbook(copy)
    ws = book[schema.HISTORY_SHEET]
    ws.delete_rows(2)  # the member deletes the first audit's row
    ws.append(["2026-12-01", None, "typed by hand", None, "80%", 0.9, 4])  # and types one, as text
    ws.insert_cols(1)  # and moves the columns
    book.save(copy)
    data = audit(copy, "--in-place", "--as-of", DATES[2].isoformat())
    assert history_dates(data) == ["2026-12-01", DATES[1].isoformat(), DATES[2].isoformat()]
    typed = data["history"][0]
    assert (typed["file"], typed["alignment"], typed["completeness"], typed["errors"]) == ("typed by hand", 0.8, 0.9, 4)


def test_since_lists_the_rows_changed_with_the_diff_engine(tmp_path: Path) -> None:
    old = write_plan_workbook(tmp_path / "old.xlsx", clean_plan(), rows=10)
    plan = clean_plan()
    plan.rows("steps")[0].values["status"] = schema.COMPLETE_STATUS
    plan.rows("steps").pop()  # A-5 removed
    new = write_plan_workbook(tmp_path / "new.xlsx", plan, rows=10)
    data = audit(new, "--as-of", DATES[0].isoformat(), "--since", old, "--no-copy")
    changes = {(c["change"], c["id"]) for c in data["since_last_audit"]["changes"]}
    assert changes == {("Changed", "A-1"), ("Removed", "A-5")}
    changed = next(c for c in data["since_last_audit"]["changes"] if c["id"] == "A-1")
    assert changed["fields"] == [schema.sheet("steps").column("status").header]
    result = CliRunner().invoke(cli, ["audit", str(new), str(old), "--since", str(old)])
    assert result.exit_code == 2 and "one workbook" in result.output


def test_the_audited_copy_with_its_history_and_trend_passes_openxml_audit(tmp_path: Path) -> None:
    """Excel opens it without a repair prompt: the copy with two line charts and the Audit History has no error
    the plan itself does not have (openxml-audit, the Open XML SDK's rules)."""
    from openxml_audit import OpenXmlValidator, ValidationSeverity

    validator = OpenXmlValidator()

    def errors(path: Path) -> set[tuple[str, str]]:
        found = validator.validate(str(path)).errors
        return {(str(e.severity), re.sub(r"\d+", "N", e.description)) for e in found
                if e.severity is ValidationSeverity.ERROR}

    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    audit(plan, "--as-of", DATES[0].isoformat())
    copy = tmp_path / "plan.audited.xlsx"
    audit(copy, "--in-place", "--as-of", DATES[1].isoformat())
    assert len(line_charts(copy)) == 2
    assert errors(copy) <= errors(plan)


@pytest.mark.libreoffice
def test_libreoffice_prints_the_trend_and_reads_the_history_back(tmp_path: Path) -> None:
    """A real spreadsheet app opens the copy: LibreOffice prints the summary with its trend, and a copy LibreOffice
    saved still carries its history to the next audit."""
    import libreoffice

    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    audit(plan, "--as-of", DATES[0].isoformat())
    copy = tmp_path / "plan.audited.xlsx"
    audit(copy, "--in-place", "--as-of", DATES[1].isoformat())
    pdf = libreoffice.export_sheet_pdf(copy, schema.SUMMARY_SHEET, tmp_path / "summary.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Trend over the last 2 audits" in text and "Alignment and completeness" in text
    saved = libreoffice.convert(copy, tmp_path / "lo")
    data = audit(saved, "--as-of", DATES[2].isoformat(), "--no-copy")
    assert history_dates(data) == [d.isoformat() for d in DATES]
