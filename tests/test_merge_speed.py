"""What makes the merge fast, pinned by what it does rather than by timings.

- the master is opened once (its plan, properties, sheet names and the write all come from that one opening; its
  Lists sheet is read from an opening of its own, in a process of its own) and each return once;
- the returns are not all held at once: each is sorted against the master as soon as it is read, and only the
  rows that send something are kept (no return's plan, nor yet the merged copy, is alive when the fresh IDs are
  reserved);
- a return's rows that hold what the master's hold are taken from the master's read, neither typed nor compared
  again (test_known_rows.py);
- of the master, large parts are held compressed, its sheets only in the columns formulas read and its formulas
  as runs (test_merge_formulas.py); the workers that read the returns are forked holding only those columns;
- edited sheets are held deflated as they are made, and the editor's parsed rows are freed at once (a merge runs
  with the cyclic collector resting);
- the worksheet editor parses only the rows it changes (and those whose styles an appended row takes), and
  gives the same part as parsing the whole sheet; the shared strings read by pattern are those the parser reads.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import signal
import threading
import zipfile
import zlib
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from member_edits import Add, Set, edit_with_openpyxl
from opened import count_opens
from plans import add_step, clean_plan
from sheet_fakes import edited

from reentry_workbook.cycle import merge_decisions, merge_layout
from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_layout import LayoutReading, MasterLayout
from reentry_workbook.cycle.workers import BACKGROUND, Background, Workers
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import Plan
from reentry_workbook.workbook.generate import write_plan_workbook
from reentry_workbook.xlsx import sheet_edit, sheet_rows, workbook_edit, xmltext, zip_io
from reentry_workbook.xlsx.deflate import deflate
from reentry_workbook.xlsx.opc import Package
from reentry_workbook.xlsx.sheet_cells import SheetCells
from reentry_workbook.xlsx.sheet_edit import SheetChanges

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STEPS = schema.sheet("steps")
STEP_COUNT = 60


def _big_master(folder: Path) -> Path:
    plan = clean_plan()
    for i in range(6, STEP_COUNT + 1):
        add_step(plan, f"A-{i}", "I-1", f"Step {i} of the housing work")
    return write_plan_workbook(folder / "master.xlsx", plan)


def _returns(master: Path, folder: Path, count: int) -> list[Path]:
    out = []
    for n in range(count):
        copy = shutil.copyfile(master, folder / f"copy-{n}.xlsx")
        edits = [Set("steps", f"A-{10 + n}", "notes", f"Note from return {n}")]
        if n == 0:
            edits.append(Add("steps", {STEPS.label: "A step added by the first return", "improvement": "I-1"}))
        out.append(edit_with_openpyxl(copy, folder / f"return-{n}.xlsx", edits))
    return out


def test_the_master_and_each_return_are_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master = _big_master(tmp_path)
    returns = _returns(master, tmp_path, 3)
    opened = count_opens(monkeypatch)
    result = merge(master, returns, tmp_path / "merged.xlsx", jobs=1)
    assert result.edits == 3 and result.added == 1
    # The master: once for its plan, its layout and its parts, once for its Lists sheet (read in a process of its own
    # on several cores, while the plan is read; see merge_layout.read_lists).
    assert {name: opened[name] for name in (master.name, *(r.name for r in returns))} == {
        master.name: 2, **{r.name: 1 for r in returns}
    }


def test_returns_are_sorted_as_read_and_only_what_they_send_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = _big_master(tmp_path)
    returns = _returns(master, tmp_path, 4)
    seen: dict[str, Any] = {}
    real = merge_decisions.Merge.reserve_ids

    def reserve_ids(self: Any, rets: Any) -> None:
        gc.collect()
        seen["plans alive"] = sum(isinstance(o, Plan) for o in gc.get_objects())
        seen["rows kept"] = [sum(len(rows) for rows in r.sorted.changed.values()) for r in rets]
        seen["cells kept"] = {key for r in rets for rows in r.sorted.changed.values() for rec in rows.values()
                              for key in rec.values}
        seen["added"] = [len(r.sorted.added) for r in rets]
        real(self, rets)

    monkeypatch.setattr(merge_decisions.Merge, "reserve_ids", reserve_ids)
    gc.collect()
    before = sum(isinstance(o, Plan) for o in gc.get_objects())  # other tests' plans, in this process
    result = merge(master, returns, tmp_path / "merged.xlsx", jobs=1)
    # Only the master as read (the merged copy is made after): no return's plan outlives its reading.
    assert seen["plans alive"] - before == 1
    # Of the STEP_COUNT steps each return holds, only the one it changed is kept.
    assert seen["rows kept"] == [1, 1, 1, 1] and seen["added"] == [1, 0, 0, 0]
    assert seen["cells kept"] == {"notes"}  # of each row kept, only the cell it changed
    assert result.edits == 4 and result.added == 1


def test_returns_read_in_worker_processes_merge_as_read_here(tmp_path: Path) -> None:
    master = _big_master(tmp_path)
    returns = _returns(master, tmp_path, 3)
    here = merge(master, returns, tmp_path / "here.xlsx", jobs=1)
    there = merge(master, returns, tmp_path / "there.xlsx", jobs=2)
    assert there.to_dict()["log"] == here.to_dict()["log"] and there.to_dict()["issues"] == here.to_dict()["issues"]
    assert Package.read(tmp_path / "there.xlsx").data == Package.read(tmp_path / "here.xlsx").data


def _fail_on(index: int) -> int:
    if index == 1:
        raise ValueError("the second one")
    return index


def _square(index: int) -> int:
    return index * index


def test_work_in_processes_keeps_the_order_and_raises_the_first_error() -> None:
    with Workers[int](5, jobs=2) as workers:
        workers.start(_square)
        assert workers.results() == [0, 1, 4, 9, 16]
    with pytest.raises(ValueError, match="the second one"), Workers[int](4, jobs=2) as workers:
        workers.start(_fail_on)
        workers.results()


def test_workers_left_before_their_results_are_asked_for_stop() -> None:
    with pytest.raises(KeyError), Workers[int](4, jobs=2) as workers:
        workers.start(_square)
        assert len(multiprocessing.active_children()) == 2
        raise KeyError("the master could not be written")
    assert not multiprocessing.active_children()


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value


def _raises() -> int:
    raise KeyError("the Lists sheet could not be read")


def _stops_unless_in(pid: int) -> str:
    if os.getpid() != pid:
        os.kill(os.getpid(), signal.SIGKILL)  # (killed: the out-of-memory killer, say)
    return "done here"


def test_background_work_runs_in_a_process_of_its_own_and_gives_back_what_it_raised() -> None:
    with Background(partial(_pid_and, 7)) as work:
        pid, value = work.result()
    assert value == 7 and pid != os.getpid()
    with Background(partial(_pid_and, 8), jobs=1) as work:  # one core: here, when asked for
        assert work.result() == (os.getpid(), 8)
    with pytest.raises(KeyError, match="could not be read"), Background(_raises) as failing:
        failing.result()
    assert not [p for p in multiprocessing.active_children() if p.name == BACKGROUND]


def test_background_work_whose_process_was_stopped_is_done_here() -> None:
    with Background(partial(_stops_unless_in, os.getpid())) as work:
        assert work.result() == "done here"


def test_workers_start_holding_the_blank_rows_and_the_columns_formulas_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The master is read once, its plan and its layout together; the workers are forked then, holding its plan,
    its blank rows' IDs (as runs) and, of its cells, only the columns formulas read; the Lists sheet's formulas are
    read here while they read the returns."""
    master = _big_master(tmp_path)
    returns = _returns(master, tmp_path, 3)
    seen: list[tuple[str, int, list[str]]] = []
    threads: list[int] = []

    def counted(what: str) -> None:
        gc.collect()
        cells = sorted(type(o).__name__ for o in gc.get_objects() if isinstance(o, SheetCells))
        workers = [p for p in multiprocessing.active_children() if p.name != BACKGROUND]  # (not the Lists' reader)
        seen.append((what, len(workers), cells))
        threads.append(threading.active_count())

    real_start, real_finish = Workers.start, LayoutReading.finish
    given: list[Any] = []

    def start(self: Workers[Any], work: Any) -> None:
        counted("start")
        given.append(work.args[2])  # _read_return(state, copies, slot_ids, index)
        real_start(self, work)

    def finish(self: LayoutReading, book: Any, pkg: Any, lists: Any) -> MasterLayout:
        counted("finish")
        release.set()
        return real_finish(self, book, pkg, lists)

    # The master's parts are checked in a thread of their own (here all of them, held until the workers are at work).
    monkeypatch.setattr(zip_io, "_KEEP_BYTES", 2_000)
    release, real_run = threading.Event(), zip_io._Checks._run

    def run(self: Any) -> None:
        release.wait(30)
        real_run(self)

    monkeypatch.setattr(zip_io._Checks, "_run", run)

    monkeypatch.setattr(Workers, "start", start)
    monkeypatch.setattr(LayoutReading, "finish", finish)
    result = merge(master, returns, tmp_path / "merged.xlsx", jobs=2)
    assert result.edits == 3 and result.added == 1
    # When the workers fork, the cells held are the columns formulas read of each plan sheet; both workers are at
    # work when the layout is finished, with the Lists sheet read meanwhile in a process of its own.
    held = ["ColumnCells"] * len(schema.SHEETS)
    assert seen == [("start", 0, held), ("finish", 2, [*held, "ColumnCells"])]
    # No thread but this one runs at the fork (the master's read ahead is over; the check of its large parts starts
    # after): a thread running then leaves its memory in every worker, which never frees it.
    assert threads[0] == 1
    # The IDs of the blank rows, one set per sheet of the plan, held as runs.
    assert len(given) == 1 and set(given[0]) == {s.key for s in schema.SHEETS}
    assert all(isinstance(ids, merge_layout.SlotIds) for ids in given[0].values())


# -- the worksheet editor ----------------------------------------------------------------------------------


def _sheet(rows: int, extra: str = "") -> str:
    body = "".join(
        f'<row r="{r}" spans="1:3"><c r="A{r}" s="1" t="inlineStr"><is><t>ID-{r}</t></is></c>'
        f'<c r="B{r}"><v>{r}</v></c><c r="C{r}" s="2"><f>B{r}*2</f><v>{2 * r}</v></c></row>'
        for r in range(1, rows + 1)
    )
    return (
        f'<worksheet xmlns="{MAIN}"><dimension ref="A1:C{rows}"/><cols><col min="1" max="3" style="4"/></cols>'
        f"<sheetData>{body}{extra}</sheetData>"
        f'<dataValidations count="1"><dataValidation type="list" sqref="B2:B{rows}"><formula1>L</formula1>'
        "</dataValidation></dataValidations></worksheet>"
    )








def _rows_parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, the row elements the worksheet editor parses (by number)."""
    parsed: list[int] = []
    real = xmltext.parse_xml

    def spy(text: str, *args: Any) -> xmltext.Node:
        root = real(text, *args)
        parsed.extend(int(n.get("r") or 0) for n in root.iter() if n.local == "row")
        return root

    monkeypatch.setattr(sheet_rows, "parse_xml", spy)
    return parsed


CHANGES = SheetChanges(cells={(499, 1): "new", (0, 3): 7}, results={(249, 2): 99}, appended={1000, 1001})


def test_the_editor_parses_only_the_rows_it_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _sheet(1000)
    parsed = _rows_parsed(monkeypatch)
    out = edited(text, CHANGES, inline=True)
    # The rows written, the formula's row, and the row above the appended ones (whose styles they take).
    assert sorted(parsed) == [1, 250, 500, 1000]
    assert '<c r="B500" t="inlineStr"><is><t>new</t></is></c>' in out
    assert '<row r="1002"' in out and 'sqref="B2:B1002"' in out


@pytest.mark.parametrize(
    "extra",
    ["", "<!-- a note among the rows -->", '<row r="1003"><c r="A1003" xmlns:y="urn:y"/></row >'],
    ids=["plain", "a comment", "a declaration and an odd end tag"],
)
def test_the_editor_gives_what_parsing_the_whole_sheet_gives(monkeypatch: pytest.MonkeyPatch, extra: str) -> None:
    text = _sheet(1000, extra)
    fast = edited(text, CHANGES, inline=True)
    monkeypatch.setattr(sheet_edit, "parse_around_cells", lambda t: (xmltext.parse_xml(t), None))
    assert fast == edited(text, CHANGES, inline=True)


def test_shared_strings_read_by_pattern_are_those_the_parser_reads(tmp_path: Path) -> None:
    items = [
        "<si><t>plain &amp; simple</t></si>",
        '<si><t xml:space="preserve"> spaced </t></si>',
        "<si><r><t>rich</t></r><r><rPr><b/></rPr><t>text</t></r></si>",
        "<si><t/></si>",
        "<si/>",
        "<si>\n  <t>indented</t>\n</si>",
        "<si><t>with a reading</t><rPh sb='0' eb='1'><t>r</t></rPh></si>",
        "<si><t>plain &amp; simple</t></si>",
    ]
    table = f'<?xml version="1.0"?><sst xmlns="{MAIN}" count="9" uniqueCount="8">{"".join(items)}</sst>'
    master = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan())
    pkg = Package.read(master)
    strings_part = workbook_edit._Book(pkg).strings_part
    assert strings_part is not None
    pkg.data[strings_part] = table.encode()
    scanned = workbook_edit._SharedStrings(pkg, strings_part)
    parsed = workbook_edit._SharedStrings(pkg, strings_part)
    parsed.known, parsed.count = {}, 0
    doc, root = pkg.xml(strings_part)
    for i, si in enumerate(root.find(MAIN, "si")):
        parsed.count += 1
        text = workbook_edit._plain_item(doc.text, si)
        if text is not None:
            parsed.known.setdefault(text, i)
    assert (scanned.count, scanned.known) == (parsed.count, parsed.known) == (
        8, {"plain & simple": 0, " spaced ": 1, "": 3, "indented": 5}
    )


# -- what is held while the returns are read -----------------------------------------------------------------


def _parts(path: Path) -> dict[str, bytes]:
    pkg = Package.read(path)
    return {name: pkg.data[name] for name in pkg.data}


def test_large_parts_are_held_compressed_and_read_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = _big_master(tmp_path)
    returns = _returns(master, tmp_path, 2)
    merge(master, returns, tmp_path / "held.xlsx", jobs=1)
    monkeypatch.setattr(zip_io, "_KEEP_BYTES", 2_000)
    pkg = Package.read(master)
    inflated_later = [e.name for e in pkg.entries if e.data is None]
    assert any(name.startswith("xl/worksheets/") for name in inflated_later)
    with zipfile.ZipFile(master) as zf:
        assert {name: pkg.data[name] for name in pkg.data} == {n: zf.read(n) for n in zf.namelist()}
    merge(master, returns, tmp_path / "compressed.xlsx", jobs=1)
    assert _parts(tmp_path / "compressed.xlsx") == _parts(tmp_path / "held.xlsx")


def test_the_layout_holds_only_the_columns_formulas_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master = _big_master(tmp_path)
    returns = _returns(master, tmp_path, 2)
    layouts: list[MasterLayout] = []
    real = LayoutReading.finish

    def finish(self: LayoutReading, book: Any, pkg: Any, lists: Any) -> MasterLayout:
        layouts.append(real(self, book, pkg, lists))
        return layouts[-1]

    monkeypatch.setattr(LayoutReading, "finish", finish)
    merge(master, returns, tmp_path / "pruned.xlsx", jobs=1)
    layout = layouts[0]

    def held(sheet_key: str) -> set[str]:
        cells, columns = layout.cells[schema.sheet(sheet_key).name], layout.sheets[sheet_key].columns
        found = {c for r in range(cells.row_count()) for c, _v in cells.row_items(r)}
        return {key for key, c in columns.items() if c in found}

    improvements = schema.sheet("improvements")
    assert improvements.id_column is not None
    # The dropdown labels of the Lists sheet read the improvements' IDs and texts; the derived Goal column of the
    # steps reads their improvement; nothing reads the steps' notes or status.
    assert held("improvements") >= {improvements.id_column.key, improvements.label}
    assert "improvement" in held("steps") and not held("steps") & {"notes", "status", STEPS.label}
    # Cached results come out as when every cell is held.
    monkeypatch.setattr(merge_layout, "_keep_what_formulas_read", lambda cells, columns: cells)
    merge(master, returns, tmp_path / "whole.xlsx", jobs=1)
    assert _parts(tmp_path / "pruned.xlsx") == _parts(tmp_path / "whole.xlsx")


def test_an_edit_leaves_no_tree_for_the_cyclic_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    """A merge edits with the cyclic collector resting: the parsed rows must be freed when the edit is done."""
    text = _sheet(1000)

    def nodes() -> int:
        return sum(isinstance(o, xmltext.Node) for o in gc.get_objects())

    gc.collect()
    before = nodes()
    gc.disable()
    try:
        out = edited(text, CHANGES, inline=True)
        assert nodes() == before
    finally:
        gc.enable()
    assert '<row r="1002"' in out


def test_edited_sheets_are_held_deflated_and_written_as_edited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master = _big_master(tmp_path)
    steps = schema.sheet("steps").name
    changes = {steps: SheetChanges(cells={(6, 1): "edited"})}
    expected = workbook_edit.edited_package(master, changes)
    monkeypatch.setattr(zip_io, "_KEEP_BYTES", 2_000)
    held = workbook_edit.edited_package(master, changes)
    part = workbook_edit._Book(held).sheet_part(steps)
    entry = held.data.entry(part)
    assert entry.data is None and entry.stored is not None and entry.info is not None
    assert entry.info.compress_size == len(entry.stored) < entry.info.file_size
    assert held.data[part] == expected.data[part] != Package.read(master).data[part]
    zip_io.write_zip(tmp_path / "held.xlsx", held.entries, held.comment)
    zip_io.write_zip(tmp_path / "expected.xlsx", expected.entries, expected.comment)
    assert (tmp_path / "held.xlsx").read_bytes() == (tmp_path / "expected.xlsx").read_bytes()


@pytest.mark.parametrize("size", [0, 5_000, 3 << 20, (3 << 20) + 12_345])
@pytest.mark.parametrize("cut", [1_000, 1 << 20, 5 << 20])
def test_a_part_deflated_as_it_is_made_is_the_part_deflated_whole(size: int, cut: int) -> None:
    data = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i * 7) for i in range(size // 20 + 1))[:size]
    info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
    info.compress_type = zipfile.ZIP_DEFLATED
    entry = zip_io.ZipEntry(info.filename, b"", info)
    streamed = zip_io.packed_pieces(entry, (data[i : i + cut] for i in range(0, size, cut)))
    whole = zip_io.packed(entry, data)
    assert streamed.content() == whole.content() == data
    assert streamed.data == whole.data and (streamed.data is None) == (size > zip_io._KEEP_BYTES)
    if streamed.stored is not None and whole.stored is not None and streamed.info is not None:
        assert bytes(streamed.stored) == bytes(whole.stored) == deflate(data)
        assert (streamed.info.CRC, streamed.info.file_size) == (zlib.crc32(data), size)


def test_pieces_shorter_than_the_window_still_make_the_stream_deflated_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A piece shorter than deflate's 32 KB window keeps part of the window before it for the next piece."""
    from reentry_workbook.xlsx import deflate as pieces

    for module in (pieces, zip_io):
        monkeypatch.setattr(module, "PIECE", 5_000)
    monkeypatch.setattr(zip_io, "_KEEP_BYTES", 1_000)
    data = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i * 7) for i in range(4_000))
    info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
    info.compress_type = zipfile.ZIP_DEFLATED
    made = (data[i : i + 777] for i in range(0, len(data), 777))
    streamed = zip_io.packed_pieces(zip_io.ZipEntry(info.filename, b"", info), made)
    assert streamed.stored is not None and bytes(streamed.stored) == pieces.deflate(data)
    assert zlib.decompress(bytes(streamed.stored), -zlib.MAX_WBITS) == data


def test_only_the_shared_strings_an_edit_writes_are_looked_up(tmp_path: Path) -> None:
    items = ["<si><t>Completed</t></si>", "<si><t>Open</t></si>", "<si><t>Late</t></si>", "<si><t>Open</t></si>"]
    table = f'<?xml version="1.0"?><sst xmlns="{MAIN}" count="4" uniqueCount="4">{"".join(items)}</sst>'
    pkg = Package.read(write_plan_workbook(tmp_path / "plan.xlsx", clean_plan()))
    strings_part = workbook_edit._Book(pkg).strings_part
    assert strings_part is not None
    pkg.data[strings_part] = table.encode()
    strings = workbook_edit._SharedStrings(pkg, strings_part, {"Open", "Brand new"})
    assert strings.known == {"Open": 1}  # not the whole table
    assert [strings.index("Open"), strings.index("Brand new")] == [1, 4]
    # A text it was not told of: the whole table is looked up then, and what was appended keeps its place.
    assert [strings.index("Late"), strings.index("Brand new"), strings.index("Other")] == [2, 4, 5]
    assert strings.known == {"Completed": 0, "Open": 1, "Late": 2, "Brand new": 4, "Other": 5}
