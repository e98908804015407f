"""What changed between two versions of a plan: rows added, removed and changed field by field.

Rows are matched by key (:func:`roundtrip.row_key`: the ID, or a stakeholder's name), never by position, so
sorting or moving rows is no change. Values are compared as a member sees them (:func:`roundtrip.same`).
Rows that cannot be matched by key (no ID, or an ID used twice) are matched by their whole content: an
identical row on both sides is no change, anything else is a row removed and a row added. The headline
figures of the audit (alignment, completeness, counts by severity) are given before and after.

A member's packet compared with the plan it was cut from (either way round) is compared with that plan cut to the
same member's packet, as :mod:`packets` cuts it: the rows outside the packet are neither removed nor counted in the
figures, and the difference says so (:attr:`PlanDiff.note`). A packet that no longer says it is one (pasted into
a new workbook) is known by its rows, as the merge knows it (:func:`packets.packet_held`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..audit.report import Report
from ..plan import schema
from ..plan.model import Plan, Record, written
from ..plan.schema import Sheet
from .roundtrip import comparable, compared_columns, display, index_rows, row_name, row_text, same

if TYPE_CHECKING:
    from ..audit.reader import ReadResult
    from .packets import PacketIdentity

ADDED = "Added"
REMOVED = "Removed"
CHANGED = "Changed"
KINDS: tuple[str, ...] = (ADDED, REMOVED, CHANGED)
COALITION = "coalition"  # sheet key of Coalition field changes



@dataclass(frozen=True)
class FieldChange:
    field: str  # column key, or Coalition field key
    old: Any
    new: Any


@dataclass
class RowChange:
    kind: str  # ADDED, REMOVED or CHANGED
    sheet: str  # sheet key, or COALITION
    id: str  # the row's ID (or a stakeholder's name); "" for Coalition fields and rows without a key
    text: str  # the row's main text (after the change; before it for a removed row)
    fields: list[FieldChange] = field(default_factory=list)  # changed fields; every filled one when added/removed

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.kind,
            "sheet": sheet_label(self.sheet),
            "id": self.id,
            "text": self.text,
            "fields": [
                {"field": field_label(self.sheet, f.field), "before": _json(f.old), "after": _json(f.new)}
                for f in self.fields
            ],
        }


@dataclass(frozen=True)
class Figures:
    """The audit's headline figures of one version."""

    alignment: float | None
    completeness: float | None
    steps: int
    counts: dict[str, int]

    @classmethod
    def of(cls, report: Report) -> Figures:
        s = report.summary
        return cls(s.alignment, s.completeness, s.steps, dict(s.counts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "alignment": self.alignment,
            "completeness": self.completeness,
            "steps": self.steps,
            "counts": dict(self.counts),
        }


@dataclass
class PlanDiff:
    old: str
    new: str
    as_of: dt.date
    changes: list[RowChange]
    before: Figures
    after: Figures
    note: str = ""  # how the two were compared, when not as they are (a packet and a whole plan)

    def of_kind(self, kind: str) -> list[RowChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def added(self) -> list[RowChange]:
        return self.of_kind(ADDED)

    @property
    def removed(self) -> list[RowChange]:
        return self.of_kind(REMOVED)

    @property
    def changed(self) -> list[RowChange]:
        return self.of_kind(CHANGED)

    def find(self, sheet_key: str, id: str) -> RowChange | None:
        return next((c for c in self.changes if c.sheet == sheet_key and c.id == id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "as_of": self.as_of.isoformat(),
            "note": self.note,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "counts": {k.lower(): len(self.of_kind(k)) for k in KINDS},
            "changes": [c.to_dict() for c in self.changes],
        }


def sheet_label(key: str) -> str:
    return schema.COALITION_SHEET if key == COALITION else schema.sheet(key).name


def field_label(sheet_key: str, key: str) -> str:
    if sheet_key == COALITION:
        return schema.coalition_field(key).label
    return schema.sheet(sheet_key).column(key).header


def _json(value: Any) -> Any:
    value = written(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return display(value)
    return value


# --- comparing two plans ------------------------------------------------------------------------------------


def compare(old: Plan, new: Plan) -> list[RowChange]:
    """Every difference between two plans: Coalition fields first, then each sheet in declaration order."""
    changes: list[RowChange] = []
    fields = [
        FieldChange(f.key, old.coalition.get(f.key), new.coalition.get(f.key))
        for f in schema.COALITION_FIELDS
        if not same(old.coalition.get(f.key), new.coalition.get(f.key))
    ]
    if fields:
        changes.append(RowChange(CHANGED, COALITION, "", written(new.coalition.get("name")) or "", fields))
    for sheet in schema.SHEETS:
        changes.extend(_compare_sheet(sheet, old.rows(sheet.key), new.rows(sheet.key)))
    return changes


def _compare_sheet(sheet: Sheet, old_rows: list[Record], new_rows: list[Record]) -> list[RowChange]:
    old_index, old_rest = index_rows(sheet, old_rows)
    new_index, new_rest = index_rows(sheet, new_rows)
    out: list[RowChange] = []
    for key, new in new_index.items():
        old = old_index.get(key)
        if old is None:
            out.append(_whole(ADDED, sheet, new, row_name(sheet, new)))
            continue
        fields = [
            FieldChange(c.key, old.get(c.key), new.get(c.key))
            for c in compared_columns(sheet)
            if not same(old.get(c.key), new.get(c.key))
        ]
        if fields:
            out.append(RowChange(CHANGED, sheet.key, row_name(sheet, new), row_text(sheet, new), fields))
    for key, old in old_index.items():
        if key not in new_index:
            out.append(_whole(REMOVED, sheet, old, row_name(sheet, old)))
    # Rows without a usable key: identical content on both sides is no change.
    out.extend(_whole(ADDED, sheet, r, row_name(sheet, r)) for r in _unmatched(sheet, new_rest, old_rest))
    out.extend(_whole(REMOVED, sheet, r, row_name(sheet, r)) for r in _unmatched(sheet, old_rest, new_rest))
    return out


def _unmatched(sheet: Sheet, rows: list[Record], others: list[Record]) -> list[Record]:
    spare = [_content(sheet, r) for r in others]
    out = []
    for rec in rows:
        content = _content(sheet, rec)
        if content in spare:
            spare.remove(content)
        else:
            out.append(rec)
    return out


def _content(sheet: Sheet, rec: Record) -> tuple[Any, ...]:
    return tuple(comparable(rec.get(c.key)) for c in compared_columns(sheet))


def _whole(kind: str, sheet: Sheet, rec: Record, key: str) -> RowChange:
    filled = [c for c in compared_columns(sheet) if comparable(rec.get(c.key)) != ""]
    fields = [
        FieldChange(c.key, None, rec.get(c.key)) if kind == ADDED else FieldChange(c.key, rec.get(c.key), None)
        for c in filled
    ]
    return RowChange(kind, sheet.key, key, row_text(sheet, rec), fields)


def diff_plans(old: Path, new: Path, *, as_of: dt.date | None = None) -> PlanDiff:
    """Compare the plans in two workbooks; ``as_of`` (default today) dates the audit figures."""
    from ..audit.pipeline import report_of
    from .packets import PacketIdentity, packet_held

    old, new = Path(old), Path(new)
    as_of = as_of or dt.date.today()
    (old_read, old_packet), (new_read, new_packet) = _read(old), _read(new)  # each read once, for all it gives
    note = ""
    if old_packet is None and new_packet is None:  # a packet that no longer says it is one, as the merge reads it
        if member := packet_held(old_read.plan, new_read.plan):
            new_packet = PacketIdentity(member, inferred=True)
        elif member := packet_held(new_read.plan, old_read.plan):
            old_packet = PacketIdentity(member, inferred=True)
    if new_packet is not None and old_packet is None:
        old_read = _cut(old_read, new_packet.member)
        note = f"{new.name} {_is_packet(new_packet)}: {old.name} is compared as cut to that packet"
    elif old_packet is not None and new_packet is None:
        new_read = _cut(new_read, old_packet.member)
        note = f"{old.name} {_is_packet(old_packet)}: {new.name} is compared as cut to that packet"
    changes = compare(old_read.plan, new_read.plan)
    before = Figures.of(report_of(old_read, as_of=as_of))
    after = Figures.of(report_of(new_read, as_of=as_of))
    return PlanDiff(old.name, new.name, as_of, changes, before, after, note)


def _is_packet(packet: PacketIdentity) -> str:
    if packet.inferred:
        return f"does not say it is a packet, but holds {packet.member}'s packet rows and no others"
    return f"is the packet of {packet.member}"


def _read(path: Path) -> tuple[ReadResult, PacketIdentity | None]:
    """The plan of the workbook at ``path`` and, when it is a member's packet, what it says about that, from one
    opening."""
    from .merge_read import read_once
    from .packets import packet_identity

    found = read_once(path, held=None)  # (one process reads both: the thread parses as far ahead as it can)
    return found.read, packet_identity(path, found.properties, lambda: found.sheet_names)


def _cut(read: ReadResult, member: str) -> ReadResult:
    """``read`` with its plan cut to ``member``'s packet, and the reader's findings on the rows kept."""
    from ..audit.reader import ReadResult
    from ..audit.rules import cell_row
    from .packets import PacketIndex

    index = PacketIndex(read.plan)
    plan = index.packet_plan(member, index.rows_of(member))
    plan.source = read.plan.source
    named = {s.key: read.plan.source.sheet_names.get(s.key, s.name) for s in schema.SHEETS}  # as in the workbook
    rows = {(named[key], rec.row) for key, records in plan.records.items() for rec in records}
    findings = [
        f for f in read.findings
        if f.sheet not in named.values() or not f.cell or (f.sheet, cell_row(f.cell)) in rows
    ]  # (the Coalition sheet's, and a whole sheet's, stay)
    return ReadResult(plan, findings, read.extra)
