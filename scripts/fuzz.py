"""Fuzz the audit for longer than the test suite does.

Usage:
    python scripts/fuzz.py --examples 2000                 # 2,000 mutated workbooks
    python scripts/fuzz.py --examples 500 --seed 7         # a reproducible run
    python scripts/fuzz.py --examples 500 --keep failing/  # keep the workbook that broke the audit

The mutations and the property are those of tests/test_fuzz.py: hypothesis mutates real workbooks from the
generator, and the audit must return a report or raise a ReentryWorkbookError, never anything else. On a
failure hypothesis prints the smallest mutation list it found, and the script exits 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hypothesis import seed as fixed_seed
from test_fuzz import make_fuzzer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="mutated workbooks to try (default: 1000)")
    parser.add_argument("--seed", type=int, help="a seed, to repeat a run exactly")
    parser.add_argument("--keep", type=Path, help="folder for the workbooks that broke the audit")
    parser.add_argument(
        "--max-memory-mb",
        type=int,
        default=4000,
        help="address-space limit of this process (default: 4000); 0 for none. Beyond it the audit's "
        "MemoryError is a failure like any other, and the machine stays usable",
    )
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be at least 1")

    if args.max_memory_mb:
        try:
            import resource
        except ImportError:  # not on this system (Windows): run without a limit
            pass
        else:
            limit = args.max_memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    outcomes: Counter[str] = Counter()
    fuzz = make_fuzzer(args.examples, args.keep, lambda outcome: outcomes.update((outcome,)))
    if args.seed is not None:
        fuzz = fixed_seed(args.seed)(fuzz)
    started = time.monotonic()
    try:
        fuzz()
    except Exception as exc:  # hypothesis has printed the falsifying example
        print(f"the audit failed on a mutated workbook: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.keep is not None:
            print(f"the workbook is in {args.keep}", file=sys.stderr)
        return 1
    seen = ", ".join(f"{count} {what}" for what, count in outcomes.most_common())
    print(f"{args.examples} examples, no failure, in {time.monotonic() - started:.0f} s ({seen})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
