"""python-calamine parses the sheets a reader is about to ask for in a background thread.

On the fast path each sheet costs a scan of its XML (Python), python-calamine's parse (Rust, which lets go of
the interpreter lock while it parses) and the reader's typing of the values (Python). A sheet the scan clears
for the fast path (the scan refuses, among others, a sheet whose grid python-calamine would make too large) is
parsed in the background while the caller types the sheets before it. The values are the same, read by the
same calls; only when they are read changes. The grids parsed and not yet taken are held meanwhile: the plan's
sheets only, each dropped once taken.

The scans run either in the caller's thread, all of them before it goes on, or, for a large plan where the
system can fork, in a child process: scanning is Python work that would otherwise hold the interpreter lock
the caller's typing needs. The child scans the sheets in order and sends each result back through a pipe; a
thread of the caller's takes them in. Whatever the child does not send (it died, say) counts as a scan that
raised: the caller scans that sheet itself when it gets there, and meets the error, if any, there.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .sheet_cells import SheetRef

FAILED = object()  # a grid python-calamine could not read (the exact path then reads the sheet)
UNSCANNED = object()  # a scan that raised: the sheet is scanned again when asked for, and raises then
SCAN_APART_FROM = 4 << 20  # bytes of sheet XML from which the scans run in a child process, where one can fork
_FRAME = 8  # bytes of the length before each result the child sends


def can_fork() -> bool:
    """Whether the scans may run in a forked child: the system has fork; no other thread runs (ours or the
    program's), that could hold a lock the child would inherit held; and this is not a worker of a pool (the
    folder audit's, the merge's), whose siblings already keep every core busy."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    pools = sys.modules.get("multiprocessing")  # (imported by every pool's worker; not imported to find out)
    return pools is None or pools.parent_process() is None


class ReadAhead:
    """Scans ``refs`` with ``scan`` and parses those it clears, in order, with the python-calamine workbook
    ``opener()`` returns, in a thread of its own.

    With ``apart`` (a function that gives a forked child a zip handle of its own), the scans run in a child
    process; without it, in the caller's thread as the object is made."""

    def __init__(
        self,
        opener: Callable[[], Any],
        refs: Sequence[SheetRef],
        scan: Callable[[SheetRef], Any],
        apart: Callable[[], None] | None = None,
    ) -> None:
        self._opener = opener
        self._refs = list(refs)
        self._pending = {ref.part for ref in self._refs}  # not taken yet
        self._scans: dict[str, Any] = {}
        self._ready: dict[str, Any] = {}
        self._stop = False
        self._cond = threading.Condition()
        self.calamine: Any = None  # the opened workbook, once the thread has opened it
        self._child: int | None = None  # the scanning child's process ID
        self._feeder: threading.Thread | None = None  # takes in what the child sends
        if apart is not None:
            self._scan_in_child(scan, apart)  # before any thread of ours starts
        self._thread = threading.Thread(target=self._run, name="reentry-workbook-read-ahead", daemon=True)
        self._thread.start()
        if self._child is not None:
            return
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
        ``to_python(skip_empty_area=False)`` gives it; :data:`FAILED` when there is none); waits for the grid."""
        self._pending.discard(ref.part)
        with self._cond:
            while ref.part not in self._scans:  # (the child's result, or UNSCANNED once it sends no more)
                self._cond.wait()
            scan = self._scans[ref.part]
            if scan is None or scan is UNSCANNED:
                return scan, FAILED
            while ref.part not in self._ready and self._thread.is_alive():
                self._cond.wait()
            return scan, self._ready.pop(ref.part, FAILED)

    def finish(self) -> None:
        """Stop parsing and wait for the thread (the sheet it is parsing, if any); the grids not taken are dropped."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._child is not None:
            with contextlib.suppress(ProcessLookupError):  # its work is no longer wanted (or it is done)
                os.kill(self._child, signal.SIGKILL)
            os.waitpid(self._child, 0)
            self._child = None
        if self._feeder is not None:
            self._feeder.join()  # the child's end of the pipe is closed now: it stops at once
        self._thread.join()
        self._ready.clear()

    # -- the scans in a child process ------------------------------------------------------------------------

    def _scan_in_child(self, scan: Callable[[SheetRef], Any], apart: Callable[[], None]) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: scan, send, and leave without running anything of the parent's
            try:
                os.close(read_end)
                apart()
                with os.fdopen(write_end, "wb") as pipe:
                    for ref in self._refs:
                        try:
                            found = scan(ref)
                        except Exception:
                            found = UNSCANNED
                        kind = "again" if found is UNSCANNED else "exact" if found is None else "scan"
                        payload = pickle.dumps((ref.part, kind, found if kind == "scan" else None), protocol=5)
                        pipe.write(len(payload).to_bytes(_FRAME, "little") + payload)
                        pipe.flush()
            except BaseException:  # the parent then scans what did not come itself
                pass
            finally:
                os._exit(0)
        os.close(write_end)
        self._child = pid
        self._feeder = threading.Thread(
            target=self._feed, args=(read_end,), name="reentry-workbook-scans", daemon=True
        )
        self._feeder.start()

    def _feed(self, read_end: int) -> None:
        """Take in the child's results as they come; what does not come counts as a scan that raised."""
        try:
            with os.fdopen(read_end, "rb") as pipe:
                while len(head := pipe.read(_FRAME)) == _FRAME:
                    size = int.from_bytes(head, "little")
                    payload = pipe.read(size)
                    if len(payload) != size:
                        break
                    part, kind, found = pickle.loads(payload)  # (from our own child, through our own pipe)
                    with self._cond:
                        self._scans[part] = found if kind == "scan" else None if kind == "exact" else UNSCANNED
                        self._cond.notify_all()
        finally:
            with self._cond:
                for ref in self._refs:
                    self._scans.setdefault(ref.part, UNSCANNED)
                self._cond.notify_all()

    def _run(self) -> None:
        try:
            self.calamine = self._opener()
        except Exception:  # python-calamine raises its own error types: every sheet goes the exact path
            return
        for ref in self._refs:
            with self._cond:
                while not self._stop and ref.part not in self._scans:
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
