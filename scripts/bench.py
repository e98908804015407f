"""Benchmark the commands against the bare readers, side by side, in one run.

    python scripts/bench.py                     # sizes 100, 1,000, 10,000, 50,000 steps; 5 runs each
    python scripts/bench.py --sizes 100 1000 --runs 3 --copies 20 --no-write

Every figure is a whole process (interpreter start included), timed in alternating runs; the table shows
the median and the peak memory (max RSS) of each. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from reentry_workbook.model import Plan, Record

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks.md"
AS_OF = "2027-03-01"
CLI = [sys.executable, "-m", "reentry_workbook"]


def synthetic_plan(steps: int) -> Plan:
    """A plan with ``steps`` action steps and goals, improvements and measures in proportion."""
    plan = Plan()
    improvements = max(steps // 3, 1)
    goals = max(improvements // 3, 1)
    priorities = max(goals // 4, 3)
    plan.coalition = {
        "name": "Benchmark County Reentry Coalition",
        "jurisdiction": "Benchmark County",
        "plan_start": dt.date(2026, 1, 1),
        "plan_end": dt.date(2028, 12, 31),
        "coordinator": "Pat Example",
        "review_cadence": "Quarterly",
        "last_reviewed": dt.date(2027, 1, 15),
    }
    for i in range(1, priorities + 1):
        plan.rows("priorities").append(Record("priorities", f"P-{i}", {"priority": f"Priority {i}", "lead": "Lead"}))
    for i in range(1, goals + 1):
        plan.rows("goals").append(
            Record(
                "goals",
                f"G-{i}",
                {
                    "priority": f"P-{(i - 1) % priorities + 1}",
                    "goal": f"Goal {i}: raise the share of people housed at release",
                    "success_measure": "Share housed",
                    "baseline": "40%",
                    "target": "60%",
                    "target_date": dt.date(2028, 6, 30),
                },
            )
        )
    for i in range(1, improvements + 1):
        values = {
            "goal": f"G-{(i - 1) % goals + 1}",
            "improvement": f"Improvement {i}: a new practice at intake",
            "policy_or_practice": "Practice",
            "mechanism": "Agency practice or protocol",
            "stakeholders": "Sheriff; housing authority",
            "buy_in": "Supportive",
            "resources_needed": "Staff time",
            "resources_secured": "Yes",
        }
        plan.rows("improvements").append(Record("improvements", f"I-{i}", values))
        plan.rows("measures").append(
            Record(
                "measures",
                f"M-{i}",
                {
                    "improvement": f"I-{i}",
                    "measure": f"Measure {i}",
                    "baseline": "10",
                    "target": "20",
                    "latest_value": "15",
                    "latest_as_of": dt.date(2027, 2, 1),
                    "reporting_frequency": "Quarterly",
                },
            )
        )
    for i in range(1, steps + 1):
        plan.rows("steps").append(
            Record(
                "steps",
                f"A-{i}",
                {
                    "improvement": f"I-{(i - 1) % improvements + 1}",
                    "step": f"Step {i}: draft the memorandum and circulate it",
                    "serves_goal": "Yes",
                    "how_it_serves": "Moves the improvement forward",
                    "responsible": f"Member {i % 25}",
                    "start_date": dt.date(2026, 3, 1),
                    "due_date": dt.date(2027, 6, 30) if i % 10 else dt.date(2027, 1, 31),
                    "status": "In progress" if i % 7 else "Complete",
                },
            )
        )
    return plan


@dataclass
class Measure:
    label: str
    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    def run(self, cwd: Path) -> None:
        start = time.perf_counter()
        proc = subprocess.Popen(self.argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode not in (0, 1):  # 1 = the audit found errors, as it should on these plans
            raise SystemExit(f"{self.label} failed ({proc.returncode}): {stderr.strip()}")
        self.seconds.append(elapsed)
        self.peak_mb.append(usage.ru_maxrss / 1024)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> float:
        return max(self.peak_mb)


def python_snippet(code: str) -> list[str]:
    return [sys.executable, "-c", code]


CALAMINE = (
    "import sys; from python_calamine import CalamineWorkbook; wb = CalamineWorkbook.from_path(sys.argv[1]); "
    "[wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]"
)
OPENPYXL = "import sys, openpyxl; openpyxl.load_workbook(sys.argv[1])"


def bench_size(steps: int, runs: int, work: Path) -> dict[str, Measure]:
    from reentry_workbook.generate import write_plan_workbook

    plan_path = work / f"plan-{steps}.xlsx"
    write_plan_workbook(plan_path, synthetic_plan(steps), force=True)
    copies = []
    for n in range(10):
        copy = work / f"copy-{steps}-{n}.xlsx"
        shutil.copyfile(plan_path, copy)
        copies.append(str(copy))
    measures = {
        "new": Measure("new", [*CLI, "new", str(work / "new.xlsx"), "--rows", str(steps), "--force"]),
        "audit": Measure(
            "audit",
            [*CLI, "audit", str(plan_path), "--as-of", AS_OF, "-o", str(work / "audited.xlsx"), "--force"],
        ),
        "calamine": Measure("calamine", [*python_snippet(CALAMINE), str(plan_path)]),
        "openpyxl": Measure("openpyxl", [*python_snippet(OPENPYXL), str(plan_path)]),
        "merge10": Measure(
            "merge10", [*CLI, "merge", str(plan_path), *copies, "-o", str(work / "merged.xlsx"), "--force"]
        ),
    }
    for _ in range(runs):
        for m in measures.values():
            m.run(work)
    return measures


def bench_startup(runs: int, work: Path) -> dict[str, Measure]:
    measures = {
        "help": Measure("help", [*CLI, "--help"]),
        "click": Measure("click", python_snippet("import click")),
    }
    for _ in range(runs):
        for m in measures.values():
            m.run(work)
    return measures


def bench_many(copies: int, runs: int, work: Path) -> tuple[float, float]:
    """Wall time of one audit over ``copies`` copies of the example, and the sum of single audits."""
    from reentry_workbook.generate import new_workbook

    folder = work / "returns"
    folder.mkdir()
    example = work / "example.xlsx"
    new_workbook(example, example=True, force=True)
    for n in range(copies):
        shutil.copyfile(example, folder / f"return-{n:03}.xlsx")
    together = Measure("many", [*CLI, "audit", str(folder), "-o", str(work / "audited"), "--force", "--as-of", AS_OF])
    single = Measure(
        "single", [*CLI, "audit", str(example), "-o", str(work / "one.xlsx"), "--force", "--as-of", AS_OF]
    )
    for _ in range(runs):
        together.run(work)
    for _ in range(copies):
        single.run(work)
    return together.median, sum(single.seconds)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {system}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000, 50_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()

    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="reentry-bench-") as tmp:
        work = Path(tmp)
        startup = bench_startup(max(args.runs, 5), work)
        by_size = {}
        for steps in args.sizes:
            print(f"benchmarking {steps:,} steps ...", file=sys.stderr)
            by_size[steps] = bench_size(steps, args.runs, work)
        print(f"auditing {args.copies} copies ...", file=sys.stderr)
        many, singles = bench_many(args.copies, max(1, args.runs // 2), work)

    help_ratio = startup["help"].median / startup["click"].median
    lines += [
        "# Benchmarks",
        "",
        f"Produced by `python scripts/bench.py` on {dt.date.today().isoformat()}: {machine()}.",
        f"Whole processes, median of {args.runs} alternating runs; memory is the peak resident set of the process.",
        "",
        "## Start-up",
        "",
        "| command | median s | peak MB |",
        "|---|---:|---:|",
        f"| `reentry-workbook --help` | {startup['help'].median:.3f} | {startup['help'].peak:.0f} |",
        f"| `python -c \"import click\"` | {startup['click'].median:.3f} | {startup['click'].peak:.0f} |",
        "",
        f"`--help` / `import click`: **{help_ratio:.2f}x** (target 1.5x).",
        "",
        "## By plan size",
        "",
        "| action steps | new s | audit s | calamine read s | openpyxl load s | merge of 10 s "
        "| audit / calamine | audit / openpyxl | audit peak MB | merge peak MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for steps, m in by_size.items():
        lines.append(
            f"| {steps:,} | {m['new'].median:.2f} | {m['audit'].median:.2f} | {m['calamine'].median:.2f} "
            f"| {m['openpyxl'].median:.2f} | {m['merge10'].median:.2f} "
            f"| {m['audit'].median / m['calamine'].median:.2f}x | {m['audit'].median / m['openpyxl'].median:.2f}x "
            f"| {m['audit'].peak:.0f} | {m['merge10'].peak:.0f} |"
        )
    lines += ["", "## Targets", ""]
    if 10_000 in by_size:
        m = by_size[10_000]
        vs_calamine = m["audit"].median / m["calamine"].median
        vs_openpyxl = m["audit"].median / m["openpyxl"].median
        lines.append(f"- audit at 10,000 steps / calamine read: {vs_calamine:.2f}x (target 4x)")
        lines.append(f"- audit at 10,000 steps / openpyxl load: {vs_openpyxl:.2f}x (target 0.5x)")
    if 10_000 in by_size and 50_000 in by_size:
        growth = by_size[50_000]["audit"].median / by_size[10_000]["audit"].median
        lines.append(f"- audit growth 10,000 -> 50,000 steps: {growth:.2f}x (target 5.5x)")
        lines.append(f"- audit peak memory at 50,000 steps: {by_size[50_000]['audit'].peak:.0f} MB (target 400 MB)")
    lines.append(
        f"- {args.copies} copies of the example in one command: {many:.1f} s against {singles:.1f} s for "
        f"{args.copies} single audits = {many / singles:.2f}x (target 0.65x)"
    )
    lines.append(f"- `--help` / `import click`: {help_ratio:.2f}x (target 1.5x)")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
