"""Write the corpus of bad inputs into a folder, to try the tool on them by hand.

Usage:
    python scripts/make_bad_inputs.py OUTDIR                  # with a fresh plan template (the whole corpus)
    python scripts/make_bad_inputs.py OUTDIR --template T.xlsx # damage this template instead
    python scripts/make_bad_inputs.py OUTDIR --no-template     # archive-level cases only
    python scripts/make_bad_inputs.py OUTDIR --only zip-bomb --only ods

Then, for example: ``for f in OUTDIR/*; do reentry-workbook audit "$f"; echo "exit $?"; done``.
The files are built by tests/bad_inputs.py (the same code the tests use); nothing is committed as a binary.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bad_inputs import CASES, build_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="folder to write the files into (created if missing)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--template", type=Path, help="a plan workbook to damage (default: a fresh one)")
    source.add_argument("--no-template", action="store_true", help="write the archive-level cases only")
    parser.add_argument("--only", action="append", choices=sorted(CASES), metavar="CASE", help="one case (repeat)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as tmp:
        template = args.template
        if template is None and not args.no_template:
            try:
                from reentry_workbook.workbook.generate import new_workbook
            except ImportError:
                print("the generator is missing: writing the archive-level cases only", file=sys.stderr)
            else:
                template = new_workbook(Path(tmp) / "plan.xlsx")
        built = build_corpus(args.outdir, template, only=args.only)

    width = max(len(name) for name in built) if built else 0
    for name, path in built.items():
        case = CASES[name]
        print(f"{name:<{width}}  {case.outcome:<8}  {path}  ({case.about})")
    skipped = [n for n in (args.only or CASES) if n not in built]
    if skipped:
        print(f"left out without a template: {', '.join(skipped)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
