"""Benchmark the commands against their baselines, side by side, in one run, and write docs/benchmarks.md.

    python scripts/bench.py                          # the issue's sizes: 10,000 and 50,000 steps
    python scripts/bench.py --quick --no-write       # small sizes, for development
    python scripts/bench.py --sizes 10000 --runs 3 --members 10 1000 5000

Every figure is a whole process (interpreter start included) unless it says otherwise. Each command is timed in
alternating runs with its baseline (every round runs each once, in turn, after an untimed warm-up run), so a
change in the machine's load falls on both; the tables give the median wall time, the median CPU time (user +
system, of the process and its children: steadier than wall time on a busy machine) and the peak memory. At the
large sizes (``--large-from``) the slow commands (merge, upgrade) run ``--large-runs`` times, each followed by
a run of the audit they are compared with.

Rows (the targets of issue 14):

- audit / the bare python-calamine read of the same file (all sheets' values), with the summary copy and with
  ``--no-copy``, on plans in the tool's template and on plain files as another producer writes them (openpyxl:
  shared strings, no validations or formats);
- diff of two versions, merge of 10 returns, upgrade: against one audit of the plan;
- packets: building them (read excluded, timed inside a process) for several numbers of members at one plan
  size, and writing them: files per second on every core against one process (``--jobs 1``);
- the history, the brief and the mail drafts against the command each extends (at ``--upgrade-up-to`` sizes);
- start-up (``--help`` / ``import click``), and many returns in one command against single audits.

The child processes get a bytecode cache of their own (``PYTHONPYCACHEPREFIX`` in a temporary folder, written
even where ``PYTHONDONTWRITEBYTECODE`` is set, after one warm-up run), so the figures are those of an installed
package. Peak memory and CPU time are taken by GNU time (``/usr/bin/time``) where it is installed (a process
forked from this script would report at least this script's own peak, so the plans are also generated in
processes of their own); without it they come from ``wait4``.
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
QUICK = {"sizes": [1_000, 5_000], "runs": 2, "members": [10, 200, 1_000], "packet_steps": 2_000, "copies": [20]}

# The targets: (what, at most) — ratios unless they say otherwise.
TARGETS = {
    "audit": 2.5,  # audit with the summary copy / calamine read, template plans
    "audit --no-copy": 2.0,
    "plain audit": 3.5,  # the same on plain files
    "plain audit --no-copy": 2.5,
    "merge10": 4.0,  # merge of 10 returns / one audit, at 50,000 steps
    "merge10 memory": 1.5,  # its peak memory / the audit's
    "diff": 2.2,  # at 50,000 steps
    "upgrade": 3.0,  # at 10,000 steps
    "packets build": 2.0,  # building for the most members / for the fewest
    "packets write": 1.6,  # files per second on every core / in one process (at least)
    "extension": 1.25,  # the history, the brief and the mail drafts / the command they extend, at 10,000 steps
    "help": 1.5,  # --help / import click
    "many": 0.65,  # one command over the copies / the sum of single audits
}
MEMORY_TARGET_MB = 400  # audit's peak memory at 50,000 steps
MERGE_AT, DIFF_AT, UPGRADE_AT = 50_000, 50_000, 10_000  # the sizes the issue sets those targets at


def synthetic_plan(steps: int, members: int = 25, variant: int = 0) -> Plan:
    """A plan with ``steps`` action steps and goals, improvements and measures in proportion, the steps shared
    among ``members`` members. ``variant`` 1 is a later version: a tenth of the steps completed, a step in
    a hundred gone and as many new ones (what `diff` and the merge compare); ``variant`` N > 1 is the same, but
    its new steps are its own (the merge's returns: each member adds steps no other return sends)."""
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
        moved = variant and i % 10 == 3
        if variant and i % 100 == 50:
            continue  # removed in the later version
        plan.rows("steps").append(
            Record(
                "steps",
                f"A-{i}",
                {
                    "improvement": f"I-{(i - 1) % improvements + 1}",
                    "step": f"Step {i}: draft the memorandum and circulate it",
                    "serves_goal": "Yes",
                    "how_it_serves": "Moves the improvement forward",
                    "responsible": f"Member {i % members}",
                    "start_date": dt.date(2026, 3, 1),
                    "due_date": dt.date(2027, 6, 30) if i % 10 else dt.date(2027, 1, 31),
                    "status": "Complete" if moved or not i % 7 else "In progress",
                },
            )
        )
    for i in range(steps + 1, steps + 1 + (steps // 100 if variant else 0)):
        plan.rows("steps").append(
            Record(
                "steps",
                f"A-{i}",
                {
                    "improvement": f"I-{(i - 1) % improvements + 1}",
                    "step": f"New step {i}: brief the new partners" + (f" ({variant})" if variant > 1 else ""),
                    "serves_goal": "Yes",
                    "responsible": f"Member {i % members}",
                    "due_date": dt.date(2027, 9, 30),
                    "status": "Not started",
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


USE_GNU_TIME = False  # set in main()


@dataclass
class Measure:
    label: str
    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    def run(self, cwd: Path, env: dict[str, str]) -> None:
        report = cwd / "usage.txt"
        argv = [GNU_TIME, "-f", "%U %S %M", "-o", str(report), *self.argv] if USE_GNU_TIME else self.argv
        start = time.perf_counter()
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode not in (0, 1):  # 1 = the audit found errors, as it should on these plans
                err.seek(0)
                raise SystemExit(f"{self.label} failed ({proc.returncode}): {err.read().decode(errors='replace')}")
        self.seconds.append(elapsed)
        if USE_GNU_TIME:  # the figures are on the last line, after a line on a non-zero exit status
            user, system, peak_kb = report.read_text().splitlines()[-1].split()
            self.cpu.append(float(user) + float(system))
            self.peak_mb.append(int(peak_kb) / 1024)
        else:
            self.cpu.append(usage.ru_utime + usage.ru_stime)
            self.peak_mb.append(usage.ru_maxrss / 1024)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def peak(self) -> float:
        return max(self.peak_mb)


def python_snippet(code: str) -> list[str]:
    return [sys.executable, "-c", code]


CALAMINE = (
    "import sys; from python_calamine import CalamineWorkbook; wb = CalamineWorkbook.from_path(sys.argv[1]); "
    "[wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]"
)

# What no merge of full copies can do without: python-calamine reading the master, then every return on every core
# (as the merge reads them), and nothing else: no formula check, no comparison, no write.
MERGE_FLOOR = (
    "import os, sys\n"
    "from concurrent.futures import ProcessPoolExecutor\n"
    "from python_calamine import CalamineWorkbook\n"
    "def read(path):\n"
    "    wb = CalamineWorkbook.from_path(path)\n"
    "    for name in wb.sheet_names:\n"
    "        wb.get_sheet_by_name(name).to_python()\n"
    "read(sys.argv[1])\n"
    "with ProcessPoolExecutor(min(os.cpu_count() or 1, len(sys.argv) - 2)) as pool:\n"
    "    list(pool.map(read, sys.argv[2:]))\n"
)


def alternate(measures: list[Measure], rounds: int, work: Path, env: dict[str, str], warm: bool = True) -> None:
    """Run every measure once per round, in turn, after one untimed warm-up run of each."""
    if warm:
        for m in measures:
            Measure(m.label, m.argv).run(work, env)
    for _ in range(rounds):
        for m in measures:
            m.run(work, env)


def helper(env: dict[str, str], *args: str) -> str:
    """Run this script's own helper modes (plans are made in processes of their own)."""
    done = subprocess.run([sys.executable, __file__, *args], env=env, check=True, capture_output=True, text=True)
    return done.stdout


# --- what the helper processes do -----------------------------------------------------------------------------


def make_plan(steps: int, path: Path, members: int = 25, variant: int = 0) -> None:
    from reentry_workbook.workbook.generate import write_plan_workbook

    write_plan_workbook(path, synthetic_plan(steps, members, variant), force=True)


def make_plain(template_plan: Path, path: Path) -> None:
    """The same plan as another producer writes it: openpyxl, values only (shared strings, no validations, no
    formats but the date format of date cells), every sheet of the template plan."""
    import openpyxl
    from python_calamine import CalamineWorkbook

    source = CalamineWorkbook.from_path(str(template_plan))
    book = openpyxl.Workbook(write_only=True)
    for name in source.sheet_names:
        ws = book.create_sheet(name)
        for row in source.get_sheet_by_name(name).to_python():
            ws.append([None if value == "" else value for value in row])
    book.save(path)


def make_packet_returns(plan_path: Path, folder: Path) -> None:
    """The packets of ``plan_path`` as their members send them back: a tenth of each member's steps completed and
    five new steps in the empty rows below theirs (written into each packet by the tool's cell editor)."""
    from reentry_workbook.audit.reader import read_plan
    from reentry_workbook.cycle.packets import make_packets
    from reentry_workbook.plan import schema
    from reentry_workbook.xlsx.refs import parse_ref
    from reentry_workbook.xlsx.sheet_edit import SheetChanges
    from reentry_workbook.xlsx.workbook_edit import edit_cells

    for path in make_packets(plan_path, folder):
        plan = read_plan(path).plan
        letters = plan.source.columns["steps"]
        col = {key: parse_ref(f"{letter}1")[1] for key, letter in letters.items()}  # type: ignore[index]
        own = plan.rows("steps")
        changes = SheetChanges()
        for step in own[::10]:
            changes.cells[(step.row - 1, col["status"])] = schema.COMPLETE_STATUS
        last = own[-1]
        for i in range(1, 6):
            row = last.row - 1 + i
            changes.cells[(row, col["step"])] = f"A new step of {last.get('responsible')}, number {i}"
            changes.cells[(row, col["improvement"])] = last.get("improvement")
            changes.cells[(row, col["responsible"])] = last.get("responsible")
            changes.cells[(row, col["due_date"])] = dt.date(2027, 9, 30)
        edited = path.with_suffix(".edited.xlsx")
        edit_cells(path, edited, {plan.source.sheet_names["steps"]: changes})
        edited.replace(path)


def time_build(path: Path) -> float:
    """Seconds (CPU) to build the packets of the plan at ``path``, the read excluded."""
    from reentry_workbook.audit.reader import read_plan
    from reentry_workbook.cycle.packets import build_packets

    plan = read_plan(path).plan
    start = time.process_time()
    build_packets(plan)
    return time.process_time() - start


# --- the benchmarks ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: a command against its baseline."""

    what: str
    steps: int
    command: Measure
    baseline: Measure
    target: str  # key of TARGETS, "" for none

    @property
    def ratio(self) -> float:
        return self.command.median / self.baseline.median

    @property
    def cpu_ratio(self) -> float:
        return self.command.cpu_median / self.baseline.cpu_median


def audit_argv(plan: Path, out: Path | None) -> list[str]:
    tail = ["--no-copy"] if out is None else ["-o", str(out), "--force"]
    return [*CLI, "audit", str(plan), "--as-of", AS_OF, *tail]


def bench_size(steps: int, args: argparse.Namespace, work: Path, env: dict[str, str]) -> list[Row]:
    plan, later, plain = work / f"plan-{steps}.xlsx", work / f"later-{steps}.xlsx", work / f"plain-{steps}.xlsx"
    helper(env, "--make-plan", str(steps), str(plan))
    helper(env, "--make-plan", str(steps), str(later), "25", "1")
    helper(env, "--make-plain", str(plan), str(plain))
    audited = work / "audited.xlsx"
    calamine = Measure("calamine", [*python_snippet(CALAMINE), str(plan)])
    audit = Measure("audit", audit_argv(plan, audited))
    no_copy = Measure("audit --no-copy", audit_argv(plan, None))
    plain_calamine = Measure("calamine", [*python_snippet(CALAMINE), str(plain)])
    plain_audit = Measure("plain audit", audit_argv(plain, audited))
    plain_no_copy = Measure("plain audit --no-copy", audit_argv(plain, None))
    diff = Measure("diff", [*CLI, "diff", str(plan), str(later), "--as-of", AS_OF])
    alternate([calamine, audit, no_copy, plain_calamine, plain_audit, plain_no_copy, diff], args.runs, work, env)
    rows = [
        Row("audit (template plan)", steps, audit, calamine, "audit"),
        Row("audit --no-copy (template plan)", steps, no_copy, calamine, "audit --no-copy"),
        Row("audit (plain file)", steps, plain_audit, plain_calamine, "plain audit"),
        Row("audit --no-copy (plain file)", steps, plain_no_copy, plain_calamine, "plain audit --no-copy"),
        Row("diff of two versions", steps, diff, audit, "diff" if steps == DIFF_AT else ""),
    ]
    slow: list[tuple[Measure, Measure]] = []  # (command, the audit it is compared with)
    copies = [work / f"return-{steps}-{n}.xlsx" for n in range(10)]
    shutil.copyfile(later, copies[0])
    for n, copy in enumerate(copies[1:], start=2):  # (the merge adds a row two returns send alike only once)
        helper(env, "--make-plan", str(steps), str(copy), "25", str(n))
    merged = work / "merged.xlsx"
    merge = Measure("merge10", [*CLI, "merge", str(plan), *map(str, copies), "-o", str(merged), "--force"])
    slow.append((merge, audit))
    rows.append(Row("merge of 10 returns", steps, merge, audit, "merge10" if steps == MERGE_AT else ""))
    floor = Measure("merge floor", [*python_snippet(MERGE_FLOOR), str(plan), *map(str, copies)])
    slow.append((floor, audit))
    rows.append(Row("python-calamine reads of those 11 files (merge floor)", steps, floor, audit, ""))
    # The cycle as it runs: a plan of 10 members, each sending back their packet (no target; see the report).
    packet_master, returned = work / f"members-{steps}.xlsx", work / f"packet-returns-{steps}"
    helper(env, "--make-plan", str(steps), str(packet_master), "10")
    helper(env, "--make-packet-returns", str(packet_master), str(returned))
    packet_audit = Measure("audit (10 members)", audit_argv(packet_master, audited))
    packet_merge = Measure(
        "merge packets",
        [*CLI, "merge", str(packet_master), *map(str, sorted(returned.iterdir())), "-o", str(merged), "--force"],
    )
    slow.append((packet_merge, packet_audit))
    rows.append(Row("merge of 10 packet returns", steps, packet_merge, packet_audit, ""))
    if steps <= args.upgrade_up_to:
        upgrade = Measure("upgrade", [*CLI, "upgrade", str(plan), "-o", str(work / "upgraded.xlsx"), "--force"])
        slow.append((upgrade, audit))
        rows.append(Row("upgrade", steps, upgrade, audit, "upgrade" if steps == UPGRADE_AT else ""))
    if steps <= args.upgrade_up_to:
        rows += bench_extensions(steps, plan, args, work, env)
    large = steps >= args.large_from
    for _ in range(args.large_runs if large else args.runs):
        for m, baseline in slow:  # each slow run next to an audit run, so that its ratio is measured back to back
            m.run(work, env)
            baseline.run(work, env)
    for path in (plan, later, plain, *copies, packet_master, *returned.iterdir()):
        path.unlink()
    return rows


def bench_extensions(steps: int, plan: Path, args: argparse.Namespace, work: Path, env: dict[str, str]) -> list[Row]:
    """The new work of the cycle against the command it extends: an audit that carries last month's Audit
    History against one that starts it, the brief against the audit's report, packets with their mail drafts
    against packets alone."""
    last_month = work / "last-month.xlsx"
    subprocess.run([*audit_argv(plan, last_month), "--as-of", "2027-02-01"], env=env, stdout=subprocess.DEVNULL)
    audited, packets_dir = work / "audited.xlsx", work / "packets"
    audit = Measure("audit", audit_argv(plan, audited))
    history = Measure("audit --history", [*audit_argv(plan, audited), "--history", str(last_month)])
    report = Measure("audit --no-copy", audit_argv(plan, None))
    brief = Measure("brief", [*CLI, "brief", str(plan), "-o", str(work / "brief.html"), "--as-of", AS_OF, "--force"])
    packets = Measure("packets", [*CLI, "packets", str(plan), "-o", str(packets_dir), "--force"])
    drafts = Measure("packets --drafts", [*packets.argv, "--drafts", str(work / "drafts")])
    alternate([audit, history, report, brief, packets, drafts], args.runs, work, env)
    return [
        Row("audit carrying its history", steps, history, audit, "extension"),
        Row("brief", steps, brief, report, "extension"),
        Row("packets with mail drafts", steps, drafts, packets, "extension"),
    ]


@dataclass
class Packets:
    steps: int
    build: dict[int, float]  # members -> CPU seconds to build the packets (median)
    members_written: int
    one_core: Measure
    every_core: Measure

    @property
    def build_ratio(self) -> float:
        return self.build[max(self.build)] / self.build[min(self.build)]

    @property
    def write_ratio(self) -> float:
        return self.one_core.median / self.every_core.median  # the same files: the rate is the inverse of time


def bench_packets(args: argparse.Namespace, work: Path, env: dict[str, str]) -> Packets:
    steps = args.packet_steps
    build: dict[int, float] = {}
    for members in args.members:
        plan = work / f"packets-{members}.xlsx"
        helper(env, "--make-plan", str(steps), str(plan), str(members))
        build[members] = statistics.median(float(helper(env, "--time-build", str(plan))) for _ in range(args.runs))
        plan.unlink()
    members = args.write_members
    plan = work / "packets-write.xlsx"
    helper(env, "--make-plan", str(steps), str(plan), str(members))
    out = work / "packets-out"
    one = Measure("packets --jobs 1", [*CLI, "packets", str(plan), "-o", str(out), "--force", "--jobs", "1"])
    every = Measure("packets", [*CLI, "packets", str(plan), "-o", str(out), "--force"])
    alternate([one, every], args.runs, work, env)
    return Packets(steps, build, members, one, every)


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
    single = Measure("single", audit_argv(example, work / "one.xlsx"))
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


def verdict(value: float, target: str, *, at_least: bool = False) -> str:
    limit = TARGETS[target]
    ok = value >= limit if at_least else value <= limit
    return f"{'≥' if at_least else '≤'} {limit}x: " + ("met" if ok else "**not met**")


# --- the report ---------------------------------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    startup: dict[str, Measure],
    rows: list[Row],
    packets: Packets | None,
    many: list[Many],
    started: float,
    load_before: str,
) -> str:
    help_ratio = startup["help"].median / startup["click"].median
    minutes = (time.perf_counter() - started) / 60
    command = "python scripts/bench.py " + " ".join(sys.argv[1:])
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{command.strip()}` on {dt.date.today().isoformat()} in {minutes:.0f} minutes: {machine()}. "
        f"Load average before / after: {load_before} / {load()} (1, 5 and 15 minutes; above the number of cores, "
        "the machine was shared and wall times are longer than they would be on a quiet one: the CPU-time ratios "
        "hold better).",
        "",
        f"Whole processes, median of {args.runs} alternating runs after a warm-up run (the slow commands at "
        f"{args.large_from:,} steps and more: {args.large_runs} run(s), each next to an audit run). CPU time is "
        f"user + system of the process and its children; memory is the peak resident set "
        f"({'GNU time' if USE_GNU_TIME else 'wait4'}). The synthetic plans (`synthetic_plan` in the script) have a "
        "third as many improvements (each with a measure) as action steps, a ninth as many goals, 25 members and "
        "10% of the steps overdue; the later version (diff, returns of the merge) has a tenth of the steps "
        "completed, 1% removed and 1% added (each of the merge's ten returns adds steps of its own). The merge "
        "floor reads the master and the ten returns with python-calamine alone, the returns on every core as the "
        "merge reads them: no formula check, no comparison, no write (what no merge of full copies can go "
        "below). Plain files are the same plans written by openpyxl, values only. The "
        "packet returns (no target: the cycle as it runs) are the packets of the same plan shared among 10 members, "
        "each with a tenth of the member's steps completed and five steps added, merged into that plan and compared "
        "with its audit.",
        "",
        "## Commands against their baselines",
        "",
        "| command | steps | s | CPU s | peak MB | baseline | s | CPU s | peak MB | ratio | CPU ratio | target |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        c, b = row.command, row.baseline
        target = verdict(row.ratio, row.target) if row.target else ""
        lines.append(
            f"| {row.what} | {row.steps:,} | {c.median:.2f} | {c.cpu_median:.2f} | {c.peak:.0f} | {b.label} "
            f"| {b.median:.2f} | {b.cpu_median:.2f} | {b.peak:.0f} | {row.ratio:.2f}x | {row.cpu_ratio:.2f}x "
            f"| {target} |"
        )
    lines += ["", "## Targets", ""]
    for row in rows:
        if row.target:
            lines.append(
                f"- {row.what} at {row.steps:,} steps / {row.baseline.label}: {row.ratio:.2f}x "
                f"(CPU {row.cpu_ratio:.2f}x), target {verdict(row.ratio, row.target)}"
            )
        if row.target == "merge10":
            memory = row.command.peak / row.baseline.peak
            lines.append(
                f"- merge of 10 returns, peak memory / the audit's: {memory:.2f}x, target "
                f"{verdict(memory, 'merge10 memory')}"
            )
    biggest = max((r for r in rows if r.target == "audit"), key=lambda r: r.steps, default=None)
    if biggest is not None and biggest.steps >= 50_000:
        peak = biggest.command.peak
        met = "met" if peak < MEMORY_TARGET_MB else "**not met**"
        lines.append(
            f"- audit peak memory at {biggest.steps:,} steps: {peak:.0f} MB, target < {MEMORY_TARGET_MB} MB: {met}"
        )
    if packets is not None:
        lines.append(
            f"- packets of a {packets.steps:,}-step plan, building for {max(packets.build):,} members / for "
            f"{min(packets.build):,}: {packets.build_ratio:.2f}x, "
            f"target {verdict(packets.build_ratio, 'packets build')}"
        )
        lines.append(
            f"- packets written on every core / in one process ({packets.members_written} packets, files per "
            f"second): {packets.write_ratio:.2f}x, "
            f"target {verdict(packets.write_ratio, 'packets write', at_least=True)}"
        )
    for run in many:
        lines.append(
            f"- {run.copies} copies of the example in one command: {run.together.median:.1f} s against "
            f"{sum(run.singles):.1f} s for {run.copies} single audits = {run.ratio:.2f}x, target "
            f"{verdict(run.ratio, 'many')}"
        )
    lines.append(f"- `--help` / `import click`: {help_ratio:.2f}x, target {verdict(help_ratio, 'help')}")
    if packets is not None:
        lines += [
            "",
            f"## Packets of a {packets.steps:,}-step plan",
            "",
            "| members | building the packets, CPU s (read excluded) |",
            "|---:|---:|",
            *(f"| {members:,} | {seconds:.3f} |" for members, seconds in sorted(packets.build.items())),
            "",
            f"Writing {packets.members_written} packets: {packets.one_core.median:.2f} s in one process "
            f"(`--jobs 1`), {packets.every_core.median:.2f} s on {os.cpu_count()} cores.",
        ]
    lines += [
        "",
        "## Start-up and many returns",
        "",
        "| command | median s | CPU s | peak MB |",
        "|---|---:|---:|---:|",
        *(
            f"| {text} | {startup[key].median:.3f} | {startup[key].cpu_median:.3f} | {startup[key].peak:.0f} |"
            for key, text in (
                ("help", "`reentry-workbook --help`"),
                ("version", "`reentry-workbook --version`"),
                ("click", '`python -c "import click"`'),
            )
        ),
        *(
            f"| audit of {run.copies} copies of the example in one command | {run.together.median:.2f} "
            f"| {run.together.cpu_median:.2f} | {run.together.peak:.0f} |"
            for run in many
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs, for development")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000], help="plan sizes (action steps)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command (alternating)")
    parser.add_argument("--large-from", type=int, default=50_000, help="sizes from which the slow commands run less")
    parser.add_argument("--large-runs", type=int, default=1, help="runs of the merge and the upgrade at those sizes")
    parser.add_argument("--upgrade-up-to", type=int, default=UPGRADE_AT, help="largest size the upgrade runs at")
    parser.add_argument("--packet-steps", type=int, default=10_000, help="plan size of the packets benchmark")
    parser.add_argument("--members", type=int, nargs="+", default=[10, 1_000, 5_000], help="members to build for")
    parser.add_argument("--write-members", type=int, default=100, help="packets written in the write benchmark")
    parser.add_argument("--copies", type=int, nargs="+", default=[100, 50], help="copies audited in one command")
    parser.add_argument("--many-rounds", type=int, default=3, help="runs of each many-copies command")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--make-plan", nargs="+", help=argparse.SUPPRESS)  # STEPS PATH [MEMBERS [VARIANT]]
    parser.add_argument("--make-plain", nargs=2, help=argparse.SUPPRESS)  # TEMPLATE_PLAN PATH
    parser.add_argument("--make-packet-returns", nargs=2, help=argparse.SUPPRESS)  # PLAN FOLDER
    parser.add_argument("--time-build", help=argparse.SUPPRESS)  # PLAN
    args = parser.parse_args()
    if args.make_plan:
        steps, path, *rest = args.make_plan
        make_plan(int(steps), Path(path), *map(int, rest))
        return 0
    if args.make_plain:
        make_plain(Path(args.make_plain[0]), Path(args.make_plain[1]))
        return 0
    if args.make_packet_returns:
        make_packet_returns(Path(args.make_packet_returns[0]), Path(args.make_packet_returns[1]))
        return 0
    if args.time_build:
        print(time_build(Path(args.time_build)))
        return 0
    if args.quick:
        for key, value in QUICK.items():
            if parser.get_default(key) == getattr(args, key):
                setattr(args, key, value)

    global USE_GNU_TIME
    USE_GNU_TIME = gnu_time()

    started = time.perf_counter()
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="reentry-bench-") as tmp:
        work = Path(tmp)
        env = child_env(work / "pycache")
        print("start-up ...", file=sys.stderr)
        startup = bench_startup(max(args.runs, 5) * 2, work, env)
        rows: list[Row] = []
        for steps in args.sizes:
            print(f"{steps:,} steps ...", file=sys.stderr)
            rows += bench_size(steps, args, work, env)
        print(f"packets of {args.packet_steps:,} steps ...", file=sys.stderr)
        packets = bench_packets(args, work, env) if args.members else None
        print(f"auditing {' and '.join(map(str, args.copies))} copies ...", file=sys.stderr)
        many = bench_many(args.copies, args.many_rounds, work, env)

    text = report(args, startup, rows, packets, many, started, load_before)
    print(text)
    if not args.no_write:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
