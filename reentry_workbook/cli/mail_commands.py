"""The commands that can send email: `packets` (one packet and one draft per member) and `brief` (the page
for the coalition meeting, and one email to the coalition), with the SMTP options they share."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_UNUSABLE
from .options import history_options, horizon_option, parse_date

PASSWORD_ENV = "REENTRY_WORKBOOK_SMTP_PASSWORD"


def _send_options(command: Any) -> Any:
    """The options that send drafts over SMTP (``packets`` and ``brief``)."""
    for option in reversed(
        (
            click.option("--send", is_flag=True, help="Send the messages too (only with this flag is anything sent)."),
            click.option("--smtp", metavar="HOST[:PORT]", help="Mail server to send through (STARTTLS, port 587)."),
            click.option("--smtp-ssl", is_flag=True, help="Use implicit TLS (port 465) instead of STARTTLS."),
            click.option(
                "--smtp-insecure", is_flag=True, help="Send unencrypted (a local relay only; never over the internet)."
            ),
            click.option(
                "--smtp-user",
                metavar="USER",
                help=f"Log in as USER; the password comes from {PASSWORD_ENV}, or is asked for (hidden).",
            ),
        )
    ):
        command = option(command)
    return command


def _server(
    drafts: Path | None, send: bool, smtp: str | None, smtp_ssl: bool, smtp_insecure: bool, smtp_user: str | None
) -> Any:
    """The mail server to send through (a ``mail.send.Server``), or None to write drafts only."""
    import os

    from ..errors import UsageError

    if not send:
        if smtp or smtp_ssl or smtp_insecure or smtp_user:
            raise UsageError("--smtp and its options only say how to send; add --send to send the messages")
        return None
    if drafts is None:
        raise UsageError("--send needs --drafts DIR: every message sent is also kept there as .eml")
    if not smtp:
        raise UsageError("--send needs the mail server: add --smtp HOST[:PORT]")
    if smtp_ssl and smtp_insecure:
        raise UsageError("--smtp-ssl and --smtp-insecure contradict each other; use one of them")
    from ..mail.send import INSECURE, SSL, STARTTLS, Server, parse_server

    security = SSL if smtp_ssl else INSECURE if smtp_insecure else STARTTLS
    host, port = parse_server(smtp, security=security)
    password = None
    if smtp_user:
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            if not sys.stdin.isatty():
                raise UsageError(f"set the password of {smtp_user} in the environment variable {PASSWORD_ENV}")
            password = click.prompt(f"Password of {smtp_user} on {host}", hide_input=True)
    return Server(host, port, security, smtp_user, password)


class _SendingBar:
    """A progress bar for messages being sent, made when the number to send is known."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.bar: Any = None

    def __call__(self, n: int, total: int) -> None:
        if self.bar is None:
            hidden = not sys.stderr.isatty()
            self.bar = self.stack.enter_context(
                click.progressbar(length=total, label="Sending", file=sys.stderr, hidden=hidden)
            )
        self.bar.update(n)


def _report_mail(run: Any, folder: Path) -> None:
    """Print what was written and sent; exit 2 when a message could not be sent."""
    from ..cycle.drafts import FAILED, NO_ADDRESS, SENT

    n = len(run.messages)
    when = f" (reply by {run.reply_by.isoformat()})" if run.reply_by else ""
    click.echo(f"Wrote {n} {'message' if n == 1 else 'messages'} to {folder}{when}:")
    for m in run.messages:
        to = ", ".join(m.to[:3]) + (f" and {len(m.to) - 3} more" if len(m.to) > 3 else "")
        to = to or "no email address: add the recipient before sending"
        mark = {SENT: "sent", FAILED: "NOT SENT", NO_ADDRESS: "draft"}.get(m.status, "draft")
        click.echo(f"  {m.path.name}  [{mark}]  {to}")
        if m.problem and m.status == FAILED:
            click.echo(f"      {m.problem}")
    if run.sent_to:
        sent, failed = run.count(SENT), len(run.failed)
        click.echo(f"Sent {sent} of {sent + failed} through {run.sent_to}; {failed} failed.")
        if failed:
            click.secho("The failed ones are kept as drafts to send by hand.", err=True, fg="red")
            sys.exit(EXIT_UNUSABLE)


@click.command()
@click.argument("plan", type=click.Path(readable=False, path_type=Path))
@click.option(
    "--by",
    type=click.Choice(["responsible"]),
    default="responsible",
    show_default=True,
    help="How the plan is split: one packet per member named in Responsible.",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for the packets (made if missing).",
)
@click.option("--force", is_flag=True, help="Overwrite packets (and drafts) already in the folder.")
@click.option(
    "--drafts",
    type=click.Path(path_type=Path),
    help="Also write one email per member (.eml, opens as a draft in Outlook) with their packet attached.",
)
@click.option("--reply-by", callback=parse_date, metavar="DATE", help="Date to reply by (default: in 2 weeks).")
@click.option("--as-of", callback=parse_date, metavar="DATE", help="Date overdue is counted from (default: today).")
@_send_options
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Packets written at once (default: one per core, as always with --drafts).",
)
def packets(
    plan: Path,
    by: str,
    out_dir: Path,
    force: bool,
    drafts: Path | None,
    reply_by: dt.date | None,
    as_of: dt.date | None,
    send: bool,
    smtp: str | None,
    smtp_ssl: bool,
    smtp_insecure: bool,
    smtp_user: str | None,
    jobs: int | None,
) -> None:
    """Write one packet per member with their steps.

    Each packet is a plan workbook holding the member's action steps to update and, greyed as context,
    the improvements, goals and priorities those steps serve and the measures of those improvements.
    Steps with no one responsible get a packet of their own. Send each packet out, then fold the
    returned ones back with `merge`.

    With --drafts, each member also gets an email (to their Email on the Stakeholders sheet, from the
    coordinator on the Coalition sheet) listing their overdue, coming and undated steps, with the packet
    attached. Nothing is sent unless --send is given with --smtp.

    \b
    Examples:
      reentry-workbook packets plan.xlsx --by responsible -o packets/
      reentry-workbook packets plan.xlsx -o packets/ --drafts drafts/ --reply-by 2027-03-19
      reentry-workbook packets plan.xlsx -o packets/ --drafts sent/ --send --smtp smtp.example.org --smtp-user me
    """
    server = _server(drafts, send, smtp, smtp_ssl, smtp_insecure, smtp_user)
    if drafts is None:
        from ..cycle.packets import make_packets

        paths = make_packets(plan, out_dir, by=by, force=force, jobs=jobs)
    else:
        import contextlib

        from ..cycle.drafts import packets_by_mail

        with contextlib.ExitStack() as stack:
            run = packets_by_mail(
                plan,
                out_dir,
                drafts,
                reply_by=reply_by,
                as_of=as_of,
                force=force,
                server=server,
                progress=_SendingBar(stack),
                jobs=jobs,
            )
        paths = run.packets
    click.echo(f"Wrote {len(paths)} packet{'' if len(paths) == 1 else 's'} to {out_dir}:")
    for path in paths:
        click.echo(f"  {path.name}")
    if drafts is not None:
        _report_mail(run, drafts)


@click.command()
@click.argument("plan", type=click.Path(readable=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The brief (.html).")
@click.option("--as-of", callback=parse_date, metavar="DATE", help="Date the audit figures use (default: today).")
@horizon_option
@history_options
@click.option("--force", is_flag=True, help="Overwrite the output (and the draft) if it exists.")
@click.option(
    "--drafts",
    type=click.Path(path_type=Path),
    help="Also write the email to the coalition (.eml, a draft in Outlook): the brief, the audited plan attached.",
)
@click.option("--bcc", is_flag=True, help="Put the stakeholders in Bcc (the email is then To the coordinator).")
@_send_options
def brief(
    plan: Path,
    output: Path | None,
    as_of: dt.date | None,
    horizon: int,
    history: Path | None,
    since: Path | None,
    force: bool,
    drafts: Path | None,
    bcc: bool,
    send: bool,
    smtp: str | None,
    smtp_ssl: bool,
    smtp_insecure: bool,
    smtp_user: str | None,
) -> None:
    """Write a one-page brief of PLAN for the coalition meeting.

    One self-contained HTML file (no scripts, nothing fetched from the network) that prints on one Letter
    or A4 page: the headline figures and their trend, the toolkit's three questions answered, the steps
    overdue and coming up by person, open merge conflicts, and what changed since the last audit. Audit
    the master with --in-place first so its Audit History holds this month's row. PLAN is never changed.

    With --drafts, one email to every stakeholder with an email address (from the coordinator) carries
    the brief as its body, in HTML and plain text, with the audited plan and the brief attached.
    Nothing is sent unless --send is given with --smtp.

    \b
    Examples:
      reentry-workbook brief plan.xlsx -o brief.html
      reentry-workbook brief plan.xlsx -o brief.html --as-of 2027-03-01 --horizon 45
      reentry-workbook brief plan.xlsx --drafts drafts/ --bcc
    """
    from ..errors import UsageError

    server = _server(drafts, send, smtp, smtp_ssl, smtp_insecure, smtp_user)
    if output is None and drafts is None:
        raise UsageError("say where the brief goes: -o brief.html, or --drafts DIR for the email (or both)")
    from ..cycle.brief import build_brief, write_brief

    made = build_brief(plan, as_of=as_of, horizon=horizon, history=history, since=since)  # one audit for both
    if output is not None:
        click.echo(f"Wrote {write_brief(made, output, plan=plan, force=force)}")
    if drafts is not None:
        import contextlib

        from ..cycle.brief_mail import brief_by_mail

        with contextlib.ExitStack() as stack:
            bar = _SendingBar(stack)
            run = brief_by_mail(made, plan, drafts, bcc=bcc, force=force, server=server, progress=bar)
        _report_mail(run, drafts)


COMMANDS = (packets, brief)
