"""Work done in processes started by ``fork``, which inherit the process as it is when they are forked, so nothing
the work needs is ever sent to them.

:class:`Workers` does work once per item on every core. The merge forks them as soon as the master's plan is read
and goes on with the rest of the master while they read the returns. The packets are written the same way, each
worker writing the packets it is given from the plan it inherited. :class:`Background` does one piece of work
beside the process's own (the merge reads the master's Lists sheet there while it reads the master's plan).
Where ``fork`` is not available, or for one item, the work runs here, one item after the other.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

T = TypeVar("T")


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


BACKGROUND = "reentry-workbook-background"  # the name of a Background's process

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


class Background(Generic[T]):
    """``work()`` in a process forked now, its result given by :meth:`result` (what it raised is raised there). With
    one core (``jobs``), where ``fork`` is not available or when the process was stopped, ``work()`` runs here when
    the result is asked for. No thread is started here: this process may fork again (its :class:`Workers`) while
    that one works. Use it as a context manager: leaving it stops the process."""

    def __init__(self, work: Callable[[], T], jobs: int | None = None) -> None:
        self._work = work
        self._process: BaseProcess | None = None
        self._pipe: Connection | None = None
        if fork_available() and (jobs or os.cpu_count() or 1) > 1:
            context = multiprocessing.get_context("fork")
            receiver, sender = context.Pipe(duplex=False)
            self._process = context.Process(target=_send_result, args=(work, sender), name=BACKGROUND, daemon=True)
            self._process.start()
            sender.close()
            self._pipe = receiver

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
        if self._pipe is not None:
            self._pipe.close()

    def result(self) -> T:
        if self._process is None or self._pipe is None:
            return self._work()
        try:
            done, value = self._pipe.recv()
        except EOFError:  # the process stopped without a word (killed): the work is done here instead
            self._process.join()
            return self._work()
        self._process.join()
        if not done:
            raise value
        return value


def _send_result(work: Callable[[], Any], sender: Connection) -> None:
    """In the forked process: ``work()`` and, through ``sender``, (True, its result) or (False, what it raised)."""
    try:
        sent: tuple[bool, Any] = (True, work())
    except BaseException as exc:  # given to the process that asked for the work, which raises it
        sent = (False, exc)
    sender.send(sent)
    sender.close()
