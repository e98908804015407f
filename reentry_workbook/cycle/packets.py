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
from ..plan.model import Plan, written
from ..xlsx.atomic import check_output
from .roundtrip import custom_properties, name_key, plan_fingerprint, ref_key, row_key, sheet_names

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
    key = member_key(member)
    steps = [r for r in plan.rows("steps") if member_key(r.get("responsible")) == key]
    rows = PacketRows()
    rows.own["steps"] = {k for r in steps if (k := row_key(schema.sheet("steps"), r))}
    stakeholders = schema.sheet("stakeholders")
    rows.own["stakeholders"] = {k for r in plan.rows("stakeholders") if (k := row_key(stakeholders, r))}
    # Walk up the chain of service, then down to the measures of the improvements met on the way.
    wanted: dict[str, set[str]] = {"steps": rows.own["steps"]}
    for child, column in schema.CHAIN:
        parent = schema.sheet(child).column(column).ref or ""
        children = [r for r in plan.rows(child) if row_key(schema.sheet(child), r) in wanted[child]]
        wanted[parent] = {ref for r in children if (ref := _ref_key(r.get(column), parent))}
    improvements = wanted["improvements"]
    measures = schema.sheet("measures")
    wanted["measures"] = {
        k
        for r in plan.rows("measures")
        if _ref_key(r.get("improvement"), "improvements") in improvements and (k := row_key(measures, r))
    }
    for sheet in schema.SHEETS:
        if sheet.key not in rows.own and sheet.key in wanted:
            existing = {k for r in plan.rows(sheet.key) if (k := row_key(sheet, r))}
            rows.context[sheet.key] = wanted[sheet.key] & existing
    return rows


def build_packets(plan: Plan) -> list[Packet]:
    """One packet per member named on the action steps, in order of first appearance; ``NO_ONE`` last."""
    members: dict[str, str] = {}
    for step in plan.rows("steps"):
        text = " ".join(str(written(step.get("responsible")) or "").split())
        members.setdefault(member_key(text), text or NO_ONE)
    ordered = sorted(members.items(), key=lambda item: item[0] == member_key(NO_ONE))
    packets = []
    for _key, member in ordered:
        rows = packet_rows(plan, member)
        packets.append(Packet(member, _packet_plan(plan, member, rows), rows))
    return packets


def _packet_plan(plan: Plan, member: str, rows: PacketRows) -> Plan:
    """The packet's plan: the rows it holds, plus the member's steps that have no ID (they cannot be matched,
    but the member should still see them)."""
    out = Plan(coalition=dict(plan.coalition))
    key = member_key(member)
    for sheet in schema.SHEETS:
        held = rows.own.get(sheet.key, set()) | rows.context.get(sheet.key, set())
        out.records[sheet.key] = [
            replace(r, values=dict(r.values))
            for r in plan.rows(sheet.key)
            if row_key(sheet, r) in held
            or (sheet.key == "steps" and r.id is None and member_key(r.get("responsible")) == key)
        ]
    return out


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


def make_packets(plan_path: Path, out_dir: Path, *, by: str = "responsible", force: bool = False) -> list[Path]:
    """Write one packet per responsible member of the plan in ``plan_path`` into ``out_dir``.

    Returns the packets written, in the order of :func:`build_packets`. Nothing is written when any
    packet would overwrite a file (without ``force``) or the plan has no action steps.
    """
    return [path for _packet, path in write_packets(plan_path, out_dir, by=by, force=force)[1]]


def write_packets(
    plan_path: Path,
    out_dir: Path,
    *,
    by: str = "responsible",
    force: bool = False,
    check_also: Callable[[Plan, Sequence[tuple[Packet, Path]]], None] | None = None,
) -> tuple[Plan, list[tuple[Packet, Path]]]:
    """:func:`make_packets`, returning the plan read and each packet with its file. ``check_also`` is called
    with both before anything is written, to refuse other outputs (the drafts) up front."""
    from ..audit.reader import read_plan
    from ..workbook.generate import SPARE_ROWS, write_plan_workbook

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
    fingerprint = plan_fingerprint(plan)
    made = dt.datetime.now().replace(microsecond=0)
    for packet, target in zip(packets, targets, strict=True):
        identity = PacketIdentity(packet.member, fingerprint, plan_path.name, made.isoformat(sep=" "))
        steps = sorted(packet.rows.own.get("steps", set()), key=_id_order)

        def add_sheet(book: Any, fm: Any, identity: PacketIdentity = identity, steps: Sequence[str] = steps) -> None:
            _write_packet_sheet(book, fm, identity, steps, _send_to(plan))

        write_plan_workbook(
            target,
            packet.plan,
            rows=max(len(packet.plan.rows(s.key)) for s in schema.SHEETS) + SPARE_ROWS,
            force=force,
            context_rows=packet.rows.context,
            extra_sheets=add_sheet,
        )
    return plan, list(zip(packets, targets, strict=True))


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
        ", ".join(steps) or "none yet",
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


def _id_order(key: str) -> tuple[int, str]:
    digits = key.partition("-")[2]
    return (int(digits), key) if digits.isdigit() else (1 << 30, key)


def _ref_key(value: Any, parent: str) -> str | None:
    return ref_key(value, schema.sheet(parent))


def read_packet_identity(path: Path) -> PacketIdentity | None:
    """What a workbook says about being a packet: from its properties, else its packet sheet; None if neither."""
    props = custom_properties(path)
    member = props.get(schema.PROP_PACKET_MEMBER)
    if member:
        return PacketIdentity(
            member,
            props.get(schema.PROP_PACKET_MASTER, ""),
            props.get(schema.PROP_PACKET_MASTER_FILE, ""),
            props.get(schema.PROP_PACKET_MADE, ""),
        )
    if schema.PACKET_SHEET not in sheet_names(path):
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
