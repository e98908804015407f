"""Fuzzing the audit with mutated plan workbooks.

Hypothesis takes a real workbook from the generator (the example plan or a blank template), changes it the
way members and their software do, and worse: random values of every type in random cells (numbers, huge
numbers, booleans, odd unicode, long text, formulas, error values, dates), deleted and inserted rows and
columns, deleted and renamed sheets, renamed, deleted and duplicated headers, merged cells, the 1904 date
system; then, in the saved package's XML, broken cell references, types and values. The audit
(:func:`reentry_workbook.audit.pipeline.audit_plan`) must either return a report (that turns into JSON) or raise a
:class:`reentry_workbook.errors.ReentryWorkbookError`, whose message is one line; never anything else.

The bounded run here is part of the test suite; ``python scripts/fuzz.py --examples 2000`` runs longer.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from reentry_workbook import errors
from reentry_workbook.audit.pipeline import audit_plan
from reentry_workbook.plan import schema

CI_EXAMPLES = 25
AS_OF = dt.date(2027, 3, 1)
MAX_ROW = 60  # mutations land in the first rows and columns, where the plan is ...
MAX_COL = 20
FAR_ROWS = (100_000, 1_048_576)  # ... or at the edge of Excel's grid
FAR_COLS = (702, 16_384)

Mutation = tuple[Any, ...]


# --------------------------------------------------------------------------------------------------------------
# The workbooks that get mutated
# --------------------------------------------------------------------------------------------------------------


@cache
def base_workbook(kind: str) -> bytes:
    """The generator's example plan (few spare rows) or a blank template, as bytes."""
    from reentry_workbook.workbook.generate import new_workbook

    with tempfile.TemporaryDirectory(prefix="fuzz-base-") as tmp:
        path = new_workbook(Path(tmp) / "plan.xlsx", example=kind == "example", rows=30 if kind == "example" else 12)
        return path.read_bytes()


# --------------------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------------------

ERROR_CODES = ("#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA", "#SPILL!")
FORMULAS = (
    "=1/0",
    "=A1",
    "=NOW()",
    '="x"&"y"',
    "=SUM(A1:A1048576)",
    "=Lists!$A$2",
    '=HYPERLINK("http://example.invalid","x")',
    "=INDIRECT(\"'Action Steps'!B2\")",
    "=",
)


def _ids() -> st.SearchStrategy[str]:
    prefixes = [s.id_prefix or "" for s in schema.SHEETS if s.id_prefix]
    return st.builds(
        lambda prefix, number, sep, tail, lower: (prefix.lower() if lower else prefix) + sep + number + tail,
        st.sampled_from(prefixes),
        st.sampled_from(["1", "01", "0", "999999999999999999999", "-1", "1.5", "", " 2 "]),
        st.sampled_from(["-", " - ", "", "–", "_"]),
        st.sampled_from(["", schema.ID_SEPARATOR + "Housing desk", " (old)", schema.ID_SEPARATOR]),
        st.booleans(),
    )


def _choices() -> st.SearchStrategy[str]:
    every = sorted({value for values in schema.CHOICES.values() for value in values})
    return st.sampled_from(every).flatmap(
        lambda v: st.sampled_from([v, v.upper(), f"  {v}  ", v[:-1], v + "?", v.replace(" ", "\n")])
    )


_TEXT_CHARS = st.characters(blacklist_categories=("Cs",))


def values() -> st.SearchStrategy[tuple[str, Any]]:
    """(kind, value): what goes into a cell."""
    return st.one_of(
        st.tuples(st.just("value"), st.none()),
        st.tuples(st.just("value"), st.integers(-(10**6), 10**6)),
        st.tuples(st.just("value"), st.sampled_from([2**53 + 1, 10**15, 10**20, -(10**300), 2**63, 2**64 - 1])),
        st.tuples(st.just("value"), st.floats(allow_nan=True, allow_infinity=True)),
        st.tuples(st.just("value"), st.booleans()),
        st.tuples(st.just("value"), st.text(_TEXT_CHARS, max_size=40)),
        st.tuples(
            st.just("value"),
            st.builds(lambda s, n: s * n, st.text(_TEXT_CHARS, min_size=1, max_size=8), st.integers(500, 6000)),
        ),
        st.tuples(st.just("value"), _ids()),
        st.tuples(st.just("value"), _choices()),
        st.tuples(st.just("value"), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
        st.tuples(st.just("value"), st.datetimes(dt.datetime(1899, 12, 1), dt.datetime(9999, 12, 31))),
        st.tuples(st.just("value"), st.times()),
        st.tuples(st.just("value"), st.timedeltas(dt.timedelta(days=-5), dt.timedelta(days=5000))),
        st.tuples(
            st.just("value"),
            st.sampled_from(["3/15/27", "March 2027", "Q2 2027", "TBD", "2027-02-30", "31/12/2027", "0", "-1"]),
        ),
        st.tuples(st.just("formula"), st.sampled_from(FORMULAS)),
        st.tuples(st.just("error"), st.sampled_from(ERROR_CODES)),
    )


_rows = st.one_of(st.integers(1, MAX_ROW), st.sampled_from(FAR_ROWS))
_cols = st.one_of(st.integers(1, MAX_COL), st.sampled_from(FAR_COLS))
_sheet = st.integers(0, 20)  # an index into the workbook's sheets, modulo their number
_header_text = st.one_of(
    st.none(),
    st.text(_TEXT_CHARS, max_size=20),
    st.sampled_from([c.header for s in schema.SHEETS for c in s.columns]).map(lambda h: f" {h.upper()}\n"),
)

openpyxl_mutations = st.one_of(
    st.tuples(st.just("set"), _sheet, _rows, _cols, values()),
    st.tuples(st.just("set"), _sheet, _rows, _cols, values()),  # twice as likely as any other
    st.tuples(st.just("delete_rows"), _sheet, st.integers(1, MAX_ROW), st.integers(1, 40)),
    st.tuples(st.just("insert_rows"), _sheet, st.integers(1, MAX_ROW), st.integers(1, 5)),
    st.tuples(st.just("delete_cols"), _sheet, st.integers(1, MAX_COL), st.integers(1, 4)),
    st.tuples(st.just("insert_cols"), _sheet, st.integers(1, MAX_COL), st.integers(1, 3)),
    st.tuples(st.just("delete_sheet"), _sheet),
    st.tuples(st.just("rename_sheet"), _sheet, st.text(_TEXT_CHARS, min_size=1, max_size=31)),
    st.tuples(st.just("header"), _sheet, st.integers(1, MAX_COL), _header_text),
    st.tuples(st.just("duplicate_header"), _sheet, st.integers(1, MAX_COL), st.integers(1, MAX_COL + 3)),
    st.tuples(st.just("header_row_down"), _sheet, st.integers(1, 12)),
    st.tuples(
        st.just("merge"), _sheet, st.integers(1, MAX_ROW), st.integers(1, MAX_COL), st.integers(0, 5), st.integers(0, 3)
    ),
    st.tuples(st.just("epoch_1904")),
)

# Changes to the saved package's XML: (kind, which sheet part, which cell tag, replacement).
xml_mutations = st.one_of(
    st.tuples(
        st.just("ref"),
        _sheet,
        st.integers(0, 500),
        st.sampled_from(["A0", "XFE1", "A1048577", "", "1A", "ZZZZ9", "a1", "B2:C3"]),
    ),
    st.tuples(
        st.just("type"),
        _sheet,
        st.integers(0, 500),
        st.sampled_from(["b", "d", "e", "s", "str", "inlineStr", "n", "zzz"]),
    ),
    st.tuples(
        st.just("value"),
        _sheet,
        st.integers(0, 500),
        st.sampled_from(["", "abc", "1e999", "-", "NaN", "0x10", "१२", "99999999", "2", "-0"]),
    ),
    st.tuples(st.just("dimension"), _sheet, st.sampled_from(["A1:XFD1048576", "A1", "ZZ0:A1", "bogus"])),
)

mutation_lists = st.tuples(
    st.sampled_from(["example", "blank"]),
    st.lists(openpyxl_mutations, max_size=8),
    st.lists(xml_mutations, max_size=3),
)


# --------------------------------------------------------------------------------------------------------------
# Applying them
# --------------------------------------------------------------------------------------------------------------


_GRID_WIDE = frozenset({"delete_rows", "insert_rows", "delete_cols", "insert_cols", "header_row_down", "merge"})
MAX_SHIFTED_CELLS = 100_000


def _pick(workbook: Any, index: int) -> Any:
    return workbook.worksheets[index % len(workbook.worksheets)]


def _header_row(ws: Any) -> int:
    return schema.HEADER_ROW if ws.max_row >= schema.HEADER_ROW else 1


def apply_openpyxl(workbook: Any, mutation: Mutation) -> None:
    """Apply one mutation; openpyxl refusing one (bad sheet name, illegal character) is no test of the audit."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904
    from openpyxl.utils.exceptions import IllegalCharacterError

    kind = mutation[0]
    try:
        if kind == "epoch_1904":
            workbook.epoch = CALENDAR_MAC_1904
            return
        ws = _pick(workbook, mutation[1])
        if kind in _GRID_WIDE and ws.max_row * ws.max_column > MAX_SHIFTED_CELLS:
            return  # openpyxl moves rows and columns cell by cell over the whole grid: gigabytes for a far cell
        if kind == "set":
            _, _, row, col, (how, value) = mutation
            cell = ws.cell(row=row, column=col)
            cell.value = value
            if how == "error":
                cell.data_type = "e"
            elif how == "formula":
                cell.data_type = "f"
        elif kind == "delete_rows":
            ws.delete_rows(mutation[2], mutation[3])
        elif kind == "insert_rows":
            ws.insert_rows(mutation[2], mutation[3])
        elif kind == "delete_cols":
            ws.delete_cols(mutation[2], mutation[3])
        elif kind == "insert_cols":
            ws.insert_cols(mutation[2], mutation[3])
        elif kind == "delete_sheet":
            if len(workbook.worksheets) > 1:
                workbook.remove(ws)
        elif kind == "rename_sheet":
            ws.title = mutation[2]
        elif kind == "header":
            ws.cell(row=_header_row(ws), column=mutation[2], value=mutation[3])
        elif kind == "duplicate_header":
            row = _header_row(ws)
            ws.cell(row=row, column=mutation[3], value=ws.cell(row=row, column=mutation[2]).value)
        elif kind == "header_row_down":
            ws.insert_rows(1, mutation[2])
        elif kind == "merge":
            _, _, row, col, down, right = mutation
            ws.merge_cells(start_row=row, start_column=col, end_row=row + down, end_column=col + right)
    except (ValueError, TypeError, KeyError, IndexError, IllegalCharacterError):
        return


_CELL_TAG = re.compile(rb"<c\b[^>]*>")


def _sheet_part_names(zf: zipfile.ZipFile) -> list[str]:
    return sorted(n for n in zf.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))


def apply_xml(data: bytes, mutations: Sequence[Mutation]) -> bytes:
    """Patch the sheet XML of a saved package (cell references, types, values, the dimension)."""
    if not mutations:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
        parts = _sheet_part_names(zf)
    if not parts:
        return data
    for kind, sheet, *rest in mutations:
        part = parts[sheet % len(parts)]
        xml = members[part]
        if kind == "dimension":
            xml = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + rest[0].encode() + b'"', xml, count=1)
        else:
            tags = list(_CELL_TAG.finditer(xml))
            if not tags:
                continue
            which, new = rest
            tag = tags[which % len(tags)]
            text = tag.group(0)
            if kind == "ref":
                text = re.sub(rb'r="[^"]*"', b'r="' + new.encode() + b'"', text, count=1)
            elif kind == "type":
                stripped = re.sub(rb'\st="[^"]*"', b"", text)
                text = stripped[:2] + b' t="' + new.encode() + b'"' + stripped[2:]
            elif kind == "value":
                end = xml.find(b"</c>", tag.end())
                body = xml[tag.end() : end] if end >= 0 and not text.endswith(b"/>") else b""
                if b"<v>" in body:
                    patched = re.sub(rb"<v>[^<]*</v>", b"<v>" + new.encode() + b"</v>", body, count=1)
                    xml = xml[: tag.end()] + patched + xml[tag.end() + len(body) :]
                continue
            xml = xml[: tag.start()] + text + xml[tag.end() :]
        members[part] = xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, member in members.items():
            zf.writestr(name, member)
    return out.getvalue()


def mutated_workbook(case: tuple[str, list[Mutation], list[Mutation]], out: Path) -> Path | None:
    """Write the mutated workbook to ``out``; None when openpyxl cannot save what the mutations made.

    Without openpyxl mutations, only the XML of the generator's package is patched (no openpyxl save).
    """
    import openpyxl

    base, changes, xml_changes = case
    if not changes:  # the generator's own package (shared strings, cached results), patched directly
        out.write_bytes(apply_xml(base_workbook(base), xml_changes))
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(io.BytesIO(base_workbook(base)))
        for mutation in changes:
            apply_openpyxl(workbook, mutation)
        buffer = io.BytesIO()
        try:
            workbook.save(buffer)
        except Exception:  # openpyxl cannot write what it was given (a date before its epoch, ...)
            return None
    out.write_bytes(apply_xml(buffer.getvalue(), xml_changes))
    return out


# --------------------------------------------------------------------------------------------------------------
# The property
# --------------------------------------------------------------------------------------------------------------


def audit_or_clear_error(path: Path) -> str:
    """Audit ``path``; return "report" or "refused". Anything else than a typed error propagates (a bug)."""
    try:
        report = audit_plan(path, as_of=AS_OF)
    except errors.ReentryWorkbookError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message, message
        return "refused"
    json.dumps(report.to_dict())
    return "report"


def check_case(case: tuple[str, list[Mutation], list[Mutation]], keep: Path | None = None) -> str | None:
    """Build the mutated workbook and audit it; keep a copy in ``keep`` when the audit fails."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        path = mutated_workbook(case, Path(tmp) / "mutated.xlsx")
        if path is None:
            return None
        try:
            return audit_or_clear_error(path)
        except BaseException:
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                target = keep / f"failing-{len(list(keep.glob('failing-*.xlsx'))) + 1}.xlsx"
                target.write_bytes(path.read_bytes())
            raise


def fuzz_settings(examples: int, **extra: Any) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        **extra,
    )


def make_fuzzer(
    examples: int, keep: Path | None = None, seen: Callable[[str], None] | None = None, **extra: Any
) -> Callable[[], None]:
    """A hypothesis test of ``examples`` mutated workbooks; ``seen`` hears each outcome (report, refused, unsaved)."""

    @fuzz_settings(examples, **extra)
    @given(mutation_lists)
    def fuzz(case: tuple[str, list[Mutation], list[Mutation]]) -> None:
        outcome = check_case(case, keep)
        if seen is not None:
            seen(outcome or "unsaved")
        if outcome is None:
            reject()

    return fuzz


# --------------------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------------------


@fuzz_settings(CI_EXAMPLES)
@given(mutation_lists)
def test_the_audit_returns_a_report_or_a_clear_error(case: tuple[str, list[Mutation], list[Mutation]]) -> None:
    if check_case(case) is None:
        reject()


def test_the_unmutated_bases_audit() -> None:
    for kind in ("example", "blank"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "plan.xlsx"
            path.write_bytes(base_workbook(kind))
            assert audit_or_clear_error(path) == "report"


def test_mutations_do_change_the_workbook(tmp_path: Path) -> None:
    """A few fixed mutations, each of which the audit must take apart the way it says."""
    steps = schema.sheet("steps")
    sheet_index = [schema.START_SHEET, schema.COALITION_SHEET, *(s.name for s in schema.SHEETS)].index(steps.name)
    renamed = ("example", [("header", sheet_index, 1, "Something else")], [])
    path = mutated_workbook(renamed, tmp_path / "renamed.xlsx")
    assert path is not None and audit_or_clear_error(path) == "refused"
    deleted = ("example", [("delete_sheet", sheet_index)], [])
    path = mutated_workbook(deleted, tmp_path / "deleted.xlsx")
    assert path is not None and audit_or_clear_error(path) == "refused"
    broken = ("example", [("set", sheet_index, 2, 4, ("formula", "=1/0"))], [("ref", sheet_index, 3, "XFE1")])
    path = mutated_workbook(broken, tmp_path / "broken.xlsx")
    assert path is not None and audit_or_clear_error(path) in ("report", "refused")
