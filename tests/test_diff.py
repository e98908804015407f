"""Plan diffs: rows added, removed and changed field by field, matched by ID, with the figures before/after."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from member_edits import table
from opened import count_opens
from plans import AS_OF, add_step, clean_plan, get

from reentry_workbook.cli import cli
from reentry_workbook.cycle.diff import ADDED, CHANGED, COALITION, REMOVED, compare, diff_plans
from reentry_workbook.cycle.diff_sheets import CHANGE_HEADERS, render_diff, write_diff_workbook
from reentry_workbook.errors import OutputError
from reentry_workbook.plan import schema
from reentry_workbook.workbook.generate import write_plan_workbook

STATUS = schema.CHOICES["status"]


def test_an_unchanged_plan_has_no_differences() -> None:
    assert compare(clean_plan(), clean_plan()) == []


def test_a_changed_cell_is_listed_with_before_and_after() -> None:
    old, new = clean_plan(), clean_plan()
    get(new, "steps", "A-1").values["status"] = schema.COMPLETE_STATUS
    get(new, "steps", "A-1").values["due_date"] = dt.date(2027, 7, 31)
    [change] = compare(old, new)
    assert (change.kind, change.sheet, change.id) == (CHANGED, "steps", "A-1")
    assert {(f.field, f.old, f.new) for f in change.fields} == {
        ("status", get(old, "steps", "A-1").get("status"), schema.COMPLETE_STATUS),
        ("due_date", get(old, "steps", "A-1").get("due_date"), dt.date(2027, 7, 31)),
    }


def test_rows_are_matched_by_id_not_position() -> None:
    old, new = clean_plan(), clean_plan()
    new.records["steps"].reverse()
    new.records["stakeholders"].reverse()
    assert compare(old, new) == []


def test_added_and_removed_rows() -> None:
    old, new = clean_plan(), clean_plan()
    add_step(new, "A-6", "I-2", "Invite employers to a jobs fair")
    new.records["measures"] = [r for r in new.rows("measures") if r.id != "M-5"]
    changes = compare(old, new)
    assert [(c.kind, c.sheet, c.id) for c in changes] == [(REMOVED, "measures", "M-5"), (ADDED, "steps", "A-6")]
    added = changes[1]
    assert added.text == "Invite employers to a jobs fair"
    assert ("step", None, "Invite employers to a jobs fair") in {(f.field, f.old, f.new) for f in added.fields}


def test_stakeholders_are_matched_by_name_and_coalition_fields_compared() -> None:
    old, new = clean_plan(), clean_plan()
    new.rows("stakeholders")[0].values["email"] = "housing@example.org"
    new.coalition["last_reviewed"] = AS_OF
    changes = compare(old, new)
    assert [(c.kind, c.sheet) for c in changes] == [(CHANGED, COALITION), (CHANGED, "stakeholders")]
    assert changes[1].id == new.rows("stakeholders")[0].get("name")
    assert [f.field for f in changes[0].fields] == ["last_reviewed"]


def test_cosmetic_differences_are_no_change() -> None:
    old, new = clean_plan(), clean_plan()
    step = get(new, "steps", "A-1")
    step.values["step"] = "  " + step.get("step") + "\r\n"
    step.values["start_date"] = dt.datetime.combine(step.get("start_date"), dt.time())
    cost = get(old, "improvements", "I-1").get("estimated_cost")
    get(new, "improvements", "I-1").values["estimated_cost"] = float(cost)
    get(new, "measures", "M-1").values["baseline"] = 12  # typed as a number where "12" was text
    assert compare(old, new) == []


def test_rows_without_an_id_are_matched_by_content() -> None:
    old = clean_plan()
    add_step(old, None, "I-1", "A step nobody numbered")
    new = copy.deepcopy(old)
    assert compare(old, new) == []
    get(new, "steps", "A-1")  # unchanged rows with IDs stay matched
    new.rows("steps")[-1].values["status"] = STATUS[1]
    kinds = sorted(c.kind for c in compare(old, new))
    assert kinds == [ADDED, REMOVED]


@pytest.fixture()
def two_versions(tmp_path: Path) -> tuple[Path, Path]:
    old_plan, new_plan = clean_plan(), clean_plan()
    get(new_plan, "steps", "A-1").values["serves_goal"] = schema.SERVES_GOAL_NO  # alignment drops
    get(new_plan, "goals", "G-1").values["target"] = None  # completeness drops
    add_step(new_plan, "A-6", "I-2", "Invite employers to a jobs fair")
    old = write_plan_workbook(tmp_path / "old.xlsx", old_plan)
    new = write_plan_workbook(tmp_path / "new.xlsx", new_plan)
    return old, new


def test_diff_of_two_files_gives_the_figures_before_and_after(two_versions: tuple[Path, Path]) -> None:
    old, new = two_versions
    diff = diff_plans(old, new, as_of=AS_OF)
    assert {(c.kind, c.id) for c in diff.changes} == {(CHANGED, "A-1"), (CHANGED, "G-1"), (ADDED, "A-6")}
    assert diff.before.alignment == 1.0
    assert diff.after.alignment is not None and diff.after.alignment < 1.0
    assert diff.after.completeness is not None and diff.before.completeness is not None
    assert diff.after.completeness < diff.before.completeness
    assert diff.before.steps == 5 and diff.after.steps == 6
    text = render_diff(diff)
    assert "100%" in text and "A-6" in text and schema.sheet("goals").column("target").header in text


def test_cli_json_and_review_workbook(two_versions: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = two_versions
    out = tmp_path / "diff.xlsx"
    runner = CliRunner()
    result = runner.invoke(cli, ["diff", str(old), str(new), "--json", "-o", str(out), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"] == {"added": 1, "removed": 0, "changed": 2}
    assert data["before"]["alignment"] == 1.0
    rows = table(out, schema.DIFF_CHANGES_SHEET, CHANGE_HEADERS[0][0])
    change, sheet, id_, _row, field, before, after = (h for h, _w in CHANGE_HEADERS)
    target = next(r for r in rows if r[id_] == "G-1")
    assert (target[change], target[sheet], target[field]) == (
        CHANGED,
        schema.sheet("goals").name,
        schema.sheet("goals").column("target").header,
    )
    assert target.get(after) is None and target[before]
    assert sum(r[id_] == "A-6" for r in rows) >= 3  # an added row lists each filled field
    again = runner.invoke(cli, ["diff", str(old), str(new), "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(cli, ["diff", str(old), str(new), "-o", str(out), "--force"])
    assert forced.exit_code == 0 and f"Wrote {out}" in forced.output


def test_the_review_workbook_never_overwrites_an_input(two_versions: tuple[Path, Path]) -> None:
    old, new = two_versions
    diff = diff_plans(old, new, as_of=AS_OF)
    with pytest.raises(OutputError):
        write_diff_workbook(diff, new, force=True, inputs=(old, new))


def test_member_text_in_the_review_workbook_is_text(tmp_path: Path) -> None:
    old_plan, new_plan = clean_plan(), clean_plan()
    get(new_plan, "steps", "A-1").values["notes"] = "=HYPERLINK(\"http://example.org\")"
    old = write_plan_workbook(tmp_path / "old.xlsx", old_plan)
    new = write_plan_workbook(tmp_path / "new.xlsx", new_plan)
    out = write_diff_workbook(diff_plans(old, new, as_of=AS_OF), tmp_path / "d.xlsx")
    from member_edits import load

    book = load(out)
    try:
        cells = [c for row in book[schema.DIFF_CHANGES_SHEET].iter_rows() for c in row if c.value]
        notes = [c for c in cells if str(c.value).startswith("=")]
        assert notes and all(c.data_type == "s" for c in notes)
    finally:
        book.close()


def test_each_version_is_opened_once(two_versions: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = two_versions
    opened = count_opens(monkeypatch)
    diff = diff_plans(old, new, as_of=AS_OF)
    assert diff.after.steps == 6  # the figures come from the same read as the changes
    assert opened == {old.name: 1, new.name: 1}


def test_a_packet_is_compared_with_the_plan_cut_to_that_packet_either_way_round(tmp_path: Path) -> None:
    """A coordinator who runs diff on the master and a member's returned packet sees what the member changed, not
    every row outside the packet as removed; the figures are the packet's on both sides."""
    from fill import Filler

    from reentry_workbook.cycle.packets import make_packets

    master = write_plan_workbook(tmp_path / "master.xlsx", clean_plan())
    [packet] = [p for p in make_packets(master, tmp_path / "packets") if p.stem == "Sam Okafor"]
    edited = Filler(packet)
    edited.set("steps", "A-5", "notes", "Board meets in May")
    edited.save(tmp_path / "sam.xlsx")
    forward = diff_plans(master, tmp_path / "sam.xlsx", as_of=AS_OF)
    assert forward.note == "sam.xlsx is the packet of Sam Okafor: master.xlsx is compared as cut to that packet"
    assert [(c.kind, c.sheet, c.id) for c in forward.changes] == [(CHANGED, "steps", "A-5")]
    sams = [s for s in clean_plan().rows("steps") if s.get("responsible") == "Sam Okafor"]
    assert forward.before.steps == forward.after.steps == len(sams)
    back = diff_plans(tmp_path / "sam.xlsx", master, as_of=AS_OF)
    assert back.note == "sam.xlsx is the packet of Sam Okafor: master.xlsx is compared as cut to that packet"
    assert [(c.kind, c.id) for c in back.changes] == [(CHANGED, "A-5")]
    shown = render_diff(forward).splitlines()
    assert shown[1] == f"  {forward.note}" and "Removed" not in "\n".join(shown)
    assert forward.to_dict()["note"] == forward.note  # (--json says it too)


def test_a_packet_that_no_longer_says_it_is_one_is_compared_as_the_packet_its_rows_are(tmp_path: Path) -> None:
    """Sam's packet pasted into a new workbook (no packet properties, no packet sheet): still his changes alone,
    as the merge reads it, and the note says why. Two versions of the whole plan are never cut."""
    from fill import Filler
    from openpyxl.packaging.custom import CustomPropertyList

    from reentry_workbook.cycle.packets import make_packets, read_packet_identity

    master = write_plan_workbook(tmp_path / "master.xlsx", clean_plan())
    [packet] = [p for p in make_packets(master, tmp_path / "packets") if p.stem == "Sam Okafor"]
    edited = Filler(packet)
    edited.set("steps", "A-5", "notes", "Board meets in May")
    del edited.book[schema.PACKET_SHEET]
    edited.book.custom_doc_props = CustomPropertyList()
    pasted = edited.save(tmp_path / "pasted.xlsx")
    assert read_packet_identity(pasted) is None
    says = "pasted.xlsx does not say it is a packet, but holds Sam Okafor's packet rows and no others: "
    for old, new in ((master, pasted), (pasted, master)):
        diff = diff_plans(old, new, as_of=AS_OF)
        assert diff.note == says + "master.xlsx is compared as cut to that packet"
        assert [(c.kind, c.sheet, c.id) for c in diff.changes] == [(CHANGED, "steps", "A-5")]
    later = Filler(master)
    later.set("steps", "A-5", "notes", "Board meets in May")
    whole = diff_plans(master, later.save(tmp_path / "later.xlsx"), as_of=AS_OF)
    assert whole.note == "" and [c.id for c in whole.changes] == ["A-5"]
