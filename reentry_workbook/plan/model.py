"""The plan model: what the reader produces and the rules, figures, round-trip commands and generator consume.

The model knows what a plan means, so no consumer has to work it out again from raw values:

- **Values.** A cell holds ``str`` (text, choices, references), ``datetime.date``, ``int``/``float``, ``None``
  for blank, or :class:`Unknown` for a cell the reader could not take at face value (a formula, which is never
  evaluated; an error value; a date typed as text that cannot be read). An ``Unknown`` is *filled*: no
  "without" rule fires on it, completeness counts it, and the reader has already given it its one finding. Its
  meaning is unknown: it names no row, is no date, and is never overdue. Round trips carry
  :func:`written` (the text typed for an unreadable date, nothing for a formula or an error value): a formula is
  never written back, and neither is its cached result.
- **A step's meaning** (:class:`Record`): closed (``schema.CLOSED_STATUSES``), overdue as of a date, without a
  due date. A blank, invalid or unknown status is open.
- **Navigation** (:class:`PlanIndex`, from :meth:`Plan.index`): a row's parent along the chain of service
  (``schema.CHAIN``, and a measure's improvement), a step's improvement, goal and priority, and its
  :class:`Chain`, complete when every link names a row that exists. When an ID is repeated, the first row with
  it decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import schema

if TYPE_CHECKING:
    import pandas as pd

# What an Unknown stands for.
FORMULA = "formula"  # raw: the formula without its "="
ERROR_VALUE = "error value"  # raw: the error code, such as "#REF!"
UNREADABLE_DATE = "unreadable date"  # raw: the text as typed
UNKNOWN_KINDS: tuple[str, ...] = (FORMULA, ERROR_VALUE, UNREADABLE_DATE)


@dataclass(frozen=True, slots=True)
class Unknown:
    """A filled cell whose value could not be taken at face value: never blank, never a row, date or choice."""

    kind: str  # one of UNKNOWN_KINDS
    raw: str

    def __str__(self) -> str:
        """The cell as its member sees it in the formula bar: ``=B2``, ``#REF!``, ``next spring``."""
        return f"={self.raw}" if self.kind == FORMULA else self.raw

    @property
    def written(self) -> str | None:
        """What a round trip carries and writes back in its place: the member's own text for an unreadable
        date (written as text); nothing for a formula or an error value (never a formula, never an error)."""
        return self.raw if self.kind == UNREADABLE_DATE else None


def written(value: Any) -> Any:
    """A value as round trips carry and write it: an :class:`Unknown` becomes :attr:`Unknown.written`."""
    return value.written if value.__class__ is Unknown else value


def is_blank(value: Any) -> bool:
    """True for an empty cell: None, or text of spaces only. An :class:`Unknown` is never blank."""
    return value is None or (value.__class__ is str and not value.strip())


def is_unknown(value: Any) -> bool:
    return value.__class__ is Unknown


def as_date(value: Any) -> dt.date | None:
    """The value as a date when it is one (a datetime counts by its day), else None."""
    if value.__class__ is dt.date or value is None:  # most cells: checked first
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def as_reference(value: Any) -> str | None:
    """The ID (or text) a reference cell names; None when it is blank or :class:`Unknown` (names no known row)."""
    if value is None:
        return None
    if value.__class__ is str:
        return value.strip() or None
    if value.__class__ is Unknown:
        return None
    return str(value).strip()


@dataclass
class Record:
    """One row of a data sheet.

    ``values`` maps column keys of the declaration to values (see the module docstring); a reference holds the
    parent's normalised ID when it could be resolved, else the text as typed.
    """

    sheet: str  # sheet key of the declaration
    id: str | None  # normalised ID ("A-12"); for sheets without IDs, None
    values: dict[str, Any] = field(default_factory=dict)
    row: int = 0  # 1-based worksheet row it was read from; 0 when it was not read from a file

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def filled(self, key: str) -> bool:
        """True when the cell is not blank (an :class:`Unknown` is filled)."""
        return not is_blank(self.values.get(key))

    def reference(self, key: str) -> str | None:
        """What a reference cell names (see :func:`as_reference`)."""
        return as_reference(self.values.get(key))

    def date(self, key: str) -> dt.date | None:
        return as_date(self.values.get(key))

    # --- an action step ---

    def is_closed(self) -> bool:
        """True for a step whose status closes it (Complete or Dropped)."""
        return self.values.get("status") in schema.CLOSED_STATUSES

    def is_overdue(self, as_of: dt.date) -> bool:
        """True for an open step whose due date is before ``as_of`` (an unknown due date is never overdue)."""
        due = as_date(self.values.get("due_date"))
        return due is not None and due < as_of and not self.is_closed()

    def lacks_due_date(self) -> bool:
        """True for an open step whose due date is blank (the step-without-due-date rule)."""
        return is_blank(self.values.get("due_date")) and not self.is_closed()

    def serves_goal_no(self) -> bool:
        """True when the member marked the step as not serving its goal."""
        return self.values.get("serves_goal") == schema.SERVES_GOAL_NO


@dataclass
class Source:
    """Where a plan was read from, so findings can point at cells."""

    file: str = ""
    template_name: str | None = None
    template_version: str | None = None
    fingerprint: str | None = None
    date1904: bool = False
    # Column letters of each column key, per sheet key, as found in the file's header row.
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    # Cell (A1) of each Coalition field's value.
    coalition_cells: dict[str, str] = field(default_factory=dict)
    # Sheet name as found in the file, per sheet key ("coalition" for the Coalition sheet); may differ from the
    # declared name in case or spacing.
    sheet_names: dict[str, str] = field(default_factory=dict)
    # Worksheet row (1-based) of each data sheet's header row, per sheet key.
    header_rows: dict[str, int] = field(default_factory=dict)

    def cell(self, sheet_key: str, column_key: str, row: int) -> str:
        letter = self.columns.get(sheet_key, {}).get(column_key, "A")
        return f"{letter}{row}" if row else ""


@dataclass
class Plan:
    coalition: dict[str, Any] = field(default_factory=dict)  # field key -> value
    records: dict[str, list[Record]] = field(default_factory=lambda: {s.key: [] for s in schema.SHEETS})
    source: Source = field(default_factory=Source)

    def rows(self, sheet_key: str) -> list[Record]:
        return self.records.setdefault(sheet_key, [])

    def digest(self) -> str:
        """A short hash of the plan's content (Coalition fields and every row's values), not of the file's bytes:
        two files holding the same plan share it, whatever app saved them."""
        import hashlib
        import json

        content = {
            "coalition": self.coalition,
            "rows": {key: [[r.id, r.values] for r in rows] for key, rows in sorted(self.records.items())},
        }
        text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def by_id(self, sheet_key: str) -> dict[str, Record]:
        """First row of each ID on a sheet (duplicates are a finding, not an error here)."""
        out: dict[str, Record] = {}
        for rec in self.rows(sheet_key):
            if rec.id is not None:
                out.setdefault(rec.id, rec)
        return out

    def index(self) -> PlanIndex:
        """Navigation over the plan as it is now (build a new one after changing the plan)."""
        return PlanIndex(self)

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """One pandas DataFrame per sheet, keyed by sheet name: typed columns named by their headers, IDs as the
        index (see :mod:`reentry_workbook.plan.frames`)."""
        from .frames import plan_frames

        return plan_frames(self)


# The column naming each sheet's parent row: the chain of service, and a measure's improvement.
PARENT_COLUMN: dict[str, str] = {**dict(schema.CHAIN), "measures": "improvement"}
# sheet key -> (that column, the parent's sheet key): looked up once, not on every step of a walk
_PARENT_LINK: dict[str, tuple[str, str]] = {
    key: (column, schema.sheet(key).column(column).ref or "") for key, column in PARENT_COLUMN.items()
}


@dataclass(frozen=True, slots=True)
class Chain:
    """A step's chain of service: the improvement it names, that improvement's goal, that goal's priority.

    A link is None when the cell above it is blank or unknown, or names a row that does not exist.
    """

    step: Record
    improvement: Record | None
    goal: Record | None
    priority: Record | None

    @property
    def complete(self) -> bool:
        """Every link names a row that exists."""
        return self.priority is not None

    @property
    def serves(self) -> bool:
        """The step serves the goals: its chain is complete and the member has not marked it as not serving."""
        return self.priority is not None and not self.step.serves_goal_no()


class PlanIndex:
    """Navigation along the chain of service, built once per plan so that walking every row stays linear.

    Each row's parent, goal and chain are worked out once per index and kept (by the row's identity): the
    audit's figures, tables and questions share one index, so a step's chain is walked once per audit.
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._by_id = {key: plan.by_id(key) for key in ("priorities", "goals", "improvements")}
        self._parents: dict[int, Record | None] = {}
        self._goals: dict[int, Record | None] = {}
        self._chains: dict[int, Chain] = {}

    def row(self, sheet_key: str, row_id: str | None) -> Record | None:
        """The first row of a sheet with that ID."""
        found = self._by_id.get(sheet_key)
        if found is None:
            found = self._by_id[sheet_key] = self.plan.by_id(sheet_key)
        return found.get(row_id) if row_id is not None else None

    def parent(self, rec: Record | None) -> Record | None:
        """The row ``rec`` names as its parent (a step's improvement, a measure's improvement, an
        improvement's goal, a goal's priority); None when it names none that exists."""
        if rec is None:
            return None
        key = id(rec)
        if key in self._parents:
            return self._parents[key]
        found = self._parents[key] = self._find_parent(rec)
        return found

    def _find_parent(self, rec: Record) -> Record | None:
        link = _PARENT_LINK.get(rec.sheet)
        if link is None:
            return None
        row_id = as_reference(rec.values.get(link[0]))
        if row_id is None:
            return None
        found = self._by_id.get(link[1])
        if found is None:
            found = self._by_id[link[1]] = self.plan.by_id(link[1])
        return found.get(row_id)

    def goal(self, rec: Record) -> Record | None:
        """The goal a row serves: the goal itself, an improvement's goal, a step's or measure's through its
        improvement."""
        if rec.sheet == "goals":
            return rec
        key = id(rec)
        if key in self._goals:
            return self._goals[key]
        improvement = rec if rec.sheet == "improvements" else self.parent(rec)
        goal = None if improvement is None or improvement.sheet != "improvements" else self.parent(improvement)
        self._goals[key] = goal
        return goal

    def chain(self, step: Record) -> Chain:
        key = id(step)
        found = self._chains.get(key)
        if found is None:
            improvement = self.parent(step)
            goal = self.parent(improvement)
            found = self._chains[key] = Chain(step, improvement, goal, self.parent(goal))
        return found


@dataclass(frozen=True)
class Finding:
    """One gap or problem, in the stable shape every rendering shares."""

    rule: str  # slug from the catalogue
    severity: str  # "error", "warning" or "info"
    sheet: str  # sheet name as shown in Excel
    cell: str  # A1 reference, "" when the finding is about a whole sheet
    id: str | None  # the row's ID, when it has one
    message: str  # names the row in plain language
    fix: str  # how to put it right

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "id": self.id,
            "message": self.message,
            "fix": self.fix,
        }
