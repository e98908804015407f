"""The Python API: what the command line does, as functions, and a plan's sheets as pandas DataFrames.

Everything here is also reachable from the package itself (``reentry_workbook.read_plan`` and so on), loaded
on first use so that ``import reentry_workbook`` and the command line stay quick. Inputs are only ever read;
a workbook is written only by :func:`new_workbook`, atomically, and never over an existing file unless
``force`` is true. Errors are the typed exceptions of :mod:`reentry_workbook.errors`, each with a message
saying what to do. pandas is imported only by :meth:`Plan.to_frames` and :func:`collect`. See docs/python.md.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .audit.report import Report
from .plan import schema
from .plan.model import Plan

if TYPE_CHECKING:
    import pandas as pd

FILE_COLUMN = "File"  # the column of collect()'s frames naming the workbook each row came from
COALITION_COLUMN = schema.coalition_field("name").label  # ... and the coalition it belongs to

PathLike = str | os.PathLike[str]


def read_plan(path: PathLike) -> Plan:
    """The plan in the workbook at ``path`` (nothing is written, no formula is evaluated).

    Cells the reader could not take at face value hold a :class:`~reentry_workbook.plan.model.Unknown`;
    :func:`audit_plan` reports them.
    """
    from .audit.reader import read_plan as read

    return read(Path(path)).plan


def audit_plan(path: PathLike, *, as_of: dt.date | None = None, audited_at: dt.datetime | None = None) -> Report:
    """The audit report of the workbook at ``path`` as of ``as_of`` (default: today); nothing is written.

    ``report.to_dict()`` is what ``reentry-workbook audit --json`` prints (docs/json.md describes its keys).
    """
    from .audit.pipeline import audit_plan as audit

    return audit(Path(path), as_of=as_of, audited_at=audited_at)


def new_workbook(
    path: PathLike,
    plan: Plan | None = None,
    *,
    example: bool = False,
    rows: int | None = None,
    coalition: Mapping[str, Any] | None = None,
    force: bool = False,
) -> Path:
    """Write a plan workbook to ``path`` and return its path.

    With ``plan``, the workbook holds that plan (for example one read with :func:`read_plan` and changed);
    without it, a blank plan, or the bundled fictional example with ``example=True``. ``coalition`` fills in
    Coalition fields by key (``name``, ``jurisdiction``, ``plan_start``, ...). ``rows`` is the number of
    pre-formatted rows per sheet.
    """
    from .errors import UsageError
    from .workbook.generate import new_workbook as new
    from .workbook.generate import write_plan_workbook

    if plan is None:
        count = schema.DEFAULT_ROWS if rows is None else rows
        return new(Path(path), example=example, rows=count, force=force, coalition=coalition)
    if example:
        raise UsageError("give either a plan or example=True, not both")
    if coalition:
        plan = Plan(coalition={**plan.coalition, **coalition}, records=plan.records, source=plan.source)
    return write_plan_workbook(Path(path), plan, rows=rows, force=force)


def collect(paths: Iterable[PathLike]) -> dict[str, pd.DataFrame]:
    """One DataFrame per sheet across many plans, keyed by sheet name, the way a state office compares them.

    Each frame is :meth:`Plan.to_frames` of every plan stacked in the order given, with two columns in front:
    ``File`` (the workbook's file name) and ``Coalition name``; the ID becomes an ordinary column (IDs repeat
    across plans) and the index is a plain range. A workbook that cannot be read raises the reader's error,
    which names the file.
    """
    import pandas as pd

    from .errors import UsageError

    parts: dict[str, list[pd.DataFrame]] = {}
    for path in paths:
        plan = read_plan(path)
        name = plan.coalition.get("name")
        coalition = name.strip() if isinstance(name, str) else None
        for sheet, frame in plan.to_frames().items():
            frame = frame.reset_index(drop=frame.index.name is None)
            if COALITION_COLUMN not in frame:  # the Coalition frame has it already
                frame.insert(0, COALITION_COLUMN, pd.Series([coalition] * len(frame), dtype="string"))
            frame.insert(0, FILE_COLUMN, pd.Series([Path(path).name] * len(frame), dtype="string"))
            parts.setdefault(sheet, []).append(frame)
    if not parts:
        raise UsageError("collect() needs at least one plan workbook; none were given")
    return {sheet: _stack(frames) for sheet, frames in parts.items()}


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of one sheet from many plans, one under the other; a choice column stays a category."""
    import pandas as pd

    stacked = pd.concat(frames, ignore_index=True)
    for column in frames[0].columns:
        dtypes = [f[column].dtype for f in frames]
        if all(isinstance(d, pd.CategoricalDtype) for d in dtypes):
            categories = list(dict.fromkeys(c for d in dtypes for c in d.categories))
            stacked[column] = stacked[column].astype(pd.CategoricalDtype(categories))
    return stacked
