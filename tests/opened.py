"""Counting how often a command opens each workbook (the cycle's commands read each input once), and which parts
it inflates whole."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest


def count_opens(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """From now on, count every zip archive opened from a path, by file name (reads through openpyxl too)."""
    opened: Counter[str] = Counter()
    real_init = zipfile.ZipFile.__init__

    def init(self: zipfile.ZipFile, file: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(file, (str, Path)) and kwargs.get("mode", args[0] if args else "r") == "r":
            opened[Path(file).name] += 1
        real_init(self, file, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", init)
    return opened


def count_inflated_whole(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, list the name of every zip part inflated whole (``zip_io.ZipEntry.content``), in order."""
    from reentry_workbook.xlsx import zip_io

    inflated: list[str] = []
    real = zip_io.ZipEntry.content

    def content(self: zip_io.ZipEntry) -> bytes:
        inflated.append(self.name)
        return real(self)

    monkeypatch.setattr(zip_io.ZipEntry, "content", content)
    return inflated
