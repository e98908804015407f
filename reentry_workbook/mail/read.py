"""Workbooks that came back by mail: read .eml files and mbox mailboxes, and save each workbook attachment.

A message is walked part by part, forwarded messages (``message/rfc822``) included. Every attachment named
like a spreadsheet (or typed as a workbook) is a *return*: it is saved under a safe, unique name in the
folder the caller gives, then checked by the same guard as a file (:func:`xlsx.guard.open_package`: size,
zip bombs, path tricks), and labelled with the sender, the message date and the attachment's name. A message
with no workbook attached is reported as such, not as an error. Limits are checked before anything is
decoded: the message's size, the size an attachment declares, the size its encoded text implies, and how
many parts and levels of nesting the message has.

Outlook's ``.msg`` files are OLE compound files, not MIME; the only well-kept Python reader of them
(extract-msg) is GPL-licensed, which this MIT project cannot take on, so a ``.msg`` gets one line saying how
to save its attachment instead.
"""

from __future__ import annotations

import datetime as dt
import email
import email.errors
import email.policy
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import Message as _EmailMessage
from pathlib import Path

from ..errors import ReentryWorkbookError
from ..xlsx.guard import open_package
from ..xlsx.limits import MAX_FILE_BYTES, MB
from .kinds import MBOX_START as _MBOX_START
from .kinds import MBOX_SUFFIX, OUTLOOK_SUFFIX
from .kinds import is_mail as is_mail  # where the cycle's commands find it beside read_mail
from .names import safe_name, unique_name

WORKBOOK_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm")
# Spreadsheets a member may send back by mistake: they are returns too, and the guard says what to do.
OTHER_SPREADSHEET_SUFFIXES: tuple[str, ...] = (".xls", ".xlsb", ".ods", ".numbers")
WORKBOOK_TYPES: dict[str, str] = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
}
TNEF_TYPE = "application/ms-tnef"  # Outlook's winmail.dat: its attachments cannot be read here

MAX_MESSAGE_BYTES = 150 * MB  # one message (mail servers refuse far smaller ones)
MAX_PARTS = 1000  # MIME parts in one message
MAX_DEPTH = 20  # levels of nested multiparts and forwarded messages
MAX_BOUNDARIES = 200  # multipart boundaries one message declares (counted before parsing: parsing nests slowly)
LINE_LIMIT = 1 << 20  # bytes read at once while splitting a mailbox

_ESCAPED_FROM = re.compile(rb"^>+From ")
_STRUCTURE_DEFECTS = (
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
)
# What the standard library's header parser can raise on hostile headers.
_HEADER_ERRORS = (ValueError, IndexError, TypeError, AttributeError, LookupError, email.errors.MessageError)
_SEND_AGAIN = "ask the sender to attach the workbook to a new message"


class _Damaged(Exception):
    """The message cannot be walked (nested too deep, too many parts)."""


@dataclass(frozen=True)
class Sender:
    name: str
    address: str

    @property
    def label(self) -> str:
        """``Name <address>``, or whichever of the two is known."""
        if self.name and self.address:
            return f"{self.name} <{self.address}>"
        return self.name or self.address


@dataclass(frozen=True)
class Message:
    """One message of a mail file: where it is, who sent it, when, and about what."""

    source: Path  # the .eml, .mbox or .msg file
    number: int = 0  # position in a mailbox (from 1); 0 for a file holding one message
    sender: Sender | None = None
    date: dt.datetime | None = None  # always timezone-aware
    subject: str = ""

    @property
    def where(self) -> str:
        return f"{self.source.name}, message {self.number}" if self.number else self.source.name


@dataclass
class Found:
    """A workbook attached to a message, or a message that yields none, with why."""

    message: Message
    name: str = ""  # the attachment's safe name as saved (numbered when the folder had it); "" when none
    attached_as: str = ""  # the attachment's safe name, not numbered: how to call it
    path: Path | None = None  # the saved attachment, once it passed the guard
    reason: str | None = None  # why it cannot be used (one sentence)
    note: str = ""  # what to know: no workbook attached, the name was made safe, forwarded


def read_mail(paths: Sequence[Path], folder: Path) -> list[Found]:
    """Every workbook attached to the messages in ``paths`` (.eml, .mbox, .msg), saved into ``folder``, and
    every message without one; in the order of the files and of the messages in each."""
    taken = {p.name.casefold() for p in folder.iterdir()}
    found: list[Found] = []
    for path in paths:
        found.extend(_read_file(Path(path), folder, taken))
    return found


def _read_file(path: Path, folder: Path, taken: set[str]) -> Iterator[Found]:
    shown = _printable(path.name)
    bare = Message(path)
    if path.suffix.lower() == OUTLOOK_SUFFIX:
        yield Found(
            bare,
            reason=f"{shown} is an Outlook message (.msg), which cannot be read here; open it in Outlook, save the "
            "attached workbook (right-click it > Save As) beside the other returns and give that file instead",
        )
        return
    try:
        size = path.stat().st_size
        if path.suffix.lower() == MBOX_SUFFIX or _starts_like_mbox(path):
            messages = list(_mbox_messages(path))
            if not messages:
                yield Found(bare, reason=f"{shown} is not a mailbox (mbox) file; export the mail folder again")
                return
        elif size > MAX_MESSAGE_BYTES:
            messages = [(0, None)]
        else:
            messages = [(0, path.read_bytes())]
    except OSError as exc:
        yield Found(bare, reason=f"{shown} cannot be read ({exc.strerror or 'error'}); check the path and try again")
        return
    for number, data in messages:
        if data is None:
            where = Message(path, number).where
            yield Found(
                Message(path, number),
                reason=f"{where} is larger than {MAX_MESSAGE_BYTES // MB} MB, more than any mail server carries, "
                "so it was not opened",
            )
            continue
        yield from _read_message(data, path, number, folder, taken)


def _starts_like_mbox(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(_MBOX_START)) == _MBOX_START


def _mbox_messages(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """(number, bytes) of each message in a mailbox; bytes None for one over ``MAX_MESSAGE_BYTES``. A message
    starts at a line beginning with "From "; lines escaped as ">From " (mboxrd) get their ">" back."""
    number = 0
    chunks: list[bytes] | None = None
    size, over, line_start = 0, False, True
    with path.open("rb") as fh:
        while line := fh.readline(LINE_LIMIT):
            if line_start and line.startswith(_MBOX_START):
                if chunks is not None:
                    yield number, None if over else b"".join(chunks)
                number += 1
                chunks, size, over = [], 0, False
            elif chunks is not None and not over:
                if line_start and _ESCAPED_FROM.match(line):
                    line = line[1:]
                size += len(line)
                over = size > MAX_MESSAGE_BYTES
                if over:
                    chunks = []
                else:
                    chunks.append(line)
            line_start = line.endswith(b"\n")
    if chunks is not None:
        yield number, None if over else b"".join(chunks)


def _read_message(data: bytes, source: Path, number: int, folder: Path, taken: set[str]) -> Iterator[Found]:
    if data.lower().count(b"boundary=") > MAX_BOUNDARIES:
        where = Message(source, number).where
        yield Found(
            Message(source, number), reason=f"{where} has more than {MAX_BOUNDARIES} nested parts; {_SEND_AGAIN}"
        )
        return
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except RecursionError:  # the standard parser recurses once per level of nesting
        where = Message(source, number).where
        yield Found(Message(source, number), reason=f"{where} nests its parts thousands of levels deep; {_SEND_AGAIN}")
        return
    message = Message(source, number, _sender(msg), _date(msg), _text_header(msg, "Subject"))
    if not msg.keys():
        yield Found(message, reason=f"{message.where} is not an email message (it has no headers)")
        return
    try:
        leaves = list(_leaves(msg, 0, None, [0]))
    except _Damaged as exc:
        yield Found(message, reason=f"{message.where} {exc}; {_SEND_AGAIN}")
        return
    returns = 0
    others: list[str] = []
    for part, forwarded in leaves:
        name, kind = _classify(part)
        if kind == "workbook":
            returns += 1
            yield _save(part, name, message, forwarded, folder, taken)
        elif kind == "tnef":
            returns += 1
            yield Found(
                message,
                name=name,
                reason=f"{message.where} carries its attachments in Outlook's winmail.dat, which cannot be read "
                "here; ask the sender to send the workbook again from Outlook as an attachment in HTML or "
                "plain-text format",
            )
        elif name:
            others.append(name)
    if returns:
        return
    if any(isinstance(d, _STRUCTURE_DEFECTS) for part in msg.walk() for d in part.defects):
        damaged = f"{message.where} has a damaged MIME structure, so no attachment could be found"
        yield Found(message, reason=f"{damaged}; {_SEND_AGAIN}")
        return
    held = f" (it holds {', '.join(_printable(n) for n in others[:5])})" if others else ""
    yield Found(message, note=f"no workbook attached{held}")


def _leaves(
    part: _EmailMessage, depth: int, forwarded: Sender | None, count: list[int]
) -> Iterator[tuple[_EmailMessage, Sender | None]]:
    """Every leaf part with the sender of the forwarded message it sits in (None outside any)."""
    if depth > MAX_DEPTH:
        raise _Damaged(f"nests its parts more than {MAX_DEPTH} levels deep, as no mail program does")
    count[0] += 1
    if count[0] > MAX_PARTS:
        raise _Damaged(f"has more than {MAX_PARTS} parts, as no mail program writes")
    if not part.is_multipart():
        yield part, forwarded
        return
    payload = part.get_payload()
    inner = part.get_content_maintype() == "message"
    for sub in payload if isinstance(payload, list) else []:
        if isinstance(sub, _EmailMessage):  # (a multipart's payload is its parts)
            yield from _leaves(sub, depth + 1, (_sender(sub) or forwarded) if inner else forwarded, count)


def _classify(part: _EmailMessage) -> tuple[str, str]:
    """(the part's file name, what it is: "workbook", "tnef", "other" or "" for a body text)."""
    try:
        name = part.get_filename() or ""
        ctype = part.get_content_type()
    except _HEADER_ERRORS:
        return "", ""
    suffix = Path(name.replace("\\", "/")).suffix.lower() if name else ""
    if ctype == TNEF_TYPE or name.lower() == "winmail.dat":
        return name or "winmail.dat", "tnef"
    if suffix in WORKBOOK_SUFFIXES or suffix in OTHER_SPREADSHEET_SUFFIXES:
        return name, "workbook"
    if ctype in WORKBOOK_TYPES and not suffix:
        return (name or "attachment") + WORKBOOK_TYPES[ctype], "workbook"
    return name, "other" if name else ""


def _save(
    part: _EmailMessage, raw_name: str, message: Message, forwarded: Sender | None, folder: Path, taken: set[str]
) -> Found:
    safe = safe_name(raw_name, "attachment.xlsx")
    name = unique_name(safe, taken)
    found = Found(message, name=name, attached_as=safe)
    notes = []
    if forwarded is not None:
        notes.append(f"forwarded, first sent by {forwarded.label}")
    if safe != raw_name:
        notes.append(f"attached as {_printable(raw_name)!r}, saved as {safe!r}")
    found.note = "; ".join(notes)
    too_large = (
        f"{name} in {message.where} is larger than {MAX_FILE_BYTES // MB} MB, far more than a plan workbook needs, "
        "so it was not opened; ask the sender to remove large pictures and send it again"
    )
    declared = _declared_size(part)
    encoded = part.get_payload()
    if (declared or 0) > MAX_FILE_BYTES or (isinstance(encoded, str) and len(encoded) * 3 // 4 > MAX_FILE_BYTES):
        found.reason = too_large
        return found
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        found.reason = f"{name} in {message.where} is empty or damaged; {_SEND_AGAIN}"
        return found
    path = folder / name
    with path.open("xb") as fh:  # never over another file
        fh.write(data)
    try:
        open_package(path).close()
    except ReentryWorkbookError as exc:
        path.unlink()
        found.reason = str(exc).rstrip(".")
        return found
    found.path = path
    return found


def _declared_size(part: _EmailMessage) -> int | None:
    """The ``size`` a Content-Disposition declares (RFC 2183), if any."""
    try:
        value = part.get_param("size", header="content-disposition")
    except _HEADER_ERRORS:
        return None
    text = str(value).strip() if isinstance(value, str) else ""
    return int(text) if text.isdigit() else None


def _sender(msg: _EmailMessage) -> Sender | None:
    try:
        header = msg["From"]
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        if addresses:
            first = addresses[0]
            return Sender(_printable(first.display_name), _printable(first.addr_spec))
        text = _printable(str(header or ""))
    except _HEADER_ERRORS:
        return None
    return Sender(text, "") if text else None


def _date(msg: _EmailMessage) -> dt.datetime | None:
    try:
        header = msg["Date"]
        when = getattr(header, "datetime", None)
    except _HEADER_ERRORS:
        return None
    if not isinstance(when, dt.datetime):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _text_header(msg: _EmailMessage, name: str) -> str:
    try:
        return _printable(str(msg[name] or ""))
    except _HEADER_ERRORS:
        return ""


def _printable(text: str) -> str:
    """On one line, without control characters (message text is shown on the terminal and in sheets)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
