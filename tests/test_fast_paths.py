"""The shortcuts taken for speed give exactly what the general way gives.

Large plans are audited and generated through shortcuts: the summary sheet is grafted by pattern when it is as
plain as XlsxWriter writes it, unchanged zip members are copied as they are stored, wrapped-text heights are
counted without building the lines, the generator writes its cells as XML, members' packets are cut
from one index of the plan, and the report's figures and tables come from one walk over the steps. Each must
produce the same bytes (or rows) as the general code it stands in for, or a member would see a different
workbook.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from decorate import finding, sample_report
from hypothesis import given, settings
from hypothesis import strategies as st
from plans import AS_OF, add_goal, add_improvement, add_measure, add_priority, add_step, empty_plan
from xlsxwriter.worksheet import Worksheet

from reentry_workbook.audit.figures import build_report
from reentry_workbook.audit.pipeline import audit_file
from reentry_workbook.audit.questions import answer_questions
from reentry_workbook.audit.report import NO_ONE, UNKNOWN_OWNER, PersonSteps, Report
from reentry_workbook.audit.rules import cell_row, check
from reentry_workbook.audit.summary_sheet import write_summary_workbook
from reentry_workbook.cycle.packets import PacketRows, build_packets, member_key
from reentry_workbook.cycle.roundtrip import ref_key, row_key
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.plan.model import UNKNOWN_KINDS, Finding, Plan, Record, Unknown, is_blank, is_unknown, written
from reentry_workbook.workbook import generate
from reentry_workbook.workbook.example import example_plan
from reentry_workbook.workbook.formats import _wrapped_count
from reentry_workbook.workbook.lists import derived_formula, label_formula, name_formula
from reentry_workbook.xlsx import cells, donor, graft, opc, package, styles_merge, xmltext, zip_io

STEPS = schema.sheet("steps").name


def _donor(tmp_path: Path, findings: int = 40) -> opc.Package:
    many = [
        finding("step-overdue", STEPS, f"I{n + 3}", f"A-{n}", f"Action step A-{n} 'Step {n} & more' was due.")
        for n in range(1, findings + 1)
    ]
    path = tmp_path / "scratch.xlsx"
    write_summary_workbook(sample_report(many), path)
    return opc.Package.read(path)


def _prefixed(text: str) -> str:
    """The same sheet with the spreadsheet namespace bound to the prefix x (as some writers do)."""
    root_end = text.index(">", text.index("<worksheet")) + 1
    head, body = text[:root_end], text[root_end:]
    head = head.replace(f'xmlns="{opc.MAIN_NS}"', f'xmlns:x="{opc.MAIN_NS}"')
    body = body.replace("</", "\0").replace("<", "<x:").replace("\0", "</x:")
    return head.replace("<worksheet", "<x:worksheet") + body


@pytest.mark.parametrize("keep_selected", [False, True])
def test_summary_sheet_rewritten_by_pattern_matches_the_stream_of_tags(tmp_path: Path, keep_selected: bool) -> None:
    donor_pkg = _donor(tmp_path)
    member = opc.Package.read(generate.new_workbook(tmp_path / "plan.xlsx", example=True))
    edit = graft.Graft(member, donor_pkg, schema.SUMMARY_SHEET, 0)
    edit.run()
    sheet = edit._donor_sheet()
    styles, dxfs = styles_merge.StyleMerge(edit, sheet).run()
    for text in (sheet.text.text, _prefixed(sheet.text.text)):
        plain = donor._rewrite_plain_tags(text, sheet.strings, styles, dxfs, keep_selected)
        stream = xmltext.Editor(text)
        donor._rewrite_tags(stream, sheet.strings, styles, dxfs, keep_selected)
        assert plain is not None
        assert plain == stream.result()
        assert 'inlineStr' in plain and 't="s"' not in plain


def test_a_sheet_that_is_not_plain_takes_the_stream_of_tags(tmp_path: Path) -> None:
    donor_pkg = _donor(tmp_path, findings=3)
    text = donor_pkg.data["xl/worksheets/sheet1.xml"].decode()
    commented = text.replace("<sheetData>", "<sheetData><!-- <c r='Z1' s='9'/> -->", 1)
    assert donor._rewrite_plain_tags(commented, [], {}, {}, False) is None


def test_shared_strings_read_by_pattern_match_the_parser(tmp_path: Path) -> None:
    donor_pkg = _donor(tmp_path)
    text = donor_pkg.data["xl/sharedStrings.xml"].decode()
    rich = text.replace(
        "</sst>",
        '<si><r><rPr><b/><sz val="11"/></rPr><t xml:space="preserve">bold </t></r><r><t>a &amp; b</t></r></si>'
        "<si/></sst>",
    )
    for source in (text, rich):
        root = xmltext.parse_xml(source)
        for prefix in ("", "x:"):
            items = root.find(opc.MAIN_NS, "si")
            parsed = [donor.serialize(source, si, prefix, inner_only=True) for si in items]
            assert donor.plain_shared_strings(source, prefix) == parsed
    # XlsxWriter's own part is read in one pass; a part with a rich string takes the tag by tag reading.
    body = text.index(">", text.index("<sst")) + 1
    assert donor._simple_strings(text, body, "") is not None
    assert donor._simple_strings(rich, body, "") is None


def test_audited_copy_keeps_every_member_part_as_stored(tmp_path: Path) -> None:
    plan = generate.new_workbook(tmp_path / "plan.xlsx", example=True)
    out = audit_file(plan, as_of=dt.date(2027, 3, 1), out=tmp_path / "audited.xlsx").output
    assert out is not None
    with zipfile.ZipFile(plan) as before, zipfile.ZipFile(out) as after:
        assert after.testzip() is None
        changed = package.parts_graft_may_change(plan, activate=True)
        for info in before.infolist():
            if info.filename in changed:
                continue
            copied = after.getinfo(info.filename)
            assert (copied.CRC, copied.compress_size, copied.compress_type) == (
                info.CRC,
                info.compress_size,
                info.compress_type,
            )
            assert after.read(copied) == before.read(info)


def damaged_copy(path: Path, part: str) -> Path:
    """A copy of the package ``path`` with a byte flipped halfway through ``part`` as stored."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    damaged = path.with_name("damaged.xlsx")
    damaged.write_bytes(bytes(data))
    return damaged


def test_a_damaged_member_part_is_refused(tmp_path: Path) -> None:
    plan = generate.new_workbook(tmp_path / "plan.xlsx", example=True)
    with pytest.raises(Exception, match="damaged"):
        opc.Package.read(damaged_copy(plan, "xl/styles.xml"))


def test_a_large_part_is_checked_in_the_background_and_a_damaged_one_never_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts over a megabyte are checked against their CRC in a thread while the caller edits the package; a
    damaged one still fails the write and any read of it."""
    import base64
    import random
    import threading

    plan = generate.new_workbook(tmp_path / "plan.xlsx", example=True)
    big = base64.b64encode(random.Random(5).randbytes(900_000))  # 1.2 MB that deflate cannot shrink much
    with_big = tmp_path / "with-big.xlsx"
    with zipfile.ZipFile(plan) as src, zipfile.ZipFile(with_big, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr("customXml/big.txt", big)
    checked_in: list[str] = []
    real = zip_io._check

    def check(info: zipfile.ZipInfo, raw: memoryview) -> None:
        checked_in.append(threading.current_thread().name)
        real(info, raw)

    monkeypatch.setattr(zip_io, "_check", check)
    pkg = opc.Package.read(with_big)
    copy = tmp_path / "copy.xlsx"
    zip_io.write_zip(copy, pkg.edited({}, set(), []), pkg.comment)
    assert checked_in == ["reentry-workbook-part-checks"]  # the large part; the small ones as they are read
    with zipfile.ZipFile(copy) as zf:
        assert zf.read("customXml/big.txt") == big and zf.testzip() is None

    pkg = opc.Package.read(damaged_copy(with_big, "customXml/big.txt"))  # (the check runs meanwhile)
    with pytest.raises(Exception, match="damaged"):
        zip_io.write_zip(tmp_path / "never.xlsx", pkg.edited({}, set(), []), pkg.comment)
    with pytest.raises(Exception, match="damaged"):
        pkg.data["customXml/big.txt"]


@settings(max_examples=200, deadline=None)
@given(
    text=st.binary(min_size=0, max_size=3000).map(lambda b: b * 25),
    flip=st.one_of(st.none(), st.integers(min_value=0)),
    cut=st.integers(min_value=0, max_value=3),
)
def test_a_large_part_s_check_passes_exactly_what_the_inline_check_passes(
    text: bytes, flip: int | None, cut: int
) -> None:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    stored = bytearray(packer.compress(text) + packer.flush())
    if flip is not None and stored:
        stored[flip % len(stored)] ^= 0x5A
    stored = stored[: len(stored) - cut] if cut < len(stored) else stored
    info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
    info.compress_type, info.file_size, info.CRC = zipfile.ZIP_DEFLATED, len(text), zlib.crc32(text)
    verdicts = []
    for checker in (zip_io._inflated, zip_io._check):
        try:
            checker(info, memoryview(bytes(stored)))
            verdicts.append("passed")
        except ValueError:
            verdicts.append("refused")
    assert verdicts[0] == verdicts[1]


PIECES = [*"ab é7.:-", "word", "x" * 14, "I-12", " - ", "--", "\t", "\xa0"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=TEXT, width=st.integers(min_value=4, max_value=30))
def test_row_heights_count_lines_as_textwrap_does(text: str, width: int) -> None:
    assert _wrapped_count(text, width) == len(textwrap.wrap(text, width))


def test_formulas_are_written_as_xlsxwriter_prepares_them(tmp_path: Path) -> None:
    """The generator writes its formulas into the sheet XML itself (``workbook.direct_cells``), merely without their
    ``=``: exactly what XlsxWriter's preparation of each gives (it would prefix newer functions, for one)."""
    book = xlsxwriter.Workbook(str(tmp_path / "f.xlsx"))
    stock = book.add_worksheet("stock")
    steps, goals = schema.sheet("steps"), schema.sheet("goals")
    goal_column = next(c for c in steps.columns if c.kind is schema.Kind.DERIVED)
    formulas = [
        *(derived_formula(steps, goal_column, row) for row in (3, 4, 99, 10_050)),
        *(label_formula(goals, row) for row in (3, 17, 20_000)),
        *(name_formula(goals, row) for row in (3, 1_000)),
    ]
    for formula in formulas:
        assert formula[1:] == Worksheet._prepare_formula(stock, formula)
    book.close()


@pytest.mark.parametrize("inline", [False, True])
def test_a_noncharacter_escaped_in_the_xml_reads_the_same_on_both_paths(tmp_path: Path, inline: bool) -> None:
    # XML cannot carry U+FFFE, so writers escape it as _xFFFE_; python-calamine leaves that escape undecoded.
    path = tmp_path / "escaped.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": inline})  # constant memory writes inline strings
    sheet = book.add_worksheet("S")
    texts = ["Housing \ufffe plan", "a\r\nb", "plain"]
    for row, text in enumerate(texts):
        sheet.write_string(row, 0, text)
    book.close()
    with zipfile.ZipFile(path) as zf:
        assert ("inlineStr" in zf.read("xl/worksheets/sheet1.xml").decode()) is inline
        fast, exact = cells.open_workbook(zf).read_sheet("S"), cells.open_workbook(zf, fast=False).read_sheet("S")
        assert [fast.value(r, 0) for r in range(3)] == [exact.value(r, 0) for r in range(3)] == texts


def _packet_rows_by_definition(plan: Plan, member: str) -> PacketRows:
    """Which rows a member's packet holds, straight from the definition: scan every sheet for this member."""
    key = member_key(member)
    rows = PacketRows()
    steps = schema.sheet("steps")
    rows.own["steps"] = {
        k for r in plan.rows("steps") if member_key(r.get("responsible")) == key and (k := row_key(steps, r))
    }
    stakeholders = schema.sheet("stakeholders")
    rows.own["stakeholders"] = {k for r in plan.rows("stakeholders") if (k := row_key(stakeholders, r))}
    wanted: dict[str, set[str]] = {"steps": rows.own["steps"]}
    for child, column in schema.CHAIN:
        parent = schema.sheet(schema.sheet(child).column(column).ref or "")
        held = [r for r in plan.rows(child) if row_key(schema.sheet(child), r) in wanted[child]]
        wanted[parent.key] = {ref for r in held if (ref := ref_key(r.get(column), parent))}
    measures, improvements = schema.sheet("measures"), schema.sheet("improvements")
    wanted["measures"] = {
        k
        for r in plan.rows("measures")
        if ref_key(r.get("improvement"), improvements) in wanted["improvements"] and (k := row_key(measures, r))
    }
    for sheet in schema.SHEETS:
        if sheet.key not in rows.own and sheet.key in wanted:
            rows.context[sheet.key] = wanted[sheet.key] & {k for r in plan.rows(sheet.key) if (k := row_key(sheet, r))}
    return rows


def test_packets_built_from_one_index_hold_the_rows_the_definition_gives() -> None:
    plan = example_plan()
    steps = plan.rows("steps")
    steps[1].values["responsible"] = "  " + str(steps[0].get("responsible")).upper()  # the same member, typed apart
    steps[2].id = steps[3].id  # an ID used twice
    steps[4].values["responsible"] = None  # no one
    steps[5].values["improvement"] = "I-999"  # a parent that does not exist
    steps[6].id = None  # a step without an ID: only its member's packet shows it
    packets = build_packets(plan)
    assert len(packets) > 3
    for packet in packets:
        assert packet.rows == _packet_rows_by_definition(plan, packet.member)
        key = member_key(packet.member)
        mine = [r for r in steps if r.id is None and member_key(r.get("responsible")) == key]
        for sheet in schema.SHEETS:
            held = packet.rows.own.get(sheet.key, set()) | packet.rows.context.get(sheet.key, set())
            expected = [r for r in plan.rows(sheet.key) if row_key(sheet, r) in held or r in mine]
            assert packet.plan.rows(sheet.key) == expected  # the master's order, copies of its rows


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_the_tab_selection_is_looked_for_before_the_cells_only_where_the_edit_would_find_it(encoding: str) -> None:
    head = f'<?xml version="1.0" encoding="{encoding}"?><worksheet xmlns="{opc.MAIN_NS}"><sheetViews>'
    cells = '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>tabSelected="1"</t></is></c></row></sheetData>'
    for view, edited in (('<sheetView tabSelected="1" workbookViewId="0"/>', True), ('<sheetView/>', False)):
        text = f"{head}{view}</sheetViews>{cells}</worksheet>"
        data = text.encode(encoding)
        expected = xmltext.without_tab_selected(text)
        assert (expected != text) is edited
        assert xmltext.without_tab_selected_bytes(data).decode(encoding) == expected


def _sheet_xml(cells: str = "", after: str = "") -> bytes:
    row = '<row r="1"><c r="A1" t="e"><v>#N/A</v></c><c r="B1"><f>1+1</f><v>2</v></c>' + cells + "</row>"
    head = f'<?xml version="1.0"?><worksheet xmlns="{opc.MAIN_NS}">'
    return f"{head}<sheetData>{row}</sheetData>{after}</worksheet>".encode()


def test_the_one_pass_scan_finds_formulas_and_errors_and_leaves_odd_xml_to_the_parser() -> None:
    from reentry_workbook.xlsx.fast_path import _scan_sheet
    from reentry_workbook.xlsx.sheet_cells import ERROR, FORMULA

    plain = _scan_sheet(_sheet_xml())
    assert plain is not None and plain.flags == {(0, 0): (ERROR, "#N/A"), (0, 1): (FORMULA, "1+1")}
    quoted = _scan_sheet(_sheet_xml("""<c r="C1" t='e'><v>#REF!</v></c>"""))
    assert quoted is not None and quoted.flags[(0, 2)] == (ERROR, "#REF!")
    for odd in (_sheet_xml("<!-- a comment among the cells -->"), _sheet_xml("<?pi among the cells?>"),
                _sheet_xml(after="<!-- a comment after them -->"), _sheet_xml("<c><v>1</v></c>")):
        assert _scan_sheet(odd) is None  # the exact path reads these


# -- the report's tables, worked out in one walk over the steps ------------------------------------------------

UNKNOWNS = [Unknown(kind, "x") for kind in UNKNOWN_KINDS]


@st.composite
def messy_plans(draw: st.DrawFn) -> Plan:
    """Plans whose rows name parents that exist, do not, or cannot be read; IDs repeated or missing; owners
    spelled apart; due dates on every side of the as-of date; statuses and Serves goal? of every kind."""
    plan = empty_plan(name=draw(st.sampled_from(["Lakeside", "  ", None, *UNKNOWNS])))
    counts = {key: draw(st.integers(key not in ("priorities", "measures"), 8))
              for key in ("priorities", "goals", "improvements", "measures", "steps")}

    def row_id(prefix: str, n: int) -> str | None:
        return draw(st.sampled_from([f"{prefix}-{n}", f"{prefix}-{n}", f"{prefix}-{max(n - 1, 1)}", None]))

    def names(prefix: str, count: int) -> Any:
        existing = [f"{prefix}-{n}" for n in range(1, count + 1)] * 4  # mostly rows that exist
        return draw(st.sampled_from([*existing, f"{prefix}-{count + 1}", None, " ", *UNKNOWNS]))

    def text() -> Any:
        return draw(st.sampled_from(["Some text", None, "  ", *UNKNOWNS]))

    for n in range(1, counts["priorities"] + 1):
        add_priority(plan, row_id("P", n), text())
    for n in range(1, counts["goals"] + 1):
        add_goal(plan, row_id("G", n), names("P", counts["priorities"]), text(), target=text())
    for n in range(1, counts["improvements"] + 1):
        add_improvement(
            plan, row_id("I", n), names("G", counts["goals"]), text(),
            estimated_cost=draw(st.sampled_from([None, 100, 2500.5, "lots", *UNKNOWNS])),
            resources_secured=draw(st.sampled_from([None, "maybe", *schema.CHOICES["resources_secured"]])),
        )
    for n in range(1, counts["measures"] + 1):
        add_measure(plan, row_id("M", n), names("I", counts["improvements"]), text())
    dates = [AS_OF + dt.timedelta(days=d) for d in (-40, -1, 0, 1, 29, 30, 31)]
    for n in range(1, counts["steps"] + 1):
        add_step(
            plan, row_id("A", n), names("I", counts["improvements"]), text(),
            serves_goal=draw(st.sampled_from([None, *UNKNOWNS, *schema.CHOICES["serves_goal"]])),
            responsible=draw(st.sampled_from([None, " ", "Maria Lopez", "maria  LOPEZ", "Zoe", *UNKNOWNS])),
            due_date=draw(st.sampled_from([None, "  ", dt.datetime(2027, 3, 5, 9), *UNKNOWNS, *dates])),
            status=draw(st.sampled_from([*schema.CHOICES["status"], None, "odd", *UNKNOWNS])),
        )
    return plan


def _goal_of(finding: Finding, family: list[tuple[Record, Record | None]]) -> str | None:
    """The goal ID of the row a finding is on (the last row read at its cell's row), else of the first row
    with its ID."""
    rows = [(r, g.id) for r, g in family if g is not None and g.id and schema.sheet(r.sheet).name == finding.sheet]
    at = [goal for r, goal in rows if r.row and r.row == cell_row(finding.cell)]
    named = [goal for r, goal in rows if finding.id is not None and r.id == finding.id]
    return (at or [None])[-1] or (named or [None])[0]


def _tables_by_definition(plan: Plan, findings: list[Finding], horizon: int) -> dict[str, Any]:
    """The report's figures and tables worked out row by row from the model's own meanings, one table at a time."""
    index = plan.index()
    steps = plan.rows("steps")
    cells = [rec.filled(c.key) for s in schema.SHEETS for rec in plan.rows(s.key) for c in s.columns
             if c.required and c.kind is not schema.Kind.DERIVED]
    cells += [not is_blank(plan.coalition.get(f.key)) for f in schema.COALITION_FIELDS if f.required]
    family = [(r, index.goal(r)) for key in ("goals", "improvements", "measures", "steps") for r in plan.rows(key)]
    goals = []
    for rec in plan.rows("goals"):
        if rec.id is None or rec.id in [g["id"] for g in goals]:
            continue
        mine = [r for r, goal in family if goal is not None and goal.id == rec.id]
        gaps = [f for f in findings if _goal_of(f, family) == rec.id]
        own = [r for r in mine if r.sheet == "steps"]
        severities = {f.severity for f in gaps}
        text, priority = written(rec.get("goal")), index.parent(rec)
        goals.append({
            "id": rec.id,
            "goal": "" if is_blank(text) else str(text),
            "priority": None if priority is None else priority.id,
            "improvements": sum(r.sheet == "improvements" for r in mine),
            "measures": sum(r.sheet == "measures" for r in mine),
            "steps": len(own),
            "complete": sum(r.get("status") == schema.COMPLETE_STATUS for r in own),
            "overdue": sum(r.is_overdue(AS_OF) for r in own),
            "gaps": len(gaps),
            "rag": "red" if "error" in severities else "amber" if "warning" in severities else "green",
        })
    def person(step: Record) -> str:
        owner = step.get("responsible")
        return "" if is_blank(owner) else "?" if is_unknown(owner) else " ".join(str(owner).split()).casefold()

    people = {person(s): [t for t in steps if person(t) == person(s)] for s in steps}
    until = AS_OF + dt.timedelta(days=horizon)

    def listed(keep: Any) -> dict[str, list[str]]:
        chosen = [s for s in steps if not s.is_closed() and keep(s)]
        return {key: sorted([s.id or "" for s in chosen if person(s) == key]) for key in {person(s) for s in chosen}}

    return {
        "aligned": sum(index.chain(s).serves for s in steps),
        "completeness": sum(cells) / len(cells) if cells else None,
        "goals": goals,
        "people": {key: [len(mine), sum(s.is_overdue(AS_OF) for s in mine), sum(s.lacks_due_date() for s in mine)]
                   for key, mine in people.items()},
        "overdue": listed(lambda s: s.is_overdue(AS_OF)),
        "coming_up": listed(lambda s: s.date("due_date") is not None and AS_OF <= s.date("due_date") <= until),
    }


def _tables_of(report: Report) -> dict[str, Any]:
    fields = ("id", "goal", "priority", "improvements", "measures", "steps", "complete", "overdue", "gaps", "rag")

    def listed(people: list[PersonSteps]) -> dict[str, list[str]]:
        keys = {NO_ONE: "", UNKNOWN_OWNER: "?"}
        return {keys.get(p.responsible, p.responsible.casefold()): sorted(s.id for s in p.steps) for p in people}

    assert report.coming_up is not None
    return {
        "aligned": report.summary.steps_aligned,
        "completeness": report.summary.completeness,
        "goals": [{key: getattr(line, key) for key in fields} for line in report.goals],
        "people": {("" if p.responsible == NO_ONE else "?" if p.responsible == UNKNOWN_OWNER else
                    p.responsible.casefold()): [p.steps, p.overdue, p.without_due_date] for p in report.people},
        "overdue": listed(report.overdue),
        "coming_up": listed(report.coming_up.people),
    }


@settings(max_examples=300, deadline=None)
@given(plan=messy_plans(), horizon=st.integers(-5, 40))
def test_the_report_tables_built_in_one_walk_match_the_definitions_table_by_table(plan: Plan, horizon: int) -> None:
    rule = catalogue.rule("duplicate-id")  # and findings without a cell: matched to their goal by the row's ID
    findings = [*check(plan, AS_OF), *(
        Finding(rule.slug, rule.severity, schema.sheet(r.sheet).name, "", r.id, rule.title, rule.fix)
        for key in ("goals", "improvements", "measures", "steps") for r in plan.rows(key)[::3]
    )]
    report = build_report(plan, findings, as_of=AS_OF)
    answer_questions(report, plan, horizon=horizon)
    assert _tables_of(report) == _tables_by_definition(plan, findings, horizon)


@pytest.mark.parametrize(
    "sheet",
    [
        '<worksheet xmlns="m"><sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
        '<sheetData><row r="1"/></sheetData></worksheet>',
        '<x:worksheet xmlns:x="m"><x:sheetViews><x:sheetView tabSelected="1"/></x:sheetViews><x:sheetData/>'
        "</x:worksheet>",
        '<worksheet xmlns="m"><sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetData/></worksheet>',
        # a head longer than the bytes looked at: thousands of column widths before the view's selection
        '<worksheet xmlns="m"><cols>' + '<col min="1" max="1" width="9"/>' * 3000 + "</cols>"
        '<sheetViews><sheetView tabSelected="1"/></sheetViews><sheetData/></worksheet>',
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_sheets_head_alone_never_hides_a_selection_the_whole_part_shows(sheet: str, encoding: str) -> None:
    """The audit looks at a member sheet's first bytes before inflating it all to take its selection away."""
    data = f'<?xml version="1.0" encoding="{encoding}"?>{sheet}'.encode(encoding)
    selected = xmltext.without_tab_selected_bytes(data) != data
    assert selected == ("tabSelected" in sheet)
    if selected:
        assert xmltext.may_be_tab_selected(data[: graft.SHEET_HEAD_BYTES])


# -- formula texts decoded all at once, parents' texts indexed only when a reference needs them ----------------

_XML_PIECES = [b"a", b" ", b"\t", b"&amp;", b"&quot;", b"&apos;", b"&lt;", b"&gt;", b"&#10;", b"&#x41;", b"&amp;lt;",
               "é".encode(), b"\xc3", b"\x00", b"&", b"&nbsp;"]


@settings(max_examples=400, deadline=None)
@given(raws=st.lists(st.lists(st.sampled_from(_XML_PIECES), max_size=8).map(b"".join), max_size=6))
def test_formula_texts_decoded_together_read_as_each_decoded_alone(raws: list[bytes]) -> None:
    from reentry_workbook.xlsx.fast_path import _xml_text, _xml_texts

    assert _xml_texts(raws) == [_xml_text(raw).strip() for raw in raws]


def test_a_sheet_of_many_formulas_scans_each_text_as_written() -> None:
    from reentry_workbook.xlsx.fast_path import _scan_sheet
    from reentry_workbook.xlsx.sheet_cells import FORMULA

    texts = ['IF($B{n}="","",$B{n}&amp;" - "&amp;$C{n})', "A{n}&lt;&gt;B{n}", " SUM(A{n}:A9)&#10;", "&quot;{n}&quot;"]
    rows = "".join(f'</row><row r="{n}"><c r="C{n}"><f>{texts[n % 4].format(n=n)}</f></c>' for n in range(2, 42))
    flags = _scan_sheet(_sheet_xml(rows)).flags  # type: ignore[union-attr]
    assert flags[(3, 2)] == (FORMULA, 'IF($B4="","",$B4&" - "&$C4)')
    assert flags[(4, 2)] == (FORMULA, "A5<>B5")
    assert flags[(5, 2)] == (FORMULA, "SUM(A6:A9)")  # stripped, the line break too
    assert flags[(6, 2)] == (FORMULA, '"7"')
    assert sum(flag == FORMULA for flag, _ in flags.values()) == 41  # and B1's, from _sheet_xml


def test_references_that_name_ids_never_index_the_parents_texts(tmp_path: Path, monkeypatch: Any) -> None:
    from fill import fill_plan

    from reentry_workbook.audit.reader import read_plan
    from reentry_workbook.plan import ids

    keyed: list[object] = []  # every text keyed for the index of a parent sheet's texts, or looked up in it
    key = ids.label_key
    monkeypatch.setattr(ids, "label_key", lambda text: keyed.append(text) or key(text))
    plan = empty_plan()
    add_priority(plan, "P-1", "Housing")
    add_goal(plan, "G-1", "P-1", "House people at release")
    add_improvement(plan, "I-1", "G-1", "Housing navigator at intake")
    add_step(plan, "A-1", "I-1", "Hire the navigator")
    book = fill_plan(generate.new_workbook(tmp_path / "blank.xlsx"), plan, tmp_path / "plan.xlsx")
    read = read_plan(book)
    assert read.plan.rows("steps")[0].get("improvement") == "I-1" and keyed == []

    typed = tmp_path / "typed.xlsx"
    import openpyxl

    wb = openpyxl.load_workbook(book)
    steps = wb[STEPS]
    column = read.plan.source.columns["steps"]["improvement"]
    steps[f"{column}{read.plan.source.header_rows['steps'] + 1}"] = "housing navigator at INTAKE"
    wb.save(typed)
    again = read_plan(typed)
    assert again.plan.rows("steps")[0].get("improvement") == "I-1"  # found by its text
    assert "Housing navigator at intake" in keyed


# -- a large part deflated on every core --------------------------------------------------------------------


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_a_part_deflated_in_pieces_inflates_to_itself_the_same_bytes_on_any_machine(
    cores: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import random
    import zlib

    from reentry_workbook.xlsx import deflate

    rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Step {n} &amp; more</t></is></c></row>'
                   for n in range(1, 40_000)).encode()
    noise = random.Random(7).randbytes(deflate.PIECE + 3)
    sizes = (0, 1, deflate.PIECE - 1, deflate.PIECE, deflate.PIECE + 1, 3 * deflate.PIECE + 5)
    parts = [rows, noise, *(rows[:size] for size in sizes)]
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    one_core = [deflate.deflate(data) for data in parts]
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    for data, expected in zip(parts, one_core, strict=True):
        packed = deflate.deflate(data)
        assert packed == expected  # the pieces are cut by size: the machine does not change the file
        assert zlib.decompress(packed, -zlib.MAX_WBITS) == data
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
    whole = packer.compress(rows) + packer.flush()
    assert len(rows) > 2 * deflate.PIECE and len(deflate.deflate(rows)) < 1.01 * len(whole)  # about as small


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_a_part_made_a_piece_at_a_time_is_deflated_beside_its_making_into_the_same_bytes(
    cores: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part made in pieces (a long table rendered a few thousand rows at a time) has each piece deflated in a
    thread while the next is made, at most one a core at a time: the bytes are those of the part deflated whole,
    and a piece that fails fails the part."""
    import os
    import threading

    from reentry_workbook.xlsx import deflate, zip_io

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    rows = [f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Finding {n}</t></is></c></row>'.encode()
            for n in range(1, 60_000)]
    busy: list[int] = []
    real = deflate.deflate_piece

    def piece(before: memoryview, data: memoryview, *, last: bool) -> bytes:
        busy.append(sum(t.name.startswith("deflate-") for t in threading.enumerate()))
        return real(before, data, last=last)

    monkeypatch.setattr(deflate, "deflate_piece", piece)
    made = zip_io.new_part("xl/worksheets/sheet9.xml", iter(rows))
    assert made.stored is not None and bytes(made.stored) == deflate.deflate(b"".join(rows))
    assert len(busy) > 2 and max(busy) <= cores

    def failing(before: memoryview, data: memoryview, *, last: bool) -> bytes:
        raise MemoryError("no room")

    monkeypatch.setattr(deflate, "deflate_piece", failing)
    with pytest.raises(MemoryError):
        zip_io.new_part("xl/worksheets/sheet9.xml", iter(rows))


@pytest.mark.parametrize("cores", [1, 2])
def test_a_piece_that_fails_to_deflate_fails_the_write(cores: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from reentry_workbook.xlsx import deflate

    real = deflate._piece

    def piece(view: memoryview, start: int, end: int) -> bytes:
        if start:
            raise MemoryError("no room")
        return real(view, start, end)

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.setattr(deflate, "_piece", piece)
    with pytest.raises(MemoryError):
        deflate.deflate(b"x" * (2 * deflate.PIECE + 1))


_AWKWARD = list("ab _x0041&<>\"'\n\r\t\x00\x01\ufffe\uffff")
_TEXTS = st.text(alphabet=st.sampled_from(_AWKWARD) | st.characters(), max_size=30)


@given(_TEXTS)
@settings(max_examples=300, deadline=None)
def test_escaping_that_skips_absent_characters_writes_what_escaping_every_one_writes(text: str) -> None:
    """escape_text and escape_attr skip the replacements a text does not need (most texts need none); the XML they
    write is the XML the full chain of replacements writes."""
    import re

    from reentry_workbook.xlsx.xmltext import escape_attr, escape_text

    unsafe = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\r]|_(?=x[0-9A-Fa-f]{4}_)")
    full = unsafe.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    assert escape_text(text) == full.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escape_attr(text) == (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    )


@given(st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=12), max_size=12),
       st.sampled_from([8.0, 12.5, 30.0, 60.0]))
@settings(max_examples=300, deadline=None)
def test_a_paragraph_is_one_line_exactly_when_it_fits_its_column(words: list[str], width: float) -> None:
    """wrapped_lines counts a paragraph no longer than the column as one line without walking its words; one
    character more and the words no longer fit on one line."""
    from reentry_workbook.audit import summary_writer

    room = max(1, int(width * 1.15) - 1)
    paragraph = " ".join(words)
    lines = summary_writer.wrapped_lines.__wrapped__(paragraph, width)
    assert (lines == 1) if len(paragraph) <= room else (lines >= 2)
    assert summary_writer.wrapped_lines.__wrapped__(f"{paragraph}\n{paragraph}", width) == 2 * lines


def test_a_sheet_s_plain_rows_are_its_plain_cells_on_both_paths(tmp_path: Path) -> None:
    """plain_rows (the upgrade's walk through every cell) gives, row by row, the cells iter_cells gives that hold
    a plain value, on python-calamine's grid and on the XML parser's."""
    from reentry_workbook.workbook.generate import new_workbook
    from reentry_workbook.xlsx.cells import open_workbook
    from reentry_workbook.xlsx.guard import open_package
    from reentry_workbook.xlsx.sheet_cells import VALUE

    path = new_workbook(tmp_path / "plan.xlsx", example=True)
    for fast in (True, False):
        with open_package(path) as zf:
            book = open_workbook(zf, fast=fast)
            try:
                for ref in book.sheets:
                    cells = book.read_sheet(ref)
                    walked = [(r, c, v) for r, items in cells.plain_rows() for c, v in items if v not in (None, "")]
                    every = [(r, c, cell.value) for r, c, cell in cells.iter_cells() if cell.flag == VALUE]
                    assert walked == [(r, c, v) for r, c, v in every if v not in (None, "")], (ref.name, fast)
            finally:
                book.close()
