"""Decorate a workbook the way a coalition member might, and hand-built reports for the summary tests.

``decorate(src, dest)`` adds a sheet of the member's own with things openpyxl cannot carry through a load
and save: a picture, a text box, a note, a threaded comment (with its persons part), an Excel 2010+
extended data validation and an extended data bar, plus a workbook-level defined name and a custom
document property. XlsxWriter builds what it can (the sheet, picture, text box, notes, data bar, print
area); the rest is XML written here and patched into the package.

Import from tests as ``from decorate import decorate, sample_report`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree as ET

import xlsxwriter

from reentry_workbook.audit.figures import NO_ONE
from reentry_workbook.audit.report import GoalLine, PersonLine, Report, Summary
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.plan.model import Finding
from reentry_workbook.xlsx import package

MEMBER_SHEET = "Maria's notes"  # the member's own sheet: not part of the plan, so not in the schema
MEMBER_NAME = "MariaBudget"  # a workbook-level defined name the member made
MEMBER_PROPERTY = "Reviewed by"  # a custom document property the member set
MEMBER_PROPERTY_VALUE = "Maria Lopez"
PERSON_ID = "{6A1C2E3F-4B5D-4E6F-8A9B-0C1D2E3F4A5B}"
THREAD_ID = "{0F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0}"
THREADED_CELL = "C2"

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CUSTOM_PROPS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
REL_CUSTOM = REL + "/custom-properties"
REL_PERSON = "http://schemas.microsoft.com/office/2017/10/relationships/person"
REL_THREADED = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
CT_THREADED = "application/vnd.ms-excel.threadedcomments+xml"
CT_PERSON = "application/vnd.ms-excel.person+xml"
CT_CUSTOM = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
THREADED_NS = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def tiny_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (31, 78, 120)) -> bytes:
    """A small solid-colour PNG, made without an imaging library."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def decorate(src: Path, dest: Path) -> dict[str, str]:
    """Write to ``dest`` a copy of ``src`` decorated by a member; return what was added -> its part name.

    Keys: sheet, drawing, image, comments, vml, threaded_comments, persons, custom_properties, workbook.
    """
    with tempfile.TemporaryDirectory(prefix="decorate-") as tmp:
        scratch = Path(tmp) / "member.xlsx"
        _member_sheet(scratch)
        grafted = Path(tmp) / "grafted.xlsx"
        position = len(package.sheet_names(src))  # after the member's existing sheets
        package.graft_sheet(src, scratch, grafted, sheet_name=MEMBER_SHEET, position=position)
        parts = _read(grafted)

    order = list(parts)
    workbook = _workbook_part(parts)
    sheet = _sheet_part(parts, workbook, MEMBER_SHEET)
    sheet_rels = _rels_targets(parts, sheet)
    drawing = next(t for t, kind in sheet_rels.items() if kind.endswith("/drawing"))
    vml = next(t for t, kind in sheet_rels.items() if kind.endswith("/vmlDrawing"))
    comments = next(t for t, kind in sheet_rels.items() if kind.endswith("/comments"))
    image = next(t for t, kind in _rels_targets(parts, drawing).items() if kind.endswith("/image"))

    threaded = _free_name(parts, "xl/threadedComments/threadedComment{}.xml")
    parts[threaded] = _threaded_comment_xml()
    _add_relationship(parts, sheet, REL_THREADED, threaded)
    _add_override(parts, threaded, CT_THREADED)

    persons = "xl/persons/person.xml" if "xl/persons/person.xml" not in parts else _free_name(
        parts, "xl/persons/person{}.xml"
    )
    parts[persons] = _persons_xml()
    _add_relationship(parts, workbook, REL_PERSON, persons)
    _add_override(parts, persons, CT_PERSON)

    parts[sheet] = _add_extended_validation(parts[sheet])
    parts[workbook] = _add_defined_name(parts[workbook])
    custom = _add_custom_property(parts)

    write_zip(dest, parts, order)
    return {
        "sheet": sheet,
        "drawing": drawing,
        "image": image,
        "comments": comments,
        "vml": vml,
        "threaded_comments": threaded,
        "persons": persons,
        "custom_properties": custom,
        "workbook": workbook,
    }


# -- the member's sheet, by XlsxWriter -------------------------------------------------------------------


def _member_sheet(path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    ws = book.add_worksheet(MEMBER_SHEET)
    bold = book.add_format({"bold": True, "bg_color": "#FCE4D6"})
    money = book.add_format({"num_format": "$#,##0"})

    def ok(rc: int | None) -> None:
        assert rc in (0, None), rc

    ok(ws.write_string(0, 0, "Budget line", bold))
    ok(ws.write_string(0, 1, "Amount", bold))
    ok(ws.write_string(0, 2, "Discussed", bold))
    ok(ws.write_string(0, 3, "Step", bold))
    for i, (line, amount) in enumerate(
        (("Landlord forum", 1200), ("Bus passes", 5400), ("ID vouchers", 800), ("Job fair", 2300), ("Print", 150)),
        start=1,
    ):
        ok(ws.write_string(i, 0, line))
        ok(ws.write_number(i, 1, amount, money))
    ok(ws.write_string(1, 2, "=SUM(B2:B6) is what we asked for"))  # member text that looks like a formula
    ok(ws.set_column(0, 0, 22))
    ok(ws.write_comment(1, 0, "Check this with the county budget office.", {"author": "Maria Lopez"}))
    # The note Excel keeps beside a threaded comment, for versions that cannot show threads.
    ok(ws.write_comment(1, 2, "[Threaded comment]\nCan we confirm the forum date before the next meeting?",
                        {"author": f"tc={THREAD_ID}"}))
    ok(ws.insert_image(1, 5, "logo.png", {"image_data": io.BytesIO(tiny_png()), "x_scale": 8, "y_scale": 8}))
    ok(ws.insert_textbox(8, 5, "Member note: numbers from the March meeting.", {"width": 260, "height": 50}))
    ok(ws.conditional_format(1, 1, 5, 1, {"type": "data_bar", "bar_color": "#63BE7B", "data_bar_2010": True}))
    ok(ws.print_area(0, 0, 10, 8))
    book.close()


# -- XML the member's Excel would have written ---------------------------------------------------------


def _threaded_comment_xml() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<ThreadedComments xmlns="{THREADED_NS}" xmlns:x="{MAIN}">'
        f'<threadedComment ref="{THREADED_CELL}" dT="2027-02-20T14:05:00.00" personId="{PERSON_ID}" '
        f'id="{THREAD_ID}"><text>Can we confirm the forum date before the next meeting?</text>'
        "</threadedComment></ThreadedComments>"
    ).encode()


def _persons_xml() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<personList xmlns="{THREADED_NS}" xmlns:x="{MAIN}">'
        f'<person displayName="Maria Lopez" id="{PERSON_ID}" userId="maria@example.org" providerId="None"/>'
        "</personList>"
    ).encode()


def _add_extended_validation(sheet_xml: bytes) -> bytes:
    """An x14 list validation whose source is another sheet, as Excel writes it (in the sheet's extLst)."""
    steps = schema.sheet("steps")
    source = "'" + steps.name.replace("'", "''") + "'!$A$2:$A$50"
    ext = (
        '<ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
        f"<x14:formula1><xm:f>{_escape(source)}</xm:f></x14:formula1><xm:sqref>D2:D6</xm:sqref>"
        "</x14:dataValidation></x14:dataValidations></ext>"
    )
    text = sheet_xml.decode()
    assert "</extLst>" in text, "XlsxWriter's extended data bar should have made an extLst"
    return text.replace("</extLst>", ext + "</extLst>", 1).encode()


def _add_defined_name(workbook_xml: bytes) -> bytes:
    ref = "'" + MEMBER_SHEET.replace("'", "''") + "'!$B$2:$B$6"
    element = f'<definedName name="{MEMBER_NAME}">{_escape(ref)}</definedName>'
    text = workbook_xml.decode()
    if "</definedNames>" in text:
        text = text.replace("</definedNames>", element + "</definedNames>", 1)
    else:
        text = text.replace("</sheets>", "</sheets><definedNames>" + element + "</definedNames>", 1)
    return text.encode()


def _add_custom_property(parts: dict[str, bytes]) -> str:
    rels = ET.fromstring(parts["_rels/.rels"])
    target = next((r.get("Target") for r in rels if r.get("Type") == REL_CUSTOM), None)
    name = (target or "docProps/custom.xml").lstrip("/")
    # The value's prefix is declared where it is used: the part may bind it only locally (openpyxl does).
    vt = 'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"'
    value = _escape(MEMBER_PROPERTY_VALUE)
    prop_tail = f'name="{_escape(MEMBER_PROPERTY)}"><vt:lpwstr {vt}>{value}</vt:lpwstr></property>'
    if target is None:
        parts[name] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Properties xmlns="{CUSTOM_PROPS}" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            f'<property fmtid="{FMTID}" pid="2" {prop_tail}</Properties>'
        ).encode()
        _add_relationship(parts, "", REL_CUSTOM, name)
        _add_override(parts, name, CT_CUSTOM)
        return name
    text = parts[name].decode()
    pids = [int(p) for p in re.findall(r'pid="(\d+)"', text)]
    element = f'<property fmtid="{FMTID}" pid="{max(pids, default=1) + 1}" {prop_tail}'
    parts[name] = text.replace("</Properties>", element + "</Properties>", 1).encode()
    return name


# -- package plumbing ------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _read(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write_zip(dest: Path, parts: dict[str, bytes], order: list[str]) -> None:
    names = order + [n for n in parts if n not in order]
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2027, 2, 20, 14, 5, 0)), parts[name])


def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _rels_targets(parts: dict[str, bytes], source: str) -> dict[str, str]:
    """Resolved target part -> relationship type, for the relationships of ``source``."""
    root = ET.fromstring(parts[_rels_name(source)])
    out = {}
    for rel in root:
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(posixpath.dirname(source), target)
        )
        out[path] = rel.get("Type") or ""
    return out


def _workbook_part(parts: dict[str, bytes]) -> str:
    return next(t for t, kind in _rels_targets(parts, "").items() if kind.endswith("/officeDocument"))


def _sheet_part(parts: dict[str, bytes], workbook: str, name: str) -> str:
    root = ET.fromstring(parts[workbook])
    sheet = next(s for s in root.iter(f"{{{MAIN}}}sheet") if s.get("name") == name)
    rid = sheet.get(f"{{{REL}}}id")
    rels = ET.fromstring(parts[_rels_name(workbook)])
    target = next(r.get("Target") for r in rels if r.get("Id") == rid) or ""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(workbook), target))


def _free_name(parts: dict[str, bytes], pattern: str) -> str:
    n = 1
    while pattern.format(n) in parts:
        n += 1
    return pattern.format(n)


def _add_relationship(parts: dict[str, bytes], source: str, kind: str, target_part: str) -> None:
    name = _rels_name(source)
    empty = f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="{PKG_REL}"></Relationships>'
    decoded = parts[name].decode() if name in parts else empty
    ids = set(re.findall(r'Id="([^"]+)"', decoded))
    n = 1
    while f"rIdM{n}" in ids:
        n += 1
    target = posixpath.relpath(target_part, posixpath.dirname(source) or ".")
    element = f'<Relationship Id="rIdM{n}" Type="{kind}" Target="{target}"/>'
    parts[name] = decoded.replace("</Relationships>", element + "</Relationships>", 1).encode()


def _add_override(parts: dict[str, bytes], part: str, content_type: str) -> None:
    text = parts["[Content_Types].xml"].decode()
    element = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
    parts["[Content_Types].xml"] = text.replace("</Types>", element + "</Types>", 1).encode()


# -- hand-built reports ----------------------------------------------------------------------------------

AS_OF = dt.date(2027, 3, 15)
AUDITED_AT = dt.datetime(2027, 3, 15, 9, 30)


def finding(slug: str, sheet: str, cell: str, row_id: str | None, message: str) -> Finding:
    rule = catalogue.rule(slug)
    return Finding(slug, rule.severity, sheet, cell, row_id, message, rule.fix)


def sample_report(findings: list[Finding] | None = None, *, with_goals: bool = True) -> Report:
    """A Report shaped like the audit's, with counts that agree with its findings."""
    steps = schema.sheet("steps").name
    goals_sheet = schema.sheet("goals").name
    if findings is None:
        findings = [
            finding("step-overdue", steps, "I5", "A-4", "Action step A-4 'Hold a landlord forum' was due 2027-01-31."),
            finding("broken-link", steps, "B7", "A-6", "Action step A-6 names improvement I-9, which does not exist."),
            finding("goal-not-measurable", goals_sheet, "F3", "G-2", "Goal G-2 'More jobs' has no target."),
            finding("step-without-owner", steps, "G8", "A-7", "Action step A-7 'Print flyers' has no one responsible."),
            finding("plan-review-overdue", schema.COALITION_SHEET, "", None, "The plan was last reviewed in 2025."),
            finding("date-as-text", steps, "J9", "A-8", "Due date of A-8 was typed as text: 'March 2027'."),
        ]
    counts = {s: 0 for s in catalogue.SEVERITIES}
    by_rule: dict[str, int] = {}
    for f in findings:
        counts[f.severity] += 1
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    rule_counts = {r.slug: by_rule[r.slug] for r in catalogue.RULES if r.slug in by_rule}
    summary = Summary(
        file="Plan v3 FINAL (Maria).xlsx",
        coalition="Lakeside County Reentry Coalition",
        as_of=AS_OF,
        template_version=schema.TEMPLATE_VERSION,
        audited_at=AUDITED_AT,
        alignment=0.75 if with_goals else None,
        completeness=0.9 if with_goals else None,
        steps=8 if with_goals else 0,
        steps_aligned=6 if with_goals else 0,
        counts=counts,
        rule_counts=rule_counts,
    )
    goals = [
        GoalLine("G-1", "Halve homelessness in the first year after release", "P-1", 2, 2, 4, 1, 1, 3, "red"),
        GoalLine("G-2", "More jobs", "P-2", 1, 1, 3, 2, 0, 1, "amber"),
        GoalLine("G-3", "Screen everyone booked into jail for risk and needs", "P-1", 1, 1, 1, 1, 0, 0, "green"),
    ] if with_goals else []
    people = [
        PersonLine("Housing Authority Director", 3, 1, 0),
        PersonLine(NO_ONE, 1, 0, 1),
        PersonLine("Dana Whitfield", 4, 0, 0),
    ] if with_goals else []
    return Report(summary, findings, goals, people)
