"""A1 references: column letters, cell references and ranges, parsed and written; a formula's references moved
down as filling down moves them."""

from __future__ import annotations

import re

from .limits import MAX_COLUMNS, MAX_ROWS


def column_letter(index: int) -> str:
    """Column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell_ref(row: int, col: int) -> str:
    """A1 reference of a 0-based row and column."""
    return f"{column_letter(col)}{row + 1}"


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


def parse_ref(ref: str) -> tuple[int, int] | None:
    """0-based (row, column) of an A1 reference, or ``None`` when it is not one inside Excel's grid."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m[1].upper():
        col = col * 26 + ord(ch) - 64
    row = int(m[2])
    if not (1 <= row <= MAX_ROWS and 1 <= col <= MAX_COLUMNS):
        return None
    return row - 1, col - 1


_DIGITS = "0123456789"
_COLUMNS: dict[str, int] = {}


def cell_position(ref: str) -> tuple[int, int] | None:
    """:func:`parse_ref` for the plain ``r`` attribute of a cell (``"C12"``), with the column letters cached."""
    letters = ref.rstrip(_DIGITS)
    col = _COLUMNS.get(letters)
    if col is None:
        found = parse_ref(ref)
        if found is not None and letters.isalpha() and letters.isascii():
            _COLUMNS[letters] = found[1]
        return found
    digits = ref[len(letters) :]
    if not digits.isdigit() or not digits.isascii() or not 1 <= int(digits) <= MAX_ROWS:
        return parse_ref(ref)
    return int(digits) - 1, col


def parse_range(ref: str) -> tuple[int, int, int, int] | None:
    first, _, last = ref.partition(":")
    a = parse_ref(first)
    b = parse_ref(last) if last else a
    if a is None or b is None:
        return None
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


_FORMULA_TOKENS = re.compile(
    r'"(?:[^"]|"")*"'  # a string
    r"|'(?:[^']|'')*'!"  # a quoted sheet name
    r"|(?<![A-Za-z0-9_.$])(\$?)([A-Za-z]{1,3})(\$?)(\d+)(?![A-Za-z0-9_(!])"  # a cell reference
)


def shift_formula(text: str, rows: int) -> str:
    """A formula moved down ``rows`` rows, as filling down moves it: relative row numbers change, ``$`` ones
    and whole-column ranges do not."""

    def move(m: re.Match[str]) -> str:
        if m.group(2) is None or m.group(3):
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}{int(m.group(4)) + rows}"

    return _FORMULA_TOKENS.sub(move, text)


def relative_rows(text: str) -> list[tuple[int, int]]:
    """The spans of the row numbers in ``text`` that :func:`shift_formula` moves (relative ones), in order."""
    return [m.span(4) for m in _FORMULA_TOKENS.finditer(text) if m.group(2) is not None and not m.group(3)]
