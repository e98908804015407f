"""python-calamine parses the sheets a reader is about to ask for in a background thread.

On the fast path each sheet costs a scan of its XML (Python), python-calamine's parse (Rust, which lets go of
the interpreter lock while it parses) and the reader's typing of the values (Python). Here every sheet is
scanned first, in the caller's thread; a sheet the scan clears for the fast path (the scan refuses, among
others, a sheet whose grid python-calamine would make too large) is then parsed in the background while the
caller scans the next ones and types the sheets before it. The values are the same, read by the same calls;
only when they are read changes. The grids parsed and not yet taken are held meanwhile: the plan's sheets
only, each dropped once taken (a 50,000-step audit peaks at about 290 MB, under the 400 MB budget).

The caller may also hand over work of its own that does not need the sheets, in steps (``idle``, an iterator
that does one step each time it is advanced: the audit imports what it writes its summary copy with). The steps
run in the caller's thread whenever it would otherwise wait for a grid, one at a time until the grid is there:
time spent waiting for python-calamine goes to work that was coming anyway. Steps left are the caller's to do.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .sheet_cells import SheetRef

FAILED = object()  # a grid python-calamine could not read (the exact path then reads the sheet)
UNSCANNED = object()  # a scan that raised: the sheet is scanned again when asked for, and raises then
_DONE = object()  # the caller's idle work has no step left


class ReadAhead:
    """Scans ``refs`` with ``scan`` (in the caller's thread, as the object is made) and parses those it clears, in
    order, with the python-calamine workbook ``opener()`` returns, in a thread of its own; with ``held``, it parses
    the next only while fewer grids than that wait to be taken (the merge reads its returns on every core, where the
    thread gains little time and the grids held would cost memory in each worker)."""

    def __init__(
        self,
        opener: Callable[[], Any],
        refs: Sequence[SheetRef],
        scan: Callable[[SheetRef], Any],
        idle: Iterator[object] | None = None,
        held: int | None = None,
    ) -> None:
        self._opener = opener
        self._held = held
        self._idle = idle
        self._refs = list(refs)
        self._pending = {ref.part for ref in self._refs}  # not taken yet
        self._scans: dict[str, Any] = {}
        self._ready: dict[str, Any] = {}
        self._stop = False
        self._ended = False  # the thread has parsed all it will (set under the condition, with every waiter woken)
        self._cond = threading.Condition()
        self.calamine: Any = None  # the opened workbook, once the thread has opened it
        self._thread = threading.Thread(target=self._run, name="reentry-workbook-read-ahead", daemon=True)
        self._thread.start()
        try:
            for ref in self._refs:
                try:
                    found = scan(ref)
                except Exception:  # the same scan runs again when the sheet is asked for, and raises there
                    found = UNSCANNED
                with self._cond:
                    self._scans[ref.part] = found
                    self._cond.notify_all()
        except BaseException:  # interrupted: no thread is left waiting for scans that will not come
            self.finish()
            raise

    def holds(self, ref: SheetRef) -> bool:
        """Whether ``ref`` is one of the sheets read ahead (and not taken yet)."""
        return ref.part in self._pending

    def take(self, ref: SheetRef) -> tuple[Any, Any]:
        """The scan of ``ref`` (``None``: the exact path reads it; :data:`UNSCANNED`) and its grid (as
        ``to_python(skip_empty_area=False)`` gives it; :data:`FAILED` when there is none); waits for the grid,
        doing steps of the caller's ``idle`` work meanwhile."""
        self._pending.discard(ref.part)
        scan = self._scans[ref.part]
        if scan is None or scan is UNSCANNED:
            return scan, FAILED
        while self._idle is not None and ref.part not in self._ready and not self._ended:
            if next(self._idle, _DONE) is _DONE:
                self._idle = None
        with self._cond:
            while ref.part not in self._ready and not self._ended:
                self._cond.wait()
            grid = self._ready.pop(ref.part, FAILED)
            self._cond.notify_all()  # (the thread may wait for room to parse the next)
            return scan, grid

    def finish(self) -> None:
        """Stop parsing and wait for the thread (the sheet it is parsing, if any); the grids not taken are dropped."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join()
        self._ready.clear()

    def _full(self) -> bool:
        return self._held is not None and len(self._ready) >= self._held

    def _run(self) -> None:
        try:
            self._parse()
        finally:  # however the thread ends (python-calamine could not open the file, say), no reader is left waiting
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def _parse(self) -> None:
        try:
            self.calamine = self._opener()
        except Exception:  # python-calamine raises its own error types: every sheet goes the exact path
            return
        for ref in self._refs:
            with self._cond:
                while not self._stop and (ref.part not in self._scans or self._full()):
                    self._cond.wait()
                if self._stop:
                    return
                cleared = self._scans[ref.part] not in (None, UNSCANNED)
            if not cleared:
                continue
            try:
                grid = self.calamine.get_sheet_by_name(ref.name).to_python(skip_empty_area=False)
            except Exception:  # as above: the exact path says what is wrong with the sheet
                grid = FAILED
            with self._cond:
                self._ready[ref.part] = grid
                self._cond.notify_all()


def importing(names: Sequence[str], package: str | None = None) -> Iterator[None]:
    """Idle work for :class:`ReadAhead`: import the modules ``names`` (relative ones from ``package``), one a step.
    For what the caller imports once the read is done (a writer, XlsxWriter): time the reader would spend
    waiting goes to them instead."""
    for name in names:
        importlib.import_module(name, package)
        yield
