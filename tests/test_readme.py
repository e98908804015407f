"""The README's set-up commands, CI and the CLI reference stay true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from reentry_workbook.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the quick start has exactly one shell block"
    return [line for line in blocks[0].splitlines() if line.strip()]


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    install, tests = commands
    assert "pip install" in install and "new --example" in install and " audit " in install
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert ci_lines[-1] == quick_start_commands()[1]
    assert "libreoffice-calc-nogui" in ci and "--no-install-recommends" in ci


def test_cli_reference_is_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_readme.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_every_command_is_documented() -> None:
    for name in cli.commands:
        assert f"### `reentry-workbook {name}`" in README


def test_exit_codes_are_documented() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "Exit codes" in result.output
    assert "Exit codes" in README


def test_readme_lists_exactly_the_example_gaps() -> None:
    from reentry_workbook.audit.pipeline import audit_plan
    from reentry_workbook.workbook.example import EXAMPLE_AS_OF

    table = README.split("<!-- example-gaps -->", 1)[1].split("<!-- /example-gaps -->", 1)[0]
    listed = sorted(re.findall(r"^\| `([a-z-]+)` \| ([A-Z]-\d+) \|", table, flags=re.M))
    report = audit_plan(ROOT / "workbook_templates" / "example.xlsx", as_of=EXAMPLE_AS_OF)
    assert listed == sorted((f.rule, f.id) for f in report.findings)
    assert f"as of {EXAMPLE_AS_OF.isoformat()}" in README
    assert f"--as-of {EXAMPLE_AS_OF.isoformat()}" in quick_start_commands()[0]
