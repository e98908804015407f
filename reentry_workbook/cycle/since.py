"""``audit --since PREVIOUS``: the audit, with the rows changed since a previous version listed in its report.

The rows are found by the diff engine (:func:`diff.compare`: matched by ID, compared as a member sees them);
the audit lists them under "since the last audit" in every rendering.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..audit.pipeline import AuditResult, audit_file
from ..audit.report import ChangedRow
from .diff import CHANGED, compare, field_label, sheet_label


def changed_rows(previous: Path, current: Path) -> list[ChangedRow]:
    """Rows added, removed and changed from ``previous`` to ``current`` (fields named only for changed rows)."""
    from ..audit.reader import read_plan

    changes = compare(read_plan(Path(previous)).plan, read_plan(Path(current)).plan)
    return [
        ChangedRow(
            c.kind,
            sheet_label(c.sheet),
            c.id,
            c.text,
            [field_label(c.sheet, f.field) for f in c.fields] if c.kind == CHANGED else [],
        )
        for c in changes
    ]


def audit_since(path: Path, previous: Path, **options: Any) -> AuditResult:
    """:func:`audit_file` of ``path`` (same options), listing the rows changed since ``previous``."""
    return audit_file(path, changes=changed_rows(previous, path), **options)
