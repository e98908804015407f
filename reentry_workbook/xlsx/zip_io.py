"""The zip archive of a package, part by part: each part read once with its bytes as stored (a part copied
unchanged is written from them, never compressed again) and checked against the CRC the archive declares; new
and changed parts deflated; the archive written with fixed timestamps."""

from __future__ import annotations

import copy
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError, UnusableInputError
from .deflate import PIECE, WINDOW, Pieces, deflate


@dataclass
class ZipEntry:
    name: str
    data: bytes | None  # None: a large part as read, inflated from ``stored`` each time it is asked for
    info: zipfile.ZipInfo | None  # the member's zip entry it replaces or copies; None for a new part
    stored: memoryview | None = None  # an unchanged part's bytes as stored in the member's archive
    checks: _Checks | None = None  # for a large part read from a file: its check against the archive's CRC

    def checked(self) -> None:
        """Raise :class:`UnusableInputError` if the part, as stored, failed its check (waiting for the check)."""
        if self.checks is not None:
            self.checks.result(self.name)

    def content(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.stored is not None and self.info is not None
        self.checked()
        if self.info.compress_type == zipfile.ZIP_STORED:
            return bytes(self.stored)
        return zlib.decompress(self.stored, -zlib.MAX_WBITS)

    def pieces(self) -> Iterator[bytes | memoryview]:
        """The part's bytes a piece at a time, never inflated whole (:meth:`content` joined)."""
        if self.data is not None:
            yield self.data
            return
        assert self.stored is not None and self.info is not None
        self.checked()
        try:
            yield from _inflating(self.info, self.stored, _CHECK_STEP)
        except ValueError as exc:  # (checked against the archive's CRC already: a part of ours, made wrong)
            raise OutputError(f"{exc}; please report this") from None

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes of the part (or all of a shorter one), inflating no more than that."""
        if self.data is not None:
            return self.data[:size]
        assert self.stored is not None and self.info is not None
        if self.info.compress_type == zipfile.ZIP_STORED:
            return bytes(self.stored[:size])
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(self.stored, size)


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zip local file header (APPNOTE 4.3.7)
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")  # central directory file header (4.3.12)
_END_RECORD = struct.Struct("<4s4H2LH")  # end of central directory record (4.3.16)


_NEW_PART_TIME = (1980, 1, 1, 0, 0, 0)  # a new part's zip entry: the earliest time a zip can hold (fixed output)
_NEW_PART_MODE = 0o600 << 16  # and its Unix mode
_KEEP_BYTES = 1 << 20  # parts up to this size are kept inflated; larger ones are inflated again when needed


def _damaged(path: Path, reason: str) -> UnusableInputError:
    return UnusableInputError(f"{path.name} is damaged ({reason}); open it in Excel, save it again and retry")


def _inflated(info: zipfile.ZipInfo, raw: memoryview) -> bytes:
    """The part ``info`` from its bytes as stored, checked against the size and CRC the archive declares; raises
    ``ValueError`` saying what is wrong."""
    content = b"".join(_inflating(info, raw, max(len(raw), 1)))
    _declared(info, len(content), zlib.crc32(content))
    return content


_CHECK_STEP = 1 << 14  # stored bytes inflated at a time by a check: what it holds stays small


def _check(info: zipfile.ZipInfo, raw: memoryview) -> None:
    """What :func:`_inflated` checks, a little at a time: the part is never held whole (a thread that allocated
    megabytes would keep them in an allocator arena of its own for the rest of the process)."""
    crc = size = 0
    for out in _inflating(info, raw, _CHECK_STEP):
        crc, size = zlib.crc32(out, crc), size + len(out)
        if size > info.file_size:
            break
    _declared(info, size, crc)


def _inflating(info: zipfile.ZipInfo, raw: memoryview, step: int) -> Iterator[bytes | memoryview]:
    """The part's bytes, inflated from ``step`` stored bytes at a time; raises ``ValueError`` when the stream is
    damaged or cut short."""
    if info.compress_type == zipfile.ZIP_STORED:
        yield raw
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise ValueError(f"the part {info.filename} uses compression method {info.compress_type}")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for at in range(0, len(raw), step):
            yield inflater.decompress(raw[at : at + step])
            if inflater.eof:
                return
    except zlib.error as exc:
        raise ValueError(f"the part {info.filename} cannot be inflated: {exc}") from None
    raise ValueError(f"the part {info.filename} is cut short")


def _declared(info: zipfile.ZipInfo, size: int, crc: int) -> None:
    if size != info.file_size or crc != info.CRC:
        raise ValueError(f"the part {info.filename} fails its checksum")


class _Checks:
    """The large parts of a package, inflated and checked against the archive's CRC in a thread of their own (zlib
    lets go of the interpreter lock) while the caller works on the package; :meth:`result` waits for them.

    Such a part is not kept inflated anyway; what matters is that it is never copied into a workbook we write, nor
    read, unless it is exactly the part the archive declares."""

    def __init__(self, path: Path, parts: list[tuple[zipfile.ZipInfo, memoryview]]) -> None:
        self._path = path
        self._parts = parts
        self._failed: dict[str, str] = {}
        self._thread = threading.Thread(target=self._run, name="reentry-workbook-part-checks", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for info, raw in self._parts:
            try:
                _check(info, raw)
            except ValueError as exc:
                self._failed[info.filename] = str(exc)

    def result(self, name: str) -> None:
        self._thread.join()
        reason = self._failed.get(name)
        if reason is not None:
            raise _damaged(self._path, reason)


def read_members(
    path: Path, infos: list[zipfile.ZipInfo]
) -> tuple[dict[str, bytes | None], dict[str, memoryview], _Checks | None]:
    """Every part's bytes (None for a part larger than ``_KEEP_BYTES``: inflated again from its stored bytes when
    asked for), its bytes as stored in the archive, from one read of the file, and the check of the large parts.

    Each part is checked against the size and CRC the archive declares, so a part copied as stored is exactly the
    part that was read: a small one here, as it is inflated; the large ones in the background (:class:`_Checks`).
    (The guard has already bounded every size.)
    """
    def damaged(reason: str) -> UnusableInputError:
        return _damaged(path, reason)

    try:
        blob = memoryview(path.read_bytes())
    except OSError as exc:
        raise damaged(exc.strerror or "it cannot be read") from None
    data: dict[str, bytes | None] = {}
    stored: dict[str, memoryview] = {}
    large: list[tuple[zipfile.ZipInfo, memoryview]] = []
    for info in infos:
        at = info.header_offset
        head = bytes(blob[at : at + _LOCAL_HEADER.size])
        if len(head) != _LOCAL_HEADER.size or not head.startswith(b"PK\x03\x04"):
            raise damaged(f"the part {info.filename} has no local header")
        name_len, extra_len = _LOCAL_HEADER.unpack(head)[-2:]
        name_at = at + _LOCAL_HEADER.size
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        if bytes(blob[name_at : name_at + name_len]) != info.orig_filename.encode(encoding, "replace"):
            raise damaged(f"the part {info.filename} is named differently in its local header")
        begin = name_at + name_len + extra_len
        raw = blob[begin : begin + info.compress_size]
        if len(raw) != info.compress_size:
            raise damaged(f"the part {info.filename} is cut short")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise damaged(f"the part {info.filename} uses compression method {info.compress_type}")
        stored[info.filename] = raw
        if info.file_size > _KEEP_BYTES:
            data[info.filename] = None
            large.append((info, raw))
            continue
        try:
            data[info.filename] = _inflated(info, raw)
        except ValueError as exc:
            raise damaged(str(exc)) from None
    return data, stored, _Checks(path, large) if large else None


def packed(entry: ZipEntry, data: bytes) -> ZipEntry:
    """``entry`` given the new bytes ``data``: a large deflated part is held deflated, as :func:`write_zip` stores it
    (so a package of several large edited parts costs little more memory than its file), inflated when asked for."""
    info = entry.info
    if len(data) <= _KEEP_BYTES or info is None or info.compress_type != zipfile.ZIP_DEFLATED:
        return ZipEntry(entry.name, data, info)
    stored = deflate(data)
    kept = copy.copy(info)
    kept.CRC, kept.file_size, kept.compress_size = zlib.crc32(data), len(data), len(stored)
    return ZipEntry(entry.name, None, kept, memoryview(stored))


def packed_pieces(entry: ZipEntry, pieces: Iterable[bytes]) -> ZipEntry:
    """:func:`packed` of the bytes ``pieces`` make, without holding them joined: a large part is deflated as it is
    made, cut where :func:`deflate.deflate` cuts it (so it gives the same bytes), one piece after the other."""
    info = entry.info
    if info is None or info.compress_type != zipfile.ZIP_DEFLATED:
        return packed(entry, b"".join(pieces))
    crc, size = 0, 0
    held = bytearray()  # the window (the part's bytes just before the next piece), then the next piece as made
    window = 0  # the window's length: 0 before the first piece
    out = Pieces()  # each deflated in a thread while the next is made

    def piece(last: bool) -> None:
        nonlocal window
        end = len(held) if last else window + PIECE
        out.add(bytes(held[:window]), bytes(held[window:end]), last=last)
        window = min(WINDOW, end)  # (a piece shorter than the window keeps some of the window before it)
        del held[: end - window]

    for data in pieces:
        crc, size = zlib.crc32(data, crc), size + len(data)
        held += data
        while len(held) - window > PIECE:  # a whole piece, and more after it: not the last
            piece(last=False)
    if not out and size <= _KEEP_BYTES:
        return packed(entry, bytes(held))
    piece(last=True)
    stored = out.joined()
    kept = copy.copy(info)
    kept.CRC, kept.file_size, kept.compress_size = crc, size, len(stored)
    return ZipEntry(entry.name, None, kept, memoryview(stored))


def new_part(name: str, pieces: Iterable[bytes]) -> ZipEntry:
    """A part the package did not have, made of the bytes ``pieces`` make, held as :func:`write_zip` writes a new
    part: a large one deflated as it is made (:func:`packed_pieces`), so it is never held whole."""
    info = zipfile.ZipInfo(name, _NEW_PART_TIME)
    info.external_attr, info.compress_type = _NEW_PART_MODE, zipfile.ZIP_DEFLATED
    return packed_pieces(ZipEntry(name, None, info), pieces)


# -- writing the zip ------------------------------------------------------------------------------------


def write_zip(dest: Path, entries: list[ZipEntry], comment: bytes) -> None:
    """Write the zip archive: unchanged parts as they were stored (not compressed again), new ones deflated.

    The guard bounds a member's package far below the classic zip format's 4 GB and 65,535 entries.
    """
    directory: list[bytes] = []
    offset = 0
    try:
        with open(dest, "wb") as fh:
            for entry in entries:
                name, flags = _zip_name(entry.name)
                if entry.info is not None:
                    when = max(entry.info.date_time, (1980, 1, 1, 0, 0, 0))
                    attributes = entry.info.external_attr
                    stored_as_is = entry.info.compress_type == zipfile.ZIP_STORED
                    method = zipfile.ZIP_STORED if stored_as_is else zipfile.ZIP_DEFLATED
                else:
                    when, attributes, method = _NEW_PART_TIME, _NEW_PART_MODE, zipfile.ZIP_DEFLATED
                if entry.stored is not None and entry.info is not None and entry.info.compress_type == method:
                    entry.checked()
                    payload: bytes | memoryview = entry.stored
                    crc, size = entry.info.CRC, entry.info.file_size
                else:
                    data = entry.content()
                    crc, size = zlib.crc32(data), len(data)
                    payload = data if method == zipfile.ZIP_STORED else deflate(data)
                year, month, day, hour, minute, second = when
                dos_time = hour << 11 | minute << 5 | second // 2
                dos_date = (year - 1980) << 9 | month << 5 | day
                fields = (flags, method, dos_time, dos_date, crc, len(payload), size, len(name))
                if offset + len(payload) + len(name) + _LOCAL_HEADER.size > 0xFFFFFFFF or len(directory) == 0xFFFF:
                    raise OutputError(f"the workbook is too large to write as {dest.name}; please report this")
                fh.write(_LOCAL_HEADER.pack(b"PK\x03\x04", 20, 0, *fields, 0))
                fh.write(name)
                fh.write(payload)
                # version made by 2.0 on Unix (the attributes are Unix modes), no extra field, comment or disk
                directory.append(
                    _CENTRAL_HEADER.pack(b"PK\x01\x02", 20, 3, 20, 0, *fields, 0, 0, 0, 0, attributes, offset) + name
                )
                offset += _LOCAL_HEADER.size + len(name) + len(payload)
            central = b"".join(directory)
            count = len(directory)
            fh.write(central)
            fh.write(_END_RECORD.pack(b"PK\x05\x06", 0, 0, count, count, len(central), offset, len(comment)))
            fh.write(comment)
    except OSError as exc:
        raise OutputError(f"could not write {dest} ({exc.strerror}); check the disk and the folder") from None


def _zip_name(name: str) -> tuple[bytes, int]:
    """A part name as the archive stores it, and the flag that marks it UTF-8 when it is not ASCII."""
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), 0x800
