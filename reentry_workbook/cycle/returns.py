"""The returns of a cycle as merge takes them: workbook files as given, and the workbooks attached to mail
(.eml, .mbox, folders holding them), each labelled with who sent it and when.

When one sender sent several returns of the same packet (or several full copies), the latest by message
date is merged and the others are *superseded*: listed, not merged. A message with no workbook attached,
and an attachment the guard refuses, are listed too, as is a workbook found in a folder or in mail whose plan the
merge cannot read (:attr:`merge_model.ReturnedCopy.named`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import UsageError
from ..mail.read import Found, is_mail, read_mail
from .merge_model import MergeResult, Origin, ReturnedCopy
from .packets import member_key, read_packet_identity

FULL_COPY = "(full copy)"


@dataclass(frozen=True)
class Arrived:
    """One return to merge: the workbook, its name, and for mail who sent it and when."""

    path: Path
    label: str  # the file's or the attachment's name
    sender: str | None = None  # "Name <address>"
    address: str | None = None
    date: dt.datetime | None = None
    note: str = ""
    named: bool = False  # a workbook named by itself, not found in a folder or in mail (ReturnedCopy.named)


@dataclass(frozen=True)
class Left:
    """Something that came back but is not merged, and why."""

    label: str
    sender: str | None
    date: dt.datetime | None
    why: str
    unusable: bool = False  # refused (damaged, hostile); False for superseded returns and messages without one


@dataclass
class Gathered:
    returns: list[Arrived] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # about the folders (a return open on someone's machine)

    @property
    def unusable(self) -> list[Left]:
        return [x for x in self.left if x.unusable]


def merge_returns(
    master: Path,
    paths: Sequence[Path],
    out: Path | None = None,
    *,
    in_place: bool = False,
    force: bool = False,
    recursive: bool = False,
) -> tuple[MergeResult, Gathered]:
    """:func:`merge.merge` of the returns in ``paths`` (workbooks, mail, folders of them, and their subfolders with
    ``recursive``): each return labelled with its sender and message date, superseded returns and messages without
    a workbook listed in the Merge Log instead of merged."""
    import tempfile

    from .merge import merge

    with tempfile.TemporaryDirectory(prefix="rw-mail-") as tmp:
        not_returns = (master, *((out,) if out else ()))
        gathered = gather_returns(paths, lambda: Path(tmp), not_returns=not_returns, recursive=recursive)
        if not gathered.returns:
            said = f" ({gathered.left[0].label}: {gathered.left[0].why})" if gathered.left else ""
            raise UsageError(f"none of the returns holds a workbook to merge{said}; give the returned workbooks")
        copies = [ReturnedCopy(r.path, r.label, r.sender, r.date, named=r.named) for r in gathered.returns]
        left = [(Origin(x.label, None, x.sender, x.date), x.why) for x in gathered.left]
        result = merge(master, copies, out, in_place=in_place, force=force, not_merged=left)
    gathered.left += [Left(o.file, o.sender, o.date, why, unusable=True) for o, why in result.not_read]
    return result, gathered


def gather_returns(
    paths: Sequence[Path], folder: Callable[[], Path], not_returns: Sequence[Path] = (), recursive: bool = False
) -> Gathered:
    """The returns in ``paths`` (workbooks, mail, folders of them), mail attachments saved into ``folder()``
    (called once, when the first mail is met); superseded returns moved to ``left``.

    In a folder, ``not_returns`` (the master, the merged master to write) are left out, and every other spreadsheet
    (.ods, .xls, .csv, ...) is listed in ``left`` with why it cannot be merged, never passed over in silence. A file
    named by itself is a return whatever it is (the merge says what is wrong with it)."""
    from ..audit.inputs import expand_inputs
    from ..errors import ReentryWorkbookError
    from ..xlsx.guard import open_package
    from ..xlsx.identity import WORKBOOK_EXTENSIONS

    gathered = Gathered()
    saved_to: Path | None = None
    given = {Path(p) for p in paths}
    skipped = {p.resolve() for p in not_returns}
    inputs = expand_inputs(paths, recursive=recursive)
    gathered.notes = inputs.notes
    for item in inputs.items:
        path = item.path
        if path not in given and path.resolve() in skipped:
            continue
        if not is_mail(path):
            if path not in given and path.suffix.lower() not in WORKBOOK_EXTENSIONS:
                try:  # an .xlsx package under another name is merged as one
                    open_package(path).close()
                except ReentryWorkbookError as exc:
                    gathered.left.append(Left(item.label, None, None, str(exc).rstrip("."), unusable=True))
                    continue
            gathered.returns.append(Arrived(path, path.name, named=path in given))
            continue
        saved_to = saved_to or folder()
        for found in read_mail([path], saved_to):
            _take(gathered, found)
    _supersede(gathered)
    _distinct_labels(gathered)
    return gathered


def _take(gathered: Gathered, found: Found) -> None:
    msg = found.message
    sender = msg.sender.label if msg.sender else None
    if found.path is not None:
        address = msg.sender.address.casefold() if msg.sender and msg.sender.address else None
        label = found.attached_as or found.name
        gathered.returns.append(Arrived(found.path, label, sender, address, msg.date, found.note))
    elif found.reason:
        gathered.left.append(Left(found.name or msg.where, sender, msg.date, found.reason, unusable=True))
    else:
        gathered.left.append(Left(msg.where, sender, msg.date, found.note))


def _supersede(gathered: Gathered) -> None:
    """Keep, of the returns one sender sent for the same packet, the latest by date (the last given on a tie)."""
    keys: list[tuple[str, str] | None] = []
    latest: dict[tuple[str, str], Arrived] = {}
    for ret in gathered.returns:
        key = None
        if ret.address is not None:
            identity = read_packet_identity(ret.path)
            key = (ret.address, member_key(identity.member) if identity else FULL_COPY)
            if key not in latest or _when(ret) >= _when(latest[key]):
                latest[key] = ret
        keys.append(key)
    kept = []
    for ret, key in zip(gathered.returns, keys, strict=True):
        newer = latest.get(key) if key is not None else None
        if newer is None or newer is ret:
            kept.append(ret)
            continue
        sent = f" sent {newer.date:%Y-%m-%d %H:%M}" if newer.date else ""
        why = f"superseded by {newer.label}{sent}, a later return from the same sender"
        gathered.left.append(Left(ret.label, ret.sender, ret.date, why))
    gathered.returns = kept


def _distinct_labels(gathered: Gathered) -> None:
    """Two returns that would read the same in the Merge Log (same name, sender and date) take their saved,
    numbered names instead."""
    seen: dict[tuple[str, str | None, dt.datetime | None], int] = {}
    for ret in gathered.returns:
        key = (ret.label, ret.sender, ret.date)
        seen[key] = seen.get(key, 0) + 1
    gathered.returns = [
        replace(r, label=r.path.name) if r.sender is not None and seen[(r.label, r.sender, r.date)] > 1 else r
        for r in gathered.returns
    ]


def _when(ret: Arrived) -> dt.datetime:
    return ret.date or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
