"""python-calamine parses the plan's sheets in a background thread while the reader works (xlsx/read_ahead.py):
the plan read is the one the exact path reads, the guard against huge grids still comes first, a failure
falls back as before, and no thread outlives the read."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import python_calamine

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.errors import TemplateMismatchError
from reentry_workbook.plan import schema
from reentry_workbook.workbook import generate
from reentry_workbook.xlsx import fast_path
from reentry_workbook.xlsx.read_ahead import FAILED, ReadAhead

PLAN_SHEETS = [schema.COALITION_SHEET, *(s.name for s in schema.SHEETS)]
STEPS = schema.sheet("steps").name
THREAD = "reentry-workbook-read-ahead"


class Recorder:
    """Wraps python-calamine's workbooks: which sheet each thread parsed; ``refuse`` names sheets that fail."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, refuse: tuple[str, ...] = ()) -> None:
        self.parsed: list[tuple[str, str]] = []  # (thread name, sheet)
        real = python_calamine.CalamineWorkbook.from_path
        recorder = self

        class Book:
            def __init__(self, path: str) -> None:
                self.book = real(path)

            def get_sheet_by_name(self, name: str) -> Any:
                recorder.parsed.append((threading.current_thread().name, name))
                if name in refuse:
                    raise ValueError("python-calamine could not read it")
                return self.book.get_sheet_by_name(name)

            def close(self) -> None:
                self.book.close()

        monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", Book)

    def sheets_in(self, thread: str) -> list[str]:
        return [name for who, name in self.parsed if who == thread]


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    return generate.new_workbook(tmp_path / "plan.xlsx", example=True)


def no_thread_left() -> bool:
    return not any(t.name == THREAD for t in threading.enumerate())


def test_the_plan_sheets_are_parsed_in_the_background_and_read_as_the_exact_path_reads_them(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    fast = read_plan(example)
    assert recorder.sheets_in(THREAD) == PLAN_SHEETS  # each once, in the order the reader asks for them
    assert recorder.sheets_in(threading.main_thread().name) == []
    assert no_thread_left()
    exact = read_plan(example, fast=False)
    assert fast.plan == exact.plan and fast.findings == exact.findings


def test_a_sheet_beside_the_plan_is_parsed_in_the_reader_s_thread_after_the_others(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reentry_workbook.audit.pipeline import audit_file

    audited = audit_file(example, out=tmp_path / "audited.xlsx").output  # now holds an Audit History sheet
    assert audited is not None
    recorder = Recorder(monkeypatch)
    result = read_plan(audited, extra=(schema.HISTORY_SHEET,))
    assert schema.HISTORY_SHEET in result.extra
    assert recorder.sheets_in(threading.main_thread().name) == [schema.HISTORY_SHEET]
    assert recorder.sheets_in(THREAD) == PLAN_SHEETS


def test_a_sheet_the_scan_sends_to_the_exact_path_is_never_parsed(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan refuses a sheet whose grid python-calamine would make huge; it must refuse it before the parse."""
    real = fast_path.scan_fast
    monkeypatch.setattr(fast_path, "scan_fast", lambda book, ref: None if ref.name == STEPS else real(book, ref))
    import reentry_workbook.xlsx.cells as cells

    monkeypatch.setattr(cells, "scan_fast", fast_path.scan_fast)
    recorder = Recorder(monkeypatch)
    fast = read_plan(example)
    assert STEPS not in recorder.sheets_in(THREAD) and len(recorder.sheets_in(THREAD)) == len(PLAN_SHEETS) - 1
    assert fast.plan == read_plan(example, fast=False).plan


def test_a_sheet_python_calamine_cannot_read_is_read_on_the_exact_path(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Recorder(monkeypatch, refuse=(STEPS,))
    fast = read_plan(example)
    assert fast.plan == read_plan(example, fast=False).plan
    assert no_thread_left()


def test_a_scan_that_fails_ahead_fails_where_the_reader_meets_the_sheet(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scanning every sheet up front must not change which problem a workbook with two is reported for: a scan
    that raises ahead is run again, and raises, only when the reader gets to its sheet."""
    import openpyxl

    book = openpyxl.load_workbook(example)
    goals = book[schema.sheet("goals").name]
    for cell in goals[schema.HEADER_ROW]:
        cell.value = None  # the Goals sheet loses its header: the reader stops there
    broken = example.with_name("broken.xlsx")
    book.save(broken)
    real = fast_path.scan_fast
    calls: list[str] = []

    def scan(book: Any, ref: Any) -> Any:
        calls.append(ref.name)
        if ref.name == STEPS:
            raise OSError("the steps part cannot be read")
        return real(book, ref)

    import reentry_workbook.xlsx.cells as cells

    monkeypatch.setattr(cells, "scan_fast", scan)
    monkeypatch.setattr(fast_path, "scan_fast", scan)
    with pytest.raises(TemplateMismatchError, match="Goals"):
        read_plan(broken)
    assert calls.count(STEPS) == 1  # scanned ahead once, never again: the reader stopped at Goals
    assert no_thread_left()


def test_finish_drops_what_was_not_taken_and_stops_the_thread(example: Path) -> None:
    from reentry_workbook.xlsx import guard
    from reentry_workbook.xlsx.cells import open_workbook

    with guard.open_package(example) as zf:
        book = open_workbook(zf)
        refs = [ref for ref in book.sheets if ref.name in PLAN_SHEETS]
        ahead = ReadAhead(lambda: python_calamine.CalamineWorkbook.from_path(str(example)), refs,
                          lambda ref: fast_path.scan_fast(book, ref))
        scan, grid = ahead.take(refs[0])
        assert scan is not None and grid and ahead.holds(refs[1]) and not ahead.holds(refs[0])
        ahead.finish()
        assert no_thread_left()
        assert ahead.take(refs[1])[1] is FAILED  # its grid, parsed but not taken before finish, was dropped
        ahead.calamine.close()


def test_the_caller_s_idle_work_runs_while_it_waits_for_a_grid_and_only_then(example: Path) -> None:
    """Steps of the caller's own work (the audit's imports) fill the time the reader would wait for python-calamine;
    a grid already parsed is taken at once, with no step taken; the grids are the same either way."""
    from reentry_workbook.xlsx import guard
    from reentry_workbook.xlsx.cells import open_workbook

    opened = threading.Event()
    steps: list[str] = []

    def idle() -> Any:
        steps.append("first")  # python-calamine has not opened the workbook yet: the reader would wait
        opened.set()
        yield
        steps.append("second")
        yield

    def opener() -> Any:
        assert opened.wait(10), "the reader waited without taking a step of its idle work"
        return python_calamine.CalamineWorkbook.from_path(str(example))

    with guard.open_package(example) as zf:
        book = open_workbook(zf)
        refs = [ref for ref in book.sheets if ref.name in PLAN_SHEETS]
        ahead = ReadAhead(opener, refs, lambda ref: fast_path.scan_fast(book, ref), idle=idle())
        _scan, grid = ahead.take(refs[0])
        assert steps[0] == "first"
        alone = python_calamine.CalamineWorkbook.from_path(str(example))
        assert grid is not FAILED and grid == alone.get_sheet_by_name(refs[0].name).to_python(skip_empty_area=False)
        alone.close()
        ahead.finish()
        ahead.calamine.close()

    later: list[str] = []

    def never() -> Any:
        later.append("step")
        yield

    with guard.open_package(example) as zf:
        book = open_workbook(zf)
        refs = [ref for ref in book.sheets if ref.name in PLAN_SHEETS]
        ahead = ReadAhead(lambda: python_calamine.CalamineWorkbook.from_path(str(example)), refs,
                          lambda ref: fast_path.scan_fast(book, ref), idle=never())
        ahead._thread.join()  # every grid parsed: nothing to wait for
        assert all(ahead.take(ref)[1] is not FAILED for ref in refs)
        assert later == []
        ahead.calamine.close()
    assert no_thread_left()


def test_with_a_bound_the_thread_parses_no_further_ahead_than_that(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge's returns are read with one sheet parsed ahead of the reader (each worker would hold the grids
    waiting): the thread parses the next sheet only once the one before is taken, and the grids are the same."""
    import time

    from reentry_workbook.xlsx import guard
    from reentry_workbook.xlsx.cells import open_workbook

    recorder = Recorder(monkeypatch)

    def parsed_soon(count: int) -> int:
        deadline = time.monotonic() + 10
        while len(recorder.sheets_in(THREAD)) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # time to parse further, were it allowed to
        return len(recorder.sheets_in(THREAD))

    with guard.open_package(example) as zf:
        book = open_workbook(zf)
        refs = [ref for ref in book.sheets if ref.name in PLAN_SHEETS]
        ahead = ReadAhead(lambda: python_calamine.CalamineWorkbook.from_path(str(example)), refs,
                          lambda ref: fast_path.scan_fast(book, ref), held=1)
        grids = []
        for taken, ref in enumerate(refs):
            assert parsed_soon(taken + 1) == taken + 1  # the sheet asked for next, and no other
            grids.append(ahead.take(ref)[1])
        ahead.finish()
        assert no_thread_left()
        alone = python_calamine.CalamineWorkbook.from_path(str(example))
        assert grids == [alone.get_sheet_by_name(ref.name).to_python(skip_empty_area=False) for ref in refs]
        alone.close()
        ahead.calamine.close()


def test_a_reader_waiting_for_a_grid_hears_when_python_calamine_cannot_open_the_workbook(example: Path) -> None:
    """python-calamine picks its reader by the file's extension: an .xlsx package named .xls fails to open, and
    every sheet goes the exact path. A reader already waiting for the first grid when that happens must hear of
    it, not wait for ever (a merge of such a return hung in its worker, one run in two)."""
    from reentry_workbook.xlsx import guard
    from reentry_workbook.xlsx.cells import open_workbook

    waiting = threading.Event()

    def idle() -> Any:
        waiting.set()  # the reader is about to wait for the first grid
        yield

    def opener() -> Any:
        assert waiting.wait(10)
        time.sleep(0.2)  # the reader is waiting on the condition by now
        raise python_calamine.CalamineError("Cfb error: Invalid OLE")

    with guard.open_package(example) as zf:
        book = open_workbook(zf)
        refs = [ref for ref in book.sheets if ref.name in PLAN_SHEETS]
        ahead = ReadAhead(opener, refs, lambda ref: fast_path.scan_fast(book, ref), idle=idle())
        taken: list[Any] = []
        reader = threading.Thread(target=lambda: taken.append(ahead.take(refs[0])), daemon=True)
        reader.start()
        reader.join(10)
        assert not reader.is_alive(), "the reader still waits for a grid that will never come"
        assert taken[0][0] is not None and taken[0][1] is FAILED  # cleared by the scan; read on the exact path
        ahead.finish()
    assert no_thread_left()
