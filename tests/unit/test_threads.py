"""store.threads.Workers: the threads that run the engines' blocking calls."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from exophone.store.threads import Workers


@pytest.fixture
def workers() -> Iterator[Workers]:
    pool = Workers(2, "test-w")
    yield pool
    pool.close()


def test_a_call_runs_on_a_worker_thread_and_answers_its_result(workers: Workers) -> None:
    async def main() -> tuple[str, int]:
        return await workers.run(lambda: (threading.current_thread().name, 6 * 7))

    name, answer = asyncio.run(main())
    assert answer == 42
    assert name.startswith("test-w-")
    assert name != threading.current_thread().name


def test_a_call_that_raises_raises_in_its_caller(workers: Workers) -> None:
    def fail() -> None:
        raise KeyError("gone")

    async def main() -> None:
        await workers.run(fail)

    with pytest.raises(KeyError, match="gone"):
        asyncio.run(main())


def test_no_more_calls_run_at_once_than_there_are_threads(workers: Workers) -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def call() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    async def main() -> None:
        await asyncio.gather(*(workers.run(call) for _ in range(8)))

    asyncio.run(main())
    assert most == 2


def test_a_call_cancelled_before_it_starts_never_runs(workers: Workers) -> None:
    release = threading.Event()
    ran: list[str] = []

    def blocker() -> None:
        release.wait(5)

    async def main() -> None:
        busy = [asyncio.ensure_future(workers.run(blocker)) for _ in range(2)]
        queued = asyncio.ensure_future(workers.run(lambda: ran.append("queued")))
        await asyncio.sleep(0.05)  # both threads are in blocker; queued waits
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        release.set()
        await asyncio.gather(*busy)
        await workers.run(lambda: None)  # the queue has been worked through

    asyncio.run(main())
    assert ran == []


def test_a_running_call_cancelled_runs_to_its_end_and_the_threads_go_on(
    workers: Workers,
) -> None:
    started, release, ended = threading.Event(), threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        ended.set()
        return "done"

    errors: list[dict[str, object]] = []

    async def main() -> str:
        asyncio.get_running_loop().set_exception_handler(lambda _, context: errors.append(context))
        task = asyncio.ensure_future(workers.run(slow))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        await asyncio.to_thread(ended.wait, 5)
        return await workers.run(lambda: "next")

    assert asyncio.run(main()) == "next"
    assert ended.is_set()
    assert errors == []  # its outcome was dropped, not set on the cancelled future


def test_the_threads_serve_one_event_loop_after_another_even_one_closed_early(
    workers: Workers,
) -> None:
    release = threading.Event()

    async def first() -> None:
        pending = asyncio.ensure_future(workers.run(lambda: release.wait(5)))
        await asyncio.sleep(0.01)
        pending.cancel()  # asyncio.run would cancel it too, then close the loop

    asyncio.run(first())
    release.set()  # its thread now reports to a closed loop: nothing is raised there

    async def second() -> list[int]:
        return list(await asyncio.gather(*(workers.run(lambda i=i: i) for i in range(4))))

    assert asyncio.run(second()) == [0, 1, 2, 3]


def test_close_finishes_the_calls_queued_and_refuses_later_ones() -> None:
    pool = Workers(1, "test-close")
    done: list[int] = []

    def call(i: int) -> None:
        time.sleep(0.01)
        done.append(i)

    async def queue_three() -> list[asyncio.Future[None]]:
        calls = [asyncio.ensure_future(pool.run(lambda i=i: call(i))) for i in range(3)]
        await asyncio.sleep(0)  # the three are queued
        return calls

    loop = asyncio.new_event_loop()
    try:
        calls = loop.run_until_complete(queue_three())
        pool.close()
        assert done == [0, 1, 2]
        loop.run_until_complete(asyncio.gather(*calls))  # their callers have their answers
        with pytest.raises(RuntimeError, match="closed"):
            loop.run_until_complete(pool.run(lambda: None))
    finally:
        loop.close()
    assert not any(t.name.startswith("test-close") for t in threading.enumerate())


def test_at_least_one_thread() -> None:
    with pytest.raises(ValueError):
        Workers(0, "none")
