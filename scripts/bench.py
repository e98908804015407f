"""Benchmark the commands against the bare readers, side by side, in one run.

    python scripts/bench.py                     # sizes 100, 1,000, 10,000, 50,000 steps; 5 runs each
    python scripts/bench.py --sizes 100 1000 --runs 3 --copies 20 --no-write

Every figure is a whole process (interpreter start included), timed in alternating runs (each round runs
every command once, in turn), and the table shows the median and the peak memory (max RSS) of each. At the
largest sizes (``--large-from``) only the audit and the bare python-calamine read (the pair the targets compare)
run ``--runs`` times; ``new``, the openpyxl load and the merge, which take minutes there, run ``--large-runs``
times. Results go to docs/benchmarks.md.

The child processes get a bytecode cache of their own (``PYTHONPYCACHEPREFIX`` in a temporary folder, written
even where ``PYTHONDONTWRITEBYTECODE`` is set, after one warm-up run), so the figures are those of an installed
package, not of compiling the project's sources on every start.

Peak memory is taken by GNU time (``/usr/bin/time``) where it is installed: a process forked from this script
would report at least this script's own peak (Linux counts the parent's pages the child started with), so the
plans are also generated in processes of their own. Without GNU time the figure comes from ``wait4``.
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

from reentry_workbook.plan.model import Plan, Record

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks.md"
AS_OF = "2027-03-01"
CLI = [sys.executable, "-m", "reentry_workbook"]
GNU_TIME = "/usr/bin/time"

# The targets.
HELP_TARGET = 1.5  # --help / import click
CALAMINE_TARGET = 4.0  # audit / bare python-calamine read, at 10,000 steps
OPENPYXL_TARGET = 0.5  # audit / bare openpyxl load, at 10,000 steps
GROWTH_TARGET = 5.5  # audit at 50,000 / audit at 10,000
MEMORY_TARGET_MB = 400  # audit's peak memory at 50,000 steps
MANY_TARGET = 0.65  # one command over the copies / the sum of single audits


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


def child_env(cache: Path) -> dict[str, str]:
    """The environment of the timed processes: a bytecode cache of their own, nothing else changed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def gnu_time() -> bool:
    """Whether GNU time is installed (it measures a process's peak memory from outside)."""
    try:
        probe = subprocess.run([GNU_TIME, "-f", "%M", "true"], capture_output=True, text=True, check=False)
    except OSError:
        return False
    return probe.returncode == 0 and probe.stderr.strip().isdigit()


@dataclass
class Measure:
    label: str
    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    def run(self, cwd: Path, env: dict[str, str]) -> None:
        report = cwd / "peak.txt"
        argv = [GNU_TIME, "-f", "%M", "-o", str(report), *self.argv] if USE_GNU_TIME else self.argv
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        stderr = proc.stderr.read()  # read before waiting: a full pipe would block the child
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):  # 1 = the audit found errors, as it should on these plans
            raise SystemExit(f"{self.label} failed ({proc.returncode}): {stderr.decode(errors='replace').strip()}")
        self.seconds.append(elapsed)
        # GNU time writes the peak (kB) on the last line, after a line on a non-zero exit status.
        peak_kb = int(report.read_text().split()[-1]) if USE_GNU_TIME else usage.ru_maxrss
        self.peak_mb.append(peak_kb / 1024)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> float:
        return max(self.peak_mb)

    @property
    def runs(self) -> int:
        return len(self.seconds)


def python_snippet(code: str) -> list[str]:
    return [sys.executable, "-c", code]


CALAMINE = (
    "import sys; from python_calamine import CalamineWorkbook; wb = CalamineWorkbook.from_path(sys.argv[1]); "
    "[wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]"
)
OPENPYXL = "import sys, openpyxl; openpyxl.load_workbook(sys.argv[1])"
USE_GNU_TIME = False  # set in main()


def make_plan(steps: int, path: Path, env: dict[str, str]) -> None:
    """Write the synthetic plan in a process of its own (see the module docstring on peak memory)."""
    subprocess.run([sys.executable, __file__, "--make-plan", str(steps), str(path)], env=env, check=True)


def alternate(measures: list[Measure], rounds: int, work: Path, env: dict[str, str]) -> None:
    """Run every measure once per round, in turn, after one untimed warm-up run of each."""
    for m in measures:
        Measure(m.label, m.argv).run(work, env)
    for _ in range(rounds):
        for m in measures:
            m.run(work, env)


def bench_size(
    steps: int, runs: int, large_runs: int, large: bool, work: Path, env: dict[str, str]
) -> dict[str, Measure]:
    plan_path = work / f"plan-{steps}.xlsx"
    make_plan(steps, plan_path, env)
    copies = []
    for n in range(10):
        copy = work / f"copy-{steps}-{n}.xlsx"
        shutil.copyfile(plan_path, copy)
        copies.append(str(copy))
    audited = str(work / "audited.xlsx")
    audit = Measure("audit", [*CLI, "audit", str(plan_path), "--as-of", AS_OF, "-o", audited, "--force"])
    calamine = Measure("calamine", [*python_snippet(CALAMINE), str(plan_path)])
    new = Measure("new", [*CLI, "new", str(work / "new.xlsx"), "--rows", str(steps), "--force"])
    openpyxl = Measure("openpyxl", [*python_snippet(OPENPYXL), str(plan_path)])
    merge = Measure("merge10", [*CLI, "merge", str(plan_path), *copies, "-o", str(work / "merged.xlsx"), "--force"])
    if large:
        alternate([audit, calamine], runs, work, env)
        for _ in range(large_runs):
            for m in (new, openpyxl, merge):
                m.run(work, env)  # minutes each at this size: no warm-up run, the cache is warm already
    else:
        alternate([new, audit, calamine, openpyxl, merge], runs, work, env)
    for path in (plan_path, *map(Path, copies)):
        path.unlink()
    return {m.label: m for m in (new, audit, calamine, openpyxl, merge)}


def bench_startup(runs: int, work: Path, env: dict[str, str]) -> dict[str, Measure]:
    measures = [
        Measure("help", [*CLI, "--help"]),
        Measure("version", [*CLI, "--version"]),
        Measure("click", python_snippet("import click")),
    ]
    alternate(measures, runs, work, env)
    return {m.label: m for m in measures}


@dataclass
class Many:
    copies: int
    together: Measure
    singles: list[float]  # one whole single audit per copy

    @property
    def ratio(self) -> float:
        return self.together.median / sum(self.singles)


def bench_many(counts: list[int], rounds: int, work: Path, env: dict[str, str]) -> list[Many]:
    """One audit over N copies of the example against N single audits of it, for each N in ``counts``.

    The single audits are interleaved with the batch runs (a share after each round) so that a change in the
    machine's load falls on both; the sum for N copies is the sum of the first N single audits.
    """
    example = work / "example.xlsx"
    subprocess.run([*CLI, "new", str(example), "--example", "--force"], env=env, stdout=subprocess.DEVNULL, check=True)
    batches = []
    for count in counts:
        folder = work / f"returns-{count}"
        folder.mkdir()
        for n in range(count):
            shutil.copyfile(example, folder / f"return-{n:03}.xlsx")
        argv = [*CLI, "audit", str(folder), "-o", str(work / f"audited-{count}"), "--force", "--as-of", AS_OF]
        batches.append(Measure(f"many{count}", argv))
    single = Measure("single", [*CLI, "audit", str(example), "-o", str(work / "one.xlsx"), "--force", "--as-of", AS_OF])
    Measure("warm-up", single.argv).run(work, env)
    total = max(counts)
    for r in range(rounds):
        for batch in batches:
            batch.run(work, env)
        share = total * (r + 1) // rounds - total * r // rounds
        for _ in range(share):
            single.run(work, env)
    return [Many(count, batch, single.seconds[:count]) for count, batch in zip(counts, batches, strict=True)]


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


def load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(
    args: argparse.Namespace,
    startup: dict[str, Measure],
    by_size: dict[int, dict[str, Measure]],
    many: list[Many],
    started: float,
    load_before: str,
) -> str:
    help_ratio = startup["help"].median / startup["click"].median
    version_ratio = startup["version"].median / startup["click"].median
    minutes = (time.perf_counter() - started) / 60
    large = [s for s in by_size if s >= args.large_from]
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `python scripts/bench.py` on {dt.date.today().isoformat()} in {minutes:.0f} minutes: "
        f"{machine()}. Load average before / after: {load_before} / {load()} (the machine is shared).",
        "",
        f"Whole processes, median of {args.runs} alternating runs after a warm-up run; memory is the peak resident "
        f"set of the process and its children ({'GNU time' if USE_GNU_TIME else 'wait4'}). The synthetic plans "
        "(`synthetic_plan` in the script) have a third as many improvements "
        "(each with a measure) as action steps, a ninth as many goals, and 10% of the steps overdue, so the audit "
        "writes hundreds of findings.",
    ]
    if large:
        shown = ", ".join(f"{s:,}" for s in large)
        lines.append(
            f"At {shown} steps, `new`, the openpyxl load and the merge ran {args.large_runs} time(s) (they take "
            f"minutes there); the audit and the python-calamine read, which the targets compare, ran {args.runs} times."
        )
    lines += [
        "",
        "## Start-up",
        "",
        "| command | median s | peak MB |",
        "|---|---:|---:|",
        f"| `reentry-workbook --help` | {startup['help'].median:.3f} | {startup['help'].peak:.0f} |",
        f"| `reentry-workbook --version` | {startup['version'].median:.3f} | {startup['version'].peak:.0f} |",
        f"| `python -c \"import click\"` | {startup['click'].median:.3f} | {startup['click'].peak:.0f} |",
        "",
        f"`--help` / `import click`: **{help_ratio:.2f}x** (target {HELP_TARGET}x). `--version` / `import click`: "
        f"{version_ratio:.2f}x (no target; click reads the version from the installed package's metadata).",
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
    lines += [
        "",
        "## Many returns in one command",
        "",
        "| copies of the example | one command s | sum of single audits s | ratio | peak MB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for run in many:
        lines.append(
            f"| {run.copies} | {run.together.median:.1f} | {sum(run.singles):.1f} | {run.ratio:.2f}x "
            f"| {run.together.peak:.0f} |"
        )
    lines += ["", "## Targets", ""]
    if 10_000 in by_size:
        m = by_size[10_000]
        vs_calamine = m["audit"].median / m["calamine"].median
        vs_openpyxl = m["audit"].median / m["openpyxl"].median
        lines.append(
            f"- audit at 10,000 steps / python-calamine read: {vs_calamine:.2f}x (target {CALAMINE_TARGET}x): "
            f"{verdict(vs_calamine <= CALAMINE_TARGET)}"
        )
        lines.append(
            f"- audit at 10,000 steps / openpyxl load: {vs_openpyxl:.2f}x (target {OPENPYXL_TARGET}x): "
            f"{verdict(vs_openpyxl <= OPENPYXL_TARGET)}"
        )
    if 10_000 in by_size and 50_000 in by_size:
        growth = by_size[50_000]["audit"].median / by_size[10_000]["audit"].median
        peak = by_size[50_000]["audit"].peak
        lines.append(
            f"- audit growth 10,000 -> 50,000 steps: {growth:.2f}x (target {GROWTH_TARGET}x): "
            f"{verdict(growth <= GROWTH_TARGET)}"
        )
        lines.append(
            f"- audit peak memory at 50,000 steps: {peak:.0f} MB (target {MEMORY_TARGET_MB} MB): "
            f"{verdict(peak < MEMORY_TARGET_MB)}"
        )
    for run in many:
        target = f" (target {MANY_TARGET}x): {verdict(run.ratio <= MANY_TARGET)}" if run.copies == 100 else ""
        lines.append(
            f"- {run.copies} copies of the example in one command: {run.together.median:.1f} s against "
            f"{sum(run.singles):.1f} s for {run.copies} single audits = {run.ratio:.2f}x{target}"
        )
    lines.append(
        f"- `--help` / `import click`: {help_ratio:.2f}x (target {HELP_TARGET}x): {verdict(help_ratio <= HELP_TARGET)}"
    )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000, 50_000])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command (alternating)")
    parser.add_argument("--large-from", type=int, default=50_000, help="sizes from which the slow commands run less")
    parser.add_argument("--large-runs", type=int, default=1, help="runs of new, openpyxl and merge at those sizes")
    parser.add_argument("--copies", type=int, nargs="+", default=[100, 50], help="copies audited in one command")
    parser.add_argument("--many-rounds", type=int, default=3, help="runs of each many-copies command")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--make-plan", nargs=2, metavar=("STEPS", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_plan:
        from reentry_workbook.workbook.generate import write_plan_workbook

        write_plan_workbook(Path(args.make_plan[1]), synthetic_plan(int(args.make_plan[0])), force=True)
        return 0

    global USE_GNU_TIME
    USE_GNU_TIME = gnu_time()

    started = time.perf_counter()
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="reentry-bench-") as tmp:
        work = Path(tmp)
        env = child_env(work / "pycache")
        print("start-up ...", file=sys.stderr)
        startup = bench_startup(max(args.runs, 5) * 2, work, env)
        by_size = {}
        for steps in args.sizes:
            print(f"benchmarking {steps:,} steps ...", file=sys.stderr)
            by_size[steps] = bench_size(steps, args.runs, args.large_runs, steps >= args.large_from, work, env)
        print(f"auditing {' and '.join(map(str, args.copies))} copies ...", file=sys.stderr)
        many = bench_many(args.copies, args.many_rounds, work, env)

    text = report(args, startup, by_size, many, started, load_before)
    print(text)
    if not args.no_write:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
