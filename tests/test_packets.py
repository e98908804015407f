"""Member packets: one workbook per responsible member, with their steps and, greyed, what those serve."""

from __future__ import annotations

import gc
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from member_edits import load
from plans import AS_OF, add_step, clean_plan

from reentry_workbook.audit.pipeline import audit_plan
from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.cycle import packets as packets_module
from reentry_workbook.cycle.packets import (
    NO_ONE,
    NO_ONE_FILE,
    PacketIndex,
    PacketRows,
    build_packets,
    make_packets,
    member_key,
    packet_base,
    packet_file_name,
    read_packet_identity,
)
from reentry_workbook.cycle.roundtrip import plan_fingerprint
from reentry_workbook.errors import OutputError, UsageError
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import Plan
from reentry_workbook.workbook.example import example_plan
from reentry_workbook.workbook.generate import CONTEXT_FILL, write_plan_workbook
from reentry_workbook.xlsx.identity import custom_properties


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    return write_plan_workbook(tmp_path / "master.xlsx", example_plan())


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    """A master with two members (quicker than the example's dozen)."""
    return write_plan_workbook(tmp_path / "small.xlsx", clean_plan())


def _steps_by_member(plan) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for step in plan.rows("steps"):
        out.setdefault(member_key(step.get("responsible")), set()).add(step.id)
    return out


def test_every_member_gets_exactly_their_steps(example: Path, tmp_path: Path) -> None:
    master = read_plan(example).plan
    paths = make_packets(example, tmp_path / "out")
    expected = _steps_by_member(master)
    assert len(paths) == len(expected)
    seen: set[str] = set()
    for path in paths:
        identity = read_packet_identity(path)
        assert identity is not None
        steps = {r.id for r in read_plan(path).plan.rows("steps")}
        assert steps == expected[identity.key]
        seen |= steps
    assert seen == {r.id for r in master.rows("steps")}  # no step left out, none sent twice


def test_context_rows_are_what_the_steps_serve_and_are_greyed(example: Path, tmp_path: Path) -> None:
    master = read_plan(example).plan
    packet = next(p for p in build_packets(master) if len(p.rows.own["steps"]) > 1)
    path = make_packets(example, tmp_path / "out")[build_packets(master).index(packet)]
    plan = read_plan(path).plan
    steps = plan.rows("steps")
    improvements = {s.get("improvement") for s in steps}
    assert {r.id for r in plan.rows("improvements")} == improvements
    goals = {r.get("goal") for r in plan.rows("improvements")}
    assert {r.id for r in plan.rows("goals")} == goals
    assert {r.id for r in plan.rows("priorities")} == {r.get("priority") for r in plan.rows("goals")}
    assert {r.get("improvement") for r in plan.rows("measures")} <= improvements
    assert len(plan.rows("stakeholders")) == len(master.rows("stakeholders"))
    # Context rows are greyed and carry a note; the member's own steps are not.
    book = load(path)
    try:
        for key in ("priorities", "goals", "improvements", "measures"):
            ws = book[schema.sheet(key).name]
            for rec in plan.rows(key):
                first = ws.cell(row=rec.row, column=1)
                assert first.comment is not None, (key, rec.id)
                assert first.fill.fgColor.rgb.endswith(CONTEXT_FILL.lstrip("#")), (key, rec.id)
        ws = book[schema.sheet("steps").name]
        for rec in steps:
            assert ws.cell(row=rec.row, column=1).comment is None
    finally:
        book.close()


def test_steps_without_anyone_responsible_get_a_packet_of_their_own(tmp_path: Path) -> None:
    plan = clean_plan()
    add_step(plan, "A-6", "I-1", "Find a room for the classes", responsible=None)
    add_step(plan, "A-7", "I-2", "Book a trainer", responsible="   ")
    master = write_plan_workbook(tmp_path / "master.xlsx", plan)
    paths = make_packets(master, tmp_path / "out")
    assert paths[-1].name == f"{NO_ONE_FILE}.xlsx"
    assert {r.id for r in read_plan(paths[-1]).plan.rows("steps")} == {"A-6", "A-7"}
    identity = read_packet_identity(paths[-1])
    assert identity is not None and identity.member == NO_ONE


def test_members_are_grouped_ignoring_case_and_spacing(tmp_path: Path) -> None:
    plan = clean_plan()  # A-1 "Maria Lopez" and A-2 "maria  LOPEZ" are one member
    paths = make_packets(write_plan_workbook(tmp_path / "m.xlsx", plan), tmp_path / "out")
    assert [p.name for p in paths] == ["Maria Lopez.xlsx", "Sam Okafor.xlsx"]
    assert {r.id for r in read_plan(paths[0]).plan.rows("steps")} == {"A-1", "A-2", "A-4"}


@pytest.mark.parametrize(
    "names",
    [
        ["Maria/Lopez", "Maria:Lopez", "maria\\lopez"],
        ["CON", "nul", "Lpt1.backup"],
        ['a<b>c"d|e?f*g', "  trailing dots...  ", "\x07bell"],
        ["É" * 300, "é" * 300],
        ["Housing Authority", "HOUSING AUTHORITY (2)", "housing authority"],
    ],
)
def test_file_names_are_safe_on_every_os_and_unique(names: list[str]) -> None:
    taken: set[str] = set()
    files = [packet_file_name(n, taken) for n in names]
    assert len({f.casefold() for f in files}) == len(files)
    for name in files:
        stem = name.removesuffix(".xlsx")
        assert name.endswith(".xlsx") and stem
        assert not re.search(r'[<>:"/\\|?*\x00-\x1f]', name)
        assert stem == stem.strip(" .")
        assert stem.split(".")[0].upper() not in {"CON", "NUL", "PRN", "AUX", "LPT1", "COM1"}
        assert len(name.encode("utf-8")) < 255


def test_packets_keep_the_template_identity_and_say_whose_they_are(small: Path, tmp_path: Path) -> None:
    path = make_packets(small, tmp_path / "out")[0]
    props = custom_properties(path)
    assert props[schema.PROP_TEMPLATE] == schema.TEMPLATE_NAME
    assert props[schema.PROP_VERSION] == schema.TEMPLATE_VERSION
    assert props[schema.PROP_FINGERPRINT] == schema.fingerprint()
    master = read_plan(small).plan
    assert props[schema.PROP_PACKET_MASTER] == plan_fingerprint(master)
    assert props[schema.PROP_PACKET_MASTER_FILE] == small.name
    assert props[schema.PROP_PACKET_MEMBER] == build_packets(master)[0].member
    report = audit_plan(path, as_of=AS_OF)  # audits like any copy
    assert report.summary.steps == len(build_packets(master)[0].rows.own["steps"])


def test_a_packet_is_still_known_when_an_app_drops_the_properties(small: Path, tmp_path: Path) -> None:
    path = make_packets(small, tmp_path / "out")[0]
    stripped = tmp_path / "from-google.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/custom.xml":
                continue
            if info.filename in ("[Content_Types].xml", "_rels/.rels"):
                data = re.sub(rb"<[^<>]*custom[.]xml[^<>]*/>", b"", data)
            dst.writestr(info, data)
    assert schema.PROP_PACKET_MEMBER not in custom_properties(stripped)
    identity = read_packet_identity(stripped)
    assert identity is not None
    assert identity == read_packet_identity(path)


def test_a_packet_keeps_a_fingerprint_of_each_cell_its_member_answers_for_in_a_very_hidden_sheet(
    small: Path, tmp_path: Path
) -> None:
    """For each of the member's steps and each stakeholder, a fingerprint of every column a member fills in, as the
    packet was cut: what the merge compares a returned cell with, to tell the member's edit from the coordinator's
    since."""
    from reentry_workbook.cycle.roundtrip import cell_fingerprint, compared_columns, row_key

    path = make_packets(small, tmp_path / "out")[0]
    book = load(path)
    ws = book[schema.PACKET_BASE_SHEET]
    assert ws.sheet_state == "veryHidden" and book.sheetnames[-2:] == [schema.PACKET_BASE_SHEET, "Lists"]
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == schema.PACKET_BASE_HEADERS
    master = read_plan(small).plan
    packet = build_packets(master)[0]
    expected = [
        (key, row_key(schema.sheet(key), rec), c.key, cell_fingerprint(rec.get(c.key)))
        for key in ("steps", "stakeholders")
        for rec in master.rows(key)
        if row_key(schema.sheet(key), rec) in packet.rows.own[key]
        for c in compared_columns(schema.sheet(key))
    ]
    wanted: dict[tuple[str, str], dict[str, str]] = {}
    for key, row, column, digest in expected:
        wanted.setdefault((key, row), {})[column] = digest
    assert [(key, row) for key, row, _cut in rows[1:]] == list(wanted)
    assert len([key for key, _row in wanted if key == "steps"]) == len(packet.rows.own["steps"])
    cells = read_plan(path, extra=(schema.PACKET_BASE_SHEET,)).extra[schema.PACKET_BASE_SHEET]
    assert packet_base(cells) == wanted
    assert packet_base(None) == {}


def test_a_full_copy_is_not_a_packet(small: Path) -> None:
    assert read_packet_identity(small) is None


def test_existing_packets_are_not_overwritten_without_force(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = make_packets(small, out)
    before = first[0].read_bytes()
    first[-1].unlink()
    with pytest.raises(OutputError, match="--force"):
        make_packets(small, out)
    assert not first[-1].exists()  # nothing written when any packet is in the way
    assert first[0].read_bytes() == before
    again = make_packets(small, out, force=True)
    assert [p.name for p in again] == [p.name for p in first]


def test_only_responsible_is_a_way_to_split(small: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="responsible"):
        make_packets(small, tmp_path / "out", by="goal")


def test_the_master_is_only_read(small: Path, tmp_path: Path) -> None:
    before = small.read_bytes()
    make_packets(small, tmp_path / "out")
    assert small.read_bytes() == before


def test_cli_lists_the_packets_written(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "packets"
    result = CliRunner().invoke(cli, ["packets", str(example), "--by", "responsible", "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == len(build_packets(example_plan()))
    for name in written:
        assert name in result.output
    again = CliRunner().invoke(cli, ["packets", str(example), "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.output


class _CountedRows(list):  # type: ignore[type-arg]
    """A sheet's rows that count each time a row is looked at."""

    visited = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for row in super().__iter__():
            _CountedRows.visited += 1
            yield row

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        _CountedRows.visited += 1
        return super().__getitem__(index)


def _split_plan(members: int) -> Plan:
    """A 600-step plan split among ``members`` members."""
    plan = clean_plan()
    plan.records["steps"] = []
    for n in range(1, 601):
        add_step(plan, f"A-{n}", f"I-{n % 3 + 1}", f"Step {n}", responsible=f"Member {n % members}")
    return plan


def _rows_visited_building(members: int) -> int:
    """Rows looked at while building the packets of a 600-step plan split among ``members`` members."""
    plan = _split_plan(members)
    for key, rows in plan.records.items():
        plan.records[key] = _CountedRows(rows)
    _CountedRows.visited = 0
    packets = build_packets(plan)
    assert len(packets) == members and sum(len(p.plan.rows("steps")) for p in packets) == 600
    return _CountedRows.visited


def test_building_the_packets_is_one_pass_whatever_the_number_of_members() -> None:
    few, many = _rows_visited_building(2), _rows_visited_building(300)
    rows = 600 + sum(len(rows) for key, rows in clean_plan().records.items() if key != "steps")
    assert few < 8 * rows  # a few looks at each row, once each for the index and for the packets
    assert many < few + 2 * 300 * (rows - 600)  # each packet adds only the context it shows


def test_each_rows_key_and_parent_are_worked_out_once_whatever_the_number_of_members(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: Counter[str] = Counter()

    def counted(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def count(*args: Any) -> Any:
            calls[name] += 1
            return real(*args)

        return count

    monkeypatch.setattr(packets_module, "row_key", counted("row", packets_module.row_key))
    monkeypatch.setattr(packets_module, "ref_key", counted("reference", packets_module.ref_key))
    seen = {}
    for members in (2, 300):
        calls.clear()
        assert len(build_packets(_split_plan(members))) == members
        seen[members] = dict(calls)
    plan = _split_plan(2)
    rows = sum(len(rows) for rows in plan.records.values())
    naming_a_parent = sum(len(plan.rows(child)) for child, _column in schema.CHAIN) + len(plan.rows("measures"))
    # Per row, not per member: 300 packets cost no more key or reference parsing than 2.
    assert seen[2] == seen[300] == {"row": rows, "reference": naming_a_parent}


def test_the_cycle_collector_rests_while_the_packets_are_built_and_is_given_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collector_on: list[bool] = []
    cut = PacketIndex.packet_plan

    def watched(self: PacketIndex, member: str, rows: PacketRows) -> Plan:
        collector_on.append(gc.isenabled())
        return cut(self, member, rows)

    monkeypatch.setattr(PacketIndex, "packet_plan", watched)
    plan = _split_plan(300)
    assert gc.isenabled()
    packets_built = build_packets(plan)
    assert len(collector_on) == len(packets_built) == 300 and not any(collector_on)
    assert gc.isenabled()  # on again afterwards, as it was
    gc.disable()
    try:
        build_packets(plan)
        assert not gc.isenabled()  # a caller that had turned it off keeps it off
    finally:
        gc.enable()

    def failing(self: PacketIndex, member: str, rows: PacketRows) -> Plan:
        raise MemoryError

    monkeypatch.setattr(PacketIndex, "packet_plan", failing)
    with pytest.raises(MemoryError):
        build_packets(plan)
    assert gc.isenabled()  # given back even when the build fails


def test_the_packets_built_go_to_the_oldest_generation_without_a_collection_walking_them() -> None:
    plan = _split_plan(300)
    started: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.callbacks.append(note)
    try:
        built = build_packets(plan)
        young = gc.get_count()[0]
    finally:
        gc.callbacks.remove(note)
    assert started == []  # thousands of containers made, and not one collection, during the build or after it
    assert young < 100  # nor one due: the packets were not left young for the next collection to walk
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(p.plan) in oldest and id(p.rows) in oldest for p in built)
    assert gc.get_freeze_count() == 0  # and nothing stays frozen

    gc.freeze()  # a program that keeps objects frozen of its own keeps them frozen
    try:
        frozen = gc.get_freeze_count()
        build_packets(plan)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_packets_written_on_several_cores_are_those_written_on_one(example: Path, tmp_path: Path) -> None:
    one = make_packets(example, tmp_path / "one", jobs=1)
    several = make_packets(example, tmp_path / "several", jobs=2)
    assert [p.name for p in one] == [p.name for p in several]
    for a, b in zip(one, several, strict=True):
        assert read_plan(a).plan.records == read_plan(b).plan.records
        assert read_packet_identity(a).member == read_packet_identity(b).member  # type: ignore[union-attr]


def test_a_packet_that_cannot_be_written_on_another_core_stops_the_command(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    out = tmp_path / "out"

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)  # the pool's processes start from this one, patch included
    with pytest.raises(OutputError, match="could not"):
        make_packets(example, out, jobs=2)
    assert list(out.iterdir()) == []


def test_a_member_with_thousands_of_steps_gets_a_packet_listing_what_fits(tmp_path: Path) -> None:
    """Excel holds 32,767 characters in a cell: the packet sheet lists the member's steps up to that, then says how
    many more there are (a member responsible for 5,000 steps once made `packets` stop)."""
    plan = clean_plan()
    for i in range(6, 4006):
        add_step(plan, f"A-{100_000 + i}", "I-1", f"Step {i}", responsible="Maria Lopez")
    master = write_plan_workbook(tmp_path / "big.xlsx", plan)
    written = {read_packet_identity(p).member: p for p in make_packets(master, tmp_path / "out")}  # type: ignore[union-attr]
    book = load(written["Maria Lopez"])
    try:
        sheet = book[schema.PACKET_SHEET]
        listed = next(row[1].value for row in sheet.iter_rows() if row[0].value == packets_module.LABEL_STEPS)
    finally:
        book.close()
    assert 32_000 < len(listed) <= 32_767
    shown = listed.split(" and ")[0].split(", ")
    assert shown[:4] == ["A-1", "A-2", "A-4", "A-100006"]  # (three of the plan's first steps are hers too)
    assert shown[-1] == f"A-{100_006 + len(shown) - 4}"
    rest = int(listed.split(" and ")[1].split(" more")[0].replace(",", ""))
    assert len(shown) + rest == 4003 and schema.sheet("steps").name in listed
    assert packets_module.steps_listed(["A-1", "A-2"], "Steps") == "A-1, A-2"
    assert packets_module.steps_listed([], "Steps") == "none yet"
