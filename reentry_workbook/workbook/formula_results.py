"""The results of the formulas the template writes (see :mod:`lists`), worked out from the cells they read.

A tool that changes cells of a workbook in place must also change the cached results of the formulas that read
them: LibreOffice shows cached results without recalculating, so a dropdown would offer stale labels. The
template writes three shapes of formula (a reference label, a suggested name, a derived column); each is
recognised here by its shape, wherever the coordinator moved the columns it reads, and computed the way Excel
computes it. Any other formula is not ours: :func:`result` returns None and its cached result is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .lists import excel_text

# (sheet name, 0-based row, 0-based column) -> the cell's value after the edits
Lookup = Callable[[str, int, int], Any]
# (sheet name, 0-based column) -> the first 0-based row holding each text of that column (as ``excel_text`` gives
# it, casefolded): what MATCH finds, looked up once per column
ColumnLookup = Callable[[str, int], dict[str, int]]


def first_rows(values: dict[int, Any]) -> dict[str, int]:
    """A :data:`ColumnLookup` result for a column's values by row."""
    out: dict[str, int] = {}
    for row in sorted(values):
        out.setdefault(excel_text(values[row]).casefold(), row)
    return out

_S = r"('(?:[^']|'')+'|[^\s'!(),&=\"]+)"  # a sheet name, quoted or not
_CELL = _S + r"!\$?([A-Z]{1,3})\$?(\d+)"
_OWN = r"\$?([A-Z]{1,3})\$?(\d+)"
_COLUMN = _S + r"!\$?([A-Z]{1,3}):\$?[A-Z]{1,3}"
_TEXT = r'"((?:[^"]|"")*)"'

_LABEL = re.compile(rf'^IF\({_CELL}="","",{_CELL}&{_TEXT}&{_CELL}\)$')
_NAME = re.compile(rf'^IF\({_CELL}="","",{_CELL}&""\)$')
_DERIVED = re.compile(
    rf'^IF\({_OWN}="","",IFERROR\(INDEX\({_COLUMN},MATCH\(TRIM\(LEFT\({_OWN},FIND\({_TEXT},{_OWN}&{_TEXT}\)-1\)\),'
    rf'{_COLUMN},0\)\)&"",""\)\)$'
)


def _sheet(token: str) -> str:
    return token[1:-1].replace("''", "'") if token.startswith("'") else token


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _trim(text: str) -> str:
    """Excel's TRIM: no leading or trailing spaces, single spaces inside."""
    return re.sub(" +", " ", text.strip(" "))


Input = tuple[str, int | None, int]  # (sheet name, 0-based row or None for the whole column, 0-based column)


def inputs(formula: str, sheet: str) -> list[Input] | None:
    """The cells one of the template's formulas on ``sheet`` reads, or None when it is not one of them."""
    text = formula.lstrip("=")
    m = _LABEL.match(text)
    if m:
        s1, c1, r1, s2, c2, r2, _sep, s3, c3, r3 = m.groups()
        return [(_sheet(s), int(r) - 1, _col(c)) for s, c, r in ((s1, c1, r1), (s2, c2, r2), (s3, c3, r3))]
    m = _NAME.match(text)
    if m:
        s1, c1, r1, s2, c2, r2 = m.groups()
        return [(_sheet(s1), int(r1) - 1, _col(c1)), (_sheet(s2), int(r2) - 1, _col(c2))]
    m = _DERIVED.match(text)
    if m:
        c, r, values_sheet, values_col, *_rest, ids_sheet, ids_col = m.groups()
        return [(sheet, int(r) - 1, _col(c)), (_sheet(values_sheet), None, _col(values_col)),
                (_sheet(ids_sheet), None, _col(ids_col))]
    return None


def result(formula: str, sheet: str, cell: Lookup, column: ColumnLookup) -> str | None:
    """The result of one of the template's formulas on ``sheet``, or None when the formula is not one of them."""
    text = formula.lstrip("=")
    m = _LABEL.match(text)
    if m:
        s1, c1, r1, s2, c2, r2, sep, s3, c3, r3 = m.groups()
        if excel_text(cell(_sheet(s1), int(r1) - 1, _col(c1))) == "":
            return ""
        left = excel_text(cell(_sheet(s2), int(r2) - 1, _col(c2)))
        return left + sep.replace('""', '"') + excel_text(cell(_sheet(s3), int(r3) - 1, _col(c3)))
    m = _NAME.match(text)
    if m:
        s1, c1, r1, s2, c2, r2 = m.groups()
        if excel_text(cell(_sheet(s1), int(r1) - 1, _col(c1))) == "":
            return ""
        return excel_text(cell(_sheet(s2), int(r2) - 1, _col(c2)))
    m = _DERIVED.match(text)
    if m:
        c, r, values_sheet, values_col, _c2, _r2, sep, _c3, _r3, _sep2, ids_sheet, ids_col = m.groups()
        chosen = excel_text(cell(sheet, int(r) - 1, _col(c)))
        if chosen == "":
            return ""
        sep = sep.replace('""', '"')
        wanted = _trim(chosen.split(sep, 1)[0] if sep else chosen).casefold()
        row = column(_sheet(ids_sheet), _col(ids_col)).get(wanted)
        if row is None:
            return ""
        return excel_text(cell(_sheet(values_sheet), row, _col(values_col)))
    return None
