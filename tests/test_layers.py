"""The folders show the flow: a layer imports the layers below it, never those above, and only the CLI knows click."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reentry_workbook"

# Lowest first. A module may import its own layer and any layer before it in this list.
LAYERS = ["errors", "xlsx", "mail", "plan", "workbook", "audit", "cycle", "api", "cli"]


def layer_of(dotted: str) -> str:
    """The layer of a module given by its dotted name under the package (``audit.reader`` -> ``audit``)."""
    first = dotted.split(".")[0]
    if first in ("__init__", "__main__"):
        return "api" if first == "__init__" else "cli"
    return first


def imported_modules(source: str, here: list[str]) -> list[tuple[int, str]]:
    """(line, dotted name under the package) of every import of the package's own modules in ``source``, a
    module of the subpackage ``here`` (``[]`` for the top)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "reentry_workbook":
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                found.append((node.lineno, ".".join(target)))
            else:  # ``from . import x, y`` at the top: each name is a module or subpackage
                found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "reentry_workbook" and len(parts) > 1:
                    found.append((node.lineno, ".".join(parts[1:])))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    own = layer_of(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    upward = [
        f"line {line}: {target}"
        for line, target in imported_modules(
            path.read_text(encoding="utf-8"), list(path.relative_to(PACKAGE).parts[:-1])
        )
        if LAYERS.index(layer_of(target)) > LAYERS.index(own)
    ]
    assert not upward, f"{path.name} ({own}) imports a layer above it: {upward}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_cli_imports_click(path: Path) -> None:
    if path.relative_to(PACKAGE).parts[0] == "cli" or path.name == "__main__.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "click" not in names


def test_every_subpackage_says_what_it_owns_and_may_import() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), (
            f"{init.parent.name}/__init__.py needs a docstring saying what it may import"
        )
        assert init.parent.name in LAYERS, f"{init.parent.name} is not placed in LAYERS"


def test_the_layer_test_sees_upward_imports_in_every_form() -> None:
    source = (
        "from ..audit import reader\nfrom ..cycle.merge import merge\nimport reentry_workbook.cli\nfrom .. import api\n"
    )
    targets = [t for _, t in imported_modules(source, ["xlsx"])]
    assert targets == ["audit", "cycle.merge", "cli", "api"]
    assert {layer_of(t) for t in targets} == {"audit", "cycle", "cli", "api"}
