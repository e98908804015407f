"""The plan model: what the reader produces and the rules, round-trip commands and generator consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import schema


@dataclass
class Record:
    """One row of a data sheet.

    ``values`` maps column keys of the declaration to Python values: ``str`` for text, choices and
    references (a reference holds the parent's normalised ID when it could be resolved, else the text as
    typed), ``datetime.date`` for readable dates, ``int``/``float`` for numbers, ``None`` for blank.
    Cells the reader could not take at face value (formulas, error values, unreadable dates) hold ``None``
    or the raw text, and the reader reports them as findings.
    """

    sheet: str  # sheet key of the declaration
    id: str | None  # normalised ID ("A-12"); for sheets without IDs, None
    values: dict[str, Any] = field(default_factory=dict)
    row: int = 0  # 1-based worksheet row it was read from; 0 when it was not read from a file

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def is_blank(self) -> bool:
        return all(v in (None, "") for v in self.values.values())


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

    def by_id(self, sheet_key: str) -> dict[str, Record]:
        """First row of each ID on a sheet (duplicates are a finding, not an error here)."""
        out: dict[str, Record] = {}
        for rec in self.rows(sheet_key):
            if rec.id is not None:
                out.setdefault(rec.id, rec)
        return out


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
