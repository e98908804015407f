"""reentry-workbook: plan workbooks for local reentry coalitions, and the audit of their alignment."""

from __future__ import annotations


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reentry-workbook")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


__version__ = _version()
