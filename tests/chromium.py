"""Headless Chromium as a test client: print a page to PDF, or run axe-core in it.

Import as ``import chromium`` (tests/ is on sys.path). Each run gets a fresh profile folder and the flags that
keep Chromium off the network (no background fetches, updates, sync or first-run tasks). axe-core comes from
the npm registry, installed by ``.ci/run`` into ``.ci/node`` (``npm ci --prefix .ci/node``), never at test time.
"""

from __future__ import annotations

import html as html_text
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT = 120.0
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def executable() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    browser = executable()
    if browser is None:
        raise RuntimeError("chromium is not installed; .ci/run installs Debian's chromium")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )


def print_pdf(page: Path, pdf: Path) -> Path:
    """Print ``page`` (a local HTML file) to ``pdf`` as Chromium's print dialog would, without header or footer."""
    result = _run(page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    if not pdf.is_file():
        raise RuntimeError(f"chromium printed no PDF (exit {result.returncode}): {result.stderr[-2000:]}")
    return pdf


def axe_violations(page: Path, work: Path) -> list[dict[str, Any]]:
    """The axe-core violations of ``page``: a copy with axe and a runner appended is loaded, and the result
    read back from the DOM. Each violation: ``id``, ``impact``, ``help``, ``nodes`` (count)."""
    runner = (
        "<script>" + AXE.read_text(encoding="utf-8") + "</script><script>"
        "axe.run(document, {resultTypes: ['violations']}).then(function (r) {"
        " var pre = document.createElement('pre'); pre.id = 'axe-result';"
        " pre.textContent = JSON.stringify(r.violations.map(function (v) {"
        "  return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}; }));"
        " document.body.appendChild(pre); });"
        "</script>"
    )
    html = page.read_text(encoding="utf-8")
    checked = work / f"{page.stem}.axe.html"
    checked.write_text(html.replace("</body>", runner + "</body>"), encoding="utf-8")
    result = _run(checked, "--virtual-time-budget=20000", "--dump-dom")
    start = result.stdout.find('<pre id="axe-result">')
    if start < 0:
        raise RuntimeError(f"axe-core gave no result (exit {result.returncode}): {result.stderr[-2000:]}")
    text = result.stdout[start + len('<pre id="axe-result">'):result.stdout.index("</pre>", start)]
    return json.loads(html_text.unescape(text))
