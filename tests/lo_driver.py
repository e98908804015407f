"""Drive LibreOffice Calc through UNO the way a person would. Run it with the SYSTEM python, which has `uno`.

Usage: /usr/bin/python3 tests/lo_driver.py SPEC.json

SPEC is a JSON object:
    {"src": "/abs/in.xlsx", "dest": "/abs/out.xlsx",
     "filter": "Calc MS Excel 2007 XML",      store filter (optional; "calc_pdf_Export" for PDF)
     "filter_data": {...},                      filter options (optional, e.g. {"SinglePageSheets": true})
     "locale": "en-US",                         locale typed text is read in (optional)
     "timeout": 60,                             seconds for the whole run (optional)
     "actions": [{...}, ...]}

Actions (each a dict with "op"); cells are A1 references on the named sheet:
    type            {"sheet", "cell", "text"}      GoToCell, then EnterString: typing and pressing Enter
                    (LibreOffice 7.4 does not check the cell's validation on EnterString: a value a "stop"
                    dropdown would refuse in the GUI is stored; use paste_text to mean that on purpose)
    set_formula     {"sheet", "cell", "formula"}   typed the same way ("=D2+1")
    paste_text      {"sheet", "cell", "text", "mode": "values" | "all"}
                    the text is typed into a cell of a scratch document, copied, and pasted over the target:
                    "values" (default) is Paste Special with text, numbers and dates only, so the target keeps
                    its format and validation while holding a value the validation would refuse; "all" is an
                    ordinary Paste, which also replaces the target's format and validation (as in Excel)
    insert_column   {"sheet", "before": "C", "count": 1}   Insert Columns Before
    insert_rows     {"sheet", "before": 5, "count": 1}     Insert Rows Above
    delete_row      {"sheet", "row": 7}                    Delete Rows
    delete_column   {"sheet", "column": "C"}               Delete Columns
    show_only_sheet {"sheet"}     make that sheet active and hide every other one; a plain PDF export then
                                  holds that sheet only (the PDF option SinglePageSheets ignores hidden
                                  sheets, and an .xlsx stored afterwards still marks them visible)
    only_sheet      {"sheet"}     remove every other sheet from the private copy (for a one-sheet PDF)
    fit_width       {"sheet"}     scale that sheet's page style to one page wide

Every run starts its own soffice with a private profile and pipe name, works on a private copy of the
input (so lock files never appear beside it), and removes all of it afterwards; a watchdog kills soffice
at the deadline. The last line on stdout is JSON: {"ok": true} or {"ok": false, "error": "..."}.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import uno  # only the system python has it
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from libreoffice import remove_stale_pipes  # beside this script, standard library only

SOFFICE = os.environ.get("SOFFICE") or shutil.which("soffice") or "soffice"
XLSX_FILTER = "Calc MS Excel 2007 XML"
CONNECT_WAIT = 30.0  # seconds for soffice to start accepting connections
SHUTDOWN_WAIT = 10.0  # seconds for soffice to exit after terminate()

_soffice: subprocess.Popen | None = None


def _kill_soffice() -> None:
    """Kill soffice's whole process group (the launcher and soffice.bin)."""
    if _soffice is not None and _soffice.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(_soffice.pid, signal.SIGKILL)


def _on_sigterm(signum: int, frame: object) -> None:
    _kill_soffice()
    raise SystemExit(f"terminated by signal {signum}")


def _props(**values: object) -> tuple:
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name = name
        prop.Value = value
        out.append(prop)
    return tuple(out)


def _start_soffice(work: Path, pipe: str, log: Path) -> subprocess.Popen:
    cmd = [
        SOFFICE,
        "--headless",
        "--invisible",
        "--nologo",
        "--nodefault",
        "--norestore",
        "--nolockcheck",
        f"-env:UserInstallation={(work / 'profile').as_uri()}",
        f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
    ]
    tmp = work / "tmp"  # soffice's temporary files go here and leave with the run
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    with open(log, "wb") as fh:
        # A session of its own: one killpg reaches the launcher and soffice.bin alike.
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )


def _connect(pipe: str, proc: subprocess.Popen, deadline: float):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
    while True:
        try:
            return resolver.resolve(url)
        except NoConnectException:
            if proc.poll() is not None:
                raise RuntimeError(f"soffice exited with code {proc.returncode} before accepting") from None
            if time.monotonic() > deadline:
                raise RuntimeError("soffice did not accept a connection in time") from None
            time.sleep(0.1)


def _configure(ctx, locale: str) -> None:
    """Pin the locale (typed dates read alike everywhere) and turn off dialogs that would hang or crash."""
    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    settings = (
        ("/org.openoffice.Setup/L10N", {"ooSetupSystemLocale": locale, "ooLocale": locale}),
        # The "overwrite non-empty cells?" question on paste brings soffice 7.4 headless down.
        ("/org.openoffice.Office.Calc/Input", {"ReplaceCellsWarning": False}),
    )
    for path, values in settings:
        access = provider.createInstanceWithArguments(
            "com.sun.star.configuration.ConfigurationUpdateAccess", _props(nodepath=path)
        )
        for name, value in values.items():
            access.setPropertyValue(name, value)
        access.commitChanges()


def _cell_index(cell: str) -> tuple[int, int]:
    """Zero-based column and row of an A1 reference: D5 -> (3, 4)."""
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", cell.strip())
    if not m:
        raise ValueError(f"not a cell reference: {cell!r}")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + (ord(ch) - 64)
    return col - 1, int(m.group(2)) - 1


class Session:
    """One loaded document, its frame and a dispatch helper."""

    def __init__(self, ctx, desktop, doc) -> None:
        self.desktop = desktop
        self.doc = doc
        self.controller = doc.getCurrentController()
        self.frame = self.controller.getFrame()
        self.helper = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)

    def dispatch(self, command: str, frame=None, **args: object) -> None:
        self.helper.executeDispatch(frame or self.frame, command, "", 0, _props(**args))

    def sheet(self, name: str):
        sheets = self.doc.getSheets()
        if not sheets.hasByName(name):
            raise KeyError(f"no sheet named {name!r}; the sheets are {list(sheets.getElementNames())}")
        return sheets.getByName(name)

    def go(self, sheet: str, cell: str) -> None:
        """Activate the sheet and move the cursor, then check it landed there (a typo must not type elsewhere)."""
        self.controller.setActiveSheet(self.sheet(sheet))
        self.dispatch(".uno:GoToCell", ToPoint=cell)
        selection = self.controller.getSelection()
        if hasattr(selection, "getCellAddress"):
            addr = selection.getCellAddress()
            if (addr.Column, addr.Row) != _cell_index(cell):
                raise RuntimeError(f"GoToCell {cell} left the cursor at column {addr.Column}, row {addr.Row}")


def _paste(session: Session, action: dict) -> None:
    """Copy the text from a scratch document and paste it over the target, as a person would."""
    mode = action.get("mode", "values")
    if mode not in ("values", "all"):
        raise ValueError(f"unknown paste mode {mode!r}; use 'values' or 'all'")
    scratch = session.desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, _props(Hidden=True))
    try:
        scratch_frame = scratch.getCurrentController().getFrame()
        session.dispatch(".uno:GoToCell", frame=scratch_frame, ToPoint="A1")
        session.dispatch(".uno:EnterString", frame=scratch_frame, StringName=str(action["text"]))
        session.dispatch(".uno:GoToCell", frame=scratch_frame, ToPoint="A1")
        session.dispatch(".uno:Copy", frame=scratch_frame)
        session.go(action["sheet"], action["cell"])
        if mode == "all":
            session.dispatch(".uno:Paste")
        else:
            # Paste Special: S(trings), V(alues), D(ates) only; no formats, notes or attributes (validation).
            session.dispatch(
                ".uno:InsertContents",
                Flags="SVD",
                FormulaCommand=0,
                SkipEmptyCells=False,
                Transpose=False,
                AsLink=False,
                MoveMode=4,
            )
    finally:
        scratch.close(True)


def _perform(session: Session, action: dict) -> None:
    op = action["op"]
    sheet = action.get("sheet")
    count = int(action.get("count", 1))
    if op in ("type", "set_formula"):
        session.go(sheet, action["cell"])
        session.dispatch(".uno:EnterString", StringName=str(action["text" if op == "type" else "formula"]))
    elif op == "paste_text":
        _paste(session, action)
    elif op == "insert_column":
        session.go(sheet, f"{action['before']}1")
        for _ in range(count):
            session.dispatch(".uno:InsertColumnsBefore")
    elif op == "insert_rows":
        session.go(sheet, f"A{int(action['before'])}")
        for _ in range(count):
            session.dispatch(".uno:InsertRowsBefore")
    elif op == "delete_row":
        session.go(sheet, f"A{int(action['row'])}")
        session.dispatch(".uno:DeleteRows")
    elif op == "delete_column":
        session.go(sheet, f"{action['column']}1")
        session.dispatch(".uno:DeleteColumns")
    elif op == "show_only_sheet":
        target = session.sheet(sheet)
        target.IsVisible = True
        session.controller.setActiveSheet(target)
        sheets = session.doc.getSheets()
        for name in sheets.getElementNames():
            if name != sheet:
                sheets.getByName(name).IsVisible = False
    elif op == "only_sheet":
        target = session.sheet(sheet)
        session.controller.setActiveSheet(target)
        sheets = session.doc.getSheets()
        for name in list(sheets.getElementNames()):
            if name != sheet:
                sheets.removeByName(name)
    elif op == "fit_width":
        styles = session.doc.getStyleFamilies().getByName("PageStyles")
        style = styles.getByName(session.sheet(sheet).PageStyle)
        style.ScaleToPagesX = 1
        style.ScaleToPagesY = 0
    else:
        raise ValueError(f"unknown action {op!r}")


def _store_props(spec: dict) -> tuple:
    values: dict[str, object] = {"FilterName": spec.get("filter", XLSX_FILTER), "Overwrite": True}
    if spec.get("filter_data"):
        values["FilterData"] = uno.Any("[]com.sun.star.beans.PropertyValue", _props(**spec["filter_data"]))
    return _props(**values)


def _shutdown(desktop, proc: subprocess.Popen) -> bool:
    """Ask soffice to quit, kill what is left; True when it had quit by itself with exit code 0."""
    if desktop is not None:
        with contextlib.suppress(Exception):  # the bridge drops while soffice exits
            desktop.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=SHUTDOWN_WAIT)
    clean = proc.poll() == 0
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group, soffice.bin included
    proc.wait()
    return clean


def run(spec: dict) -> None:
    global _soffice
    src = Path(spec["src"]).resolve()
    dest = Path(spec["dest"]).resolve()
    if src == dest:
        raise ValueError("dest must differ from src; the input is never modified")
    timeout = float(spec.get("timeout", 60))
    work = Path(tempfile.mkdtemp(prefix="lo-run-"))
    log = work / "soffice.log"
    copy = work / f"input{src.suffix}"
    out = work / f"output{dest.suffix}"
    shutil.copyfile(src, copy)
    pipe = f"reentry-{uuid.uuid4().hex}"
    started = time.time()
    _soffice = proc = _start_soffice(work, pipe, log)
    watchdog = threading.Timer(timeout, _kill_soffice)  # a hung UNO call fails once soffice is gone
    watchdog.daemon = True
    watchdog.start()
    desktop = doc = None
    try:
        ctx = _connect(pipe, proc, time.monotonic() + min(timeout, CONNECT_WAIT))
        _configure(ctx, spec.get("locale", "en-US"))
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(copy.as_uri(), "_blank", 0, _props(Hidden=True))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not load {src.name}")
        session = Session(ctx, desktop, doc)
        for number, action in enumerate(spec.get("actions", []), 1):
            try:
                _perform(session, action)
            except Exception as exc:
                raise RuntimeError(f"action {number} {action!r} failed: {type(exc).__name__}: {exc}") from exc
        doc.storeToURL(out.as_uri(), _store_props(spec))
        # Closing a generated workbook of a few hundred rows crashes LibreOffice 7.4 headless (signal 6 in a
        # timer) after a good save; the document is not closed, the office is terminated below instead.
        doc = None
        shutil.move(str(out), str(dest))
    except Exception as exc:
        if not watchdog.is_alive():
            raise TimeoutError(f"the LibreOffice run took longer than {timeout:g} s ({exc})") from exc
        said = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
        tail = "\n".join(line for line in said if "javaldx" not in line)[-2000:].strip()  # not the java noise
        if tail:
            raise RuntimeError(f"{exc}; soffice said: {tail}") from exc
        raise
    finally:
        watchdog.cancel()
        if doc is not None:
            with contextlib.suppress(Exception):
                doc.close(True)
        clean = _shutdown(desktop, proc)
        shutil.rmtree(work, ignore_errors=True)
        if not clean:
            remove_stale_pipes(started)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    try:
        run(spec)
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
