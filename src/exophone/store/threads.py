"""The threads that run an engine's blocking calls for the event loop.

``await workers.run(call)`` puts the call on a queue that a fixed set of threads
take from, and the thread that ran it settles the caller's asyncio future through
``loop.call_soon_threadsafe``. It is what ``loop.run_in_executor`` does with a
``ThreadPoolExecutor``, without the ``concurrent.futures.Future`` in between (its
``Condition``, the chained callbacks of ``asyncio.wrap_future`` and the copying of
its state): a hand-off cost the event loop 12 µs of CPU that way, 1.2 µs this way,
with 64 callers on one core. Every PostgreSQL request makes one, and the event loop
and the threads take turns at the interpreter lock for it: keyed purchases ran about
11% faster on one API process (BENCHMARKS.md).

As with an executor, a call whose caller was cancelled before a thread took it up
is not run; one already running runs to its end, and its outcome is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger("exophone.store")

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


class Workers:
    """``count`` threads named ``name-N``, started when the first call comes."""

    def __init__(self, count: int, name: str) -> None:
        if count < 1:
            raise ValueError("Workers needs at least one thread")
        self.count = count
        self.name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    async def run(self, call: Callable[[], T]) -> T:
        """``call()`` on one of the threads; its result, or the exception it raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name}: the store is closed")
            if not self._threads:
                self._start()
            self._jobs.put((loop, future, call))
        return await future

    def close(self) -> None:
        """Let the threads finish the calls queued and stop; later calls are refused."""
        with self._lock:
            self._closed = True
            threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join()

    def _start(self) -> None:
        for i in range(self.count):
            thread = threading.Thread(target=self._work, name=f"{self.name}-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, call = job
            if future.cancelled():  # its caller gave up before it started
                continue
            try:
                result = call()
            except BaseException as exc:  # every outcome goes to the caller
                _report(loop, future, None, exc)
            else:
                _report(loop, future, result, None)
            del job, future, call  # nothing of the call outlives it in this thread


def _report(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: object,
    exc: BaseException | None,
) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, result, exc)
    except RuntimeError:  # the loop was closed meanwhile: no one is waiting any more
        log.debug("a store call ended after its event loop closed")


def _settle(future: asyncio.Future[Any], result: object, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is None:
        future.set_result(result)
    else:
        future.set_exception(exc)
