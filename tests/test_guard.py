"""The guards that check a file before any parser sees it, over the corpus of bad inputs (tests/bad_inputs.py)."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bad_inputs import (
    ARCHIVE_CASES,
    AUDITS,
    CASES,
    REPORT_ONLY,
    TEMPLATE_CASES,
    UNUSABLE,
    build_case,
    build_corpus,
    minimal_xlsx,
    raw_member,
    raw_zip,
    zeros_member,
    zip_members,
)

from reentry_workbook import errors
from reentry_workbook.plan import schema
from reentry_workbook.xlsx import guard, limits, sniff

GUARD_CASES = [name for name in ARCHIVE_CASES if CASES[name].stage == "guard"]

# What sniff() says of each archive-level case.
SNIFFED = {
    "empty": sniff.FORMAT_EMPTY,
    "random-bytes": sniff.FORMAT_UNKNOWN,
    "csv-renamed": sniff.FORMAT_CSV,
    "text-renamed": sniff.FORMAT_TEXT,
    "truncated": sniff.FORMAT_DAMAGED_ZIP,
    "no-workbook-part": sniff.FORMAT_ZIP,
    "password-protected": sniff.FORMAT_ENCRYPTED,
    "legacy-xls": sniff.FORMAT_XLS,
    "ods": sniff.FORMAT_ODS,
    "xlsb": sniff.FORMAT_XLSB,
    "word-document": sniff.FORMAT_OFFICE_OTHER,
    "numbers-document": sniff.FORMAT_NUMBERS,
    "pdf-document": sniff.FORMAT_PDF,
    "html-as-xls": sniff.FORMAT_HTML,
    "xml-spreadsheet-2003": sniff.FORMAT_XML,
    "xlsm-macros": sniff.FORMAT_XLSM,
}

# What the message tells the user to do, by case (a word or phrase from its second half).
ADVICE = {
    "legacy-xls": "save it as .xlsx",
    "password-protected": "remove the password",
    "ods": "save it as .xlsx",
    "xlsb": "save it as .xlsx",
    "numbers-document": "Export To > Excel",
    "truncated": "ask the sender for the file again",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("corpus"), only=ARCHIVE_CASES)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    generate = pytest.importorskip("reentry_workbook.workbook.generate")
    return generate.new_workbook(tmp_path_factory.mktemp("template") / "plan.xlsx")


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def assert_one_sentence(message: str, path: Path) -> None:
    """What the user reads: one line, names the file, says what is wrong and then what to do."""
    assert path.name in message
    assert "\n" not in message and "Traceback" not in message
    rest = message.replace(path.name, "FILE")
    assert rest.endswith(".")
    assert not re.search(r"[.!?]\s", rest[:-1]), f"more than one sentence: {message}"
    assert "; " in rest, f"no advice after the problem: {message}"
    for noise in ("ZipInfo", "BadZipFile", "Errno", "zipfile", "<", "0x"):
        assert noise not in rest, f"internal detail {noise!r} in: {message}"


class DecompressionMeter:
    """Counts the bytes zipfile inflates while it is installed."""

    def __init__(self) -> None:
        self.total = 0

    def wrap(self, real: object) -> object:
        meter = self

        class Counting:
            def decompress(self, data: bytes, max_length: int = 0) -> bytes:
                out = real.decompress(data, max_length)
                meter.total += len(out)
                return out

            def __getattr__(self, name: str) -> object:
                return getattr(real, name)

        return Counting()


@pytest.fixture
def inflated(monkeypatch: pytest.MonkeyPatch) -> Iterator[DecompressionMeter]:
    meter = DecompressionMeter()
    real = zipfile._get_decompressor
    monkeypatch.setattr(zipfile, "_get_decompressor", lambda method: meter.wrap(real(method)) if method else None)
    yield meter


# --------------------------------------------------------------------------------------------------------------
# The corpus of bad archives
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GUARD_CASES)
def test_bad_input_is_refused_with_one_sentence(name: str, corpus: dict[str, Path]) -> None:
    case = CASES[name]
    path = corpus[name]
    before = _fingerprint(path)
    with pytest.raises(errors.ReentryWorkbookError) as caught:
        guard.open_package(path)
    assert type(caught.value) is case.error, f"{name}: {type(caught.value).__name__}: {caught.value}"
    assert caught.value.exit_code == errors.EXIT_UNUSABLE
    assert_one_sentence(str(caught.value), path)
    if name in ADVICE:
        assert ADVICE[name] in str(caught.value)
    assert _fingerprint(path) == before, "checking a file must never change it"


@pytest.mark.parametrize("name", GUARD_CASES)
def test_checking_a_bad_input_inflates_next_to_nothing(name: str, corpus: dict[str, Path], inflated) -> None:
    with pytest.raises(errors.ReentryWorkbookError):
        guard.open_package(corpus[name])
    assert inflated.total < 256 * 1024, f"{name}: the guard inflated {inflated.total:,} bytes"


def test_zip_bomb_is_refused_without_using_memory(corpus: dict[str, Path]) -> None:
    path = corpus["zip-bomb"]
    with zipfile.ZipFile(path) as zf:
        declared = sum(info.file_size for info in zf.infolist())
    assert declared > 300 * 2**20 and path.stat().st_size < 1_000_000  # a real bomb: 300 MB from under 1 MB
    tracemalloc.start()
    try:
        with pytest.raises(errors.UnsafeArchiveError, match="zip bomb"):
            guard.open_package(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"checking the bomb took {peak:,} bytes"


@pytest.mark.parametrize("name", [n for n in ARCHIVE_CASES if n in SNIFFED])
def test_sniff_names_the_format_from_the_bytes(name: str, corpus: dict[str, Path]) -> None:
    assert guard.sniff(corpus[name]) == SNIFFED[name]


def test_every_case_is_described_for_the_docs_table() -> None:
    assert len(CASES) == len({c.filename for c in CASES.values()})
    for name, case in CASES.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)
        assert case.outcome in (UNUSABLE, AUDITS, REPORT_ONLY) and case.about
        assert (case.outcome == UNUSABLE) == (case.error is not None)
        assert case.stage in ("guard", "reader", "none")


def test_corpus_without_a_template_leaves_the_template_cases_out(tmp_path: Path) -> None:
    built = build_corpus(tmp_path, only=["empty", *TEMPLATE_CASES])
    assert list(built) == ["empty"]
    with pytest.raises(ValueError, match="template"):
        build_case(TEMPLATE_CASES[0], tmp_path)


# --------------------------------------------------------------------------------------------------------------
# Good workbooks pass
# --------------------------------------------------------------------------------------------------------------


def test_a_good_workbook_passes_and_is_left_alone(tmp_path: Path, inflated) -> None:
    path = tmp_path / "Plan v3 FINAL (Maria).xlsx"
    path.write_bytes(minimal_xlsx())
    before = _fingerprint(path)
    assert guard.sniff(path) == sniff.FORMAT_XLSX
    with guard.open_package(path) as zf:
        assert "xl/workbook.xml" in zf.namelist()
        assert zf.testzip() is None
    assert _fingerprint(path) == before


def test_the_plan_template_passes(template: Path, inflated) -> None:
    assert guard.sniff(template) == sniff.FORMAT_XLSX
    with guard.open_package(template) as zf:
        size = sum(info.file_size for info in zf.infolist())
        names = zf.namelist()
    assert "xl/workbook.xml" in names
    assert inflated.total < size, "checking read every part in full"


def test_macro_workbook_passes_with_its_macros_untouched(corpus: dict[str, Path]) -> None:
    path = corpus["xlsm-macros"]
    before = _fingerprint(path)
    with guard.open_package(path) as zf:
        vba = [n for n in zf.namelist() if n.endswith("vbaProject.bin")]
        assert vba and zf.read(vba[0]).startswith(b"\xd0\xcf\x11\xe0")
    assert _fingerprint(path) == before


def test_workbook_under_the_limits_passes(tmp_path: Path) -> None:
    # A 3 MB part compressed about 1000:1 is below the size at which the ratio is judged.
    members = [raw_member(n, d) for n, d in zip_members(minimal_xlsx())]
    path = tmp_path / "pictures.xlsx"
    path.write_bytes(raw_zip([*members, zeros_member("xl/media/image1.bin", 3)]))
    with guard.open_package(path) as zf:
        assert "xl/media/image1.bin" in zf.namelist()


def test_workbook_with_a_part_named_in_utf16_xml_and_comments_passes(tmp_path: Path) -> None:
    members = dict(zip_members(minimal_xlsx()))
    members["docProps/custom.xml"] = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<!-- written by a member\'s add-in -->\n<Properties/>'
    ).encode("utf-16")
    path = tmp_path / "addin.xlsx"
    path.write_bytes(raw_zip([raw_member(n, d) for n, d in members.items()]))
    with guard.open_package(path):
        pass


def test_a_dtd_in_utf16_is_refused(tmp_path: Path) -> None:
    members = dict(zip_members(minimal_xlsx()))
    members["docProps/custom.xml"] = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><p>&x;</p>'
    ).encode("utf-16")
    path = tmp_path / "sneaky.xlsx"
    path.write_bytes(raw_zip([raw_member(n, d) for n, d in members.items()]))
    with pytest.raises(errors.UnsafeArchiveError, match="document type declaration") as caught:
        guard.open_package(path)
    assert_one_sentence(str(caught.value), path)


def test_a_part_count_under_the_limit_is_checked_after_opening_too(tmp_path: Path) -> None:
    # The end record can understate the member count; the guard counts again after opening.
    members = [raw_member(n, d) for n, d in zip_members(minimal_xlsx())]
    filler = [raw_member(f"customXml/item{i}.xml", b"<a/>", compress=False) for i in range(limits.MAX_MEMBERS)]
    data = bytearray(raw_zip([*members, *filler]))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = (100).to_bytes(2, "little") * 2
    path = tmp_path / "understated.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(errors.UnsafeArchiveError, match="parts"):
        guard.open_package(path)


def test_a_file_larger_than_any_workbook_is_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "huge.xlsx"
    with path.open("wb") as fh:  # sparse: costs no disk space
        fh.write(b"PK\x03\x04")
        fh.truncate(limits.MAX_FILE_BYTES + 1)
    with pytest.raises(errors.UnusableInputError, match="larger than") as caught:
        guard.open_package(path)
    assert_one_sentence(str(caught.value), path)


# --------------------------------------------------------------------------------------------------------------
# Files that cannot be read at all
# --------------------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "Plan (Maria).xlsx"
    with pytest.raises(errors.UnusableInputError, match="does not exist") as caught:
        guard.open_package(path)
    assert_one_sentence(str(caught.value), path)
    with pytest.raises(errors.UnusableInputError):
        guard.sniff(path)


def test_folder(tmp_path: Path) -> None:
    path = tmp_path / "returns.xlsx"
    path.mkdir()
    with pytest.raises(errors.UnusableInputError, match="is a folder") as caught:
        guard.open_package(path)
    assert_one_sentence(str(caught.value), path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.xlsx"
    path.write_bytes(minimal_xlsx())
    path.chmod(0)
    try:
        if getattr(os, "geteuid", lambda: 0)() == 0:  # root reads anything: fail the open as for anyone else
            monkeypatch.setattr(guard, "_open_binary", _refuse)
        with pytest.raises(errors.UnusableInputError, match="permission denied") as caught:
            guard.open_package(path)
        assert_one_sentence(str(caught.value), path)
    finally:
        path.chmod(0o644)


def _refuse(path: Path) -> int:
    raise PermissionError(13, "Permission denied", str(path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_refused_without_waiting_for_it(tmp_path: Path) -> None:
    path = tmp_path / "pipe.xlsx"
    os.mkfifo(path)
    with pytest.raises(errors.UnusableInputError, match="not a regular file") as caught:
        guard.open_package(path)
    assert_one_sentence(str(caught.value), path)


def test_a_file_name_with_a_line_break_stays_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "plan\nrm -rf.xlsx"
    path.write_bytes(b"")
    with pytest.raises(errors.NotAWorkbookError) as caught:
        guard.open_package(path)
    assert "\n" not in str(caught.value) and "plan?rm -rf.xlsx" in str(caught.value)


# --------------------------------------------------------------------------------------------------------------
# defusedxml for every XML reader
# --------------------------------------------------------------------------------------------------------------


def test_require_defusedxml_gives_a_parser_that_refuses_entities() -> None:
    safe = guard.require_defusedxml()
    assert safe.fromstring(b"<a>ok</a>").text == "ok"
    bomb = b'<!DOCTYPE a [<!ENTITY x "xx"><!ENTITY y "&x;&x;">]><a>&y;</a>'
    with pytest.raises(Exception) as caught:
        safe.fromstring(bomb)
    assert type(caught.value).__module__.startswith("defusedxml")


def test_require_defusedxml_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "defusedxml", None)
    monkeypatch.setitem(sys.modules, "defusedxml.ElementTree", None)
    with pytest.raises(errors.ReentryWorkbookError, match="defusedxml is required") as caught:
        guard.require_defusedxml()
    assert "pip install defusedxml" in str(caught.value)


def test_require_defusedxml_refuses_an_openpyxl_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(errors.ReentryWorkbookError, match="defusedxml is required"):
        guard.require_defusedxml()


# --------------------------------------------------------------------------------------------------------------
# Workbook-level cases, built from the real template: they pass the guard and hold what they claim
# --------------------------------------------------------------------------------------------------------------


def _sheet_xml(path: Path, sheet_name: str) -> str:
    from bad_inputs import sheet_parts

    members = dict(zip_members(path.read_bytes()))
    return members[sheet_parts(members)[sheet_name]].decode("utf-8")


def _load(path: Path):  # -> openpyxl.Workbook
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def _steps_headers(path: Path) -> list[str]:
    ws = _load(path)[schema.sheet("steps").name]
    return [schema.normalise_header(c.value) for c in ws[schema.HEADER_ROW] if c.value is not None]


def _norm(sheet_key: str, column_key: str) -> str:
    return schema.normalise_header(schema.sheet(sheet_key).column(column_key).header)


def _check(name: str, path: Path) -> None:
    steps = schema.sheet("steps").name
    if name == "unrelated-template":
        assert not set(schema.REQUIRED_SHEETS) & set(_load(path).sheetnames)
    elif name == "missing-sheet":
        assert steps not in _load(path).sheetnames
    elif name == "header-deleted":
        assert _norm("steps", "id") not in _steps_headers(path)
    elif name == "header-renamed":
        headers = _steps_headers(path)
        assert _norm("steps", "id") not in headers and _norm("steps", "step") in headers
    elif name == "duplicate-headers":
        assert _steps_headers(path).count(_norm("steps", "status")) == 2
    elif name == "date-1904":
        workbook = _load(path)
        assert workbook.epoch.year == 1904
    elif name == "formulas-everywhere":
        ws = _load(path)[steps]
        row = [c for c in ws[schema.FIRST_DATA_ROW] if c.value is not None]
        assert row and all(c.data_type == "f" for c in row)
    elif name == "error-values":
        ws = _load(path)[steps]
        assert any(c.data_type == "e" for c in ws[schema.FIRST_DATA_ROW + 1])
    elif name == "merged-cells":
        assert len(_load(path)[steps].merged_cells.ranges) == 2
    elif name == "long-cell":
        members = dict(zip_members(path.read_bytes()))
        assert any("Housing desk notes. " * 2400 in data.decode("utf-8") for data in members.values())
    elif name == "blank-formatted-rows":
        assert _sheet_xml(path, steps).count("<row ") >= 100_000
    elif name == "strict-open-xml":
        members = dict(zip_members(path.read_bytes()))
        assert b'conformance="strict"' in members["xl/workbook.xml"]
        assert b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument" in members["_rels/.rels"]
    else:  # pragma: no cover - a new case needs a check here
        raise AssertionError(f"no check for {name}")


@pytest.mark.parametrize("name", TEMPLATE_CASES)
def test_template_case_passes_the_guard_and_holds_what_it_claims(
    name: str, template: Path, tmp_path: Path, inflated
) -> None:
    path = build_case(name, tmp_path, template)
    inflated.total = 0
    with guard.open_package(path) as zf:
        assert zf.namelist()
    assert inflated.total < 2**20, f"checking {name} inflated {inflated.total:,} bytes"
    _check(name, path)


def test_xlsm_built_on_the_template_passes(template: Path, tmp_path: Path) -> None:
    path = build_case("xlsm-macros", tmp_path, template)
    assert guard.sniff(path) == sniff.FORMAT_XLSM
    with guard.open_package(path) as zf:
        assert any(n.endswith("vbaProject.bin") for n in zf.namelist())


# --------------------------------------------------------------------------------------------------------------
# Files saved by a real spreadsheet app
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_files_saved_by_libreoffice(tmp_path: Path) -> None:
    import libreoffice

    src = tmp_path / "member.xlsx"
    src.write_bytes(minimal_xlsx())
    saved = libreoffice.convert(src, tmp_path / "xlsx")
    with guard.open_package(saved) as zf:
        assert zf.namelist()
    ods = libreoffice.convert(src, tmp_path / "ods", "ods")
    assert guard.sniff(ods) == sniff.FORMAT_ODS
    with pytest.raises(errors.NotAWorkbookError, match="OpenDocument") as caught:
        guard.open_package(ods)
    assert_one_sentence(str(caught.value), ods)
