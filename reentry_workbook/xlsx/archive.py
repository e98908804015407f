"""Bounds a zip archive before any parser sees it: the end record, member count, names, flags, declared
and total uncompressed sizes, compression ratio, overlapping members, and XML prologs (no document type
declaration anywhere)."""

from __future__ import annotations

import codecs
import itertools
import re
import struct
import zipfile
from pathlib import Path
from typing import IO

from ..errors import NotAWorkbookError, UnsafeArchiveError, UnusableInputError
from .limits import (
    ALLOWED_COMPRESSION,
    ASK_AGAIN,
    EOCD_SIG,
    MAX_CENTRAL_DIRECTORY_BYTES,
    MAX_MEMBER_UNCOMPRESSED,
    MAX_MEMBERS,
    MAX_PROLOG_BYTES,
    MAX_RATIO,
    MAX_TOTAL_UNCOMPRESSED,
    RATIO_MIN_BYTES,
    SAVE_AS_XLSX,
    ZIP64_EOCD_SIG,
    ZIP64_LOCATOR_SIG,
    megabytes,
    shown_name,
)

# --------------------------------------------------------------------------------------------------------------
# The zip archive
# --------------------------------------------------------------------------------------------------------------


def damaged_message(path: Path) -> str:
    return (
        f"{shown_name(path)} is damaged or incomplete (it may have been cut short while downloading or "
        f"emailing); ask the sender for the file again, or open it in Excel, let it repair the file and save a "
        f"copy, then use that copy instead."
    )


def _unsafe(path: Path, problem: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"{shown_name(path)} {problem}, so it was not opened; if you trust the sender, open it in Excel and save a "
        f"fresh copy as .xlsx, then use that copy instead."
    )


def check_end_record(path: Path, size: int) -> None:
    """Check the declared member count and central-directory size before zipfile parses the directory."""
    tail_len = min(size, 22 + 65_535)
    try:
        with open(path, "rb") as fh:
            fh.seek(size - tail_len)
            tail = fh.read(tail_len)
            pos = tail.rfind(EOCD_SIG)
            if pos < 0 or len(tail) - pos < 22:
                raise UnusableInputError(damaged_message(path))
            _sig, _disk, _cd_disk, _n_disk, entries, cd_size, _cd_offset, _comment = struct.unpack(
                "<4s4H2LH", tail[pos : pos + 22]
            )
            eocd_offset = size - tail_len + pos
            if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and eocd_offset >= 20:
                fh.seek(eocd_offset - 20)
                locator = fh.read(20)
                if locator[:4] == ZIP64_LOCATOR_SIG:
                    _s, _d, z64_offset, _t = struct.unpack("<4sLQL", locator)
                    fh.seek(z64_offset)
                    record = fh.read(56)
                    if len(record) == 56 and record[:4] == ZIP64_EOCD_SIG:
                        fields = struct.unpack("<4sQ2H2L4Q", record)
                        entries, cd_size = fields[7], fields[8]
    except OSError:
        raise UnusableInputError(damaged_message(path)) from None
    if entries > MAX_MEMBERS:
        raise _unsafe(path, f"has {entries:,} parts, more than the {MAX_MEMBERS:,} a workbook may have")
    if cd_size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise _unsafe(path, f"has a {megabytes(cd_size)} table of contents, far more than any workbook needs")


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


def check_members(path: Path, infos: list[zipfile.ZipInfo]) -> None:
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
                f"{shown_name(path)} has password-protected (zip-encrypted) parts, which Excel never writes; "
                f"{ASK_AGAIN} without a password, then run the command again."
            )
        if info.compress_type not in ALLOWED_COMPRESSION:
            raise UnusableInputError(
                f"{shown_name(path)} uses a compression method (number {info.compress_type}) that spreadsheet apps "
                f"do not write; open it in Excel or LibreOffice and {SAVE_AS_XLSX}."
            )
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise _unsafe(path, f"declares inconsistent sizes for the part {_shown_part(raw)}")
        if info.file_size > MAX_MEMBER_UNCOMPRESSED:
            raise _unsafe(
                path,
                f"has a part ({_shown_part(raw)}) that would expand to {megabytes(info.file_size)}, more than the "
                f"{megabytes(MAX_MEMBER_UNCOMPRESSED)} allowed (it looks like a zip bomb)",
            )
        total += info.file_size
        if total > MAX_TOTAL_UNCOMPRESSED:
            raise _unsafe(
                path,
                f"would expand to more than {megabytes(MAX_TOTAL_UNCOMPRESSED)} (it looks like a zip bomb)",
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


# XML prologs: no document type declaration anywhere
# --------------------------------------------------------------------------------------------------------------

_PROLOG_OK, _PROLOG_DTD, _PROLOG_NOT_XML, _PROLOG_TOO_LONG = "ok", "dtd", "not-xml", "too-long"


def _decoder_for(first: bytes) -> codecs.IncrementalDecoder:
    if first.startswith(codecs.BOM_UTF16_LE) or first.startswith(b"<\x00"):
        return codecs.getincrementaldecoder("utf-16-le")(errors="replace")
    if first.startswith(codecs.BOM_UTF16_BE) or first.startswith(b"\x00<"):
        return codecs.getincrementaldecoder("utf-16-be")(errors="replace")
    return codecs.getincrementaldecoder("latin-1")()


def _scan_prolog(fh: IO[bytes]) -> str:
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


def check_xml_prologs(path: Path, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
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
