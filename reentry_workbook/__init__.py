"""reentry-workbook: plan workbooks for local reentry coalitions, and the audit of their alignment.

The Python API (docs/python.md) is loaded on first use, so that importing the package and starting the
command line stay quick: ``read_plan``, ``audit_plan``, ``new_workbook``, ``collect`` (from
:mod:`reentry_workbook.api`) and the model's ``Plan``, ``Record``, ``Unknown`` and ``Finding``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import audit_plan, collect, new_workbook, read_plan
    from .audit.report import Report
    from .plan.model import Finding, Plan, Record, Unknown

# Public name -> the module that defines it. No name may equal a subpackage's or module's name: importing
# ``reentry_workbook.plan`` would rebind the package attribute ``plan`` (tests/test_api.py checks).
_API: dict[str, str] = {
    "read_plan": "api",
    "audit_plan": "api",
    "new_workbook": "api",
    "collect": "api",
    "Plan": "plan.model",
    "Record": "plan.model",
    "Unknown": "plan.model",
    "Finding": "plan.model",
    "Report": "audit.report",
}

__all__ = ["Finding", "Plan", "Record", "Report", "Unknown", "audit_plan", "collect", "new_workbook", "read_plan"]


def __getattr__(name: str) -> Any:
    if name in _API:
        from importlib import import_module

        value = getattr(import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value  # looked up once
        return value
    # The version is looked up on first use only: importlib.metadata is slow to import, and the CLI's
    # start-up path must stay lean.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("reentry-workbook")
        except PackageNotFoundError:  # a source tree that is not installed
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
