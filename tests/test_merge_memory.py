"""What keeps a large merge's memory down, pinned by what it holds rather than by measuring it.

- the Merge Log and Merge Conflicts tables are rendered, encoded and deflated a few thousand rows at a time
  (a 50,000-step merge's log is tens of megabytes of XML), and give the bytes the table rendered whole gives;
- the IDs of the master's blank pre-formatted rows are sent to the workers as runs of numbers, not as texts;
- of the sheets' cells kept for the formulas, a column is one list (not a list per row);
- the worksheet editor lets each row go as soon as its edits are made (test_merge_speed.py pins that it parses
  only the rows it changes), and an edited sheet is inflated and decoded a piece at a time (its text is the one
  copy of it held whole);
- of a return's changed rows, only the cells it sends are kept (test_merge_speed.py).
"""

from __future__ import annotations

import pickle
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from member_edits import Set, edit_with_openpyxl
from opened import count_inflated_whole
from plans import add_step, clean_plan
from sheet_fakes import edited

from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_layout import SlotIds
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import write_plan_workbook
from reentry_workbook.xlsx import direct_rows, sheet_edit, xmltext, zip_io
from reentry_workbook.xlsx.opc import Package
from reentry_workbook.xlsx.sheet_cells import DenseCells
from reentry_workbook.xlsx.sheet_edit import SheetChanges

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _master_and_returns(folder: Path, steps: int, returns: int) -> tuple[Path, list[Path]]:
    plan = clean_plan()
    for i in range(6, steps + 1):
        add_step(plan, f"A-{i}", "I-1", f"Step {i} of the housing work")
    master = write_plan_workbook(folder / "master.xlsx", plan)
    out = []
    for n in range(returns):
        edits = [Set("steps", f"A-{i}", "notes", f"Note {i} from return {n}") for i in range(6, steps + 1)]
        out.append(edit_with_openpyxl(master, folder / f"return-{n}.xlsx", edits))
    return master, out


def test_the_merge_tables_are_made_a_piece_at_a_time_as_they_are_made_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master, returns = _master_and_returns(tmp_path, 40, 2)
    whole = merge(master, returns, tmp_path / "whole.xlsx")
    assert len(whole.log) > 60  # every note sent twice, differently: a conflict per step, logged per return

    pieces: list[str] = []
    real = direct_rows.rendered_rows

    def rendered(*args: Any) -> Iterator[str]:
        for piece in real(*args):
            pieces.append(piece)
            yield piece

    monkeypatch.setattr(direct_rows, "rendered_rows", rendered)
    monkeypatch.setattr(direct_rows, "ROWS_PER_PIECE", 7)
    monkeypatch.setattr(zip_io, "_KEEP_BYTES", 2_000)  # so that the tables' parts are held deflated
    merge(master, returns, tmp_path / "pieces.xlsx")
    assert len(pieces) > 10 and max(piece.count("<row ") for piece in pieces) == 7
    made = Package.read(tmp_path / "pieces.xlsx")
    assert made.data == Package.read(tmp_path / "whole.xlsx").data


@pytest.mark.parametrize("size", [0, 3_000, (1 << 20) + 5_000])
def test_a_new_part_made_in_pieces_is_written_as_a_new_part_made_whole(tmp_path: Path, size: int) -> None:
    data = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(size // 20 + 1))[:size]
    name = "xl/worksheets/sheet9.xml"
    made = zip_io.new_part(name, (data[i : i + 4_000] for i in range(0, size, 4_000)))
    assert (made.data is None) == (size > zip_io._KEEP_BYTES)  # a large one is held deflated
    zip_io.write_zip(tmp_path / "pieces.zip", [made], b"")
    zip_io.write_zip(tmp_path / "whole.zip", [zip_io.ZipEntry(name, data, None)], b"")
    assert (tmp_path / "pieces.zip").read_bytes() == (tmp_path / "whole.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "pieces.zip") as zf:
        assert zf.read(name) == data


def test_blank_rows_ids_are_held_as_runs_and_found_as_a_set_finds_them() -> None:
    ids = [f"A-{n}" for n in range(100, 40_100)] + ["A-7", "A-9", "B-3", "A-07", None, "A-12"]
    master = {f"A-{n}" for n in range(1, 101)} | {"A-40000", "B-3"}
    held = SlotIds("A", ids, master)
    assert len(held.starts) == 4 and held.others == {"B-3", "A-07"}  # 7, 9, 12 and 100-40099
    assert len(pickle.dumps(held)) < 1_000  # what each worker is sent
    plain = {i for i in ids if i}
    rng = random.Random(7)
    names = {f"A-{rng.randrange(0, 50_000)}" for _ in range(2_000)} | {"A-07", "B-3", "A-8", "A-0", "a-100", "A-٣"}
    names |= set(rng.sample(sorted(master), 50))
    assert held.among(names, master) == names & plain
    assert all((name in held) == (name in plain) for name in names)


def test_the_columns_kept_of_a_sheet_read_as_the_sheet_reads_them() -> None:
    grid = [["ID", "Text", "Notes"], ["A-1", "one", ""], ["A-2", "", "n"], ["", "", ""], ["A-4", "four", "x", "y"]]
    flags = {(2, 1): ("error", "#N/A"), (6, 0): ("error", "#REF!")}
    dense = DenseCells("S", [list(row) for row in grid], dict(flags), [])
    blanked = DenseCells("S", [[v if c in (0, 1) else "" for c, v in enumerate(row)] for row in grid], dict(flags), [])
    kept = dense.only_columns({0, 1})
    assert kept.row_count() == blanked.row_count() == 7
    assert list(kept.iter_cells()) == list(blanked.iter_cells())
    assert [kept.row_items(r) for r in range(8)] == [blanked.row_items(r) for r in range(8)]
    assert list(kept.plain_rows()) == list(blanked.plain_rows())
    cells = [(r, c) for r in range(8) for c in range(5)]
    assert [kept.value(r, c) for r, c in cells] == [blanked.value(r, c) for r, c in cells]
    assert [(r, [v or None for v in vals]) for r, vals in kept.select([0, 1], 1)] == [
        (r, [v or None for v in vals]) for r, vals in blanked.select([0, 1], 1)
    ]


def _sheet(rows: int) -> str:
    body = "".join(
        f'<row r="{r}"><c r="A{r}" s="1" t="inlineStr"><is><t>ID-{r}</t></is></c><c r="B{r}"><v>{r}</v></c></row>'
        for r in range(1, rows + 1)
    )
    return f'<worksheet xmlns="{MAIN}"><dimension ref="A1:B{rows}"/><sheetData>{body}</sheetData></worksheet>'






def test_the_editor_lets_each_row_go_once_its_edits_are_made(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _sheet(300)
    changes = SheetChanges(cells={(r, 1): f"new {r}" for r in range(0, 300, 3)}, results={}, appended={300, 301})

    def edit() -> str:
        return edited(text, changes, inline=True)

    with monkeypatch.context() as whole_sheet:
        whole_sheet.setattr(sheet_edit, "parse_around_cells", lambda t: (xmltext.parse_xml(t), None))
        whole = edit()
    held: list[int] = []
    real = sheet_edit._Job._row

    def row(self: Any, r: int) -> Any:
        held.append(len(self.parsed))
        return real(self, r)

    monkeypatch.setattr(sheet_edit._Job, "_row", row)
    assert edit() == whole
    assert len(held) > 100 and max(held) <= 1  # never more than the row being written (or the appended rows' model)
    assert '<c r="B298" t="inlineStr"><is><t>new 297</t></is></c>' in whole and '<row r="302"' in whole


@pytest.mark.parametrize(
    "data",
    [
        '<?xml version="1.0"?><a>caf\u00e9 \u2014 \U0001f600</a>'.encode(),
        b"\xef\xbb\xbf" + "<a>caf\u00e9 \U0001f600</a>".encode(),
        b"\xff\xfe" + "<a>caf\u00e9 \U0001f600</a>".encode("utf-16-le"),
        "<a>caf\u00e9 \U0001f600</a>".encode("utf-16-le"),
        "<a>caf\u00e9 \U0001f600</a>".encode("utf-16-be"),
        b"<a/>",
        b"",
    ],
    ids=["utf-8", "utf-8 with its mark", "utf-16 with its mark", "utf-16-le", "utf-16-be", "short", "empty"],
)
@pytest.mark.parametrize("cut", [1, 3, 1_000])
def test_a_part_decoded_as_its_pieces_come_is_the_part_decoded_whole(data: bytes, cut: int) -> None:
    whole = xmltext.XmlText.decode(data)
    pieces = xmltext.XmlText.decode_pieces(memoryview(data)[i : i + cut] for i in range(0, len(data), cut))
    assert (pieces.text, pieces.encoding, pieces.bom) == (whole.text, whole.encoding, whole.bom)


def test_an_edited_sheet_is_decoded_as_it_is_inflated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large sheet's text is the one copy of it held whole: its bytes are inflated and decoded a piece at a time."""
    from reentry_workbook.xlsx import workbook_edit

    master, _returns = _master_and_returns(tmp_path, 60, 0)
    steps = schema.sheet("steps").name
    changes = {steps: SheetChanges(cells={(6, 1): "edited"})}
    expected = workbook_edit.edited_package(master, changes)
    monkeypatch.setattr(zip_io, "_KEEP_BYTES", 2_000)  # the sheet is held compressed, as a large one is
    inflated_whole = count_inflated_whole(monkeypatch)
    held = workbook_edit.edited_package(master, changes)
    part = workbook_edit._Book(held).sheet_part(steps)
    assert part not in inflated_whole
    monkeypatch.undo()
    assert held.data[part] == expected.data[part]
