"""Data safety of every command that writes a workbook.

Member text that a spreadsheet app would run as a formula (``=HYPERLINK(...)``, ``+cmd|...``, ``-2+3``,
``@SUM(...)``, text starting with a tab or a carriage return) is typed into a plan as literal text and then
goes through ``audit`` (the audited copy), a batch audit (``rollup.xlsx``), ``packets``, ``merge``, ``diff -o``,
``upgrade`` and ``new --coalition``. Each output's sheet XML is read straight from the package: the only
formulas are the generator's own (the Lists sheet's label formulas and the derived columns, found by position
from the declaration), and the member's text is there as text. Every command also leaves its inputs' bytes and
modification times alone, refuses to overwrite an output without ``--force``, and leaves no file behind when
writing fails half-way or at the last moment.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import os
import posixpath
import re
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reentry_workbook.cli import cli
from reentry_workbook.cycle.packets import make_packets
from reentry_workbook.plan import schema
from reentry_workbook.plan.schema import Kind
from reentry_workbook.workbook.generate import new_workbook
from reentry_workbook.xlsx.refs import column_letter

AS_OF = "2027-03-01"

# What a member typed, as text. Each would be a formula (or a DDE call) if a writer let it through.
PAYLOADS: dict[str, str] = {
    "hyperlink": '=HYPERLINK("http://evil.example/?q=1","Click here")',
    "dde": "+cmd|' /C calc'!A0",
    "arithmetic": "-2+3",
    "at-sign": "@SUM(A1:A2)",
    "tab": "\t=1+1",
    "carriage-return": "\r=2+2",
    "plain-formula": "=1+2",
}

# Where it is typed: (sheet key, column key, data row index), or ("coalition", field key, 0).
COALITION = "coalition"
PLACES: dict[tuple[str, str, int], str] = {
    (COALITION, "name", 0): "hyperlink",
    ("steps", "step", 0): "hyperlink",
    ("steps", "responsible", 0): "dde",
    ("steps", "notes", 0): "tab",
    ("steps", "step", 1): "arithmetic",
    ("steps", "responsible", 1): "at-sign",
    ("steps", "notes", 1): "carriage-return",
    ("steps", "step", 2): "plain-formula",
    ("steps", "how_it_serves", 2): "at-sign",
    ("steps", "notes", 2): "hyperlink",
    ("steps", "responsible", 3): "tab",
    ("steps", "notes", 3): "dde",
    ("improvements", "stakeholders", 0): "at-sign",
    ("stakeholders", "name", 0): "plain-formula",
    ("stakeholders", "name", 1): "carriage-return",
    ("stakeholders", "notes", 2): "dde",
}


def where(place: tuple[str, str, int]) -> tuple[str, str]:
    """(sheet name, A1) of a place in a generated workbook's layout."""
    sheet_key, key, index = place
    if sheet_key == COALITION:
        row = schema.FIRST_DATA_ROW + [f.key for f in schema.COALITION_FIELDS].index(key)
        return schema.COALITION_SHEET, f"B{row}"
    sheet = schema.sheet(sheet_key)
    col = [c.key for c in sheet.columns].index(key)
    return sheet.name, f"{column_letter(col)}{schema.FIRST_DATA_ROW + index}"


def read_back(text: str) -> str:
    """What a command that reads the plan carries on: the reader trims the spaces around a cell's text."""
    return text.strip()


# --------------------------------------------------------------------------------------------------------------
# Reading an output's cells straight from its XML
# --------------------------------------------------------------------------------------------------------------

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
OFFICE_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
STRING_TYPES = ("s", "inlineStr")


@dataclass(frozen=True)
class XCell:
    type: str  # the t attribute ("n" when absent)
    formula: bool  # has an <f> element
    text: str | None  # the shared or inline string, or the cached value


def unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m[1], 16)), text)


def _string(element: ET.Element) -> str:
    """The text of an <si> or <is>: its runs' <t>, phonetic runs left out."""
    parts = []
    for child in element:
        if child.tag == MAIN + "t":
            parts.append(child.text or "")
        elif child.tag == MAIN + "r":
            parts.extend(t.text or "" for t in child.iter(MAIN + "t"))
    return unescape("".join(parts))


def sheet_cells(path: Path) -> dict[str, dict[str, XCell]]:
    """Sheet name -> A1 -> cell, read from the package's XML (no spreadsheet library in between)."""
    with zipfile.ZipFile(path) as zf:
        root_rels = ET.fromstring(zf.read("_rels/.rels"))
        book = next(r.get("Target", "") for r in root_rels if r.get("Type", "").endswith("/officeDocument"))
        book = book.lstrip("/")
        folder = posixpath.dirname(book)

        def part(target: str) -> str:
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))

        rels = ET.fromstring(zf.read(posixpath.join(folder, "_rels", posixpath.basename(book) + ".rels")))
        targets = {r.get("Id"): part(r.get("Target", "")) for r in rels}
        shared: list[str] = []
        for rel in rels:
            if rel.get("Type", "").endswith("/sharedStrings"):
                shared = [_string(si) for si in ET.fromstring(zf.read(part(rel.get("Target", "")))).iter(MAIN + "si")]
        out: dict[str, dict[str, XCell]] = {}
        for entry in ET.fromstring(zf.read(book)).iter(MAIN + "sheet"):
            cells: dict[str, XCell] = {}
            for c in ET.fromstring(zf.read(targets[entry.get(OFFICE_REL + "id")])).iter(MAIN + "c"):
                kind = c.get("t", "n")
                value = c.find(MAIN + "v")
                if kind == "s":
                    text: str | None = shared[int(value.text or "0")] if value is not None else None
                elif kind == "inlineStr":
                    inline = c.find(MAIN + "is")
                    text = _string(inline) if inline is not None else ""
                else:
                    text = unescape(value.text) if value is not None and value.text is not None else None
                cells[c.get("r", "")] = XCell(kind, c.find(MAIN + "f") is not None, text)
            out[entry.get("name", "")] = cells
    return out


def _row_col(ref: str) -> tuple[int, str]:
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters) :]), letters


def _meant_formula(sheet_name: str, ref: str) -> bool:
    """The generator's own formulas, by position: derived columns and the Lists sheet's formula lists."""
    row, letters = _row_col(ref)
    if row < schema.FIRST_DATA_ROW:
        return False
    if sheet_name == schema.LISTS_SHEET:
        # The Lists sheet holds one column per choice list (values), then the formula lists.
        return letters not in {column_letter(i) for i in range(len(schema.CHOICES))}
    for sheet in schema.SHEETS:
        if sheet.name == sheet_name:
            return any(column_letter(i) == letters for i, c in enumerate(sheet.columns) if c.kind is Kind.DERIVED)
    return False


def assert_only_meant_formulas(path: Path) -> dict[str, dict[str, XCell]]:
    cells = sheet_cells(path)
    stray = [
        f"{sheet}!{ref}: {c.text!r}"
        for sheet, found in cells.items()
        for ref, c in found.items()
        if c.formula and not _meant_formula(sheet, ref)
    ]
    assert not stray, f"{path.name} has formulas nobody meant: {stray[:10]}"
    return cells


def texts(cells: dict[str, dict[str, XCell]]) -> set[str]:
    """Every text held as a string (never a formula's result)."""
    return {c.text for found in cells.values() for c in found.values() if c.type in STRING_TYPES and c.text}


def assert_plan_formulas_present(cells: dict[str, dict[str, XCell]]) -> None:
    """Guard against a vacuous check: a plan workbook does hold the generator's formulas."""
    derived = [(s, ref) for s, found in cells.items() for ref, c in found.items() if c.formula]
    assert any(s == schema.LISTS_SHEET for s, _ in derived)
    assert any(s == schema.sheet("steps").name for s, _ in derived)


# --------------------------------------------------------------------------------------------------------------
# The hostile plan
# --------------------------------------------------------------------------------------------------------------


def write_hostile_plan(example: Path, out: Path) -> Path:
    """The example plan with the payloads typed in as text cells (openpyxl data type 's')."""
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(example)
    for place, name in PLACES.items():
        sheet_name, ref = where(place)
        cell = workbook[sheet_name][ref]
        # A carriage return goes into the XML the way Excel writes it, escaped (a bare one reads back as \n).
        cell.value = PAYLOADS[name].replace("\r", "_x000D_")
        cell.data_type = "s"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook.save(out)
    return out


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("plans")
    example = new_workbook(folder / "example.xlsx", example=True)
    hostile = write_hostile_plan(example, folder / "hostile.xlsx")
    packets = make_packets(hostile, folder / "packets")
    return {"example": example, "hostile": hostile, "packet": packets[0]}


def test_the_hostile_plan_holds_the_payloads_as_text(plans: dict[str, Path]) -> None:
    cells = sheet_cells(plans["hostile"])
    for place, name in PLACES.items():
        sheet_name, ref = where(place)
        cell = cells[sheet_name][ref]
        assert cell.type in STRING_TYPES and not cell.formula and cell.text == PAYLOADS[name], (place, cell)


# --------------------------------------------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Command:
    """One command that writes workbooks: how to run it into ``out``, and what it must write."""

    name: str
    args: Callable[[dict[str, Path], Path], list[str]]  # (inputs, output folder) -> arguments
    inputs: Callable[[dict[str, Path]], list[Path]]
    check: Callable[[dict[str, Path], Path], None]  # asserts on the outputs in the output folder


def _hostile_places_exact(path: Path) -> None:
    """The member's own cells, untouched by the audit: the same text, still text, in the same cell."""
    cells = assert_only_meant_formulas(path)
    assert_plan_formulas_present(cells)
    for place, name in PLACES.items():
        sheet_name, ref = where(place)
        cell = cells[sheet_name][ref]
        assert cell.type in STRING_TYPES and not cell.formula and cell.text == PAYLOADS[name], (place, cell)
    summary = cells[schema.SUMMARY_SHEET]
    assert not any(c.formula for c in summary.values())
    assert read_back(PAYLOADS["hyperlink"]) in texts({schema.SUMMARY_SHEET: summary})  # the coalition's name


def _check_merged(paths: dict[str, Path], out: Path) -> None:
    """The merge writes into a copy of the master: the master's cells keep their exact text, still text."""
    (written,) = out.iterdir()
    cells = assert_only_meant_formulas(written)
    assert_plan_formulas_present(cells)
    for place, name in PLACES.items():
        sheet_name, ref = where(place)
        cell = cells[sheet_name][ref]
        assert cell.type in STRING_TYPES and not cell.formula and cell.text == PAYLOADS[name], (place, cell)


def _all_read_back(cells: dict[str, dict[str, XCell]], where_from: str) -> None:
    missing = {read_back(PAYLOADS[n]) for n in PLACES.values()} - texts(cells)
    assert not missing, f"{where_from} lost or changed member text: {sorted(missing)}"


def _check_audit(paths: dict[str, Path], out: Path) -> None:
    (copy,) = out.iterdir()
    _hostile_places_exact(copy)


def _check_batch(paths: dict[str, Path], out: Path) -> None:
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["rollup.xlsx", "hostile.audited.xlsx", "=SUM(1,2) plan.audited.xlsx"])
    for name in names:
        if name != "rollup.xlsx":
            _hostile_places_exact(out / name)
    rollup = assert_only_meant_formulas(out / "rollup.xlsx")
    assert not any(c.formula for found in rollup.values() for c in found.values())
    assert {read_back(PAYLOADS["hyperlink"]), "=SUM(1,2) plan.xlsx"} <= texts(rollup)


def _check_packets(paths: dict[str, Path], out: Path) -> None:
    union: dict[str, dict[str, XCell]] = {}
    packets = sorted(out.iterdir())
    assert len(packets) > 1 and all(p.parent == out and p.suffix == ".xlsx" for p in packets)
    for i, packet in enumerate(packets):
        cells = assert_only_meant_formulas(packet)
        assert_plan_formulas_present(cells)
        union.update({f"{i}:{sheet}": found for sheet, found in cells.items()})
    _all_read_back(union, "the packets")


def _check_plan_output(label: str) -> Callable[[dict[str, Path], Path], None]:
    def check(paths: dict[str, Path], out: Path) -> None:
        (written,) = out.iterdir()
        cells = assert_only_meant_formulas(written)
        assert_plan_formulas_present(cells)
        _all_read_back(cells, label)

    return check


def _check_diff(paths: dict[str, Path], out: Path) -> None:
    (written,) = out.iterdir()
    cells = assert_only_meant_formulas(written)
    assert not any(c.formula for found in cells.values() for c in found.values())
    _all_read_back(cells, "the diff workbook")


def _check_new(paths: dict[str, Path], out: Path) -> None:
    (written,) = out.iterdir()
    cells = assert_only_meant_formulas(written)
    assert_plan_formulas_present(cells)
    sheet_name, ref = where((COALITION, "name", 0))
    cell = cells[sheet_name][ref]
    assert cell.type in STRING_TYPES and not cell.formula and cell.text == PAYLOADS["carriage-return"]


def _second_copy(paths: dict[str, Path]) -> Path:
    """The hostile plan again, under a file name that is itself a formula."""
    twin = paths["hostile"].with_name("=SUM(1,2) plan.xlsx")
    if not twin.exists():
        twin.write_bytes(paths["hostile"].read_bytes())
    return twin


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command(
            "audit",
            lambda p, out: ["audit", str(p["hostile"]), "-o", str(out / "hostile.audited.xlsx"), "--as-of", AS_OF],
            lambda p: [p["hostile"]],
            _check_audit,
        ),
        Command(
            "batch-audit",
            lambda p, out: ["audit", str(p["hostile"]), str(_second_copy(p)), "-o", str(out), "--jobs", "1"],
            lambda p: [p["hostile"], _second_copy(p)],
            _check_batch,
        ),
        Command(
            "packets",
            lambda p, out: ["packets", str(p["hostile"]), "-o", str(out), "--jobs", "1"],
            lambda p: [p["hostile"]],
            _check_packets,
        ),
        Command(
            "merge",
            lambda p, out: ["merge", str(p["hostile"]), str(p["packet"]), "-o", str(out / "merged.xlsx")],
            lambda p: [p["hostile"], p["packet"]],
            _check_merged,
        ),
        Command(
            "diff",
            lambda p, out: ["diff", str(p["example"]), str(p["hostile"]), "-o", str(out / "changes.xlsx")],
            lambda p: [p["example"], p["hostile"]],
            _check_diff,
        ),
        Command(
            "upgrade",
            lambda p, out: ["upgrade", str(p["hostile"]), "-o", str(out / "upgraded.xlsx")],
            lambda p: [p["hostile"]],
            _check_plan_output("the upgraded workbook"),
        ),
        Command(
            "new",
            lambda p, out: ["new", str(out / "plan.xlsx"), "--coalition", PAYLOADS["carriage-return"]],
            lambda p: [],
            _check_new,
        ),
    )
}


def invoke(args: list[str]):
    return CliRunner().invoke(cli, args)


def state(paths: list[Path]) -> dict[str, tuple[str, int]]:
    """(sha256, mtime in ns) of each file."""
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths}


def folder_state(folder: Path) -> dict[str, tuple[str, int]]:
    return state(sorted(p for p in folder.rglob("*") if p.is_file())) | {
        str(p): ("folder", 0) for p in folder.rglob("*") if p.is_dir()
    }


def one_line(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_member_text_stays_text_and_nothing_is_overwritten(name: str, plans: dict[str, Path], tmp_path: Path) -> None:
    command = COMMANDS[name]
    out = tmp_path / "out"
    out.mkdir()
    inputs = command.inputs(plans)
    before = state(inputs)

    result = invoke(command.args(plans, out))
    assert result.exit_code in (0, 1), (result.output, result.exception)
    assert state(inputs) == before, "an input's bytes or modification time changed"
    command.check(plans, out)

    # The same command again: the outputs exist now, so without --force it must refuse and change nothing.
    written = folder_state(out)
    again = invoke(command.args(plans, out))
    assert "--force" in one_line(again)
    assert folder_state(out) == written
    assert state(inputs) == before


# --------------------------------------------------------------------------------------------------------------
# Interrupted writes
# --------------------------------------------------------------------------------------------------------------

_REAL_OPEN = io.open
_REAL_REPLACE = os.replace
_DISK_FULL_AFTER = 4096  # bytes a file in the broken folder may take before the disk is "full"


def _inside(folder: Path, path: object) -> bool:
    try:
        return Path(os.fspath(path)).resolve().parent == folder.resolve()  # type: ignore[arg-type]
    except TypeError:  # a file descriptor
        return False


class _FillingFile:
    """A file opened for writing whose write fails once ``_DISK_FULL_AFTER`` bytes are in it.

    Only that one write fails (later ones go through): XlsxWriter leaves its zip archive open when a write
    fails, and the archive writes its directory again when it is collected.
    """

    def __init__(self, raw: Any, hits: list[str]) -> None:
        self._raw = raw
        self._hits = hits
        self._written = 0
        self._failed = False

    def write(self, data: Any) -> int:
        room = _DISK_FULL_AFTER - self._written
        if not self._failed and len(data) > room:
            self._raw.write(bytes(data[: max(room, 0)]))
            self._written = _DISK_FULL_AFTER
            self._failed = True
            self._hits.append(self._raw.name)
            raise OSError(errno.ENOSPC, "No space left on device")
        self._written += len(data)
        return self._raw.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()

    def __iter__(self) -> Any:
        return iter(self._raw)


def break_writes(monkeypatch: pytest.MonkeyPatch, folder: Path, when: str) -> list[str]:
    """Make every file written into ``folder`` fail: the disk fills up mid-way, or the final rename fails.

    Both act below any writer (XlsxWriter, zipfile, the package grafter), at ``open`` and ``os.replace``.
    """
    hits: list[str] = []

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        raw = _REAL_OPEN(file, mode, *args, **kwargs)
        if any(flag in mode for flag in "wax+") and "b" in mode and _inside(folder, file):
            return _FillingFile(raw, hits)
        return raw

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if _inside(folder, dst):
            hits.append(os.fspath(dst))
            raise OSError(errno.EIO, "Input/output error")
        _REAL_REPLACE(src, dst, *args, **kwargs)

    if when == "mid-way":
        monkeypatch.setattr(io, "open", open_)
        monkeypatch.setattr(builtins, "open", open_)
    else:
        monkeypatch.setattr(os, "replace", replace)
    return hits


@pytest.mark.parametrize("when", ["mid-way", "before-the-rename"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_an_interrupted_write_leaves_nothing(
    name: str, when: str, plans: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = COMMANDS[name]
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / "keep.txt"
    earlier.write_text("a file that was there before")
    inputs = command.inputs(plans)
    before, folder_before = state(inputs), folder_state(out)

    hits = break_writes(monkeypatch, out, when)
    result = invoke(command.args(plans, out))
    monkeypatch.undo()

    assert hits, "the write was never interrupted"
    line = one_line(result)
    assert "could not" in line or "cannot" in line, line
    assert ".tmp" not in line, f"the line names the temporary file, not the output: {line}"
    assert folder_state(out) == folder_before, f"left behind: {sorted(p.name for p in out.iterdir())}"
    assert state(inputs) == before


def test_an_interrupted_write_keeps_the_file_it_would_replace(
    plans: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "hostile.audited.xlsx"
    target.write_bytes(b"last week's audited copy")
    before = folder_state(out)
    hits = break_writes(monkeypatch, out, "mid-way")
    result = invoke(["audit", str(plans["hostile"]), "-o", str(target), "--force", "--as-of", AS_OF])
    monkeypatch.undo()
    assert hits
    one_line(result)
    assert folder_state(out) == before


def test_new_is_reproducible_and_writes_the_name_as_text(tmp_path: Path) -> None:
    """Same options, same bytes: the coalition name written as text does not depend on the run."""
    runs = []
    for i in (1, 2):
        path = tmp_path / f"plan{i}.xlsx"
        assert invoke(["new", str(path), "--coalition", PAYLOADS["hyperlink"]]).exit_code == 0
        runs.append(sheet_cells(path))
    assert runs[0] == runs[1]
    sheet_name, ref = where((COALITION, "name", 0))
    assert runs[0][sheet_name][ref] == XCell("s", False, PAYLOADS["hyperlink"])


def test_every_place_is_a_text_column_of_the_declaration() -> None:
    """The places exist in the declaration and hold text (a renamed column would make this file test nothing)."""
    for sheet_key, key, _ in PLACES:
        if sheet_key == COALITION:
            assert schema.coalition_field(key).kind is Kind.TEXT
        else:
            assert schema.sheet(sheet_key).column(key).kind in (Kind.TEXT, Kind.LONG_TEXT)


def test_the_check_catches_member_text_written_as_a_formula(tmp_path: Path) -> None:
    """The formula check is not vacuous: text written the careless way (XlsxWriter's write()) is caught."""
    import xlsxwriter

    path = tmp_path / "careless.xlsx"
    book = xlsxwriter.Workbook(str(path))  # strings_to_formulas left on, as a careless writer would
    steps = book.add_worksheet(schema.sheet("steps").name)
    sheet_name, ref = where(("steps", "notes", 0))
    steps.write(ref, PAYLOADS["plain-formula"])
    book.close()
    with pytest.raises(AssertionError, match="formulas nobody meant"):
        assert_only_meant_formulas(path)
    assert sheet_cells(path)[sheet_name][ref].formula
