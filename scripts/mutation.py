"""Mutation testing of the modules users depend on most, with mutmut, one area at a time (docs/testing.md).

    python scripts/mutation.py                 # every area, one after another, then the scores
    python scripts/mutation.py dates ids       # some areas
    python scripts/mutation.py --fresh         # run every mutant again, not only those not yet caught
    python scripts/mutation.py --report        # the scores of the last runs, running nothing

mutmut (configured in setup.cfg, ``[mutmut]``) copies the package into ``mutants/``, makes one small fault at a
time and runs the tests that reach it. It keeps its results there: a mutant of a function whose code changed is
run again by itself. This script runs, area by area, every mutant not yet caught (all of them the first time, or
with ``--fresh``), so new tests get their chance at the survivors. Equivalent mutants (no input can tell them
apart from the code as written) are listed in ``tests/mutation/equivalent.txt`` and left out of the score, so
the score is "caught, of the mutants that can be caught". An entry whose mutant no longer makes the recorded
change is not left out: it is reported as stale. Exit status 1 when an area is under its target.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.txt"
MUTMUT = [sys.executable, "-m", "mutmut"]

_READER = "reentry_workbook.audit.reader."
_TYPING = "reentry_workbook.audit.value_typing."
_MERGE = "reentry_workbook.cycle.merge_decisions."


@dataclass(frozen=True)
class Area:
    what: str
    patterns: tuple[str, ...]  # mutant names, as fnmatch patterns
    target: float  # share of the catchable mutants that must be caught


AREAS: dict[str, Area] = {
    "rules": Area(
        "the rule catalogue and the rules",
        ("reentry_workbook.plan.catalogue.*", "reentry_workbook.audit.rules.*"),
        0.97,
    ),
    "dates": Area("the date reader", ("reentry_workbook.plan.dates.*",), 0.95),
    "ids": Area("IDs and references", ("reentry_workbook.plan.ids.*",), 0.95),
    "reader-typing": Area(
        "the reader's typing of values",
        (
            *(
                _TYPING + name
                for name in (
                    "x_as_text__*",
                    "x__number_text__*",
                    "x_as_number__*",
                    "x__number_of__*",
                    "x_choice_table__*",
                    "x_choices_hint__*",
                    "x_kind_code__*",
                    "x_id_reader__*",
                    "xǁRowKeyǁ__call____*",
                )
            ),
            *(
                _READER + name
                for name in (
                    "xǁ_Readerǁ_typed__*",
                    "xǁ_Readerǁ_converter__*",
                    "xǁ_Readerǁ_cell_problem__*",
                    "xǁ_Readerǁ_resolve_references__*",
                )
            ),
        ),
        0.95,
    ),
    "merge": Area(
        "the merge's three-way decisions",
        (
            _MERGE + "xǁMergeǁ*",
            _MERGE + "xǁSortedǁ*",
            _MERGE + "x__content__*",
            _MERGE + "x__content_text__*",
            _MERGE + "x__take_identical__*",
            _MERGE + "x_unreadable_cells__*",
            "reentry_workbook.cycle.merge_model.*",
            "reentry_workbook.audit.known_rows.*",
            # which member's packet a return that does not say it is one holds (else it is a full copy)
            "reentry_workbook.cycle.packets.xǁPacketIndexǁmember_holding__*",
            "reentry_workbook.cycle.packets.x_packet_held__*",
            # what a returned packet says of its cells as it was cut
            "reentry_workbook.cycle.packets.x_packet_base__*",
        ),
        0.90,
    ),
}

CAUGHT = {"killed", "timeout"}


@dataclass(frozen=True)
class Equivalent:
    name: str
    before: str
    after: str
    why: str


def read_equivalents(path: Path = EQUIVALENT) -> dict[str, Equivalent]:
    """The listed equivalent mutants by name; the format is described at the top of the file."""
    lines = [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    out: dict[str, Equivalent] = {}
    for i in range(0, len(lines), 4):
        name, before, after, why = [*lines[i : i + 4], "", "", ""][:4]
        if not (before.startswith("- ") and after.startswith("+ ") and why.startswith("why: ")):
            raise ValueError(f"{path}: the entry of {name!r} is not a name, '- ', '+ ' and 'why: ' line")
        if name in out:
            raise ValueError(f"{path}: {name} is listed twice")
        out[name] = Equivalent(name, before[2:].strip(), after[2:].strip(), why[5:].strip())
    return out


def results() -> dict[str, str]:
    """Every mutant mutmut knows, with its status; nothing before its first run."""
    if not (ROOT / "mutants").is_dir():
        return {}
    done = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True)
    found = (re.match(r"\s*(\S+): (.+)$", line) for line in done.stdout.splitlines())
    return {m[1]: m[2].strip() for m in found if m}


def not_caught(area: Area, equivalents: dict[str, Equivalent]) -> list[str]:
    """The area's mutants that no run has caught yet, less the listed equivalents that still survive as
    recorded; the area's patterns when mutmut has no results for it yet."""
    mine = {m: s for m, s in results().items() if any(fnmatch.fnmatchcase(m, p) for p in area.patterns)}
    if not mine or all(s == "not checked" for s in mine.values()):
        return list(area.patterns)
    return sorted(
        m
        for m, s in mine.items()
        if s not in CAUGHT and not (s == "survived" and m in equivalents and still_equivalent(equivalents[m]))
    )


def still_equivalent(entry: Equivalent) -> bool:
    """True when the mutant of that name still makes the recorded change."""
    shown = subprocess.run([*MUTMUT, "show", entry.name], cwd=ROOT, capture_output=True, text=True).stdout
    removed = {line[1:].strip() for line in shown.splitlines() if line.startswith("-") and not line.startswith("--")}
    added = {line[1:].strip() for line in shown.splitlines() if line.startswith("+") and not line.startswith("++")}
    return entry.before in removed and entry.after in added


def score(name: str, area: Area, statuses: dict[str, str], equivalents: dict[str, Equivalent]) -> bool:
    """Print one area's figures and what escaped; True when it meets its target."""
    mine = {m: s for m, s in statuses.items() if any(fnmatch.fnmatchcase(m, p) for p in area.patterns)}
    if not mine or all(s == "not checked" for s in mine.values()):
        print(f"{name}: not run yet")
        return False
    caught = [m for m, s in mine.items() if s in CAUGHT]
    escaped = sorted(m for m, s in mine.items() if s not in CAUGHT)
    equivalent = [m for m in escaped if m in equivalents and still_equivalent(equivalents[m])]
    stale = [m for m in escaped if m in equivalents and m not in equivalent]
    missed = [m for m in escaped if m not in equivalent]
    catchable = len(mine) - len(equivalent)
    share = len(caught) / catchable if catchable else 1.0
    verdict = "ok" if share >= area.target else f"UNDER the target of {area.target:.0%}"
    print(
        f"{name} ({area.what}): {len(caught)} caught of {catchable} catchable = {share:.1%} ({verdict}); "
        f"{len(mine)} mutants, {len(equivalent)} equivalent"
    )
    for m in missed:
        note = " (listed as equivalent, but the mutant changed: check the entry)" if m in stale else ""
        print(f"    {mine[m]}: {m}{note}")
    return share >= area.target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("areas", nargs="*", metavar="AREA", help="any of " + ", ".join(AREAS) + " (default: all)")
    parser.add_argument("--report", action="store_true", help="print the scores of the last runs, running nothing")
    parser.add_argument("--fresh", action="store_true", help="run every mutant again, caught or not")
    parser.add_argument("--max-children", type=int, default=1, help="mutants run at once (default 1)")
    args = parser.parse_args(argv)
    names = args.areas or list(AREAS)
    unknown = [n for n in names if n not in AREAS]
    if unknown:
        parser.error(f"no area {', '.join(unknown)}; the areas are {', '.join(AREAS)}")
    equivalents = read_equivalents()
    if not args.report:
        # mutmut maps tests to the functions they reach only when the tests change; code renamed or added since
        # would have no tests and seem to survive, so the map is made afresh once per run.
        (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
        for name in names:
            area = AREAS[name]
            todo = list(area.patterns) if args.fresh else not_caught(area, equivalents)
            count = "every one of its" if todo == list(area.patterns) else f"the {len(todo)} not yet caught"
            print(f"== mutmut on {area.what}: {count} mutants", flush=True)
            if todo:
                run = [*MUTMUT, "run", "--max-children", str(args.max_children), *todo]
                if subprocess.run(run, cwd=ROOT).returncode != 0:
                    print(f"mutmut stopped on {name}: the tests must pass unmutated first (see above)", file=sys.stderr)
                    return 2
    statuses = results()
    met = [score(name, AREAS[name], statuses, equivalents) for name in names]
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
