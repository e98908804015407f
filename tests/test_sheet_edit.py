"""The cell-level editor of a worksheet part: only the cells asked for change, in every variant the reader reads."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from sheet_fakes import edited as _edit

from reentry_workbook.xlsx.refs import shift_formula
from reentry_workbook.xlsx.sheet_edit import SheetChanges
from reentry_workbook.xlsx.workbook_edit import edit_cells

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"








PREFIXED = (
    f'<x:worksheet xmlns:x="{MAIN}"><x:dimension ref="A1:C2"/><x:sheetData>'
    '<x:row><x:c s="3"><x:v>1</x:v></x:c><x:c s="4" t="inlineStr"><x:is><x:t>old</x:t></x:is></x:c></x:row>'
    '<x:row><x:c s="3"/><x:c s="4"/><x:c s="5"><x:f>B2&amp;""</x:f><x:v>x</x:v></x:c></x:row>'
    "</x:sheetData>"
    '<x:dataValidations count="1"><x:dataValidation type="list" sqref="B2:B2 D1"><x:formula1>L</x:formula1>'
    "</x:dataValidation></x:dataValidations></x:worksheet>"
)


def test_prefixed_rows_and_cells_without_references_are_found_and_only_they_change() -> None:
    changes = SheetChanges(cells={(0, 1): "new & <text>", (1, 1): dt.date(2027, 3, 15)}, results={(1, 2): "y"})
    out = _edit(PREFIXED, changes, inline=True)
    assert '<x:c s="4" t="inlineStr"><x:is><x:t>new &amp; &lt;text&gt;</x:t></x:is></x:c>' in out
    assert '<x:c s="7"><x:v>46461</x:v></x:c>' in out  # a date: a serial, with a date style
    assert '<x:c s="5" t="str"><x:f>B2&amp;""</x:f><x:v>y</x:v></x:c>' in out
    # Everything else is as it was, byte for byte.
    assert out.startswith(PREFIXED[: PREFIXED.index("<x:row>")])
    assert out.endswith(PREFIXED[PREFIXED.index("</x:sheetData>") :])


def test_1904_dates_shared_strings_numbers_and_blanks() -> None:
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="2"><c r="A2" s="7" t="s"><v>0</v></c></row>' \
        "</sheetData></worksheet>"
    changes = SheetChanges(cells={(1, 0): dt.date(2027, 3, 15), (1, 1): "text", (1, 2): 12.5, (1, 3): None})
    out = _edit(sheet, changes, date1904=True)
    assert '<c r="A2" s="7"><v>44999</v></c>' in out  # four years and a day before the 1900 serial
    assert '<c r="B2" t="s"><v>100</v></c><c r="C2"><v>12.5</v></c><c r="D2"/>' in out


def test_an_appended_row_takes_the_styles_above_and_ranges_grow_over_it() -> None:
    sheet = (
        f'<worksheet xmlns="{MAIN}" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        '<dimension ref="A1:B3"/><sheetData>'
        '<row r="3" s="9" customFormat="1"><c r="A3" s="2" t="s"><v>1</v></c><c r="B3" s="6"/></row>'
        "</sheetData>"
        '<conditionalFormatting sqref="A2:B3"><cfRule type="expression" priority="1"><formula>1</formula></cfRule>'
        '</conditionalFormatting><dataValidations count="1"><dataValidation sqref="B2:B3 C9"/></dataValidations>'
        "<extLst><ext><xm:sqref>A2:A3</xm:sqref></ext></extLst></worksheet>"
    )
    out = _edit(sheet, SheetChanges(cells={(3, 0): "A-4"}, appended={3}))
    assert '<row r="4" s="9" customFormat="1"><c r="A4" s="2" t="s"><v>100</v></c><c r="B4" s="6"/></row>' in out
    assert 'sqref="A2:B4"' in out and 'sqref="B2:B4 C9"' in out and "<xm:sqref>A2:A4</xm:sqref>" in out
    assert '<dimension ref="A1:B4"/>' in out


def test_cells_go_into_an_empty_row_element_in_column_order() -> None:
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="3" ht="30" customHeight="1"/></sheetData></worksheet>'
    out = _edit(sheet, SheetChanges(cells={(2, 4): 1, (2, 1): 2}))
    assert '<row r="3" ht="30" customHeight="1"><c r="B3"><v>2</v></c><c r="E3"><v>1</v></c></row>' in out


def test_text_is_never_a_formula_and_unsafe_characters_are_escaped() -> None:
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData/></worksheet>'
    out = _edit(sheet, SheetChanges(cells={(0, 0): "=1+1", (0, 1): " a\x01_x0041_\r"}), inline=True)
    assert "<f>" not in out and "<t>=1+1</t>" in out
    assert '<t xml:space="preserve"> a_x0001__x005F_x0041__x000D_</t>' in out


def test_formulas_move_down_like_a_fill() -> None:
    text = 'IF($B7="","",IFERROR(INDEX(Improvements!$B:$B,MATCH(TRIM(LEFT($B7,FIND(" - ",$B7&" - ")-1)),x!$A$2,0))'
    moved = shift_formula(text, 3)
    assert moved.count("$B10") == 3 and "$A$2" in moved and "$B:$B" in moved and '" - "' in moved
    assert shift_formula("'Sheet 1'!C5+LOG10(A1)", 1) == "'Sheet 1'!C6+LOG10(A2)"


def test_a_package_edit_appends_strings_and_a_date_format_and_keeps_every_other_part(tmp_path: Path) -> None:
    import openpyxl
    import xlsxwriter

    src = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(src))
    ws = book.add_worksheet("S")
    bold = book.add_format({"bold": True})
    ws.write_string(0, 0, "keep")
    ws.write_string(1, 0, "dup")
    ws.write_string(1, 1, "a bold note", bold)
    ws.write_number(1, 2, 3)
    book.add_worksheet("Other").write_string(0, 0, "untouched")
    book.close()
    out = tmp_path / "edited.xlsx"
    changes = SheetChanges(cells={(1, 0): "dup", (2, 0): "brand new", (1, 1): dt.date(2027, 3, 15), (1, 2): 5})
    edit_cells(src, out, {"S": changes})

    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        before = {n: a.read(n) for n in a.namelist()}
        after = {n: b.read(n) for n in b.namelist()}
    assert set(before) == set(after)
    assert {n for n in before if before[n] != after[n]} == {
        "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml"
    }
    old, new = before["xl/sharedStrings.xml"].decode(), after["xl/sharedStrings.xml"].decode()
    items = re.findall(r"<si>.*?</si>", new)
    assert items[: len(re.findall(r"<si>.*?</si>", old))] == re.findall(r"<si>.*?</si>", old)  # never renumbered
    assert items[-1] == "<si><t>brand new</t></si>" and new.count("<t>dup</t>") == 1  # a known string is reused
    assert f'uniqueCount="{len(items)}"' in new
    wb = openpyxl.load_workbook(out)
    try:
        s = wb["S"]
        assert [s["A1"].value, s["A2"].value, s["A3"].value, s["C2"].value] == ["keep", "dup", "brand new", 5]
        assert s["B2"].value == dt.datetime(2027, 3, 15) and s["B2"].font.b  # a date format like the cell's own
        assert s["B2"].is_date
    finally:
        wb.close()
