"""What a merge produces: where each value came from, what was done with it, and what is left to decide.

Plain data, rendered by :mod:`merge_sheets` (the Merge Conflicts and Merge Log sheets, the terminal) and as
JSON by ``MergeResult.to_dict``. The merge itself is in :mod:`merge` (its decisions in :mod:`merge_decisions`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..plan import schema
from ..plan.model import Plan
from .roundtrip import display

COALITION = "coalition"  # sheet key used for Coalition fields in the log and the conflicts

# Kinds of the lines of the Merge Conflicts sheet: what the coordinator has to decide.
CONFLICT = "Conflict"
DELETED = "Deleted in a return"
CONTEXT_EDIT = "Context row changed"
UNREADABLE = "Not readable"
ISSUE_KINDS: tuple[str, ...] = (CONFLICT, DELETED, CONTEXT_EDIT, UNREADABLE)

# Actions of the Merge Log.
READ = "Read"
EDITED = "Edited"
ADDED = "Added"
NOTE = "Note"
NOT_MERGED = "Not merged"  # came back but not merged: superseded, no workbook attached, refused by the guard
LOG_ACTIONS: tuple[str, ...] = (READ, EDITED, ADDED, CONFLICT, DELETED, CONTEXT_EDIT, UNREADABLE, NOTE, NOT_MERGED)


@dataclass(frozen=True)
class ReturnedCopy:
    """A returned copy to merge: its file, and what is known of how it came back.

    ``label`` names it in the Merge Log and Merge Conflicts sheets (default: the file's name); ``sender``
    ("Name <address>") and ``date`` are those of the message it came attached to, when it came by email.
    """

    path: Path
    label: str | None = None
    sender: str | None = None
    date: dt.datetime | None = None
    # Named by itself: a return the merge cannot read stops it. False for one found in a folder or in mail: it is
    # listed as not merged, with why, and the others are merged.
    named: bool = True


@dataclass(frozen=True)
class Origin:
    """Who sent a value: the return's label (its file name), for a packet its member, and its sender."""

    file: str
    member: str | None = None
    sender: str | None = None
    date: dt.datetime | None = None

    @property
    def who(self) -> str:
        shown = f"{self.file} ({self.member})" if self.member else self.file
        return f"{shown} from {self.sender}" if self.sender else shown

    @property
    def received(self) -> str:
        """The message date as shown in the sheets ("" when the return did not come by email)."""
        return self.date.strftime("%Y-%m-%d %H:%M") if self.date else ""


@dataclass
class Issue:
    """Something the coordinator has to decide; one or more lines of the Merge Conflicts sheet."""

    kind: str
    sheet: str  # sheet key, or COALITION
    id: str  # row ID (or stakeholder name) in the master; "" for Coalition fields
    field: str  # column or Coalition field key; "" when the whole row is meant
    master: Any  # the value kept
    sent: list[tuple[Origin, Any]]
    note: str = ""


@dataclass(slots=True)  # a merge of many large returns logs tens of thousands of lines
class LogEntry:
    origin: Origin
    action: str
    sheet: str = ""  # sheet key, or COALITION
    id: str = ""  # as in the return
    merged_id: str = ""  # as in the merged plan
    field: str = ""
    old: Any = None  # master value
    new: Any = None  # value sent
    note: str = ""


@dataclass
class MergeResult:
    output: Path
    plan: Plan
    returns: list[Origin]
    log: list[LogEntry]
    issues: list[Issue]
    backup: Path | None = None  # the master as it was, kept beside it by an in-place merge
    # returns read as a member's packet although they do not say they are one (PacketIndex.member_holding)
    read_as_packets: list[Origin] = field(default_factory=list)
    # returns found in a folder or in mail that could not be read as a plan, and why (also in the log, not merged)
    not_read: list[tuple[Origin, str]] = field(default_factory=list)

    @property
    def edits(self) -> int:
        """Cells changed in the merged plan."""
        return len({(e.sheet, e.merged_id, e.field) for e in self.log if e.action == EDITED})

    @property
    def added(self) -> int:
        """Rows added to the merged plan (a row several returns sent is added once)."""
        return len({(e.sheet, e.merged_id) for e in self.log if e.action == ADDED})

    def issues_of(self, kind: str) -> list[Issue]:
        return [i for i in self.issues if i.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "backup": str(self.backup) if self.backup else None,
            "returns": [_origin(o) for o in self.returns],
            "read_as_packets": [_origin(o) for o in self.read_as_packets],
            "edits": self.edits,
            "added": self.added,
            "issues": [
                {
                    "kind": i.kind,
                    "sheet": label_of_sheet(i.sheet),
                    "id": i.id,
                    "field": label_of_field(i.sheet, i.field),
                    "master": display(i.master),
                    "sent": [{**_origin(o), "value": display(v)} for o, v in i.sent],
                    "note": i.note,
                }
                for i in self.issues
            ],
            "log": [
                {
                    **_origin(e.origin),
                    "action": e.action,
                    "sheet": label_of_sheet(e.sheet),
                    "id": e.id,
                    "merged_id": e.merged_id,
                    "field": label_of_field(e.sheet, e.field),
                    "old": display(e.old),
                    "new": display(e.new),
                    "note": e.note,
                }
                for e in self.log
            ],
        }


def _origin(o: Origin) -> dict[str, Any]:
    return {"file": o.file, "member": o.member, "sender": o.sender, "date": o.date.isoformat() if o.date else None}


def label_of_sheet(key: str) -> str:
    """The sheet's name as shown in Excel, for a sheet key or COALITION."""
    if key == COALITION:
        return schema.COALITION_SHEET
    return schema.sheet(key).name if key in schema.SHEETS_BY_KEY else key


def label_of_field(sheet_key: str, key: str) -> str:
    """A column's header (or a Coalition field's label) for its key."""
    if not key:
        return ""
    if sheet_key == COALITION:
        return schema.coalition_field(key).label
    return schema.sheet(sheet_key).column(key).header
