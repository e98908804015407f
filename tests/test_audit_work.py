"""What keeps the audit near the bare read, counted rather than timed: ``--history`` reads one sheet of last
month's workbook, not its plan; each step's chain of service is walked once per audit; the plan's content hash
(the folder audit's duplicate check) is computed only when it is asked for; the plan is let go before the summary
copy is written; the report's tables share one walk over the steps, so a step's cells are read a fixed number of
times however many tables there are."""

from __future__ import annotations

import datetime as dt
import gc
import json
import weakref
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from opened import count_inflated_whole, count_opens
from plans import AS_OF, clean_plan

from reentry_workbook.audit.figures import build_report
from reentry_workbook.audit.questions import answer_questions
from reentry_workbook.audit.rules import check
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


class _CountedReads(dict[str, Any]):
    """A row's values that count every read of a cell, by (worksheet row, column key)."""

    def __init__(self, values: dict[str, Any], row: int, reads: Counter[tuple[int, str]]) -> None:
        super().__init__(values)
        self.row, self.reads = row, reads

    def get(self, key: str, default: Any = None) -> Any:
        self.reads[(self.row, key)] += 1
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.reads[(self.row, key)] += 1
        return super().__getitem__(key)


def test_the_report_reads_each_steps_cells_a_fixed_number_of_times_however_many_tables_it_has() -> None:
    """The alignment, the per-goal and per-responsible tables come from one walk over the steps, and the overdue and
    coming-up lists from another: a step's cell is read once by each walk and once by the completeness count (a
    listed step's text is read again to show it), not once per table as when each table walked the steps."""
    plan = clean_plan()
    steps = plan.rows("steps")
    steps[0].values["due_date"] = AS_OF - dt.timedelta(days=1)  # overdue
    steps[2].values["due_date"] = AS_OF + dt.timedelta(days=3)  # coming up
    steps[4].values["responsible"] = None
    reads: Counter[tuple[int, str]] = Counter()
    for step in steps:
        step.values = _CountedReads(step.values, step.row, reads)
    index = plan.index()
    report = build_report(plan, check(plan, AS_OF), as_of=AS_OF, index=index)
    reads.clear()  # the rules' own reads are theirs: from here, the report's
    report = build_report(plan, [], as_of=AS_OF, index=index)
    answer_questions(report, plan, index=index)
    assert report.coming_up is not None
    listed = {s.id for p in [*report.overdue, *report.coming_up.people] for s in p.steps}
    assert listed == {steps[0].id, steps[2].id}
    for step in steps:  # once by each walk and by completeness (the owner: by the tables' walk and completeness)
        shown = step.id in listed  # a listed step's status and owner are read again to show them
        assert reads[(step.row, "due_date")] <= 3
        assert reads[(step.row, "status")] <= 3 + shown
        assert reads[(step.row, "responsible")] <= 2 + 2 * shown


def test_the_copy_inflates_a_member_sheet_only_when_its_head_shows_it_selected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taking the selection from the member's sheets looks at each sheet's head, inflated alone: a large sheet that
    is not selected is never inflated whole (the audited copy still loses every tabSelected but the summary's)."""
    from reentry_workbook.audit.pipeline import audit_file
    from reentry_workbook.workbook import generate
    from reentry_workbook.xlsx import zip_io
    from reentry_workbook.xlsx.cells import open_workbook
    from reentry_workbook.xlsx.guard import open_package

    plan = generate.new_workbook(tmp_path / "plan.xlsx", example=True)
    monkeypatch.setattr(zip_io, "_KEEP_BYTES", 0)  # every part kept compressed, as a large plan's sheets are
    inflated = count_inflated_whole(monkeypatch)
    out = audit_file(plan, as_of=AS_OF, out=tmp_path / "audited.xlsx").output
    assert out is not None
    with open_package(plan) as zf:
        parts = {ref.name: ref.part for ref in open_workbook(zf).sheets}
        selected = {name for name, part in parts.items() if b"tabSelected" in zf.read(part)}
    assert len(selected) == 1
    assert {name for name, part in parts.items() if part in inflated} == selected
    with open_package(out) as zf:
        book = open_workbook(zf)
        now_selected = [ref.name for ref in book.sheets if b"tabSelected" in zf.read(ref.part)]
    assert now_selected == [schema.SUMMARY_SHEET]


def test_the_cyclic_collector_rests_while_a_plan_is_read_and_is_back_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading makes tens of thousands of acyclic dicts and lists: collections set off meanwhile would walk them in
    vain. The collector is off for the read only, and left as the caller had it."""
    import gc

    import openpyxl

    from reentry_workbook.audit import reader
    from reentry_workbook.errors import TemplateMismatchError
    from reentry_workbook.workbook import generate

    plan = generate.new_workbook(tmp_path / "plan.xlsx", example=True)
    seen: list[bool] = []
    real = reader._Reader.read

    def read(self: Any) -> Any:
        seen.append(gc.isenabled())
        return real(self)

    monkeypatch.setattr(reader._Reader, "read", read)
    assert gc.isenabled()
    reader.read_plan(plan)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        reader.read_plan(plan)
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
    not_a_plan = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(not_a_plan)
    with pytest.raises(TemplateMismatchError):
        reader.read_plan(not_a_plan)
    assert gc.isenabled()  # back on after a read that fails too


def test_what_a_read_keeps_is_left_to_the_oldest_generation_and_a_cycle_it_made_is_still_collected(
    tmp_path: Path,
) -> None:
    """Once the collector is back, the young collections that follow must not walk the plan just read (at 10,000
    steps each walk took 5 ms and found nothing): what the read keeps goes to the oldest generation; a cycle it
    made is still collected, by the next full collection."""
    import gc
    import weakref

    from reentry_workbook.audit import reader
    from reentry_workbook.workbook import generate
    from reentry_workbook.xlsx.bulk import collector_paused

    plan = generate.new_workbook(tmp_path / "plan.xlsx", example=True)
    gc.collect()
    result = reader.read_plan(plan)
    first_row = result.plan.rows("steps")[0]
    young = {id(o) for o in (*gc.get_objects(generation=0), *gc.get_objects(generation=1))}
    assert id(first_row) not in young and id(first_row.values) not in young
    assert any(o is first_row for o in gc.get_objects(generation=2))

    class Node:
        pass

    with collector_paused():
        node = Node()
        node.loop = node  # type: ignore[attr-defined]
        gone = weakref.ref(node)
        del node
    assert gone() is not None  # a cycle: reference counting cannot free it
    gc.collect()
    assert gone() is None


def test_the_cyclic_collector_rests_while_the_report_and_the_summary_copy_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rules, the figures and the summary copy walk a plan of hundreds of thousands of objects already in
    memory; a full collection set off meanwhile would walk them all (a tenth of a second at 50,000 steps)."""
    import gc

    from reentry_workbook.audit import figures, pipeline, summary_sheet
    from reentry_workbook.workbook import generate
    from reentry_workbook.xlsx import package

    plan = generate.new_workbook(tmp_path / "plan.xlsx", example=True)
    seen: dict[str, bool] = {}
    for module, name in ((figures, "build_report"), (summary_sheet, "write_summary_workbook"),
                         (package, "graft_sheets")):
        real = getattr(module, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            seen[_name] = gc.isenabled()
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    pipeline.audit_file(plan, out=tmp_path / "audited.xlsx", as_of=AS_OF)
    assert seen == {"build_report": False, "write_summary_workbook": False, "graft_sheets": False}
    assert gc.isenabled()
