"""A plan as pandas DataFrames, one per sheet, for analysts (``Plan.to_frames`` and ``reentry_workbook.collect``).

Frames are keyed by the sheet names of the workbook and their columns are the header texts, both from the
declaration, so a frame reads like its sheet. Each column is typed by its kind:

- IDs, text, references and e-mail: pandas' ``string`` dtype; a reference holds the parent's ID.
- choices: ``category`` whose categories are the column's choices, in the dropdown's order, followed by any
  other value a member typed (the audit reports those as invalid-choice; they are kept, not lost).
- dates: ``datetime64``; numbers and money: nullable ``Float64``; a number typed as text that cannot be read
  as one is missing (NA).
- the Action Steps' Goal (a formula in the workbook, never read) is the goal the step serves through its
  improvement, worked out by the model (:meth:`model.PlanIndex.goal`).

A blank cell is missing (NA, NaT). So is a cell the reader could not take at face value
(:class:`model.Unknown`: a formula, an error value, a date that cannot be read): its value is unknown; the
audit reports it. Sheets with IDs are indexed by ID (index name: the ID column's header); the Stakeholders
sheet by position. The Coalition frame has one row, its columns the field labels.

pandas is imported here, inside the functions, never on the CLI's start-up path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import schema
from .model import Plan, Record, Unknown
from .schema import Column, Field, Kind

if TYPE_CHECKING:
    import pandas as pd


def plan_frames(plan: Plan) -> dict[str, pd.DataFrame]:
    """One DataFrame per sheet of ``plan`` (the Coalition sheet first, then the data sheets, declaration order)."""
    index = plan.index()
    frames = {schema.COALITION_SHEET: coalition_frame(plan)}
    for sheet in schema.SHEETS:
        rows = plan.rows(sheet.key)
        data: dict[str, Any] = {}
        for col in sheet.columns:
            if col.kind is Kind.ID:
                continue
            if col.kind is Kind.DERIVED:
                goals = [index.goal(rec) for rec in rows]
                values: list[Any] = [None if goal is None else goal.id for goal in goals]
                data[col.header] = _typed(values, Kind.REF, None)
            else:
                data[col.header] = _typed([rec.get(col.key) for rec in rows], col.kind, col.choices)
        frames[sheet.name] = _frame(data, sheet.id_column, rows)
    return frames


def coalition_frame(plan: Plan) -> pd.DataFrame:
    """The Coalition fields as a one-row frame, its columns the field labels."""
    import pandas as pd

    fields: Sequence[Field] = schema.COALITION_FIELDS
    data = {f.label: _typed([plan.coalition.get(f.key)], f.kind, f.choices) for f in fields}
    return pd.DataFrame(data)


def _frame(data: dict[str, Any], id_column: Column | None, rows: Sequence[Record]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    if id_column is not None:
        frame.index = pd.Index([rec.id for rec in rows], dtype="string", name=id_column.header)
    return frame


def _known(value: Any) -> Any:
    """None for a blank cell or one whose value is unknown; the value otherwise."""
    if value is None or value.__class__ is Unknown or (isinstance(value, str) and not value.strip()):
        return None
    return value


def _typed(values: list[Any], kind: Kind, choices: str | None) -> pd.Series:
    """A column of values as a Series of the dtype its kind calls for (see the module docstring)."""
    import pandas as pd

    known = [_known(v) for v in values]
    if kind is Kind.DATE:
        return pd.Series(pd.to_datetime(pd.Series(known, dtype=object)), dtype="datetime64[ns]")
    if kind in (Kind.NUMBER, Kind.MONEY):
        numbers = pd.to_numeric(pd.Series(known, dtype=object), errors="coerce")
        return pd.Series(numbers, dtype="Float64")
    if kind is Kind.CHOICE:
        declared = list(schema.CHOICES.get(choices or "", ()))
        extra = [v for v in dict.fromkeys(str(v) for v in known if v is not None) if v not in declared]
        return pd.Series([None if v is None else str(v) for v in known], dtype=pd.CategoricalDtype(declared + extra))
    return pd.Series([None if v is None else str(v) for v in known], dtype="string")
