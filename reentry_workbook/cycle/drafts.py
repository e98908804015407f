"""The packets go out by email: one ready-to-send message per member, with their packet attached.

Each member's message is addressed to the Email the Stakeholders sheet gives for their name (case, spacing
and, when only one stakeholder matches, accents ignored), from the coordinator on the Coalition sheet (also the
Reply-To). Its subject names the coalition and the reply-by date; its body (plain text, and the same as
HTML) lists the member's overdue steps, the steps coming up and the steps with no due date, and says how to
update the packet and send it back. Members with no email get a draft without a recipient, and are listed.

Drafts are ``.eml`` files marked ``X-Unsent: 1`` (Outlook opens them ready to send). With a mail server, the
messages are sent too; every one sent is kept as ``.eml`` (without the draft mark) and one that failed stays
a draft to send by hand.
"""

from __future__ import annotations

import datetime as dt
import html
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from ..audit.report import NO_ONE
from ..audit.rules import shorten
from ..errors import OutputError
from ..mail.compose import DRAFT_HEADER, Person, as_sent, compose, valid_address, write_eml
from ..mail.send import Server, send_all
from ..plan import schema
from ..plan.model import Plan, Record, as_date
from ..xlsx.atomic import check_output
from .packets import Packet, member_key, write_packets

DEFAULT_REPLY_DAYS = 14  # reply-by date when none is given: two weeks from today
DRAFT_SUFFIX = ".eml"
STEP_TEXT = 110  # characters of a step's text shown in a message

# What happened to each message.
DRAFTED = "draft"
SENT = "sent"
FAILED = "failed"
NO_ADDRESS = "no address"


@dataclass
class Mailed:
    """One message written (and perhaps sent): for whom, where it is kept, and what happened."""

    label: str
    path: Path
    to: list[str]
    status: str = DRAFTED
    problem: str = ""


@dataclass
class MailRun:
    """What ``packets --drafts`` (or ``brief --drafts``) did."""

    messages: list[Mailed]
    packets: list[Path] = field(default_factory=list)
    reply_by: dt.date | None = None
    sent_to: str = ""  # the server, when sent

    def count(self, status: str) -> int:
        return sum(m.status == status for m in self.messages)

    @property
    def failed(self) -> list[Mailed]:
        return [m for m in self.messages if m.status == FAILED]


@dataclass
class StepLists:
    overdue: list[Record]
    coming: list[Record]
    undated: list[Record]


def member_steps(plan: Plan, member: str, as_of: dt.date) -> StepLists:
    """The member's open steps: overdue (oldest first), coming up (soonest first), and with no due date."""
    key = member_key(member)
    mine = [s for s in plan.rows("steps") if member_key(s.get("responsible")) == key and not s.is_closed()]
    overdue = sorted((s for s in mine if s.is_overdue(as_of)), key=_due)
    coming = sorted((s for s in mine if (d := s.date("due_date")) is not None and d >= as_of), key=_due)
    return StepLists(overdue, coming, [s for s in mine if s.lacks_due_date()])


def coordinator(plan: Plan) -> Person | None:
    """The coordinator named on the Coalition sheet, when an email address is given there."""
    address = valid_address(plan.coalition.get("coordinator_email"))
    name = " ".join(str(plan.coalition.get("coordinator") or "").split())
    return Person(name, address) if address else None


def stakeholder_emails(plan: Plan) -> dict[str, Person]:
    """Every stakeholder with a valid email, by their name's key (first row wins)."""
    out: dict[str, Person] = {}
    for row in plan.rows("stakeholders"):
        name = " ".join(str(row.get("name") or "").split())
        address = valid_address(row.get("email"))
        if name and address:
            out.setdefault(member_key(name), Person(name, address))
    return out


def recipient_of(plan: Plan, member: str) -> Person | None:
    """The stakeholder a member's name means: the same name (case and spacing ignored), else the same name
    without accents ("Maria Lopez" for "María López") when only one stakeholder has it."""
    people = stakeholder_emails(plan)
    found = people.get(member_key(member))
    if found is not None:
        return found
    bare = [p for key, p in people.items() if _unaccented(key) == _unaccented(member_key(member))]
    return bare[0] if len(bare) == 1 else None


def _unaccented(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def member_message(
    plan: Plan, packet: Packet, attachment: Path, *, reply_by: dt.date, as_of: dt.date
) -> tuple[EmailMessage, Person | None]:
    """The draft for ``packet``'s member with ``attachment`` attached, and its recipient (None when unknown)."""
    recipient = None if packet.member == NO_ONE else recipient_of(plan, packet.member)
    coalition = " ".join(str(plan.coalition.get("name") or "").split()) or "Reentry coalition"
    lists = member_steps(plan, packet.member, as_of)
    subject = f"{coalition}: your action steps, please update and reply by {_day(reply_by)}"
    greeting = packet.member if packet.member != NO_ONE else "coordinator"
    sender = coordinator(plan)
    text, body = _bodies(coalition, greeting, attachment.name, lists, reply_by, sender)
    msg = compose(
        subject=subject,
        text=text,
        html=body,
        sender=sender,
        to=[recipient] if recipient else [],
        attachments=[(attachment.name, attachment.read_bytes())],
    )
    return msg, recipient


def packets_by_mail(
    plan_path: Path,
    out_dir: Path,
    drafts_dir: Path,
    *,
    reply_by: dt.date | None = None,
    as_of: dt.date | None = None,
    force: bool = False,
    server: Server | None = None,
    progress: Callable[[int, int], None] | None = None,
    jobs: int | None = None,
) -> MailRun:
    """Write the packets of ``plan_path`` into ``out_dir`` (``jobs`` at a time, as :func:`write_packets` does) and
    one message per member into ``drafts_dir``; with ``server``, send them too. Nothing is written when any
    packet or draft would overwrite a file."""
    as_of = as_of or dt.date.today()
    reply_by = reply_by or as_of + dt.timedelta(days=DEFAULT_REPLY_DAYS)
    drafts_dir = Path(drafts_dir)
    make_folder(drafts_dir)

    def drafts_free(_plan: Plan, made: Sequence[tuple[Packet, Path]]) -> None:
        for _packet, path in made:
            check_output(drafts_dir / f"{path.stem}{DRAFT_SUFFIX}", force=force, inputs=(plan_path,))

    plan, made = write_packets(plan_path, out_dir, force=force, check_also=drafts_free, jobs=jobs)
    messages = []
    for packet, path in made:
        msg, _to = member_message(plan, packet, path, reply_by=reply_by, as_of=as_of)
        messages.append((packet.member, msg, drafts_dir / f"{path.stem}{DRAFT_SUFFIX}"))
    run = deliver(messages, server, progress=progress)
    run.packets = [path for _packet, path in made]
    run.reply_by = reply_by
    return run


def deliver(
    messages: Sequence[tuple[str, EmailMessage, Path]],
    server: Server | None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> MailRun:
    """Write each (label, message, path) as a draft, or, with ``server``, send them and keep each as sent (a
    failed one stays a draft). ``progress(n, total)`` is called as messages go."""
    run = MailRun([Mailed(label, path, _recipients(msg)) for label, msg, path in messages])
    for mailed, (_label, msg, path) in zip(run.messages, messages, strict=True):
        write_eml(msg, path)  # first as drafts: if the server cannot be reached, they are there to send by hand
        if not mailed.to:
            mailed.status = NO_ADDRESS
    if server is None:
        return run
    run.sent_to = server.shown
    outgoing = [(label, as_sent(msg)) for label, msg, _path in messages if _recipients(msg)]
    step = (lambda n: progress(n, len(outgoing))) if progress else None
    outcomes = iter(send_all(outgoing, server, progress=step))
    for mailed, (_label, msg, path) in zip(run.messages, messages, strict=True):
        if not mailed.to:
            continue
        outcome = next(outcomes)
        mailed.status = SENT if outcome.sent and not outcome.refused else FAILED
        mailed.problem = outcome.problem
        if outcome.sent:
            write_eml(msg, path)  # kept as sent, without the draft mark
        else:
            msg[DRAFT_HEADER] = "1"
    return run


def _recipients(msg: EmailMessage) -> list[str]:
    return [a.addr_spec for h in ("To", "Cc", "Bcc") for a in getattr(msg[h], "addresses", ())]


def make_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file; give a folder for the drafts with --drafts")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make the folder {folder} ({exc.strerror or 'error'}); choose another") from None


def _due(step: Record) -> tuple[dt.date, str]:
    return as_date(step.get("due_date")) or dt.date.max, step.id or ""


def _day(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _step_line(step: Record) -> str:
    due = as_date(step.get("due_date"))
    status = str(step.get("status") or "no status")
    when = f"due {due.isoformat()}" if due else "no due date"
    text = shorten(step.get("step") or "(no text)", STEP_TEXT)
    return f"{step.id or 'a step without an ID'}: {text} ({when}, {status})"


def _bodies(
    coalition: str, name: str, file_name: str, lists: StepLists, reply_by: dt.date, sender: Person | None
) -> tuple[str, str]:
    """The plain-text body and its HTML version (member text escaped)."""
    steps_sheet = schema.sheet("steps").name
    status = schema.sheet("steps").column("status").header
    due = schema.sheet("steps").column("due_date").header
    notes = schema.sheet("steps").column("notes").header
    intro = (
        f"Attached is your packet of the {coalition} plan ({file_name}): the action steps you answer for. "
        f"Please bring them up to date and send the workbook back by {_day(reply_by)}."
    )
    sections = (
        ("Overdue", lists.overdue),
        ("Coming up", lists.coming),
        ("No due date yet", lists.undated),
    )
    how = (
        "Open the attached workbook in Excel, LibreOffice or Google Sheets (download it as .xlsx there).",
        f"On the {steps_sheet} sheet, update {status}, {due} and {notes} of your rows; add new steps in the "
        "empty rows below yours.",
        "Keep the IDs, save it as .xlsx (you may rename it), and reply to this email with it attached.",
    )
    closing = ["Thank you,", *(x for x in (sender.name if sender else "", coalition) if x)]

    text = [f"Dear {name},", "", intro, ""]
    for title, steps in sections:
        if steps:
            text += [f"{title} ({len(steps)}):", *(f"  - {_step_line(s)}" for s in steps), ""]
    if not any(steps for _t, steps in sections):
        text += ["You have no open action steps; please check the packet and add any new ones.", ""]
    text += ["How to update it:", *(f"  {i}. {line}" for i, line in enumerate(how, 1)), "", *closing]

    e = html.escape
    parts = [f"<p>Dear {e(name)},</p>", f"<p>{e(intro)}</p>"]
    for title, steps in sections:
        if steps:
            items = "".join(f"<li>{e(_step_line(s))}</li>" for s in steps)
            parts.append(f"<h3>{e(title)} ({len(steps)})</h3><ul>{items}</ul>")
    if not any(steps for _t, steps in sections):
        parts.append("<p>You have no open action steps; please check the packet and add any new ones.</p>")
    parts.append("<h3>How to update it</h3><ol>" + "".join(f"<li>{e(x)}</li>" for x in how) + "</ol>")
    parts.append("<p>" + "<br>".join(e(x) for x in closing) + "</p>")
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="font-family: Calibri, Arial, sans-serif; font-size: 11pt">' + "".join(parts) + "</body></html>"
    )
    return "\n".join(text) + "\n", page
