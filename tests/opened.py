"""Counting how often a command opens each workbook (the cycle's commands read each input once)."""

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
