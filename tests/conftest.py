"""Shared test setup: tests marked `libreoffice` need soffice and python3-uno.

Outside CI they are skipped when LibreOffice is missing; under CI (the CI environment variable set) a
missing LibreOffice fails them, so the real-spreadsheet-app tests can never silently vanish there.
"""

from __future__ import annotations

import os

import libreoffice
import pytest


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("libreoffice") is None or libreoffice.available():
        return
    if os.environ.get("CI"):
        pytest.fail("LibreOffice (soffice with python3-uno) is missing under CI; .ci/run installs it", pytrace=False)
    pytest.skip("LibreOffice (soffice with python3-uno) is not installed")


@pytest.fixture(autouse=True)
def _returns_read_here_under_mutation_testing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under mutmut (docs/testing.md), a merge reads its returns in this process, not in worker processes.

    mutmut learns which tests reach a function from the calls it sees in the test's own process; the reading of
    several returns in workers would hide every test of two returns or more from the merge's decisions.
    """
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    from reentry_workbook.cycle import workers

    monkeypatch.setattr(workers, "fork_available", lambda: False)
