"""Names a file's format from its bytes, never from its extension: an .xlsx/.xlsm package (found through
its relationships and content types), OpenDocument, legacy or encrypted Excel, CSV and other text, PDF, empty;
and the one sentence a file that is not a workbook gets."""

from __future__ import annotations

import codecs
import mmap
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import UnsafeArchiveError, UnusableInputError
from .archive import check_end_record, damaged_message
from .limits import ASK_AGAIN, MAX_FILE_BYTES, MAX_META_PART_BYTES, SAVE_AS_XLSX, shown_name

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

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_OFFICE_DOCUMENT_REL = "/officeDocument"
_FALLBACK_WORKBOOK_PART = "xl/workbook.xml"



@dataclass(frozen=True)
class _Sniffed:
    format: str
    detail: str = ""  # e.g. "a Word document" for FORMAT_OFFICE_OTHER

# --------------------------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------------------------


def sniff_bytes(path: Path, size: int, head: bytes) -> _Sniffed:
    if size == 0 or not head:
        return _Sniffed(FORMAT_EMPTY)
    if head.startswith(ZIP_MAGIC):
        try:
            check_end_record(path, size)
        except UnsafeArchiveError:
            return _Sniffed(FORMAT_ZIP)
        except UnusableInputError:
            return _Sniffed(FORMAT_DAMAGED_ZIP)
        try:
            with zipfile.ZipFile(path) as zf:
                return classify_zip(zf)
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


def classify_zip(zf: zipfile.ZipFile) -> _Sniffed:
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
# Messages for files that are not workbooks
# --------------------------------------------------------------------------------------------------------------


def not_a_workbook_message(path: Path, sniffed: _Sniffed) -> str:
    shown = shown_name(path)
    fmt = sniffed.format
    if fmt == FORMAT_EMPTY:
        return f"{shown} is empty (0 bytes), perhaps an unfinished download or save; {ASK_AGAIN}."
    if fmt == FORMAT_XLS:
        return (
            f"{shown} is a legacy Excel 97-2003 workbook; open it in Excel or LibreOffice and save it as .xlsx "
            f"(Excel Workbook), then run the command again."
        )
    if fmt == FORMAT_ENCRYPTED:
        return (
            f"{shown} is password-protected; open it in Excel, remove the password (File > Info > Protect "
            f"Workbook > Encrypt with Password, clear the box) and save a copy, then use that copy instead."
        )
    if fmt == FORMAT_ODS:
        return (
            f"{shown} is an OpenDocument spreadsheet (.ods); open it in LibreOffice Calc or Excel and "
            f"save it as .xlsx (Excel 2007-365 format), then run the command again."
        )
    if fmt == FORMAT_XLSB:
        return f"{shown} is an Excel binary workbook (.xlsb); open it in Excel and {SAVE_AS_XLSX}."
    if fmt == FORMAT_NUMBERS:
        return (
            f"{shown} is an Apple Numbers document; open it in Numbers and choose File > Export To > Excel, "
            f"then use the exported .xlsx file instead."
        )
    if fmt == FORMAT_OFFICE_OTHER:
        return f"{shown} is {sniffed.detail or 'an office document'}, not an Excel workbook; {ASK_AGAIN}."
    if fmt == FORMAT_ZIP:
        return f"{shown} is a zip archive with no Excel workbook inside; {ASK_AGAIN}."
    if fmt == FORMAT_DAMAGED_ZIP:
        return damaged_message(path)
    if fmt == FORMAT_OLE:
        return f"{shown} is an older Office file (97-2003 format) but not an Excel workbook; {ASK_AGAIN}."
    if fmt == FORMAT_CSV:
        return f"{shown} is a CSV text file, not an Excel workbook, and has lost the plan's other sheets; {ASK_AGAIN}."
    if fmt == FORMAT_HTML:
        return f"{shown} is a web page (HTML), not an Excel workbook; open it in Excel and {SAVE_AS_XLSX}."
    if fmt == FORMAT_XML:
        return (
            f"{shown} is an XML file (perhaps an Excel 2003 XML Spreadsheet), not an .xlsx workbook; open it "
            f"in Excel and {SAVE_AS_XLSX}."
        )
    if fmt == FORMAT_PDF:
        return f"{shown} is a PDF document, not an Excel workbook; {ASK_AGAIN}."
    if fmt == FORMAT_TEXT:
        return f"{shown} is a plain text file, not an Excel workbook; {ASK_AGAIN}."
    return f"{shown} is not a spreadsheet in any format this tool reads; {ASK_AGAIN}."
