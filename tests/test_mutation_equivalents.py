"""Mutation testing's list of equivalent mutants stays true, and its areas stay those mutmut is set up for.

``scripts/mutation.py`` (docs/testing.md) leaves the mutants listed in ``tests/mutation/equivalent.txt`` out of
its score. Each entry must name a function that still holds the line as written, change that line, and say in
one sentence why no input tells the two apart; otherwise a real gap could hide in the list.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "mutation.py"
    spec = importlib.util.spec_from_file_location("mutation_script", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


mutation = _load_script()
ENTRIES = mutation.read_equivalents()
# reentry_workbook.plan.dates.x_read_text_date__mutmut_13, reentry_workbook.audit.reader.xǁ_Readerǁ_typed__mutmut_2
_NAME = re.compile(r"(?P<module>reentry_workbook(?:\.\w+)+)\.x(?:ǁ(?P<cls>\w+)ǁ|_)(?P<func>\w+?)__mutmut_\d+")


def _mutmut_setting(key: str) -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return [line.strip() for line in config.get("mutmut", key).splitlines() if line.strip()]


def _function_lines(module: str, cls: str | None, func: str) -> list[str]:
    path = ROOT / (module.replace(".", "/") + ".py")
    source = path.read_text(encoding="utf-8")
    scope: list[ast.stmt] = ast.parse(source).body
    if cls is not None:
        scope = next(n.body for n in scope if isinstance(n, ast.ClassDef) and n.name == cls)
    node = next(n for n in scope if isinstance(n, ast.FunctionDef) and n.name == func)
    segment = ast.get_source_segment(source, node) or ""
    return [line.strip() for line in segment.splitlines()]


def test_the_list_is_not_empty_and_every_entry_is_whole() -> None:
    assert ENTRIES
    for entry in ENTRIES.values():
        assert entry.before and entry.after and entry.before != entry.after, entry.name


@pytest.mark.parametrize("name", list(ENTRIES))
def test_each_listed_mutant_still_exists_in_its_function(name: str) -> None:
    entry = ENTRIES[name]
    match = _NAME.fullmatch(name)
    assert match, f"{name} is not a mutant name as mutmut gives them"
    lines = _function_lines(match["module"], match["cls"], match["func"])
    assert entry.before in lines, f"{name}: the line it changes is no longer in the function; re-check the entry"


@pytest.mark.parametrize("name", list(ENTRIES))
def test_each_listed_mutant_says_why_in_one_sentence(name: str) -> None:
    why = ENTRIES[name].why
    assert re.fullmatch(r"[a-z0-9'\"(].*[^.]\.", why), why
    assert not re.search(r"\. [A-Z]", why), "one sentence"


@pytest.mark.parametrize("name", list(ENTRIES))
def test_each_listed_mutant_belongs_to_an_area_that_is_scored(name: str) -> None:
    assert any(fnmatch.fnmatchcase(name, p) for area in mutation.AREAS.values() for p in area.patterns)


def test_every_area_is_mutated_and_tested_by_mutmut() -> None:
    mutated = _mutmut_setting("only_mutate")
    for area in mutation.AREAS.values():
        for pattern in area.patterns:
            module = pattern.split(".x")[0].rstrip(".*")
            assert f"{module.replace('.', '/')}.py" in mutated, pattern
    for tests in _mutmut_setting("pytest_add_cli_args_test_selection"):
        assert (ROOT / tests).is_file(), tests
