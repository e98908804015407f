"""The one-page brief: printed by headless Chromium on one Letter and one A4 page, with the coalition, every
overdue step and the trend; self-contained; member text escaped; accessible (axe-core finds nothing serious);
open merge conflicts listed; the same content as plain text."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import chromium
import openpyxl
import pytest
from click.testing import CliRunner
from plans import AS_OF, clean_plan

from reentry_workbook.cli import cli
from reentry_workbook.cycle.brief import brief_html, brief_text, build_brief
from reentry_workbook.cycle.merge_sheets import CONFLICT_HEADERS
from reentry_workbook.plan import schema
from reentry_workbook.workbook.example import EXAMPLE_AS_OF
from reentry_workbook.workbook.generate import write_plan_workbook

AUDITS = (EXAMPLE_AS_OF - dt.timedelta(days=59), EXAMPLE_AS_OF - dt.timedelta(days=28), EXAMPLE_AS_OF)


def need(tool: str, available: bool) -> None:
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is missing under CI; .ci/run installs it", pytrace=False)
    pytest.skip(f"{tool} is not installed")


def invoke(*args: str | Path) -> str:
    result = CliRunner().invoke(cli, [*map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The example plan audited in place on three as-of dates, its brief, and the last audit's JSON report."""
    folder = tmp_path_factory.mktemp("brief")
    plan = folder / "plan.xlsx"
    invoke("new", "--example", plan)
    for as_of in AUDITS:
        invoke("audit", plan, "--in-place", "--as-of", as_of.isoformat(), "--fail-on", "never")
    report = json.loads(invoke("audit", plan, "--no-copy", "--json", "--as-of", EXAMPLE_AS_OF.isoformat(),
                               "--fail-on", "never"))
    out = folder / "brief.html"
    invoke("brief", plan, "-o", out, "--as-of", EXAMPLE_AS_OF.isoformat())
    return out, report


def pages_and_text(pdf: Path) -> tuple[int, str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return pages, text


@pytest.mark.parametrize("paper", ["Letter", "A4"])
def test_the_example_brief_prints_on_one_page(example: tuple[Path, dict], tmp_path: Path, paper: str) -> None:
    need("chromium", chromium.executable() is not None)
    need("poppler-utils", shutil.which("pdfinfo") is not None and shutil.which("pdftotext") is not None)
    page, report = example
    sized = tmp_path / f"brief-{paper}.html"
    sized.write_text(page.read_text(encoding="utf-8").replace("@page {", f"@page {{ size: {paper};"), encoding="utf-8")
    pages, text = pages_and_text(chromium.print_pdf(sized, tmp_path / f"brief-{paper}.pdf"))
    assert pages == 1
    flat = " ".join(text.split())
    assert report["summary"]["coalition"] in flat
    overdue = [s["id"] for p in report["overdue"] for s in p["steps"]]
    assert overdue and all(re.search(rf"\b{re.escape(i)}\b", flat) for i in overdue)
    assert "Alignment (solid, now" in flat  # the trend chart's key, under the chart
    for question in ("1. Resources", "2. Revisited", "3. In service"):
        assert question in flat


def test_the_brief_has_the_trend_as_an_inline_chart_with_a_title(example: tuple[Path, dict]) -> None:
    html = example[0].read_text(encoding="utf-8")
    svg = re.search(r"<svg[^>]*role=\"img\"[^>]*>(.*?)</svg>", html, flags=re.S)
    assert svg is not None
    assert "<title id=\"trend-title\">Trend over the last 3 audits" in svg.group(1)
    assert all(as_of.isoformat() in svg.group(1) for as_of in AUDITS)  # in its description (alt text)
    assert html.count("<polyline") == 2


def test_the_brief_is_self_contained(example: tuple[Path, dict]) -> None:
    html = example[0].read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"\b(src|href)\s*=", html, flags=re.I)
    assert "url(" not in html and "@import" not in html
    assert re.findall(r"https?://[^\s\"'<>]+", html) == ["http://www.w3.org/2000/svg"]


def test_member_text_is_escaped(tmp_path: Path) -> None:
    plan = clean_plan()
    plan.coalition["name"] = "<script>alert('x')</script> & Partners"
    plan.rows("steps")[0].values.update(step="<img src=x onerror=alert(1)>", due_date=AS_OF - dt.timedelta(days=2))
    path = write_plan_workbook(tmp_path / "plan.xlsx", plan, rows=10)
    html = brief_html(build_brief(path, as_of=AS_OF))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Partners" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_axe_core_finds_no_serious_or_critical_violation(example: tuple[Path, dict], tmp_path: Path) -> None:
    need("chromium", chromium.executable() is not None)
    need("axe-core (npm ci --prefix .ci/node)", chromium.AXE.is_file())
    # The harness itself: a page with known violations is caught.
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><img src='x.png'><p style='color:#eee;background:#fff'>faint</p></body></html>")
    assert {v["id"] for v in chromium.axe_violations(broken, tmp_path)} >= {"image-alt", "html-has-lang"}
    violations = chromium.axe_violations(example[0], tmp_path)
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == []


def test_open_merge_conflicts_are_listed(tmp_path: Path) -> None:
    path = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    book = openpyxl.load_workbook(path)
    ws = book.create_sheet(schema.MERGE_CONFLICTS_SHEET)
    ws.append(["What the merge could not decide for you."])
    ws.append([])
    ws.append([text for text, _ in CONFLICT_HEADERS])
    ws.append(["Conflict", "Action Steps", "A-4", "Due date", "2027-05-01", "2027-06-01", "maria.xlsx", "Maria", ""])
    ws.append(["Conflict", "Goals", "G-2", "Target", "60%", "70%", "sam.xlsx", "Sam", ""])
    book.save(path)
    brief = build_brief(path, as_of=AS_OF)
    assert [(c.id, c.field, c.sent_by) for c in brief.conflicts or []] == [
        ("A-4", "Due date", "maria.xlsx"), ("G-2", "Target", "sam.xlsx")
    ]
    html = brief_html(brief)
    assert "Open merge conflicts: 2" in html and "maria.xlsx" in html


def test_a_workbook_without_conflicts_sheet_or_history(tmp_path: Path) -> None:
    path = write_plan_workbook(tmp_path / "plan.xlsx", clean_plan(), rows=10)
    brief = build_brief(path, as_of=AS_OF)
    html = brief_html(brief)
    assert brief.conflicts is None and "merge conflicts" not in html.lower()
    assert "The trend appears from the second audit on." in html


def test_the_plain_text_brief_says_the_same(example: tuple[Path, dict]) -> None:
    _, report = example
    plan = example[0].with_name("plan.xlsx")
    text = brief_text(build_brief(plan, as_of=EXAMPLE_AS_OF))
    assert text.startswith(report["summary"]["coalition"])
    assert "1. Are the resources" in text and "3. Is every action step" in text
    assert all(s["id"] in text for p in report["overdue"] for s in p["steps"])
    assert "Trend" in text and "<" not in text


def test_the_brief_command_keeps_its_input_and_refuses_to_overwrite(example: tuple[Path, dict]) -> None:
    out, _ = example
    plan = out.with_name("plan.xlsx")
    before = plan.read_bytes()
    result = CliRunner().invoke(cli, ["brief", str(plan), "-o", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    invoke("brief", plan, "-o", out, "--force", "--horizon", "7")
    assert plan.read_bytes() == before
