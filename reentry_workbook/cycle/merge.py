"""Fold returned copies (member packets or edited full copies) back into the master, three-way by row key.

The master is read once; each return is read (on every core, a return per worker at a time) and sorted against
the master as it is read, so that only what it sends is kept (:func:`merge_read.read_once`); then the decisions are
made (:mod:`merge_decisions`: applied, conflict, added, flagged as deleted, not applied) and logged, per file, in
the ``schema.MERGE_LOG_SHEET`` sheet, conflicts in the ``schema.MERGE_CONFLICTS_SHEET`` sheet. The merge is
written into a copy of the master, or the master itself with ``in_place`` (:mod:`merge_layout`,
:mod:`merge_master`, :mod:`merge_write`): only the changed cells, the added rows and the two merge sheets are
written, so the coordinator's own sheets, columns and decorations survive. The returns are only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..audit.known_rows import KnownRows
from ..errors import ReentryWorkbookError, UsageError
from ..plan import schema
from ..xlsx.atomic import check_output
from ..xlsx.bulk import collector_paused
from .merge_decisions import OWN_SHEETS, Merge, Return, Sorted, unreadable_cells
from .merge_layout import LayoutReading, SlotIds, read_lists
from .merge_master import master_changes
from .merge_model import NOT_MERGED, NOTE, LogEntry, MergeResult, Origin, ReturnedCopy
from .merge_read import read_once
from .merge_write import edit_master, write_merge_sheets_into
from .packets import PacketIdentity, packet_base, packet_held, packet_identity, packet_rows
from .roundtrip import extra_sheets
from .workers import Background, Workers


@dataclass
class _NotRead:
    """A return found in a folder or in mail that cannot be read as a plan: why (the error's one line)."""

    why: str


_Read = Return | _NotRead


def _read_or_leave(state: Merge, copies: Sequence[ReturnedCopy], slot_ids: dict[str, SlotIds], index: int) -> _Read:
    """:func:`_read_return`, or why it cannot be read when the return was not named by itself (see
    :attr:`ReturnedCopy.named`)."""
    try:
        return _read_return(state, copies, slot_ids, index)
    except ReentryWorkbookError as exc:
        if copies[index].named:
            raise
        return _NotRead(str(exc).rstrip("."))


def _read_return(
    state: Merge, copies: Sequence[ReturnedCopy], slot_ids: dict[str, SlotIds], index: int
) -> Return:
    """Return ``index`` read once and sorted against the master: what the merge keeps of it (``slot_ids``: the IDs
    of the master's blank pre-formatted rows)."""
    copy = copies[index]
    found = read_once(copy.path, state.known, extra=(schema.PACKET_BASE_SHEET,))
    plan = found.read.plan
    names = found.sheet_names
    packet = packet_identity(copy.path, found.properties, lambda: names)
    if packet is None and (member := packet_held(state.base, plan)) is not None:
        packet = PacketIdentity(member, inferred=True)
    origin = _origin(copy, packet.member if packet else None)
    rows = packet_rows(state.base, packet.member) if packet else None
    unreadable = unreadable_cells(plan, found.read.findings)
    extra = extra_sheets(names)
    base = packet_base(found.read.extra.get(schema.PACKET_BASE_SHEET)) if packet else None
    del found  # the reader's findings and sheets: only the plan is sorted
    sorted_ = state.sort(plan, rows, unreadable, slot_ids, base)
    if base:  # kept for the rows the return changed only: a large plan's packets hold thousands of rows each
        base = {k: cut for k, cut in base.items() if k[1] in sorted_.changed.get(k[0], {})}
    return Return(index, copy.path, origin, packet, rows, dict(plan.coalition), unreadable, extra, sorted_, base=base)


def _origin(copy: ReturnedCopy, member: str | None = None) -> Origin:
    return Origin(copy.label or copy.path.name, member, copy.sender, copy.date)


def _inferred_note(member: str) -> str:
    """What the Merge Log says of a return read as a member's packet although it does not say it is one."""
    return (
        f"it does not say it is a packet (its packet properties and {schema.PACKET_SHEET!r} sheet are gone), but "
        f"every row it shares with the master is in {member}'s packet and it lacks the rest: read as that packet, "
        "so the rows it leaves out are not flagged as deleted"
    )


@collector_paused()
def merge(
    master: Path,
    returns: Sequence[Path | ReturnedCopy],
    out: Path | None = None,
    *,
    in_place: bool = False,
    force: bool = False,
    not_merged: Sequence[tuple[Origin, str]] = (),
    jobs: int | None = None,
) -> MergeResult:
    """Merge the returned copies into the master workbook, written to ``out`` or, with ``in_place``, into the
    master itself after keeping a backup beside it. ``not_merged`` lists what came back but is not merged
    (who, why: superseded, no workbook attached), for the Merge Log. The returns are read on up to ``jobs`` cores
    (default: every one). A return whose plan cannot be read stops the merge, unless it was not named by itself
    (:attr:`ReturnedCopy.named`): it is then left out and listed (:attr:`MergeResult.not_read`).

    The master's own sheets, columns, pictures, comments, formats and properties are kept: only the cells the
    merge changes, the rows it adds and the ``Merge Conflicts`` and ``Merge Log`` sheets are written (see
    docs/round-trips.md for the parts that may change). The returns are only read.
    """
    from ..audit.pipeline import keep_backup
    from ..audit.reader import read_book
    from ..errors import TemplateMismatchError
    from ..xlsx.cells import open_workbook
    from ..xlsx.guard import open_package
    from ..xlsx.identity import check_extension, identify_zip
    from ..xlsx.opc import Package

    master = Path(master)
    copies = [r if isinstance(r, ReturnedCopy) else ReturnedCopy(Path(r)) for r in returns]
    if not copies:
        raise UsageError("name at least one returned copy to merge into the master")
    if in_place and out is not None:
        raise UsageError("--in-place and -o both name where to write; use one of them")
    if not in_place and out is None:
        raise UsageError("name the merged workbook with -o, or merge into the master with --in-place")
    seen: set[Path] = set()
    for path in (master, *(c.path for c in copies)):
        if path.resolve() in seen:
            raise UsageError(f"{path.name} is named twice; give each returned copy once, and not the master again")
        seen.add(path.resolve())
    target = master if in_place else Path(out or master)
    # The master is opened once here: its plan, the layout of its sheets and its parts (for the write) all come from
    # that one opening; its Lists sheet is read in a process of its own meanwhile (see merge_layout.read_lists).
    with open_package(master) as zf:
        if not in_place:
            # The merged master keeps the master's package kind: judged by its content type, as every command does.
            check_extension(target, identify_zip(zf).extension, source=master)
            check_output(target, force=force, inputs=(master, *(c.path for c in copies)))
        with Background(partial(read_lists, master), jobs) as lists, Workers[_Read](len(copies), jobs) as workers:
            reading = LayoutReading(master, zf)
            book = open_workbook(zf, label=master.name)
            known = KnownRows()
            try:
                base = read_book(book, master, remember=known, sheet_read=reading.sheet).plan
            except TemplateMismatchError as exc:
                raise TemplateMismatchError(
                    f"{str(exc).rstrip('.')} (the master cannot be merged in place as it is; if it was made by an "
                    "older template, bring it up to date with `reentry-workbook upgrade` first)."
                ) from None
            finally:
                book.close()
            reading.check(base)
            state = Merge(base, known)
            del known
            # Each return is read and sorted against the master in turn (on every core), and only what it sends is kept.
            # The workers start now, holding the master's plan, its blank rows' IDs and the columns its formulas read
            # (a worker's peak is that plus one return as read; no thread of this process is running, so none leaves
            # its memory behind in them), and read while the master's package and the rest of its layout are read here
            # (its defined names, its tabs and the Lists sheet's formulas, from the process that read them).
            workers.start(partial(_read_or_leave, state, copies, reading.layout.slot_ids(state.base_index)))
            if workers.in_processes:
                state.known = None  # the workers have it; the write that follows needs memory more
            package = Package.of(master, zf)
            book = open_workbook(zf, label=master.name)
            try:
                layout = state.layout = reading.finish(book, package, lists.result())
            finally:
                book.close()
            read = workers.results()
    rets = [r for r in read if isinstance(r, Return)]
    not_read = [(_origin(copy), r.why) for copy, r in zip(copies, read, strict=True) if isinstance(r, _NotRead)]
    if not rets:
        origin, why = not_read[0]
        raise UsageError(f"none of the returns can be read as a plan ({origin.file}: {why})")
    state.reserve_ids(rets)
    master_origin = Origin(master.name)
    for name in extra_sheets(layout.tabs):
        if name not in OWN_SHEETS:
            note = f"the master's sheet {name!r} is not part of the plan; it is kept as it is"
            state.log.append(LogEntry(master_origin, NOTE, note=note))
    inferred = [ret.origin for ret in rets if ret.packet is not None and ret.packet.inferred]
    for ret in rets:
        state.take(ret)
        if ret.packet is not None and ret.packet.inferred:
            state.log.append(LogEntry(ret.origin, NOTE, note=_inferred_note(ret.packet.member)))
        ret.sorted = Sorted()  # taken: what it sent lives on in the merge's log, issues and pending changes
    state.resolve()
    order = {r.origin: i for i, r in enumerate(rets)}
    log = sorted(state.log, key=lambda e: order.get(e.origin, -1))
    log += [LogEntry(origin, NOT_MERGED, note=why) for origin, why in [*not_read, *not_merged]]
    result = MergeResult(target, state.merged, [r.origin for r in rets], log, state.issues)
    result.read_as_packets, result.not_read = inferred, not_read
    changes = master_changes(layout, state.merged, state.applied, state.placed)
    # What the returns sent, the master's plan as read and its cells are done with: let them go before the master
    # is written (large plans, many copies).
    del state, rets, layout, base, book

    if in_place:
        result.backup = keep_backup(master)
    edited = edit_master(package, changes)
    del package, changes  # the edited package holds what is written
    write_merge_sheets_into(edited, result, target)
    return result
