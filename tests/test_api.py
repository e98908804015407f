"""The Python API (issue 13, item 4): docs/python.md runs, the functions do what the command line does, the
frames are typed and add up, and the package stays lean to import."""

from __future__ import annotations

import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from member_edits import Add, Delete, Set, edit_with_openpyxl, formula

import reentry_workbook
from reentry_workbook import api
from reentry_workbook.cli import cli
from reentry_workbook.errors import OutputError, UsageError
from reentry_workbook.plan import schema
from reentry_workbook.plan.model import FORMULA, Unknown
from reentry_workbook.workbook.example import EXAMPLE_AS_OF

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "python.md"
PACKAGE = ROOT / "reentry_workbook"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reentry_workbook.new_workbook(tmp_path_factory.mktemp("api") / "alder.xlsx", example=True)


def test_the_examples_in_docs_python_md_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for n, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/python.md block {n}", "exec"), namespace)
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == [
        "alder (reviewed).xlsx",
        "alder.xlsx",
        "birch.xlsx",
        "cedar.xlsx",
    ]


def test_docs_python_md_links_to_the_json_reference() -> None:
    assert "(json.md)" in DOC.read_text(encoding="utf-8")


def test_audit_plan_to_dict_is_what_audit_json_prints(example: Path) -> None:
    result = CliRunner().invoke(
        cli, ["audit", str(example), "--as-of", EXAMPLE_AS_OF.isoformat(), "--json", "--no-copy"]
    )
    printed = json.loads(result.output)
    report = reentry_workbook.audit_plan(example, as_of=EXAMPLE_AS_OF)
    ours = report.to_dict()
    for data in (printed, ours):  # the time each ran, in the summary and in this audit's history row
        data["summary"].pop("audited_at")
        data["history"][-1].pop("audited_at")
    assert ours == printed
    assert report.summary.as_of == EXAMPLE_AS_OF


def test_read_plan_then_new_workbook_round_trips_a_plan(example: Path, tmp_path: Path) -> None:
    plan = reentry_workbook.read_plan(str(example))  # a str path works as well as a Path
    plan.rows("steps")[0].values["notes"] = "=not a formula, member text"
    out = reentry_workbook.new_workbook(tmp_path / "changed.xlsx", plan, coalition={"jurisdiction": "Alder"})
    back = reentry_workbook.read_plan(out)
    assert back.coalition["jurisdiction"] == "Alder"
    assert back.coalition["name"] == plan.coalition["name"]
    for sheet in schema.SHEETS:
        assert [(r.id, r.values) for r in back.rows(sheet.key)] == [(r.id, r.values) for r in plan.rows(sheet.key)]


def test_new_workbook_never_overwrites_without_force_and_refuses_a_plan_with_example(
    example: Path, tmp_path: Path
) -> None:
    with pytest.raises(OutputError):
        reentry_workbook.new_workbook(example)
    blank = reentry_workbook.new_workbook(tmp_path / "blank.xlsx", rows=5)
    assert reentry_workbook.new_workbook(blank, rows=5, force=True) == blank
    assert reentry_workbook.read_plan(blank).rows("steps") == []
    with pytest.raises(UsageError):
        reentry_workbook.new_workbook(tmp_path / "x.xlsx", reentry_workbook.read_plan(example), example=True)


def test_to_frames_types_each_column_by_its_kind_and_indexes_by_id(example: Path, tmp_path: Path) -> None:
    edited = formula(example, tmp_path / "f.xlsx", "steps", "A-2", "due_date", "=H5+180")
    edited = edit_with_openpyxl(edited, tmp_path / "e.xlsx", [Set("steps", "A-3", "status", "Waiting on DMV")])
    plan = reentry_workbook.read_plan(edited)
    frames = plan.to_frames()
    assert list(frames) == [schema.COALITION_SHEET, *(s.name for s in schema.SHEETS)]
    expected = {
        schema.Kind.TEXT: "string",
        schema.Kind.LONG_TEXT: "string",
        schema.Kind.EMAIL: "string",
        schema.Kind.REF: "string",
        schema.Kind.DERIVED: "string",
        schema.Kind.CHOICE: "category",
        schema.Kind.DATE: "datetime64[ns]",
        schema.Kind.NUMBER: "Float64",
        schema.Kind.MONEY: "Float64",
    }
    for sheet in schema.SHEETS:
        frame = frames[sheet.name]
        assert len(frame) == len(plan.rows(sheet.key))
        columns = [c for c in sheet.columns if c.kind is not schema.Kind.ID]
        assert list(frame.columns) == [c.header for c in columns]
        assert {c.header: str(frame[c.header].dtype) for c in columns} == {c.header: expected[c.kind] for c in columns}
        if sheet.id_column is not None:
            assert frame.index.name == sheet.id_column.header
            assert list(frame.index) == [r.id for r in plan.rows(sheet.key)]
    steps = frames[schema.sheet("steps").name]
    header = schema.sheet("steps").column
    assert plan.rows("steps")[1].get("due_date") == Unknown(FORMULA, "H5+180")
    assert pd.isna(steps.loc["A-2", header("due_date").header]), "an unknown value is missing, not guessed"
    assert steps.loc["A-3", header("status").header] == "Waiting on DMV", "an invalid choice is kept"
    assert list(steps[header("status").header].cat.categories[: len(schema.CHOICES["status"])]) == list(
        schema.CHOICES["status"]
    )
    index = plan.index()
    goals = [None if (g := index.goal(r)) is None else g.id for r in plan.rows("steps")]
    assert [None if pd.isna(v) else v for v in steps[header("goal").header]] == goals
    coalition = frames[schema.COALITION_SHEET]
    assert len(coalition) == 1 and list(coalition.columns) == [f.label for f in schema.COALITION_FIELDS]


def test_collect_over_the_example_and_two_edited_copies_gives_rows_that_match_the_plans(
    example: Path, tmp_path: Path
) -> None:
    steps, improvements = schema.sheet("steps"), schema.sheet("improvements")
    more = edit_with_openpyxl(
        example,
        tmp_path / "more.xlsx",
        [Add("steps", {"step": "Call the DMV", "improvement": "I-1"}), Add("steps", {"step": "Book a room"})],
    )
    fewer = edit_with_openpyxl(
        example,
        tmp_path / "fewer.xlsx",
        [Delete("steps", "A-1"), Delete("improvements", "I-2")],
    )
    paths = [example, more, fewer]
    plans = [reentry_workbook.read_plan(p) for p in paths]
    frames = reentry_workbook.collect(paths)

    assert list(frames) == [schema.COALITION_SHEET, *(s.name for s in schema.SHEETS)]
    for sheet in schema.SHEETS:
        frame = frames[sheet.name]
        counts = frame.groupby(api.FILE_COLUMN, sort=False).size().reindex([p.name for p in paths], fill_value=0)
        assert list(counts) == [len(plan.rows(sheet.key)) for plan in plans], sheet.name
    base = len(plans[0].rows("steps"))
    assert [len(p.rows("steps")) for p in plans] == [base, base + 2, base - 1]
    assert len(plans[2].rows("improvements")) == len(plans[0].rows("improvements")) - 1
    step_frame = frames[steps.name]
    assert list(step_frame.columns[:3]) == [api.FILE_COLUMN, api.COALITION_COLUMN, steps.id_column.header]
    assert set(step_frame[api.COALITION_COLUMN]) == {plans[0].coalition["name"]}
    assert str(step_frame[steps.column("status").header].dtype) == "category"
    assert len(frames[schema.COALITION_SHEET]) == 3
    assert frames[improvements.name][improvements.id_column.header].isna().sum() == 0


def test_collect_needs_at_least_one_plan() -> None:
    with pytest.raises(UsageError):
        reentry_workbook.collect([])


def test_no_api_name_equals_a_module_or_subpackage_of_the_package() -> None:
    modules = {m.name for m in pkgutil.iter_modules([str(PACKAGE)])}
    assert not modules & set(reentry_workbook.__all__)
    for name in reentry_workbook.__all__:
        assert getattr(reentry_workbook, name) is not None
    assert set(reentry_workbook.__all__) <= set(dir(reentry_workbook))


def test_importing_a_subpackage_leaves_the_api_names_alone() -> None:
    import reentry_workbook.audit.pipeline

    assert reentry_workbook.audit_plan is api.audit_plan
    assert callable(reentry_workbook.read_plan)


def test_the_api_is_fully_type_hinted() -> None:
    for name in ("read_plan", "audit_plan", "new_workbook", "collect"):
        sig = inspect.signature(getattr(api, name))
        assert sig.return_annotation is not inspect.Signature.empty, name
        assert all(p.annotation is not inspect.Parameter.empty for p in sig.parameters.values()), name
    assert (PACKAGE / "py.typed").exists()
    setup = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert re.search(r"\[options\.package_data\]\s*\nreentry_workbook\s*=\s*py\.typed", setup)


PROBE = """
import sys, datetime as dt
import reentry_workbook as rw
rw.read_plan(sys.argv[1])
rw.audit_plan(sys.argv[1], as_of=dt.date(2027, 3, 1))
print("PANDAS:" + str("pandas" in sys.modules))
"""


def test_reading_and_auditing_through_the_api_never_import_pandas(example: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", PROBE, str(example)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "PANDAS:False"


def test_to_frames_of_an_empty_plan_has_every_column_and_no_row() -> None:
    frames = reentry_workbook.Plan().to_frames()
    steps = frames[schema.sheet("steps").name]
    assert len(steps) == 0 and str(steps[schema.sheet("steps").column("due_date").header].dtype) == "datetime64[ns]"
