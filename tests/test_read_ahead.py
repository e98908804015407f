"""python-calamine parses the plan's sheets in a background thread while the reader works (xlsx/read_ahead.py):
the plan read is the one the exact path reads, the guard against huge grids still comes first, a failure
falls back as before, and no thread outlives the read. Each test runs with the scans in the reader's thread and
with the scans in a forked child (what a large plan gets), which must change nothing but where they run."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
import python_calamine

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.errors import TemplateMismatchError
from reentry_workbook.plan import schema
from reentry_workbook.workbook import generate
from reentry_workbook.xlsx import fast_path, read_ahead
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


@pytest.fixture(params=["in the reader's thread", "in a child process"])
def apart(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Where the scans run: a plan of any size gets the child when this is true."""
    if request.param == "in a child process":
        scans_in_a_child(monkeypatch)
        return True
    monkeypatch.setattr(read_ahead, "SCAN_APART_FROM", 1 << 60)
    return False


def scans_in_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every plan read from now on has its scans run in a forked child (each child recorded in FORKED)."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this system: the scans always run in the reader's thread")
    monkeypatch.setattr(read_ahead, "SCAN_APART_FROM", 0)
    monkeypatch.setattr(read_ahead, "can_fork", lambda: True)
    fork = os.fork

    def recorded_fork() -> int:
        pid = fork()
        if pid:
            FORKED.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded_fork)


@pytest.fixture()
def example(tmp_path: Path, apart: bool) -> Path:
    return generate.new_workbook(tmp_path / "plan.xlsx", example=True)


FORKED: list[int] = []  # the scanning children started in this test process


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def no_thread_left() -> bool:
    """No thread of the read ahead runs, and every scanning child has ended and been reaped."""
    return all(reaped(pid) for pid in FORKED) and not any(
        t.name.startswith("reentry-workbook-") for t in threading.enumerate()
    )


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
    example: Path, apart: bool, monkeypatch: pytest.MonkeyPatch
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
    # Scanned ahead once (in the child, whose calls are its own), never again: the reader stopped at Goals.
    assert calls.count(STEPS) == (0 if apart else 1)
    assert no_thread_left()


def test_finish_drops_what_was_not_taken_and_stops_the_thread(example: Path, apart: bool) -> None:
    import zipfile

    from reentry_workbook.xlsx import guard
    from reentry_workbook.xlsx.cells import open_workbook

    with guard.open_package(example) as zf:
        book = open_workbook(zf)
        refs = [ref for ref in book.sheets if ref.name in PLAN_SHEETS]

        def reopen() -> None:
            book.zf = zipfile.ZipFile(example)

        ahead = ReadAhead(lambda: python_calamine.CalamineWorkbook.from_path(str(example)), refs,
                          lambda ref: fast_path.scan_fast(book, ref), reopen if apart else None)
        scan, grid = ahead.take(refs[0])
        assert scan is not None and grid and ahead.holds(refs[1]) and not ahead.holds(refs[0])
        ahead.finish()
        assert no_thread_left()
        assert ahead.take(refs[1])[1] is FAILED  # its grid, parsed but not taken before finish, was dropped
        ahead.calamine.close()


def test_a_large_plan_is_scanned_in_a_child_process_and_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the size, where the system can fork, the scans run in another process (the reader's typing needs
    the interpreter lock the scans would hold); below it, or with another thread running, in the reader's."""
    import reentry_workbook.xlsx.cells as cells

    pids = tmp_path / "pids"
    real = cells.scan_fast

    def scan(book: Any, ref: Any) -> Any:
        with pids.open("a") as out:  # (a child's lists are its own: it writes where the test can read)
            out.write(f"{os.getpid()}\n")
        return real(book, ref)

    monkeypatch.setattr(cells, "scan_fast", scan)
    plan = generate.new_workbook(tmp_path / "plan.xlsx", example=True)

    def scanned_in(size_from: int, threads: int) -> set[str]:
        monkeypatch.setattr(read_ahead, "SCAN_APART_FROM", size_from)
        monkeypatch.setattr(threading, "active_count", lambda: threads)
        read = read_plan(plan)
        assert read.plan == read_plan(plan, fast=False).plan
        found = set(pids.read_text().split())
        pids.unlink()
        return found

    if hasattr(os, "fork"):
        in_child = scanned_in(1, 1)
        assert len(in_child) == 1 and str(os.getpid()) not in in_child
    assert scanned_in(1 << 60, 1) == {str(os.getpid())}  # a small plan
    assert scanned_in(1, 2) == {str(os.getpid())}  # another thread runs: forking is not safe


def test_a_child_that_dies_leaves_its_sheets_to_the_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reentry_workbook.xlsx.cells as cells

    example = generate.new_workbook(tmp_path / "plan.xlsx", example=True)
    scans_in_a_child(monkeypatch)
    real = cells.scan_fast

    def scan(book: Any, ref: Any) -> Any:
        if ref.name == schema.sheet("goals").name and os.getpid() != parent:
            os._exit(3)  # the child dies halfway: the reader scans Goals and the rest itself
        return real(book, ref)

    parent = os.getpid()
    monkeypatch.setattr(cells, "scan_fast", scan)
    recorder = Recorder(monkeypatch)
    fast = read_plan(example)
    exact = read_plan(example, fast=False)
    assert fast.plan == exact.plan and fast.findings == exact.findings
    # The sheets the child did scan are parsed ahead; the others go the exact path, after the reader's own scan.
    assert recorder.sheets_in(THREAD) == PLAN_SHEETS[:2]
    assert no_thread_left()


def _forks_its_scans(_: int) -> bool:
    return read_ahead.can_fork()


def test_a_worker_of_a_pool_scans_in_its_own_thread() -> None:
    """The folder audit and the merge read in a pool of processes that keeps every core busy already: a worker
    that forked again for its scans would only add work."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this system")
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.map(_forks_its_scans, [0]) == [False]
