"""One whole email round trip, through the command line:

``new --example`` -> ``packets`` -> three members edit their packets (one of them in LibreOffice Calc, typing
like a person; the others with openpyxl) -> ``merge`` -> ``audit`` -> ``diff`` against the original.

The members make one conflicting edit (two of them change the same stakeholder's email differently), add
one row, delete one row, change a context row, and make ordinary edits. The test then says, for every edit,
where it is accounted for: applied in the merged plan, listed on the Merge Conflicts sheet, or both listed
there and logged on the Merge Log sheet.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import libreoffice
import pytest
from click.testing import CliRunner
from member_edits import Add, Delete, Set, cell, edit_with_openpyxl, table

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.cycle.diff import ADDED, CHANGED
from reentry_workbook.cycle.merge_model import ADDED as LOG_ADDED
from reentry_workbook.cycle.merge_model import CONFLICT, CONTEXT_EDIT, DELETED, EDITED
from reentry_workbook.cycle.merge_sheets import CONFLICT_HEADERS, LOG_HEADERS
from reentry_workbook.cycle.packets import build_packets, read_packet_identity
from reentry_workbook.cycle.roundtrip import id_number
from reentry_workbook.plan import schema
from reentry_workbook.workbook.example import EXAMPLE_AS_OF, example_plan

KIND, SHEET, ID, FIELD, MASTER, SENT, FILE, MEMBER, *_ = (h for h, _w in CONFLICT_HEADERS)
L_FILE, L_MEMBER, _L_SENDER, _L_RECEIVED, L_ACTION, L_SHEET, L_ID, L_MERGED_ID, L_FIELD, L_OLD, L_NEW, L_NOTE = (
    h for h, _w in LOG_HEADERS
)
NEW_STEP = "Brief the night shift on the housing screen"
NOTES = "Landlord list shared with the jail on 2 March"
CONTEXT_TEXT = "A sentence the member rewrote in a grey row"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _header(sheet_key: str, column: str) -> str:
    return schema.sheet(sheet_key).column(column).header


def _logged(log: list[dict], file: Path, action: str, row_id: str, header: str = "") -> bool:
    """True when the Merge Log has a line from ``file`` with that action, row ID and field header."""
    return any(
        e[L_FILE] == file.name and e[L_ACTION] == action and e.get(L_ID) == row_id and (e.get(L_FIELD) or "") == header
        for e in log
    )


@pytest.mark.parametrize(
    "second_editor", ["openpyxl", pytest.param("libreoffice", marks=pytest.mark.libreoffice)]
)
def test_one_whole_round_trip(tmp_path: Path, second_editor: str) -> None:
    master = tmp_path / "Alder plan.xlsx"
    run("new", master, "--example")
    out = tmp_path / "packets"
    run("packets", master, "--by", "responsible", "-o", out)
    base = read_plan(master).plan
    packets = {read_packet_identity(p).member: p for p in out.iterdir()}  # type: ignore[union-attr]
    assert len(packets) == len(build_packets(example_plan()))

    # Three members with at least two open steps each; the first stakeholder is everyone's contact.
    open_steps: dict[str, list] = {}
    for step in base.rows("steps"):
        if step.get("status") not in schema.CLOSED_STATUSES and step.get("responsible"):
            open_steps.setdefault(step.get("responsible"), []).append(step)
    first, second, third = [m for m, steps in open_steps.items() if len(steps) >= 2][:3]
    contact = base.rows("stakeholders")[0]
    a1, a2 = open_steps[first][:2]
    b1 = open_steps[second][0]
    c1, c2 = open_steps[third][:2]
    improvement = next(r for r in base.rows("improvements") if r.id == c1.get("improvement"))

    # Member 1 (openpyxl): finishes a step, adds a new one, changes the contact's email.
    returns = tmp_path / "returns"
    returns.mkdir()
    r1 = edit_with_openpyxl(
        packets[first],
        returns / f"{first} - done.xlsx",
        [
            Set("steps", a1.id, "status", schema.COMPLETE_STATUS),
            Set("steps", a1.id, "last_updated", EXAMPLE_AS_OF),
            Add(
                "steps",
                {
                    "improvement": a2.get("improvement"),
                    "step": NEW_STEP,
                    "serves_goal": schema.SERVES_GOAL_YES,
                    "responsible": first,
                    "due_date": dt.date(2027, 5, 31),
                    "status": schema.CHOICES["status"][0],
                },
            ),
            Set("stakeholders", contact.get("name"), "email", "desk@example.org"),
        ],
    )

    # Member 2 (LibreOffice, typing like a person; or openpyxl): a note, a new due date, and the same
    # contact's email, differently: the conflict.
    new_due = b1.get("due_date") + dt.timedelta(days=14)
    r2 = returns / f"Plan v3 FINAL ({second}).xlsx"
    if second_editor == "libreoffice":
        packet = packets[second]
        steps_name = schema.sheet("steps").name
        libreoffice.edit(
            packet,
            r2,
            [
                {"op": "type", "sheet": steps_name, "cell": cell(packet, "steps", b1.id, "notes"), "text": NOTES},
                {
                    "op": "type",
                    "sheet": steps_name,
                    "cell": cell(packet, "steps", b1.id, "due_date"),
                    "text": f"{new_due.month}/{new_due.day}/{new_due.year}",
                },
                {
                    "op": "type",
                    "sheet": schema.sheet("stakeholders").name,
                    "cell": cell(packet, "stakeholders", contact.get("name"), "email"),
                    "text": "front@example.org",
                },
            ],
        )
    else:
        edit_with_openpyxl(
            packets[second],
            r2,
            [
                Set("steps", b1.id, "notes", NOTES),
                Set("steps", b1.id, "due_date", new_due),
                Set("stakeholders", contact.get("name"), "email", "front@example.org"),
            ],
        )

    # Member 3 (openpyxl): deletes a step of theirs and rewrites a grey context row.
    r3 = edit_with_openpyxl(
        packets[third],
        returns / f"{third}.xlsx",
        [Delete("steps", c2.id), Set("improvements", improvement.id, "improvement", CONTEXT_TEXT)],
    )

    # Meanwhile the coordinator wrote in member 2's step in the master: the packet, saved in LibreOffice by then,
    # still holds that cell as it was cut, which is no edit of the member's.
    resources = "Coordinator: the county covers the printing"
    master = edit_with_openpyxl(
        master, tmp_path / "Alder plan (now).xlsx", [Set("steps", b1.id, "resources_needed", resources)]
    )
    merged = tmp_path / "merged.xlsx"
    said = run("merge", master, r1, r2, r3, "-o", merged)
    assert "1 conflict" in said and contact.get("name") in said
    assert "desk@example.org" in said and "front@example.org" in said

    plan = read_plan(merged).plan
    steps = {r.id: r for r in plan.rows("steps")}
    conflicts = table(merged, schema.MERGE_CONFLICTS_SHEET, KIND)
    log = table(merged, schema.MERGE_LOG_SHEET, L_FILE)

    # 1. Member 1's finished step: applied in the merged plan, and logged.
    assert steps[a1.id].get("status") == schema.COMPLETE_STATUS
    assert steps[a1.id].get("last_updated") == EXAMPLE_AS_OF
    assert _logged(log, r1, EDITED, a1.id, _header("steps", "status"))
    assert _logged(log, r1, EDITED, a1.id, _header("steps", "last_updated"))

    # 2. Member 1's new step: applied with a fresh ID that collides with nothing, and logged.
    [new] = [r for r in plan.rows("steps") if r.get("step") == NEW_STEP]
    highest = max(id_number(schema.sheet("steps"), r.id) or 0 for r in base.rows("steps"))
    assert (id_number(schema.sheet("steps"), new.id) or 0) > highest
    assert new.get("improvement") == a2.get("improvement") and new.get("responsible") == first
    assert any(e[L_ACTION] == LOG_ADDED and e[L_FILE] == r1.name and e[L_MERGED_ID] == new.id for e in log)

    # 3. Member 2's note and due date: applied, and logged; the coordinator's later words in that row kept.
    assert steps[b1.id].get("resources_needed") == resources
    assert not _logged(log, r2, EDITED, b1.id, _header("steps", "resources_needed"))
    assert steps[b1.id].get("notes") == NOTES
    assert steps[b1.id].get("due_date") == new_due
    assert _logged(log, r2, EDITED, b1.id, _header("steps", "notes"))
    assert _logged(log, r2, EDITED, b1.id, _header("steps", "due_date"))

    # 4. The conflicting email: master value kept; both values on the Merge Conflicts sheet with who sent them.
    kept = next(r for r in plan.rows("stakeholders") if r.get("name") == contact.get("name"))
    assert kept.get("email") == contact.get("email")
    email = _header("stakeholders", "email")
    lines = {(x[SENT], x[FILE], x[MEMBER]) for x in conflicts if x[KIND] == CONFLICT}
    assert lines == {("desk@example.org", r1.name, first), ("front@example.org", r2.name, second)}
    assert all(x[FIELD] == email and x[ID] == contact.get("name") for x in conflicts if x[KIND] == CONFLICT)

    # 5. Member 3's deleted step: kept in the merged plan, flagged on the Merge Conflicts sheet, and logged.
    assert steps[c2.id].get("step") == c2.get("step")
    assert any(x[KIND] == DELETED and x[ID] == c2.id and x[FILE] == r3.name for x in conflicts)
    assert _logged(log, r3, DELETED, c2.id)

    # 6. Member 3's change to a grey context row: not applied (as the packet says), listed and logged.
    merged_improvement = next(r for r in plan.rows("improvements") if r.id == improvement.id)
    assert merged_improvement.get("improvement") == improvement.get("improvement")
    assert any(x[KIND] == CONTEXT_EDIT and x[ID] == improvement.id and x[SENT] == CONTEXT_TEXT for x in conflicts)
    assert _logged(log, r3, CONTEXT_EDIT, improvement.id, _header("improvements", "improvement"))
    # ... and the conflict is logged against both senders.
    assert _logged(log, r1, CONFLICT, contact.get("name"), email)
    assert _logged(log, r2, CONFLICT, contact.get("name"), email)

    # Nothing else happened: every line on the Merge Conflicts sheet is one of the above.
    assert len(conflicts) == 4

    # audit: the merged plan audits like any copy, one step more than the master.
    audit = json.loads(
        run("audit", merged, "--as-of", EXAMPLE_AS_OF.isoformat(), "--json", "--fail-on", "never", "--no-copy")
    )
    original = json.loads(
        run("audit", master, "--as-of", EXAMPLE_AS_OF.isoformat(), "--json", "--fail-on", "never", "--no-copy")
    )
    assert audit["summary"]["steps"] == original["summary"]["steps"] + 1

    # diff against the original: exactly the applied edits, by ID.
    diff_book = tmp_path / "diff.xlsx"
    diff = json.loads(run("diff", master, merged, "--json", "-o", diff_book, "--as-of", EXAMPLE_AS_OF.isoformat()))
    changes = {(c["change"], c["id"]): {f["field"] for f in c["fields"]} for c in diff["changes"]}
    assert changes[(CHANGED, a1.id)] == {_header("steps", "status"), _header("steps", "last_updated")}
    assert changes[(CHANGED, b1.id)] == {_header("steps", "notes"), _header("steps", "due_date")}
    assert (ADDED, new.id) in changes
    assert len(changes) == 3 and diff["counts"]["removed"] == 0
    assert diff["before"]["alignment"] == original["summary"]["alignment"]
    assert diff["after"]["alignment"] == audit["summary"]["alignment"]
    assert diff_book.exists()

