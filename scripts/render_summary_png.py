"""Render the Alignment Summary sheet of an audited workbook to a PNG, as LibreOffice prints it.

    python scripts/render_summary_png.py AUDITED.xlsx OUT.png [--sheet NAME] [--dpi 80] [--force]

LibreOffice (headless, driven through tests/libreoffice.py) exports only that sheet to a one-page PDF, and
`pdftoppm` turns the page into a PNG. Used for the picture in the README. Needs soffice, python3-uno for the
system python, and poppler-utils.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import libreoffice  # noqa: E402  (tests/libreoffice.py, found through the path set above)
from pdf_png import first_page_png, require_pdftoppm  # noqa: E402  (scripts/pdf_png.py, beside this script)

from reentry_workbook.errors import ReentryWorkbookError  # noqa: E402
from reentry_workbook.plan import schema  # noqa: E402
from reentry_workbook.xlsx.atomic import check_output  # noqa: E402


def render_sheet_png(src: Path, sheet: str, out: Path, *, dpi: int = 80, force: bool = False) -> Path:
    """Render one sheet of src to a PNG at out (the whole sheet on one page); returns out.

    src is never modified; out is written atomically and an existing out is replaced only with force.
    Raises OutputError for an output that cannot be written, libreoffice.LibreOfficeError when LibreOffice
    fails (a missing sheet included), RuntimeError when pdftoppm is missing or fails.
    """
    src, out = Path(src), Path(out)
    check_output(out, force=force, inputs=(src,))
    pdftoppm = require_pdftoppm()
    with tempfile.TemporaryDirectory(prefix="render-png-") as tmp:
        pdf = libreoffice.export_sheet_pdf(src, sheet, Path(tmp) / "sheet.pdf")
        return first_page_png(pdftoppm, pdf, out, dpi=dpi)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the Alignment Summary sheet of a workbook to a PNG.")
    parser.add_argument("workbook", type=Path, help="the audited .xlsx")
    parser.add_argument("png", type=Path, help="the PNG to write")
    parser.add_argument("--sheet", default=schema.SUMMARY_SHEET, help="the sheet to render (default: %(default)s)")
    parser.add_argument("--dpi", type=int, default=80, help="resolution (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing PNG")
    args = parser.parse_args(argv)
    if not args.workbook.is_file():
        print(f"error: {args.workbook} is not a file; give the path of an audited .xlsx", file=sys.stderr)
        return 2
    try:
        out = render_sheet_png(args.workbook, args.sheet, args.png, dpi=args.dpi, force=args.force)
    except (ReentryWorkbookError, RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
