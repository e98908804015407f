"""The committed templates and docs/workbook.md match what the declaration produces today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reentry_workbook.plan.describe import docs_markdown
from reentry_workbook.workbook.generate import TEMPLATE_FILES, stale_templates

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "workbook_templates"
DOC = ROOT / "docs" / "workbook.md"


def test_committed_templates_are_fresh() -> None:
    assert all((TEMPLATES / name).is_file() for name in TEMPLATE_FILES)
    assert stale_templates(TEMPLATES) == [], "run: python scripts/build_templates.py"


def test_workbook_docs_are_fresh() -> None:
    assert DOC.read_text(encoding="utf-8") == docs_markdown(), "run: python scripts/build_workbook_docs.py"


def test_a_changed_template_counts_as_stale(tmp_path: Path) -> None:
    for name in TEMPLATE_FILES:
        (tmp_path / name).write_bytes((TEMPLATES / name).read_bytes())
    (tmp_path / "blank.xlsx").write_bytes(b"not a workbook")
    assert stale_templates(tmp_path) == ["blank.xlsx"]


def test_check_modes_of_the_build_scripts_exit_zero_from_any_folder(tmp_path: Path) -> None:
    for script in ("build_templates.py", "build_workbook_docs.py"):
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / script), "--check"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
