"""LibreOffice headless as a test client: convert files, and edit workbooks the way a person types.

`convert` runs `soffice --headless --convert-to`. `edit` and `export_sheet_pdf` run tests/lo_driver.py with
the system python (the only one with `uno`), which drives Calc through the dispatcher. Every soffice run has
a profile of its own under a temporary folder (a run sharing a profile is handed to the first instance) and
works on a private copy of the input, so lock files never appear beside it and the input is never touched.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SYSTEM_PYTHON = os.environ.get("LO_PYTHON", "/usr/bin/python3")
DRIVER = Path(__file__).resolve().with_name("lo_driver.py")
XLSX_FILTER = "Calc MS Excel 2007 XML"
PDF_FILTER = "calc_pdf_Export"
TIMEOUT = 90.0  # seconds; one run takes a few seconds here

# --convert-to targets: file extension -> "extension:filter" for soffice.
_CONVERT_TARGETS = {
    "xlsx": f"xlsx:{XLSX_FILTER}",  # no quotes: no shell in between
    "pdf": f"pdf:{PDF_FILTER}",
    "ods": "ods:calc8",
    "csv": "csv:Text - txt - csv (StarCalc)",
}


class LibreOfficeError(RuntimeError):
    """A LibreOffice run failed; the message carries what soffice or the driver said."""


def soffice() -> str | None:
    """The soffice executable, or None when LibreOffice is not installed."""
    return shutil.which(os.environ.get("SOFFICE", "soffice"))


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """True when soffice is installed and the system python can import uno (both are needed)."""
    if soffice() is None or not Path(SYSTEM_PYTHON).exists():
        return False
    try:
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _said(text: str) -> str:
    """soffice's output without the java launcher warning it prints on every run."""
    return "\n".join(line for line in text.splitlines() if "javaldx" not in line).strip()


def remove_stale_pipes(since: float) -> None:
    """A killed soffice leaves its pipe sockets in /tmp; remove the dead ones made since `since`."""
    for sock in Path("/tmp").glob(f"OSL_PIPE_{os.getuid()}_*"):
        try:
            if sock.lstat().st_mtime < since - 1:
                continue
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(1)
                probe.connect(str(sock))  # a live office answers: leave it alone
        except ConnectionRefusedError:
            with contextlib.suppress(OSError):
                sock.unlink()
        except OSError:
            pass


def _run_group(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run cmd in a session of its own; on timeout, SIGTERM the group, then SIGKILL what is left."""
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        message = f"{Path(cmd[0]).name} took longer than {timeout:g} s {_said(out + err)}"
        raise LibreOfficeError(message.strip()) from None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # nothing of the run may outlive it
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def convert(src: Path, outdir: Path, fmt: str = "xlsx", *, timeout: float = TIMEOUT) -> Path:
    """Open src in LibreOffice and save it as fmt ("xlsx", "pdf", "ods", "csv" or "ext:Filter") in outdir.

    Returns the output path, outdir / (src's stem + "." + extension). PDF holds the visible sheets only.
    Raises LibreOfficeError with soffice's output when no output appears.
    """
    src = Path(src).resolve()
    outdir = Path(outdir).resolve()
    target = _CONVERT_TARGETS.get(fmt, fmt)
    ext = target.split(":", 1)[0]
    out = outdir / f"{src.stem}.{ext}"
    if out == src:
        raise ValueError(f"converting {src} into its own folder would overwrite it; choose another outdir")
    outdir.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    exe = soffice()
    if exe is None:
        raise LibreOfficeError("soffice is not installed; install libreoffice-calc-nogui")
    with tempfile.TemporaryDirectory(prefix="lo-convert-") as tmp:
        work = Path(tmp)
        copy = work / "in" / src.name
        copy.parent.mkdir()
        shutil.copyfile(src, copy)
        (work / "tmp").mkdir()  # soffice's temporary files go here and leave with the run
        env = {**os.environ, "TMPDIR": str(work / "tmp")}
        cmd = [
            exe,
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(copy),
        ]
        started = time.time()
        try:
            result = _run_group(cmd, timeout, env)
        except LibreOfficeError:
            remove_stale_pipes(started)
            raise
    if result.returncode != 0 or not out.is_file():
        raise LibreOfficeError(
            f"soffice could not convert {src.name} to {fmt} (exit {result.returncode}): "
            f"{_said(result.stdout + result.stderr)}"
        )
    return out


def _drive(spec: dict, timeout: float) -> None:
    if not available():
        raise LibreOfficeError(
            "LibreOffice with python3-uno is not installed; install libreoffice-calc-nogui and python3-uno"
        )
    spec = {**spec, "timeout": timeout}
    with tempfile.TemporaryDirectory(prefix="lo-spec-") as tmp:
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        # The driver's own watchdog fires at `timeout`; allow it time to clean up before we step in.
        result = _run_group([SYSTEM_PYTHON, str(DRIVER), str(spec_path)], timeout + 30)
    lines = result.stdout.strip().splitlines()
    try:
        verdict = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        verdict = {}
    if result.returncode != 0 or not verdict.get("ok"):
        said = verdict.get("error") or _said(result.stdout + result.stderr)
        raise LibreOfficeError(f"the LibreOffice driver failed (exit {result.returncode}): {said}")


def edit(src: Path, dest: Path, actions: list[dict], *, timeout: float = TIMEOUT) -> None:
    """Open src in LibreOffice Calc, perform actions like a person (see lo_driver.py), save dest as .xlsx.

    Actions, e.g.: {"op": "type", "sheet": S, "cell": "D5", "text": "3/15/2027"} (GoToCell + EnterString, so a
    typed date becomes a date with a date format); {"op": "insert_column", "sheet": S, "before": "C"};
    {"op": "insert_rows", "sheet": S, "before": 5, "count": 1}; {"op": "delete_row", "sheet": S, "row": 7};
    {"op": "delete_column", "sheet": S, "column": "C"}; {"op": "set_formula", "sheet": S, "cell": C,
    "formula": "=A1"}; {"op": "paste_text", "sheet": S, "cell": C, "text": T, "mode": "values" | "all"}
    (copy from a scratch document and paste: "values" keeps the target's validation and holds a value it
    would refuse; "all" replaces the validation too). The typed locale is en-US (M/D/Y dates). EnterString
    does not run the cell's validation, so "type" stores even a value the dropdown would refuse in the GUI.
    """
    src, dest = Path(src).resolve(), Path(dest).resolve()
    if src == dest:
        raise ValueError("dest must differ from src; the input is never modified")
    _drive({"src": str(src), "dest": str(dest), "filter": XLSX_FILTER, "actions": list(actions)}, timeout)


def export_sheet_pdf(src: Path, sheet: str, dest: Path, *, timeout: float = TIMEOUT) -> Path:
    """Export one sheet of src to a PDF at dest, the whole sheet on one page.

    The other sheets are removed from LibreOffice's private copy first: the single-page-per-sheet PDF option
    exports hidden sheets too. The sheet is printed as its print settings and column widths say.
    """
    src, dest = Path(src).resolve(), Path(dest).resolve()
    actions = [{"op": "only_sheet", "sheet": sheet}]
    _drive(
        {
            "src": str(src),
            "dest": str(dest),
            "filter": PDF_FILTER,
            "filter_data": {"SinglePageSheets": True},
            "actions": actions,
        },
        timeout,
    )
    return dest
