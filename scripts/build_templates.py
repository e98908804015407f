"""Regenerate the committed workbook templates from the declaration.

    python scripts/build_templates.py           # rewrite workbook_templates/blank.xlsx and example.xlsx
    python scripts/build_templates.py --check   # exit 1 when a committed template is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from reentry_workbook.workbook.generate import stale_templates, write_templates

FOLDER = Path(__file__).resolve().parent.parent / "workbook_templates"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = stale_templates(FOLDER)
        if stale:
            print(f"stale in {FOLDER}: {', '.join(stale)}; run: python scripts/build_templates.py", file=sys.stderr)
            return 1
        return 0
    FOLDER.mkdir(exist_ok=True)
    for path in write_templates(FOLDER):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
