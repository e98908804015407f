"""Checks a file before any parser sees it.

Two entry points:

- :func:`sniff` names a file's format from its bytes (never from its extension): an .xlsx/.xlsm package, an
  OpenDocument spreadsheet, a legacy Excel 97-2003 workbook, a password-protected (encrypted) workbook, a CSV
  or other text file, an empty file, or unknown binary data.
- :func:`open_package` opens an .xlsx/.xlsm package only after checking it, and otherwise raises a typed error
  from :mod:`reentry_workbook.errors` whose message is one sentence: what is wrong and what to do.

The archive is judged from its central directory's *declared* sizes (member count, per-member and total
uncompressed size, compression ratio), its member names and flags, and the first bytes of each XML part (a
document type declaration is refused, so no entity expansion or external entity can ever reach a parser).
Nothing is fully decompressed to check it. Reading members through the returned :class:`zipfile.ZipFile` is
bounded as well: Python's zipfile never returns more bytes than a member declares (and fails its CRC check
instead), so a lying declared size cannot turn into a bomb later.

This module imports only the standard library; ``defusedxml`` is checked by :func:`require_defusedxml`, which
every XML reader calls before parsing."""

from __future__ import annotations

import os
import stat
import sys
import zipfile
import zlib
from pathlib import Path
from types import ModuleType

from ..errors import NotAWorkbookError, ReentryWorkbookError, UnusableInputError
from .archive import check_end_record, check_members, check_xml_prologs, damaged_message
from .limits import HEAD_BYTES, MAX_FILE_BYTES, megabytes, shown_name
from .sniff import WORKBOOK_FORMATS, ZIP_MAGIC, classify_zip, not_a_workbook_message, sniff_bytes

# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------


def sniff(path: Path | str) -> str:
    """Name the format of ``path`` from its bytes: one of the ``FORMAT_*`` constants.

    Raises :class:`UnusableInputError` only when the file cannot be read at all (missing, a folder, no
    permission). A zip archive is classified from its central directory and a few tiny parts; nothing is
    decompressed beyond those.
    """
    path = Path(path)
    size, head = _read_head(path)
    return sniff_bytes(path, size, head).format


def open_package(path: Path | str) -> zipfile.ZipFile:
    """Open ``path`` as an .xlsx/.xlsm package after checking it; raise a typed error otherwise.

    Errors: :class:`UnusableInputError` (missing, folder, unreadable, damaged, too large),
    :class:`NotAWorkbookError` (another format: legacy .xls, password-protected, .ods, CSV, text, ...),
    :class:`UnsafeArchiveError` (zip bomb, too many parts, path tricks, duplicate names, DTDs/entities).
    The caller closes the returned archive (``with open_package(p) as zf: ...``).
    """
    path = Path(path)
    size, head = _read_head(path)
    if not head.startswith(ZIP_MAGIC):
        raise NotAWorkbookError(not_a_workbook_message(path, sniff_bytes(path, size, head)))
    if size > MAX_FILE_BYTES:
        raise UnusableInputError(
            f"{shown_name(path)} is larger than {megabytes(MAX_FILE_BYTES)}, far more than a plan workbook needs, "
            f"so it was not opened; open it in Excel, remove large pictures or unused sheets and save a copy, then "
            f"use that copy instead."
        )
    check_end_record(path, size)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise UnusableInputError(damaged_message(path)) from None
    try:
        infos = zf.infolist()
        check_members(path, infos)
        sniffed = classify_zip(zf)
        if sniffed.format not in WORKBOOK_FORMATS:
            raise NotAWorkbookError(not_a_workbook_message(path, sniffed))
        check_xml_prologs(path, zf, infos)
    except ReentryWorkbookError:
        zf.close()
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
        zf.close()
        raise UnusableInputError(damaged_message(path)) from None
    except BaseException:
        zf.close()
        raise
    return zf


def require_defusedxml() -> ModuleType:
    """Return ``defusedxml.ElementTree``, or raise a clear error when defusedxml is not installed.

    Every XML reader calls this before parsing a member's XML. When openpyxl is already imported, it must have
    found defusedxml as well (``openpyxl.DEFUSEDXML``), or it would parse without entity protection.
    """
    message = (
        "defusedxml is required to read workbooks safely but is not installed; install it with "
        "`pip install defusedxml` (it is a dependency of reentry-workbook), then run the command again."
    )
    try:
        import defusedxml.ElementTree as safe_etree
    except ImportError:
        raise ReentryWorkbookError(message) from None
    openpyxl = sys.modules.get("openpyxl")
    if openpyxl is not None and not getattr(openpyxl, "DEFUSEDXML", True):
        raise ReentryWorkbookError(message)
    return safe_etree


# --------------------------------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------------------------------


def _open_binary(path: Path) -> int:
    """Open ``path`` for reading without following it into a FIFO's wait (O_NONBLOCK); return the fd."""
    return os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))


def _read_head(path: Path) -> tuple[int, bytes]:
    """Return the size and first bytes of a regular file, or raise :class:`UnusableInputError`."""
    shown = shown_name(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UnusableInputError(
            f"{shown} does not exist; check the file name and folder, then run it again."
        ) from None
    except PermissionError:
        raise UnusableInputError(_permission_message(path)) from None
    except OSError as exc:
        raise UnusableInputError(
            f"{shown} cannot be read ({exc.strerror or 'error'}); copy it to a local folder, then run it again."
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise UnusableInputError(
            f"{shown} is a folder, not a workbook; give the path of an .xlsx file inside it instead."
        )
    if not stat.S_ISREG(info.st_mode):
        raise UnusableInputError(
            f"{shown} is not a regular file (it is a device, pipe or socket); save the workbook as a file, "
            f"then run it again."
        )
    try:
        fd = _open_binary(path)
    except PermissionError:
        raise UnusableInputError(_permission_message(path)) from None
    except OSError as exc:
        raise UnusableInputError(
            f"{shown} cannot be read ({exc.strerror or 'error'}); copy it to a local folder, then run it again."
        ) from None
    try:
        head = os.read(fd, HEAD_BYTES)
    except OSError as exc:
        raise UnusableInputError(
            f"{shown} cannot be read ({exc.strerror or 'error'}); copy it to a local folder, then run it again."
        ) from None
    finally:
        os.close(fd)
    return info.st_size, head


def _permission_message(path: Path) -> str:
    return (
        f"{shown_name(path)} cannot be read (permission denied); ask for read access or copy the file to a folder "
        f"of your own, then run it again."
    )
