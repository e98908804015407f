"""Plans built in code, for tests: a clean, complete plan that gives no finding, and helpers to break it.

Import from tests as ``from plans import clean_plan, add, get, cell`` (pytest puts tests/ on sys.path; the
conftest-free layout keeps it importable from any working directory). Every sheet name, header and choice
comes from ``reentry_workbook.plan.schema``.

The clean plan (as of :data:`AS_OF`):

- priorities P-1, P-2; goals G-1 (P-1), G-2 (P-2), G-3 (P-1);
- improvements I-1 (G-1), I-2 (G-2), I-3 (G-3), I-4 (G-1), each with one measure M-n (I-1 also M-5);
- steps A-1 (I-1, open), A-2 (I-2, complete, due before AS_OF), A-3 (I-1, serves partly and says how),
  A-4 (I-3, open), A-5 (I-4, open); one stakeholder row.

Every parent keeps a sibling, so most single edits give exactly one finding.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reentry_workbook.plan import schema
from reentry_workbook.plan.model import Plan, Record, Source

AS_OF = dt.date(2027, 3, 1)
PLAN_START = dt.date(2026, 7, 1)
PLAN_END = dt.date(2028, 6, 30)

# Choice values picked by position or property, never spelled.
FREQUENCIES: list[str] = sorted(schema.FREQUENCY_DAYS, key=schema.FREQUENCY_DAYS.__getitem__)
SHORTEST_FREQUENCY = FREQUENCIES[0]
OPEN_STATUSES: list[str] = [s for s in schema.CHOICES["status"] if s not in schema.CLOSED_STATUSES]
OPEN_STATUS = OPEN_STATUSES[0]
DROPPED_STATUS = next(s for s in schema.CLOSED_STATUSES if s != schema.COMPLETE_STATUS)
SECURED_OK: list[str] = [s for s in schema.CHOICES["resources_secured"] if s != schema.RESOURCES_SECURED_NO]


def _letter(index: int) -> str:
    """Column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def make_source(file: str = "plan.xlsx") -> Source:
    """A Source whose columns sit in declaration order and whose Coalition values sit in column B."""
    columns = {s.key: {c.key: _letter(i) for i, c in enumerate(s.columns)} for s in schema.SHEETS}
    coalition_cells = {f.key: f"B{schema.FIRST_DATA_ROW + i}" for i, f in enumerate(schema.COALITION_FIELDS)}
    return Source(
        file=file,
        template_name=schema.TEMPLATE_NAME,
        template_version=schema.TEMPLATE_VERSION,
        fingerprint=schema.fingerprint(),
        columns=columns,
        coalition_cells=coalition_cells,
    )


def coalition(**overrides: Any) -> dict[str, Any]:
    """Complete Coalition field values, reviewed recently."""
    values: dict[str, Any] = {
        "name": "Lakeside County Reentry Coalition",
        "jurisdiction": "Lakeside County",
        "plan_start": PLAN_START,
        "plan_end": PLAN_END,
        "coordinator": "Dana Whitfield",
        "coordinator_email": "dana@example.org",
        "review_cadence": SHORTEST_FREQUENCY,
        "last_reviewed": AS_OF - dt.timedelta(days=10),
    }
    values.update(overrides)
    return values


def empty_plan(**coalition_overrides: Any) -> Plan:
    """A plan with complete Coalition fields and no rows."""
    return Plan(coalition=coalition(**coalition_overrides), source=make_source())


def add(plan: Plan, sheet_key: str, id: str | None = None, **values: Any) -> Record:
    """Append a row to a sheet, on the next worksheet row; unknown column keys are refused."""
    sheet = schema.sheet(sheet_key)
    known = {c.key for c in sheet.columns}
    unknown = set(values) - known
    if unknown:
        raise KeyError(f"{sheet.name} has no columns {sorted(unknown)}")
    rows = plan.rows(sheet_key)
    row = (rows[-1].row + 1) if rows else schema.FIRST_DATA_ROW
    full = {c.key: None for c in sheet.columns if c.kind is not schema.Kind.DERIVED}
    if sheet.id_column is not None:
        full["id"] = id
    full.update(values)
    rec = Record(sheet=sheet_key, id=id, values=full, row=row)
    rows.append(rec)
    return rec


def get(plan: Plan, sheet_key: str, id: str) -> Record:
    """The first row of a sheet with that ID."""
    return next(r for r in plan.rows(sheet_key) if r.id == id)


def cell(plan: Plan, sheet_key: str, id: str, column_key: str) -> str:
    """A1 cell of a column in the row with that ID."""
    return plan.source.cell(sheet_key, column_key, get(plan, sheet_key, id).row)


def add_priority(plan: Plan, id: str, text: str, **values: Any) -> Record:
    base = {"priority": text, "why": "Members and data point to it.", "lead": "Dana Whitfield"}
    return add(plan, "priorities", id, **{**base, **values})


def add_goal(plan: Plan, id: str, priority: str | None, text: str, **values: Any) -> Record:
    base = {
        "priority": priority,
        "goal": text,
        "success_measure": "Share of people released with a stable address",
        "baseline": "40%",
        "target": "70%",
        "target_date": dt.date(2028, 6, 30),
    }
    return add(plan, "goals", id, **{**base, **values})


def add_improvement(plan: Plan, id: str, goal: str | None, text: str, **values: Any) -> Record:
    base = {
        "goal": goal,
        "improvement": text,
        "policy_or_practice": schema.CHOICES["policy_or_practice"][0],
        "mechanism": schema.CHOICES["mechanism"][1],
        "stakeholders": "Sheriff; housing authority director",
        "buy_in": schema.CHOICES["buy_in"][2],
        "resources_needed": "One case manager",
        "resources_secured": SECURED_OK[0],
        "estimated_cost": 52000,
    }
    return add(plan, "improvements", id, **{**base, **values})


def add_measure(plan: Plan, id: str, improvement: str | None, text: str, **values: Any) -> Record:
    base = {
        "improvement": improvement,
        "measure": text,
        "data_source": "Jail management system",
        "baseline": "12",
        "target": "60",
        "latest_value": "31",
        "latest_as_of": AS_OF - dt.timedelta(days=14),
        "reporting_frequency": SHORTEST_FREQUENCY,
    }
    return add(plan, "measures", id, **{**base, **values})


def add_step(plan: Plan, id: str, improvement: str | None, text: str, **values: Any) -> Record:
    base = {
        "improvement": improvement,
        "step": text,
        "serves_goal": schema.SERVES_GOAL_YES,
        "how_it_serves": "Moves the improvement forward.",
        "responsible": "Maria Lopez",
        "start_date": dt.date(2027, 1, 4),
        "due_date": dt.date(2027, 6, 30),
        "status": OPEN_STATUS,
        "resources_needed": None,
        "last_updated": AS_OF - dt.timedelta(days=3),
        "notes": None,
    }
    return add(plan, "steps", id, **{**base, **values})


def clean_plan() -> Plan:
    """A complete plan with no gap at all as of :data:`AS_OF`."""
    plan = empty_plan()
    add_priority(plan, "P-1", "Housing")
    add_priority(plan, "P-2", "Employment")
    add_goal(plan, "G-1", "P-1", "Cut releases to homelessness by half")
    add_goal(plan, "G-2", "P-2", "Two in three people employed within 90 days of release")
    add_goal(plan, "G-3", "P-1", "Every person leaves jail with ID documents")
    add_improvement(plan, "I-1", "G-1", "Housing navigator in the jail")
    add_improvement(plan, "I-2", "G-2", "Job readiness classes before release", resources_needed=None)
    add_improvement(plan, "I-3", "G-3", "ID replacement at booking")
    add_improvement(plan, "I-4", "G-1", "Landlord incentive fund")
    add_measure(plan, "M-1", "I-1", "People housed at release")
    add_measure(plan, "M-2", "I-2", "Class completions")
    add_measure(plan, "M-3", "I-3", "IDs issued before release")
    add_measure(plan, "M-4", "I-4", "Landlords enrolled")
    add_measure(plan, "M-5", "I-1", "Days from release to housing", baseline="45", target="14")
    add_step(plan, "A-1", "I-1", "Draft MOU with the housing authority")
    add_step(
        plan,
        "A-2",
        "I-2",
        "Pick a curriculum",
        status=schema.COMPLETE_STATUS,
        start_date=dt.date(2026, 9, 1),
        due_date=dt.date(2027, 1, 31),
        responsible="maria  LOPEZ",
    )
    add_step(
        plan,
        "A-3",
        "I-1",
        "Train intake staff",
        serves_goal=schema.SERVES_GOAL_PARTLY,
        how_it_serves="Intake flags people at risk of homelessness.",
        responsible="Sam Okafor",
        due_date=dt.date(2027, 8, 31),
    )
    add_step(plan, "A-4", "I-3", "Agree fee waiver with the state DMV", due_date=dt.date(2027, 9, 30))
    add_step(
        plan,
        "A-5",
        "I-4",
        "Ask the county board for seed money",
        responsible="Sam Okafor",
        due_date=dt.date(2027, 12, 31),
    )
    add(
        plan,
        "stakeholders",
        name="Lakeside Housing Authority",
        organization="Lakeside Housing Authority",
        sector=schema.CHOICES["sector"][-3],
        role=schema.CHOICES["role"][0],
        email="info@example.org",
    )
    return plan
