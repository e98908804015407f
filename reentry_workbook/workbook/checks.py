"""What each data cell accepts (data validation with its input message) and how it lights up
(conditional formats for required cells left blank and for overdue action steps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xlsxwriter.worksheet import Worksheet

from ..plan import describe, schema
from ..plan.schema import Kind, Sheet
from .formats import Formats, check
from .lists import letter

EARLIEST_DATE = dt.date(1990, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def validation_options(
    title: str,
    kind: Kind,
    choices: str | None,
    ref: str | None,
    suggest: str | None,
    message: str,
) -> dict[str, Any]:
    """Data validation of a cell: a dropdown, a date check or just the input message."""
    options: dict[str, Any] = {"input_title": title[:32], "input_message": message}
    if kind is Kind.CHOICE and choices:
        options.update(
            validate="list",
            source="=" + schema.choice_list_name(choices),
            error_type="stop",
            error_title="Pick from the list",
            error_message="Choose one of the values offered in this cell's dropdown.",
        )
    elif kind is Kind.REF and ref:
        options.update(
            validate="list",
            source="=" + schema.reference_list_name(ref),
            error_type="warning",
            error_title="Not a row from the list",
            error_message=f"Pick a row of the {schema.sheet(ref).name} sheet from the dropdown. If you type, "
            "start with the row's ID, e.g. " + f"{schema.sheet(ref).id_prefix}-2.",
        )
    elif suggest:
        options.update(
            validate="list",
            source="=" + schema.suggest_list_name(suggest),
            error_type="information",
            error_title="Not on the list",
            error_message=f"That name is not on the {schema.sheet(suggest).name} sheet yet. It is kept; "
            "consider adding them there.",
        )
    elif kind is Kind.DATE:
        options.update(
            validate="date",
            criteria="between",
            minimum=EARLIEST_DATE,
            maximum=LATEST_DATE,
            error_type="warning",
            error_title="Not a date",
            error_message=f"Type a date as year-month-day, e.g. {describe.DATE_EXAMPLE}.",
        )
    elif kind is Kind.MONEY:
        options.update(
            validate="decimal",
            criteria=">=",
            value=0,
            error_type="warning",
            error_title="Not an amount",
            error_message="Type a number of dollars, e.g. 25000, without the $ sign.",
        )
    else:
        options["validate"] = "any"
    return options


def highlights(ws: Worksheet, fm: Formats, sh: Sheet, first: int, last: int) -> None:
    """Conditional formats: required cells left blank in rows in use; overdue action steps."""
    inputs = [c for c in sh.columns if c.kind not in (Kind.ID, Kind.DERIVED)]
    row1 = first + 1  # Excel row number of the first data row
    in_use = "OR(" + ",".join(f'${letter(sh, c.key)}{row1}<>""' for c in inputs) + ")"
    for c, col in enumerate(sh.columns):
        if col.required and col in inputs:
            rule = {
                "type": "formula",
                "criteria": f'=AND(${letter(sh, col.key)}{row1}="",{in_use})',
                "format": fm.required_blank,
            }
            check(ws.conditional_format(first, c, last, c, rule), f"highlight of {sh.name} {col.header!r}")
    if {"due_date", "status"} <= {c.key for c in sh.columns}:
        due = f"${letter(sh, 'due_date')}{row1}"
        status = f"${letter(sh, 'status')}{row1}"
        open_tests = ",".join(f'{status}<>"{s}"' for s in schema.CLOSED_STATUSES)
        rule = {
            "type": "formula",
            "criteria": f"=AND(ISNUMBER({due}),{due}<TODAY(),{open_tests})",
            "format": fm.overdue,
        }
        check(ws.conditional_format(first, 0, last, len(sh.columns) - 1, rule), f"overdue highlight on {sh.name}")
