"""docs/json.md documents every key of the JSON report: a report that gains a key without its line fails here."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from reentry_workbook.cli import cli
from reentry_workbook.workbook.example import EXAMPLE_AS_OF

DOC = (Path(__file__).resolve().parents[1] / "docs" / "json.md").read_text(encoding="utf-8")
# Objects whose keys are data (severities, rule slugs, sheet names, figure names), documented as a whole.
OPEN_OBJECTS = ("summary.rule_counts", "since_last_audit.rows")


def paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every key path of a JSON value, lists written ``[]``."""
    if isinstance(value, dict):
        if prefix in OPEN_OBJECTS:
            yield prefix
            return
        for key, inner in value.items():
            yield from paths(inner, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        if not value:
            yield prefix
        for item in value:
            yield from paths(item, prefix + "[]")
    else:
        yield prefix


def documented(path: str) -> bool:
    path = re.sub(r"^since_last_audit\.figures\.[a-z_]+\.", "since_last_audit.figures.*.", path)
    return f"`{path}`" in DOC or (path.endswith("[]") and f"`{path[:-2]}`" in DOC)  # a list of plain values


def test_every_key_of_the_report_is_documented(tmp_path: Path) -> None:
    runner = CliRunner()
    plan, last_month = tmp_path / "plan.xlsx", tmp_path / "last-month.xlsx"
    assert runner.invoke(cli, ["new", "--example", str(plan)]).exit_code == 0
    first = runner.invoke(cli, ["audit", str(plan), "--as-of", "2027-02-01", "-o", str(last_month),
                                "--fail-on", "never"])
    assert first.exit_code == 0, first.output
    result = runner.invoke(cli, ["audit", str(last_month), "--as-of", EXAMPLE_AS_OF.isoformat(), "--json",
                                 "--no-copy", "--fail-on", "never", "--since", str(plan)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["since_last_audit"] and data["coming_up"]["people"] and data["overdue"] and len(data["history"]) == 2
    missing = sorted({p for p in paths(data) if not documented(p)})
    assert missing == [], f"docs/json.md lacks {missing}"


def test_every_key_of_the_roll_up_is_documented(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a.xlsx", "b.xlsx"):
        assert runner.invoke(cli, ["new", "--example", str(tmp_path / name)]).exit_code == 0
    result = runner.invoke(cli, ["audit", str(tmp_path), "--json", "--no-copy", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    missing = sorted({p for p in paths(data) if not documented(p) and not p.startswith("files[].counts.")})
    assert missing == [], f"docs/json.md lacks {missing}"
