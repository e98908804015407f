"""Write docs/bad-inputs.md: each bad input, what the user sees, and the exit code, from real runs of the CLI.

Usage:
    python scripts/bad_inputs_table.py            # run the CLI on every bad input, (re)write docs/bad-inputs.md
    python scripts/bad_inputs_table.py --check    # the same runs; exit 1 when docs/bad-inputs.md is stale
    python scripts/bad_inputs_table.py --stats    # also print each run's time and peak memory

Every row comes from running ``reentry-workbook audit INPUT -o OUTPUT`` as a separate process on one file of the
corpus (tests/bad_inputs.py, built on a fresh plan template) or on one command-line situation (an unreadable
input, an output folder that cannot be written, the output naming the input). tests/test_bad_inputs_cli.py
uses the same functions and checks that each row still matches what it observes, so the table cannot drift.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bad_inputs import CASES, build_case, build_corpus  # noqa: E402

DOC = ROOT / "docs" / "bad-inputs.md"
AS_OF = "2027-01-01"  # the --as-of date of every audit run, so the table does not change with the calendar
HANG_GUARD_SECONDS = 300.0  # a run still going after this long is killed (a hang, not a slow machine)
AUDITED = ".audited"

# Runs the command given after its two arguments and reports the command's peak resident memory (ru_maxrss,
# kB on Linux) on the file descriptor named by its first argument. The command is spawned from this small
# process, not from the caller: Linux carries the spawning process's own peak into the child's figure.
_LAUNCHER = """
import os, sys
fd = int(sys.argv[1])
os.set_inheritable(fd, False)
command = sys.argv[2:]
pid = os.posix_spawn(command[0], command, os.environ)
_, status, usage = os.wait4(pid, 0)
os.write(fd, str(usage.ru_maxrss).encode())
os.close(fd)
sys.exit(os.waitstatus_to_exitcode(status))
"""

# Started instead of ``-m reentry_workbook`` when a run simulates what root cannot see (a file it may not read,
# a folder it may not write in): os.open / os.access refuse the names in the REENTRY_TEST_DENY variable.
_DENY_PRELUDE = """
import os, sys
_denied = set(filter(None, os.environ.pop("REENTRY_TEST_DENY", "").split(os.pathsep)))
_open, _access = os.open, os.access
def _refused(path):
    return os.path.abspath(os.fspath(path)) in _denied
def _deny_open(path, *args, **kwargs):
    if _refused(path):
        raise PermissionError(13, "Permission denied", os.fspath(path))
    return _open(path, *args, **kwargs)
def _deny_access(path, mode, *args, **kwargs):
    if _refused(path) and mode & (os.R_OK | os.W_OK):
        return False
    return _access(path, mode, *args, **kwargs)
os.open, os.access = _deny_open, _deny_access
from reentry_workbook.cli import main
sys.argv[0] = "reentry-workbook"
main()
"""


# --------------------------------------------------------------------------------------------------------------
# Running the CLI
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One finished run of the CLI."""

    exit_code: int
    stdout: str
    stderr: str
    peak_kb: int  # peak resident memory of the CLI process
    seconds: float

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


class Hang(Exception):
    """A run that outlived the hang guard (it was killed)."""


def run_cli(
    args: Sequence[str | Path],
    *,
    cwd: Path,
    tmpdir: Path,
    deny: Sequence[Path] = (),
    timeout: float = HANG_GUARD_SECONDS,
) -> Run:
    """Run ``reentry-workbook ARGS`` as its own process, with TMPDIR set to ``tmpdir``; measure time and memory.

    ``deny`` lists paths the process is refused (os.open and os.access say permission denied), for the
    situations root cannot otherwise produce.
    """
    env = dict(os.environ)
    env["TMPDIR"] = str(tmpdir)
    for noise in ("COLUMNS", "LINES", "FORCE_COLOR", "CLICOLOR_FORCE"):
        env.pop(noise, None)
    if deny:
        env["REENTRY_TEST_DENY"] = os.pathsep.join(os.path.abspath(p) for p in deny)
        program = [sys.executable, "-c", _DENY_PRELUDE]
    else:
        program = [sys.executable, "-m", "reentry_workbook"]
    read_fd, write_fd = os.pipe()
    command = [sys.executable, "-c", _LAUNCHER, str(write_fd), *program, *(str(a) for a in args)]
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
    finally:
        os.close(write_fd)
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the CLI it started: their own session
            proc.communicate()
            raise Hang(f"reentry-workbook {' '.join(map(str, args))} still ran after {timeout:.0f} s") from None
        seconds = time.monotonic() - started
        with os.fdopen(read_fd, "rb") as fh:
            read_fd = -1
            peak = fh.read().decode() or "0"
    finally:
        if read_fd >= 0:
            os.close(read_fd)
    return Run(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), int(peak), seconds)


# --------------------------------------------------------------------------------------------------------------
# Files and folders before and after a run
# --------------------------------------------------------------------------------------------------------------


def fingerprint(path: Path) -> tuple[str, int]:
    """(sha256 of the bytes, modification time in ns) of a file; follows symbolic links."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def listing(folder: Path) -> list[str]:
    """Every name under ``folder`` (recursive, hidden files included), as sorted relative paths."""
    if not folder.is_dir():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --------------------------------------------------------------------------------------------------------------
# What a user sees
# --------------------------------------------------------------------------------------------------------------


def shown_line(run: Run, paths: dict[str, str]) -> str:
    """The line a user reads: the error line (after the report's headline when there is one), or the audit's
    headline and the copy it wrote.

    ``paths`` maps path texts given on the command line to what the table shows instead (the file name), so
    temporary folders never reach the table.
    """
    lines = [line.strip() for line in run.stdout.splitlines()]
    headline = next((line for line in lines if line.startswith("Alignment")), "")
    if run.exit_code == 2:
        error = " ".join(line.strip() for line in run.stderr.strip().splitlines())
        text = "; ".join(" ".join(part.split()) for part in (headline, error) if part)  # a report, then why no copy
    else:
        wrote = next((line for line in lines if line.startswith("Wrote ")), "")
        text = "; ".join(" ".join(part.split()) for part in (headline, wrote) if part)
    for long, short in sorted(paths.items(), key=lambda item: -len(item[0])):
        text = text.replace(long, short)
    return text


@dataclass
class Setup:
    """A situation made ready in a folder of its own: the arguments, and what the run must leave alone."""

    args: list[str]
    inputs: list[Path]  # files whose bytes and modification time must not change
    watched: list[Path]  # folders that must hold exactly the same names afterwards (plus ``output`` on success)
    output: Path | None = None  # the audited copy an audit writes
    deny: list[Path] = field(default_factory=list)
    lock: Callable[[], None] | None = None  # take a permission away for the run only (not as root)
    unlock: Callable[[], None] | None = None

    def shown_paths(self, root: Path) -> dict[str, str]:
        paths: dict[str, str] = {}
        for arg in self.args:
            if os.sep in arg or arg.startswith("/"):
                paths[arg] = Path(arg).name
        paths[str(root) + os.sep] = ""
        return paths


@dataclass(frozen=True)
class Situation:
    """A command-line situation that is not a file of the corpus."""

    name: str
    about: str
    prepare: Callable[[Path, Path], Setup]  # (fresh folder, a valid plan workbook) -> setup
    available: Callable[[], bool] = lambda: True


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _copy(good: Path, to: Path) -> Path:
    shutil.copyfile(good, to)
    return to


def _audit_args(src: Path, out: Path) -> list[str]:
    return ["audit", str(src), "-o", str(out), "--as-of", AS_OF]


def _unreadable(root: Path, good: Path) -> Setup:
    src = _copy(good, root / "locked.xlsx")
    out = root / "out"
    out.mkdir()
    setup = Setup(_audit_args(src, out / "locked.audited.xlsx"), [src], [root])
    if _as_root():
        setup.deny = [src]  # root reads any file: refuse it inside the process instead
    else:
        mode = stat.S_IMODE(src.stat().st_mode)
        setup.lock, setup.unlock = (lambda: src.chmod(0)), (lambda: src.chmod(mode))
    return setup


def _fifo(root: Path, good: Path) -> Setup:
    pipe = root / "plan.xlsx"
    os.mkfifo(pipe)
    out = root / "out"
    out.mkdir()
    return Setup(_audit_args(pipe, out / "plan.audited.xlsx"), [], [root])


def _folder_named_like_a_file(root: Path, good: Path) -> Setup:
    folder = root / "plan.xlsx"
    folder.mkdir()
    out = root / "out"
    out.mkdir()
    return Setup(_audit_args(folder, out / "plan.audited.xlsx"), [], [root])


def _missing_input(root: Path, good: Path) -> Setup:
    out = root / "out"
    out.mkdir()
    return Setup(_audit_args(root / "Plan v3 FINAL.xlsx", out / "plan.audited.xlsx"), [], [root])


def _output_parent_is_a_file(root: Path, good: Path) -> Setup:
    src = _copy(good, root / "plan.xlsx")
    blocker = root / "audited"
    blocker.write_text("a file where the output folder should be\n")
    return Setup(_audit_args(src, blocker / "plan.audited.xlsx"), [src, blocker], [root])


def _output_folder_read_only(root: Path, good: Path) -> Setup:
    src = _copy(good, root / "plan.xlsx")
    folder = root / "shared"
    folder.mkdir()
    setup = Setup(_audit_args(src, folder / "plan.audited.xlsx"), [src], [root])
    if _as_root():
        setup.deny = [folder]  # root writes anywhere: refuse it inside the process instead
    else:
        setup.lock, setup.unlock = (lambda: folder.chmod(0o555)), (lambda: folder.chmod(0o755))
    return setup


def _output_is_input(root: Path, good: Path) -> Setup:
    src = _copy(good, root / "plan.xlsx")
    return Setup(_audit_args(src, src), [src], [root])


def _output_is_input_symlink(root: Path, good: Path) -> Setup:
    src = _copy(good, root / "plan.xlsx")
    link = root / "link.xlsx"
    link.symlink_to(src.name)
    return Setup(_audit_args(src, link), [src], [root])


def _output_is_input_hard_link(root: Path, good: Path) -> Setup:
    src = _copy(good, root / "plan.xlsx")
    twin = root / "twin.xlsx"
    os.link(src, twin)
    return Setup(_audit_args(src, twin), [src], [root])


def _output_exists(root: Path, good: Path) -> Setup:
    src = _copy(good, root / "plan.xlsx")
    earlier = root / "plan.audited.xlsx"
    earlier.write_bytes(b"an earlier audited copy")
    return Setup(_audit_args(src, earlier), [src, earlier], [root])


def _macro_workbook_to_xlsx_name(root: Path, good: Path) -> Setup:
    src = build_case("xlsm-macros", root, good)
    out = root / "out"
    out.mkdir()
    return Setup(_audit_args(src, out / "copy.xlsx"), [src], [root])


def _folder_given_to(command: str) -> Callable[[Path, Path], Setup]:
    def prepare(root: Path, good: Path) -> Setup:
        src = _copy(good, root / "plan.xlsx")
        folder = root / "returns"
        folder.mkdir()
        _copy(good, folder / "Maria.xlsx")
        out = root / "out"
        out.mkdir()
        args = {
            "packets": ["packets", str(folder), "-o", str(out)],
            "merge": ["merge", str(folder), str(src), "-o", str(out / "merged.xlsx")],
            "diff": ["diff", str(src), str(folder)],
            "upgrade": ["upgrade", str(folder), "-o", str(out / "upgraded.xlsx")],
        }[command]
        return Setup(args, [src, folder / "Maria.xlsx"], [root])

    return prepare


def _can_symlink() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            (Path(tmp) / "link").symlink_to("target")
        except (OSError, NotImplementedError):
            return False
    return True


SITUATIONS: dict[str, Situation] = {
    s.name: s
    for s in (
        Situation(
            "unreadable-file",
            "a workbook the user may not read (permission denied; simulated in the process when run as root)",
            _unreadable,
        ),
        Situation("fifo-input", "a named pipe (FIFO) given as the workbook", _fifo, lambda: hasattr(os, "mkfifo")),
        Situation("folder-named-like-a-file", "an empty folder named plan.xlsx", _folder_named_like_a_file),
        Situation("missing-input", "a workbook name that does not exist", _missing_input),
        Situation("output-parent-is-a-file", "an output path whose folder is a regular file", _output_parent_is_a_file),
        Situation(
            "output-folder-read-only",
            "an output folder the user may not write in (simulated in the process when run as root)",
            _output_folder_read_only,
        ),
        Situation("output-is-input", "-o naming the input file itself", _output_is_input),
        Situation(
            "output-is-input-symlink", "-o naming a symbolic link to the input", _output_is_input_symlink, _can_symlink
        ),
        Situation(
            "output-is-input-hard-link",
            "-o naming a hard link to the input",
            _output_is_input_hard_link,
            lambda: hasattr(os, "link"),
        ),
        Situation("output-exists", "an audited copy already there, without --force", _output_exists),
        Situation(
            "macro-workbook-to-xlsx-name",
            "-o naming an .xlsx copy of a macro-enabled .xlsm (Excel refuses macros under .xlsx)",
            _macro_workbook_to_xlsx_name,
        ),
        *(
            Situation(f"folder-given-to-{command}", f"{command} given a folder for the plan", _folder_given_to(command))
            for command in ("packets", "merge", "diff", "upgrade")
        ),
    )
}


# --------------------------------------------------------------------------------------------------------------
# Observing one case
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Observation:
    name: str
    about: str
    run: Run
    shown: str
    setup: Setup
    before: dict[str, tuple[str, int]]  # input -> fingerprint before the run
    after: dict[str, tuple[str, int]]
    listed_before: dict[str, list[str]]  # watched folder -> names before the run
    listed_after: dict[str, list[str]]
    tmp_left: list[str]  # what the run left in its TMPDIR

    @property
    def exit_code(self) -> int:
        return self.run.exit_code


def corpus_output(path: Path, out_dir: Path) -> Path:
    """Where the audited copy of a corpus file goes: ``out_dir/STEM.audited.SUFFIX``."""
    return out_dir / f"{path.stem}{AUDITED}{path.suffix or '.xlsx'}"


def corpus_setup(path: Path, out_dir: Path) -> Setup:
    out_dir.mkdir(parents=True, exist_ok=True)
    output = corpus_output(path, out_dir)
    return Setup(_audit_args(path, output), [path], [path.parent, out_dir], output=output)


def observe(name: str, about: str, setup: Setup, root: Path, *, timeout: float = HANG_GUARD_SECONDS) -> Observation:
    """Run the CLI as ``setup`` says, from ``root``; record what changed around it."""
    tmpdir = root / ".tmp-of-run"
    tmpdir.mkdir(exist_ok=True)

    def names(folder: Path) -> list[str]:
        return [n for n in listing(folder) if not n.startswith(tmpdir.name)]

    before = {str(p): fingerprint(p) for p in setup.inputs}
    listed_before = {str(f): names(f) for f in setup.watched}
    if setup.lock is not None:
        setup.lock()
    try:
        run = run_cli(setup.args, cwd=root, tmpdir=tmpdir, deny=setup.deny, timeout=timeout)
    finally:
        if setup.unlock is not None:
            setup.unlock()
    after = {str(p): fingerprint(p) for p in setup.inputs}
    listed_after = {str(f): names(f) for f in setup.watched}
    tmp_left = listing(tmpdir)
    shutil.rmtree(tmpdir, ignore_errors=True)
    shown = shown_line(run, setup.shown_paths(root))
    return Observation(name, about, run, shown, setup, before, after, listed_before, listed_after, tmp_left)


def observe_situation(situation: Situation, root: Path, good: Path) -> Observation:
    root.mkdir(parents=True, exist_ok=True)
    setup = situation.prepare(root, good)
    return observe(situation.name, situation.about, setup, root)


# --------------------------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md(text: str) -> str:
    """Text for one table cell: markdown characters escaped, so the message reads exactly as printed."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def table_row(observation: Observation) -> str:
    return f"| `{observation.name}` | {md(observation.about)} | {md(observation.shown)} | {observation.exit_code} |"


def row_name(line: str) -> str | None:
    """The case name of a table row, or None for any other line."""
    match = re.match(r"\| `([^`]+)` \|", line)
    return match.group(1) if match else None


def doc_rows(text: str) -> dict[str, str]:
    return {name: line for line in text.splitlines() if (name := row_name(line))}


HEADER = f"""# Bad inputs: what the user sees

Generated by `python scripts/bad_inputs_table.py` from real runs of `reentry-workbook audit INPUT -o OUTPUT
--as-of {AS_OF}` (or of the command a situation names), one process per row; `tests/test_bad_inputs_cli.py`
checks every row against its own runs, and `python scripts/bad_inputs_table.py --check` says when this page is
stale. The files are built by `tests/bad_inputs.py` (`python scripts/make_bad_inputs.py FOLDER` writes them for
trying by hand).

Exit codes: 0 audited, nothing at or above `--fail-on` (default: error); 1 audited, with findings at or above
it; 2 not usable, or a usage problem: one line says what is wrong and what to do, nothing is written, and the
input is left exactly as it was. An audited file's line is the report's headline and the copy it wrote; a file
audited as a report only (Strict Open XML; in a folder also .ods, .xls and .xlsb) shows its headline, then the
line saying why no summary copy was written.

"""


def render(observations: Sequence[Observation]) -> str:
    corpus = [o for o in observations if o.name in CASES]
    situations = [o for o in observations if o.name not in CASES]
    lines = [HEADER.rstrip("\n"), ""]
    for title, rows in (("Files", corpus), ("Command-line situations", situations)):
        if not rows:
            continue
        lines += [f"## {title}", "", "| Bad input | What it is | What the user sees | Exit |", "|---|---|---|---|"]
        lines += [table_row(o) for o in rows]
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# The whole corpus
# --------------------------------------------------------------------------------------------------------------


def make_template(folder: Path) -> Path:
    from reentry_workbook.workbook.generate import new_workbook

    folder.mkdir(parents=True, exist_ok=True)
    return new_workbook(folder / "plan.xlsx")


def observe_all(workdir: Path, *, progress: Callable[[Observation], None] | None = None) -> Iterator[Observation]:
    """Build the corpus in ``workdir`` and observe every case and every situation, in table order."""
    template = make_template(workdir / "template")
    corpus = build_corpus(workdir / "corpus", template)
    for name, path in corpus.items():
        observation = observe(name, CASES[name].about, corpus_setup(path, workdir / "out" / name), workdir)
        if progress:
            progress(observation)
        yield observation
    for situation in SITUATIONS.values():
        if not situation.available():
            continue
        observation = observe_situation(situation, workdir / "situations" / situation.name, template)
        if progress:
            progress(observation)
        yield observation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is stale; write nothing")
    parser.add_argument("--stats", action="store_true", help="print each run's exit code, time and peak memory")
    parser.add_argument("--doc", type=Path, default=DOC, help=f"the page (default: {DOC.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    def report(o: Observation) -> None:
        if args.stats:
            print(f"{o.name:<28} exit {o.exit_code}  {o.run.seconds:6.2f} s  {o.run.peak_mb:7.1f} MB", flush=True)

    with tempfile.TemporaryDirectory(prefix="bad-inputs-table-") as tmp:
        text = render(list(observe_all(Path(tmp), progress=report)))
    if args.check:
        current = args.doc.read_text(encoding="utf-8") if args.doc.is_file() else ""
        if current != text:
            print(f"{args.doc} is stale; run `python scripts/bad_inputs_table.py` to rewrite it", file=sys.stderr)
            return 1
        print(f"{args.doc} is up to date")
        return 0
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(text, encoding="utf-8")
    print(f"Wrote {args.doc}")
    return 0


__all__ = [
    "AS_OF",
    "DOC",
    "HANG_GUARD_SECONDS",
    "SITUATIONS",
    "Hang",
    "Observation",
    "Run",
    "Setup",
    "Situation",
    "corpus_output",
    "corpus_setup",
    "doc_rows",
    "fingerprint",
    "listing",
    "make_template",
    "md",
    "observe",
    "observe_all",
    "observe_situation",
    "render",
    "row_name",
    "run_cli",
    "shown_line",
    "table_row",
]

if __name__ == "__main__":
    sys.exit(main())
