"""The commands on one plan or its versions: `new`, `audit`, `merge`, `diff` and `upgrade`."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_FINDINGS, EXIT_UNUSABLE
from ..plan import schema
from .options import FAIL_ON, echo_json, history_options, horizon_option, parse_date, terminal_width


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--coalition", help="Coalition name, written on the Coalition sheet.")
@click.option("--jurisdiction", help="County, city or region the plan covers.")
@click.option("--plan-start", callback=parse_date, metavar="DATE", help="First day of the plan (YYYY-MM-DD).")
@click.option("--plan-end", callback=parse_date, metavar="DATE", help="Last day of the plan (YYYY-MM-DD).")
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
    from ..workbook.generate import new_workbook

    fields = {"name": coalition, "jurisdiction": jurisdiction, "plan_start": plan_start, "plan_end": plan_end}
    path = new_workbook(
        out, example=example, rows=rows, force=force, coalition={k: v for k, v in fields.items() if v is not None}
    )
    click.echo(f"Wrote {path}")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(readable=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write the audited copy (default: NAME.audited.xlsx beside the input; a folder: "
    "NAME.audited.xlsx in it); with several files, the folder for the copies and the roll-up.",
)
@click.option("--in-place", is_flag=True, help="Write the summary into FILE itself, after keeping a backup.")
@click.option("--as-of", callback=parse_date, metavar="DATE", help="Date the date rules use (default: today).")
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
@history_options
@horizon_option
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
    from ..audit.inputs import expand_inputs
    from ..mail.kinds import is_mail

    found = expand_inputs(files, recursive=recursive)
    if len(found.items) == 1 and not files[0].is_dir() and not is_mail(found.items[0].path):
        path = found.items[0].path
        options: dict[str, Any] = {
            "as_of": as_of, "out": output, "in_place": in_place, "force": force, "write": not no_copy,
            "horizon": horizon, "history": history,
        }
        if since is not None:
            from ..cycle.since import audit_since

            result = audit_since(path, since, **options)
        else:
            from ..audit.pipeline import audit_file

            result = audit_file(path, **options)
        if as_json:
            echo_json(result.report.to_dict())
        else:
            from ..audit.terminal import render

            click.echo(render(result.report, color=sys.stdout.isatty(), limit=30, width=terminal_width()))
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
        from ..audit.batch import audit_many, render_rollup

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
            echo_json(batch.to_dict())
        else:
            click.echo(render_rollup(batch, color=sys.stdout.isatty()))
            if batch.rollup:
                click.echo(f"Wrote {batch.rollup}")
        if batch.unusable:
            sys.exit(EXIT_UNUSABLE)
        found_at = batch.count_at_or_above
    if fail_on != "never" and found_at(fail_on):
        sys.exit(EXIT_FINDINGS)


@click.command()
@click.argument("master", type=click.Path(readable=False, path_type=Path))
@click.argument("returned", nargs=-1, required=True, type=click.Path(readable=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the merged master here.")
@click.option("--in-place", is_flag=True, help="Merge into MASTER itself, after keeping a backup beside it.")
@click.option("--json", "as_json", is_flag=True, help="Print what was merged, and every conflict, as JSON.")
@click.option("--force", is_flag=True, help="Overwrite the output if it exists.")
@click.option("-r", "--recursive", is_flag=True, help="Also take the returns in subfolders of a folder given.")
def merge(
    master: Path,
    returned: tuple[Path, ...],
    output: Path | None,
    in_place: bool,
    as_json: bool,
    force: bool,
    recursive: bool,
) -> None:
    """Fold returned copies back into the master plan, by row ID.

    MASTER is the version that was sent out; RETURNED are the packets or full copies that came back:
    workbooks, mail (.eml, .mbox: each workbook attached is a return, labelled with its sender and date;
    of several from one sender for the same packet, the latest is merged) or folders of them (the master
    and the merged master are left out; a spreadsheet merge cannot read, such as .ods or .csv, or a
    workbook whose plan cannot be read, such as one with a renamed sheet, is listed with what to do, and
    the others are merged).
    An edit made in one copy is applied; the same cell changed differently in two copies is a conflict
    (the master value stays); rows members added fill the master's next blank rows, with fresh IDs (a row
    sent twice, or already in the master, is not added again); rows deleted in a copy are flagged, not
    deleted. The conflicts and a log of what came from which
    file are written as two sheets (replacing a previous merge's). Only the changed cells are written:
    the master's own sheets, columns, pictures, comments and colours are kept as they are. The returned
    copies are never changed; MASTER only with --in-place (a backup is kept beside it).

    \b
    Examples:
      reentry-workbook merge plan.xlsx returns/*.xlsx -o plan-merged.xlsx
      reentry-workbook merge plan.xlsx returns/*.xlsx --in-place
      reentry-workbook merge plan.xlsx "Plan returns.mbox" -o plan-merged.xlsx
    """
    from ..cycle.returns import merge_returns

    result, gathered = merge_returns(master, returned, output, in_place=in_place, force=force, recursive=recursive)
    if as_json:
        echo_json(result.to_dict())
        for note in gathered.notes:
            click.echo(note, err=True)
    else:
        from ..cycle.merge_sheets import render_merge

        click.echo(render_merge(result))
        for note in gathered.notes:
            click.echo(note)
    if gathered.unusable:
        sys.exit(EXIT_UNUSABLE)


@click.command()
@click.argument("old", type=click.Path(readable=False, path_type=Path))
@click.argument("new", type=click.Path(readable=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON on stdout.")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Also write the differences to a workbook."
)
@click.option("--as-of", callback=parse_date, metavar="DATE", help="Date the audit figures use (default: today).")
@click.option("--force", is_flag=True, help="Overwrite the output workbook if it exists.")
def diff(old: Path, new: Path, as_json: bool, output: Path | None, as_of: dt.date | None, force: bool) -> None:
    """Show what changed between two versions of a plan.

    Lists the rows added, removed and changed (field by field) from OLD to NEW.
    Rows are matched by their ID (stakeholders by name), not by position. Alignment and completeness
    are shown before and after. With -o, the same is written to a workbook for the review meeting.
    A member's returned packet is compared with the plan cut to that member's packet (what the member
    changed, not every row outside the packet as removed).

    \b
    Examples:
      reentry-workbook diff plan-march.xlsx plan-june.xlsx
      reentry-workbook diff plan-march.xlsx plan-june.xlsx -o changes.xlsx
      reentry-workbook diff plan.xlsx "returns/Maria Lopez.xlsx"
    """
    from ..cycle.diff import diff_plans
    from ..cycle.diff_sheets import render_diff, write_diff_workbook

    if output is not None:
        from ..xlsx.atomic import check_output

        check_output(output, force=force, inputs=(old, new))
    result = diff_plans(old, new, as_of=as_of)
    if output is not None:
        write_diff_workbook(result, output, force=force, inputs=(old, new))
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(render_diff(result))
        if output is not None:
            click.echo(f"Wrote {output}")


@click.command()
@click.argument("old", type=click.Path(readable=False, path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="The upgraded workbook."
)
@click.option("--force", is_flag=True, help="Overwrite the output if it exists.")
def upgrade(old: Path, output: Path, force: bool) -> None:
    """Carry an older workbook into today's template.

    OLD was made by an earlier template version. Every entry is kept: what has no place in the current
    layout is listed, as text, on a notes sheet of the output. The Audit History (the trend goes on) and
    the last merge's Merge Conflicts and Merge Log sheets come along as they are. OLD is never changed.

    \b
    Examples:
      reentry-workbook upgrade "Plan 2026.xlsx" -o "Plan 2026 (current template).xlsx"
    """
    from ..cycle.upgrade import prepare_upgrade, write_upgrade

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


COMMANDS = (new, audit, merge, diff, upgrade)
