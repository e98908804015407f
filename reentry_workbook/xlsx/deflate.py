"""Deflate a large part on every core, as one ordinary deflate stream.

A part we write can be megabytes of XML (an audit's summary of tens of thousands of findings, a merged master's
Action Steps sheet), and zlib compresses it on one core. zlib lets go of the interpreter lock while it works, so
the part is cut into pieces compressed side by side in threads:

- every piece but the last ends with a sync flush, which ends its blocks on a byte boundary without marking the
  stream finished, so the pieces joined are one valid raw deflate stream (what a zip entry holds);
- each piece starts with the 32 KB before it as its dictionary, so matches reach back across the cut as they
  would in one stream, and the result is about as small.

The pieces are cut by size, never by the number of cores, so the same part always gives the same bytes.

A part made a piece at a time (a long table rendered a few thousand rows at a time) is deflated the same way as it
is made (:class:`Pieces`): each piece in a thread of its own while the caller makes the next one.
"""

from __future__ import annotations

import os
import threading
import zlib

PIECE = 1 << 20  # bytes of a part compressed as one piece
WINDOW = 1 << 15  # deflate's window: what a piece takes from the one before it
LEVEL = zlib.Z_DEFAULT_COMPRESSION


def deflate(data: bytes) -> bytes:
    """``data`` as a raw deflate stream (no zlib header), as a zip entry stores it."""
    view = memoryview(data)
    starts = range(0, len(data), PIECE)
    pieces: list[bytes] = [b""] * len(starts)
    failed: list[BaseException] = []

    def work(first: int, step: int) -> None:
        try:
            for i in range(first, len(starts), step):
                pieces[i] = _piece(view, starts[i], min(starts[i] + PIECE, len(data)))
        except BaseException as exc:  # (out of memory, say): raised again in the caller's thread below
            failed.append(exc)

    if not starts:
        return _piece(view, 0, 0)
    workers = min(len(starts), os.cpu_count() or 1)
    # Threads of our own (concurrent.futures would add its import, and logging's, to every command that writes).
    threads = [threading.Thread(target=work, args=(n, workers), name=f"deflate-{n}") for n in range(1, workers)]
    for thread in threads:
        thread.start()
    work(0, workers)
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]
    return b"".join(pieces)


def _piece(view: memoryview, start: int, end: int) -> bytes:
    """The deflated bytes of ``view[start:end]``, to follow those of ``view[:start]`` in one stream."""
    return deflate_piece(view[max(0, start - WINDOW) : start], view[start:end], last=end >= len(view))


def deflate_piece(before: memoryview, data: memoryview, *, last: bool) -> bytes:
    """``data`` deflated as one piece of a stream, after ``before`` (the window of bytes just before it, empty for
    the first piece): a sync flush at its end, or the end of the stream when it is the ``last``."""
    if before:
        packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=before)
    else:
        packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class Pieces:
    """The pieces of one deflate stream, each deflated in a thread of its own as it is handed over (at most one a
    core at a time), so that the caller goes on making the next; :meth:`joined` gives the stream."""

    def __init__(self) -> None:
        self._out: list[bytes] = []
        self._threads: list[threading.Thread] = []
        self._failed: list[BaseException] = []
        self._cores = os.cpu_count() or 1

    def __len__(self) -> int:
        return len(self._out)

    def add(self, before: bytes, data: bytes, *, last: bool) -> None:
        """Deflate ``data`` as the next piece, after ``before`` (:func:`deflate_piece`; the caller's copies: the
        thread may still read them once this returns)."""
        at = len(self._out)
        self._out.append(b"")

        def work() -> None:
            try:
                self._out[at] = deflate_piece(memoryview(before), memoryview(data), last=last)
            except BaseException as exc:  # (out of memory, say): raised again in the caller's thread by joined
                self._failed.append(exc)

        running = [thread for thread in self._threads if thread.is_alive()]
        if len(running) >= self._cores:
            running[0].join()
        thread = threading.Thread(target=work, name=f"deflate-{at}")
        thread.start()
        self._threads.append(thread)

    def joined(self) -> bytes:
        """The stream: every piece, once all are deflated."""
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        if self._failed:
            raise self._failed[0]
        return b"".join(self._out)
