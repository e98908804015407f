"""Reads the cell values of a workbook that is not an .xlsx package (.ods, .xls, .xlsb) through python-calamine,
for a report-only audit: the findings, but no summary copy (the tool writes into .xlsx packages only).

python-calamine gives each cell's value as the file stores it, so a formula cell reads as its last result here
(the .xlsx reader never uses those); the audit of such a file says it is a report only. The interface is the
one the plan reader uses of :class:`cells.Workbook`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UnusableInputError
from .sheet_cells import DenseCells, SheetCells, SheetRef

_STATES = {"visible": "visible", "hidden": "hidden", "veryhidden": "veryHidden"}


@dataclass
class ValuesBook:
    """The values of a non-.xlsx workbook, shaped like :class:`cells.Workbook` for the plan reader."""

    book: Any
    label: str
    sheets: list[SheetRef] = field(default_factory=list)
    date1904: bool = False
    properties: dict[str, str] = field(default_factory=dict)

    def read_sheet(self, sheet: SheetRef | str) -> SheetCells:
        name = sheet.name if isinstance(sheet, SheetRef) else sheet
        try:
            rows = self.book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:  # python-calamine raises its own error types
            raise UnusableInputError(
                f"{self.label}: the sheet {name!r} cannot be read ({type(exc).__name__}); open the file and save "
                f"it as .xlsx, then run the audit again."
            ) from None
        return DenseCells(name, [list(r) for r in rows], {}, [])  # no formula flags: values only

    def read_ahead(self, refs: Sequence[SheetRef]) -> None:
        """Nothing to do: the sheets are read one by one, as asked for (see :meth:`cells.Workbook.read_ahead`)."""

    def close(self) -> None:
        self.book.close()


def open_values_book(path: Path) -> ValuesBook:
    """Open ``path`` (.ods, .xls or .xlsb, already sniffed) with python-calamine."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # python-calamine raises its own error types
        raise UnusableInputError(
            f"{path.name} cannot be read ({type(exc).__name__}); open it in Excel or LibreOffice and save it as "
            f".xlsx, then run the audit again."
        ) from None
    sheets = [
        SheetRef(m.name, m.name, _STATES.get(str(m.visible).rpartition(".")[2].casefold(), "visible"))
        for m in book.sheets_metadata
    ]
    return ValuesBook(book, path.name, sheets)
