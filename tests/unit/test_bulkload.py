"""The bulk loader's worker process: what it yields arrives, its failures are raised here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from exophone.domain.errors import BadRequest
from exophone.service import bulkload


def count_to(n: int) -> Iterator[int]:
    yield from range(n)


def fail_after(n: int) -> Iterator[int]:
    yield from range(n)
    raise BadRequest("the file is not UTF-8 text")


class Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:  # pickles with one argument: fails
        super().__init__(f"{a}/{b}")


def fail_oddly() -> Iterator[int]:
    yield 1
    raise Unpicklable(1, 2)


def test_everything_the_worker_yields_arrives_in_order() -> None:
    assert list(bulkload.produced(count_to, 50)) == list(range(50))


def test_a_failure_in_the_worker_is_raised_here_after_what_came_before() -> None:
    items = bulkload.produced(fail_after, 3)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(BadRequest, match="UTF-8"):
        next(items)


def test_an_exception_that_cannot_travel_arrives_as_its_text() -> None:
    with pytest.raises(RuntimeError, match="Unpicklable: 1/2"):
        list(bulkload.produced(fail_oddly))


def test_stopping_early_stops_the_worker() -> None:
    items = bulkload.produced(count_to, 10_000_000)
    assert next(items) == 0
    items.close()  # the worker is terminated, not left drawing
