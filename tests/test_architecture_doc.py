"""docs/architecture.md is the map of the package: every module has its row, in its folder's section."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reentry_workbook"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def sections() -> dict[str, str]:
    """Text of each "## " section, by its heading."""
    parts = re.split(r"^## (.+)$", DOC, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_module_has_its_row_in_its_folder_s_section() -> None:
    by_heading = sections()
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.name == "__init__.py" and len(relative.parts) > 1:
            continue  # a subpackage's __init__ holds only its docstring (what it owns, what it may import)
        if len(relative.parts) > 1:
            folder = f"`{relative.parts[0]}/`"
            text = "".join(body for heading, body in by_heading.items() if heading.startswith(folder))
        else:
            text = "".join(body for heading, body in by_heading.items() if "/`" not in heading)
        if f"`{relative.name}`" not in text:
            missing.append(str(relative))
    assert not missing, f"docs/architecture.md has no row for {missing}"


def test_every_subpackage_has_a_section_and_a_row_in_the_layer_table() -> None:
    by_heading = sections()
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        name = f"`{init.parent.name}/`"
        assert any(h.startswith(name) for h in by_heading), name
        assert f"| {name} |" in DOC, name
