"""The command line: a thin layer over the library.

Each command parses its options, calls one library function and prints. Heavy libraries (openpyxl,
XlsxWriter, pandas, calamine) are imported inside the library functions, never here, so ``--help`` and
``--version`` start fast."""

from __future__ import annotations

import gc
from typing import Any

import click

from ..errors import EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE, ReentryWorkbookError
from . import mail_commands, plan_commands

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


for _command in (*plan_commands.COMMANDS, *mail_commands.COMMANDS):
    cli.add_command(_command)


def main() -> None:
    try:
        cli(prog_name="reentry-workbook")
    finally:
        # The process ends here. Its last collection would walk every object still alive (10 ms after a
        # 10,000-step audit) to free memory the system takes back anyway: they are frozen, out of its way.
        # (Python promises no finalizer at exit; every file the tool writes is closed where it is written.)
        gc.freeze()

