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
