"""The command line: a thin layer over the library.

Each command parses its options, calls one library function and prints. Heavy libraries (openpyxl,
XlsxWriter, pandas, calamine) are imported inside the library functions, never here, so ``--help`` and
``--version`` start fast.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from .errors import EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE, ReentryWorkbookError
from .plan import schema

EXIT_CODES_HELP = f"""\b
Exit codes:
  {EXIT_OK}  success (audit: nothing at or above --fail-on)
  {EXIT_FINDINGS}  the audit found something at or above --fail-on
  {EXIT_UNUSABLE}  an unusable input file or bad usage (one line says why)
"""


class _Group(click.Group):
    """Turns library errors into one clear line and their exit code; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReentryWorkbookError as exc:
            if ctx.meta.get("debug"):
                raise
            click.secho(f"Error: {exc}", err=True, fg="red")
            ctx.exit(exc.exit_code)


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-03-15") from None


def _width() -> int:
    """Columns of the terminal (wide terminals show messages in full), a readable default elsewhere."""
    import shutil

    from .audit.terminal import WIDTH

    return max(60, shutil.get_terminal_size((WIDTH, 40)).columns) if sys.stdout.isatty() else WIDTH


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.meta["debug"] = value


@click.group(cls=_Group, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="reentry-workbook", prog_name="reentry-workbook")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Show the full traceback when something goes wrong.",
)
def cli() -> None:
    """Plan workbooks for local reentry coalitions, and the audit of their alignment."""


@cli.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--coalition", help="Coalition name, written on the Coalition sheet.")
@click.option("--jurisdiction", help="County, city or region the plan covers.")
@click.option("--plan-start", callback=_date, metavar="DATE", help="First day of the plan (YYYY-MM-DD).")
@click.option("--plan-end", callback=_date, metavar="DATE", help="Last day of the plan (YYYY-MM-DD).")
@click.option(
    "--rows",
    type=click.IntRange(1, 100_000),
    default=schema.DEFAULT_ROWS,
    show_default=True,
    help="Pre-formatted rows (with IDs, dropdowns and date checks) on each plan sheet.",
)
@click.option("--example", is_flag=True, help="Fill in the bundled fictional county plan instead of a blank one.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def new(
    out: Path,
    coalition: str | None,
    jurisdiction: str | None,
    plan_start: dt.date | None,
    plan_end: dt.date | None,
    rows: int,
    example: bool,
    force: bool,
) -> None:
    """Write a new plan workbook to OUT.

    \b
    Examples:
      reentry-workbook new plan.xlsx --coalition "Lake County Reentry Coalition"
      reentry-workbook new example.xlsx --example
    """
    from .workbook.generate import new_workbook

    fields = {"name": coalition, "jurisdiction": jurisdiction, "plan_start": plan_start, "plan_end": plan_end}
    path = new_workbook(
        out, example=example, rows=rows, force=force, coalition={k: v for k, v in fields.items() if v is not None}
    )
    click.echo(f"Wrote {path}")


FAIL_ON = ("error", "warning", "info", "never")


def _horizon_option(command: Any) -> Any:
    return click.option(
        "--horizon",
        type=click.IntRange(0, 3660),
        default=schema.DEFAULT_HORIZON,
        show_default=True,
        metavar="DAYS",
        help="List the open steps that fall due within this many days of the as-of date.",
    )(command)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(readable=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write the audited copy (default: NAME.audited.xlsx beside the input); "
    "with several files, the folder for the copies and the roll-up.",
)
@click.option("--in-place", is_flag=True, help="Write the summary into FILE itself, after keeping a backup.")
@click.option("--as-of", callback=_date, metavar="DATE", help="Date the date rules use (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON on stdout.")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="error",
    show_default=True,
    help="Exit 1 when a finding of this severity or worse is found.",
)
@click.option("--no-copy", is_flag=True, help="Only report; write no audited copy.")
@click.option("--force", is_flag=True, help="Overwrite existing audited copies (and roll-up).")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Workbooks audited at once with several files (default: one per core).",
)
@click.option(
    "--history",
    type=click.Path(readable=False, path_type=Path),
    help="Also take the Audit History rows of this workbook (e.g. last month's audited copy).",
)
@click.option(
    "--since",
    type=click.Path(readable=False, path_type=Path),
    metavar="PREVIOUS",
    help="List the rows changed since this earlier version of the plan (as `diff` does).",
)
@_horizon_option
@click.option("-r", "--recursive", is_flag=True, help="Also audit the spreadsheets in subfolders of a folder given.")
def audit(
    files: tuple[Path, ...],
    output: Path | None,
    in_place: bool,
    as_of: dt.date | None,
    as_json: bool,
    fail_on: str,
    no_copy: bool,
    force: bool,
    jobs: int | None,
    history: Path | None,
    since: Path | None,
    horizon: int,
    recursive: bool,
) -> None:
    """Audit returned plan workbooks and write each one's Alignment Summary into a copy.

    FILES are workbooks, mail (.eml messages, .mbox mailboxes) or folders of them. The inputs are never
    changed (unless --in-place); each copy can be emailed straight back. With several workbooks, a roll-up
    (one row per file) is printed and written to rollup.xlsx, and a broken file becomes a row with its
    reason instead of stopping the rest. Each workbook attached to a message is a return of its own,
    labelled with who sent it and when; a message with no workbook attached is listed. In a folder, every
    spreadsheet is a row (.ods, .xls and .xlsb are audited as a report only); the tool's own outputs, lock
    files and hidden files are left out; subfolders only with --recursive.

    The summary answers the toolkit's three questions (resources, revisited, in service) and lists the
    steps overdue and coming up. Each audit adds a row to the copy's Audit History sheet (a second audit
    with the same --as-of replaces it), so the trend travels with the workbook.

    \b
    Examples:
      reentry-workbook audit "Plan v3 FINAL (Maria).xlsx"
      reentry-workbook audit plan.xlsx --as-of 2027-03-01 --json
      reentry-workbook audit returns/ -o audited/
      reentry-workbook audit "Plan returns.mbox" -o audited/
      reentry-workbook audit plan.xlsx --in-place --since plan-last-month.xlsx
    """
    from .audit.inputs import expand_inputs
    from .mail.read import is_mail

    found = expand_inputs(files, recursive=recursive)
    if len(found.items) == 1 and not files[0].is_dir() and not is_mail(found.items[0].path):
        path = found.items[0].path
        options = {"as_of": as_of, "out": output, "in_place": in_place, "force": force, "write": not no_copy,
                   "horizon": horizon, "history": history}
        if since is not None:
            from .cycle.since import audit_since

            result = audit_since(path, since, **options)
        else:
            from .audit.pipeline import audit_file

            result = audit_file(path, **options)
        if as_json:
            _echo_json(result.report.to_dict())
        else:
            from .audit.terminal import render

            click.echo(render(result.report, color=sys.stdout.isatty(), limit=30, width=_width()))
            for label, written in (("Kept the original as", result.backup), ("Wrote", result.output)):
                if written:
                    click.echo(f"{label} {written}")
        if result.no_copy:
            click.secho(f"Error: {result.no_copy}.", err=True, fg="red")
            sys.exit(EXIT_UNUSABLE)
        found_at = result.report.count_at_or_above
    else:
        if history is not None or since is not None:
            raise click.UsageError("--history and --since apply to one workbook; audit the files one at a time")
        from .audit.batch import audit_many, render_rollup

        hidden = as_json or not sys.stderr.isatty()
        with click.progressbar(length=len(found.items), label="Auditing", file=sys.stderr, hidden=hidden) as bar:
            batch = audit_many(
                found.items,
                out_dir=output,
                in_place=in_place,
                as_of=as_of,
                force=force,
                write=not no_copy,
                jobs=jobs,
                progress=bar.update,
            )
        batch.notes = found.notes
        if as_json:
            _echo_json(batch.to_dict())
        else:
            click.echo(render_rollup(batch, color=sys.stdout.isatty()))
            if batch.rollup:
                click.echo(f"Wrote {batch.rollup}")
        if batch.unusable:
            sys.exit(EXIT_UNUSABLE)
        found_at = batch.count_at_or_above
    if fail_on != "never" and found_at(fail_on):
        sys.exit(EXIT_FINDINGS)


def _echo_json(data: object) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


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

    from .errors import UsageError

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
    from .mail.send import INSECURE, SSL, STARTTLS, Server, parse_server

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
    from .cycle.drafts import FAILED, NO_ADDRESS, SENT

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


@cli.command()
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
@click.option("--reply-by", callback=_date, metavar="DATE", help="Date to reply by (default: in 2 weeks).")
@click.option("--as-of", callback=_date, metavar="DATE", help="Date overdue is counted from (default: today).")
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
        from .cycle.packets import make_packets

        paths = make_packets(plan, out_dir, by=by, force=force, jobs=jobs)
    else:
        import contextlib

        from .cycle.drafts import packets_by_mail

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


@cli.command()
@click.argument("master", type=click.Path(readable=False, path_type=Path))
@click.argument("returned", nargs=-1, required=True, type=click.Path(readable=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the merged master here.")
@click.option("--in-place", is_flag=True, help="Merge into MASTER itself, after keeping a backup beside it.")
@click.option("--json", "as_json", is_flag=True, help="Print what was merged, and every conflict, as JSON.")
@click.option("--force", is_flag=True, help="Overwrite the output if it exists.")
def merge(
    master: Path, returned: tuple[Path, ...], output: Path | None, in_place: bool, as_json: bool, force: bool
) -> None:
    """Fold returned copies back into the master plan, by row ID.

    MASTER is the version that was sent out; RETURNED are the packets or full copies that came back:
    workbooks, mail (.eml, .mbox: each workbook attached is a return, labelled with its sender and date;
    of several from one sender for the same packet, the latest is merged) or folders of them.
    An edit made in one copy is applied; the same cell changed differently in two copies is a conflict
    (the master value stays); rows members added fill the master's next blank rows, with fresh IDs;
    rows deleted in a copy are flagged, not deleted. The conflicts and a log of what came from which
    file are written as two sheets (replacing a previous merge's). Only the changed cells are written:
    the master's own sheets, columns, pictures, comments and colours are kept as they are. The returned
    copies are never changed; MASTER only with --in-place (a backup is kept beside it).

    \b
    Examples:
      reentry-workbook merge plan.xlsx returns/*.xlsx -o plan-merged.xlsx
      reentry-workbook merge plan.xlsx returns/*.xlsx --in-place
      reentry-workbook merge plan.xlsx "Plan returns.mbox" -o plan-merged.xlsx
    """
    from .cycle.returns import merge_returns

    result, gathered = merge_returns(master, returned, output, in_place=in_place, force=force)
    if as_json:
        _echo_json(result.to_dict())
    else:
        from .cycle.merge_sheets import render_merge

        click.echo(render_merge(result))
    if gathered.unusable:
        sys.exit(EXIT_UNUSABLE)


@cli.command()
@click.argument("old", type=click.Path(readable=False, path_type=Path))
@click.argument("new", type=click.Path(readable=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON on stdout.")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Also write the differences to a workbook."
)
@click.option("--as-of", callback=_date, metavar="DATE", help="Date the audit figures use (default: today).")
@click.option("--force", is_flag=True, help="Overwrite the output workbook if it exists.")
def diff(old: Path, new: Path, as_json: bool, output: Path | None, as_of: dt.date | None, force: bool) -> None:
    """Show what changed between two versions of a plan.

    Lists the rows added, removed and changed (field by field) from OLD to NEW.
    Rows are matched by their ID (stakeholders by name), not by position. Alignment and completeness
    are shown before and after. With -o, the same is written to a workbook for the review meeting.

    \b
    Examples:
      reentry-workbook diff plan-march.xlsx plan-june.xlsx
      reentry-workbook diff plan-march.xlsx plan-june.xlsx -o changes.xlsx
    """
    from .cycle.diff import diff_plans
    from .cycle.diff_sheets import render_diff, write_diff_workbook

    if output is not None:
        from .xlsx.atomic import check_output

        check_output(output, force=force, inputs=(old, new))
    result = diff_plans(old, new, as_of=as_of)
    if output is not None:
        write_diff_workbook(result, output, force=force, inputs=(old, new))
    if as_json:
        _echo_json(result.to_dict())
    else:
        click.echo(render_diff(result))
        if output is not None:
            click.echo(f"Wrote {output}")


@cli.command()
@click.argument("plan", type=click.Path(readable=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The brief (.html).")
@click.option("--as-of", callback=_date, metavar="DATE", help="Date the audit figures use (default: today).")
@_horizon_option
@click.option(
    "--history",
    type=click.Path(readable=False, path_type=Path),
    help="Also take the Audit History rows of this workbook (e.g. last month's audited copy).",
)
@click.option(
    "--since",
    type=click.Path(readable=False, path_type=Path),
    metavar="PREVIOUS",
    help="List the rows changed since this earlier version of the plan.",
)
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
    from .errors import UsageError

    server = _server(drafts, send, smtp, smtp_ssl, smtp_insecure, smtp_user)
    if output is None and drafts is None:
        raise UsageError("say where the brief goes: -o brief.html, or --drafts DIR for the email (or both)")
    options = {"as_of": as_of, "horizon": horizon, "history": history, "since": since}
    if output is not None:
        from .cycle.brief import write_brief

        click.echo(f"Wrote {write_brief(plan, output, force=force, **options)}")
    if drafts is not None:
        import contextlib

        from .cycle.brief_mail import brief_by_mail

        with contextlib.ExitStack() as stack:
            bar = _SendingBar(stack)
            run = brief_by_mail(plan, drafts, bcc=bcc, force=force, server=server, progress=bar, **options)
        _report_mail(run, drafts)


@cli.command()
@click.argument("old", type=click.Path(readable=False, path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="The upgraded workbook."
)
@click.option("--force", is_flag=True, help="Overwrite the output if it exists.")
def upgrade(old: Path, output: Path, force: bool) -> None:
    """Carry an older workbook into today's template.

    OLD was made by an earlier template version. Every entry is kept: what has no place in the current
    layout is listed, as text, on a notes sheet of the output. OLD is never changed.

    \b
    Examples:
      reentry-workbook upgrade "Plan 2026.xlsx" -o "Plan 2026 (current template).xlsx"
    """
    from .cycle.upgrade import prepare_upgrade, write_upgrade

    prepared = prepare_upgrade(old)
    path = write_upgrade(prepared, output, force=force)
    version = prepared.from_version or "an unknown version"
    if prepared.current:
        click.echo(f"{old.name} already uses template {schema.TEMPLATE_VERSION}; wrote a fresh copy.")
    else:
        click.echo(f"Upgraded {old.name} from template {version} to {schema.TEMPLATE_VERSION}.")
    if prepared.notes:
        click.echo(
            f"{len(prepared.notes)} entr{'y' if len(prepared.notes) == 1 else 'ies'} had no place in the current "
            f"layout; they are on the {schema.UPGRADE_NOTES_SHEET} sheet."
        )
    click.echo(f"Wrote {path}")


def main() -> None:
    cli(prog_name="reentry-workbook")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
