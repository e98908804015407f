"""Work done once per item on every core: worker processes started by ``fork``, which inherit the process as it
is when :meth:`Workers.start` forks them, so nothing the work needs is ever sent to them.

The merge forks them as soon as the master's plan is read and goes on with the rest of the master while they read
the returns. The packets are written the same way, each worker writing the packets it is given from the plan it
inherited. Where ``fork`` is not available, or for one item, the work runs here, one item after the other.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

T = TypeVar("T")


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


# A worker's job, inherited from the process that forked it.
_WORK: Callable[[int], Any] | None = None


def _start(work: Callable[[int], Any]) -> None:
    global _WORK
    _WORK = work


def _run(index: int) -> Any:
    assert _WORK is not None
    return _WORK(index)


class Workers(Generic[T]):
    """``work(0), ..., work(count - 1)`` on up to ``jobs`` (default: every) cores, in worker processes forked by
    :meth:`start`. :meth:`results` gives the results in order; the first error raised, in that order, is raised
    there. Use it as a context manager: leaving it stops the workers."""

    def __init__(self, count: int, jobs: int | None = None) -> None:
        self.count = count
        self.processes = min(jobs or os.cpu_count() or 1, count) if fork_available() else 1
        self._work: Callable[[int], T] | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[T]] = []

    def __enter__(self) -> Workers[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._pool is not None:
            for f in self._futures:  # the merge stops at the first return it cannot read: the others are not needed
                f.cancel()
            self._pool.shutdown(wait=True)
        self._work = self._pool = None  # what the work held (the master's plan) goes with it
        self._futures = []

    @property
    def in_processes(self) -> bool:
        return self.processes > 1

    def start(self, work: Callable[[int], T]) -> None:
        """Fork the workers now (they inherit this process as it is) and give them the work of every item."""
        self._work = work
        if not self.in_processes:
            return  # run here, in turn (see results)
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork")
        self._pool = ProcessPoolExecutor(
            max_workers=self.processes, mp_context=context, initializer=_start, initargs=(work,)
        )
        self._futures = [self._pool.submit(_run, i) for i in range(self.count)]  # the pool forks every worker here

    def each(self, work: Callable[[int], T]) -> list[T]:
        """``[work(0), ..., work(count - 1)]``: started, then the results."""
        self.start(work)
        return self.results()

    def results(self) -> list[T]:
        assert self._work is not None, "start the work first"
        if not self.in_processes:
            work = self._work
            return [work(i) for i in range(self.count)]
        return [f.result() for f in self._futures]
