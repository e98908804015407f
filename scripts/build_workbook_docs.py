"""Regenerate docs/workbook.md (sheets, columns, kinds, choices, help) from the declaration.

    python scripts/build_workbook_docs.py           # rewrite docs/workbook.md
    python scripts/build_workbook_docs.py --check   # exit 1 when docs/workbook.md is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from reentry_workbook.plan.describe import docs_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "workbook.md"


def main(argv: list[str]) -> int:
    fresh = docs_markdown()
    if "--check" in argv:
        if not DOC.is_file() or DOC.read_text(encoding="utf-8") != fresh:
            print(f"{DOC} is stale; run: python scripts/build_workbook_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
