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
every XML reader calls before parsing.
"""

from __future__ import annotations

import codecs
import itertools
import mmap
import os
import posixpath
import re
import stat
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..errors import NotAWorkbookError, ReentryWorkbookError, UnsafeArchiveError, UnusableInputError

# --------------------------------------------------------------------------------------------------------------
# Limits (a coalition's plan workbook is a few hundred kilobytes; these leave room for pictures and big sheets)
# --------------------------------------------------------------------------------------------------------------

MB = 1_000_000

MAX_FILE_BYTES = 100 * MB  # size of the file on disk
MAX_MEMBERS = 10_000  # parts in the package (a workbook has a few dozen)
MAX_CENTRAL_DIRECTORY_BYTES = 8 * MB  # the zip's table of contents, checked before it is parsed
MAX_TOTAL_UNCOMPRESSED = 200 * MB  # sum of the declared uncompressed sizes
MAX_MEMBER_UNCOMPRESSED = 100 * MB  # declared uncompressed size of any one part
MAX_RATIO = 200  # uncompressed : compressed, judged for parts larger than RATIO_MIN_BYTES
RATIO_MIN_BYTES = 4 * MB
MAX_PROLOG_BYTES = 64 * 1024  # an XML part must reach its root element within this many bytes
MAX_META_PART_BYTES = 1 * MB  # _rels/.rels, [Content_Types].xml and mimetype, read to classify the package
HEAD_BYTES = 8192  # bytes read from the start of a file to sniff its format

# Excel's grid; readers refuse cell coordinates beyond it.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384

# Compression methods spreadsheet apps write (stored, deflate).
ALLOWED_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

# --------------------------------------------------------------------------------------------------------------
# Formats that sniff() reports
# --------------------------------------------------------------------------------------------------------------

FORMAT_XLSX = "xlsx"
FORMAT_XLSM = "xlsm"  # macro-enabled: values are audited, macros never run
FORMAT_XLSB = "xlsb"  # Excel binary workbook
FORMAT_ODS = "ods"
FORMAT_NUMBERS = "numbers"  # Apple Numbers
FORMAT_OFFICE_OTHER = "office"  # a Word/PowerPoint/OpenDocument text package, not a spreadsheet
FORMAT_ZIP = "zip"  # a zip archive with no workbook inside
FORMAT_DAMAGED_ZIP = "damaged-zip"  # starts like a zip but cannot be read as one (cut short, corrupt)
FORMAT_XLS = "xls"  # legacy Excel 97-2003 (OLE compound file with a Workbook stream)
FORMAT_ENCRYPTED = "encrypted"  # password-protected/encrypted Office file (OLE with EncryptedPackage)
FORMAT_OLE = "ole"  # another OLE compound file (Word 97-2003 document, ...)
FORMAT_CSV = "csv"
FORMAT_TEXT = "text"
FORMAT_HTML = "html"
FORMAT_XML = "xml"  # a bare XML file (e.g. Excel 2003 XML Spreadsheet)
FORMAT_PDF = "pdf"
FORMAT_EMPTY = "empty"
FORMAT_UNKNOWN = "unknown"

WORKBOOK_FORMATS = frozenset({FORMAT_XLSX, FORMAT_XLSM})

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EOCD_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_EOCD_SIG = b"PK\x06\x06"

_OFFICE_DOCUMENT_REL = "/officeDocument"
_FALLBACK_WORKBOOK_PART = "xl/workbook.xml"

_SAVE_AS_XLSX = "save it as .xlsx (File > Save As > Excel Workbook), then run the audit again"
_ASK_AGAIN = "ask the sender for the plan workbook saved from Excel as .xlsx"


@dataclass(frozen=True)
class _Sniffed:
    format: str
    detail: str = ""  # e.g. "a Word document" for FORMAT_OFFICE_OTHER


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
    return _sniff(path, size, head).format


def open_package(path: Path | str) -> zipfile.ZipFile:
    """Open ``path`` as an .xlsx/.xlsm package after checking it; raise a typed error otherwise.

    Errors: :class:`UnusableInputError` (missing, folder, unreadable, damaged, too large),
    :class:`NotAWorkbookError` (another format: legacy .xls, password-protected, .ods, CSV, text, ...),
    :class:`UnsafeArchiveError` (zip bomb, too many parts, path tricks, duplicate names, DTDs/entities).
    The caller closes the returned archive (``with open_package(p) as zf: ...``).
    """
    path = Path(path)
    size, head = _read_head(path)
    if not head.startswith(_ZIP_MAGIC):
        raise NotAWorkbookError(_not_a_workbook_message(path, _sniff(path, size, head)))
    if size > MAX_FILE_BYTES:
        raise UnusableInputError(
            f"{_name(path)} is larger than {_mb(MAX_FILE_BYTES)}, far more than a plan workbook needs, so it was "
            f"not opened; open it in Excel, remove large pictures or unused sheets and save a copy, then audit "
            f"that copy."
        )
    _check_end_record(path, size)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise UnusableInputError(_damaged_message(path)) from None
    try:
        infos = zf.infolist()
        _check_members(path, infos)
        sniffed = _classify_zip(zf)
        if sniffed.format not in WORKBOOK_FORMATS:
            raise NotAWorkbookError(_not_a_workbook_message(path, sniffed))
        _check_xml_prologs(path, zf, infos)
    except ReentryWorkbookError:
        zf.close()
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
        zf.close()
        raise UnusableInputError(_damaged_message(path)) from None
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


def _name(path: Path) -> str:
    """The file name as shown in a message: printable, on one line."""
    text = path.name or str(path)
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _mb(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= MB else f"{size / 1000:,.0f} kB"


def _open_binary(path: Path) -> int:
    """Open ``path`` for reading without following it into a FIFO's wait (O_NONBLOCK); return the fd."""
    return os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))


def _read_head(path: Path) -> tuple[int, bytes]:
    """Return the size and first bytes of a regular file, or raise :class:`UnusableInputError`."""
    shown = _name(path)
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
        f"{_name(path)} cannot be read (permission denied); ask for read access or copy the file to a folder "
        f"of your own, then run it again."
    )


# --------------------------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------------------------


def _sniff(path: Path, size: int, head: bytes) -> _Sniffed:
    if size == 0 or not head:
        return _Sniffed(FORMAT_EMPTY)
    if head.startswith(_ZIP_MAGIC):
        try:
            _check_end_record(path, size)
        except UnsafeArchiveError:
            return _Sniffed(FORMAT_ZIP)
        except UnusableInputError:
            return _Sniffed(FORMAT_DAMAGED_ZIP)
        try:
            with zipfile.ZipFile(path) as zf:
                return _classify_zip(zf)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError):
            return _Sniffed(FORMAT_DAMAGED_ZIP)
    if head.startswith(_OLE_MAGIC):
        return _Sniffed(_classify_ole(path, size))
    if head.startswith(b"%PDF-"):
        return _Sniffed(FORMAT_PDF)
    return _Sniffed(_classify_text(head))


def _utf16le(text: str) -> bytes:
    return text.encode("utf-16-le")


def _classify_ole(path: Path, size: int) -> str:
    """Tell an encrypted Office file from a legacy workbook by the stream names in its directory."""
    if size > MAX_FILE_BYTES:
        return FORMAT_OLE
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if data.find(_utf16le("EncryptedPackage")) >= 0:
                return FORMAT_ENCRYPTED
            if data.find(_utf16le("Workbook")) >= 0 or data.find(_utf16le("Book\x00")) >= 0:
                return FORMAT_XLS
    except (OSError, ValueError):
        return FORMAT_OLE
    return FORMAT_OLE


def _classify_text(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="replace")
    elif b"\x00" in head:
        return FORMAT_UNKNOWN
    else:
        controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D))
        if controls > len(head) // 100:
            return FORMAT_UNKNOWN
        text = head.decode("utf-8", errors="replace")
    text = text.lstrip("\ufeff \t\r\n")
    lowered = text[:2048].lower()
    if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered:
        return FORMAT_HTML
    if lowered.startswith("<?xml") or lowered.startswith("<"):
        return FORMAT_XML
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if lines:
        for sep in (",", ";", "\t", "|"):
            counts = [line.count(sep) for line in lines[:-1] or lines]
            if counts and min(counts) >= 1:
                return FORMAT_CSV
    return FORMAT_TEXT


# --------------------------------------------------------------------------------------------------------------
# The zip archive
# --------------------------------------------------------------------------------------------------------------


def _damaged_message(path: Path) -> str:
    return (
        f"{_name(path)} is damaged or incomplete (it may have been cut short while downloading or "
        f"emailing); ask the sender for the file again, or open it in Excel, let it repair the file and save a "
        f"copy, then audit that copy."
    )


def _unsafe(path: Path, problem: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"{_name(path)} {problem}, so it was not opened; if you trust the sender, open it in Excel and save a "
        f"fresh copy as .xlsx, then audit that copy."
    )


def _check_end_record(path: Path, size: int) -> None:
    """Check the declared member count and central-directory size before zipfile parses the directory."""
    tail_len = min(size, 22 + 65_535)
    try:
        with open(path, "rb") as fh:
            fh.seek(size - tail_len)
            tail = fh.read(tail_len)
            pos = tail.rfind(_EOCD_SIG)
            if pos < 0 or len(tail) - pos < 22:
                raise UnusableInputError(_damaged_message(path))
            _sig, _disk, _cd_disk, _n_disk, entries, cd_size, _cd_offset, _comment = struct.unpack(
                "<4s4H2LH", tail[pos : pos + 22]
            )
            eocd_offset = size - tail_len + pos
            if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and eocd_offset >= 20:
                fh.seek(eocd_offset - 20)
                locator = fh.read(20)
                if locator[:4] == _ZIP64_LOCATOR_SIG:
                    _s, _d, z64_offset, _t = struct.unpack("<4sLQL", locator)
                    fh.seek(z64_offset)
                    record = fh.read(56)
                    if len(record) == 56 and record[:4] == _ZIP64_EOCD_SIG:
                        fields = struct.unpack("<4sQ2H2L4Q", record)
                        entries, cd_size = fields[7], fields[8]
    except OSError:
        raise UnusableInputError(_damaged_message(path)) from None
    if entries > MAX_MEMBERS:
        raise _unsafe(path, f"has {entries:,} parts, more than the {MAX_MEMBERS:,} a workbook may have")
    if cd_size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise _unsafe(path, f"has a {_mb(cd_size)} table of contents, far more than any workbook needs")


_DRIVE = re.compile(r"^[A-Za-z]:")


def _name_problem(raw: str) -> str | None:
    if "\x00" in raw:
        return "contains a part name with a NUL character"
    if raw.startswith(("/", "\\")) or _DRIVE.match(raw):
        return f"contains a part with an absolute path ({_shown_part(raw)})"
    if ".." in re.split(r"[/\\]", raw):
        return f"contains a part whose name climbs out of the workbook ({_shown_part(raw)})"
    return None


def _shown_part(raw: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in raw)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_members(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Names, flags, methods and declared sizes of every member, from the central directory alone."""
    if len(infos) > MAX_MEMBERS:
        raise _unsafe(path, f"has {len(infos):,} parts, more than the {MAX_MEMBERS:,} a workbook may have")
    seen: set[str] = set()
    total = 0
    for info in infos:
        raw = info.orig_filename
        problem = _name_problem(raw)
        if problem:
            raise _unsafe(path, problem)
        key = raw.casefold()
        if key in seen:
            raise _unsafe(path, f"contains two parts with the same name ({_shown_part(raw)})")
        seen.add(key)
        if info.flag_bits & 0x1:
            raise NotAWorkbookError(
                f"{_name(path)} has password-protected (zip-encrypted) parts, which Excel never writes; "
                f"{_ASK_AGAIN} without a password, then run the audit again."
            )
        if info.compress_type not in ALLOWED_COMPRESSION:
            raise UnusableInputError(
                f"{_name(path)} uses a compression method (number {info.compress_type}) that spreadsheet apps "
                f"do not write; open it in Excel or LibreOffice and {_SAVE_AS_XLSX}."
            )
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise _unsafe(path, f"declares inconsistent sizes for the part {_shown_part(raw)}")
        if info.file_size > MAX_MEMBER_UNCOMPRESSED:
            raise _unsafe(
                path,
                f"has a part ({_shown_part(raw)}) that would expand to {_mb(info.file_size)}, more than the "
                f"{_mb(MAX_MEMBER_UNCOMPRESSED)} allowed (it looks like a zip bomb)",
            )
        total += info.file_size
        if total > MAX_TOTAL_UNCOMPRESSED:
            raise _unsafe(
                path,
                f"would expand to more than {_mb(MAX_TOTAL_UNCOMPRESSED)} (it looks like a zip bomb)",
            )
        if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _unsafe(
                path,
                f"has a part ({_shown_part(raw)}) compressed more than {MAX_RATIO} to 1, as zip bombs are",
            )
    _check_overlaps(path, infos)


def _check_overlaps(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse members whose stored data overlap (the "overlapping files" zip bomb)."""
    spans = []
    for info in infos:
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        try:
            name_len = len(info.orig_filename.encode(encoding))
        except UnicodeEncodeError:
            name_len = len(info.orig_filename.encode("utf-8"))
        spans.append((info.header_offset, info.header_offset + 30 + name_len + info.compress_size))
    spans.sort()
    for (_start, end), (next_start, _next_end) in itertools.pairwise(spans):
        if next_start < end:
            raise _unsafe(path, "has parts that share the same stored data (it looks like a zip bomb)")


def _read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    if info.file_size > MAX_META_PART_BYTES or info.flag_bits & 0x1:
        return None
    with zf.open(info) as fh:
        return fh.read(MAX_META_PART_BYTES)


_ATTR = r"""\b{}\s*=\s*(?:"([^"]*)"|'([^']*)')"""
_REL_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?Relationship\b[^>]*>")
_OVERRIDE_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?Override\b[^>]*>")
_DEFAULT_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?Default\b[^>]*>")


def _attr(element: bytes, name: str) -> str | None:
    match = re.search(_ATTR.format(name).encode(), element)
    if not match:
        return None
    value = (match.group(1) if match.group(1) is not None else match.group(2)).decode("utf-8", "replace")
    return (
        value.replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


def _workbook_part(zf: zipfile.ZipFile, by_key: dict[str, zipfile.ZipInfo]) -> str | None:
    """The package's main part (the officeDocument relationship's target), as a member name, if present."""
    rels = by_key.get("_rels/.rels")
    data = _read_small(zf, rels) if rels else None
    if data:
        for element in _REL_ELEMENT.findall(data):
            rel_type = _attr(element, "Type") or ""
            target = _attr(element, "Target")
            if not rel_type.endswith(_OFFICE_DOCUMENT_REL) or not target:
                continue
            if (_attr(element, "TargetMode") or "").lower() == "external":
                continue
            part = posixpath.normpath(target.lstrip("/"))
            if part.casefold() in by_key:
                return by_key[part.casefold()].filename
    fallback = by_key.get(_FALLBACK_WORKBOOK_PART)
    return fallback.filename if fallback else None


def _content_type(zf: zipfile.ZipFile, by_key: dict[str, zipfile.ZipInfo], part: str) -> str:
    info = by_key.get("[content_types].xml")
    data = _read_small(zf, info) if info else None
    if not data:
        return ""
    for element in _OVERRIDE_ELEMENT.findall(data):
        if (_attr(element, "PartName") or "").lstrip("/").casefold() == part.casefold():
            return _attr(element, "ContentType") or ""
    extension = part.rsplit(".", 1)[-1].casefold()
    for element in _DEFAULT_ELEMENT.findall(data):
        if (_attr(element, "Extension") or "").casefold() == extension:
            return _attr(element, "ContentType") or ""
    return ""


def _classify_zip(zf: zipfile.ZipFile) -> _Sniffed:
    """Which kind of package: from member names and the tiny parts that describe it."""
    by_key = {info.filename.casefold(): info for info in zf.infolist()}
    mimetype = by_key.get("mimetype")
    if mimetype is not None:
        kind = (_read_small(zf, mimetype) or b"").strip()
        if kind.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return _Sniffed(FORMAT_ODS)
        if kind.startswith(b"application/vnd.oasis.opendocument"):
            return _Sniffed(FORMAT_OFFICE_OTHER, "an OpenDocument file (text or presentation)")
    if any(key.startswith("index/") and key.endswith(".iwa") for key in by_key):
        return _Sniffed(FORMAT_NUMBERS)
    part = _workbook_part(zf, by_key)
    if part is None:
        if "word/document.xml" in by_key:
            return _Sniffed(FORMAT_OFFICE_OTHER, "a Word document")
        if "ppt/presentation.xml" in by_key:
            return _Sniffed(FORMAT_OFFICE_OTHER, "a PowerPoint presentation")
        return _Sniffed(FORMAT_ZIP)
    content_type = _content_type(zf, by_key, part).lower()
    if "wordprocessingml" in content_type or part.casefold().startswith("word/"):
        return _Sniffed(FORMAT_OFFICE_OTHER, "a Word document")
    if "presentationml" in content_type or part.casefold().startswith("ppt/"):
        return _Sniffed(FORMAT_OFFICE_OTHER, "a PowerPoint presentation")
    if "sheet.binary" in content_type or part.casefold().endswith(".bin"):
        return _Sniffed(FORMAT_XLSB)
    if "[content_types].xml" not in by_key:
        return _Sniffed(FORMAT_DAMAGED_ZIP)
    if "macroenabled" in content_type or any(key.endswith("vbaproject.bin") for key in by_key):
        return _Sniffed(FORMAT_XLSM)
    return _Sniffed(FORMAT_XLSX)


# --------------------------------------------------------------------------------------------------------------
# XML prologs: no document type declaration anywhere
# --------------------------------------------------------------------------------------------------------------

_PROLOG_OK, _PROLOG_DTD, _PROLOG_NOT_XML, _PROLOG_TOO_LONG = "ok", "dtd", "not-xml", "too-long"


def _decoder_for(first: bytes) -> codecs.IncrementalDecoder:
    if first.startswith(codecs.BOM_UTF16_LE) or first.startswith(b"<\x00"):
        return codecs.getincrementaldecoder("utf-16-le")(errors="replace")
    if first.startswith(codecs.BOM_UTF16_BE) or first.startswith(b"\x00<"):
        return codecs.getincrementaldecoder("utf-16-be")(errors="replace")
    return codecs.getincrementaldecoder("latin-1")()


def _scan_prolog(fh: zipfile.ZipExtFile) -> str:
    """Read a part up to its root element; say whether its prolog declares a DTD.

    Reads in small chunks, so a sheet of many megabytes costs one chunk: its root element follows the XML
    declaration at once.
    """
    first = fh.read(1024)
    decoder = _decoder_for(first)
    text = decoder.decode(first).lstrip("\ufeff\ufffe")
    read = len(first)
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        complete = True
        if pos >= len(text):
            complete = False
        elif text[pos] != "<":
            return _PROLOG_NOT_XML
        elif text.startswith("<?", pos):
            end = text.find("?>", pos + 2)
            if end >= 0:
                pos = end + 2
                continue
            complete = False
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            if end >= 0:
                pos = end + 3
                continue
            complete = False
        elif text.startswith("<!", pos):
            if len(text) - pos >= 4 or not "<!--".startswith(text[pos:]):
                return _PROLOG_DTD
            complete = False
        elif len(text) - pos >= 2:
            return _PROLOG_OK  # the root element's start tag
        else:
            complete = False
        if not complete:
            if read >= MAX_PROLOG_BYTES:
                return _PROLOG_TOO_LONG
            chunk = fh.read(4096)
            if not chunk:
                return _PROLOG_OK if pos >= len(text) else _PROLOG_NOT_XML
            read += len(chunk)
            text += decoder.decode(chunk)


def _check_xml_prologs(path: Path, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    for info in infos:
        if info.is_dir() or info.file_size == 0:
            continue
        with zf.open(info) as fh:
            verdict = _scan_prolog(fh)
        if verdict == _PROLOG_DTD:
            raise _unsafe(
                path,
                f"contains XML with a document type declaration in {_shown_part(info.orig_filename)}, which "
                f"spreadsheet apps never write and which can hide an entity bomb or a reference to files on "
                f"this computer",
            )
        if verdict == _PROLOG_TOO_LONG:
            raise _unsafe(
                path, f"contains XML whose header runs past {MAX_PROLOG_BYTES // 1024} kB in {info.orig_filename}"
            )


# --------------------------------------------------------------------------------------------------------------
# Messages for files that are not workbooks
# --------------------------------------------------------------------------------------------------------------


def _not_a_workbook_message(path: Path, sniffed: _Sniffed) -> str:
    shown = _name(path)
    fmt = sniffed.format
    if fmt == FORMAT_EMPTY:
        return f"{shown} is empty (0 bytes), perhaps an unfinished download or save; {_ASK_AGAIN}."
    if fmt == FORMAT_XLS:
        return (
            f"{shown} is a legacy Excel 97-2003 workbook; open it in Excel or LibreOffice and save it as .xlsx "
            f"(Excel Workbook), then run the audit again."
        )
    if fmt == FORMAT_ENCRYPTED:
        return (
            f"{shown} is password-protected; open it in Excel, remove the password (File > Info > Protect "
            f"Workbook > Encrypt with Password, clear the box) and save a copy, then audit that copy."
        )
    if fmt == FORMAT_ODS:
        return (
            f"{shown} is an OpenDocument spreadsheet (.ods); open it in LibreOffice Calc or Excel and "
            f"save it as .xlsx (Excel 2007-365 format), then run the audit again."
        )
    if fmt == FORMAT_XLSB:
        return f"{shown} is an Excel binary workbook (.xlsb); open it in Excel and {_SAVE_AS_XLSX}."
    if fmt == FORMAT_NUMBERS:
        return (
            f"{shown} is an Apple Numbers document; open it in Numbers and choose File > Export To > Excel, "
            f"then audit the exported .xlsx file."
        )
    if fmt == FORMAT_OFFICE_OTHER:
        return f"{shown} is {sniffed.detail or 'an office document'}, not an Excel workbook; {_ASK_AGAIN}."
    if fmt == FORMAT_ZIP:
        return f"{shown} is a zip archive with no Excel workbook inside; {_ASK_AGAIN}."
    if fmt == FORMAT_DAMAGED_ZIP:
        return _damaged_message(path)
    if fmt == FORMAT_OLE:
        return f"{shown} is an older Office file (97-2003 format) but not an Excel workbook; {_ASK_AGAIN}."
    if fmt == FORMAT_CSV:
        return f"{shown} is a CSV text file, not an Excel workbook, and has lost the plan's other sheets; {_ASK_AGAIN}."
    if fmt == FORMAT_HTML:
        return f"{shown} is a web page (HTML), not an Excel workbook; open it in Excel and {_SAVE_AS_XLSX}."
    if fmt == FORMAT_XML:
        return (
            f"{shown} is an XML file (perhaps an Excel 2003 XML Spreadsheet), not an .xlsx workbook; open it "
            f"in Excel and {_SAVE_AS_XLSX}."
        )
    if fmt == FORMAT_PDF:
        return f"{shown} is a PDF document, not an Excel workbook; {_ASK_AGAIN}."
    if fmt == FORMAT_TEXT:
        return f"{shown} is a plain text file, not an Excel workbook; {_ASK_AGAIN}."
    return f"{shown} is not a spreadsheet in any format this tool reads; {_ASK_AGAIN}."


__all__ = [
    "ALLOWED_COMPRESSION",
    "FORMAT_CSV",
    "FORMAT_DAMAGED_ZIP",
    "FORMAT_EMPTY",
    "FORMAT_ENCRYPTED",
    "FORMAT_HTML",
    "FORMAT_NUMBERS",
    "FORMAT_ODS",
    "FORMAT_OFFICE_OTHER",
    "FORMAT_OLE",
    "FORMAT_PDF",
    "FORMAT_TEXT",
    "FORMAT_UNKNOWN",
    "FORMAT_XLS",
    "FORMAT_XLSB",
    "FORMAT_XLSM",
    "FORMAT_XLSX",
    "FORMAT_XML",
    "FORMAT_ZIP",
    "MAX_CENTRAL_DIRECTORY_BYTES",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_MEMBERS",
    "MAX_MEMBER_UNCOMPRESSED",
    "MAX_PROLOG_BYTES",
    "MAX_RATIO",
    "MAX_ROWS",
    "MAX_TOTAL_UNCOMPRESSED",
    "RATIO_MIN_BYTES",
    "WORKBOOK_FORMATS",
    "open_package",
    "require_defusedxml",
    "sniff",
]
