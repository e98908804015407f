"""What keeps the audit near the bare read, counted rather than timed: ``--history`` reads one sheet of last
month's workbook, not its plan; each step's chain of service is walked once per audit; the plan's content hash
(the folder audit's duplicate check) is computed only when it is asked for; the plan is let go before the summary
copy is written."""

from __future__ import annotations

import gc
import json
import weakref
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from opened import count_opens
from plans import AS_OF, clean_plan

from reentry_workbook.cli import cli
from reentry_workbook.plan import model, schema
from reentry_workbook.workbook.generate import write_plan_workbook
from reentry_workbook.xlsx import cells


def _audit(*args: str | Path) -> dict:
    result = CliRunner().invoke(cli, ["audit", *map(str, args), "--json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _count_sheets_read(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """From now on, count every worksheet read, by (file name, sheet name)."""
    read: Counter[tuple[str, str]] = Counter()
    real = cells.Workbook.read_sheet

    def read_sheet(self: cells.Workbook, sheet: cells.SheetRef | str) -> cells.SheetCells:
        found = real(self, sheet)
        read[(self.label, found.name)] += 1
        return found

    monkeypatch.setattr(cells.Workbook, "read_sheet", read_sheet)
    return read


def test_history_reads_only_the_audit_history_sheet_of_last_months_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    last_month = tmp_path / "last-month.xlsx"
    _audit(plan, "--as-of", "2027-02-01", "-o", last_month)

    read = _count_sheets_read(monkeypatch)
    opened = count_opens(monkeypatch)
    data = _audit(plan, "--as-of", AS_OF.isoformat(), "--history", last_month, "--no-copy")
    assert [row["as_of"] for row in data["history"]] == ["2027-02-01", AS_OF.isoformat()]  # its row was taken
    assert {name for (label, name) in read if label == last_month.name} == {schema.HISTORY_SHEET}
    assert read[(last_month.name, schema.HISTORY_SHEET)] == 1
    assert opened[last_month.name] == 1
    plan_sheets = {name for (label, name) in read if label == plan.name}
    assert schema.sheet("steps").name in plan_sheets  # the plan itself is read in full, once per sheet
    assert all(read[(plan.name, name)] == 1 for name in plan_sheets)


def test_history_of_a_workbook_without_an_audit_history_adds_nothing(tmp_path: Path) -> None:
    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    data = _audit(plan, "--as-of", AS_OF.isoformat(), "--history", plan, "--no-copy")
    assert [row["as_of"] for row in data["history"]] == [AS_OF.isoformat()]


def test_the_plan_is_let_go_before_the_summary_copy_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy of a large plan is written with only the report in memory (peak memory stays under the audit's
    target at 50,000 steps)."""
    from reentry_workbook.audit import pipeline, reader

    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    read: list[weakref.ref[model.Plan]] = []
    alive_at_copy: list[bool] = []
    real_read, real_copy = reader.read_plan, pipeline.write_summary_copy

    def read_plan(*args: Any, **kwargs: Any) -> reader.ReadResult:
        result = real_read(*args, **kwargs)
        read.append(weakref.ref(result.plan))
        return result

    def write_summary_copy(*args: Any, **kwargs: Any) -> None:
        gc.collect()
        alive_at_copy.append(read[-1]() is not None)
        real_copy(*args, **kwargs)

    monkeypatch.setattr(reader, "read_plan", read_plan)
    monkeypatch.setattr(pipeline, "write_summary_copy", write_summary_copy)
    _audit(plan, "--as-of", AS_OF.isoformat(), "-o", tmp_path / "audited.xlsx")
    assert (tmp_path / "audited.xlsx").exists() and alive_at_copy == [False]


def test_the_content_hash_is_computed_for_the_folder_audit_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    hashed: list[str] = []
    real = model.Plan.digest

    def digest(self: model.Plan) -> str:
        hashed.append(real(self))
        return hashed[-1]

    monkeypatch.setattr(model.Plan, "digest", digest)
    _audit(plan, "--as-of", AS_OF.isoformat(), "--no-copy")
    assert hashed == []
    twin = tmp_path / "twin.xlsx"
    twin.write_bytes(plan.read_bytes())
    result = CliRunner().invoke(cli, ["audit", str(plan), str(twin), "--no-copy", "--json", "--jobs", "1"])
    assert len(hashed) == 2 and hashed[0] == hashed[1]  # the duplicate check still sees the twin
    rows = json.loads(result.output)["files"]
    assert [row["same_plan_as"] for row in rows] == [[twin.name], [plan.name]]


def test_each_rows_parent_and_each_steps_chain_are_worked_out_once_per_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    chains: Counter[tuple[str, int]] = Counter()
    parents: Counter[tuple[str, int]] = Counter()
    real_chain, real_parent = model.Chain, model.PlanIndex._find_parent

    def chain(step: model.Record, *links: model.Record | None) -> model.Chain:
        chains[(step.sheet, step.row)] += 1
        return real_chain(step, *links)

    def find_parent(self: model.PlanIndex, rec: model.Record) -> model.Record | None:
        parents[(rec.sheet, rec.row)] += 1
        return real_parent(self, rec)

    monkeypatch.setattr(model, "Chain", chain)
    monkeypatch.setattr(model.PlanIndex, "_find_parent", find_parent)
    data = _audit(plan, "--as-of", AS_OF.isoformat(), "--no-copy")
    steps = data["summary"]["steps"]
    assert steps == len(clean_plan().rows("steps")) and data["summary"]["alignment"] == 1
    assert len(chains) == steps and set(chains.values()) == {1}
    assert parents and set(parents.values()) == {1}
