"""The one declaration of the plan workbook.

Every sheet name, header text, value type, choice list, reference and help text lives here and nowhere
else. The generator, the reader, the audit, the round-trip commands and the documentation all read it.
This module must stay free of heavy imports: the CLI's start-up path may touch it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import Enum
from functools import cached_property

TEMPLATE_NAME = "reentry-workbook plan"
TEMPLATE_VERSION = "1.0"

# Custom document property names that carry the template's identity.
PROP_TEMPLATE = "reentry-workbook template"
PROP_VERSION = "reentry-workbook template version"
PROP_FINGERPRINT = "reentry-workbook fingerprint"
# Custom document property of a workbook the tool writes that is not a plan (a roll-up, a diff): its kind.
# A folder audit never takes such a file as a returned plan, whatever it is named.
PROP_OUTPUT = "reentry-workbook output"
OUTPUT_ROLLUP = "roll-up"
OUTPUT_DIFF = "diff"

START_SHEET = "Start Here"
COALITION_SHEET = "Coalition"
LISTS_SHEET = "Lists"
SUMMARY_SHEET = "Alignment Summary"
HISTORY_SHEET = "Audit History"  # one row per audit, carried in the workbook (see HISTORY_COLUMNS)

# Header texts of the Coalition sheet's two columns.
COALITION_LABEL_HEADER = "Field"
COALITION_VALUE_HEADER = "Value"

HEADER_ROW = 1  # 1-based row of the header on every data sheet
FIRST_DATA_ROW = HEADER_ROW + 1
DEFAULT_ROWS = 200  # pre-formatted rows per data sheet
DEFAULT_HORIZON = 30  # days ahead the audit and the brief list the steps coming up
ID_SEPARATOR = " - "  # between an ID and its text in a dropdown label


class Kind(str, Enum):
    """What a column holds; the reader and the generator treat each kind alike everywhere."""

    ID = "id"
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    REF = "ref"
    DATE = "date"
    NUMBER = "number"
    MONEY = "money"
    EMAIL = "email"
    DERIVED = "derived"  # a formula the generator writes; never read back


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: Kind
    help: str
    width: float = 18
    required: bool = False
    choices: str | None = None  # key into CHOICES (Kind.CHOICE)
    ref: str | None = None  # key of the parent sheet (Kind.REF)
    suggest: str | None = None  # sheet key whose names are offered, other text allowed


@dataclass(frozen=True)
class Sheet:
    key: str
    name: str
    id_prefix: str | None  # one letter; None for a sheet without IDs
    label: str  # key of the column whose text follows the ID in dropdown labels
    help: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(f"{self.name} has no column {key!r}")

    @cached_property  # asked for every row of large plans
    def id_column(self) -> Column | None:
        return next((c for c in self.columns if c.kind is Kind.ID), None)

    @cached_property
    def reference_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind is Kind.REF)


@dataclass(frozen=True)
class Field:
    """A label/value pair on the Coalition sheet."""

    key: str
    label: str
    kind: Kind
    help: str
    required: bool = False
    choices: str | None = None


CHOICES: dict[str, tuple[str, ...]] = {
    "policy_or_practice": ("Policy", "Practice", "Both"),
    "mechanism": (
        "Legislative policy",
        "Administrative policy",
        "Budget or appropriation",
        "Executive order",
        "Court rule or order",
        "Interagency agreement",
        "Contract or grant requirement",
        "Agency practice or protocol",
        "Training",
        "Program or service change",
        "Other",
    ),
    "buy_in": ("Not yet engaged", "Engaged", "Supportive", "Committed", "Opposed"),
    "resources_secured": ("Yes", "Partly", "No", "Not needed"),
    "serves_goal": ("Yes", "Partly", "No"),
    "status": ("Not started", "In progress", "Complete", "Delayed", "On hold", "Dropped"),
    "frequency": ("Monthly", "Quarterly", "Twice a year", "Yearly"),
    "role": ("Decision maker", "Stakeholder", "Coalition member", "Community partner"),
    "sector": (
        "Advocacy and faith-based organizations",
        "Behavioral health providers",
        "Chamber of commerce",
        "Community-based reentry providers",
        "Department of health",
        "Department of social services",
        "Housing providers",
        "Jail administration",
        "Judges and court administration",
        "Local businesses and employers",
        "Defense attorneys and prosecutors",
        "Law enforcement",
        "Local mental health authority",
        "Philanthropic foundations",
        "Workforce board and providers",
        "Medical providers",
        "People with lived experience of reentry and their families",
        "Crime survivors and advocates",
        "Probation, parole and community supervision",
        "State department of corrections",
        "Public housing authority",
        "Elected officials",
        "Other",
    ),
}

# Days a frequency allows between two updates (plan reviews, measure readings).
FREQUENCY_DAYS: dict[str, int] = {"Monthly": 31, "Quarterly": 92, "Twice a year": 183, "Yearly": 366}

# Statuses that close an action step: it can no longer be overdue.
CLOSED_STATUSES: tuple[str, ...] = ("Complete", "Dropped")
COMPLETE_STATUS = "Complete"

# Choice values the alignment rules test for (each is one of the CHOICES above).
SERVES_GOAL_YES = "Yes"
SERVES_GOAL_PARTLY = "Partly"
SERVES_GOAL_NO = "No"
RESOURCES_SECURED_NO = "No"
RESOURCES_SECURED_YES = "Yes"
RESOURCES_SECURED_PARTLY = "Partly"
RESOURCES_NOT_NEEDED = "Not needed"

COALITION_FIELDS: tuple[Field, ...] = (
    Field("name", "Coalition name", Kind.TEXT, "The name the coalition goes by.", required=True),
    Field("jurisdiction", "Jurisdiction", Kind.TEXT, "County, city or region the plan covers.", required=True),
    Field("plan_start", "Plan start", Kind.DATE, "First day the plan is in force.", required=True),
    Field("plan_end", "Plan end", Kind.DATE, "Last day the plan is in force.", required=True),
    Field("coordinator", "Plan coordinator", Kind.TEXT, "Who keeps this workbook and runs the audit.", required=True),
    Field("coordinator_email", "Coordinator email", Kind.EMAIL, "Where members send their copies back."),
    Field(
        "review_cadence",
        "Review cadence",
        Kind.CHOICE,
        "How often the whole coalition looks at the plan again.",
        required=True,
        choices="frequency",
    ),
    Field("last_reviewed", "Last reviewed", Kind.DATE, "Date of the latest full review of the plan."),
)

_DATE_HELP = " Type a date such as 2027-03-15."

SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "priorities",
        "Priorities",
        "P",
        "priority",
        "The issues the coalition has chosen to move, such as housing, jobs or behavioral health.",
        (
            Column("id", "ID", Kind.ID, "Filled in for you. Keep it: copies are matched by ID.", width=8),
            Column("priority", "Priority", Kind.TEXT, "A key issue the coalition wants to change.", 34, True),
            Column("why", "Why it matters", Kind.LONG_TEXT, "What the data or members' experience say.", 44),
            Column("lead", "Lead", Kind.TEXT, "Member who champions this priority.", 22, suggest="stakeholders"),
        ),
    ),
    Sheet(
        "goals",
        "Goals",
        "G",
        "goal",
        "Measurable milestones; each serves one priority, and a priority can have several.",
        (
            Column("id", "ID", Kind.ID, "Filled in for you. Keep it: copies are matched by ID.", width=8),
            Column("priority", "Priority", Kind.REF, "Pick the priority this goal serves.", 30, True, ref="priorities"),
            Column("goal", "Goal", Kind.LONG_TEXT, "A milestone you could show is reached.", 40, True),
            Column("success_measure", "Success measure", Kind.TEXT, "The figure that shows progress.", 28, True),
            Column("baseline", "Baseline", Kind.TEXT, "Where the figure stands today.", 12),
            Column("target", "Target", Kind.TEXT, "Where the figure should be by the target date.", 12, True),
            Column("target_date", "Target date", Kind.DATE, "When the target should be met." + _DATE_HELP, 13, True),
        ),
    ),
    Sheet(
        "improvements",
        "Improvements",
        "I",
        "improvement",
        "The policy and practice changes picked to reach a goal.",
        (
            Column("id", "ID", Kind.ID, "Filled in for you. Keep it: copies are matched by ID.", width=8),
            Column("goal", "Goal", Kind.REF, "Pick the goal this change helps reach.", 30, True, ref="goals"),
            Column("improvement", "Proposed improvement", Kind.LONG_TEXT, "The change, in one sentence.", 40, True),
            Column(
                "policy_or_practice",
                "Policy or practice",
                Kind.CHOICE,
                "Is it a change of written policy, of day-to-day practice, or both?",
                12,
                choices="policy_or_practice",
            ),
            Column(
                "mechanism",
                "Mechanism",
                Kind.CHOICE,
                "How the change gets made, e.g. legislative or administrative policy.",
                24,
                True,
                choices="mechanism",
            ),
            Column(
                "stakeholders",
                "Stakeholders and decision makers",
                Kind.LONG_TEXT,
                "Whose agreement the change needs.",
                30,
                True,
            ),
            Column("buy_in", "Buy-in", Kind.CHOICE, "How far those people are on board.", 15, choices="buy_in"),
            Column("resources_needed", "Resources needed", Kind.LONG_TEXT, "Staff, money, data or space.", 26),
            Column(
                "resources_secured",
                "Resources secured",
                Kind.CHOICE,
                "Are those resources in hand?",
                12,
                choices="resources_secured",
            ),
            Column("estimated_cost", "Estimated cost", Kind.MONEY, "A rough figure in dollars.", 13),
        ),
    ),
    Sheet(
        "measures",
        "Measures",
        "M",
        "measure",
        "Indicators tracked for each proposed improvement.",
        (
            Column("id", "ID", Kind.ID, "Filled in for you. Keep it: copies are matched by ID.", width=8),
            Column(
                "improvement",
                "Improvement",
                Kind.REF,
                "Pick the improvement this indicator tracks.",
                30,
                True,
                ref="improvements",
            ),
            Column("measure", "Performance measure", Kind.LONG_TEXT, "What is counted, and how.", 36, True),
            Column("data_source", "Data source", Kind.TEXT, "Where the numbers come from.", 22),
            Column("baseline", "Baseline", Kind.TEXT, "The value before the change.", 12),
            Column("target", "Target", Kind.TEXT, "The value you are aiming for.", 12, True),
            Column("latest_value", "Latest value", Kind.TEXT, "The newest reading.", 12),
            Column("latest_as_of", "Latest as of", Kind.DATE, "When the newest reading was taken." + _DATE_HELP, 13),
            Column(
                "reporting_frequency",
                "Reporting frequency",
                Kind.CHOICE,
                "How often a new reading is due.",
                14,
                choices="frequency",
            ),
        ),
    ),
    Sheet(
        "steps",
        "Action Steps",
        "A",
        "step",
        "Time-bound, doable tasks that keep members accountable and show progress.",
        (
            Column("id", "ID", Kind.ID, "Filled in for you. Keep it: copies are matched by ID.", width=8),
            Column(
                "improvement",
                "Improvement",
                Kind.REF,
                "Pick the improvement this step moves forward.",
                30,
                True,
                ref="improvements",
            ),
            Column("goal", "Goal", Kind.DERIVED, "Shown for you from the improvement; no need to type.", 26),
            Column("step", "Action step", Kind.LONG_TEXT, "One concrete task.", 40, True),
            Column(
                "serves_goal",
                "Serves goal?",
                Kind.CHOICE,
                "Does this step really move the goal forward?",
                10,
                True,
                choices="serves_goal",
            ),
            Column("how_it_serves", "How it serves the goal", Kind.LONG_TEXT, "One line on the link.", 30),
            Column("responsible", "Responsible", Kind.TEXT, "Who answers for it.", 20, True, suggest="stakeholders"),
            Column("start_date", "Start date", Kind.DATE, "When work begins." + _DATE_HELP, 12),
            Column("due_date", "Due date", Kind.DATE, "When it should be done." + _DATE_HELP, 12, True),
            Column("status", "Status", Kind.CHOICE, "Where the step stands now.", 12, True, choices="status"),
            Column("resources_needed", "Resources needed", Kind.TEXT, "Anything the step needs.", 20),
            Column("last_updated", "Last updated", Kind.DATE, "When this row was last brought up to date.", 12),
            Column("notes", "Notes", Kind.LONG_TEXT, "Anything else worth knowing.", 30),
        ),
    ),
    Sheet(
        "stakeholders",
        "Stakeholders",
        None,
        "name",
        "People and organisations whose buy-in the plan needs.",
        (
            Column("name", "Name", Kind.TEXT, "A person or an office.", 24),
            Column("organization", "Organization", Kind.TEXT, "Agency, provider or group.", 28),
            Column("sector", "Sector", Kind.CHOICE, "Which part of the community they are.", 30, choices="sector"),
            Column("role", "Role", Kind.CHOICE, "Their part in the plan.", 18, choices="role"),
            Column("email", "Email", Kind.EMAIL, "How to reach them.", 26),
            Column("notes", "Notes", Kind.LONG_TEXT, "Anything else worth knowing.", 30),
        ),
    ),
)

SHEETS_BY_KEY: dict[str, Sheet] = {s.key: s for s in SHEETS}
SHEETS_BY_PREFIX: dict[str, Sheet] = {s.id_prefix: s for s in SHEETS if s.id_prefix}

# Order of the sheets in a generated workbook (the summary is added by the audit, first).
SHEET_ORDER: tuple[str, ...] = (START_SHEET, COALITION_SHEET, *(s.name for s in SHEETS), LISTS_SHEET)
REQUIRED_SHEETS: tuple[str, ...] = (COALITION_SHEET, *(s.name for s in SHEETS if s.id_prefix))

# The chain of service, child to parent: which column of which sheet names the parent row.
CHAIN: tuple[tuple[str, str], ...] = (("steps", "improvement"), ("improvements", "goal"), ("goals", "priority"))


def sheet(key: str) -> Sheet:
    return SHEETS_BY_KEY[key]


def coalition_field(key: str) -> Field:
    return next(f for f in COALITION_FIELDS if f.key == key)


def choice_list_name(choices: str) -> str:
    """Workbook-level defined name of a choice list on the Lists sheet."""
    return "List_" + "".join(part.capitalize() for part in choices.split("_"))


def reference_list_name(sheet_key: str) -> str:
    """Workbook-level defined name of the "ID - text" labels of a sheet's rows."""
    return "Ref_" + sheet(sheet_key).name.replace(" ", "")


def suggest_list_name(sheet_key: str) -> str:
    """Workbook-level defined name of the names offered (not enforced) from a sheet."""
    return "Names_" + sheet(sheet_key).name.replace(" ", "")


def declaration() -> dict[str, object]:
    """The declaration as plain data (documentation and fingerprint)."""
    return {
        "template": TEMPLATE_NAME,
        "version": TEMPLATE_VERSION,
        "coalition": [asdict(f) for f in COALITION_FIELDS],
        "sheets": [asdict(s) for s in SHEETS],
        "choices": CHOICES,
    }


def fingerprint() -> str:
    """A short hash of the declaration: two workbooks with the same one share a layout."""
    text = json.dumps(declaration(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def normalise_header(text: object) -> str:
    """Header text as the reader compares it: case, spaces and line breaks ignored."""
    return " ".join(str(text or "").split()).casefold()



# --- Round-trip commands (packets, merge, diff, upgrade) -----------------------------------------------------
# Sheets these commands add beside the plan's own; the reader ignores them like any extra sheet.
PACKET_SHEET = "About This Packet"
# A packet's very hidden sheet: for each row the member answers for, a fingerprint of each of its cells as the
# packet was cut ("column=fingerprint", space-separated, in one cell), so that the merge tells the member's edits
# from values the coordinator has changed in the master since.
PACKET_BASE_SHEET = "Packet Base"
PACKET_BASE_HEADERS: tuple[str, ...] = ("Sheet", "Row", "Fingerprints")
MERGE_CONFLICTS_SHEET = "Merge Conflicts"
MERGE_LOG_SHEET = "Merge Log"
UPGRADE_NOTES_SHEET = "Upgrade Notes"
DIFF_SUMMARY_SHEET = "Diff Summary"
DIFF_CHANGES_SHEET = "Plan Changes"
# Custom document properties of a member packet: who it is for, and which master it was cut from.
PROP_PACKET_MEMBER = "reentry-workbook packet member"
PROP_PACKET_MASTER = "reentry-workbook packet master fingerprint"
PROP_PACKET_MASTER_FILE = "reentry-workbook packet master file"
PROP_PACKET_MADE = "reentry-workbook packet made"


# --- The Audit History sheet (written by the audit, read back like any plan sheet) ---------------------------
# (key, header) of each column, in sheet order. Plain values: dates, text, whole numbers, shares as numbers
# between 0 and 1 shown as percentages, costs in dollars. The reader finds columns by header text and keeps
# any row whose as-of date it can read.
HISTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("as_of", "As of"),
    ("audited_at", "Audited at"),
    ("file", "File"),
    ("template_version", "Template version"),
    ("alignment", "Alignment"),
    ("completeness", "Completeness"),
    ("errors", "Errors"),
    ("warnings", "Warnings"),
    ("info", "Info"),
    ("steps", "Action steps"),
    ("complete", COMPLETE_STATUS),
    ("overdue", "Overdue"),
    ("estimated_cost", "Estimated cost"),
    ("secured_cost", "Secured cost"),
    *((key, sheet(key).name) for key in ("priorities", "goals", "improvements", "measures")),
)
