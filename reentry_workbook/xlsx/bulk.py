"""Bulk work on a workbook's cells: reading a plan, writing one, merging returns.

Such work makes hundreds of thousands of dicts, lists and tuples, none of them in a cycle; each collection of
the cyclic garbage collector that their allocation sets off walks them all and finds nothing. The collector
rests while it runs (:func:`collector_paused`); reference counting frees everything as usual, and whatever
cycle the work does make is collected once the collector is back on.

What the work keeps (a plan read, a report) would still be walked by the first young collections after it, each
time for nothing: it is handed to the oldest generation when the collector comes back, as if it had survived
them. A full collection still walks it (and finds any cycle in it).
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
        if was_on:
            gc.freeze()  # every object tracked now, to the permanent generation ...
            gc.unfreeze()  # ... and from there to the oldest one
            gc.enable()
