"""A returned copy's rows that hold what the master's hold are taken from the master's read, not typed again
(reentry_workbook.audit.known_rows): the merge's shortcut through ten copies of a large plan.

What a member would notice if it went wrong is an edit the merge never saw. So every test reads a copy both ways,
taking rows and typing every row, and asks for the same plan; then it counts which rows were taken, to show that
the shortcut is taken where it may be and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from fill import Filler
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from plans import add_step, clean_plan

from reentry_workbook.audit.known_rows import KnownRows
from reentry_workbook.audit.reader import ReadResult, read_book
from reentry_workbook.cycle.merge import merge
from reentry_workbook.cycle.merge_decisions import UNREADABLE_RULES, Cells, Merge
from reentry_workbook.cycle.merge_model import Issue, LogEntry
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import Plan, Record
from reentry_workbook.plan.schema import Sheet
from reentry_workbook.workbook.generate import write_plan_workbook
from reentry_workbook.xlsx.cells import open_workbook
from reentry_workbook.xlsx.guard import open_package

STEPS, IMPROVEMENTS, MEASURES, GOALS, PRIORITIES = (
    schema.sheet(k) for k in ("steps", "improvements", "measures", "goals", "priorities")
)


def _read(path: Path, *, remember: KnownRows | None = None, known: KnownRows | None = None) -> ReadResult:
    with open_package(path) as zf:
        book = open_workbook(zf, label=path.name)
        try:
            return read_book(book, path, remember=remember, known=known)
        finally:
            book.close()


def _master(tmp_path: Path, plan: Plan | None = None) -> tuple[Path, Plan, KnownRows]:
    path = write_plan_workbook(tmp_path / "master.xlsx", plan or clean_plan(), rows=12)
    known = KnownRows()
    return path, _read(path, remember=known).plan, known


def _rows(plan: Plan) -> dict[str, list[tuple[str, str | None, dict[str, object], int]]]:
    return {s.key: [(r.sheet, r.id, r.values, r.row) for r in plan.rows(s.key)] for s in schema.SHEETS}


def _taken(plan: Plan, master: Plan) -> dict[str, set[str | None]]:
    """Sheet key -> the IDs of the rows taken from the master's read (their values are the master row's dict)."""
    out: dict[str, set[str | None]] = {}
    for sheet in schema.SHEETS:
        ours = {id(r.values) for r in master.rows(sheet.key)}
        out[sheet.key] = {r.id for r in plan.rows(sheet.key) if id(r.values) in ours}
    return out


def _both_ways(copy: Path, known: KnownRows) -> tuple[Plan, Plan]:
    """The copy read taking rows, and read typing every row: the same plan, and the same cells it cannot read."""
    taking, typing = _read(copy, known=known), _read(copy)
    assert _rows(taking.plan) == _rows(typing.plan)
    assert taking.plan.coalition == typing.plan.coalition

    def unreadable(result: ReadResult) -> list[tuple[str, str, str | None]]:
        return sorted((f.sheet, f.cell, f.message) for f in result.findings if f.rule in UNREADABLE_RULES)

    assert unreadable(taking) == unreadable(typing)
    return taking.plan, typing.plan


def _all_ids(plan: Plan, sheet_key: str) -> set[str | None]:
    return {r.id for r in plan.rows(sheet_key)}


def test_an_untouched_copy_is_taken_whole_and_reads_as_typed(tmp_path: Path) -> None:
    master, base, known = _master(tmp_path)
    filler = Filler(master)
    copy = filler.save(tmp_path / "copy.xlsx")  # openpyxl writes every part again: other bytes, same cells
    taking, _typing = _both_ways(copy, known)
    taken = _taken(taking, base)
    for sheet in (PRIORITIES, GOALS, IMPROVEMENTS, MEASURES, STEPS):
        assert taken[sheet.key] == _all_ids(base, sheet.key), sheet.name
    # a taken row carries the copy's worksheet row, not the master's
    assert all(r.row > 0 for r in taking.rows("steps"))


def test_each_edit_a_member_makes_is_typed_and_every_other_row_taken(tmp_path: Path) -> None:
    master, base, known = _master(tmp_path)
    filler = Filler(master)
    edits = {
        "A-1": ("step", " Draft MOU with the housing authority "),  # spaces around: typing strips them
        "A-3": ("status", "in progress"),  # a choice in another case: typing spells it canonically
        "A-4": ("due_date", "2027-09-30"),  # a date typed as text
        "A-5": ("improvement", "Landlord incentive fund"),  # a reference by the parent's own text
    }
    for row_id, (column, value) in edits.items():
        filler.set("steps", row_id, column, value)
    filler.set("steps", "A-2", "id", "a-2")  # an ID in lower case
    filler.set("improvements", "I-1", "estimated_cost", "52000")  # a number typed as text
    filler.set("improvements", "I-2", "estimated_cost", 52000.5)  # a number changed
    filler.set("improvements", "I-3", "estimated_cost", True)  # TRUE compares equal to 1 but is not a number
    filler.formula("measures", "M-1", "baseline", '="45"')  # a formula whose result could match
    filler.set("measures", "M-2", "target", "#N/A")  # an error value
    copy = filler.save(tmp_path / "copy.xlsx")

    taking, _typing = _both_ways(copy, known)
    taken = _taken(taking, base)
    assert taken["steps"] == set()  # each of the five was edited
    assert taken["improvements"] == {"I-4"}
    assert taken["measures"] == {"M-3", "M-4", "M-5"}
    assert taken["goals"] == _all_ids(base, "goals")


def test_values_that_compare_equal_but_are_written_differently_are_typed(tmp_path: Path) -> None:
    plan = clean_plan()
    for rec in plan.rows("improvements"):
        rec.values["estimated_cost"] = 1
    master, base, known = _master(tmp_path, plan)
    filler = Filler(master)
    filler.set("improvements", "I-1", "estimated_cost", 1.0)  # the reader's 1 all the same: taken
    filler.set("improvements", "I-2", "estimated_cost", True)  # == 1, written TRUE
    filler.set("improvements", "I-3", "estimated_cost", "1")  # text
    copy = filler.save(tmp_path / "copy.xlsx")
    taking, typing = _both_ways(copy, known)
    assert _taken(taking, base)["improvements"] == {"I-1", "I-4"}
    cost = {r.id: r.get("estimated_cost") for r in typing.rows("improvements")}
    assert cost["I-2"] == "TRUE"  # the merge sees what the member typed, not the master's 1


def test_rows_moved_deleted_and_added_are_each_what_typing_gives(tmp_path: Path) -> None:
    master, base, known = _master(tmp_path)
    filler = Filler(master)
    ws = filler.ws("goals")
    first, second = filler.row_of("goals", "G-1"), filler.row_of("goals", "G-2")
    for col in range(1, ws.max_column + 1):  # the member swapped two goals' rows
        a, b = ws.cell(row=first, column=col), ws.cell(row=second, column=col)
        a.value, b.value = b.value, a.value
    gone = filler.row_of("steps", "A-4")
    for col in filler.columns("steps").values():
        filler.ws("steps").cell(row=gone, column=col).value = None  # deleted
    filler.add_row("steps", {"improvement": "I-1", "step": "Call the landlord association"})
    copy = filler.save(tmp_path / "copy.xlsx")
    taking, _typing = _both_ways(copy, known)
    goals = {r.id: r.row for r in taking.rows("goals")}
    assert goals["G-1"] == second and goals["G-2"] == first  # taken, at the rows the copy holds them
    assert _taken(taking, base)["goals"] == _all_ids(base, "goals")
    assert _taken(taking, base)["steps"] == {"A-1", "A-2", "A-3", "A-5"}


def test_references_are_taken_as_the_reader_types_them_and_text_ones_typed_again(tmp_path: Path) -> None:
    """A reference the master holds as a number, or as nothing but invisible characters, names what it names by
    itself: its row is taken. One held as text that names no parent is typed again in every copy, since a
    parent in the copy may now have that text (here a member renamed I-4 to it)."""
    plain, _base, _known = _master(tmp_path)
    filler = Filler(plain)
    filler.set("steps", "A-1", "improvement", 1)  # the spreadsheet's 1.0: I-1
    filler.set("steps", "A-2", "improvement", " \u200b ")  # blank to the eye: typed as "\u200b"
    filler.set("steps", "A-3", "improvement", "Landlord fund, phase two")  # names no improvement
    master = filler.save(tmp_path / "typed-by-hand.xlsx")
    known = KnownRows()
    base = _read(master, remember=known).plan
    assert {r.id: r.get("improvement") for r in base.rows("steps")}["A-1"] == "I-1"

    untouched = Filler(master).save(tmp_path / "untouched.xlsx")
    taking, _typing = _both_ways(untouched, known)
    assert _taken(taking, base)["steps"] == {"A-1", "A-2", "A-4", "A-5"}

    renamed = Filler(master)
    renamed.set("improvements", "I-4", "improvement", "Landlord fund, phase two")
    copy = renamed.save(tmp_path / "renamed.xlsx")
    taking, typing = _both_ways(copy, known)
    assert {r.id: r.get("improvement") for r in typing.rows("steps")}["A-3"] == "I-4"  # the merge sees the link


def test_a_master_row_whose_id_is_held_twice_is_never_taken(tmp_path: Path) -> None:
    plan = clean_plan()
    add_step(plan, "A-1", "I-2", "A second row that reuses A-1")
    master, base, known = _master(tmp_path, plan)
    copy = Filler(master).save(tmp_path / "copy.xlsx")
    taking, _typing = _both_ways(copy, known)
    assert "A-1" not in _taken(taking, base)["steps"]
    assert [r.get("step") for r in taking.rows("steps") if r.id == "A-1"] == [
        r.get("step") for r in base.rows("steps") if r.id == "A-1"
    ]


def test_a_copy_in_the_other_date_system_is_typed_whole(tmp_path: Path) -> None:
    master, base, known = _master(tmp_path)
    filler = Filler(master)
    filler.book.epoch = CALENDAR_MAC_1904  # the same dates, stored as 1904-based serials
    copy = filler.save(tmp_path / "copy.xlsx")
    taking, typing = _both_ways(copy, known)
    assert all(not ids for ids in _taken(taking, base).values())
    assert {r.id: r.get("due_date") for r in typing.rows("steps")} == {
        r.id: r.get("due_date") for r in base.rows("steps")
    }


def test_a_sheet_whose_columns_were_swapped_is_taken_by_header(tmp_path: Path) -> None:
    """Columns are found by their headers, so a row's values come in the declaration's order wherever the member
    moved them: the rows are taken, each value from its own column."""
    master, base, known = _master(tmp_path)
    filler = Filler(master)
    ws = filler.ws("priorities")
    cols = filler.columns("priorities")
    a, b = cols["priority"], cols["lead"]
    for row in range(1, ws.max_row + 1):
        x, y = ws.cell(row=row, column=a), ws.cell(row=row, column=b)
        x.value, y.value = y.value, x.value
    copy = filler.save(tmp_path / "copy.xlsx")
    taking, _typing = _both_ways(copy, known)
    assert _taken(taking, base)["priorities"] == _all_ids(base, "priorities")
    assert [(r.get("priority"), r.get("lead")) for r in taking.rows("priorities")] == [
        (r.get("priority"), r.get("lead")) for r in base.rows("priorities")
    ]


@pytest.mark.parametrize(
    ("raw", "taken"),
    [
        (("A-1", "Step", dt.date(2027, 1, 1), None), True),
        (("A-1", "Step", dt.date(2027, 1, 1), ""), True),  # a blank reads as None
        (("A-1", "Step ", dt.date(2027, 1, 1), None), False),
        (("A-1", "Step", dt.datetime(2027, 1, 1), None), False),  # a date and time, typed to a date
        (("A-1", "step", dt.date(2027, 1, 1), None), False),
        (("A-2", "Step", dt.date(2027, 1, 1), None), False),  # no such row in the master
    ],
)
def test_taking_needs_the_values_typing_would_leave_as_they_are(raw: tuple[object, ...], taken: bool) -> None:
    known = KnownRows()
    master = Record("steps", "A-1", {"id": "A-1", "step": "Step", "due_date": dt.date(2027, 1, 1), "notes": None}, 7)
    known.learner("steps", list(master.values), False).learn("A-1", master)
    taker = known.taker("steps", list(master.values), False)
    assert taker is not None
    values = tuple(None if v == "" else v for v in raw)
    got = taker.take(raw[0], values, 9)
    assert (got is not None) is taken
    if got is not None:
        assert got.row == 9 and got.values is master.values and KnownRows.unchanged(got, master)
    assert known.taker("steps", list(master.values), True) is None  # another date system
    assert known.taker("steps", [*master.values, "extra"], False) is None  # other columns


def test_the_merge_takes_rows_and_writes_what_typing_every_row_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge with the shortcut and without it: the same merged workbook, byte for byte, and the same log."""
    master, _base, _known = _master(tmp_path)
    copies = []
    for n, (row_id, column, value) in enumerate(
        [("A-1", "status", schema.COMPLETE_STATUS), ("A-3", "step", " Train intake staff "), ("A-2", "notes", "ok")]
    ):
        filler = Filler(master)
        filler.set("steps", row_id, column, value)
        copies.append(filler.save(tmp_path / f"copy-{n}.xlsx"))

    def run(out: Path) -> tuple[str, list[LogEntry], list[Issue]]:
        result = merge(master, copies, out, jobs=1)
        return hashlib.sha256(out.read_bytes()).hexdigest(), result.log, result.issues

    taking = run(tmp_path / "taking.xlsx")
    monkeypatch.setattr(KnownRows, "taker", lambda *_args: None)
    assert run(tmp_path / "typing.xlsx") == taking


def test_a_merge_compares_cell_by_cell_only_the_rows_a_return_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each return changed one step: only that row is compared with the master's; every other row of every sheet
    with IDs is taken from the master's read. (Stakeholders rows have no ID to be known by: each return's one
    stakeholder is compared, as before.)"""
    master, _base, _known = _master(tmp_path)
    returns = []
    for n, row_id in enumerate(("A-1", "A-3", "A-5")):
        filler = Filler(master)
        filler.set("steps", row_id, "notes", f"Note from return {n}")
        returns.append(filler.save(tmp_path / f"return-{n}.xlsx"))
    compared: list[tuple[str, str]] = []
    real = Merge._sent

    def sent(self: Merge, sheet: Sheet, key: str, rec: Record, unreadable: Cells, *cut: object) -> Record | None:
        compared.append((sheet.key, key))
        return real(self, sheet, key, rec, unreadable, *cut)  # type: ignore[arg-type]

    monkeypatch.setattr(Merge, "_sent", sent)
    result = merge(master, returns, tmp_path / "merged.xlsx", jobs=1)
    stakeholder = [k for s, k in compared if s == "stakeholders"]
    assert sorted(k for s, k in compared if s != "stakeholders") == ["A-1", "A-3", "A-5"]
    assert len(stakeholder) == 3
    assert result.edits == 3
