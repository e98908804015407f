"""Start-up stays lean: --help and --version import no heavy library."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("pandas", "openpyxl", "xlsxwriter", "python_calamine", "numpy", "defusedxml")

PROBE = """
import runpy, sys
sys.argv = ["reentry-workbook", *sys.argv[1:]]
try:
    runpy.run_module("reentry_workbook", run_name="__main__")
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("HEAVY:" + ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["audit", "--help"], ["new", "--help"]])
def test_help_and_version_import_no_heavy_library(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *args], capture_output=True, text=True, check=True
    )
    assert "reentry-workbook" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_the_audit_never_imports_pandas(tmp_path) -> None:
    """pandas is for the Python API's DataFrames only: an audit, with its summary copy and JSON, never loads it."""
    from reentry_workbook.workbook.example import EXAMPLE_AS_OF
    from reentry_workbook.workbook.generate import new_workbook

    plan = new_workbook(tmp_path / "plan.xlsx", example=True)
    args = ["audit", str(plan), "--as-of", EXAMPLE_AS_OF.isoformat(), "--json", "--fail-on", "never"]
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy={"pandas"}), *args], capture_output=True, text=True, check=True
    )
    assert '"summary"' in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "HEAVY:"
    assert (tmp_path / "plan.audited.xlsx").exists()


def test_the_audit_of_a_workbook_never_loads_the_email_package(tmp_path) -> None:
    """Mail is read only when a mail file is given: auditing a workbook asks ``mail.kinds``, never ``mail.read``."""
    from reentry_workbook.workbook.example import EXAMPLE_AS_OF
    from reentry_workbook.workbook.generate import new_workbook

    plan = new_workbook(tmp_path / "plan.xlsx", example=True)
    args = ["audit", str(plan), "--as-of", EXAMPLE_AS_OF.isoformat(), "--no-copy", "--fail-on", "never"]
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy={"email"}), *args], capture_output=True, text=True, check=True
    )
    assert "Alignment" in result.stdout or "alignment" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_an_audit_without_a_copy_never_imports_what_writes_the_copy(tmp_path) -> None:
    """The audit imports XlsxWriter and the graft while the reader waits for python-calamine, only when a summary
    copy will be written: ``--no-copy`` (and the brief, the folder audit's reports) never pay for them."""
    from reentry_workbook.workbook.example import EXAMPLE_AS_OF
    from reentry_workbook.workbook.generate import new_workbook

    plan = new_workbook(tmp_path / "plan.xlsx", example=True)
    probe = PROBE.format(heavy={"xlsxwriter"}) + "print('GRAFT:' + str('reentry_workbook.xlsx.package' in sys.modules))"
    args = ["audit", str(plan), "--as-of", EXAMPLE_AS_OF.isoformat(), "--no-copy", "--fail-on", "never"]
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-2:] == ["HEAVY:", "GRAFT:False"]


def test_the_command_leaves_the_exit_collection_nothing_to_walk(tmp_path) -> None:
    """Python's last collection at exit would walk every object still alive, to free memory the system takes back
    anyway: the command line freezes them as it ends, after the copy is written and closed."""
    from reentry_workbook.workbook.example import EXAMPLE_AS_OF
    from reentry_workbook.workbook.generate import new_workbook

    plan = new_workbook(tmp_path / "plan.xlsx", example=True)
    probe = (
        "import gc, sys\n"
        "sys.argv = ['reentry-workbook', *sys.argv[1:]]\n"
        "from reentry_workbook.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LEFT:', len(gc.get_objects()), 'FROZEN:', gc.get_freeze_count())\n"
    )
    args = ["audit", str(plan), "--as-of", EXAMPLE_AS_OF.isoformat(), "--fail-on", "never"]
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    left, frozen = (int(word) for word in result.stdout.split()[-3::2])
    assert left < 100 and frozen > 10_000
    assert (tmp_path / "plan.audited.xlsx").exists()
