"""Checks a file before any parser sees it. (Minimal first version; hardened in the reliability issue.)"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .errors import NotAWorkbookError, UnusableInputError


def open_package(path: Path) -> zipfile.ZipFile:
    """Open ``path`` as an .xlsx package after checking it is one; raise a typed error otherwise."""
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise UnusableInputError(f"{path} does not exist; check the file name") from None
    except (zipfile.BadZipFile, OSError):
        raise NotAWorkbookError(f"{path} is not an .xlsx workbook; open it in Excel and save it as .xlsx") from None
    return zf
