"""Every bad input through the whole command line, the way a coordinator runs it.

Each file of the corpus (tests/bad_inputs.py, built on the real plan template) and each command-line situation
(an unreadable input, an output folder that cannot be written, the output naming the input) goes through
``reentry-workbook audit INPUT -o OUTPUT`` as a process of its own. Each run either audits correctly (exit 0 or
1, the audited copy written, findings that fit the file) or exits 2 with one line saying what is wrong and what
to do, no traceback and nothing left behind. The input keeps its bytes and modification time, the run stays
under 500 MB, and docs/bad-inputs.md shows exactly what the run printed.

The runs, the situations and the table rows come from scripts/bad_inputs_table.py, which writes that page.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from bad_inputs import AUDITS, CASES, LONG_CELL_CHARS, REPORT_ONLY, UNUSABLE, build_corpus

from reentry_workbook.audit.pipeline import audit_plan
from reentry_workbook.audit.reader import read_plan
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import FORMULA, Unknown
from reentry_workbook.plan.schema import Kind
from reentry_workbook.xlsx.guard import open_package
from reentry_workbook.xlsx.refs import column_letter

MAX_PEAK_MB = 500
AUDIT_STEPS = schema.sheet("steps")


def _load_table() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "scripts" / "bad_inputs_table.py"
    spec = importlib.util.spec_from_file_location("bad_inputs_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


table = _load_table()
AS_OF = dt.date.fromisoformat(table.AS_OF)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return table.make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, template: Path) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("corpus"), template)


@pytest.fixture(scope="module")
def documented() -> dict[str, str]:
    """The rows of docs/bad-inputs.md, by case name."""
    return table.doc_rows(table.DOC.read_text(encoding="utf-8")) if table.DOC.is_file() else {}


# --------------------------------------------------------------------------------------------------------------
# What every run must show
# --------------------------------------------------------------------------------------------------------------

_SECOND_SENTENCE = re.compile(r"[.!?]\s+[A-Z]")


def assert_one_clear_line(observation) -> str:  # -> the message without "Error: "
    run = observation.run
    assert run.exit_code == 2, f"{observation.name}: exit {run.exit_code}\n{run.stdout}\n{run.stderr}"
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, f"{observation.name} printed {len(lines)} lines on stderr:\n{run.stderr}"
    line = lines[0]
    assert line.startswith("Error: "), line
    body = line.removeprefix("Error: ")
    assert ";" in body, f"the line says what is wrong but not what to do: {line}"
    assert not _SECOND_SENTENCE.search(body), f"more than one sentence: {line}"
    return body


def assert_nothing_harmed(observation, *, written: Path | None = None) -> None:
    run = observation.run
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert run.peak_mb < MAX_PEAK_MB, f"{observation.name} peaked at {run.peak_mb:.0f} MB"
    assert observation.after == observation.before, "the input's bytes or modification time changed"
    assert observation.tmp_left == [], f"left in the temporary folder: {observation.tmp_left}"
    for folder, before in observation.listed_before.items():
        after = observation.listed_after[folder]
        expected = sorted([*before, written.name]) if written is not None and str(written.parent) == folder else before
        assert after == expected, f"{folder}: before {before}, after {after}"


def assert_documented(observation, documented: dict[str, str]) -> None:
    row = table.table_row(observation)
    assert documented.get(observation.name) == row, (
        f"docs/bad-inputs.md does not show what {observation.name} printed now; run "
        f"`python scripts/bad_inputs_table.py` to rewrite it.\nnow: {row}\ndoc: {documented.get(observation.name)}"
    )


# --------------------------------------------------------------------------------------------------------------
# Per-case checks of a usable file's audit (in-process, on the same file)
# --------------------------------------------------------------------------------------------------------------


def _cells(sheet: schema.Sheet, rows: range) -> set[tuple[str, str]]:
    """(sheet name, A1) of every read column (not derived) of ``rows`` in a generated workbook's layout."""
    return {
        (sheet.name, f"{column_letter(i)}{row}")
        for i, column in enumerate(sheet.columns)
        if column.kind is not Kind.DERIVED
        for row in rows
    }


def _by_rule(report, slug: str) -> set[tuple[str, str]]:
    return {(f.sheet, f.cell) for f in report.findings if f.rule == slug}


def _ids(report, slug: str) -> set[str | None]:
    return {f.id for f in report.findings if f.rule == slug}


def check_date_1904(path: Path, report) -> None:
    read = read_plan(path)
    assert read.plan.source.date1904
    assert read.plan.coalition["plan_start"] == dt.date(2026, 7, 1)
    assert read.plan.coalition["plan_end"] == dt.date(2028, 6, 30)
    (step,) = read.plan.rows("steps")
    assert step.get("due_date") == dt.date(2027, 3, 15)
    # Read four years early, the step would be long overdue on the as-of date.
    assert not _by_rule(report, "step-overdue")


def check_formulas_everywhere(path: Path, report) -> None:
    first = schema.FIRST_DATA_ROW
    expected = set().union(*(_cells(sheet, range(first, first + 3)) for sheet in schema.SHEETS))
    missing = expected - _by_rule(report, "formula-in-text")
    assert not missing, f"formulas not reported: {sorted(missing)}"
    assert set(report.summary.rule_counts) == {"formula-in-text"}, "a formula cell is filled: no other rule fires"
    plan = read_plan(path).plan
    for sheet in schema.SHEETS:
        for record in plan.rows(sheet.key):
            unknown = [isinstance(v, Unknown) and v.kind == FORMULA for v in record.values.values() if v is not None]
            taken = unknown.count(False)
            assert not taken, "a formula's result was taken as data"


def check_error_values(path: Path, report) -> None:
    row = schema.FIRST_DATA_ROW + 1
    expected = set().union(*(_cells(sheet, range(row, row + 1)) for sheet in schema.SHEETS))
    missing = expected - _by_rule(report, "error-value")
    assert not missing, f"error values not reported: {sorted(missing)}"


def check_merged_cells(path: Path, report) -> None:
    steps = {r.id: r for r in read_plan(path).plan.rows("steps")}
    assert set(steps) == {f"{AUDIT_STEPS.id_prefix}-{n}" for n in (1, 2, 3)}
    first = f"{AUDIT_STEPS.id_prefix}-1"
    assert steps[first].get("responsible") == "Maria"
    others = {f"{AUDIT_STEPS.id_prefix}-{n}" for n in (2, 3)}
    assert _ids(report, "step-without-improvement") == others
    assert _ids(report, "step-without-owner") == others


def check_long_cell(path: Path, report) -> None:
    (step,) = read_plan(path).plan.rows("steps")
    written = ("Housing desk notes. " * (LONG_CELL_CHARS // 20 + 1))[:LONG_CELL_CHARS]
    assert step.get("notes") == written.strip()  # the whole text, beyond Excel's 32,767 characters


def check_blank_formatted_rows(path: Path, report) -> None:
    assert len(read_plan(path).plan.rows("steps")) == 1
    assert all(f.cell == "" or int(re.sub(r"\D", "", f.cell)) < 10 for f in report.findings)


def check_xlsm(path: Path, report, output: Path) -> None:
    with zipfile.ZipFile(path) as before, zipfile.ZipFile(output) as after:
        macros = [n for n in before.namelist() if n.endswith("vbaProject.bin")]
        assert macros and all(after.read(n) == before.read(n) for n in macros)
        assert after.read("[Content_Types].xml").count(b"macroEnabled") >= 1


AUDIT_CHECKS = {
    "date-1904": check_date_1904,
    "formulas-everywhere": check_formulas_everywhere,
    "error-values": check_error_values,
    "merged-cells": check_merged_cells,
    "long-cell": check_long_cell,
    "blank-formatted-rows": check_blank_formatted_rows,
}


# --------------------------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_through_the_cli(name: str, corpus: dict[str, Path], documented, tmp_path: Path) -> None:
    case = CASES[name]
    path = corpus[name]
    setup = table.corpus_setup(path, tmp_path / "out")
    observation = table.observe(name, case.about, setup, tmp_path)
    run = observation.run

    if case.outcome == UNUSABLE:
        body = assert_one_clear_line(observation)
        assert path.name in body, f"the line does not name the file: {body}"
        assert_nothing_harmed(observation)
        assert not setup.output.exists()
        # The same file in-process: the error the corpus names, with the very message the CLI printed.
        with pytest.raises(case.error) as caught:
            audit_plan(path, as_of=AS_OF)
        assert str(caught.value) == body
    elif case.outcome == REPORT_ONLY:
        body = assert_one_clear_line(observation)
        assert path.name in body and "no summary copy" in body, body
        assert "Alignment" in run.stdout, "the findings were not reported"
        assert_nothing_harmed(observation)
        assert not setup.output.exists()
        report = audit_plan(path, as_of=AS_OF)
        assert all(f.rule in run.stdout for f in report.findings)
    else:
        assert case.outcome == AUDITS
        assert run.exit_code in (0, 1), f"{name}: exit {run.exit_code}\n{run.stderr}"
        assert run.stderr.strip() == ""
        assert_nothing_harmed(observation, written=setup.output)
        with open_package(setup.output) as zf:
            assert zf.namelist()
        report = audit_plan(path, as_of=AS_OF)
        assert run.exit_code == (1 if report.count_at_or_above("error") else 0)
        if name == "xlsm-macros":
            check_xlsm(path, report, setup.output)
        else:
            AUDIT_CHECKS[name](path, report)

    assert_documented(observation, documented)


def test_every_usable_case_has_a_check() -> None:
    usable = {name for name, case in CASES.items() if case.outcome == AUDITS} - {"xlsm-macros"}
    assert usable == set(AUDIT_CHECKS)


# --------------------------------------------------------------------------------------------------------------
# Command-line situations
# --------------------------------------------------------------------------------------------------------------

SAYS = {
    "unreadable-file": "permission denied",
    "fifo-input": "not a regular file",
    "folder-named-like-a-file": "is a folder",
    "missing-input": "does not exist",
    "output-parent-is-a-file": "is a file, not a folder",
    "output-folder-read-only": "cannot write in the folder",
    "output-is-input": "is the input file",
    "output-is-input-symlink": "is the input file",
    "output-is-input-hard-link": "is the input file",
    "output-exists": "--force",
    "macro-workbook-to-xlsx-name": "name the output copy.xlsm",
    "folder-given-to-packets": "is a folder, not a workbook",
    "folder-given-to-merge": "is a folder, not a workbook",
    "folder-given-to-diff": "is a folder, not a workbook",
    "folder-given-to-upgrade": "is a folder, not a workbook",
}


@pytest.mark.parametrize("name", list(table.SITUATIONS))
def test_command_line_situation(name: str, template: Path, documented, tmp_path: Path) -> None:
    situation = table.SITUATIONS[name]
    if not situation.available():
        pytest.skip(f"{name} cannot be set up on this system")
    observation = table.observe_situation(situation, tmp_path / "situation", template)
    body = assert_one_clear_line(observation)
    assert SAYS[name] in body, body
    assert_nothing_harmed(observation)
    assert_documented(observation, documented)


def test_every_situation_says_what_it_is() -> None:
    assert set(SAYS) == set(table.SITUATIONS)


def test_the_page_lists_exactly_the_cases_and_situations(documented) -> None:
    assert list(documented) == [*CASES, *table.SITUATIONS], "run `python scripts/bad_inputs_table.py`"


# --------------------------------------------------------------------------------------------------------------
# More places an output cannot go (not in the table: their messages depend on the machine)
# --------------------------------------------------------------------------------------------------------------


def _run(args: list[str], root: Path):
    tmpdir = root / ".tmp"
    tmpdir.mkdir(exist_ok=True)
    run = table.run_cli(args, cwd=root, tmpdir=tmpdir)
    assert table.listing(tmpdir) == []
    return run


def _one_line(run) -> str:
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and ";" in lines[0], run.stderr
    return lines[0]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_output_under_proc_is_one_line(template: Path, tmp_path: Path) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(template.read_bytes())
    before = table.fingerprint(src)
    _one_line(_run(["audit", str(src), "-o", "/proc/reentry-workbook-audited.xlsx", "--as-of", table.AS_OF], tmp_path))
    assert not Path("/proc/reentry-workbook-audited.xlsx").exists()
    assert table.fingerprint(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp", "plan.xlsx"]


def test_batch_output_that_is_a_file_is_one_line(template: Path, tmp_path: Path) -> None:
    for name in ("a.xlsx", "b.xlsx"):
        (tmp_path / name).write_bytes(template.read_bytes())
    blocker = tmp_path / "audited"
    blocker.write_text("not a folder")
    run = _run(["audit", "a.xlsx", "b.xlsx", "-o", "audited", "--jobs", "1", "--as-of", table.AS_OF], tmp_path)
    assert "audited is a file" in _one_line(run)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp", "a.xlsx", "audited", "b.xlsx"]
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_batch_output_folder_that_cannot_be_made_is_one_line(template: Path, tmp_path: Path) -> None:
    for name in ("a.xlsx", "b.xlsx"):
        (tmp_path / name).write_bytes(template.read_bytes())
    run = _run(["audit", "a.xlsx", "b.xlsx", "-o", "/proc/reentry-workbook-out", "--jobs", "1"], tmp_path)
    _one_line(run)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp", "a.xlsx", "b.xlsx"]


def test_empty_folder_of_returns_is_one_line(tmp_path: Path) -> None:
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "notes.txt").write_text("no workbooks here")
    line = _one_line(_run(["audit", "returns", "--as-of", table.AS_OF], tmp_path))
    assert "returns is a folder with no spreadsheet or mail inside" in line
    assert sorted(p.name for p in returns.iterdir()) == ["notes.txt"]


def test_unreadable_input_of_every_command_is_one_line(template: Path, tmp_path: Path) -> None:
    """Each command that reads a workbook says 'permission denied' in one line (simulated: root reads anything)."""
    src = tmp_path / "plan.xlsx"
    src.write_bytes(template.read_bytes())
    other = tmp_path / "other.xlsx"
    other.write_bytes(template.read_bytes())
    commands = [
        ["audit", str(src), "-o", str(tmp_path / "out" / "a.xlsx")],
        ["packets", str(src), "-o", str(tmp_path / "out")],
        ["merge", str(src), str(other), "-o", str(tmp_path / "out" / "m.xlsx")],
        ["merge", str(other), str(src), "-o", str(tmp_path / "out" / "m.xlsx")],
        ["diff", str(src), str(other)],
        ["diff", str(other), str(src)],
        ["upgrade", str(src), "-o", str(tmp_path / "out" / "u.xlsx")],
    ]
    (tmp_path / "out").mkdir()
    tmpdir = tmp_path / ".tmp"
    tmpdir.mkdir()
    for args in commands:
        run = table.run_cli(args, cwd=tmp_path, tmpdir=tmpdir, deny=[src])
        line = _one_line(run)
        assert "plan.xlsx cannot be read (permission denied)" in line, (args, line)
    assert table.listing(tmp_path / "out") == [] and table.listing(tmpdir) == []
