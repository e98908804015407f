"""The merge's three-way decisions, by row key, for the returns read one at a time (:mod:`merge` drives them).

The master is the version that was sent out. For every cell a member fills in (not IDs, not derived
columns), a return *changes* it when its value does not look the same as the master's
(:func:`roundtrip.same`). Then:

- a change sent by one return, or the same change sent by several, is **applied**;
- different changes to the same cell are a **conflict**: the master value stays, and every value sent is
  listed with who sent it in the ``schema.MERGE_CONFLICTS_SHEET`` sheet and the terminal;
- a row whose key the master does not have, or that a packet never held (a blank row's pre-filled ID can
  repeat an ID of someone else's row), or that repeats a key already met in the same return, is **added**
  with a fresh ID that collides with no ID of the master or of any return; references to it from the same
  return are rewritten to the fresh ID. A row another return added already (every cell a member fills in the
  same, references to added rows followed) is that row, added once: a member who sent their copy twice, or a
  folder that still holds last month's merged master, adds nothing twice. So is a row of a packet that the
  master already holds outside the packet (a packet sent back again after its new rows were merged): it is
  not added again. A row without an ID, or repeating one, that is such a master row sent back as it was adds
  nothing. A return's own repeated rows are added each time (a member may well mean two);
- a row the return held (a full copy holds every master row; a packet the rows it was cut with, see
  :func:`packets.packet_rows`) but no longer has, or whose every cell was emptied, is **flagged** as deleted
  and kept;
- a change to a row a packet showed only as context (grey, "do not edit") is **not applied** but listed,
  as the packet told the member; changes to the Coalition sheet and stakeholders count like any other;
- a cell the reader could not take at face value (a formula or an error value where an entry belongs) is
  **not applied** but listed.

Every one of these, per file, goes to the merge's log; sheets of a return that are not part of the template are
named in it (they stay in their own file). :class:`Sorted` is what the merge keeps of a return once read (only
the rows that send something); :class:`Merge` takes the returns in turn and decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..audit.known_rows import KnownRows
from ..plan import schema
from ..plan.model import Finding, Plan, Record
from ..plan.schema import Kind, Sheet
from .merge_layout import MasterLayout, Placed, SlotIds
from .merge_master import Applied
from .merge_model import (
    ADDED,
    COALITION,
    CONFLICT,
    CONTEXT_EDIT,
    DELETED,
    EDITED,
    NOTE,
    READ,
    UNREADABLE,
    Issue,
    LogEntry,
    Origin,
)
from .packets import PacketBase, PacketIdentity, PacketRows
from .roundtrip import (
    cell_fingerprint,
    comparable,
    compared_columns,
    content_blank,
    display,
    id_number,
    plan_fingerprint,
    ref_key,
    row_key,
    row_name,
    row_text,
    same,
)

# Reader findings whose cell value cannot be taken (the reader leaves it blank).
UNREADABLE_RULES: tuple[str, ...] = ("formula-in-text", "error-value")

Cells = dict[tuple[str, int, str], str]  # (sheet key, worksheet row, column key) -> what the reader said


@dataclass
class Sorted:
    """A return's rows sorted against the master: all the merge keeps of a return once it has been read."""

    # sheet key -> key -> the cells of the return's row that differ from the master row it matches or could not be
    # read (see Merge._sent; a row that sends no change, nothing unreadable, is dropped here)
    changed: dict[str, dict[str, Record]] = field(default_factory=dict)
    missing: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # sheet key -> (key, emptied?)
    added: list[tuple[str, Record, str]] = field(default_factory=list)  # (sheet key, row, why it is new)
    # For fresh IDs: sheet key -> the IDs of the master's blank pre-formatted rows that the return names, and
    # the highest ID number it uses.
    slot_ids: dict[str, set[str]] = field(default_factory=dict)
    top_number: dict[str, int] = field(default_factory=dict)

    @cached_property
    def missing_keys(self) -> dict[str, set[str]]:
        """Sheet key -> the keys of :attr:`missing`."""
        return {sheet_key: {key for key, _emptied in rows} for sheet_key, rows in self.missing.items()}


@dataclass
class Return:
    index: int
    path: Path
    origin: Origin
    packet: PacketIdentity | None
    rows: PacketRows | None  # what a packet held; None for a full copy (holds everything)
    coalition: dict[str, Any]
    unreadable: Cells
    extra_sheets: list[str]  # the return's sheets that are not part of the template
    sorted: Sorted
    id_map: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet key -> return ID -> merged ID
    found_again: set[tuple[str, str | None]] = field(default_factory=set)  # (sheet key, key): master rows sent again
    base: PacketBase | None = None  # a packet's cells as it was cut (packets.packet_base)


class Merge:
    layout: MasterLayout  # read after the workers that read the returns are started (they do not need it)

    def __init__(self, base: Plan, known: KnownRows | None = None) -> None:
        self.base = base
        self.known = known  # the master's rows by their raw values, for the reads of the returns (known_rows)
        self.applied: list[Applied] = []
        self.placed: list[Placed] = []
        self.used: dict[str, dict[str, set[int]]] = {}  # sheet key -> ID -> returns that name it
        self.assigned: set[tuple[str, str]] = set()
        self.base_index: dict[str, dict[str, Record]] = {}
        # The contents of the master's rows without a key or repeating one, with how many rows hold each (see
        # _take_identical).
        self.unkeyed: dict[str, Counter[tuple[Any, ...]]] = {}
        for sheet in schema.SHEETS:
            index: dict[str, Record] = {}
            spare: Counter[tuple[Any, ...]] = Counter()
            for original in base.rows(sheet.key):
                key = row_key(sheet, original)
                if key is None or key in index:
                    spare[_content(sheet, original)] += 1
                else:
                    index[key] = original
            self.base_index[sheet.key], self.unkeyed[sheet.key] = index, spare
        # The rows the returns add, by sheet and content (as _add_row works it out): the return that added each, the
        # row as added and its log line.
        self.added_rows: dict[str, dict[tuple[Any, ...], list[tuple[int, Record, LogEntry]]]] = {}
        self._by_label: dict[str, dict[Any, list[Record]]] = {}  # the master's rows by their label, asked for lazily
        self.next_number: dict[str, int] = {}
        self.pending: dict[tuple[str, str, str], list[tuple[Origin, Any, str]]] = {}
        # Cells a packet changed that the master had changed too since the packet was cut: (sheet, key, column).
        self.changed_since_cut: set[tuple[str, str, str]] = set()
        self.log: list[LogEntry] = []
        self.issues: list[Issue] = []

    @cached_property
    def _merged(self) -> tuple[Plan, dict[str, dict[str, Record]]]:
        """The merged plan and its rows by key: the master's rows themselves (not copied: a large plan is not held
        twice over), with the rows the returns add. The changes are applied to them by :meth:`resolve` only, once
        every return is compared and each changed cell's master value taken, so nothing reads a changed value as the
        master's."""
        merged = Plan(coalition=dict(self.base.coalition), source=self.base.source)
        for sheet in schema.SHEETS:
            merged.records[sheet.key] = list(self.base.rows(sheet.key))
        return merged, {sheet.key: dict(self.base_index[sheet.key]) for sheet in schema.SHEETS}

    @property
    def merged(self) -> Plan:
        return self._merged[0]

    @property
    def merged_index(self) -> dict[str, dict[str, Record]]:
        return self._merged[1]

    @cached_property
    def fingerprint(self) -> str:
        """The master's fingerprint, worked out when a packet tells the one it was cut from."""
        return plan_fingerprint(self.base)

    # --- reading every return first, so fresh IDs collide with nothing ---------------------------------

    def reserve_ids(self, rets: Sequence[Return]) -> None:
        """Note every ID the master, the returns and the master's blank rows use, so fresh IDs collide with none.

        Of the IDs a return names, only those of the master's blank rows matter (:meth:`_free` is asked about
        those alone); of the others, the highest number (each return's, from :meth:`sort`)."""
        for ret in rets:
            for sheet_key, named in ret.sorted.slot_ids.items():
                for key in named:
                    self.used.setdefault(sheet_key, {}).setdefault(key, set()).add(ret.index)
        for sheet in schema.SHEETS:
            if sheet.id_column is None:
                continue
            slots = self.layout.sheets[sheet.key].slots.left()
            numbers = [id_number(sheet, k) for k in (*self.base_index[sheet.key], *slots)]  # (every key of the master)
            numbers += [ret.sorted.top_number.get(sheet.key) for ret in rets]
            self.next_number[sheet.key] = max((n for n in numbers if n is not None), default=0) + 1

    def sort(
        self,
        plan: Plan,
        rows: PacketRows | None,
        unreadable: Cells,
        slot_ids: dict[str, SlotIds],
        base: PacketBase | None = None,
    ) -> Sorted:
        """What a return (its plan as read, the rows it held as a packet) sends, against the master (``slot_ids``: the
        IDs of its blank pre-formatted rows, :meth:`MasterLayout.slot_ids`; ``base``: a packet's cells as it was cut,
        :func:`packets.packet_base`)."""
        out = Sorted()
        keys = {s.key: [row_key(s, rec) for rec in plan.rows(s.key)] for s in schema.SHEETS}
        for sheet in schema.SHEETS:
            if sheet.id_column is None:
                continue
            # (the master's own keys count anyway: see reserve_ids)
            base_index = self.base_index[sheet.key]
            numbers = [id_number(sheet, key) for key in keys[sheet.key] if key and key not in base_index]
            top = max((n for n in numbers if n is not None), default=None)
            if top is not None:
                out.top_number[sheet.key] = top
            named = slot_ids[sheet.key].among({key for key in keys[sheet.key] if key}, self.base_index[sheet.key])
            if named:
                out.slot_ids.setdefault(sheet.key, set()).update(named)
            for col in sheet.reference_columns:
                wanted, ref = slot_ids.get(col.ref or ""), col.ref or ""
                names = {v for rec in plan.rows(sheet.key) if isinstance(v := rec.get(col.key), str)}
                named = wanted.among(names, self.base_index[ref]) if wanted is not None else set()
                if named:
                    out.slot_ids.setdefault(col.ref or "", set()).update(named)
        for sheet in schema.SHEETS:
            matched: dict[str, Record] = {}
            emptied: set[str] = set()
            spare = self._unkeyed_base(sheet)
            base_index = self.base_index[sheet.key]
            for rec, key in zip(plan.rows(sheet.key), keys[sheet.key], strict=True):
                held = key is not None and key in base_index and self._holds(rows, sheet.key, key)
                if held and key is not None and key not in matched:
                    if KnownRows.unchanged(rec, base_index[key]):
                        matched[key] = rec  # the master's row as it was: it sends nothing
                        continue
                    if content_blank(sheet, rec):
                        emptied.add(key)
                    else:
                        matched[key] = rec
                    continue
                repeat = key is None or key in matched  # (without a key, or a second row with one)
                if content_blank(sheet, rec) or (repeat and _take_identical(sheet, rec, spare)):
                    continue
                out.added.append((sheet.key, rec, self._why_new(sheet, rec, key, matched)))
            out.changed[sheet.key] = {
                key: sent
                for key, rec in matched.items()
                if not KnownRows.unchanged(rec, base_index[key])
                and (sent := self._sent(sheet, key, rec, unreadable, (base or {}).get((sheet.key, key))))
            }
            out.missing[sheet.key] = [
                (key, key in emptied) for key in base_index if key not in matched and self._holds(rows, sheet.key, key)
            ]
        return out

    def _sent(
        self, sheet: Sheet, key: str, rec: Record, unreadable: Cells, cut: dict[str, str] | None = None
    ) -> Record | None:
        """Of a matched row, the cells :meth:`_compare_row` finds anything in (a change, or a cell it could not read),
        alone: all that is kept of the row (None when there is none). ``cut``: the fingerprints of the row's cells as
        its packet was cut; a cell sent back as it was cut is no change, whatever the master holds now (the
        coordinator may have changed it since)."""
        before, after = self.base_index[sheet.key][key].values, rec.values
        found: dict[str, Any] = {}
        for col in compared_columns(sheet):
            old, sent = before.get(col.key), after.get(col.key)
            if (unreadable and (sheet.key, rec.row, col.key) in unreadable) or (
                not (old.__class__ is sent.__class__ and old == sent)
                and not same(old, sent)
                and (cut is None or cut.get(col.key) != cell_fingerprint(sent))
            ):
                found[col.key] = sent
        return Record(rec.sheet, rec.id, found, rec.row) if found else None

    def place(self, ret: Return, sheet: Sheet, marked: str | None) -> tuple[str | None, int, str | None, bool]:
        """(ID, 0-based worksheet row, the ID the row was pre-filled with, appended?) of a row a return adds.

        It fills the master's next blank pre-formatted row, keeping that row's ID when no row of the master and
        no other return uses it; past those rows it is appended below them with a fresh ID.
        """
        where = self.layout.sheets[sheet.key]
        slot = where.slots.take()
        if slot is None:
            row, prefilled, appended = where.append_at, None, True
            where.append_at += 1
        else:
            (row, prefilled), appended = slot, False
        if sheet.id_column is None:
            return None, row, None, appended
        if prefilled and self._free(sheet, prefilled, ret, marked):
            new_id = prefilled
        else:  # above every ID of the master, its blank rows and the returns: it collides with none
            n = self.next_number[sheet.key]
            self.next_number[sheet.key] = n + 1
            new_id = f"{sheet.id_prefix}-{n}"
        self.assigned.add((sheet.key, new_id))
        return new_id, row, prefilled, appended

    def _free(self, sheet: Sheet, candidate: str, ret: Return, marked: str | None) -> bool:
        if candidate in self.base_index[sheet.key] or (sheet.key, candidate) in self.assigned:
            return False
        users = self.used.get(sheet.key, {}).get(candidate, set())
        return not (users - {ret.index}) and (ret.index not in users or marked == candidate)

    # --- one return ------------------------------------------------------------------------------------

    def take(self, ret: Return) -> None:
        origin = ret.origin
        self._read_note(ret)
        unreadable = ret.unreadable
        repeats: Counter[tuple[str, tuple[Any, ...]]] = Counter()  # the rows this return adds, by content so far
        for sheet_key, rec, why in ret.sorted.added:  # parents come first in schema.SHEETS, so references find their ID
            self._add_row(ret, schema.sheet(sheet_key), rec, why, repeats)
        for sheet in schema.SHEETS:
            for key, rec in ret.sorted.changed[sheet.key].items():
                self._compare_row(ret, sheet, key, rec, unreadable)
            self._flag_missing(ret, sheet, ret.sorted.missing[sheet.key])
        self._compare_coalition(ret, unreadable)
        if not any(e.origin == origin and e.action not in (READ, NOTE) for e in self.log) and not any(
            origin in (o for o, _v, _i in sends) for sends in self.pending.values()
        ):
            self.log.append(LogEntry(origin, NOTE, note="no changes found in this file"))

    def _read_note(self, ret: Return) -> None:
        if ret.packet is None:
            note = "a full copy of the plan: every master row it lacks is flagged as deleted"
        else:
            note = f"a packet for {ret.packet.member}"
            if ret.packet.master_file:
                note += f", cut from {ret.packet.master_file}"
            if ret.packet.made:
                note += f" on {ret.packet.made}"
            if ret.packet.master_fingerprint and ret.packet.master_fingerprint != self.fingerprint:
                note += (
                    "; the master has changed since the packet was cut, so rows it held are worked out from the "
                    "current master"
                )
        self.log.append(LogEntry(ret.origin, READ, note=note))
        for name in ret.extra_sheets:
            if name not in OWN_SHEETS:
                note = f"its sheet {name!r} is not part of the plan; it stays in that file"
                self.log.append(LogEntry(ret.origin, NOTE, note=note))

    def _holds(self, rows: PacketRows | None, sheet_key: str, key: str) -> bool:
        return rows is None or rows.holds(sheet_key, key)

    def _unkeyed_base(self, sheet: Sheet) -> Counter[tuple[Any, ...]]:
        """The contents of the master's rows without a key or repeating one, each with how many rows hold it (a fresh
        count)."""
        return Counter(self.unkeyed[sheet.key])

    def _why_new(self, sheet: Sheet, rec: Record, key: str | None, matched: dict[str, Record]) -> str:
        if key is None:
            return "a row without an ID" if sheet.id_column is not None else "a row without a name"
        name = row_name(sheet, rec)
        if key in matched:
            return f"a second row with {name}; added as a row of its own"
        if key in self.base_index[sheet.key]:
            return f"a new row (its pre-filled ID {name} belongs to another row of the master)"
        return "a new row" if sheet.id_column is None else f"a new row (marked {name} in the return)"

    def _add_row(
        self, ret: Return, sheet: Sheet, rec: Record, why: str, repeats: Counter[tuple[str, tuple[Any, ...]]]
    ) -> None:
        key = row_key(sheet, rec)
        values = {k: self._rewrite(ret, sheet, k, v) for k, v in rec.values.items()}
        content = tuple(comparable(values.get(c.key)) for c in compared_columns(sheet))
        seen = repeats[(sheet.key, content)]  # rows of this return with that content, before this one
        repeats[(sheet.key, content)] += 1
        earlier = self._already_there(ret, sheet, values, content)
        if seen < len(earlier):
            self._add_again(ret, sheet, rec, key, earlier[seen])
            return
        new_id, row, prefilled, appended = self.place(ret, sheet, key)
        if sheet.id_column is not None:
            values[sheet.id_column.key] = new_id
            if key is not None and not ret.id_map.get(sheet.key, {}).get(key):
                ret.id_map.setdefault(sheet.key, {})[key] = new_id  # type: ignore[assignment]  # (a str: the sheet has IDs)
        new = Record(sheet=sheet.key, id=new_id, values=values, row=row + 1)
        self.merged.rows(sheet.key).append(new)
        self.placed.append(Placed(sheet, new, row, prefilled, appended))
        entry = LogEntry(ret.origin, ADDED, sheet.key, row_name(sheet, rec), row_name(sheet, new), note=why)
        entry.new = row_text(sheet, new)
        self.log.append(entry)
        self.added_rows.setdefault(sheet.key, {}).setdefault(content, []).append((ret.index, new, entry))

    def _already_there(
        self, ret: Return, sheet: Sheet, values: dict[str, Any], content: tuple[Any, ...]
    ) -> list[tuple[Record, LogEntry | None]]:
        """The rows a row a return adds (its ``values``, their ``content``) would repeat: the master's rows with a key
        and that content that the return does not have (outside its packet, or missing from it), then the rows other
        returns added; each with the log line of its adding (None for the master's)."""
        found: list[tuple[Record, LogEntry | None]] = []
        by_label = self._by_label.get(sheet.key)
        if by_label is None:  # (looked for by label first: only rows with the same text are compared whole)
            by_label = self._by_label[sheet.key] = {}
            for original in self.base.rows(sheet.key):
                by_label.setdefault(comparable(original.get(sheet.label)), []).append(original)
        for original in by_label.get(comparable(values.get(sheet.label)), ()):
            known = row_key(sheet, original)
            if known is None:
                continue  # (a row without a key is matched by content in sort: _take_identical)
            if self._holds(ret.rows, sheet.key, known) and known not in ret.sorted.missing_keys[sheet.key]:
                continue  # the return has that row: this one is another
            if _content(sheet, original) == content:
                found.append((original, None))
        added = self.added_rows.get(sheet.key, {}).get(content, ())
        return found + [(row, entry) for index, row, entry in added if index != ret.index]

    def _add_again(
        self, ret: Return, sheet: Sheet, rec: Record, key: str | None, there: tuple[Record, LogEntry | None]
    ) -> None:
        """Log a row a return adds that is a row already there (:meth:`_already_there`), and let the return's
        references to it name that row (a master row it was missing is no longer flagged as deleted)."""
        row, first = there
        if sheet.id_column is not None and key is not None and not ret.id_map.get(sheet.key, {}).get(key):
            ret.id_map.setdefault(sheet.key, {})[key] = row.id  # type: ignore[assignment]  # (a str: the sheet has IDs)
        name, there_name = row_name(sheet, rec), row_name(sheet, row)
        if first is None:
            ret.found_again.add((sheet.key, row_key(sheet, row)))
            note = f"the same row as {there_name} of the master; not added again"
            self.log.append(LogEntry(ret.origin, NOTE, sheet.key, name, there_name, note=note))
            return
        first.note += f"; the same new row also came from {ret.origin.who}"  # (after why it was new)
        note = f"the same new row as {first.origin.who} sent; added once"
        self.log.append(LogEntry(ret.origin, ADDED, sheet.key, name, there_name, new=first.new, note=note))

    def _rewrite(self, ret: Return, sheet: Sheet, column_key: str, value: Any) -> Any:
        """A reference to a row added by the same return, rewritten to that row's fresh ID."""
        col = next((c for c in sheet.columns if c.key == column_key), None)
        if col is None or col.kind is not Kind.REF or not isinstance(value, str):
            return value
        named = ref_key(value, schema.sheet(col.ref or ""))
        mapped = ret.id_map.get(col.ref or "", {}).get(named or "")
        return mapped or value

    def _compare_row(self, ret: Return, sheet: Sheet, key: str, rec: Record, unreadable: Cells) -> None:
        base = self.base_index[sheet.key][key]
        context = ret.rows is not None and ret.rows.is_context(sheet.key, key)
        name = row_name(sheet, base)
        before = base.values
        cut = ret.base.get((sheet.key, key)) if ret.base else None
        for field_key, sent in rec.values.items():  # only the cells that send something (see _sent)
            old = before.get(field_key)
            said = unreadable.get((sheet.key, rec.row, field_key)) if unreadable else None
            if said is not None:
                self._not_readable(ret, sheet.key, name, field_key, old, said)
                continue
            sent = self._rewrite(ret, sheet, field_key, sent)
            if context:
                note = "a context row of the packet: not applied, as the packet says"
                self.issues.append(Issue(CONTEXT_EDIT, sheet.key, name, field_key, old, [(ret.origin, sent)], note))
                self.log.append(LogEntry(ret.origin, CONTEXT_EDIT, sheet.key, name, name, field_key, old, sent, note))
            else:
                if cut is not None and field_key in cut and cut[field_key] != cell_fingerprint(old):
                    self.changed_since_cut.add((sheet.key, key, field_key))
                self.pending.setdefault((sheet.key, key, field_key), []).append((ret.origin, sent, name))

    def _compare_coalition(self, ret: Return, unreadable: Cells) -> None:
        for fld in schema.COALITION_FIELDS:
            old, sent = self.base.coalition.get(fld.key), ret.coalition.get(fld.key)
            said = unreadable.get((COALITION, 0, fld.key))
            if said is not None:
                self._not_readable(ret, COALITION, "", fld.key, old, said)
            elif not same(old, sent):
                self.pending.setdefault((COALITION, "", fld.key), []).append((ret.origin, sent, ""))

    def _not_readable(self, ret: Return, sheet_key: str, name: str, field_key: str, old: Any, said: str) -> None:
        note = f"{said.rstrip('. ')}; the master value is kept"
        self.issues.append(Issue(UNREADABLE, sheet_key, name, field_key, old, [(ret.origin, None)], note))
        self.log.append(LogEntry(ret.origin, UNREADABLE, sheet_key, name, name, field_key, old, None, note))

    def _flag_missing(self, ret: Return, sheet: Sheet, missing: list[tuple[str, bool]]) -> None:
        for key, emptied in missing:
            if (sheet.key, key) in ret.found_again:
                continue  # the return sent it again as a new row: it is there, under another ID (see _add_again)
            base = self.base_index[sheet.key][key]
            name = row_name(sheet, base)
            how = "emptied" if emptied else "deleted"
            note = f"{how} in this return; the row is kept in the merged plan: delete it there if that is right"
            text = _content_text(sheet, base)
            self.issues.append(Issue(DELETED, sheet.key, name, "", text, [(ret.origin, None)], note))
            self.log.append(LogEntry(ret.origin, DELETED, sheet.key, name, name, note=note))

    # --- after every return ----------------------------------------------------------------------------

    def resolve(self) -> None:
        for (sheet_key, key, field_key), sends in self.pending.items():
            distinct: list[Any] = []
            for _origin, value, _name in sends:
                if not any(same(value, d) for d in distinct):
                    distinct.append(value)
            old = self._base_value(sheet_key, key, field_key)
            name = sends[0][2]
            both = (sheet_key, key, field_key) in self.changed_since_cut
            if len(distinct) == 1 and not both:
                self._apply(sheet_key, key, field_key, distinct[0])
                senders = [o for o, _v, _n in sends]
                for origin, value, _name in sends:
                    others = [o.who for o in senders if o != origin]
                    note = f"the same change also came from {', '.join(others)}" if others else ""
                    self.log.append(LogEntry(origin, EDITED, sheet_key, name, name, field_key, old, value, note))
            else:
                note = (
                    "different values sent; the master value is kept until you choose one"
                    if len(distinct) > 1
                    else "changed in the master after the packet was cut, and in the packet; the master value is kept "
                    "until you choose one"
                )
                sent = [(o, v) for o, v, _n in sends]
                self.issues.append(Issue(CONFLICT, sheet_key, name, field_key, old, sent, note))
                for origin, value, _name in sends:
                    self.log.append(LogEntry(origin, CONFLICT, sheet_key, name, name, field_key, old, value, note))

    def _base_value(self, sheet_key: str, key: str, field_key: str) -> Any:
        if sheet_key == COALITION:
            return self.base.coalition.get(field_key)
        return self.base_index[sheet_key][key].get(field_key)

    def _apply(self, sheet_key: str, key: str, field_key: str, value: Any) -> None:
        if sheet_key == COALITION:
            self.merged.coalition[field_key] = value
            self.applied.append((COALITION, None, field_key, value))
        else:
            self.merged_index[sheet_key][key].values[field_key] = value
            self.applied.append((sheet_key, self.base_index[sheet_key][key], field_key, value))


OWN_SHEETS: frozenset[str] = frozenset(
    {
        schema.SUMMARY_SHEET,
        schema.PACKET_SHEET,
        schema.PACKET_BASE_SHEET,
        schema.MERGE_CONFLICTS_SHEET,
        schema.MERGE_LOG_SHEET,
    }
)


def _content(sheet: Sheet, rec: Record) -> tuple[Any, ...]:
    return tuple(comparable(rec.get(c.key)) for c in compared_columns(sheet))


def _content_text(sheet: Sheet, rec: Record) -> str:
    return display(rec.get(sheet.label))


def _take_identical(sheet: Sheet, rec: Record, spare: Counter[tuple[Any, ...]]) -> bool:
    """True (and the match used up) when a row without a key, or repeating one, is a master row without a key or
    repeating one: the same content (a master that holds an ID twice sent back as it was adds nothing)."""
    content = _content(sheet, rec)
    if spare[content] > 0:
        spare[content] -= 1
        return True
    return False


def unreadable_cells(plan: Plan, findings: Sequence[Finding]) -> Cells:
    """Cells the reader could not take, with the reader's message; Coalition fields as (COALITION, 0, key)."""
    from ..audit.rules import cell_row

    keys = {s.name: s.key for s in schema.SHEETS} | {n: k for k, n in plan.source.sheet_names.items()}
    keys[schema.COALITION_SHEET] = COALITION
    coalition_cells = {cell.upper(): key for key, cell in plan.source.coalition_cells.items()}
    out: Cells = {}
    for finding in findings:
        if finding.rule not in UNREADABLE_RULES or not finding.cell:
            continue
        sheet_key = keys.get(finding.sheet)
        if sheet_key == COALITION and finding.cell.upper() in coalition_cells:
            out[(COALITION, 0, coalition_cells[finding.cell.upper()])] = finding.message
            continue
        letters = finding.cell.rstrip("0123456789").upper()
        for column_key, letter in plan.source.columns.get(sheet_key or "", {}).items():
            if letter.upper() == letters:
                out[(sheet_key or "", cell_row(finding.cell), column_key)] = finding.message
    return out
