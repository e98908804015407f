"""Everything the tool writes opens in Excel without a repair prompt, whatever wrote its input.

Excel cannot run here; ``openxml-audit`` (a pure-Python port of Microsoft's Open XML SDK validation rules)
judges the packages instead. Every workbook the tool writes -- a new template and the example, the audited
copy, the roll-up of a folder audit, the packets, the merged plan, the diff workbook and the upgraded plan --
from every kind of input (the template, the example, a member's decorated copy, every producer variant of
tests/producers.py and a LibreOffice-saved copy) must have no validator error, and no kind of warning its input
did not already have. Where the validator is wrong, ``ALLOWED`` says why, with the schema's word for it.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from decorate import decorate
from fill import Filler
from member_edits import load
from plans import add_goal, add_improvement, add_priority, add_step, clean_plan, empty_plan
from producers import PRODUCERS, STRICT_PRODUCERS, build_variant, extension

from reentry_workbook.cli import cli
from reentry_workbook.cycle.merge import merge
from reentry_workbook.plan import schema
from reentry_workbook.workbook.example import EXAMPLE_AS_OF
from reentry_workbook.workbook.generate import new_workbook, write_plan_workbook

openxml_audit = pytest.importorskip("openxml_audit")

AS_OF = EXAMPLE_AS_OF.isoformat()
RECORDS = (schema.HISTORY_SHEET, schema.MERGE_CONFLICTS_SHEET, schema.MERGE_LOG_SHEET)  # what an upgrade carries
PACKETS_CHECKED = 2  # packets validated per input (they are all written the same way)

# Validator findings that are wrong: (id, words of its message) -> why, in ECMA-376's words.
ALLOWED: dict[tuple[str, str], str] = {
    # LibreOffice writes no theme part, and the audited copy keeps the member's package as it is. ECMA-376
    # Part 1, 14.2.7 (Theme Part): "A WordprocessingML or SpreadsheetML package shall contain zero or one
    # Theme part": a workbook without one is valid (and Excel opens LibreOffice's files without a word).
    ("Sem_MissingRelationshipType", "relationships/theme'"): "a theme part is optional",
}

INPUTS = ["template", "example", "decorated", *(name for name in PRODUCERS if name not in STRICT_PRODUCERS)]


@functools.lru_cache(maxsize=64)
def _findings(path: Path, stamp: int) -> tuple[tuple[str, ...], frozenset[str]]:
    result = openxml_audit.OpenXmlValidator().validate(str(path))
    errors, warnings = [], set()
    for found in result.errors:
        text = str(getattr(found, "description", found))
        if any(found.id == rule and words in text for rule, words in ALLOWED):
            continue
        if found.severity == openxml_audit.ValidationSeverity.ERROR:
            errors.append(f"{found.id} in {found.part_uri}: {text}")
        elif found.severity == openxml_audit.ValidationSeverity.WARNING:
            warnings.add(found.id)
    return tuple(errors), frozenset(warnings)


def findings(path: Path) -> tuple[tuple[str, ...], frozenset[str]]:
    """(errors, as "id in part: text"; ids of the warnings) of the package at ``path``."""
    return _findings(path, path.stat().st_mtime_ns)


def assert_clean(output: Path, source: Path | None = None) -> None:
    errors, warnings = findings(output)
    assert errors == (), f"{output.name} would not open cleanly in Excel:\n" + "\n".join(errors)
    had = findings(source)[1] if source is not None else frozenset()
    assert warnings <= had, f"{output.name} has warnings its input had not: {sorted(warnings - had)}"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_workbook(tmp_path_factory.mktemp("example") / "plan.xlsx", example=True)


def make_input(kind: str, example: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "template":
        return new_workbook(folder / "template.xlsx")
    if kind == "example":
        return Path(shutil.copyfile(example, folder / "example.xlsx"))
    if kind == "decorated":
        decorate(example, folder / "decorated.xlsx")
        return folder / "decorated.xlsx"
    return build_variant(kind, example, folder)


def invoke(*args: str | Path) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code in (0, 1), f"{' '.join(map(str, args))}\n{result.output}"


def merge_into(src: Path, returned: Path, out_dir: Path) -> Path:
    """Merge ``returned`` into ``src``; the output carries the extension the merge's content calls for (a
    command refuses the wrong one in one line naming the right one)."""
    for suffix in (".xlsx", ".xlsm"):
        out = out_dir / f"merged{suffix}"
        result = CliRunner().invoke(cli, ["merge", str(src), str(returned), "-o", str(out)])
        if result.exit_code == 0:
            return out
        assert result.exit_code == 2 and "merged.xls" in result.stderr, result.output
    raise AssertionError("merge refused both .xlsx and .xlsm")


def test_a_new_template_and_the_example_open_cleanly(example: Path, tmp_path: Path) -> None:
    assert_clean(new_workbook(tmp_path / "blank.xlsx"))
    assert_clean(example)


@pytest.mark.parametrize("kind", INPUTS)
def test_every_workbook_written_from_an_input_opens_cleanly(kind: str, example: Path, tmp_path: Path) -> None:
    src = make_input(kind, example, tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    suffix = extension(kind) if kind in PRODUCERS else ".xlsx"

    audited = out / f"audited{suffix}"
    invoke("audit", src, "-o", audited, "--as-of", AS_OF)
    assert_clean(audited, src)

    if kind != "template":  # a blank template has no steps to send
        invoke("packets", src, "-o", out / "packets")
        packets = sorted((out / "packets").iterdir())
        assert packets
        for packet in packets[:PACKETS_CHECKED]:
            assert_clean(packet)

    assert_clean(merge_into(src, example, out), src)

    invoke("diff", example, src, "-o", out / "changes.xlsx", "--as-of", AS_OF)
    assert_clean(out / "changes.xlsx")

    invoke("upgrade", src, "-o", out / "upgraded.xlsx")
    assert_clean(out / "upgraded.xlsx")


def test_an_upgrade_carrying_the_audit_history_and_the_merge_sheets_opens_cleanly(
    example: Path, tmp_path: Path
) -> None:
    audited = tmp_path / "audited.xlsx"
    invoke("audit", example, "-o", audited, "--as-of", AS_OF)
    merged = merge_into(audited, example, tmp_path)
    invoke("upgrade", merged, "-o", tmp_path / "upgraded.xlsx")
    assert sum(name in load(tmp_path / "upgraded.xlsx").sheetnames for name in RECORDS) == len(RECORDS)
    assert_clean(tmp_path / "upgraded.xlsx")


def test_the_roll_up_of_a_folder_opens_cleanly(example: Path, tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    for kind in ("example", "google-sheets", "xlsm"):
        make_input(kind, example, folder)
    (folder / "broken.xlsx").write_bytes(b"not a workbook")
    result = CliRunner().invoke(cli, ["audit", str(folder), "-o", str(tmp_path / "out"), "--as-of", AS_OF, "--json"])
    rows = json.loads(result.stdout)["files"]
    assert len(rows) == 4
    assert_clean(tmp_path / "out" / "rollup.xlsx")


@pytest.mark.libreoffice
def test_the_audited_copy_of_a_libreoffice_saved_plan_opens_cleanly(example: Path, tmp_path: Path) -> None:
    libreoffice = pytest.importorskip("libreoffice")
    if not libreoffice.available():
        pytest.skip("LibreOffice is not installed")
    saved = libreoffice.convert(example, tmp_path / "saved", "xlsx")
    audited = tmp_path / "audited.xlsx"
    invoke("audit", saved, "-o", audited, "--as-of", AS_OF)
    assert_clean(audited, saved)
    assert_clean(merge_into(saved, example, tmp_path), saved)


def test_the_validator_catches_a_broken_package(example: Path, tmp_path: Path) -> None:
    """The check is not vacuous: a package Excel would repair fails it."""
    import zipfile

    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(example) as src, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"<sheets>", b"<sheets><bogus/>", 1)
            dst.writestr(info, data)
    with pytest.raises(AssertionError, match="would not open cleanly"):
        assert_clean(broken)


def test_a_merged_master_with_rows_appended_past_the_pre_formatted_ones_opens_cleanly(tmp_path: Path) -> None:
    """Rows appended below the last pre-formatted row grow the Lists sheet's formulas, the defined names over them,
    the validations and the dimension: the parts where a slip gives Excel's repair prompt."""
    master = write_plan_workbook(tmp_path / "master.xlsx", clean_plan(), rows=6)
    copy = Filler(master)
    for n in range(4):  # Improvements has two blank rows, Action Steps one
        copy.add_row("improvements", {"goal": "G-1", "improvement": f"Fund {n}"})
        copy.add_row("steps", {"improvement": "I-1", "step": f"Step {n}"})
    copy.save(tmp_path / "copy.xlsx")
    result = merge(master, [tmp_path / "copy.xlsx"], tmp_path / "merged.xlsx")
    assert result.added == 8
    last_formatted = schema.FIRST_DATA_ROW + 5
    assert max(r.row for r in result.plan.rows("improvements")) == last_formatted + 2  # two rows appended
    assert_clean(result.output, master)


def test_a_packet_listing_only_the_steps_that_fit_opens_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member with thousands of steps gets a packet whose sheet lists those that fit in a cell, then how many more
    (test_packets.py); here a cell "holds" 400 characters, so that a few dozen steps take that path."""
    from reentry_workbook.cycle import packets

    monkeypatch.setattr(packets, "MAX_CELL_TEXT", 400)
    plan = clean_plan()
    for i in range(6, 80):
        add_step(plan, f"A-{i}", "I-1", f"Step {i}")
    master = write_plan_workbook(tmp_path / "big.xlsx", plan)
    invoke("packets", master, "-o", tmp_path / "packets")
    biggest = max((tmp_path / "packets").iterdir(), key=lambda p: p.stat().st_size)
    book = load(biggest)
    try:
        listed = [c.value for row in book[schema.PACKET_SHEET].iter_rows() for c in row if isinstance(c.value, str)]
    finally:
        book.close()
    assert any(" more (every row of the " in text for text in listed)
    assert_clean(biggest)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(master, its audited copy, a merge of one return into it) of a plan whose summary and Action Steps sheets
    are "large": they are deflated in pieces, checked in the background, and the merge edits its sheet piece by
    piece; the goal table and chart are past the chart's 40 goals. (A megabyte is large; here a few kilobytes are,
    so that the validator's run stays short.)"""
    from reentry_workbook.xlsx import deflate, zip_io

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deflate, "PIECE", 1 << 14)
        patch.setattr(zip_io, "PIECE", 1 << 14)
        patch.setattr(zip_io, "_KEEP_BYTES", 1 << 14)
        return _large(tmp_path_factory.mktemp("large"))


def _large(folder: Path) -> tuple[Path, Path, Path]:
    plan = empty_plan()
    add_priority(plan, "P-1", "Housing")
    for g in range(1, 61):
        add_goal(plan, f"G-{g}", "P-1", f"Goal {g}: house people at release")
        add_improvement(plan, f"I-{g}", f"G-{g}", f"Improvement {g}")
    for n in range(1, 301):  # each overdue and without anyone responsible: two findings per step
        add_step(plan, f"A-{n}", f"I-{n % 60 + 1}", f"Step {n}: draft the memorandum", due_date=EXAMPLE_AS_OF.replace(
            year=EXAMPLE_AS_OF.year - 1), responsible=None)
    master = write_plan_workbook(folder / "master.xlsx", plan)
    audited = folder / "audited.xlsx"
    invoke("audit", master, "-o", audited, "--as-of", AS_OF)
    copy = Filler(master)
    copy.set("steps", "A-7", "step", "Step 7: memorandum signed")
    copy.save(folder / "return.xlsx")
    merged = merge(master, [folder / "return.xlsx"], folder / "merged.xlsx").output
    return master, audited, merged


def test_a_large_plan_s_audited_copy_and_merged_master_open_cleanly(large: tuple[Path, Path, Path]) -> None:
    import zipfile

    master, audited, merged = large
    for path, sheet in ((audited, schema.SUMMARY_SHEET), (merged, schema.sheet("steps").name)):
        with zipfile.ZipFile(path) as zf:
            sizes = {i.filename: i.file_size for i in zf.infolist()}
            assert zf.testzip() is None
        part = _sheet_part(path, sheet)
        assert sizes[part] > 3 * (1 << 14), f"{sheet} is not large enough to be deflated in pieces"
    assert_clean(audited, master)
    assert_clean(merged, master)


@pytest.mark.libreoffice
def test_libreoffice_opens_a_large_plan_s_audited_copy(large: tuple[Path, Path, Path], tmp_path: Path) -> None:
    libreoffice = pytest.importorskip("libreoffice")
    if not libreoffice.available():
        pytest.skip("LibreOffice is not installed")
    import openpyxl

    _master, audited, _merged = large
    saved = libreoffice.convert(audited, tmp_path / "saved", "xlsx")  # opened, then saved again by the real app

    def summary(path: Path) -> list[tuple[object, ...]]:
        sheet = openpyxl.load_workbook(path)[schema.SUMMARY_SHEET]
        return [row[:7] for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row[:7])]

    ours, theirs = summary(audited), summary(saved)
    assert len(ours) > 600 and [r[0] for r in theirs] == [r[0] for r in ours]  # every goal and finding, in place
    assert sum(1 for r in theirs if str(r[0]).startswith("G-")) == 60


def _sheet_part(path: Path, name: str) -> str:
    from reentry_workbook.xlsx import guard
    from reentry_workbook.xlsx.cells import open_workbook

    with guard.open_package(path) as zf:
        ref = open_workbook(zf).sheet(name)
        assert ref is not None
        return ref.part

