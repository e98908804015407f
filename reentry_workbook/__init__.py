"""reentry-workbook: plan workbooks for local reentry coalitions, and the audit of their alignment."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # The version is looked up on first use only: importlib.metadata is slow to import, and the CLI's
    # start-up path must stay lean.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("reentry-workbook")
        except PackageNotFoundError:  # a source tree that is not installed
            return "0+unknown"
    raise AttributeError(name)
