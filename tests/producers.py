"""A filled plan's package rewritten the way other software writes .xlsx, keeping the plan's content.

Import from tests as ``from producers import PRODUCERS, build_variant`` (pytest puts tests/ on sys.path);
``scripts/make_producer_corpus.py OUTDIR`` writes the same files for trying by hand. Each producer is a list of
package rewrites applied in turn to a plan written by the tool (the bundled example, by default):

- ``excel``: what Excel for Windows writes: rich-text and phonetic runs in shared strings, a member's own
  columns holding a filled-down (shared) formula, an array formula and formula-result text cells (``t="str"``),
  a calculation chain, locale-tagged date formats (``[$-409]mmmm d, yyyy;@``), ``mc:Ignorable`` roots with
  ``x14ac`` row attributes, ``<dimension>`` and ``<cols>``;
- ``1904``: the Mac 1904 date system, with every date serial moved to it;
- ``google-sheets``: no custom document properties, no defined names, every string inline;
- ``openxml-sdk``: what a .NET program writes with the Open XML SDK: elements prefixed ``x:``, absolute
  relationship targets, relationship IDs not of the form ``rIdN``, rows and cells without ``r``, dates as
  ``t="d"`` ISO text and no styles part;
- ``strict``: Excel's "Strict Open XML Spreadsheet" (``purl.oclc.org/ooxml`` namespaces);
- ``xlsm``: a macro-enabled workbook with a VBA project part;
- combinations of these (``excel+1904``, ``google-sheets+xlsm``, ``openxml-sdk+excel-strings``).

The member's own columns sit to the right of the plan's, under headers the plan does not use, so the audit's
findings stay those of the original plan.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from pathlib import Path

from bad_inputs import _rels_part, _workbook_part, _xlsm, rezip, sheet_parts, zip_members

from reentry_workbook.plan import schema
from reentry_workbook.xlsx.cell_values import format_kind
from reentry_workbook.xlsx.serials import serial_to_datetime

Members = dict[str, bytes]
Rewrite = Callable[[Members], Members]

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = "[Content_Types].xml"
OWN_HEADERS = ("My check", "My list", "My total")  # a member's own columns (not headers of the plan)
_DAYS_1900_TO_1904 = 1462


# --- small helpers ----------------------------------------------------------------------------------------------


def _text(members: Members, name: str) -> str:
    return members[name].decode("utf-8")


def _put(members: Members, name: str, text: str) -> None:
    members[name] = text.encode("utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _drop_part(members: Members, part: str) -> None:
    """Remove a part, its relationship (from whichever .rels names it) and its content-type override."""
    members.pop(part, None)
    for name in [n for n in members if n.endswith(".rels")]:
        text = _text(members, name)
        folder = name.rpartition("_rels/")[0]
        target = part[len(folder) :] if part.startswith(folder) else part
        pattern = r'<Relationship [^>]*Target="/?(?:' + re.escape(target) + "|" + re.escape(part) + r')"[^>]*/>'
        _put(members, name, re.sub(pattern, "", text))
    override = r'<Override PartName="/' + re.escape(part) + r'"[^>]*/>'
    _put(members, CONTENT_TYPES, re.sub(override, "", _text(members, CONTENT_TYPES)))


def _sheet(members: Members, key: str) -> str:
    return sheet_parts(members)[schema.sheet(key).name]


def _date_styles(members: Members) -> set[int]:
    """Indexes of the cell formats whose number format shows a date."""
    styles = next((n for n in members if n.endswith("styles.xml")), None)
    if styles is None:
        return set()
    text = _text(members, styles)
    found_codes = re.finditer(r'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', text)
    codes = {int(m[1]): html.unescape(m[2]) for m in found_codes}
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", text, re.S)
    found = set()
    for i, m in enumerate(re.finditer(r'<xf [^>]*?numFmtId="(\d+)"', xfs[1] if xfs else "")):
        if format_kind(int(m[1]), codes.get(int(m[1]))) == "date":
            found.add(i)
    return found


def _sheet_names(members: Members) -> list[str]:
    return list(sheet_parts(members).values())


_DATE_CELL = re.compile(r'<c r="([A-Z]+\d+)" s="(\d+)"(?: t="n")?><v>([0-9.]+)</v></c>')


# --- Excel --------------------------------------------------------------------------------------------------


def excel_strings(members: Members) -> Members:
    """Rich-text runs and phonetic runs in the shared strings, as Excel keeps them after formatting or IME input."""
    name = next(n for n in members if n.endswith("sharedStrings.xml"))
    counter = [0]

    def runs(m: re.Match[str]) -> str:
        raw = html.unescape(m[1])
        counter[0] += 1
        if len(raw) < 4 or counter[0] % 2:
            return m[0]
        if counter[0] % 4 == 0:  # a phonetic guide: its text is not part of the value
            return f"<si><t xml:space=\"preserve\">{_escape(raw)}</t><rPh sb=\"0\" eb=\"1\"><t>ふ</t></rPh>" \
                '<phoneticPr fontId="0" type="noConversion"/></si>'
        cut = len(raw) // 2
        return (
            f"<si><r><t xml:space=\"preserve\">{_escape(raw[:cut])}</t></r><r><rPr><b/><sz val=\"11\"/>"
            f"<color theme=\"1\"/><rFont val=\"Calibri\"/><family val=\"2\"/><scheme val=\"minor\"/></rPr>"
            f"<t xml:space=\"preserve\">{_escape(raw[cut:])}</t></r></si>"
        )

    _put(members, name, re.sub(r"<si><t(?: xml:space=\"preserve\")?>([^<]*)</t></si>", runs, _text(members, name)))
    return members


def excel_formulas(members: Members) -> Members:
    """A member's own columns right of the plan on Action Steps: a filled-down (shared) formula, an array formula
    and a formula-result text cell; a calculation chain naming them."""
    part = _sheet(members, "steps")
    text = _text(members, part)
    width = len(schema.sheet("steps").columns)
    own = [_letter(width + 1 + i) for i in range(len(OWN_HEADERS))]  # one blank column between
    first, last = 2, 9

    def extra(row: int) -> str:
        if row == 1:
            pairs = zip(own, OWN_HEADERS, strict=True)
            return "".join(f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>' for c, h in pairs)
        if not first <= row <= last:
            return ""
        shared = (
            f'<f t="shared" ref="{own[0]}{first}:{own[0]}{last}" si="0">LEN(D{row})&amp;" chars"</f>'
            if row == first
            else '<f t="shared" si="0"/>'
        )
        cells = f'<c r="{own[0]}{row}" t="str">{shared}<v>{row} chars</v></c>'
        if row == first:
            array = f'<f t="array" ref="{own[1]}{first}:{own[1]}{first + 1}">ROW(A{first}:A{first + 1})</f>'
            cells += f'<c r="{own[1]}{row}">{array}<v>{row}</v></c>'
        elif row == first + 1:
            cells += f'<c r="{own[1]}{row}"><v>{row}</v></c>'
        cells += f'<c r="{own[2]}{row}" t="str"><f>"row "&amp;ROW()</f><v>row {row}</v></c>'
        return cells

    def add(number: int, attrs: str, body: str | None) -> tuple[str, str | None]:
        more = extra(number)
        return f' r="{number}"{attrs}', (body or "") + more if more or body is not None else None

    text = _rows(text, add)
    text = re.sub(r'spans="1:\d+"', f'spans="1:{width + 1 + len(OWN_HEADERS)}"', text)
    text = re.sub(r'<dimension ref="A1:[A-Z]+(\d+)"/>', lambda m: f'<dimension ref="A1:{own[-1]}{m[1]}"/>', text)
    _put(members, part, text)

    workbook = _workbook_part(members)
    tab = re.escape(schema.sheet("steps").name)
    sheet_id = re.search(r'<sheet name="' + tab + r'" sheetId="(\d+)"', _text(members, workbook))[1]
    chain = "".join(
        f'<c r="{c}{r}" i="{sheet_id}"/>' if i == 0 and r == first else f'<c r="{c}{r}"/>'
        for i, (c, r) in enumerate((c, r) for r in range(first, last + 1) for c in (own[0], own[2]))
    )
    folder = workbook.rpartition("/")[0]
    members[f"{folder}/calcChain.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="{MAIN}">{chain}</calcChain>'
    ).encode()
    rels = _rels_part(workbook)
    _put(members, rels, _text(members, rels).replace(
        "</Relationships>",
        f'<Relationship Id="rId900" Type="{OFFICE_RELS}/calcChain" Target="calcChain.xml"/></Relationships>',
    ))
    _put(members, CONTENT_TYPES, _text(members, CONTENT_TYPES).replace(
        "</Types>",
        f'<Override PartName="/{folder}/calcChain.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
    ))
    return members


def excel_dates(members: Members) -> Members:
    """Dates in a locale-tagged long format, as Excel writes after Format Cells > Date."""
    name = next(n for n in members if n.endswith("styles.xml"))
    _put(members, name, _text(members, name).replace('formatCode="yyyy-mm-dd"', 'formatCode="[$-409]mmmm d, yyyy;@"'))
    return members


_MC_ROOT = (
    ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac xr xr2 xr3"'
    ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
    ' xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision"'
    ' xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2"'
    ' xmlns:xr3="http://schemas.microsoft.com/office/spreadsheetml/2016/revision3"'
    ' xr:uid="{00000000-0001-0000-0000-000000000000}"'
)


def excel_roots(members: Members) -> Members:
    """``mc:Ignorable`` worksheet roots and ``x14ac:dyDescent`` on rows, as Excel 2010 and later write them."""
    for part in _sheet_names(members):
        text = _text(members, part)
        text = re.sub(r"<worksheet ([^>]*)>", lambda m: f"<worksheet {m[1]}{_MC_ROOT}>", text, count=1)
        text = re.sub(r'(<row r="\d+"[^>]*?)(/?>)', r'\1 x14ac:dyDescent="0.25"\2', text)
        _put(members, part, text)
    return members


# --- the 1904 date system ---------------------------------------------------------------------------------------


def date1904(members: Members) -> Members:
    """The Mac 1904 date system: the flag in the workbook part and every date serial moved by 1,462 days."""
    workbook = _workbook_part(members)
    text = _text(members, workbook)
    text = re.sub(r"<workbookPr([^>]*?)/>", r'<workbookPr date1904="1"\1/>', text, count=1)
    _put(members, workbook, text)
    dates = _date_styles(members)

    def move(m: re.Match[str]) -> str:
        if int(m[2]) not in dates:
            return m[0]
        serial = float(m[3]) - _DAYS_1900_TO_1904
        shown = str(int(serial)) if serial.is_integer() else repr(serial)
        return f'<c r="{m[1]}" s="{m[2]}"><v>{shown}</v></c>'

    for part in _sheet_names(members):
        _put(members, part, _DATE_CELL.sub(move, _text(members, part)))
    return members


# --- Google Sheets --------------------------------------------------------------------------------------------


def google_sheets(members: Members) -> Members:
    """No custom document properties, no defined names, every string inline (no shared strings part)."""
    _drop_part(members, "docProps/custom.xml")
    workbook = _workbook_part(members)
    _put(members, workbook, re.sub(r"<definedNames>.*?</definedNames>", "", _text(members, workbook), flags=re.S))
    strings_part = next(n for n in members if n.endswith("sharedStrings.xml"))
    strings = _shared_strings(_text(members, strings_part))

    def inline(m: re.Match[str]) -> str:
        value = strings[int(m[3])]
        return f'<c r="{m[1]}"{m[2]} t="inlineStr"><is><t xml:space="preserve">{_escape(value)}</t></is></c>'

    for part in _sheet_names(members):
        text = re.sub(r'<c r="([A-Z]+\d+)"((?: s="\d+")?) t="s"><v>(\d+)</v></c>', inline, _text(members, part))
        _put(members, part, text)
    _drop_part(members, strings_part)
    return members


def _shared_strings(text: str) -> list[str]:
    out = []
    for si in re.finditer(r"<si>(.*?)</si>", text, re.S):
        body = re.sub(r"<rPh.*?</rPh>", "", si[1], flags=re.S)
        out.append(html.unescape("".join(re.findall(r"<t[^>]*>([^<]*)</t>", body))))
    return out


# --- the .NET Open XML SDK --------------------------------------------------------------------------------------


def openxml_sdk(members: Members) -> Members:
    """What a program using the Open XML SDK writes: see the module."""
    dates = _date_styles(members)
    workbook = _workbook_part(members)
    folder = workbook.rpartition("/")[0]
    rels = _rels_part(workbook)

    # relationship IDs of another form, and absolute targets
    ids = {m[1]: f"R{i:04x}e1" for i, m in enumerate(re.finditer(r'Id="(rId\d+)"', _text(members, rels)), start=1)}
    text = re.sub(r'Id="(rId\d+)"', lambda m: f'Id="{ids[m[1]]}"', _text(members, rels))
    text = re.sub(r'Target="(?!/)([^"]+)"', lambda m: f'Target="/{folder}/{m[1]}"', text)
    _put(members, rels, text)
    _put(members, workbook, re.sub(r'r:id="(rId\d+)"', lambda m: f'r:id="{ids[m[1]]}"', _text(members, workbook)))

    for part in _sheet_names(members):
        text = _text(members, part)
        text = _iso_dates(text, dates)
        text = _implicit_positions(text)
        text = re.sub(r' (?:s|style)="\d+"', "", text)
        text = re.sub(r' customFormat="1"', "", text)
        text = re.sub(r"<conditionalFormatting.*?</conditionalFormatting>", "", text, flags=re.S)
        _put(members, part, text)
    styles = next(n for n in members if n.endswith("styles.xml"))
    _drop_part(members, styles)
    for part in [*_sheet_names(members), workbook, *(n for n in members if n.endswith("sharedStrings.xml"))]:
        _put(members, part, _prefixed(_text(members, part)))
    return members


def _iso_dates(text: str, dates: set[int]) -> str:
    def iso(m: re.Match[str]) -> str:
        if int(m[2]) not in dates:
            return m[0]
        moment = serial_to_datetime(float(m[3]), False)
        assert isinstance(moment, dt.datetime)
        return f'<c r="{m[1]}" s="{m[2]}" t="d"><v>{moment.isoformat()}</v></c>'

    return _DATE_CELL.sub(iso, text)


def _rows(text: str, change: Callable[[int, str, str | None], tuple[str, str | None]]) -> str:
    """Rewrite every ``<row>``: ``change(number, other attributes, body or None)`` -> (attributes, body or None)."""
    out, pos = [], 0
    for m in re.finditer(r'<row r="(\d+)"([^>]*?)(?:/>|>(.*?)</row>)', text, re.S):
        attrs, body = change(int(m[1]), m[2], m[3])
        out += [text[pos : m.start()], f"<row{attrs}/>" if body is None else f"<row{attrs}>{body}</row>"]
        pos = m.end()
    return "".join([*out, text[pos:]])


def _implicit_positions(text: str) -> str:
    """Drop ``r`` from a row that follows the one before it, and from a cell that follows the one before it."""
    previous = [0]

    def row(number: int, attrs: str, body: str | None) -> tuple[str, str | None]:
        follows = number == previous[0] + 1
        previous[0] = number
        last = [-1]

        def cell(c: re.Match[str]) -> str:
            col = _column(c[1])
            implicit = col == last[0] + 1
            last[0] = col
            return "<c" if implicit else c[0]

        body = None if body is None else re.sub(r'<c r="([A-Z]+)\d+"', cell, body)
        return (attrs if follows else f' r="{number}"{attrs}'), body

    return _rows(text, row)


def _prefixed(text: str) -> str:
    """Every element of the default namespace written with the prefix ``x:``."""
    if text.count('xmlns="') != 1:
        return text  # a part that redeclares the default namespace inside: left as it is
    text = text.replace(f'xmlns="{MAIN}"', f'xmlns:x="{MAIN}"', 1)
    return re.sub(r"<(/?)([A-Za-z][\w.]*)(?=[\s/>])", r"<\1x:\2", text)


# --- Strict Open XML ------------------------------------------------------------------------------------------

_STRICT = (
    (MAIN, "http://purl.oclc.org/ooxml/spreadsheetml/main"),
    (OFFICE_RELS, "http://purl.oclc.org/ooxml/officeDocument/relationships"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
     "http://purl.oclc.org/ooxml/officeDocument/customProperties"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
     "http://purl.oclc.org/ooxml/officeDocument/extendedProperties"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
     "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes"),
    ("http://schemas.openxmlformats.org/drawingml/2006/main", "http://purl.oclc.org/ooxml/drawingml/main"),
)


def strict(members: Members) -> Members:
    """Excel's Strict Open XML Spreadsheet: the ISO strict namespaces and ``conformance="strict"``."""
    for name in list(members):
        if not name.endswith((".xml", ".rels")) or name == CONTENT_TYPES:
            continue
        text = _text(members, name)
        for old, new in _STRICT:
            text = text.replace(old, new)
        _put(members, name, text)
    workbook = _workbook_part(members)
    _put(members, workbook, re.sub(r"<workbook ", '<workbook conformance="strict" ', _text(members, workbook), count=1))
    return members


# --- macro-enabled ---------------------------------------------------------------------------------------------


def xlsm(members: Members) -> Members:
    """A macro-enabled workbook (.xlsm) with a VBA project part (the bad-inputs corpus's own rewrite)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan.xlsm"
        _xlsm(out, rezip(members.items()), None)
        return dict(zip_members(out.read_bytes()))


# --- the corpus -------------------------------------------------------------------------------------------------

PRODUCERS: dict[str, tuple[Rewrite, ...]] = {
    "excel": (excel_strings, excel_formulas, excel_dates, excel_roots),
    "1904": (date1904,),
    "google-sheets": (google_sheets,),
    "openxml-sdk": (openxml_sdk,),
    "strict": (strict,),
    "xlsm": (xlsm,),
    "excel+1904": (excel_strings, excel_formulas, excel_dates, excel_roots, date1904),
    "google-sheets+xlsm": (google_sheets, xlsm),
    "openxml-sdk+excel-strings": (excel_strings, openxml_sdk),
}
STRICT_PRODUCERS = frozenset(name for name, rewrites in PRODUCERS.items() if strict in rewrites)


def extension(name: str) -> str:
    return ".xlsm" if xlsm in PRODUCERS[name] else ".xlsx"


def build_variant(name: str, source: Path, outdir: Path) -> Path:
    """Write the ``name`` variant of the plan workbook ``source`` into ``outdir``; return its path."""
    members = dict(zip_members(source.read_bytes()))
    for rewrite in PRODUCERS[name]:
        members = rewrite(members)
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / f"plan-{name}{extension(name)}"
    out.write_bytes(rezip(members.items()))
    return out


def _letter(number: int) -> str:
    """Column letters of a 1-based column number."""
    out = ""
    while number:
        number, rem = divmod(number - 1, 26)
        out = chr(65 + rem) + out
    return out


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1
