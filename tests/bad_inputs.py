"""The corpus of bad inputs, built in code (no committed binaries).

Import from tests as ``from bad_inputs import CASES, build_corpus, build_case`` (pytest puts tests/ on
sys.path). ``scripts/make_bad_inputs.py OUTDIR`` writes the same files for people to try by hand.

Each :class:`Case` has a stable name, a file name, and what a user should get:

- ``outcome``: ``"unusable"`` (the command exits 2 with one sentence), ``"audits"`` (a normal audit,
  perhaps with findings) or ``"report-only"`` (the findings are reported, then one sentence says why no
  summary copy can be written; exit 2);
- ``error``: the :mod:`reentry_workbook.errors` class behind an unusable outcome;
- ``stage``: ``"guard"`` when :func:`reentry_workbook.xlsx.guard.open_package` refuses the file, ``"reader"`` when
  the guard lets it through and the reader refuses it, ``"none"`` when it audits.

Archive-level cases (stage ``"guard"``, plus ``xlsm-macros``) need no template: they are built on top of a
small valid workbook, or on the template when one is given. Workbook-level cases (``needs_template``) damage
the real plan template (``reentry_workbook.workbook.generate.new_workbook``) and are skipped without one. The expected
outcomes of ``xlsm-macros`` and the workbook-level cases hold when the corpus is built from the template.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import struct
import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reentry_workbook import errors
from reentry_workbook.plan import schema
from reentry_workbook.xlsx import limits

UNUSABLE = "unusable"
AUDITS = "audits"
REPORT_ONLY = "report-only"  # audited and reported, but no summary copy can be written (exit 2, one line)

Builder = Callable[[Path, bytes, "Path | None"], None]


@dataclass(frozen=True)
class Case:
    name: str  # stable: test ids, docs table
    filename: str  # the file's name in the corpus folder
    outcome: str  # UNUSABLE or AUDITS
    error: type[errors.ReentryWorkbookError] | None  # the error behind an unusable outcome
    stage: str  # "guard", "reader" or "none"
    about: str  # one line for the docs table
    build: Builder = field(repr=False, compare=False)
    needs_template: bool = False

    @property
    def archive_level(self) -> bool:
        return not self.needs_template


# --------------------------------------------------------------------------------------------------------------
# Zip and compound-file writers (byte-level, so hostile archives can be written exactly)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class RawMember:
    """One entry of a hand-written zip: what its local header and central directory say."""

    name: bytes
    stored: bytes  # the bytes as they sit in the archive (compressed or not)
    method: int
    crc: int
    size: int  # declared uncompressed size
    flags: int = 0
    alias_of: int | None = None  # index of an earlier member whose stored data this entry points at


def raw_member(name: str | bytes, data: bytes, *, compress: bool = True) -> RawMember:
    raw_name = name if isinstance(name, bytes) else name.encode("utf-8")
    flags = 0x800 if not raw_name.isascii() else 0
    if compress:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        stored = packer.compress(data) + packer.flush()
        method = zipfile.ZIP_DEFLATED
    else:
        stored, method = data, zipfile.ZIP_STORED
    return RawMember(raw_name, stored, method, zlib.crc32(data), len(data), flags)


def zeros_member(name: str, megabytes: int) -> RawMember:
    """A member of ``megabytes`` MB of zero bytes, deflated without ever holding it in memory.

    After a full flush the compressor starts afresh, so every 1 MB block of zeros compresses to the same bytes:
    compress one block, repeat it, and finish the stream. The CRC is computed block by block.
    """
    block_size = 1 << 20
    zeros = bytes(block_size)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    return RawMember(name.encode(), block * megabytes + tail, zipfile.ZIP_DEFLATED, crc, block_size * megabytes)


def raw_zip(members: list[RawMember]) -> bytes:
    """Write a zip archive exactly as described: duplicate, absolute or climbing names, forged sizes, aliases."""
    out = io.BytesIO()
    offsets: list[int] = []
    for member in members:
        if member.alias_of is not None:
            offsets.append(offsets[member.alias_of])
            continue
        offsets.append(out.tell())
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                member.flags,
                member.method,
                0,
                0x21,  # 1980-01-01
                member.crc,
                len(member.stored),
                member.size,
                len(member.name),
                0,
            )
        )
        out.write(member.name)
        out.write(member.stored)
    cd_start = out.tell()
    for member, offset in zip(members, offsets, strict=True):
        stored_len = len(members[member.alias_of].stored) if member.alias_of is not None else len(member.stored)
        out.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                member.flags,
                member.method,
                0,
                0x21,
                member.crc,
                stored_len,
                member.size,
                len(member.name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        out.write(member.name)
    cd_end = out.tell()
    count = len(members)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, cd_end - cd_start, cd_start, 0))
    return out.getvalue()


def zip_members(data: bytes) -> list[tuple[str, bytes]]:
    """The members of a (trusted, small) zip, in order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def rezip(members: Iterable[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return out.getvalue()


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (version 3, 512-byte sectors) holding ``streams`` at its root.

    Streams are padded to the 4096-byte mini-stream cutoff so that every stream lives in ordinary sectors and
    no mini stream is needed.
    """
    sector = 512
    per_sector = sector // 4
    end_of_chain, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    payloads = [streams[n].ljust(4096, b"\x00") for n in names]
    dir_sectors = -(-(len(names) + 1) * 128 // sector)
    data_sectors = dir_sectors + sum(-(-len(p) // sector) for p in payloads)
    fat_sectors = 1
    while fat_sectors * per_sector < fat_sectors + data_sectors:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("compound_file writes files of a few megabytes at most (no DIFAT sectors)")
    fat = [fat_sector] * fat_sectors
    next_sector = fat_sectors

    def chain(count: int) -> int:
        nonlocal next_sector
        first = next_sector
        for i in range(count):
            fat.append(next_sector + 1 if i < count - 1 else end_of_chain)
            next_sector += 1
        return first

    dir_start = chain(dir_sectors)
    starts = [chain(-(-len(payload) // sector)) for payload in payloads]
    fat += [free] * (fat_sectors * per_sector - len(fat))

    def entry(name: str, kind: int, start: int, size: int, right: int, child: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le")
        return struct.pack(
            "<64sHBB3L16sL2QLQ",
            encoded,
            len(encoded),
            kind,
            1,  # black
            no_stream,
            right,
            child,
            bytes(16),
            0,
            0,
            0,
            start,
            size,
        )

    directory = entry("Root Entry", 5, end_of_chain, 0, no_stream, 1 if names else no_stream)
    for i, (name, payload, start) in enumerate(zip(names, payloads, starts, strict=True), start=1):
        right = i + 1 if i < len(names) else no_stream
        directory += entry(name, 2, start, len(payload), right, no_stream)
    directory = directory.ljust(dir_sectors * sector, b"\x00")
    header = struct.pack(
        "<8s16s5H6s9L",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        bytes(16),
        0x003E,
        0x0003,
        0xFFFE,
        9,
        6,
        bytes(6),
        0,
        fat_sectors,
        dir_start,
        0,
        4096,
        end_of_chain,
        0,
        end_of_chain,
        0,
    )
    header += struct.pack("<109L", *range(fat_sectors), *([free] * (109 - fat_sectors)))
    body = b"".join(p.ljust(-(-len(p) // sector) * sector, b"\x00") for p in payloads)
    return header + struct.pack(f"<{len(fat)}L", *fat) + directory + body


# --------------------------------------------------------------------------------------------------------------
# Small valid workbooks
# --------------------------------------------------------------------------------------------------------------


def minimal_xlsx() -> bytes:
    """A small, valid .xlsx (not the plan template): one sheet with a header and two rows."""
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("Budget")
    for row, values in enumerate((("Line item", "Amount"), ("Rent support", "1200"), ("Bus passes", "300"))):
        for col, value in enumerate(values):
            sheet.write_string(row, col, value)
    workbook.close()
    return out.getvalue()


def _workbook_part(members: dict[str, bytes]) -> str:
    rels = ET.fromstring(members["_rels/.rels"])
    for rel in rels:
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel.get("Target", "").lstrip("/")
    return "xl/workbook.xml"


def _rels_part(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def sheet_parts(members: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> member name of its XML, read from the workbook part and its relationships."""
    part = _workbook_part(members)
    folder = part.rpartition("/")[0]
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    targets = {rel.get("Id"): rel.get("Target", "") for rel in ET.fromstring(members[_rels_part(part)])}
    found = {}
    for element in ET.fromstring(members[part]).iter():
        if element.tag.endswith("}sheet"):
            target = targets[element.get(rel_ns + "id")]
            found[element.get("name")] = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
    return found


# --------------------------------------------------------------------------------------------------------------
# Archive-level builders: base is the template's bytes or minimal_xlsx()
# --------------------------------------------------------------------------------------------------------------


def write_zip(out: Path, data: bytes) -> None:
    out.write_bytes(data)


def _empty(out: Path, base: bytes, template: Path | None) -> None:
    write_zip(out, b"")


def _random_bytes(out: Path, base: bytes, template: Path | None) -> None:
    write_zip(out, random.Random(4).randbytes(64 * 1024))


def _csv_renamed(out: Path, base: bytes, template: Path | None) -> None:
    steps = schema.sheet("steps")
    keys = ("id", "step", "responsible", "due_date")
    lines = [
        ",".join(steps.column(k).header for k in keys),
        f"{_id('steps', 1)},Open the housing desk,Maria,2027-03-15",
    ]
    write_zip(out, ("\r\n".join(lines) + "\r\n").encode("utf-8"))


def _text_renamed(out: Path, base: bytes, template: Path | None) -> None:
    write_zip(out, b"Notes from the March meeting\n\nWe agreed to revisit the housing goals next quarter.\n")


def _truncated(out: Path, base: bytes, template: Path | None) -> None:
    write_zip(out, base[: len(base) // 2])


def _no_workbook_part(out: Path, base: bytes, template: Path | None) -> None:
    members = zip_members(base)
    part = _workbook_part(dict(members))
    write_zip(out, rezip((n, d) for n, d in members if n != part))


def _password_protected(out: Path, base: bytes, template: Path | None) -> None:
    rng = random.Random(7)
    info = struct.pack("<HHL", 4, 4, 0x40) + "Microsoft Enhanced RSA and AES Cryptographic Provider".encode("utf-16-le")
    package = struct.pack("<Q", len(base)) + rng.randbytes(len(base) + 16)
    write_zip(out, compound_file({"EncryptionInfo": info, "EncryptedPackage": package}))


def _legacy_xls(out: Path, base: bytes, template: Path | None) -> None:
    bof = struct.pack("<HH", 0x0809, 16) + struct.pack("<HHHHLL", 0x0600, 0x0005, 0x1F2B, 0x07CD, 0x41, 0x06)
    eof = struct.pack("<HH", 0x000A, 0)
    write_zip(out, compound_file({"Workbook": bof + eof}))


def _ods(out: Path, base: bytes, template: Path | None) -> None:
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Plan"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>Budget</text:p></table:table-cell>'
        "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
    )
    write_zip(
        out,
        raw_zip(
            [
                raw_member("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", compress=False),
                raw_member("META-INF/manifest.xml", manifest.encode()),
                raw_member("content.xml", content.encode()),
            ]
        ),
    )


def _xlsb(out: Path, base: bytes, template: Path | None) -> None:
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Override PartName="/xl/workbook.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.bin"/></Relationships>'
    )
    write_zip(
        out,
        rezip(
            [
                ("[Content_Types].xml", content_types.encode()),
                ("_rels/.rels", rels.encode()),
                ("xl/workbook.bin", bytes(range(256))),
            ]
        ),
    )


def _word_document(out: Path, base: bytes, template: Path | None) -> None:
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>'
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
        "<w:t>Our reentry plan</w:t></w:r></w:p></w:body></w:document>"
    )
    write_zip(
        out,
        rezip(
            [
                ("[Content_Types].xml", content_types.encode()),
                ("_rels/.rels", rels.encode()),
                ("word/document.xml", document.encode()),
            ]
        ),
    )


def _numbers(out: Path, base: bytes, template: Path | None) -> None:
    write_zip(
        out,
        rezip(
            [
                ("Index/Document.iwa", bytes(range(200))),
                ("Index/Tables/DataList.iwa", bytes(64)),
                ("Metadata/Properties.plist", b"bplist00"),
            ]
        ),
    )


def _pdf(out: Path, base: bytes, template: Path | None) -> None:
    write_zip(
        out, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def _html_as_xls(out: Path, base: bytes, template: Path | None) -> None:
    steps = schema.sheet("steps")
    html = (
        "<html><head><meta charset='utf-8'></head><body><table>"
        f"<tr><td>{steps.column('id').header}</td><td>{steps.column('step').header}</td></tr>"
        f"<tr><td>{_id('steps', 1)}</td><td>Open the housing desk</td></tr>"
        "</table></body></html>"
    )
    write_zip(out, html.encode())


def _xml_2003(out: Path, base: bytes, template: Path | None) -> None:
    xml = (
        '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
        '<Worksheet ss:Name="Plan"><Table><Row><Cell><Data ss:Type="String">ID</Data></Cell></Row></Table>'
        "</Worksheet></Workbook>"
    )
    write_zip(out, xml.encode())


def _xlsm(out: Path, base: bytes, template: Path | None) -> None:
    members = dict(zip_members(base))
    part = _workbook_part(members)
    rels_name = _rels_part(part)
    types = members["[Content_Types].xml"].decode()
    types = re.sub(
        r'(<Override PartName="/' + re.escape(part) + r'" ContentType=")[^"]*(")',
        r"\1application/vnd.ms-excel.sheet.macroEnabled.main+xml\2",
        types,
    )
    types = types.replace(
        "<Default ", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default ', 1
    )
    rels = (
        members[rels_name]
        .decode()
        .replace(
            "</Relationships>",
            '<Relationship Id="rIdVba1" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/></Relationships>',
        )
    )
    vba = compound_file({"PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\nName="VBAProject"\r\n'})
    members["[Content_Types].xml"] = types.encode()
    members[rels_name] = rels.encode()
    members[part.rpartition("/")[0] + "/vbaProject.bin"] = vba
    write_zip(out, rezip(members.items()))


def _base_raw(base: bytes) -> list[RawMember]:
    return [raw_member(name, data) for name, data in zip_members(base)]


def _zip_bomb(out: Path, base: bytes, template: Path | None) -> None:
    # 300 MB of zeros in one sheet-like part: about 300 kB on disk.
    write_zip(out, raw_zip([*_base_raw(base), zeros_member("xl/worksheets/sheet99.xml", 300)]))


def _zip_bomb_forged(out: Path, base: bytes, template: Path | None) -> None:
    bomb = raw_member("xl/media/image1.png", bytes(1000))
    bomb.size = 3_000_000_000  # declared uncompressed size: 3 GB
    write_zip(out, raw_zip([*_base_raw(base), bomb]))


def _zip_bomb_ratio(out: Path, base: bytes, template: Path | None) -> None:
    # 50 MB of zeros: under the size limits, but compressed about 1000 to 1.
    write_zip(out, raw_zip([*_base_raw(base), zeros_member("xl/media/image1.bin", 50)]))


def _zip_bomb_overlap(out: Path, base: bytes, template: Path | None) -> None:
    members = _base_raw(base)
    members.append(zeros_member("xl/media/image1.bin", 2))
    first = len(members) - 1
    for i in range(2, 12):
        alias = RawMember(
            f"xl/media/image{i}.bin".encode(),
            b"",
            zipfile.ZIP_DEFLATED,
            members[first].crc,
            members[first].size,
            alias_of=first,
        )
        members.append(alias)
    write_zip(out, raw_zip(members))


def _with_workbook_prolog(base: bytes, dtd: str, reference: str, into: str | None = None) -> bytes:
    """Put a DTD in the prolog of a part (the workbook part by default) and an entity reference in its body."""
    members = dict(zip_members(base))
    part = into if into in members else _workbook_part(members)
    text = members[part].decode("utf-8")
    declaration = re.match(r"<\?xml[^>]*\?>\s*", text)
    prolog = declaration.group(0) if declaration else ""
    body = text[len(prolog) :]
    if part.endswith("sharedStrings.xml") and "<t>" in body:
        body = body.replace("<t>", f"<t>{reference}", 1)
    else:
        end_of_root_tag = body.index(">") + 1
        body = body[:end_of_root_tag] + reference + body[end_of_root_tag:]
    members[part] = (prolog + dtd + "\n" + body).encode("utf-8")
    return rezip(members.items())


def _entity_bomb(out: Path, base: bytes, template: Path | None) -> None:
    lines = ['<!ENTITY lol0 "lol">']
    lines += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    dtd = "<!DOCTYPE workbook [\n" + "\n".join(lines) + "\n]>"
    write_zip(out, _with_workbook_prolog(base, dtd, "&lol9;"))


def _external_entity(out: Path, base: bytes, template: Path | None) -> None:
    dtd = '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    write_zip(out, _with_workbook_prolog(base, dtd, "&xxe;", into="xl/sharedStrings.xml"))


def _named(extra: str | bytes) -> Builder:
    def build(out: Path, base: bytes, template: Path | None) -> None:
        write_zip(out, raw_zip([*_base_raw(base), raw_member(extra, b"<x/>")]))

    return build


def _duplicate_names(out: Path, base: bytes, template: Path | None) -> None:
    members = _base_raw(base)
    part = _workbook_part(dict(zip_members(base)))
    first = next(m for m in members if m.name.decode() == part)
    second = raw_member(part, zlib.decompress(first.stored, -15) + b"<!-- a second copy -->")
    write_zip(out, raw_zip([*members, second]))


def _too_many_members(out: Path, base: bytes, template: Path | None) -> None:
    filler = [raw_member(f"customXml/item{i}.xml", b"<a/>", compress=False) for i in range(limits.MAX_MEMBERS)]
    write_zip(out, raw_zip([*_base_raw(base), *filler]))


def _encrypted_members(out: Path, base: bytes, template: Path | None) -> None:
    members = _base_raw(base)
    for member in members:
        member.flags |= 0x1
    write_zip(out, raw_zip(members))


# --------------------------------------------------------------------------------------------------------------
# Workbook-level builders: damage the real template
# --------------------------------------------------------------------------------------------------------------


def _load(template: Path):  # -> openpyxl.Workbook
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(template)


def _save(workbook, out: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook.save(out)


def _headers(ws) -> dict[str, int]:
    """Normalised header text -> 1-based column on a data sheet's header row."""
    found = {}
    for cell in ws[schema.HEADER_ROW]:
        if cell.value is not None:
            found.setdefault(schema.normalise_header(cell.value), cell.column)
    return found


def _col(ws, sheet_key: str, column_key: str) -> int:
    return _headers(ws)[schema.normalise_header(schema.sheet(sheet_key).column(column_key).header)]


def _id(sheet_key: str, number: int) -> str:
    return f"{schema.sheet(sheet_key).id_prefix}-{number}"


def _fill_small_plan(workbook) -> None:
    """One priority, goal, improvement, measure and step, linked, on the first data row of each sheet."""
    row = schema.FIRST_DATA_ROW
    values = {
        "priorities": {"id": _id("priorities", 1), "priority": "Stable housing after release"},
        "goals": {
            "id": _id("goals", 1),
            "priority": _id("priorities", 1),
            "goal": "Halve exits to homelessness",
            "success_measure": "Share of releases with an address",
            "target": "90%",
            "target_date": dt.date(2027, 12, 31),
        },
        "improvements": {"id": _id("improvements", 1), "goal": _id("goals", 1), "improvement": "Housing desk"},
        "measures": {"id": _id("measures", 1), "improvement": _id("improvements", 1)},
        "steps": {
            "id": _id("steps", 1),
            "improvement": _id("improvements", 1),
            "step": "Open the housing desk",
            "responsible": "Maria",
            "due_date": dt.date(2027, 3, 15),
        },
    }
    for sheet_key, cells in values.items():
        ws = workbook[schema.sheet(sheet_key).name]
        headers = _headers(ws)
        for column_key, value in cells.items():
            try:
                column = schema.sheet(sheet_key).column(column_key)
            except KeyError:
                continue
            target = headers.get(schema.normalise_header(column.header))
            if target:
                ws.cell(row=row, column=target, value=value)


def _set_coalition(workbook, key: str, value: object) -> None:
    ws = workbook[schema.COALITION_SHEET]
    label = schema.normalise_header(schema.coalition_field(key).label)
    for row in ws.iter_rows():
        for cell in row:
            if schema.normalise_header(cell.value) == label:
                ws.cell(row=cell.row, column=cell.column + 1, value=value)
                return


def _openpyxl_case(change: Callable[[object], None]) -> Builder:
    def build(out: Path, base: bytes, template: Path | None) -> None:
        assert template is not None
        workbook = _load(template)
        _fill_small_plan(workbook)
        change(workbook)
        _save(workbook, out)

    return build


def _strict(out: Path, base: bytes, template: Path | None) -> None:
    """The small plan saved as Strict Open XML (tests/producers.py's rewrite)."""
    from producers import strict  # producers builds on this module: imported when a case is built

    _openpyxl_case(lambda workbook: None)(out, base, template)
    write_zip(out, rezip(strict(dict(zip_members(out.read_bytes()))).items()))


def _unrelated_template(out: Path, base: bytes, template: Path | None) -> None:
    write_zip(out, minimal_xlsx())


def _missing_sheet(workbook) -> None:
    name = schema.sheet("steps").name
    assert name in schema.REQUIRED_SHEETS
    del workbook[name]


def _header_deleted(workbook) -> None:
    workbook[schema.sheet("steps").name].delete_rows(schema.HEADER_ROW)


def _header_renamed(workbook) -> None:
    ws = workbook[schema.sheet("steps").name]
    ws.cell(row=schema.HEADER_ROW, column=_col(ws, "steps", "id"), value="Zq 9 (renamed)")


def _duplicate_headers(workbook) -> None:
    ws = workbook[schema.sheet("steps").name]
    header = schema.sheet("steps").column("status").header
    ws.cell(row=schema.HEADER_ROW, column=max(_headers(ws).values()) + 1, value=header)


def _date_1904(workbook) -> None:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    workbook.epoch = CALENDAR_MAC_1904
    _set_coalition(workbook, "plan_start", dt.date(2026, 7, 1))
    _set_coalition(workbook, "plan_end", dt.date(2028, 6, 30))


def _formulas_everywhere(workbook) -> None:
    for sheet in schema.SHEETS:
        ws = workbook[sheet.name]
        headers = _headers(ws)
        for column in sheet.columns:
            target = headers.get(schema.normalise_header(column.header))
            if not target:
                continue
            for row in range(schema.FIRST_DATA_ROW, schema.FIRST_DATA_ROW + 3):
                if column.kind is schema.Kind.DATE:
                    formula = "=DATE(2027,3,15)+ROW()"
                elif column.kind in (schema.Kind.NUMBER, schema.Kind.MONEY):
                    formula = "=1+ROW()"
                else:
                    formula = f'="{column.header} "&ROW()'
                ws.cell(row=row, column=target, value=formula)


def _error_values(workbook) -> None:
    codes = ("#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!")
    row = schema.FIRST_DATA_ROW + 1
    for sheet in schema.SHEETS:
        ws = workbook[sheet.name]
        headers = _headers(ws)
        for i, column in enumerate(sheet.columns):
            target = headers.get(schema.normalise_header(column.header))
            if target:
                ws.cell(row=row, column=target, value=codes[i % len(codes)])


def _merged_cells(workbook) -> None:
    ws = workbook[schema.sheet("steps").name]
    first = schema.FIRST_DATA_ROW
    for offset in (1, 2):
        ws.cell(row=first + offset, column=_col(ws, "steps", "id"), value=_id("steps", 1 + offset))
        ws.cell(row=first + offset, column=_col(ws, "steps", "step"), value=f"Follow-up visit {offset}")
    for key in ("improvement", "responsible"):
        column = _col(ws, "steps", key)
        ws.merge_cells(start_row=first, start_column=column, end_row=first + 2, end_column=column)


LONG_CELL_CHARS = 50_000
_LONG_MARKER = "long-cell-marker-7f3a"


def _long_cell(out: Path, base: bytes, template: Path | None) -> None:
    """A 50,000-character cell (beyond Excel's 32,767; openpyxl truncates, so the shared string is patched)."""

    def mark(workbook) -> None:
        ws = workbook[schema.sheet("steps").name]
        ws.cell(row=schema.FIRST_DATA_ROW, column=_col(ws, "steps", "notes"), value=_LONG_MARKER)

    _openpyxl_case(mark)(out, base, template)
    members = dict(zip_members(out.read_bytes()))
    text = ("Housing desk notes. " * (LONG_CELL_CHARS // 20 + 1))[:LONG_CELL_CHARS]
    for name, data in members.items():
        if _LONG_MARKER.encode() in data:
            members[name] = data.replace(_LONG_MARKER.encode(), text.encode())
    write_zip(out, rezip(members.items()))


def _blank_formatted_rows(out: Path, base: bytes, template: Path | None) -> None:
    """100,000 rows with a style and empty styled cells below the action steps (XML patched directly)."""
    assert template is not None
    _openpyxl_case(lambda wb: None)(out, base, template)
    members = dict(zip_members(out.read_bytes()))
    part = sheet_parts(members)[schema.sheet("steps").name]
    xml = members[part].decode("utf-8")
    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', xml)]
    last = max(rows, default=schema.HEADER_ROW)
    styles = re.findall(r'<c r="[A-Z]+\d+" s="(\d+)"', xml)
    style = styles[-1] if styles else "0"
    width = len(schema.sheet("steps").columns)
    letters = [chr(ord("A") + i) for i in range(min(width, 26))]
    extra = "".join(
        f'<row r="{r}" spans="1:{width}" s="{style}" customFormat="1">'
        + "".join(f'<c r="{letter}{r}" s="{style}"/>' for letter in letters)
        + "</row>"
        for r in range(last + 1, last + 100_001)
    )
    if "<sheetData/>" in xml:
        xml = xml.replace("<sheetData/>", f"<sheetData>{extra}</sheetData>")
    else:
        xml = xml.replace("</sheetData>", extra + "</sheetData>", 1)
    xml = re.sub(r'<dimension ref="([A-Z]+)(\d+):([A-Z]+)\d+"', rf'<dimension ref="\1\2:\g<3>{last + 100_000}"', xml)
    members[part] = xml.encode("utf-8")
    write_zip(out, rezip(members.items()))


# --------------------------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------------------------

_STEPS = schema.sheet("steps").name
_STEP_ID = schema.sheet("steps").column("id").header
_STATUS = schema.sheet("steps").column("status").header

_NAW, _UNSAFE, _UNUSABLE, _MISMATCH = (
    errors.NotAWorkbookError,
    errors.UnsafeArchiveError,
    errors.UnusableInputError,
    errors.TemplateMismatchError,
)


def _guard(name: str, filename: str, error: type[errors.ReentryWorkbookError], about: str, build: Builder) -> Case:
    return Case(name, filename, UNUSABLE, error, "guard", about, build)


def _reader(name: str, about: str, build: Builder) -> Case:
    return Case(name, f"{name}.xlsx", UNUSABLE, _MISMATCH, "reader", about, build, needs_template=True)


def _audits(name: str, about: str, build: Builder, *, needs_template: bool = True, filename: str = "") -> Case:
    return Case(name, filename or f"{name}.xlsx", AUDITS, None, "none", about, build, needs_template)


CASES: dict[str, Case] = {
    case.name: case
    for case in (
        _guard("empty", "empty.xlsx", _NAW, "an empty file (0 bytes)", _empty),
        _guard("random-bytes", "random-bytes.xlsx", _NAW, "64 kB of random bytes named .xlsx", _random_bytes),
        _guard("csv-renamed", "csv-renamed.xlsx", _NAW, "a CSV file renamed to .xlsx", _csv_renamed),
        _guard("text-renamed", "text-renamed.xlsx", _NAW, "a plain text file renamed to .xlsx", _text_renamed),
        _guard("truncated", "truncated.xlsx", _UNUSABLE, "a real workbook cut in half", _truncated),
        _guard("no-workbook-part", "no-workbook-part.xlsx", _NAW, "a zip with no workbook part", _no_workbook_part),
        _guard(
            "password-protected",
            "password-protected.xlsx",
            _NAW,
            "a password-protected workbook (OLE container with an EncryptedPackage stream)",
            _password_protected,
        ),
        _guard("legacy-xls", "legacy.xls", _NAW, "a legacy Excel 97-2003 .xls workbook", _legacy_xls),
        _guard("ods", "plan.ods", _NAW, "an OpenDocument spreadsheet (.ods)", _ods),
        _guard("xlsb", "plan.xlsb", _NAW, "an Excel binary workbook (.xlsb)", _xlsb),
        _guard("word-document", "plan.docx", _NAW, "a Word document (.docx)", _word_document),
        _guard("numbers-document", "plan.numbers", _NAW, "an Apple Numbers document", _numbers),
        _guard("pdf-document", "plan.pdf", _NAW, "a PDF file", _pdf),
        _guard("html-as-xls", "export.xls", _NAW, "a web page saved with an .xls name", _html_as_xls),
        _guard("xml-spreadsheet-2003", "plan.xml", _NAW, "an Excel 2003 XML Spreadsheet", _xml_2003),
        _guard("zip-bomb", "zip-bomb.xlsx", _UNSAFE, "a part that expands to 300 MB of zeros", _zip_bomb),
        _guard("zip-bomb-forged", "zip-bomb-forged.xlsx", _UNSAFE, "a part declaring 3 GB", _zip_bomb_forged),
        _guard("zip-bomb-ratio", "zip-bomb-ratio.xlsx", _UNSAFE, "a 50 MB part compressed 1000:1", _zip_bomb_ratio),
        _guard(
            "zip-bomb-overlap",
            "zip-bomb-overlap.xlsx",
            _UNSAFE,
            "eleven parts sharing one stored copy of their data",
            _zip_bomb_overlap,
        ),
        _guard("entity-bomb", "entity-bomb.xlsx", _UNSAFE, "billion laughs in xl/workbook.xml", _entity_bomb),
        _guard(
            "external-entity",
            "external-entity.xlsx",
            _UNSAFE,
            "an external entity (file:///etc/passwd) in the shared strings",
            _external_entity,
        ),
        _guard(
            "path-traversal", "path-traversal.xlsx", _UNSAFE, "a part named ../../evil.txt", _named("../../evil.txt")
        ),
        _guard(
            "backslash-traversal",
            "backslash-traversal.xlsx",
            _UNSAFE,
            r"a part named ..\..\evil.txt",
            _named("..\\..\\evil.txt"),
        ),
        _guard("absolute-path", "absolute-path.xlsx", _UNSAFE, "a part named /etc/evil.xml", _named("/etc/evil.xml")),
        _guard("nul-in-name", "nul-in-name.xlsx", _UNSAFE, "a part name with a NUL byte", _named(b"xl/evil\x00.xml")),
        _guard("duplicate-names", "duplicate-names.xlsx", _UNSAFE, "two parts with one name", _duplicate_names),
        _guard(
            "too-many-members",
            "too-many-members.xlsx",
            _UNSAFE,
            f"more than {limits.MAX_MEMBERS:,} parts",
            _too_many_members,
        ),
        _guard(
            "encrypted-members",
            "encrypted-members.xlsx",
            _NAW,
            "zip entries flagged as encrypted",
            _encrypted_members,
        ),
        _audits(
            "xlsm-macros",
            "a macro-enabled .xlsm with a vbaProject.bin (values audited, macros never run)",
            _xlsm,
            needs_template=False,
            filename="xlsm-macros.xlsm",
        ),
        _reader("unrelated-template", "a valid workbook from another template", _unrelated_template),
        _reader("missing-sheet", f"the {_STEPS} sheet deleted", _openpyxl_case(_missing_sheet)),
        _reader("header-deleted", f"the {_STEPS} header row deleted", _openpyxl_case(_header_deleted)),
        _reader("header-renamed", f"the {_STEPS} {_STEP_ID} header renamed", _openpyxl_case(_header_renamed)),
        _reader("duplicate-headers", f"a second {_STATUS} column on {_STEPS}", _openpyxl_case(_duplicate_headers)),
        _audits("date-1904", "the Mac 1904 date system", _openpyxl_case(_date_1904)),
        _audits("formulas-everywhere", "formulas in every data cell", _openpyxl_case(_formulas_everywhere)),
        _audits("error-values", "error values (#N/A, #REF!, ...) in data cells", _openpyxl_case(_error_values)),
        _audits("merged-cells", f"merged data cells on {_STEPS}", _openpyxl_case(_merged_cells)),
        _audits("long-cell", "a 50,000-character cell", _long_cell),
        _audits("blank-formatted-rows", "100,000 blank formatted rows", _blank_formatted_rows),
        Case(
            "strict-open-xml",
            "strict-open-xml.xlsx",
            REPORT_ONLY,
            None,
            "none",
            "a plan saved as Strict Open XML Spreadsheet (findings reported, no summary copy)",
            _strict,
            needs_template=True,
        ),
    )
}

ARCHIVE_CASES: tuple[str, ...] = tuple(name for name, case in CASES.items() if case.archive_level)
TEMPLATE_CASES: tuple[str, ...] = tuple(name for name, case in CASES.items() if case.needs_template)
EXPECTED: dict[str, str] = {name: case.outcome for name, case in CASES.items()}


def build_case(name: str, outdir: Path, template: Path | None = None, *, base: bytes | None = None) -> Path:
    """Write one case into ``outdir`` and return its path."""
    case = CASES[name]
    if case.needs_template and template is None:
        raise ValueError(f"the case {name!r} needs the plan template")
    if base is None:
        base = template.read_bytes() if template is not None else minimal_xlsx()
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / case.filename
    case.build(out, base, template)
    return out


def build_corpus(outdir: Path, template: Path | None = None, *, only: Iterable[str] | None = None) -> dict[str, Path]:
    """Write the corpus into ``outdir``: case name -> file. Without a template, template cases are left out."""
    base = template.read_bytes() if template is not None else minimal_xlsx()
    names = list(only) if only is not None else list(CASES)
    built = {}
    for name in names:
        if CASES[name].needs_template and template is None:
            continue
        built[name] = build_case(name, outdir, template, base=base)
    return built


__all__ = [
    "ARCHIVE_CASES",
    "AUDITS",
    "CASES",
    "EXPECTED",
    "REPORT_ONLY",
    "TEMPLATE_CASES",
    "UNUSABLE",
    "Case",
    "build_case",
    "build_corpus",
    "compound_file",
    "minimal_xlsx",
    "raw_member",
    "raw_zip",
    "zeros_member",
]
