"""The audited copy opens on the Alignment Summary: the active tab and the only selected one. The member's
sheets lose their tabSelected flag (a sheet selected beside the summary would put Excel in group-edit mode) and
nothing else; every other part of theirs stays byte-identical. Through the command line."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from bad_inputs import rezip, sheet_parts, zip_members
from click.testing import CliRunner
from fill import load

from reentry_workbook.cli import cli
from reentry_workbook.plan import schema
from reentry_workbook.workbook.example import EXAMPLE_AS_OF
from reentry_workbook.workbook.generate import new_workbook
from reentry_workbook.xlsx.package import parts_graft_may_change

STEPS = schema.sheet("steps").name
GOALS = schema.sheet("goals").name
SELECTED = re.compile(rb'\s+tabSelected="1"')


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


@pytest.fixture(scope="module")
def returned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as a member left it: Action Steps active, scrolled to the fourth tab, Goals and Action
    Steps both selected (grouped)."""
    folder = tmp_path_factory.mktemp("returned")
    example = new_workbook(folder / "example.xlsx", example=True)
    parts = dict(zip_members(example.read_bytes()))
    by_name = sheet_parts(parts)
    order = list(by_name)
    for name, part in by_name.items():
        text = SELECTED.sub(b"", parts[part])
        if name in (STEPS, GOALS):
            text = re.sub(rb"<sheetView ", b'<sheetView tabSelected="1" ', text, count=1)
        parts[part] = text
    workbook = parts["xl/workbook.xml"].decode()
    workbook = re.sub(r"<workbookView ", f'<workbookView activeTab="{order.index(STEPS)}" firstSheet="3" ', workbook)
    parts["xl/workbook.xml"] = workbook.encode()
    out = folder / "Maria.xlsx"
    out.write_bytes(rezip(parts.items()))
    assert load(out).active.title == STEPS
    return out


def test_the_audited_copy_opens_on_the_summary_alone(returned: Path, tmp_path: Path) -> None:
    out = tmp_path / "Maria.audited.xlsx"
    result = CliRunner().invoke(cli, ["audit", str(returned), "-o", str(out), "--as-of", EXAMPLE_AS_OF.isoformat()])
    assert result.exit_code in (0, 1), result.output

    book = load(out)
    assert book.active.title == schema.SUMMARY_SHEET
    selected = [ws.title for ws in book.worksheets if ws.sheet_view.tabSelected]
    assert selected == [schema.SUMMARY_SHEET], "another sheet is grouped with the summary"
    view = re.search(rb"<workbookView [^>]*>", members(out)["xl/workbook.xml"])[0]
    assert b'firstSheet="3"' not in view, "the summary's tab is scrolled out of view"


def test_removing_tab_selected_is_the_only_change_to_the_members_sheets(returned: Path, tmp_path: Path) -> None:
    out = tmp_path / "Maria.audited.xlsx"
    CliRunner().invoke(cli, ["audit", str(returned), "-o", str(out), "--as-of", EXAMPLE_AS_OF.isoformat()])
    before, after = members(returned), members(out)
    sheets = set(sheet_parts(before).values())
    bookkeeping = parts_graft_may_change(returned)
    for part, data in before.items():
        if part in bookkeeping:
            continue
        if part in sheets:
            assert after[part] == SELECTED.sub(b"", data), f"{part} changed beyond its tabSelected flag"
        else:
            assert after[part] == data, f"{part} changed"
    changed_sheets = {p for p in sheets if after[p] != before[p]}
    assert changed_sheets == {sheet_parts(before)[STEPS], sheet_parts(before)[GOALS]}


def test_re_auditing_the_audited_copy_still_opens_on_the_summary(returned: Path, tmp_path: Path) -> None:
    once = tmp_path / "once.xlsx"
    twice = tmp_path / "twice.xlsx"
    CliRunner().invoke(cli, ["audit", str(returned), "-o", str(once), "--as-of", EXAMPLE_AS_OF.isoformat()])
    CliRunner().invoke(cli, ["audit", str(once), "-o", str(twice), "--as-of", EXAMPLE_AS_OF.isoformat()])
    book = load(twice)
    assert book.sheetnames.count(schema.SUMMARY_SHEET) == 1
    assert book.active.title == schema.SUMMARY_SHEET
    assert [ws.title for ws in book.worksheets if ws.sheet_view.tabSelected] == [schema.SUMMARY_SHEET]
