"""Render the example plan's one-page brief to a PNG, as headless Chromium prints it. Used for the README picture.

    python scripts/render_brief_png.py OUT.png [--workbook PLAN.xlsx] [--dpi 70] [--force]

The bundled example plan is written, audited in place on three as-of dates a month apart (so the Audit
History holds a trend), and briefed as of the last one; Chromium (tests/chromium.py) prints the page to a
PDF and `pdftoppm` turns it into a PNG. With --workbook the audited example is kept there too (feed it to
scripts/render_summary_png.py for the summary picture). Needs chromium and poppler-utils.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import chromium  # noqa: E402  (tests/chromium.py, found through the path set above)
from pdf_png import first_page_png, require_pdftoppm  # noqa: E402  (scripts/pdf_png.py, beside this script)

from reentry_workbook.audit.pipeline import audit_file  # noqa: E402
from reentry_workbook.cycle.brief import build_brief, write_brief  # noqa: E402
from reentry_workbook.errors import ReentryWorkbookError  # noqa: E402
from reentry_workbook.workbook.example import EXAMPLE_AS_OF  # noqa: E402
from reentry_workbook.workbook.generate import new_workbook  # noqa: E402
from reentry_workbook.xlsx.atomic import check_output  # noqa: E402

AUDITS = (EXAMPLE_AS_OF - dt.timedelta(days=59), EXAMPLE_AS_OF - dt.timedelta(days=28), EXAMPLE_AS_OF)


def audited_example(plan: Path) -> Path:
    """The example plan at ``plan``, audited in place on each of AUDITS (backups removed)."""
    new_workbook(plan, example=True, force=True)
    for as_of in AUDITS:
        result = audit_file(plan, as_of=as_of, in_place=True)
        if result.backup:
            result.backup.unlink()
    return plan


def render_brief_png(out: Path, *, workbook: Path | None = None, dpi: int = 70, force: bool = False) -> Path:
    check_output(out, force=force)
    pdftoppm = require_pdftoppm()
    with tempfile.TemporaryDirectory(prefix="render-brief-") as tmp:
        plan = audited_example(Path(tmp) / "plan.xlsx")
        page = write_brief(build_brief(plan, as_of=AUDITS[-1]), Path(tmp) / "brief.html", plan=plan)
        pdf = chromium.print_pdf(page, Path(tmp) / "brief.pdf")
        first_page_png(pdftoppm, pdf, out, dpi=dpi)
        if workbook is not None:
            shutil.copyfile(plan, workbook)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the example plan's brief to a PNG.")
    parser.add_argument("png", type=Path, help="the PNG to write")
    parser.add_argument("--workbook", type=Path, help="also keep the audited example workbook here")
    parser.add_argument("--dpi", type=int, default=70, help="resolution (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing PNG")
    args = parser.parse_args(argv)
    try:
        out = render_brief_png(args.png, workbook=args.workbook, dpi=args.dpi, force=args.force)
    except (ReentryWorkbookError, RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
