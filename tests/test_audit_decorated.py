"""A workbook a member decorated goes through ``reentry-workbook audit`` and loses nothing.

The bundled example is generated, then decorated the way a member might (``decorate.py``): a sheet of their
own with a picture, a text box, a note and a threaded comment (with its persons part), an Excel 2010+
extended validation and data bar, plus a defined name and a custom document property. The audit runs through
the command line. Every part of the member's package comes out byte-identical (uncompressed bytes), except
the few ``package.parts_graft_may_change`` names; the input keeps its bytes and modification time; the
Alignment Summary is the first sheet; and auditing the audited copy again keeps a single summary.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from decorate import MEMBER_NAME, MEMBER_PROPERTY, MEMBER_PROPERTY_VALUE, MEMBER_SHEET, decorate

from reentry_workbook.audit.pipeline import audit_plan
from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.plan import schema
from reentry_workbook.workbook.example import EXAMPLE_AS_OF
from reentry_workbook.workbook.generate import new_workbook
from reentry_workbook.xlsx import package

AS_OF = EXAMPLE_AS_OF.isoformat()
FILE_NAME = "Plan v3 FINAL (Maria).xlsx"
AUDITED_NAME = "Plan v3 FINAL (Maria).audited.xlsx"


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def parts(path: Path) -> dict[str, bytes]:
    """Every zip member's uncompressed bytes."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def stamp(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture
def decorated(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    example = new_workbook(tmp_path / "example.xlsx", example=True)
    out = tmp_path / "returned" / FILE_NAME
    out.parent.mkdir()
    return out, decorate(example, out)


def assert_member_parts_kept(src: Path, out: Path) -> None:
    """Every part of ``src`` is in ``out`` under its name, byte-identical unless the graft may change it."""
    before, after = parts(src), parts(out)
    may_change = package.parts_graft_may_change(src, activate=True)
    missing = sorted(set(before) - set(after))
    assert missing == [], f"parts lost: {missing}"
    changed = sorted(n for n in before if n not in may_change and after[n] != before[n])
    assert changed == [], f"parts changed: {changed}"


def test_the_decoration_is_there_to_be_kept(decorated: tuple[Path, dict[str, str]]) -> None:
    src, decorations = decorated
    names = parts(src)
    for what, part in decorations.items():
        assert part in names, what
    assert MEMBER_SHEET in package.sheet_names(src)
    workbook = names[decorations["workbook"]].decode()
    assert MEMBER_NAME in workbook
    custom = names[decorations["custom_properties"]].decode()
    assert MEMBER_PROPERTY in custom and MEMBER_PROPERTY_VALUE in custom
    # The plan's own identity properties live in the same part as the member's.
    assert schema.PROP_FINGERPRINT in custom


def test_audit_keeps_every_decorated_part_byte_identical(decorated: tuple[Path, dict[str, str]]) -> None:
    src, decorations = decorated
    before_stamp = stamp(src)
    before = parts(src)
    may_change = package.parts_graft_may_change(src, activate=True)

    result = run("audit", src, "--as-of", AS_OF, "--fail-on", "never")

    assert result.exit_code == 0, result.output
    out = src.with_name(AUDITED_NAME)
    assert out.is_file()
    assert stamp(src) == before_stamp, "the input file was touched"
    after = parts(out)
    for what, part in decorations.items():
        if part in may_change:
            continue
        assert after[part] == before[part], f"the member's {what} ({part}) changed"
    # Only the documented parts may differ; here they are exactly the package's bookkeeping.
    assert {decorations["workbook"]} <= may_change
    assert decorations["custom_properties"] not in may_change
    assert_member_parts_kept(src, out)
    # What the workbook part holds of the member's survives its edit: their defined name and their sheet.
    assert f'name="{MEMBER_NAME}"' in after[decorations["workbook"]].decode()
    names = package.sheet_names(out)
    assert names[0] == schema.SUMMARY_SHEET
    assert names[1:] == [*package.sheet_names(src), schema.HISTORY_SHEET]


def test_the_audited_copy_reads_back_as_the_same_plan(decorated: tuple[Path, dict[str, str]]) -> None:
    src, _ = decorated
    assert run("audit", src, "--as-of", AS_OF, "--fail-on", "never").exit_code == 0
    out = src.with_name(AUDITED_NAME)
    original, audited = read_plan(src), read_plan(out)
    assert audited.plan.records == original.plan.records
    assert audited.plan.coalition == original.plan.coalition
    assert audited.findings == original.findings


def test_json_report_of_the_decorated_workbook_is_the_library_s(decorated: tuple[Path, dict[str, str]]) -> None:
    src, _ = decorated
    result = run("audit", src, "--as-of", AS_OF, "--json", "--fail-on", "never", "--no-copy")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    library = audit_plan(src, as_of=EXAMPLE_AS_OF).to_dict()
    for data in (shown, library):  # the time each ran, in the summary and in this audit's history row
        data["summary"].pop("audited_at")
        data["history"][-1].pop("audited_at")
    assert shown == json.loads(json.dumps(library, default=str))
    assert not src.with_name(AUDITED_NAME).exists(), "--no-copy writes nothing"


def test_re_auditing_the_audited_copy_keeps_one_summary(decorated: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    src, decorations = decorated
    assert run("audit", src, "--as-of", AS_OF, "--fail-on", "never").exit_code == 0
    once = src.with_name(AUDITED_NAME)
    once_stamp = stamp(once)
    twice = tmp_path / "twice.xlsx"

    result = run("audit", once, "-o", twice, "--as-of", AS_OF, "--fail-on", "never")

    assert result.exit_code == 0, result.output
    assert stamp(once) == once_stamp, "the audited copy, now an input, was touched"
    names = package.sheet_names(twice)
    assert names.count(schema.SUMMARY_SHEET) == 1
    assert names == package.sheet_names(once)
    assert_member_parts_kept(src, twice)
    before, after = parts(src), parts(twice)
    for what, part in decorations.items():
        if part not in package.parts_graft_may_change(src, activate=True):
            assert after[part] == before[part], f"the member's {what} ({part}) changed on the second audit"
    # The second audit replaced the first summary (its parts may take new names): the package did not grow.
    assert len(after) == len(parts(once))


def test_in_place_keeps_the_decorated_original_as_a_backup(decorated: tuple[Path, dict[str, str]]) -> None:
    src, decorations = decorated
    original = src.read_bytes()
    before = parts(src)

    result = run("audit", src, "--in-place", "--as-of", AS_OF, "--fail-on", "never")

    assert result.exit_code == 0, result.output
    backup = src.with_name("Plan v3 FINAL (Maria).backup.xlsx")
    assert backup.read_bytes() == original
    assert package.sheet_names(src)[0] == schema.SUMMARY_SHEET
    after = parts(src)
    for what, part in decorations.items():
        if part not in package.parts_graft_may_change(backup, activate=True):
            assert after[part] == before[part], f"the member's {what} ({part}) changed in place"
