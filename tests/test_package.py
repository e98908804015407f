"""Grafting the Alignment Summary into a member's workbook keeps every other part of their package as it was."""

from __future__ import annotations

import hashlib
import posixpath
import re
import subprocess
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import libreoffice
import openpyxl
import pytest
import xlsxwriter
from decorate import MEMBER_NAME, MEMBER_PROPERTY, MEMBER_SHEET, decorate, finding, sample_report

from reentry_workbook.audit.summary_sheet import write_summary_workbook
from reentry_workbook.errors import UnusableInputError, UsageError
from reentry_workbook.plan import schema
from reentry_workbook.workbook import generate
from reentry_workbook.xlsx import opc, package
from reentry_workbook.xlsx.atomic import atomic_path

SUMMARY = schema.SUMMARY_SHEET
MAIN = opc.MAIN_NS
REL = opc.REL_NS
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X15 = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"
STEPS = schema.sheet("steps").name
PLAN_SHEETS = [schema.START_SHEET, schema.COALITION_SHEET, *(s.name for s in schema.SHEETS), schema.LISTS_SHEET]
STATUS_LIST = schema.choice_list_name("status")


# -- building members' workbooks -----------------------------------------------------------------------


def xlsxwriter_member(path: Path) -> Path:
    """A plan-like workbook as XlsxWriter writes it: shared strings, no custom number formats."""
    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True})
    for name in PLAN_SHEETS:
        ws = book.add_worksheet(name)
        assert ws.write_string(0, 0, f"{name} header", bold) == 0
        assert ws.write_string(1, 0, f"{name} value") == 0
        if name == schema.LISTS_SHEET:
            for i, status in enumerate(schema.CHOICES["status"], start=1):
                assert ws.write_string(i, 5, status) == 0
            ws.hide()
        if name == STEPS:
            assert ws.print_area(0, 0, 20, 12) == 0
            ws.activate()
    count = len(schema.CHOICES["status"])
    book.define_name(STATUS_LIST, f"={schema.LISTS_SHEET}!$F$2:$F${count + 1}")
    book.close()
    return path


def openpyxl_member(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = schema.COALITION_SHEET
    book.active["A1"] = "Coalition name"
    steps = book.create_sheet(STEPS)
    steps["A1"] = "ID"
    steps.print_area = "A1:M20"
    book.active = 1
    book.save(path)
    return path


def graft(src: Path, tmp_path: Path, name: str = "audited.xlsx", report=None) -> Path:
    """``src`` with the summary of ``report`` grafted in as the audit grafts it (its findings as direct rows)."""
    out = tmp_path / name
    scratch = tmp_path / "scratch-summary.xlsx"
    rows = write_summary_workbook(report or sample_report(), scratch)
    with atomic_path(out) as dest:
        package.graft_sheets(src, dest, [package.SheetGraft(scratch, SUMMARY, position=0, rows=rows)])
    return out


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def patch(src: Path, dest: Path, edits: dict[str, bytes | None]) -> Path:
    """Copy a package with some parts replaced (None removes one)."""
    content = parts(src)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in content.items():
            new = edits.get(name, data)
            if new is not None:
                zf.writestr(name, new)
        for name, data in edits.items():
            if name not in content and data is not None:
                zf.writestr(name, data)
    return dest


def load_quietly(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return openpyxl.load_workbook(path)


def load_tolerantly(path: Path) -> openpyxl.Workbook:
    """Load a workbook whose member content (extensions, shapes) makes openpyxl warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def load_warnings(path: Path) -> set[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        openpyxl.load_workbook(path)
    return {str(w.message) for w in caught}


def workbook_root(path: Path) -> ET.Element:
    content = parts(path)
    workbook = next(n for n in content if n.endswith("workbook.xml") and "_rels" not in n)
    return ET.fromstring(content[workbook])


def local_names(path: Path) -> dict[str, list[str]]:
    """Sheet name -> the defined names local to it, by localSheetId."""
    root = workbook_root(path)
    sheets = [s.get("name") for s in root.iter(f"{{{MAIN}}}sheet")]
    out: dict[str, list[str]] = {}
    for n in root.iter(f"{{{MAIN}}}definedName"):
        if n.get("localSheetId") is not None:
            out.setdefault(sheets[int(n.get("localSheetId"))], []).append(n.get("name"))
    return out


def assert_member_parts_kept(src: Path, out: Path) -> None:
    """Every part of src is in out under its name, byte-identical unless a graft may change it."""
    before, after = parts(src), parts(out)
    may_change = package.parts_graft_may_change(src)
    missing = set(before) - set(after)
    assert not missing, f"parts lost: {missing}"
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= may_change, f"parts changed that should not be: {changed - may_change}"


def assert_consistent(path: Path) -> None:
    """Content types, relationships and part names agree."""
    content = parts(path)
    types = ET.fromstring(content["[Content_Types].xml"])
    ns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    defaults = {d.get("Extension").lower() for d in types.iter(ns + "Default")}
    overrides = {o.get("PartName").lstrip("/") for o in types.iter(ns + "Override")}
    assert overrides <= set(content), f"content types for missing parts: {overrides - set(content)}"
    for name in content:
        if name != "[Content_Types].xml":
            assert name in overrides or name.rsplit(".", 1)[-1].lower() in defaults, f"no content type: {name}"
    for name, data in content.items():
        if not name.endswith(".rels"):
            continue
        folder = posixpath.dirname(posixpath.dirname(name))
        ids = [rel.get("Id") for rel in ET.fromstring(data)]
        assert len(ids) == len(set(ids)), f"{name} repeats a relationship Id"
        for rel in ET.fromstring(data):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target")
            resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target)
            )
            assert resolved in content, f"{name} points at a missing part {target}"


def summary_sheet_part(path: Path) -> str:
    root = workbook_root(path)
    rid = next(s for s in root.iter(f"{{{MAIN}}}sheet") if s.get("name") == SUMMARY).get(f"{{{REL}}}id")
    rels = ET.fromstring(parts(path)["xl/_rels/workbook.xml.rels"])
    target = next(r.get("Target") for r in rels if r.get("Id") == rid)
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def summary_sheet_xml(path: Path) -> str:
    return parts(path)[summary_sheet_part(path)].decode()


def check_summary(book: openpyxl.Workbook) -> None:
    """The summary is the first sheet, with its title, links and chart."""
    assert book.sheetnames[0] == SUMMARY
    assert book.sheetnames.count(SUMMARY) == 1
    ws = book[SUMMARY]
    assert ws["A1"].value == SUMMARY
    links = [c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink is not None]
    report = sample_report()
    assert len(links) == len(report.findings)
    assert f"'{STEPS}'!{report.findings[0].cell}" in links
    assert ws._charts, "the summary's chart is there"


@pytest.fixture
def member(tmp_path: Path) -> Path:
    return xlsxwriter_member(tmp_path / "Plan v3 FINAL (Maria).xlsx")


@pytest.fixture
def decorated(tmp_path: Path, member: Path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "decorated.xlsx"
    return out, decorate(member, out)


# -- the member's parts -------------------------------------------------------------------------------


def test_only_the_documented_parts_may_change(member: Path) -> None:
    assert package.parts_graft_may_change(member) == {
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
    }


def test_decorations_come_through_byte_identical(tmp_path: Path, decorated: tuple[Path, dict[str, str]]) -> None:
    src, decorations = decorated
    out = graft(src, tmp_path)
    before, after = parts(src), parts(out)
    for what, name in decorations.items():
        if name not in package.parts_graft_may_change(src):
            assert after[name] == before[name], f"the member's {what} ({name}) changed"
    assert_member_parts_kept(src, out)
    assert_consistent(out)
    book = load_tolerantly(out)  # openpyxl warns about the member's extensions (compared in the next test)
    check_summary(book)
    assert book.sheetnames[1:] == [*PLAN_SHEETS, MEMBER_SHEET]
    assert book.defined_names[MEMBER_NAME].attr_text == f"'{MEMBER_SHEET.replace(chr(39), chr(39) * 2)}'!$B$2:$B$6"
    assert MEMBER_PROPERTY in {p.name for p in book.custom_doc_props.props}


def test_opening_the_result_warns_about_nothing_new(tmp_path: Path, decorated: tuple[Path, dict[str, str]]) -> None:
    src, _ = decorated
    out = graft(src, tmp_path)
    assert load_warnings(out) == load_warnings(src)


def test_input_bytes_and_time_are_unchanged(tmp_path: Path, decorated: tuple[Path, dict[str, str]]) -> None:
    src, _ = decorated
    digest, stamp = hashlib.sha256(src.read_bytes()).hexdigest(), src.stat().st_mtime_ns
    graft(src, tmp_path)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    assert src.stat().st_mtime_ns == stamp


def test_auditing_twice_keeps_one_summary_and_does_not_grow_styles(tmp_path: Path, decorated) -> None:
    src, _ = decorated
    once = graft(src, tmp_path, "once.xlsx")
    twice = graft(once, tmp_path, "twice.xlsx")
    book = load_tolerantly(twice)
    check_summary(book)
    assert package.sheet_names(twice) == package.sheet_names(once)
    first, second = parts(once), parts(twice)
    assert second["xl/styles.xml"] == first["xl/styles.xml"]
    summary_parts = set(first) - set(parts(src))
    assert not summary_parts & set(second), "the first summary's parts are gone"
    assert len(second) == len(first)
    assert_member_parts_kept(src, twice)
    assert_consistent(twice)


def test_summary_is_first_and_defined_names_follow_their_sheets(tmp_path: Path, member: Path) -> None:
    before = local_names(member)
    out = graft(member, tmp_path)
    after = local_names(out)
    assert after.pop(SUMMARY) == ["_xlnm._FilterDatabase"]
    assert after == before
    book = load_quietly(out)
    assert book.sheetnames == [SUMMARY, *PLAN_SHEETS]
    assert book[STEPS].print_area == f"'{STEPS}'!$A$1:$M$21"
    assert book.defined_names[STATUS_LIST].attr_text.startswith(f"{schema.LISTS_SHEET}!")
    assert book.active.title == STEPS, "the member's active sheet stays active"
    assert 'tabSelected="1"' not in summary_sheet_xml(out), "the summary is not grouped with the active sheet"
    assert book[schema.LISTS_SHEET].sheet_state == "hidden"


def test_summary_cells_are_inline_text_and_never_formulas(tmp_path: Path, member: Path) -> None:
    injections = ('=HYPERLINK("http://x","y")', "+cmd", "@SUM(A1)", "-2+3")
    report = sample_report(
        [finding("formula-in-text", STEPS, f"D{i + 2}", f"A-{i + 1}", text) for i, text in enumerate(injections)]
    )
    out = graft(member, tmp_path, report=report)
    xml = summary_sheet_xml(out)
    assert not re.search(r"<(\w+:)?f[ >]", xml), "no formula anywhere in the summary sheet"
    assert 't="s"' not in xml, "the member's shared strings are not used"
    assert parts(out)["xl/sharedStrings.xml"] == parts(member)["xl/sharedStrings.xml"]
    ws = load_quietly(out)[SUMMARY]
    texts = {c.value: c.data_type for row in ws.iter_rows() for c in row if c.value in injections}
    assert texts == {text: "s" for text in injections}


def test_opens_in_openpyxl_without_warnings_with_formats(tmp_path: Path, member: Path) -> None:
    assert b"<numFmts" not in parts(member)["xl/styles.xml"], "the member has no number formats of its own"
    out = graft(member, tmp_path)
    book = load_quietly(out)
    check_summary(book)
    ws = book[SUMMARY]
    formats = {c.number_format for row in ws.iter_rows() for c in row if c.value is not None}
    assert {"0%", "yyyy-mm-dd"} <= formats
    assert ws["A1"].font.b and ws["A1"].font.sz == 18
    assert_member_parts_kept(member, out)
    assert_consistent(out)


def test_openpyxl_made_workbook(tmp_path: Path) -> None:
    src = openpyxl_member(tmp_path / "from-openpyxl.xlsx")
    out = graft(src, tmp_path)
    assert_member_parts_kept(src, out)
    assert_consistent(out)
    book = load_quietly(out)
    check_summary(book)
    assert book.active.title == STEPS
    assert book[STEPS].print_area == f"'{STEPS}'!$A$1:$M$20"


def test_generated_template(tmp_path: Path) -> None:
    plan = generate.new_workbook(tmp_path / "plan.xlsx", example=True)
    src = tmp_path / "plan-decorated.xlsx"
    decorations = decorate(plan, src)
    before = local_names(src)
    out = graft(src, tmp_path)
    assert_member_parts_kept(src, out)
    assert_consistent(out)
    after = local_names(out)
    after.pop(SUMMARY)
    assert after == before
    assert load_warnings(out) == load_warnings(src)
    for name in decorations.values():
        if name not in package.parts_graft_may_change(src):
            assert parts(out)[name] == parts(src)[name]
    assert package.sheet_names(out) == [SUMMARY, *package.sheet_names(src)]


def test_prefixed_namespaces_and_ignorable_prefixes(tmp_path: Path, member: Path) -> None:
    """Workbook and styles parts written with an x: prefix, mc:Ignorable and no bookViews (as some tools do)."""
    content = parts(member)

    def prefixed(xml: bytes, root: str) -> bytes:
        text = xml.decode()
        text = re.sub(r"<(/?)(?![?!])([A-Za-z]+)([\s/>])", r"<\1x:\2\3", text)
        return text.replace(
            f'<x:{root} xmlns="{MAIN}"',
            f'<x:{root} xmlns:x="{MAIN}" xmlns:mc="{MC}" mc:Ignorable="x15" xmlns:x15="{X15}"',
        ).encode()

    workbook = prefixed(content["xl/workbook.xml"], "workbook")
    workbook = re.sub(rb"<x:bookViews>.*?</x:bookViews>", b"", workbook)
    src = patch(member, tmp_path / "prefixed.xlsx", {
        "xl/workbook.xml": workbook,
        "xl/styles.xml": prefixed(content["xl/styles.xml"], "styleSheet"),
    })
    assert load_quietly(src).active.title == schema.START_SHEET
    out = graft(src, tmp_path)
    assert_member_parts_kept(src, out)
    assert_consistent(out)
    text = parts(out)["xl/workbook.xml"].decode()
    assert f'<x:sheet name="{SUMMARY}"' in text
    assert 'mc:Ignorable="x15"' in text and f'xmlns:x15="{X15}"' in text
    assert "<x:bookViews><x:workbookView activeTab=\"1\"/></x:bookViews>" in text
    styles = parts(out)["xl/styles.xml"].decode()
    assert "<font>" not in styles and "<x:font>" in styles
    book = load_quietly(out)
    check_summary(book)
    assert book.active.title == schema.START_SHEET


EXCEL_NAMESPACES = (
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x15 xr xr6 xr10 xr2" '
    f'xmlns:x15="{X15}" xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
    'xmlns:xr6="http://schemas.microsoft.com/office/spreadsheetml/2016/revision6" '
    'xmlns:xr10="http://schemas.microsoft.com/office/spreadsheetml/2016/revision10" '
    'xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2"'
)
EXCEL_WORKBOOK_HEAD = (
    '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    '<mc:Choice Requires="x15"><x15ac:absPath url="C:\\Users\\maria\\Documents\\" '
    'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/></mc:Choice>'
    '</mc:AlternateContent><xr:revisionPtr revIDLastSave="0" documentId="8_{5D1C0B7A-1111-4C4C-9A9A-3F0E3F0E3F0E}" '
    'xr6:coauthVersionLast="47" xr6:coauthVersionMax="47" xr10:uidLastSave="{00000000-0000-0000-0000-000000000000}"/>'
    "<!-- a comment with <sheet name=\"fake\"/> inside -->"
)
EXCEL_WORKBOOK_TAIL = (
    '<extLst><ext uri="{140A7094-0E35-4892-8432-C4D2E57EDEB5}" xmlns:x15="' + X15 + '">'
    '<x15:workbookPr chartTrackingRefBase="1"/></ext></extLst>'
)


def excel_like(member: Path, dest: Path) -> Path:
    """The member's workbook with what Excel 365 adds to workbook.xml and styles.xml."""
    content = parts(member)
    workbook = content["xl/workbook.xml"].decode()
    workbook = workbook.replace(f'xmlns:r="{REL}"', f'xmlns:r="{REL}" {EXCEL_NAMESPACES}', 1)
    workbook = workbook.replace("<bookViews>", EXCEL_WORKBOOK_HEAD + "<bookViews>", 1)
    workbook = re.sub(r'activeTab="(\d+)"', r'activeTab="\1" xr2:uid="{9E8C2F6A-0000-4000-8000-000000000001}"',
                      workbook)
    workbook = workbook.replace("</workbook>", EXCEL_WORKBOOK_TAIL + "</workbook>")
    styles = content["xl/styles.xml"].decode()
    styles = styles.replace(
        f'<styleSheet xmlns="{MAIN}"',
        f'<styleSheet xmlns="{MAIN}" xmlns:mc="{MC}" mc:Ignorable="x14ac" '
        'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"',
    )
    styles = re.sub(r'<fonts count="(\d+)">', r'<fonts count="\1" x14ac:knownFonts="1">', styles)
    styles = styles.replace("</styleSheet>", (
        '<extLst><ext uri="{EB79DEF2-80B8-43e5-95BD-54CBDDF9020C}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:slicerStyles defaultSlicerStyle="SlicerStyleLight1"/></ext></extLst></styleSheet>'
    ))
    return patch(member, dest, {"xl/workbook.xml": workbook.encode(), "xl/styles.xml": styles.encode()})


def test_excel_style_workbook_keeps_its_extensions(tmp_path: Path, member: Path) -> None:
    src = excel_like(member, tmp_path / "excel.xlsx")
    assert load_quietly(src).active.title == STEPS
    out = graft(src, tmp_path)
    assert_member_parts_kept(src, out)
    assert_consistent(out)
    workbook = parts(out)["xl/workbook.xml"].decode()
    for kept in (EXCEL_NAMESPACES, EXCEL_WORKBOOK_HEAD, EXCEL_WORKBOOK_TAIL, "xr2:uid="):
        assert kept in workbook
    root = ET.fromstring(parts(out)["xl/workbook.xml"])
    declared = set(re.findall(r'xmlns:(\w+)=', workbook))
    assert set(root.get(f"{{{MC}}}Ignorable").split()) <= declared
    styles = parts(out)["xl/styles.xml"].decode()
    assert 'x14ac:knownFonts="1"' in styles and "x14:slicerStyles" in styles
    assert styles.index("</cellXfs>") < styles.index("<extLst>")
    book = load_quietly(out)
    check_summary(book)
    assert book.active.title == STEPS


def test_member_without_a_styles_part(tmp_path: Path) -> None:
    """A minimal package (no styles, no shared strings) gets the summary's styles as its own."""
    src = tmp_path / "minimal.xlsx"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/'
            'wb.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/s/one.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>'
        ))
        zf.writestr("_rels/.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            f'Id="a" Type="{opc.REL_OFFICE_DOCUMENT}" Target="wb.xml"/></Relationships>'
        ))
        zf.writestr("wb.xml", (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="{schema.COALITION_SHEET}" '
            'sheetId="1" r:id="s1"/></sheets></workbook>'
        ))
        zf.writestr("_rels/wb.xml.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            f'Id="s1" Type="{opc.REL_WORKSHEET}" Target="s/one.xml"/></Relationships>'
        ))
        zf.writestr("s/one.xml", (
            f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Coalition name'
            "</t></is></c></row></sheetData></worksheet>"
        ))
    out = graft(src, tmp_path)
    assert_member_parts_kept(src, out)
    assert_consistent(out)
    book = load_quietly(out)
    check_summary(book)
    assert book[SUMMARY]["A1"].font.b
    assert book[schema.COALITION_SHEET]["A1"].value == "Coalition name"
    assert book.active.title == schema.COALITION_SHEET


def test_conditional_formats_of_a_grafted_sheet_keep_their_look(tmp_path: Path, member: Path) -> None:
    """A grafted sheet's differential formats join the member's styles once, however often it is grafted."""
    donor = tmp_path / "donor.xlsx"
    book = xlsxwriter.Workbook(str(donor))
    ws = book.add_worksheet("Extra")
    red = book.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE", "bold": True})
    for row in range(5):
        assert ws.write_number(row, 0, row) == 0
    assert ws.conditional_format(0, 0, 4, 0, {"type": "cell", "criteria": ">", "value": 2, "format": red}) == 0
    book.close()
    assert b'<dxfs count="0"/>' in parts(member)["xl/styles.xml"]
    outs = []
    src = member
    for n in range(2):
        out = tmp_path / f"extra-{n}.xlsx"
        package.graft_sheet(src, donor, out, sheet_name="Extra", position=99)
        outs.append(out)
        src = out
    assert parts(outs[0])["xl/styles.xml"] == parts(outs[1])["xl/styles.xml"]
    loaded = load_quietly(outs[1])
    assert loaded.sheetnames == [*PLAN_SHEETS, "Extra"]
    rule = next(r for cf in loaded["Extra"].conditional_formatting for r in cf.rules)
    assert rule.dxf.font.b and rule.dxf.font.color.rgb.endswith("9C0006")
    assert_member_parts_kept(member, outs[0])


def test_replacing_an_active_summary_keeps_it_active(tmp_path: Path, member: Path) -> None:
    once = graft(member, tmp_path, "once.xlsx")
    text = parts(once)["xl/workbook.xml"].decode()
    active_summary = patch(once, tmp_path / "summary-active.xlsx", {
        "xl/workbook.xml": re.sub(r'activeTab="\d+"', 'activeTab="0"', text).encode(),
    })
    twice = graft(active_summary, tmp_path, "twice.xlsx")
    book = load_quietly(twice)
    assert book.active.title == SUMMARY
    assert 'tabSelected="1"' in summary_sheet_xml(twice)


def test_stale_calculation_chain_goes_with_the_old_summary(tmp_path: Path, member: Path) -> None:
    once = graft(member, tmp_path, "once.xlsx")
    summary_id = next(s.get("sheetId") for s in workbook_root(once).iter(f"{{{MAIN}}}sheet")
                      if s.get("name") == SUMMARY)
    content = parts(once)
    rel = f'<Relationship Id="rIdCalc" Type="{opc.REL_CALC_CHAIN}" Target="calcChain.xml"/></Relationships>'
    ct = ('<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'spreadsheetml.calcChain+xml"/></Types>')

    def with_chain(sheet_id: str, name: str) -> Path:
        return patch(once, tmp_path / name, {
            "xl/calcChain.xml": f'<calcChain xmlns="{MAIN}"><c r="B2" i="{sheet_id}"/></calcChain>'.encode(),
            "xl/_rels/workbook.xml.rels": content["xl/_rels/workbook.xml.rels"].replace(
                b"</Relationships>", rel.encode()),
            "[Content_Types].xml": content["[Content_Types].xml"].replace(b"</Types>", ct.encode()),
        })

    stale = graft(with_chain(summary_id, "stale.xlsx"), tmp_path, "stale-out.xlsx")
    assert "xl/calcChain.xml" not in parts(stale)
    assert_consistent(stale)
    load_quietly(stale)
    kept_src = with_chain("1", "kept.xlsx")
    kept = graft(kept_src, tmp_path, "kept-out.xlsx")
    assert parts(kept)["xl/calcChain.xml"] == parts(kept_src)["xl/calcChain.xml"]


def test_only_parts_the_old_summary_alone_used_are_removed(tmp_path: Path, decorated) -> None:
    src, decorations = decorated
    once = graft(src, tmp_path, "once.xlsx")
    sheet = summary_sheet_part(once)
    rels_name = posixpath.join(posixpath.dirname(sheet), "_rels", posixpath.basename(sheet) + ".rels")
    rels = parts(once)[rels_name].decode()
    image = posixpath.relpath(decorations["image"], posixpath.dirname(sheet))
    extra = (
        f'<Relationship Id="rIdImg" Type="{REL}/image" Target="{image}"/>'
        f'<Relationship Id="rIdPrn" Type="{REL}/printerSettings" Target="../printerSettings/printerSettings1.bin"/>'
    )
    ct = parts(once)["[Content_Types].xml"].replace(
        b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.printerSettings"/></Types>')
    shared = patch(once, tmp_path / "shared.xlsx", {
        rels_name: rels.replace("</Relationships>", extra + "</Relationships>").encode(),
        "xl/printerSettings/printerSettings1.bin": b"\x00printer",
        "[Content_Types].xml": ct,
    })
    twice = graft(shared, tmp_path, "twice.xlsx")
    after = parts(twice)
    assert after[decorations["image"]] == parts(src)[decorations["image"]], "the member's picture stays"
    assert "xl/printerSettings/printerSettings1.bin" not in after, "the old summary's own part goes"
    assert sheet not in after and rels_name not in after
    assert_consistent(twice)
    check_summary(load_tolerantly(twice))


def test_remove_sheet_takes_its_parts_with_it(tmp_path: Path, decorated: tuple[Path, dict[str, str]]) -> None:
    src, _ = decorated
    once = graft(src, tmp_path)
    out = tmp_path / "removed.xlsx"
    package.remove_sheet(once, out, sheet_name=SUMMARY)
    assert package.sheet_names(out) == package.sheet_names(src)
    assert set(parts(out)) == set(parts(src))
    assert_consistent(out)
    assert local_names(out) == local_names(src)
    assert load_tolerantly(out).active.title == STEPS
    with pytest.raises(UsageError, match="no sheet named"):
        package.remove_sheet(out, tmp_path / "again.xlsx", sheet_name=SUMMARY)


def test_unusable_packages_get_one_clear_error(tmp_path: Path, member: Path) -> None:
    not_zip = tmp_path / "notes.xlsx"
    not_zip.write_text("just text")
    with pytest.raises(UnusableInputError):
        graft(not_zip, tmp_path)
    strict = patch(member, tmp_path / "strict.xlsx", {"_rels/.rels": parts(member)["_rels/.rels"].replace(
        opc.REL_OFFICE_DOCUMENT.encode(), opc.REL_STRICT_OFFICE_DOCUMENT.encode())})
    with pytest.raises(UnusableInputError, match="Strict Open XML"):
        graft(strict, tmp_path)
    broken = patch(member, tmp_path / "broken.xlsx", {"xl/workbook.xml": b"<workbook"})
    with pytest.raises(UnusableInputError, match="save it as an Excel workbook"):
        graft(broken, tmp_path)
    assert not list(tmp_path.glob(".audited.xlsx.*")), "no temporary file is left behind"


# -- LibreOffice ------------------------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_made_workbook(tmp_path: Path, member: Path) -> None:
    src = libreoffice.convert(member, tmp_path / "lo-made")
    out = graft(src, tmp_path)
    assert_member_parts_kept(src, out)
    assert_consistent(out)
    check_summary(load_quietly(out))
    assert local_names(out).get(STEPS) == local_names(src).get(STEPS)
    again = libreoffice.convert(out, tmp_path / "lo-again")
    book = openpyxl.load_workbook(again)
    check_summary(book)
    assert book.sheetnames[1:] == package.sheet_names(src)


@pytest.mark.libreoffice
def test_libreoffice_opens_a_decorated_audited_workbook(tmp_path: Path, decorated) -> None:
    src, _ = decorated
    out = graft(graft(src, tmp_path, "once.xlsx"), tmp_path, "twice.xlsx")
    converted = libreoffice.convert(out, tmp_path / "lo")
    book = load_tolerantly(converted)
    check_summary(book)
    assert book.sheetnames == [SUMMARY, *PLAN_SHEETS, MEMBER_SHEET]
    pdf = libreoffice.convert(out, tmp_path / "pdf", "pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    report = sample_report()
    assert SUMMARY in text and report.summary.coalition in text
    assert "Landlord forum" in text, "the member's own sheet is still there"
