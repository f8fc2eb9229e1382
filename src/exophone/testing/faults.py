"""Faults: rules that make chosen requests fail the way the real service can fail.

A rule names an endpoint (a method, or ``*``, and a glob over the path) and
what happens to the next ``times`` requests to it (every one when ``times``
is None), or to a share of them (``rate``):

- ``status``: an answer with that status and a RestException body; a 429
  carries ``Retry-After`` (1 second unless ``retry_after`` says otherwise),
  as the real service's rate limit does;
- ``delay``: the answer comes that many seconds late (then follows the status,
  the drop or, with neither, the real answer);
- ``drop``: the connection is closed without an answer.

Rules are tried in the order they were added; the first that fires wins.
Requests to the control API are never faulted.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import falcon
import falcon.asgi

from exophone.api.errors import rest_exception
from exophone.domain.errors import BadRequest

if TYPE_CHECKING:
    from exophone.testing.harness import Harness

METHODS = frozenset({"*", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
MAX_DELAY = 300.0
DEFAULT_RETRY_AFTER = 1


@dataclass(slots=True)
class FaultRule:
    id: str
    method: str = "*"
    path: str = "*"
    status: int | None = None
    message: str | None = None
    retry_after: int | None = None
    delay: float | None = None
    drop: bool = False
    times: int | None = 1  # None: every matching request
    rate: float | None = None  # the share of matching requests that fault
    hits: int = 0
    remaining: int | None = field(default=None)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        if self.method not in METHODS:
            raise BadRequest(f"method must be one of {', '.join(sorted(METHODS))}")
        if not self.path or self.path[0] not in "/*":
            raise BadRequest("path must be a glob over request paths, starting with / or *")
        if self.status is not None and not 400 <= self.status <= 599:
            raise BadRequest(f"status must be an error status from 400 to 599, not {self.status}")
        if self.drop and self.status is not None:
            raise BadRequest("a fault either answers a status or drops the connection, not both")
        if self.status is None and self.delay is None and not self.drop:
            raise BadRequest("a fault needs a status, a delay or drop")
        if self.delay is not None and not 0 < self.delay <= MAX_DELAY:
            raise BadRequest(f"delay must be more than 0 and at most {MAX_DELAY:g} seconds")
        if self.times is not None and self.times < 1:
            raise BadRequest("times must be at least 1 (or null for every request)")
        if self.rate is not None and not 0 < self.rate <= 1:
            raise BadRequest("rate must be more than 0 and at most 1")
        if self.retry_after is not None and self.retry_after < 0:
            raise BadRequest("retry_after must be 0 or more seconds")
        if self.status == 429 and self.retry_after is None:
            self.retry_after = DEFAULT_RETRY_AFTER
        self.remaining = self.times

    def matches(self, method: str, path: str) -> bool:
        return (
            (self.remaining is None or self.remaining > 0)
            and (self.method == "*" or self.method == method)
            and fnmatchcase(path, self.path)
        )

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "message": self.message,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "drop": self.drop,
            "times": self.times,
            "remaining": self.remaining,
            "rate": self.rate,
            "hits": self.hits,
        }


class Faults:
    """The rules in force, and the seeded dice that decide ``rate`` faults."""

    def __init__(self, seed: int | None) -> None:
        self._rules: list[FaultRule] = []
        self._next_id = 0
        self._seed = seed
        self._rng = random.Random(seed)

    def add(self, **fields: Any) -> FaultRule:
        self._next_id += 1
        rule = FaultRule(id=f"f{self._next_id}", **fields)
        self._rules.append(rule)
        return rule

    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def get(self, rule_id: str) -> FaultRule | None:
        return next((r for r in self._rules if r.id == rule_id), None)

    def remove(self, rule_id: str) -> bool:
        rule = self.get(rule_id)
        if rule is not None:
            self._rules.remove(rule)
        return rule is not None

    def clear(self) -> None:
        """Remove every rule; ids count from 1 and the dice start again from the seed."""
        self._rules.clear()
        self._next_id = 0
        self._rng = random.Random(self._seed)

    def fire(self, method: str, path: str) -> FaultRule | None:
        """The first rule this request triggers, with its count taken; None if none does."""
        for rule in self._rules:
            if not rule.matches(method, path):
                continue
            if rule.rate is not None and self._rng.random() >= rule.rate:
                continue
            rule.hits += 1
            if rule.remaining is not None:
                rule.remaining -= 1
            return rule
        return None


class FaultMiddleware:
    """Falcon middleware: applies the first rule a request triggers before it is routed."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if self.harness.is_control(req.path):
            return
        rule = self.harness.faults.fire(req.method, req.path)
        if rule is None:
            return
        if rule.delay is not None:
            req.context.exophone_fault = "delay"
            if await self.harness.sleep(rule.delay):
                # A reset came while we waited: this request belongs to a past test.
                req.context.exophone_fault = "drop"
                await _drop(req, resp)
                return
        if rule.drop:
            req.context.exophone_fault = "drop"
            await _drop(req, resp)
        elif rule.status is not None:
            req.context.exophone_fault = "status"
            _answer(resp, rule)


def _answer(resp: falcon.asgi.Response, rule: FaultRule) -> None:
    assert rule.status is not None
    message = rule.message or _default_message(rule.status)
    resp.status = rule.status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = rest_exception(rule.status, message)
    if rule.retry_after is not None:
        resp.set_header("Retry-After", str(rule.retry_after))
    resp.complete = True


def _default_message(status: int) -> str:
    if status == 429:
        return "Too many requests: slow down and retry after the time given in Retry-After"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


async def _drop(req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
    """Close the connection without answering.

    Neither ASGI nor Falcon can do that, so this reaches uvicorn's transport
    through the request cycle that ``receive`` is a method of; the servers
    exophone runs are uvicorn. Elsewhere the request is answered with a 500
    that says why.
    """
    resp.complete = True
    cycle = getattr(req._receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    # Duck-typed: uvloop's transports are not asyncio.BaseTransport subclasses.
    if not callable(getattr(transport, "close", None)):
        resp.status = 500
        resp.content_type = falcon.MEDIA_JSON
        resp.data = rest_exception(500, "This ASGI server does not let exophone drop connections")
        return
    transport.close()  # type: ignore[union-attr]
    # Let uvicorn see the connection gone, so the answer Falcon still sends is discarded.
    for _ in range(100):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)
