"""The library's type hints hold: code that calls it from Python (docs/python.md) can trust them.

mypy checks the package as ``setup.cfg`` sets it up (``[mypy]``): every annotated function's body against its
hints, and every ``type: ignore`` still needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_library_type_checks(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout
