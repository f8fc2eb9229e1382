"""Bulk loads on two cores: a worker process prepares batches, this process writes them.

Drawing a number (``inventory generate``) or validating one (``inventory
import``) costs about as much as writing it, so a worker process does the
first while the calling process, the only one that writes, does the
second. What passes between them is finished batches (``exophone.store.bulk``:
one JSON text each, sorted), through a queue of at most ``QUEUE`` of them,
so memory stays flat however many numbers are loaded.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import queue as queues
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

# Batches waiting for the writer at most: the worker blocks beyond.
QUEUE = 4
_ITEM, _DONE, _ERROR = "item", "done", "error"


def produced(target: Callable[..., Iterator[T]], *args: Any) -> Iterator[T]:
    """Yield what ``target(*args)``, a generator function, yields in a worker process.

    ``target`` and its arguments must pickle (a module-level function). An
    exception in the worker is raised here; stopping early (or failing here)
    stops the worker.
    """
    context = mp.get_context("spawn")
    channel: Any = context.Queue(maxsize=QUEUE)
    worker = context.Process(target=_produce, args=(channel, target, args), daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, value = channel.get(timeout=1.0)
            except queues.Empty:
                if not worker.is_alive():
                    raise RuntimeError(
                        f"the bulk-load worker stopped (exit code {worker.exitcode})"
                    ) from None
                continue
            if kind == _DONE:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
        channel.close()


def _produce(channel: Any, target: Callable[..., Iterator[Any]], args: tuple[Any, ...]) -> None:
    try:
        for item in target(*args):
            channel.put((_ITEM, item))
    except BaseException as exc:
        channel.put((_ERROR, _picklable(exc)))
        return
    channel.put((_DONE, None))


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own object, just pickled
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
