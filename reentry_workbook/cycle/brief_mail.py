"""The brief goes out by email: one message to every stakeholder with an email address, from the coordinator,
with the one-page brief as its HTML body, the same as plain text, and the audited plan attached (its
Alignment Summary sheet first), plus the brief as a page to print.

Stakeholders go in To, or in Bcc (``bcc``) so that no one sees the others' addresses; then the message is
addressed To the coordinator. Written as an ``.eml`` draft, or sent (see :func:`drafts.deliver`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..mail.compose import Person, compose
from ..mail.names import safe_name
from ..mail.send import Server
from ..xlsx.atomic import check_output
from .brief import Brief
from .drafts import DRAFT_SUFFIX, MailRun, coordinator, deliver, make_folder, stakeholder_emails

BRIEF_NAME = "brief.html"  # the brief attached as a page to print


def brief_by_mail(
    brief: Brief,
    plan_path: Path,
    drafts_dir: Path,
    *,
    bcc: bool = False,
    force: bool = False,
    server: Server | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MailRun:
    """Write (and with ``server`` send) the coalition's email carrying ``brief``, built from ``plan_path`` by
    :func:`brief.build_brief` (the plan is read once, for the brief and the addresses alike)."""
    from ..audit.pipeline import write_summary_copy
    from .brief import brief_html, brief_text

    plan_path, drafts_dir = Path(plan_path), Path(drafts_dir)
    plan = brief.plan
    assert plan is not None, "build the brief with build_brief"
    people = _unique(stakeholder_emails(plan).values())
    if not people:
        raise UsageError(
            f"no stakeholder of {plan_path.name} has an email address; fill in the Email column of the "
            "Stakeholders sheet, then try again"
        )
    target = drafts_dir / safe_name(f"{plan_path.stem} brief{DRAFT_SUFFIX}", f"brief{DRAFT_SUFFIX}")
    make_folder(drafts_dir)
    check_output(target, force=force, inputs=(plan_path,))
    html, text = brief_html(brief), brief_text(brief)
    with tempfile.TemporaryDirectory(prefix="rw-brief-") as tmp:
        audited = Path(tmp) / safe_name(f"{plan_path.stem}.audited.xlsx", "plan.audited.xlsx")
        write_summary_copy(plan_path, brief.report, audited)
        attachments = [(audited.name, audited.read_bytes()), (BRIEF_NAME, html.encode("utf-8"))]
    sender = coordinator(plan)
    coalition = brief.report.summary.coalition or "Reentry coalition"
    day = brief.report.summary.as_of
    subject = f"{coalition}: the plan brief for our meeting ({day.day} {day:%B %Y})"
    if bcc:  # To the coordinator, who is then not in Bcc as well
        to = [sender] if sender else []
        hidden = [p for p in people if not sender or p.address.casefold() != sender.address.casefold()]
    else:
        to, hidden = people, []
    msg = compose(subject=subject, text=text, html=html, sender=sender, to=to, bcc=hidden, attachments=attachments)
    return deliver([(coalition, msg, target)], server, progress=progress)


def _unique(people: Any) -> list[Person]:
    seen: set[str] = set()
    out = []
    for person in people:
        if person.address.casefold() not in seen:
            seen.add(person.address.casefold())
            out.append(person)
    return out
