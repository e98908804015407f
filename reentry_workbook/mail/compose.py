"""Build messages: a plain-text body with an HTML alternative, attachments with their MIME type, and headers
encoded for every mail program (RFC 2047 for names and subjects, RFC 2231 for attachment names).

A draft carries ``X-Unsent: 1``: Outlook opens such an ``.eml`` as a message ready to send; Thunderbird and
Apple Mail open it too. Messages are written with CRLF line ends, as mail is carried.
"""

from __future__ import annotations

import email.policy
import email.utils
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from ..xlsx.atomic import atomic_path

DRAFT_HEADER = "X-Unsent"
POLICY = email.policy.SMTP  # RFC-compliant headers (no raw UTF-8), CRLF line ends
ATTACHMENT_TYPES: dict[str, tuple[str, str]] = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xlsm": ("application", "vnd.ms-excel.sheet.macroEnabled.12"),
    ".html": ("text", "html"),
    ".pdf": ("application", "pdf"),
}
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]+$")


@dataclass(frozen=True)
class Person:
    """Someone a message is from or to: a name (any language) and an email address."""

    name: str
    address: str

    def header(self) -> Address:
        user, _, domain = self.address.rpartition("@")
        return Address(display_name=" ".join(self.name.split()), username=user, domain=domain)


def valid_address(text: object) -> str | None:
    """``text`` as an email address when it looks like one (``mailto:`` and spaces dropped), else None."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    return value if _ADDRESS.match(value) and value.isascii() else None


def attachment_type(name: str) -> tuple[str, str]:
    """The MIME type of a file to attach, from its extension."""
    suffix = Path(name).suffix.lower()
    if suffix in ATTACHMENT_TYPES:
        return ATTACHMENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name)
    main, _, sub = (guessed or "application/octet-stream").partition("/")
    return main, sub


def compose(
    *,
    subject: str,
    text: str,
    html: str,
    sender: Person | None = None,
    to: Sequence[Person] = (),
    bcc: Sequence[Person] = (),
    attachments: Sequence[tuple[str, bytes]] = (),
    draft: bool = True,
) -> EmailMessage:
    """A message with ``text`` and its ``html`` alternative, and ``attachments`` as (file name, bytes).

    ``sender`` is also the Reply-To. A draft (``draft``) carries ``X-Unsent: 1`` so that Outlook opens it ready
    to send."""
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = " ".join(subject.split())
    if sender is not None:
        msg["From"] = sender.header()
        msg["Reply-To"] = sender.header()
    if to:
        msg["To"] = [p.header() for p in to]
    if bcc:
        msg["Bcc"] = [p.header() for p in bcc]
    msg["Date"] = email.utils.formatdate(localtime=True)
    domain = sender.address.rpartition("@")[2] if sender is not None else None
    msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    if draft:
        msg[DRAFT_HEADER] = "1"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for name, data in attachments:
        maintype, subtype = attachment_type(name)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def as_sent(msg: EmailMessage) -> EmailMessage:
    """The message as it goes out: no draft mark, dated now."""
    del msg[DRAFT_HEADER]
    del msg["Date"]
    msg["Date"] = email.utils.formatdate(localtime=True)
    return msg


def write_eml(msg: EmailMessage, path: Path) -> None:
    """Write ``msg`` to ``path`` atomically, as mail programs open it."""
    data = msg.as_bytes(policy=POLICY)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
