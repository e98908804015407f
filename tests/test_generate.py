"""The generator: `reentry-workbook new` writes the workbook the brief describes, and it survives LibreOffice."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path

import libreoffice
import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from reentry_workbook.cli import cli
from reentry_workbook.errors import OutputError, UsageError
from reentry_workbook.plan import catalogue, schema
from reentry_workbook.plan.model import Plan, Record
from reentry_workbook.plan.schema import Kind
from reentry_workbook.workbook.example import EXAMPLE_AS_OF, EXAMPLE_GAPS, example_plan
from reentry_workbook.workbook.generate import new_workbook, write_plan_workbook

FIRST = schema.FIRST_DATA_ROW
ROWS = schema.DEFAULT_ROWS
STEPS = schema.sheet("steps")
GOALS = schema.sheet("goals")


def load(path: Path, **kwargs: bool) -> Workbook:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        book = openpyxl.load_workbook(path, **kwargs)
    assert [str(w.message) for w in caught] == []
    return book


@pytest.fixture(scope="module")
def blank_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_workbook(tmp_path_factory.mktemp("blank") / "plan.xlsx")


@pytest.fixture(scope="module")
def example_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_workbook(tmp_path_factory.mktemp("example") / "example.xlsx", example=True)


@pytest.fixture(scope="module")
def blank(blank_path: Path) -> Workbook:
    return load(blank_path)


@pytest.fixture(scope="module")
def example(example_path: Path) -> Workbook:
    return load(example_path)


@pytest.fixture(scope="module")
def example_values(example_path: Path) -> Workbook:
    return load(example_path, data_only=True)


def validation_at(ws: Worksheet, cell: str) -> DataValidation | None:
    found = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
    assert len(found) <= 1, f"{ws.title}!{cell} has {len(found)} validations"
    return found[0] if found else None


def column_letter(sheet: schema.Sheet, key: str) -> str:
    return get_column_letter([c.key for c in sheet.columns].index(key) + 1)


def cells(sheet: schema.Sheet, key: str, rows: int = ROWS) -> Iterator[str]:
    letter = column_letter(sheet, key)
    return (f"{letter}{r}" for r in range(FIRST, FIRST + rows))


def list_source(sheet: schema.Sheet, col: schema.Column) -> str | None:
    if col.kind is Kind.CHOICE and col.choices:
        return schema.choice_list_name(col.choices)
    if col.kind is Kind.REF and col.ref:
        return schema.reference_list_name(col.ref)
    if col.suggest:
        return schema.suggest_list_name(col.suggest)
    return None


def range_values(book: Workbook, name: str) -> list[object]:
    [(sheet_name, ref)] = list(book.defined_names[name].destinations)
    assert sheet_name == schema.LISTS_SHEET
    return [c.value for row in book[sheet_name][ref.replace("$", "")] for c in row]


# --- layout -----------------------------------------------------------------------------------------


def test_sheets_and_headers_follow_the_declaration(blank: Workbook) -> None:
    assert tuple(blank.sheetnames) == schema.SHEET_ORDER
    for sh in schema.SHEETS:
        ws = blank[sh.name]
        assert [c.value for c in ws[schema.HEADER_ROW]] == [c.header for c in sh.columns]
    coalition = blank[schema.COALITION_SHEET]
    assert [c.value for c in coalition[schema.HEADER_ROW]] == [
        schema.COALITION_LABEL_HEADER,
        schema.COALITION_VALUE_HEADER,
    ]
    labels = [coalition.cell(FIRST + i, 1).value for i in range(len(schema.COALITION_FIELDS))]
    assert labels == [f.label for f in schema.COALITION_FIELDS]
    assert blank[schema.LISTS_SHEET].sheet_state == "hidden"
    assert blank.active.title == schema.START_SHEET


def test_every_prepared_row_carries_its_id_as_text(blank: Workbook) -> None:
    for sh in schema.SHEETS:
        if sh.id_column is None:
            continue
        ids = [blank[sh.name][cell].value for cell in cells(sh, sh.id_column.key)]
        assert ids == [f"{sh.id_prefix}-{n}" for n in range(1, ROWS + 1)]
        assert blank[sh.name].max_row == FIRST + ROWS - 1


def test_start_here_explains_the_plan_and_names_the_template(blank: Workbook) -> None:
    text = "\n".join(str(c.value) for row in blank[schema.START_SHEET].iter_rows() for c in row if c.value)
    for sh in schema.SHEETS:
        assert sh.name in text and sh.help in text
        for col in sh.columns:
            assert col.help in text
    assert f"{STEPS.id_prefix}-{ROWS + 1}" in text  # how to add a row beyond the prepared ones
    assert schema.TEMPLATE_VERSION in text and schema.fingerprint() in text
    for fill in ("Blank required cell", "Overdue step", "Context row"):
        assert fill in text


# --- validations ------------------------------------------------------------------------------------


def test_choice_reference_and_date_columns_are_validated_on_every_prepared_row(blank: Workbook) -> None:
    checked = 0
    for sh in schema.SHEETS:
        ws = blank[sh.name]
        for col in sh.columns:
            source = list_source(sh, col)
            for cell in cells(sh, col.key):
                dv = validation_at(ws, cell)
                assert dv is not None and dv.showInputMessage, f"{sh.name}!{cell} explains nothing"
                assert dv.promptTitle == col.header and dv.prompt
                if source:
                    assert (dv.type, dv.formula1) == ("list", source), f"{sh.name}!{cell}"
                elif col.kind is Kind.DATE:
                    assert dv.type == "date", f"{sh.name}!{cell}"
                    assert ws[cell].number_format == "yyyy-mm-dd"
                checked += 1
    assert checked == ROWS * sum(len(sh.columns) for sh in schema.SHEETS)


def test_coalition_values_are_validated_by_kind(blank: Workbook) -> None:
    ws = blank[schema.COALITION_SHEET]
    for i, fld in enumerate(schema.COALITION_FIELDS):
        dv = validation_at(ws, f"B{FIRST + i}")
        assert dv is not None and dv.prompt and dv.promptTitle == fld.label
        if fld.kind is Kind.DATE:
            assert dv.type == "date"
        if fld.kind is Kind.CHOICE and fld.choices:
            assert (dv.type, dv.formula1) == ("list", schema.choice_list_name(fld.choices))


def test_every_list_validation_is_a_defined_name_on_the_hidden_lists_sheet(blank: Workbook) -> None:
    sources = {dv.formula1 for ws in blank.worksheets for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert sources, "no dropdowns at all"
    for source in sources:
        assert source in blank.defined_names, f"{source} is not a workbook-level name (no inline lists)"
        assert "!" not in source and '"' not in source and "INDIRECT" not in source.upper()
        assert range_values(blank, source), f"{source} is empty"
    for key, values in schema.CHOICES.items():
        assert range_values(blank, schema.choice_list_name(key)) == list(values)


def test_reference_dropdowns_offer_id_and_text_of_parent_rows_including_later_ones(
    example: Workbook, example_values: Workbook
) -> None:
    labels = range_values(example_values, schema.reference_list_name("goals"))
    assert len(labels) == ROWS
    goals = example_plan().rows("goals")
    assert labels[: len(goals)] == [f"{g.id}{schema.ID_SEPARATOR}{g.get('goal')}" for g in goals]
    assert set(labels[len(goals) :]) <= {None, ""}
    formulas = range_values(example, schema.reference_list_name("goals"))
    assert all(str(f).startswith("=") and GOALS.name in str(f) for f in formulas)  # later rows show up too


def test_references_are_written_as_dropdown_labels_and_the_goal_is_derived(
    example: Workbook, example_values: Workbook
) -> None:
    plan = example_plan()
    improvements = plan.by_id("improvements")
    goal_label = {g.id: f"{g.id}{schema.ID_SEPARATOR}{g.get('goal')}" for g in plan.rows("goals")}
    step_labels = set(range_values(example_values, schema.reference_list_name("improvements")))
    ws, values = example[STEPS.name], example_values[STEPS.name]
    for r, step in enumerate(plan.rows("steps"), start=FIRST):
        chosen = ws[f"{column_letter(STEPS, 'improvement')}{r}"].value
        assert chosen in step_labels and chosen.startswith(f"{step.get('improvement')}{schema.ID_SEPARATOR}")
        goal_cell = f"{column_letter(STEPS, 'goal')}{r}"
        assert str(ws[goal_cell].value).startswith("=")
        assert values[goal_cell].value == goal_label[improvements[step.get("improvement")].get("goal")]


# --- look, highlights, identity ---------------------------------------------------------------------


def test_sheets_freeze_headers_and_print_one_page_wide(blank: Workbook) -> None:
    for sh in schema.SHEETS:
        ws = blank[sh.name]
        assert ws.freeze_panes == f"B{FIRST}"
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0  # 1 wide, as tall as needed
        assert ws.print_title_rows.replace("$", "") == f"{schema.HEADER_ROW}:{schema.HEADER_ROW}"
        assert "&A" in ws.oddFooter.left.text and "&P" in ws.oddFooter.right.text
        for i, col in enumerate(sh.columns, start=1):
            assert ws.column_dimensions[get_column_letter(i)].width == pytest.approx(col.width, abs=1)


def test_blank_required_cells_and_overdue_steps_are_highlighted(blank: Workbook) -> None:
    for sh in schema.SHEETS:
        rules = {
            str(rng): [r.formula[0] for r in rs] for rng, rs in blank[sh.name].conditional_formatting._cf_rules.items()
        }
        for col in sh.columns:
            if col.required and col.kind not in (Kind.ID, Kind.DERIVED):
                letter = column_letter(sh, col.key)
                key = f"<ConditionalFormatting {letter}{FIRST}:{letter}{FIRST + ROWS - 1}>"
                assert any(f'${letter}{FIRST}=""' in f for f in rules[key])
    steps_rules = [r.formula[0] for rs in blank[STEPS.name].conditional_formatting._cf_rules.values() for r in rs]
    overdue = [f for f in steps_rules if "TODAY()" in f]
    assert len(overdue) == 1
    assert all(f'"{status}"' in overdue[0] for status in schema.CLOSED_STATUSES)
    assert f"${column_letter(STEPS, 'due_date')}{FIRST}" in overdue[0]


def test_custom_properties_name_the_template(blank: Workbook) -> None:
    props = {p.name: p.value for p in blank.custom_doc_props.props}
    assert props[schema.PROP_TEMPLATE] == schema.TEMPLATE_NAME
    assert props[schema.PROP_VERSION] == schema.TEMPLATE_VERSION
    assert props[schema.PROP_FINGERPRINT] == schema.fingerprint()


def test_same_command_gives_identical_bytes(tmp_path: Path, blank_path: Path, example_path: Path) -> None:
    assert new_workbook(tmp_path / "again.xlsx").read_bytes() == blank_path.read_bytes()
    assert new_workbook(tmp_path / "ex.xlsx", example=True).read_bytes() == example_path.read_bytes()
    later = new_workbook(tmp_path / "later.xlsx", created=dt.datetime(2030, 5, 1, 9, 30))
    assert later.read_bytes() != blank_path.read_bytes()
    assert load(later).properties.created == dt.datetime(2030, 5, 1, 9, 30)


# --- options ----------------------------------------------------------------------------------------


def test_rows_sets_the_prepared_rows_of_every_sheet(tmp_path: Path) -> None:
    book = load(new_workbook(tmp_path / "small.xlsx", rows=7))
    for sh in schema.SHEETS:
        ws = book[sh.name]
        if sh.id_column is not None:
            assert ws[f"A{FIRST + 6}"].value == f"{sh.id_prefix}-7" and ws[f"A{FIRST + 7}"].value is None
        for col in sh.columns:
            assert validation_at(ws, f"{column_letter(sh, col.key)}{FIRST + 6}") is not None
            assert validation_at(ws, f"{column_letter(sh, col.key)}{FIRST + 7}") is None
    assert len(range_values(book, schema.reference_list_name("goals"))) == 7


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "plan.xlsx"
    out.write_bytes(b"someone's work")
    with pytest.raises(OutputError, match="--force"):
        new_workbook(out)
    assert out.read_bytes() == b"someone's work"
    new_workbook(out, force=True)
    assert load(out).sheetnames[0] == schema.START_SHEET


def test_coalition_fields_fill_the_coalition_sheet(tmp_path: Path) -> None:
    fields = {"name": "Test Coalition", "plan_start": dt.date(2027, 1, 1), "plan_end": dt.date(2029, 12, 31)}
    ws = load(new_workbook(tmp_path / "c.xlsx", coalition=fields))[schema.COALITION_SHEET]
    got = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(FIRST, FIRST + len(schema.COALITION_FIELDS))}
    assert got[schema.coalition_field("name").label] == "Test Coalition"
    assert got[schema.coalition_field("plan_start").label] == dt.datetime(2027, 1, 1)
    assert got[schema.coalition_field("jurisdiction").label] is None
    with pytest.raises(UsageError, match="not a Coalition field"):
        new_workbook(tmp_path / "d.xlsx", coalition={"colour": "blue"})


def test_member_text_is_written_as_text_never_as_a_formula(tmp_path: Path) -> None:
    plan = Plan()
    plan.rows("steps").append(Record("steps", "A-1", {"step": '=HYPERLINK("http://x")', "notes": "+1-555"}))
    ws = load(write_plan_workbook(tmp_path / "t.xlsx", plan))[STEPS.name]
    for key in ("step", "notes"):
        cell = ws[f"{column_letter(STEPS, key)}{FIRST}"]
        assert cell.data_type == "s"
    assert ws[f"{column_letter(STEPS, 'step')}{FIRST}"].value.startswith("=HYPERLINK")


def test_plan_rows_get_spare_rows_after_them(tmp_path: Path) -> None:
    plan = Plan()
    plan.rows("steps").extend(Record("steps", f"A-{n}", {"step": f"Step {n}"}) for n in range(1, ROWS + 6))
    book = load(write_plan_workbook(tmp_path / "big.xlsx", plan))
    last = FIRST + ROWS + 5 + 50 - 1
    assert book[STEPS.name][f"A{last}"].value == f"A-{ROWS + 5 + 50}"
    assert book[GOALS.name][f"A{last}"].value == f"G-{ROWS + 55}"


def test_context_rows_are_grey_and_marked_do_not_edit(tmp_path: Path) -> None:
    added: list[str] = []

    def extra(book: object, fm: object) -> None:
        ws = book.add_worksheet("Extra")  # type: ignore[attr-defined]
        ws.write_string(0, 0, "extra", fm.header)  # type: ignore[attr-defined]
        added.append("Extra")

    path = write_plan_workbook(
        tmp_path / "packet.xlsx", example_plan(), context_rows={"goals": ["G-2"]}, extra_sheets=extra
    )
    book = load(path)
    assert added and book.sheetnames.index("Extra") == book.sheetnames.index(schema.LISTS_SHEET) - 1
    ws = book[GOALS.name]
    grey, own = ws[f"C{FIRST + 1}"], ws[f"C{FIRST}"]
    assert ws[f"A{FIRST + 1}"].value == "G-2"
    assert grey.fill.fgColor.rgb.endswith("D9D9D9") and not own.fill.fgColor.rgb.endswith("D9D9D9")
    assert "do not edit" in ws[f"A{FIRST + 1}"].comment.text and ws[f"A{FIRST}"].comment is None
    start = " ".join(str(c.value) for row in book[schema.START_SHEET].iter_rows() for c in row if c.value)
    assert f"Grey rows on {GOALS.name}" in start


# --- the example ------------------------------------------------------------------------------------


def test_example_has_the_promised_size_and_a_filled_coalition() -> None:
    plan = example_plan()
    sizes = {key: len(plan.rows(key)) for key in schema.SHEETS_BY_KEY}
    assert sizes["priorities"] == 3 and sizes["goals"] >= 5
    assert (sizes["improvements"], sizes["measures"], sizes["steps"]) == (10, 10, 30)
    assert 10 <= sizes["stakeholders"] <= 15
    assert all(plan.coalition.get(f.key) not in (None, "") for f in schema.COALITION_FIELDS)


def test_example_gaps_are_distinct_rules_naming_rows_that_exist() -> None:
    plan = example_plan()
    assert 6 <= len(EXAMPLE_GAPS) <= 10
    assert len({rule for rule, _ in EXAMPLE_GAPS}) == len(EXAMPLE_GAPS)
    ids = {rec.id for sh in schema.SHEETS for rec in plan.rows(sh.key)}
    for rule, where in EXAMPLE_GAPS:
        assert rule in catalogue.RULES_BY_SLUG
        assert where in ids or where in schema.SHEET_ORDER


def test_example_is_clean_apart_from_its_listed_gaps() -> None:
    """A plain reading of the brief's rules over the example: each rule fires only on its listed row."""
    plan, as_of = example_plan(), EXAMPLE_AS_OF
    listed = dict(EXAMPLE_GAPS)
    every_gap = set(listed.values())

    def gap(rule: str, row_id: str | None) -> bool:
        return listed.get(rule) == row_id

    start, end = plan.coalition["plan_start"], plan.coalition["plan_end"]
    days = schema.FREQUENCY_DAYS
    assert (as_of - plan.coalition["last_reviewed"]).days <= days[plan.coalition["review_cadence"]]
    children: dict[str, set[str]] = {}
    for sh in schema.SHEETS:
        ids = [rec.id for rec in plan.rows(sh.key) if sh.id_prefix]
        assert len(ids) == len(set(ids))
        for rec in plan.rows(sh.key):
            for col in sh.columns:
                value = rec.get(col.key)
                if col.choices and value is not None:
                    assert value in schema.CHOICES[col.choices], f"{rec.id} {col.key}={value!r}"
                if col.ref:
                    assert value in plan.by_id(col.ref), f"{rec.id} names {value!r}"
                    children.setdefault(f"{sh.key}>{value}", set()).add(rec.id or "")
                if col.required and col.kind is not Kind.ID and rec.id not in every_gap:
                    assert value not in (None, ""), f"{rec.id} lacks {col.key}"
                if isinstance(value, dt.date) and col.key not in ("last_updated", "latest_as_of"):
                    assert start <= value <= end, f"{rec.id} {col.key} is outside the plan period"
    for priority in plan.rows("priorities"):
        assert children.get(f"goals>{priority.id}")
    for goal in plan.rows("goals"):
        assert bool(children.get(f"improvements>{goal.id}")) is not gap("goal-without-improvement", goal.id)
    for imp in plan.rows("improvements"):
        assert children.get(f"steps>{imp.id}")
        assert bool(children.get(f"measures>{imp.id}")) is not gap("improvement-without-measure", imp.id)
        unsecured = imp.get("resources_needed") and imp.get("resources_secured") in (None, schema.RESOURCES_SECURED_NO)
        assert bool(unsecured) is gap("resources-unsecured", imp.id)
    for measure in plan.rows("measures"):
        assert bool(measure.get("baseline")) is not gap("measure-without-baseline", measure.id)
        assert 0 <= (as_of - measure.get("latest_as_of")).days <= days[measure.get("reporting_frequency")]
    for step in plan.rows("steps"):
        due, status = step.get("due_date"), step.get("status")
        assert (due is None) is gap("step-without-due-date", step.id)
        assert (not step.get("responsible")) is gap("step-without-owner", step.id)
        overdue = due is not None and due < as_of and status not in schema.CLOSED_STATUSES
        assert overdue is gap("step-overdue", step.id)
        serving = step.get("serves_goal") == schema.SERVES_GOAL_YES or (
            step.get("serves_goal") == schema.SERVES_GOAL_PARTLY and bool(step.get("how_it_serves"))
        )
        assert serving is not gap("step-not-serving-goal", step.id)
        assert due is None or step.get("start_date") <= due
        assert status != schema.COMPLETE_STATUS or due <= as_of
        assert step.get("last_updated") <= as_of


# --- the command line -------------------------------------------------------------------------------


def test_cli_new_writes_refuses_and_overwrites(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "Plan v1.xlsx"
    result = runner.invoke(
        cli, ["new", str(out), "--coalition", "Lake County", "--plan-start", "2027-01-01", "--rows", "12"]
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    book = load(out)
    assert book[schema.COALITION_SHEET][f"B{FIRST}"].value == "Lake County"
    assert book[STEPS.name][f"A{FIRST + 11}"].value == f"{STEPS.id_prefix}-12"
    again = runner.invoke(cli, ["new", str(out)])
    assert again.exit_code == 2 and "--force" in again.output and "Traceback" not in again.output
    forced = runner.invoke(cli, ["new", str(out), "--example", "--force"])
    assert forced.exit_code == 0, forced.output
    assert load(out)[STEPS.name][f"D{FIRST}"].value == example_plan().rows("steps")[0].get("step")


# --- LibreOffice ------------------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_validations_and_names_survive_a_libreoffice_round_trip(
    example_path: Path, example: Workbook, tmp_path: Path
) -> None:
    saved = load(libreoffice.convert(example_path, tmp_path / "lo"))
    assert saved.sheetnames == example.sheetnames and saved[schema.LISTS_SHEET].sheet_state == "hidden"
    for name in example.defined_names:
        assert list(saved.defined_names[name].destinations) == list(example.defined_names[name].destinations)
    for sh in schema.SHEETS:
        for col in sh.columns:
            source = list_source(sh, col)
            if source is None and col.kind is not Kind.DATE:
                continue
            for cell in (f"{column_letter(sh, col.key)}{FIRST}", f"{column_letter(sh, col.key)}{FIRST + ROWS - 1}"):
                dv = validation_at(saved[sh.name], cell)
                assert dv is not None, f"{sh.name}!{cell} lost its validation"
                assert (dv.type, dv.formula1 if source else None) == ("list" if source else "date", source)


@pytest.mark.libreoffice
def test_libreoffice_computes_the_same_lists_and_goals_as_the_cached_values(
    example_path: Path, example_values: Workbook, tmp_path: Path
) -> None:
    """openpyxl drops every cached result, so LibreOffice recalculates all formulas on load."""
    edited = load(example_path)
    new_goal_row = FIRST + len(example_plan().rows("goals"))
    edited[GOALS.name][f"{column_letter(GOALS, 'goal')}{new_goal_row}"] = "A goal added later"
    typed_step_row = FIRST + len(example_plan().rows("steps"))
    edited[STEPS.name][f"{column_letter(STEPS, 'improvement')}{typed_step_row}"] = " i-4 "  # typed, not picked
    edited.save(tmp_path / "edited.xlsx")
    computed = load(libreoffice.convert(tmp_path / "edited.xlsx", tmp_path / "lo"), data_only=True)

    def blank_as_none(values: list[object]) -> list[object]:
        return [v if v != "" else None for v in values]

    for name in example_values.defined_names:
        if name.startswith(("Ref_", "Names_")):
            expected = blank_as_none(range_values(example_values, name))
            if name == schema.reference_list_name("goals"):
                new_id = f"{GOALS.id_prefix}-{new_goal_row - FIRST + 1}"
                expected[new_goal_row - FIRST] = f"{new_id}{schema.ID_SEPARATOR}A goal added later"
            assert blank_as_none(range_values(computed, name)) == expected, name
    goal = column_letter(STEPS, "goal")
    for r in range(FIRST, FIRST + ROWS):
        if r != typed_step_row:
            assert computed[STEPS.name][f"{goal}{r}"].value == (example_values[STEPS.name][f"{goal}{r}"].value or None)
    i4_goal = example_plan().by_id("improvements")["I-4"].get("goal")
    assert computed[STEPS.name][f"{goal}{typed_step_row}"].value.startswith(f"{i4_goal}{schema.ID_SEPARATOR}")
