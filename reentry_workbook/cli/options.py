"""What several commands share: date and horizon options, the terminal's width, JSON output."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from ..plan import schema


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-03-15") from None


def terminal_width() -> int:
    """Columns of the terminal (wide terminals show messages in full), a readable default elsewhere."""
    import shutil

    from ..audit.terminal import WIDTH

    return max(60, shutil.get_terminal_size((WIDTH, 40)).columns) if sys.stdout.isatty() else WIDTH

FAIL_ON = ("error", "warning", "info", "never")


def horizon_option(command: Any) -> Any:
    return click.option(
        "--horizon",
        type=click.IntRange(0, 3660),
        default=schema.DEFAULT_HORIZON,
        show_default=True,
        metavar="DAYS",
        help="List the open steps that fall due within this many days of the as-of date.",
    )(command)


def echo_json(data: object) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def history_options(command: Any) -> Any:
    """``--history`` and ``--since``: the earlier audits and the earlier version of the plan an audit compares with."""
    command = click.option(
        "--since",
        type=click.Path(readable=False, path_type=Path),
        metavar="PREVIOUS",
        help="List the rows changed since this earlier version of the plan (as `diff` does).",
    )(command)
    return click.option(
        "--history",
        type=click.Path(readable=False, path_type=Path),
        help="Also take the Audit History rows of this workbook (e.g. last month's audited copy).",
    )(command)
