"""The first page of a PDF as a PNG, through poppler's ``pdftoppm``; shared by the README picture scripts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from reentry_workbook.xlsx.atomic import atomic_path

PDFTOPPM_TIMEOUT = 60.0


def require_pdftoppm() -> str:
    """The path of ``pdftoppm``; RuntimeError saying what to install when it is missing."""
    found = shutil.which("pdftoppm")
    if found is None:
        raise RuntimeError("pdftoppm is not installed; install poppler-utils")
    return found


def first_page_png(pdftoppm: str, pdf: Path, out: Path, *, dpi: int) -> Path:
    """Write the first page of ``pdf`` to ``out`` (atomically) at ``dpi``; RuntimeError when pdftoppm fails."""
    prefix = pdf.with_name(f"{pdf.stem}-page")
    result = subprocess.run(
        [pdftoppm, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf), str(prefix)],
        capture_output=True,
        text=True,
        timeout=PDFTOPPM_TIMEOUT,
    )
    png = prefix.with_suffix(".png")
    if result.returncode != 0 or not png.is_file():
        raise RuntimeError(f"pdftoppm failed (exit {result.returncode}): {result.stderr.strip()}")
    with atomic_path(out) as tmp_out:
        shutil.copyfile(png, tmp_out)
    return out
