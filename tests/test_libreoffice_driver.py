"""LibreOffice headless as a test client: typing like a person, converting, and the summary PNG script."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import libreoffice
import openpyxl
import pytest
import xlsxwriter
from openpyxl.utils import get_column_letter

from reentry_workbook.plan import schema

ROOT = Path(__file__).resolve().parents[1]
RENDER_SCRIPT = ROOT / "scripts" / "render_summary_png.py"

STEPS = schema.sheet("steps")
# A few columns of the Action Steps sheet, in this order, so the test workbook looks like the real one.
KEYS = ("id", "step", "status", "due_date", "notes")
HEADERS = [STEPS.column(key).header for key in KEYS]
STATUSES = schema.CHOICES[STEPS.column("status").choices or "status"]


def _letter(key: str, shift: int = 0) -> str:
    return get_column_letter(KEYS.index(key) + 1 + shift)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _steps_workbook(path: Path) -> Path:
    """A small Action Steps sheet: headers, three rows, a status dropdown and a date column."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    ws = wb.add_worksheet(STEPS.name)
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for col, key in enumerate(KEYS):
        ws.set_column(col, col, STEPS.column(key).width)
        ws.write_string(0, col, HEADERS[col])
    for row in range(1, 4):
        ws.write_string(row, 0, f"{STEPS.id_prefix}-{row}")
        ws.write_string(row, 1, f"step {row}")
        ws.write_string(row, 2, STATUSES[0])
        ws.write_datetime(row, 3, dt.datetime(2027, 1, row), date_format)
    status_col = KEYS.index("status")
    rc = ws.data_validation(1, status_col, 50, status_col, {"validate": "list", "source": list(STATUSES)})
    assert rc == 0
    wb.close()
    return path


def _validated(ws, coordinate: str) -> bool:
    return any(coordinate in dv.sqref for dv in ws.data_validations.dataValidation)


@pytest.mark.libreoffice
def test_edit_types_pastes_and_reshapes_like_a_person(tmp_path: Path) -> None:
    src = _steps_workbook(tmp_path / "plan.xlsx")
    before = _sha(src)
    dest = tmp_path / "edited.xlsx"
    name = STEPS.name
    libreoffice.edit(
        src,
        dest,
        [
            {"op": "type", "sheet": name, "cell": f"{_letter('due_date')}2", "text": "3/15/2027"},
            {"op": "type", "sheet": name, "cell": f"{_letter('step')}3", "text": "Call the housing authority"},
            {"op": "type", "sheet": name, "cell": f"{_letter('status')}3", "text": STATUSES[1]},
            {"op": "type", "sheet": name, "cell": f"{_letter('notes')}2", "text": "TBD"},
            {"op": "paste_text", "sheet": name, "cell": f"{_letter('status')}4", "text": "Nearly there"},
            {"op": "paste_text", "sheet": name, "cell": f"{_letter('status')}2", "text": "Ongoing", "mode": "all"},
            {"op": "type", "sheet": name, "cell": "A5", "text": f"{STEPS.id_prefix}-4"},  # a row added at the end
        ],
    )
    assert _sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edited.xlsx", "plan.xlsx"]  # no lock files left

    ws = openpyxl.load_workbook(dest)[name]
    due = ws[f"{_letter('due_date')}2"]
    assert due.value == dt.datetime(2027, 3, 15)
    assert due.is_date  # a typed date gets a date format, as it does for a person
    assert ws[f"{_letter('step')}3"].value == "Call the housing authority"
    assert ws[f"{_letter('status')}3"].value == STATUSES[1]
    assert ws[f"{_letter('notes')}2"].value == "TBD"
    assert ws["A5"].value == f"{STEPS.id_prefix}-4"
    # Paste Special values: a value the dropdown would refuse, under a validation that is still there.
    assert ws[f"{_letter('status')}4"].value == "Nearly there"
    assert _validated(ws, f"{_letter('status')}4")
    # An ordinary paste replaces the target cell's validation too.
    assert ws[f"{_letter('status')}2"].value == "Ongoing"
    assert not _validated(ws, f"{_letter('status')}2")


@pytest.mark.libreoffice
def test_edit_inserts_a_column_and_deletes_a_row(tmp_path: Path) -> None:
    src = _steps_workbook(tmp_path / "plan.xlsx")
    dest = tmp_path / "edited.xlsx"
    libreoffice.edit(
        src,
        dest,
        [
            {"op": "insert_column", "sheet": STEPS.name, "before": _letter("status")},
            {"op": "type", "sheet": STEPS.name, "cell": f"{_letter('status')}1", "text": "Owner's phone"},
            {"op": "delete_row", "sheet": STEPS.name, "row": 3},
        ],
    )
    ws = openpyxl.load_workbook(dest)[STEPS.name]
    headers = [c.value for c in ws[1]]
    status_at = KEYS.index("status")
    assert headers == [*HEADERS[:status_at], "Owner's phone", *HEADERS[status_at:]]
    assert [ws.cell(row, 1).value for row in range(2, 5)] == [f"{STEPS.id_prefix}-1", f"{STEPS.id_prefix}-3", None]
    moved_date = ws[f"{_letter('due_date', shift=1)}3"]
    assert moved_date.value == dt.datetime(2027, 1, 3) and moved_date.is_date
    assert _validated(ws, f"{_letter('status', shift=1)}2")  # the dropdown moved with its column


@pytest.mark.libreoffice
def test_edit_failure_says_what_went_wrong(tmp_path: Path) -> None:
    src = _steps_workbook(tmp_path / "plan.xlsx")
    with pytest.raises(libreoffice.LibreOfficeError, match="no sheet named 'Nowhere'"):
        libreoffice.edit(src, tmp_path / "edited.xlsx", [{"op": "type", "sheet": "Nowhere", "cell": "A1", "text": "x"}])
    assert not (tmp_path / "edited.xlsx").exists()


@pytest.mark.libreoffice
def test_convert_to_xlsx_and_pdf(tmp_path: Path) -> None:
    src = _steps_workbook(tmp_path / "plan.xlsx")
    before = _sha(src)
    xlsx = libreoffice.convert(src, tmp_path / "xlsx")
    assert xlsx == tmp_path / "xlsx" / "plan.xlsx"
    ws = openpyxl.load_workbook(xlsx)[STEPS.name]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws[f"{_letter('due_date')}2"].is_date
    assert _validated(ws, f"{_letter('status')}2")

    pdf = libreoffice.convert(src, tmp_path / "pdf", "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert STEPS.column("due_date").header in text
        assert "2027-01-02" in text  # wide enough columns: the date prints, not ###
    assert _sha(src) == before


def _summary_workbook(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    steps = wb.add_worksheet(STEPS.name)
    steps.write_string(0, 0, "only on the steps sheet")
    summary = wb.add_worksheet(schema.SUMMARY_SHEET)
    summary.set_column(0, 0, 40)
    summary.set_column(1, 1, 14)
    summary.write_string(0, 0, schema.SUMMARY_SHEET)
    summary.write_string(1, 0, "Gaps found")
    summary.write_number(1, 1, 3)
    summary.write_datetime(2, 1, dt.datetime(2027, 3, 1), wb.add_format({"num_format": "yyyy-mm-dd"}))
    wb.close()
    return path


@pytest.mark.libreoffice
def test_export_sheet_pdf_holds_that_sheet_only(tmp_path: Path) -> None:
    src = _summary_workbook(tmp_path / "audited.xlsx")
    pdf = libreoffice.export_sheet_pdf(src, schema.SUMMARY_SHEET, tmp_path / "summary.pdf")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Gaps found" in text and "2027-03-01" in text
    assert "only on the steps sheet" not in text


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.libreoffice
def test_render_summary_png_script(tmp_path: Path) -> None:
    src = _summary_workbook(tmp_path / "audited.xlsx")
    before = _sha(src)
    out = tmp_path / "summary.png"
    run = subprocess.run(
        [sys.executable, str(RENDER_SCRIPT), str(src), str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path / "..",
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    width, height = _png_size(out)
    assert width > 100 and height > 20
    assert _sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audited.xlsx", "summary.png"]


def test_render_script_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    src = _summary_workbook(tmp_path / "audited.xlsx")
    out = tmp_path / "summary.png"
    out.write_bytes(b"keep me")
    run = subprocess.run(
        [sys.executable, str(RENDER_SCRIPT), str(src), str(out)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "--force" in run.stderr
    assert out.read_bytes() == b"keep me"
