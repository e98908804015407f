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

from . import schema
from .errors import EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE, ReentryWorkbookError

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
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
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
    from .generate import new_workbook

    fields = {"name": coalition, "jurisdiction": jurisdiction, "plan_start": plan_start, "plan_end": plan_end}
    path = new_workbook(
        out, example=example, rows=rows, force=force, coalition={k: v for k, v in fields.items() if v is not None}
    )
    click.echo(f"Wrote {path}")


def main() -> None:
    cli(prog_name="reentry-workbook")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
