"""Bulk work on a workbook's cells: reading a plan, writing one, merging returns.

Such work makes hundreds of thousands of dicts, lists and tuples, none of them in a cycle; each collection of
the cyclic garbage collector that their allocation sets off walks them all and finds nothing. The collector
rests while it runs (:func:`collector_paused`); reference counting frees everything as usual, and whatever
cycle the work does make is collected once the collector is back on.

What the work keeps (a plan read, a report, packets) would still be walked by the first young collections after
it, each time for nothing (5 ms at a time after a 10,000-step read): it is handed to the oldest generation when
the block ends, as if it had survived them (:func:`make_old`). A full collection still walks it, and collects any
cycle in it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (also as a decorator); the collector is then left as it was."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        make_old()
        if was_on:
            gc.enable()


def make_old() -> None:
    """Move every object the collector tracks to its oldest generation, without walking them: ``freeze`` puts them
    in the permanent generation, ``unfreeze`` from there where long-lived objects go. Skipped when the program
    keeps objects frozen of its own (``unfreeze`` would release them)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
