"""Returns as they arrive by mail, for the mail tests: replies with a packet attached, a reply sent twice, a
forwarded reply, a message with no attachment and one with a document instead of the workbook.

Import from tests as ``from mail_returns import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import email.policy
import email.utils
import mailbox
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from mail_plans import COORDINATOR, MARIA, NO_EMAIL, SAM, write_mail_plan
from member_edits import Set, edit_with_openpyxl

from reentry_workbook.cycle.packets import make_packets
from reentry_workbook.mail.compose import ATTACHMENT_TYPES

ASSISTANT = ("Pat Rivera", "pat@example.org")  # forwards Sam's reply
XLSX = ATTACHMENT_TYPES[".xlsx"]
FIRST, SECOND = "Tue, 02 Mar 2027 09:15:00 -0500", "Thu, 04 Mar 2027 16:40:00 -0500"


def message(sender: tuple[str, str], date: str, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr(sender)
    msg["To"] = email.utils.formataddr(COORDINATOR)
    msg["Date"] = date
    msg["Subject"] = subject
    msg.set_content(text)
    return msg


def attach(msg: EmailMessage, path: Path, name: str | None = None) -> EmailMessage:
    msg.add_attachment(path.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=name or path.name)
    return msg


@dataclass
class Returns:
    master: Path
    folder: Path  # holds maria-first.eml and replies.mbox
    maria_first: Path  # the attachments, as files
    maria_second: Path
    sam: Path


def build_returns(tmp: Path) -> Returns:
    """María replies twice (the second time with a later status), Sam's reply comes forwarded by Pat, Jo
    writes without an attachment, and Sam sends a document that is not the workbook."""
    master = write_mail_plan(tmp)
    packets = {p.stem: p for p in make_packets(master, tmp / "packets")}
    files = tmp / "as-files"
    files.mkdir()
    maria = packets[MARIA[0]]
    first = edit_with_openpyxl(maria, files / "maria-first.xlsx", [Set("steps", "A-1", "status", "In progress")])
    second = edit_with_openpyxl(
        maria,
        files / "maria-second.xlsx",
        [
            Set("steps", "A-1", "status", "Complete"),
            Set("steps", "A-6", "notes", "Van booked for 3 April"),
            Set("stakeholders", NO_EMAIL, "organization", "Peñasco Works"),  # Sam's copy says otherwise
        ],
    )
    sam = edit_with_openpyxl(
        packets[SAM[0]],
        files / "sam.xlsx",
        [Set("steps", "A-3", "notes", "Ten staff trained"), Set("stakeholders", NO_EMAIL, "organization", "Jobs")],
    )

    folder = tmp / "returns"
    folder.mkdir()
    reply = attach(message(MARIA, FIRST, "Re: your action steps", "Here it is."), first, maria.name)
    (folder / "maria-first.eml").write_bytes(reply.as_bytes())

    again = attach(message(MARIA, SECOND, "Re: your action steps (corrected)", "Sorry, this one."), second, maria.name)
    original = attach(message(SAM, FIRST, "Re: your action steps", "Done."), sam, packets[SAM[0]].name)
    forward = message(ASSISTANT, SECOND, "Fwd: Re: your action steps", "Sam asked me to send this on.")
    forward.add_attachment(original)  # message/rfc822, as mail programs forward "as attachment"
    nothing = message((NO_EMAIL, "jo@example.org"), SECOND, "Re: your action steps", "From Monday I can do it.")
    document = message(SAM, SECOND, "Minutes", "The minutes, as promised.")
    document.add_attachment(b"%PDF-1.4 minutes", maintype="application", subtype="pdf", filename="minutes.pdf")
    box = mailbox.mbox(folder / "replies.mbox")
    for msg in (again, forward, nothing, document):
        box.add(msg)
    box.close()
    return Returns(master, folder, first, second, sam)
