"""Work done once per item on every core: worker processes started by ``fork``, which inherit the process as it
is when :meth:`Workers.start` forks them, so nothing the work needs then is ever sent to them.

The merge forks them as soon as the master's plan is read and goes on with the master while they read the
returns; what it works out after the fork reaches them once, through :meth:`Workers.share`. The packets are
written the same way, each worker writing the packets it is given from the plan it inherited. Where ``fork`` is
not available, or for one item, the work runs here, one item after the other.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.synchronize import Event

T = TypeVar("T")
Work = Callable[[int, Callable[[], Any]], T]  # work(index, shared): ``shared()`` is what Workers.share gave


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class Stopped(Exception):
    """The process that started the workers stopped before it shared what they wait for."""


# A worker's job and where what is shared arrives, inherited from the process that forked it.
_WORK: Work[Any] | None = None
_READY: tuple[Event, Path] | None = None
_SHARED: list[Any] = []  # what was shared, once loaded


def _start(work: Work[Any], ready: Event, path: Path) -> None:
    global _WORK, _READY
    _WORK, _READY = work, (ready, path)
    _SHARED.clear()


def _shared_here() -> Any:
    """In a worker: what :meth:`Workers.share` gave, waiting for it the first time."""
    if not _SHARED:
        assert _READY is not None
        ready, path = _READY
        ready.wait()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise Stopped from None
        _SHARED.append(pickle.loads(data))
    return _SHARED[0]


def _run(index: int) -> Any:
    assert _WORK is not None
    return _WORK(index, _shared_here)


class Workers(Generic[T]):
    """``work(0, shared), ..., work(count - 1, shared)`` on up to ``jobs`` (default: every) cores, in worker processes
    forked by :meth:`start`; ``shared()`` gives (waiting for it) what :meth:`share` is given after the fork.
    :meth:`results` gives the results in order; the first error raised, in that order, is raised there. Use it as a
    context manager: leaving it stops the workers."""

    def __init__(self, count: int, jobs: int | None = None) -> None:
        self.count = count
        self.processes = min(jobs or os.cpu_count() or 1, count) if fork_available() else 1
        self._work: Work[T] | None = None
        self._value: Any = None
        self._shared = False
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[T]] = []
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._ready: Event | None = None

    def __enter__(self) -> Workers[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._pool is not None:
            for f in self._futures:  # the merge stops at the first return it cannot read: the others are not needed
                f.cancel()
            if self._ready is not None:
                self._ready.set()  # workers still waiting find nothing shared, and stop
            self._pool.shutdown(wait=True)
        if self._folder is not None:
            self._folder.cleanup()
        self._work = self._value = self._pool = None  # what the work held (the master's plan) goes with it
        self._futures = []

    @property
    def in_processes(self) -> bool:
        return self.processes > 1

    def start(self, work: Work[T]) -> None:
        """Fork the workers now (they inherit this process as it is) and give them the work of every return."""
        self._work = work
        if not self.in_processes:
            return  # run here, in turn, once what they wait for is shared (see results)
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork")
        self._folder = tempfile.TemporaryDirectory(prefix="reentry-workbook-")
        self._ready = context.Event()
        path = Path(self._folder.name) / "shared.pickle"
        self._pool = ProcessPoolExecutor(
            max_workers=self.processes, mp_context=context, initializer=_start, initargs=(work, self._ready, path)
        )
        self._futures = [self._pool.submit(_run, i) for i in range(self.count)]  # the pool forks every worker here

    def share(self, value: Any) -> None:
        """Give the workers ``value`` (pickled once, read once by each worker that asks for it)."""
        self._value, self._shared = value, True
        if self._ready is None or self._folder is None:
            return
        path = Path(self._folder.name) / "shared.pickle"
        part = path.with_suffix(".part")
        part.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        part.replace(path)
        self._ready.set()

    def each(self, work: Callable[[int], T]) -> list[T]:
        """``[work(0), ..., work(count - 1)]``, for work that needs nothing shared: started, then the results."""
        self.start(lambda index, _shared: work(index))
        self._shared = True  # nothing to wait for: the work never asks
        return self.results()

    def results(self) -> list[T]:
        assert self._work is not None and self._shared, "start the work and share what it waits for first"
        if not self.in_processes:
            value = self._value
            return [self._work(i, lambda: value) for i in range(self.count)]
        return [f.result() for f in self._futures]
