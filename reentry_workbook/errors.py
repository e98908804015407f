"""Typed exceptions. Each message says what went wrong and what to do; the CLI prints it as one line."""

from __future__ import annotations

# Exit codes, documented in the CLI's help and the README.
EXIT_OK = 0
EXIT_FINDINGS = 1  # the audit found something at or above --fail-on
EXIT_UNUSABLE = 2  # an input that cannot be used, or bad usage


class ReentryWorkbookError(Exception):
    """Base of every error a user can hit; the message is one sentence that says what to do."""

    exit_code = EXIT_UNUSABLE


class UnusableInputError(ReentryWorkbookError):
    """A file that cannot be read as a plan workbook (wrong format, damaged, hostile, not our template)."""


class NotAWorkbookError(UnusableInputError):
    """The bytes are not an .xlsx package (legacy .xls, .ods, CSV, password-protected, random data)."""


class UnsafeArchiveError(UnusableInputError):
    """The archive would be dangerous to open (zip bomb, path tricks, entity expansion)."""


class TemplateMismatchError(UnusableInputError):
    """The workbook lacks a sheet or header the plan needs."""


class OutputError(ReentryWorkbookError):
    """An output cannot be written (exists already, folder not writable, same as the input)."""


class UsageError(ReentryWorkbookError):
    """Options that do not fit together."""


class MailError(ReentryWorkbookError):
    """Mail cannot be sent: the server cannot be reached, refuses the login or the connection is not secure."""
