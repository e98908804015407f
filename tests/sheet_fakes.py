"""Stand-ins for the package a worksheet part is edited in (its shared strings and its styles), for the tests
that run the cell-level editor on a sheet's XML alone."""

from __future__ import annotations

from reentry_workbook.xlsx.sheet_edit import SheetChanges, edit_sheet

DATE_XF = 7  # the one style the stand-in styles call a date


class Strings:
    """New texts go to the shared strings from index 100 on, or inline (``inline``)."""

    def __init__(self, inline: bool = False) -> None:
        self.inline = inline
        self.new: list[str] = []

    def index(self, text: str) -> int | None:
        if self.inline:
            return None
        self.new.append(text)
        return 100 + len(self.new) - 1


class Styles:
    def is_date(self, xf: int) -> bool:
        return xf == DATE_XF

    def date_style(self, xf: int) -> int:
        return DATE_XF


def edited(text: str, changes: SheetChanges, *, inline: bool = False, date1904: bool = False) -> str:
    """The worksheet XML ``text`` with ``changes`` made."""
    return edit_sheet(text, changes, strings=Strings(inline), styles=Styles(), date1904=date1904).text
