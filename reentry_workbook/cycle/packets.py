"""Member packets: one workbook per responsible member, holding only their part of the plan.

A packet holds the member's action steps to update and, greyed and marked "do not edit" as context, the
proposed improvements those steps move forward, the goals and priorities those serve, and the performance
measures of those improvements. It also holds every stakeholder (members may add or correct contacts) and
the Coalition fields. Steps with no one responsible go to a packet of their own, for "(no one)".

A packet has ``generate.SPARE_ROWS`` pre-formatted rows after its longest sheet for the member's new rows.
A packet is a plan workbook like any other (written by :func:`generate.write_plan_workbook`, with the
template's identity properties), so it audits and merges like any copy. What makes it a packet is recorded
twice, because some spreadsheet apps drop document properties when they save:

- custom document properties ``schema.PROP_PACKET_MEMBER`` (the member's name as first typed),
  ``schema.PROP_PACKET_MASTER`` (the content fingerprint of the master plan it was cut from, see
  :func:`roundtrip.plan_fingerprint`), ``schema.PROP_PACKET_MASTER_FILE`` and ``schema.PROP_PACKET_MADE``;
- a visible ``schema.PACKET_SHEET`` sheet with the same facts as label/value rows, and what to do.

A packet also holds, in the very hidden ``schema.PACKET_BASE_SHEET``, a fingerprint of each cell of the rows its
member answers for, as they were cut (:func:`roundtrip.cell_fingerprint`): a cell returned as it was cut was not
changed by the member, whatever the master holds now (:func:`packet_base`, used by the merge).

Members are grouped by the Responsible text ignoring case and spacing ("maria  LOPEZ" is "Maria Lopez");
one Responsible cell names one member (text such as "Maria and Sam" is a member of its own). The merge
recomputes which rows a packet held from the master and the member's name (:func:`packet_rows`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..audit.report import NO_ONE
from ..errors import OutputError, UsageError
from ..plan import schema
from ..plan.model import Plan, Record, is_blank, written
from ..xlsx.atomic import check_output
from ..xlsx.bulk import collector_paused
from ..xlsx.direct_rows import MAX_CELL_TEXT, cell_length
from ..xlsx.identity import custom_properties
from .roundtrip import cell_fingerprint, compared_columns, name_key, plan_fingerprint, ref_key, row_key, sheet_names
from .workers import Workers

BY_CHOICES: tuple[str, ...] = ("responsible",)
NO_ONE_FILE = "No one responsible"  # file name of their packet
MAX_FILE_STEM = 80  # characters of a member's name kept in a file name
PROPERTY_LIMIT = 255  # characters Excel keeps in a text document property

# Labels of the packet sheet's label/value rows (column A: label, column B: value).
LABEL_MEMBER = "Packet for"
LABEL_MASTER_FILE = "Cut from"
LABEL_MASTER = "Master fingerprint"
LABEL_MADE = "Made on"
LABEL_STEPS = "Your action steps"
PACKET_LABELS: tuple[str, ...] = (LABEL_MEMBER, LABEL_MASTER_FILE, LABEL_MASTER, LABEL_MADE, LABEL_STEPS)

# Names Windows refuses as file names, whatever the extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')


@dataclass(frozen=True)
class PacketIdentity:
    """What a returned packet says about itself (from its properties, or its packet sheet)."""

    member: str
    master_fingerprint: str = ""
    master_file: str = ""
    made: str = ""
    inferred: bool = False  # the workbook does not say it is a packet: its rows do (PacketIndex.member_holding)

    @property
    def key(self) -> str:
        return member_key(self.member)


@dataclass
class PacketRows:
    """The rows a packet holds, by sheet key: its own (to update) and those shown as context."""

    own: dict[str, set[str]] = field(default_factory=dict)
    context: dict[str, set[str]] = field(default_factory=dict)

    def holds(self, sheet_key: str, key: str) -> bool:
        return key in self.own.get(sheet_key, set()) or key in self.context.get(sheet_key, set())

    def is_context(self, sheet_key: str, key: str) -> bool:
        return key in self.context.get(sheet_key, set())


@dataclass
class Packet:
    member: str  # as first typed; NO_ONE for steps without anyone responsible
    plan: Plan
    rows: PacketRows


def member_key(text: Any) -> str:
    """The member a Responsible cell names, for grouping: case and spacing ignored; blank is ``NO_ONE``."""
    return name_key(text) or name_key(NO_ONE)


def packet_rows(plan: Plan, member: str) -> PacketRows:
    """Which rows of ``plan`` the packet of ``member`` holds (steps of that member, plus their context)."""
    return PacketIndex(plan).rows_of(member)


class PacketIndex:
    """One pass over a plan that answers, for any member, which rows their packet holds and what its plan is.

    Building it visits every row once and works out, once per row, its key, the parent it names and its
    member; each member's packet then costs only what that packet holds (set and dict look-ups, and the copies
    of its rows), so cutting a plan for thousands of members stays linear in its size (not members x steps).
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.keys: dict[str, list[str | None]] = {}  # sheet key -> the key of the row at each position
        # sheet key -> row key -> positions of the rows with that key (an ID used twice has two)
        self.positions: dict[str, dict[str, list[int]]] = {}
        # child sheet key of the chain -> the key of the parent named by the row at each position (or None)
        self.parents: dict[str, list[str | None]] = {}
        self.members: dict[str, str] = {}  # member key -> the name as first typed (NO_ONE for blank)
        self.member_steps: dict[str, list[int]] = {}  # member key -> positions of their steps
        self.step_member: list[str] = []  # the member key of the step at each position
        self.measures_of: dict[str, list[int]] = {}  # improvement key -> positions of its measures
        self.unkeyed_steps: dict[str, list[int]] = {}  # member key -> positions of their steps without an ID
        self.chain = [
            (child, column, schema.sheet(schema.sheet(child).column(column).ref or ""))
            for child, column in schema.CHAIN
        ]
        for sheet in schema.SHEETS:
            records = plan.rows(sheet.key)
            keys = self.keys[sheet.key] = [row_key(sheet, rec) for rec in records]
            by_key: dict[str, list[int]] = {}
            for i, k in enumerate(keys):
                if k is not None:
                    by_key.setdefault(k, []).append(i)
            self.positions[sheet.key] = by_key
        # The sheets a packet shows as context (the chain above its steps, and measures), in the plan's order.
        shown = {"measures", *(parent.key for _child, _column, parent in self.chain)}
        self.context_sheets = [sheet.key for sheet in schema.SHEETS if sheet.key in shown]
        for child, column, parent in self.chain:
            self.parents[child] = [ref_key(rec.get(column), parent) for rec in plan.rows(child)]
        for i, rec in enumerate(plan.rows("steps")):
            text = " ".join(str(written(rec.get("responsible")) or "").split())
            key = member_key(text)
            self.members.setdefault(key, text or NO_ONE)
            self.member_steps.setdefault(key, []).append(i)
            self.step_member.append(key)
            if rec.id is None:
                self.unkeyed_steps.setdefault(key, []).append(i)
        for i, rec in enumerate(plan.rows("measures")):
            if ref := _ref_key(rec.get("improvement"), "improvements"):
                self.measures_of.setdefault(ref, []).append(i)

    def ordered_members(self) -> list[str]:
        """The members named on the action steps, in order of first appearance; ``NO_ONE`` last."""
        no_one = member_key(NO_ONE)
        return [name for key, name in sorted(self.members.items(), key=lambda item: item[0] == no_one)]

    def rows_of(self, member: str) -> PacketRows:
        step_keys = self.keys["steps"]
        own = {k for i in self.member_steps.get(member_key(member), ()) if (k := step_keys[i])}
        # Walk up the chain of service, then down to the measures of the improvements met on the way.
        wanted: dict[str, set[str]] = {"steps": own}
        for child, _column, parent in self.chain:
            refs, by_key = self.parents[child], self.positions[child]
            wanted[parent.key] = {ref for k in wanted[child] for i in by_key.get(k, ()) if (ref := refs[i])}
        measure_keys = self.keys["measures"]
        wanted["measures"] = {
            k
            for improvement in wanted["improvements"]
            for i in self.measures_of.get(improvement, ())
            if (k := measure_keys[i])
        }
        return PacketRows(
            {"steps": own, "stakeholders": set(self.positions["stakeholders"])},
            {key: wanted[key] & self.positions[key].keys() for key in self.context_sheets},
        )

    def member_holding(self, plan: Plan) -> str | None:
        """The member whose packet ``plan`` holds, for a returned workbook that does not say it is a packet (its
        properties and its packet sheet lost, say by pasting it into a new workbook): the one member the master
        names on the steps the two share, when every row they share is one of that member's packet and ``plan``
        lacks some row the packet leaves out. None otherwise: it is then a full copy."""
        shared: dict[str, set[str]] = {}
        for sheet in schema.SHEETS:
            known = self.positions[sheet.key]
            shared[sheet.key] = {k for rec in plan.rows(sheet.key) if (k := row_key(sheet, rec)) in known}
        members = {self.step_member[i] for k in shared["steps"] for i in self.positions["steps"][k]}
        if len(members) != 1:
            return None
        member = self.members[members.pop()]
        rows = self.rows_of(member)
        if not all(rows.holds(sheet_key, k) for sheet_key, keys in shared.items() for k in keys):
            return None
        lacks = any(not rows.holds(sheet_key, k) for sheet_key, known in self.positions.items() for k in known)
        return member if lacks else None

    def packet_plan(self, member: str, rows: PacketRows) -> Plan:
        """The packet's plan: the rows it holds, in the master's order, plus the member's steps that have no
        ID (they cannot be matched, but the member should still see them)."""
        records: dict[str, list[Record]] = {}
        for key, by_key in self.positions.items():
            picked: list[int] = []
            for held in (rows.own.get(key), rows.context.get(key)):
                for k in held or ():
                    picked += by_key.get(k, ())
            if key == "steps":
                picked += self.unkeyed_steps.get(member_key(member), ())
            sheet_rows = self.plan.rows(key)
            records[key] = [replace(sheet_rows[i], values=dict(sheet_rows[i].values)) for i in sorted(set(picked))]
        return Plan(coalition=dict(self.plan.coalition), records=records)


def packet_held(base: Plan, plan: Plan) -> str | None:
    """:meth:`PacketIndex.member_holding` of ``base`` for ``plan``, told at once for most full copies: those whose
    action steps name two members (blank Responsible cells aside, a member may leave one blank on a step they add)
    hold rows of two packets."""
    named = None
    for rec in plan.rows("steps"):
        if not is_blank(rec.get("responsible")):
            key = member_key(rec.get("responsible"))
            if named is not None and key != named:
                return None
            named = key
    return PacketIndex(base).member_holding(plan)


def build_packets(plan: Plan) -> list[Packet]:
    """One packet per member named on the action steps, in order of first appearance; ``NO_ONE`` last."""
    with collector_paused():  # each packet adds a score of small containers, none in a cycle
        index = PacketIndex(plan)
        packets = []
        for member in index.ordered_members():
            rows = index.rows_of(member)
            packets.append(Packet(member, index.packet_plan(member, rows), rows))
    # (They live until they are written: the pause handed them to the oldest generation as it ended, so that at
    # 5,000 members no collection walks them all as soon as the collector is back on.)
    return packets


def packet_file_name(member: str, taken: set[str]) -> str:
    """A file name for the member's packet that every OS accepts and that no other packet uses."""
    text = NO_ONE_FILE if member_key(member) == member_key(NO_ONE) else member
    text = unicodedata.normalize("NFC", text)
    stem = _UNSAFE.sub("_", text)
    stem = " ".join(stem.split()).strip(" .")[:MAX_FILE_STEM].strip(" .") or "member"
    if stem.split(".")[0].upper() in _RESERVED:
        stem = f"_{stem}"
    candidate, n = stem, 1
    while f"{candidate}.xlsx".casefold() in taken:
        n += 1
        candidate = f"{stem} ({n})"
    taken.add(f"{candidate}.xlsx".casefold())
    return f"{candidate}.xlsx"


def make_packets(
    plan_path: Path, out_dir: Path, *, by: str = "responsible", force: bool = False, jobs: int | None = None
) -> list[Path]:
    """Write one packet per responsible member of the plan in ``plan_path`` into ``out_dir``.

    Returns the packets written, in the order of :func:`build_packets`. Nothing is written when any
    packet would overwrite a file (without ``force``) or the plan has no action steps.
    """
    return [path for _packet, path in write_packets(plan_path, out_dir, by=by, force=force, jobs=jobs)[1]]


def write_packets(
    plan_path: Path,
    out_dir: Path,
    *,
    by: str = "responsible",
    force: bool = False,
    check_also: Callable[[Plan, Sequence[tuple[Packet, Path]]], None] | None = None,
    jobs: int | None = None,
) -> tuple[Plan, list[tuple[Packet, Path]]]:
    """:func:`make_packets`, returning the plan read and each packet with its file. ``check_also`` is called
    with both before anything is written, to refuse other outputs (the drafts) up front. The packets are
    written ``jobs`` at a time in processes of their own (default: one per core), as the folder audit does."""
    from ..audit.reader import read_plan

    if by not in BY_CHOICES:
        raise UsageError(f"packets can be made by {', '.join(BY_CHOICES)}, not {by!r}; use --by responsible")
    plan_path, out_dir = Path(plan_path), Path(out_dir)
    plan = read_plan(plan_path).plan
    packets = build_packets(plan)
    if not packets:
        steps = schema.sheet("steps").name
        raise UsageError(f"{plan_path.name} has no action steps, so there is nothing to send; fill in {steps} first")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} is a file; give a folder for the packets with -o")
    out_dir.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    targets = [out_dir / packet_file_name(p.member, taken) for p in packets]
    for target in targets:
        check_output(target, force=force, inputs=(plan_path,))
    if check_also is not None:
        check_also(plan, list(zip(packets, targets, strict=True)))
    master_fingerprint = plan_fingerprint(plan)
    made = dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")
    send_to = _send_to(plan)
    tasks = [
        (packet, target, PacketIdentity(packet.member, master_fingerprint, plan_path.name, made), send_to, force)
        for packet, target in zip(packets, targets, strict=True)
    ]
    # Forked workers inherit the packets: none is pickled to a worker (a 10,000-step plan's 40 packets are 8 MB).
    with Workers[None](len(tasks), jobs) as workers:
        workers.each(lambda index: _write_packet(tasks[index]))
    return plan, list(zip(packets, targets, strict=True))


def _write_packet(task: tuple[Packet, Path, PacketIdentity, str, bool]) -> None:
    """Write one packet (a top-level function: it runs in the pool's processes)."""
    from ..workbook.generate import SPARE_ROWS, write_plan_workbook

    packet, target, identity, send_to, force = task
    steps = sorted(packet.rows.own.get("steps", set()), key=_id_order)

    def add_sheet(book: Any, fm: Any) -> None:
        _write_packet_sheet(book, fm, identity, steps, send_to)
        _write_base_sheet(book, packet)

    write_plan_workbook(
        target,
        packet.plan,
        rows=max(len(packet.plan.rows(s.key)) for s in schema.SHEETS) + SPARE_ROWS,
        force=force,
        context_rows=packet.rows.context,
        extra_sheets=add_sheet,
    )


def _write_base_sheet(book: Any, packet: Packet) -> None:
    """The very hidden ``schema.PACKET_BASE_SHEET``: a fingerprint of each cell of the member's rows as cut."""
    from ..workbook.generate import check

    ws = book.add_worksheet(schema.PACKET_BASE_SHEET)
    ws.very_hidden()
    for col, header in enumerate(schema.PACKET_BASE_HEADERS):
        check(ws.write_string(0, col, header), "packet base header")
    row = 1
    for sheet_key, own in packet.rows.own.items():  # the rows the member updates (the others are context)
        sheet = schema.sheet(sheet_key)
        columns = compared_columns(sheet)
        for rec in packet.plan.rows(sheet_key):
            key = row_key(sheet, rec)
            if key is None or key not in own:
                continue
            cut = " ".join(f"{c.key}={cell_fingerprint(rec.get(c.key))}" for c in columns)
            for col, text in enumerate((sheet_key, key, cut)):
                check(ws.write_string(row, col, text), "packet base")
            row += 1


PacketBase = dict[tuple[str, str], dict[str, str]]  # (sheet key, row key) -> column key -> fingerprint as cut


def packet_base(cells: Any) -> PacketBase:
    """What a returned packet's ``schema.PACKET_BASE_SHEET`` says (its cells as read, ``SheetCells``): (sheet key,
    row key) -> column key -> fingerprint. Empty when the sheet is missing or not as written."""
    base: PacketBase = {}
    if cells is None:
        return base
    rows = cells.plain_rows()
    first = next(rows, None)
    if first is None or [v for _c, v in first[1]] != list(schema.PACKET_BASE_HEADERS):
        return base
    for _r, items in rows:
        values = [v for _c, v in items]
        if len(values) == len(schema.PACKET_BASE_HEADERS) and all(isinstance(v, str) for v in values):
            sheet_key, key, cut = values
            base[(sheet_key, key)] = dict(pair.partition("=")[::2] for pair in cut.split())
    return base


def _send_to(plan: Plan) -> str:
    """Who the packet goes back to, from the Coalition sheet: "Name (email)", either alone, or ""."""
    name = " ".join(str(written(plan.coalition.get("coordinator")) or "").split())
    email = str(written(plan.coalition.get("coordinator_email")) or "").strip()
    return f"{name} ({email})" if name and email else name or email


def _write_packet_sheet(book: Any, fm: Any, identity: PacketIdentity, steps: Sequence[str], send_to: str) -> None:
    from ..workbook.generate import check

    for name, value in (
        (schema.PROP_PACKET_MEMBER, identity.member),
        (schema.PROP_PACKET_MASTER, identity.master_fingerprint),
        (schema.PROP_PACKET_MASTER_FILE, identity.master_file),
        (schema.PROP_PACKET_MADE, identity.made),
    ):
        check(book.set_custom_property(name, value[:PROPERTY_LIMIT] or "-", "text"), f"the property {name}")
    ws = book.add_worksheet(schema.PACKET_SHEET)
    check(ws.set_column(0, 0, 24, fm.bold), "packet label column")
    check(ws.set_column(1, 1, 80, fm.wrap), "packet value column")
    check(ws.write_string(0, 0, f"{schema.PACKET_SHEET}: {identity.member}", fm.title), "packet title")
    steps_sheet = schema.sheet("steps").name
    values = (
        identity.member,
        identity.master_file,
        identity.master_fingerprint,
        identity.made,
        steps_listed(steps, steps_sheet),
    )
    for i, (label, value) in enumerate(zip(PACKET_LABELS, values, strict=True), start=2):
        check(ws.write_string(i, 0, label, fm.bold), f"packet label {label}")
        check(ws.write_string(i, 1, value, fm.wrap), f"packet value {label}")
    guidance = (
        f"Bring your rows on the {steps_sheet} sheet up to date: status, dates, notes. Add new steps in the "
        "empty rows below yours; they get a fresh ID when the coordinator merges the copies back.",
        "Grey rows on the other sheets are context: they show what your steps serve. They are not yours to "
        "change; if one is wrong, say so in a Notes cell of your step or in your email.",
        "Keep the IDs, and send this file back as .xlsx"
        + (f" to {send_to}" if send_to else "")
        + "; you may rename it. The merge matches rows by ID.",
    )
    for i, text in enumerate(guidance, start=len(PACKET_LABELS) + 3):
        check(ws.merge_range(i, 0, i, 1, "", fm.wrap), "packet guidance")
        check(ws.write_string(i, 0, text, fm.wrap), "packet guidance")
        check(ws.set_row(i, 45), "packet guidance height")


def steps_listed(steps: Sequence[str], sheet_name: str) -> str:
    """The member's step IDs as the packet sheet lists them: all of them when they fit in a cell (Excel holds
    32,767 characters there), else as many as fit and how many more there are."""
    text = ", ".join(steps)
    if cell_length(text) <= MAX_CELL_TEXT:
        return text or "none yet"
    room = MAX_CELL_TEXT - 200  # (for the note on the rest)
    shown: list[str] = []
    for step in steps:
        room -= cell_length(step) + 2
        if room < 0:
            break
        shown.append(step)
    rest = len(steps) - len(shown)
    return f"{', '.join(shown)} and {rest:,} more (every row of the {sheet_name} sheet that is not grey)"


def _id_order(key: str) -> tuple[int, str]:
    digits = key.partition("-")[2]
    return (int(digits), key) if digits.isdigit() else (1 << 30, key)


def _ref_key(value: Any, parent: str) -> str | None:
    return ref_key(value, schema.sheet(parent))


def read_packet_identity(path: Path) -> PacketIdentity | None:
    """What a workbook says about being a packet: from its properties, else its packet sheet; None if neither."""
    return packet_identity(path, custom_properties(path), lambda: sheet_names(path))


def packet_identity(path: Path, props: dict[str, str], names: Callable[[], list[str]]) -> PacketIdentity | None:
    """:func:`read_packet_identity` from the custom properties and the sheet names (asked for only when the
    properties do not tell) of a workbook already read; only a packet sheet without the properties is read again."""
    member = props.get(schema.PROP_PACKET_MEMBER)
    if member:
        return PacketIdentity(
            member,
            props.get(schema.PROP_PACKET_MASTER, ""),
            props.get(schema.PROP_PACKET_MASTER_FILE, ""),
            props.get(schema.PROP_PACKET_MADE, ""),
        )
    if schema.PACKET_SHEET not in names():
        return None
    labels = _packet_sheet_values(path)
    if not labels.get(LABEL_MEMBER):
        return None
    return PacketIdentity(
        labels[LABEL_MEMBER],
        labels.get(LABEL_MASTER, ""),
        labels.get(LABEL_MASTER_FILE, ""),
        labels.get(LABEL_MADE, ""),
    )


def _packet_sheet_values(path: Path) -> dict[str, str]:
    import openpyxl

    from ..xlsx.guard import open_package

    open_package(path).close()  # the guard's checks, before openpyxl parses anything
    with warnings.catch_warnings():  # openpyxl warns about parts it does not keep; only values matter here
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[schema.PACKET_SHEET]
        out: dict[str, str] = {}
        for row in ws.iter_rows(min_row=1, max_row=len(PACKET_LABELS) + 5, max_col=2, values_only=True):
            if len(row) >= 2 and isinstance(row[0], str) and row[0].strip() in PACKET_LABELS:
                out[row[0].strip()] = "" if row[1] is None else str(row[1]).strip()
        return out
    finally:
        book.close()
