"""The exact path of the cell reader: a streaming expat parser over the worksheet's XML, for every sheet the
fast path cannot read exactly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UnusableInputError
from .cell_values import SAVE_AGAIN, cell_value, run_text, to_int
from .limits import MAX_COLUMNS, MAX_ROWS
from .refs import cell_position, parse_range
from .sheet_cells import ERROR, FORMULA, RANGE_FORMULAS, SheetCells, SheetRef, SparseCells, flag_formula_range

if TYPE_CHECKING:
    from .cells import Workbook


def read_exact(book: Workbook, ref: SheetRef) -> SheetCells:
    strings = book._shared_strings()
    styles = book._styles
    date1904 = book.date1904
    rows: dict[int, dict[int, Any]] = {}
    flags: dict[tuple[int, int], tuple[str, str]] = {}
    merged: list[tuple[int, int, int, int]] = []
    ranges: list[tuple[int, int, tuple[int, int, int, int] | None]] = []  # array formulas: (row, col, range)
    # The cell being read: [row, col, type, style, formula?]; text collected per child element.
    pos = {"row": -1, "next_col": 0, "in_data": False}
    cell: list[Any] = [0, 0, None, 0, False]
    buffers: dict[str, list[str]] = {"v": [], "f": [], "is": [], "t": []}
    capture: list[list[str] | None] = [None]
    in_is = [0, 0]  # depth inside <is>, depth inside <rPh>
    preserve = {"v": False, "t": False}  # xml:space="preserve" on the current <v>, <t>
    label = book.label

    def out_of_grid() -> UnusableInputError:
        return UnusableInputError(
            f"{label} is damaged (the sheet {ref.name!r} has a cell beyond Excel's last row or column); "
            f"{SAVE_AGAIN}"
        )

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c" and pos["in_data"]:
            where = attrs.get("r")
            if where is not None:
                found = cell_position(where)
                if found is None:
                    raise out_of_grid()
                row, col = found
            else:
                row, col = max(pos["row"], 0), pos["next_col"]
                if col >= MAX_COLUMNS:
                    raise out_of_grid()
            pos["next_col"] = col + 1
            cell[:] = [row, col, attrs.get("t"), to_int(attrs.get("s")) or 0, False]
            for buf in buffers.values():
                buf.clear()
        elif not pos["in_data"]:
            if tag == "sheetData":
                pos["in_data"] = True
            elif tag == "mergeCell":
                merged_range = parse_range(attrs.get("ref", ""))
                if merged_range is not None:
                    merged.append(merged_range)
        elif tag == "v":
            capture[0] = buffers["v"]
            preserve["v"] = attrs.get("xml:space") == "preserve"
        elif tag == "f":
            cell[4] = True
            capture[0] = buffers["f"]
            if attrs.get("t") in RANGE_FORMULAS:
                ranges.append((cell[0], cell[1], parse_range(attrs.get("ref", ""))))
        elif tag == "is":
            in_is[0] += 1
        elif tag == "t" and in_is[0] and not in_is[1]:
            buffers["t"].clear()
            capture[0] = buffers["t"]
            preserve["t"] = attrs.get("xml:space") == "preserve"
        elif tag == "rPh":
            in_is[1] += 1
        elif tag == "row":
            where = attrs.get("r")
            row = (to_int(where) or 0) - 1 if where is not None else pos["row"] + 1
            if not 0 <= row < MAX_ROWS:
                raise out_of_grid()
            pos["row"], pos["next_col"] = row, 0

    def end(name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "t" and capture[0] is buffers["t"]:
            buffers["is"].append(run_text(buffers["t"], preserve["t"]))
            capture[0] = None
        elif tag in ("v", "f", "t"):
            capture[0] = None
        elif tag == "is":
            in_is[0] -= 1
        elif tag == "rPh":
            in_is[1] -= 1
        elif tag == "c" and pos["in_data"]:
            row, col, kind, style, formula = cell
            if formula:
                text = "".join(buffers["f"]).strip()
                flags[(row, col)] = (FORMULA, text)
                if ranges and ranges[-1][:2] == (row, col):
                    flag_formula_range(flags, ranges[-1][2], text)
                return
            raw = run_text(buffers["v"], preserve["v"])
            if kind == "e":
                flags[(row, col)] = (ERROR, raw.strip())
                return
            value = cell_value(kind, raw, "".join(buffers["is"]), style, strings, styles, date1904)
            if value is not None and value != "":
                rows.setdefault(row, {})[col] = value
        elif tag == "sheetData":
            pos["in_data"] = False

    def text(data: str) -> None:
        target = capture[0]
        if target is not None:
            target.append(data)

    book._stream(ref.part, start, end, text)
    return SparseCells(ref.name, rows, flags, merged)
