"""The one ID normaliser: IDs and references in every form a member or a spreadsheet app leaves them."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reentry_workbook.plan import schema
from reentry_workbook.plan.ids import label_index, label_key, normalise_id, parse_reference

STEPS = schema.sheet("steps")
GOALS = schema.sheet("goals")
STEP = STEPS.id_prefix or ""
GOAL = GOALS.id_prefix or ""


@pytest.mark.parametrize(
    "typed",
    [
        f"{STEP}-12",
        f"{STEP.lower()}-012 ",
        f" {STEP}-0012",
        f"{STEP}12",
        f"{STEP} 12",
        f"{STEP} - 12",
        f"{STEP}\u201312",  # en dash
        f"{STEP}\u201412",  # em dash
        f"{STEP}\u221212",  # minus sign
        f"{STEP}\u201112",  # non-breaking hyphen
        f"{STEP}_12",
        f"\u200b{STEP}-12\u00a0",  # zero-width space, non-breaking space
        12,
        12.0,
        "12",
        "012",
    ],
)
def test_forms_of_one_id_normalise_to_it(typed: object) -> None:
    assert normalise_id(typed, STEP) == f"{STEP}-12"


@pytest.mark.parametrize("typed", [None, "", "TBD", "12.5", 12.5, -3, True, "AB-12", "A-", "-12", "A-1-2"])
def test_values_that_are_not_ids(typed: object) -> None:
    assert normalise_id(typed, STEP) is None


def test_a_bare_number_needs_the_sheet_to_become_an_id() -> None:
    assert normalise_id(12) is None
    assert normalise_id("012") is None
    assert normalise_id("a-012") == "A-12"


def test_an_id_of_another_sheet_keeps_its_own_letter() -> None:
    assert normalise_id(f"{GOAL}-3", STEP) == f"{GOAL}-3"


@given(st.sampled_from(sorted(schema.SHEETS_BY_PREFIX)), st.integers(min_value=0, max_value=10**6))
def test_normalising_is_stable_and_ignores_padding_and_case(prefix: str, number: int) -> None:
    canonical = normalise_id(f"{prefix}-{number}")
    assert canonical == f"{prefix}-{number}"
    assert normalise_id(canonical) == canonical
    assert normalise_id(f" {prefix.lower()}-{number:06d} ") == canonical
    assert normalise_id(float(number), prefix) == canonical


LABELS = label_index(
    [
        (f"{GOAL}-1", "Halve releases to  no fixed address"),
        (f"{GOAL}-2", "More people\nin work within 90 days"),
        (f"{GOAL}-3", "Halve releases to no fixed address"),  # same text as G-1: the first row wins
        (None, "A row without an ID"),
    ]
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (f"{GOAL}-2", f"{GOAL}-2"),
        (f"{GOAL.lower()}-02", f"{GOAL}-2"),
        (2, f"{GOAL}-2"),
        (2.0, f"{GOAL}-2"),
        (f"{GOAL}-1{schema.ID_SEPARATOR}Halve releases to no fixed address", f"{GOAL}-1"),
        (f"{GOAL}-1{schema.ID_SEPARATOR}text that was edited since", f"{GOAL}-1"),
        (f"{GOAL.lower()}-01{schema.ID_SEPARATOR}whatever", f"{GOAL}-1"),
        (f"{GOAL}-2 \u2013 More people in work", f"{GOAL}-2"),  # an en dash typed by a word processor
        (f"{GOAL}2: More people in work", f"{GOAL}-2"),
        ("halve releases to no fixed address", f"{GOAL}-1"),
        ("MORE PEOPLE IN WORK WITHIN 90 DAYS", f"{GOAL}-2"),
        (f"{GOAL}-9", f"{GOAL}-9"),  # does not exist: the rules call it a broken link
        ("Nothing like any goal", None),
        ("A row without an ID", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_references_accept_ids_dropdown_labels_and_the_parents_text(typed: object, expected: str | None) -> None:
    assert parse_reference(typed, GOAL, LABELS) == expected


def test_label_keys_ignore_case_spaces_and_line_breaks() -> None:
    assert label_key("  More  people\nin WORK ") == label_key("more people in work")
    assert label_key(None) == ""


def test_label_keys_ignore_invisible_characters_pasted_from_the_web() -> None:
    assert label_key("More\u200b people\u2060 in work\ufeff") == label_key("more people in work")
    labels = label_index([(f"{GOAL}-2", "More\u200b people in work")])
    assert parse_reference("more people in work", GOAL, labels) == f"{GOAL}-2"


@pytest.mark.parametrize(("typed", "expected"), [(0, "0"), ("0", "0"), ("000", "0"), (0.0, "0"), (7, "7")])
def test_zero_and_other_bare_whole_numbers_are_ids_of_the_sheet(typed: object, expected: str) -> None:
    assert normalise_id(typed, STEP) == f"{STEP}-{expected}"


@pytest.mark.parametrize("typed", [-1, -1.0, "-1", -0.5, 12.25, float("inf"), float("nan")])
def test_negative_and_fractional_numbers_are_not_ids(typed: object) -> None:
    assert normalise_id(typed, STEP) is None


@pytest.mark.parametrize(
    "typed", [dt.date(2027, 3, 15), dt.datetime(2027, 3, 15, 9, 30), dt.time(12), "2027-03-15", "3/15/2027"]
)
def test_a_date_typed_into_an_id_cell_is_not_an_id(typed: object) -> None:
    assert normalise_id(typed, STEP) is None
    assert parse_reference(typed, GOAL, LABELS) is None


def test_a_parents_text_that_contains_the_label_separator_is_still_found_by_its_text() -> None:
    text = f"Housing{schema.ID_SEPARATOR}first steps{schema.ID_SEPARATOR}and after"
    labels = label_index([(f"{GOAL}-4", text), (f"{GOAL}-5", "Work")])
    assert parse_reference(text, GOAL, labels) == f"{GOAL}-4"
    assert parse_reference(text.upper(), GOAL, labels) == f"{GOAL}-4"
    assert parse_reference(f"{GOAL}-4{schema.ID_SEPARATOR}{text}", GOAL, labels) == f"{GOAL}-4"
    # The ID part of a label decides, even when the rest is another row's text...
    assert parse_reference(f"{GOAL}-5{schema.ID_SEPARATOR}{text}", GOAL, labels) == f"{GOAL}-5"
    assert parse_reference(f"{GOAL.lower()}-05{schema.ID_SEPARATOR}{text}", GOAL, labels) == f"{GOAL}-5"
    # ... and even when the whole label is another row's text (a member pasted a label into a text cell).
    pasted = f"{GOAL.lower()}-05{schema.ID_SEPARATOR}{text}"
    labels = label_index([(f"{GOAL}-4", pasted)])
    assert parse_reference(pasted, GOAL, labels) == f"{GOAL}-5"


def test_a_row_without_an_id_leaves_its_text_to_a_later_row_with_an_id() -> None:
    labels = label_index([(None, "Open a reentry desk"), (f"{GOAL}-7", "Open a reentry desk"), (f"{GOAL}-8", "")])
    assert labels == {label_key("Open a reentry desk"): f"{GOAL}-7"}
    assert parse_reference("open a REENTRY desk", GOAL, labels) == f"{GOAL}-7"


def test_text_that_starts_like_an_id_but_is_a_parents_text_is_read_by_the_text() -> None:
    labels = label_index([(f"{GOAL}-3", f"{GOAL}7 partners meet monthly")])
    assert parse_reference(f"{GOAL}7 partners meet monthly", GOAL, labels) == f"{GOAL}-3"
    assert parse_reference(f"{GOAL}7: partners", GOAL, labels) == f"{GOAL}-7"


@pytest.mark.parametrize("typed", ["   ", "\u200b", "\u200b \u00a0"])
def test_a_reference_of_spaces_or_invisible_characters_names_nothing(typed: str) -> None:
    assert parse_reference(typed, GOAL, LABELS) is None
