"""Write a filled plan's package as other software writes .xlsx (Excel, Google Sheets, the Open XML SDK, Strict,
macro-enabled, the 1904 date system and combinations), to try the tool on them by hand.

Usage:
    python scripts/make_producer_corpus.py OUTDIR                   # from the bundled example plan
    python scripts/make_producer_corpus.py OUTDIR --plan plan.xlsx  # from a plan workbook of your own
    python scripts/make_producer_corpus.py OUTDIR --only excel --only strict

The rewrites live in tests/producers.py (the same code tests/test_producers.py audits); nothing is committed
as a binary. Then, for example: ``reentry-workbook audit OUTDIR -o OUTDIR/audited``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from producers import PRODUCERS, build_variant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="folder to write the files into (created if missing)")
    parser.add_argument("--plan", type=Path, help="a plan workbook written by this tool (default: the example)")
    parser.add_argument("--only", action="append", choices=sorted(PRODUCERS), metavar="PRODUCER", help="repeat")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="producers-") as tmp:
        source = args.plan
        if source is None:
            from reentry_workbook.workbook.generate import new_workbook

            source = new_workbook(Path(tmp) / "example.xlsx", example=True)
        for name in args.only or PRODUCERS:
            print(f"{name:<28} {build_variant(name, source, args.outdir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
