"""Python helpers over the control API, for any test-mode exophone server.

::

    from exophone.testing import Control

    with Control("http://127.0.0.1:8000", token) as control:   # exophone serve --test-mode
        control.reset()
        me = control.seed.account("acme", api_key="acme-key-0001", api_token="acme-token-0001")
        numbers = control.seed.numbers("IN", "Landline", region="KA", count=3)
        control.faults.rate_limit("*/IncomingPhoneNumbers", method="POST", retry_after=2)
        control.clock.freeze("2025-01-01 10:00:00")
        ...
        assert control.journal.last(method="POST").params["PhoneNumber"] == numbers[0]

Errors of the control API raise the SDK's errors (``exophone.client.errors``):
a bad argument is a ``ValidationError``, a wrong token an ``AuthenticationError``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import httpx

from exophone.client.errors import error_from_response

PREFIX = "/_exophone"

At = datetime | str | float | int
"""An instant: a datetime (naive: the server's zone), ISO 8601 text, or epoch seconds."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """An account SID with an API key and token that work for it."""

    sid: str
    api_key: str
    api_token: str


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A request the server received (``params``: its form or JSON body, parsed)."""

    seq: int
    time: datetime
    method: str
    path: str
    query: dict[str, str]
    body: str
    params: dict[str, Any]
    headers: dict[str, str]
    account_sid: str | None
    api_key: str | None
    status: int | None
    fault: str | None
    duration_ms: float


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault rule as the server holds it; ``hits`` counts the requests it failed."""

    id: str
    method: str
    path: str
    status: int | None
    message: str | None
    retry_after: int | None
    delay: float | None
    drop: bool
    times: int | None
    remaining: int | None
    rate: float | None
    hits: int


@dataclass(frozen=True, slots=True)
class ClockState:
    now: datetime  # UTC
    local: str  # as dates on the wire show it
    timezone: str
    frozen: bool


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _at(value: At) -> str | float:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return float(value)


class Control:
    """The control API of one test-mode server, as Python calls.

    ``reset()``, ``seed``, ``journal``, ``faults``, ``clock`` and ``seed_ids()``;
    use it as a context manager, or ``close()`` it.
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
        self.seed = Seeding(self)
        """Accounts and numbers for sale."""
        self.journal = Journal(self)
        """The requests the server received."""
        self.faults = Faults(self)
        """Rules that make requests fail."""
        self.clock = Clock(self)
        """The server's clock."""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             params: dict[str, Any] | None = None) -> Any:  # fmt: skip
        """One control API request; its JSON answer, or the SDK error it stands for."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._http.request(method, f"{PREFIX}{path}", json=body, params=query)
        if not response.is_success:
            raise error_from_response(response)
        return response.json()

    def reset(self, account_sid: str | None = None) -> None:
        """Empty the server (journal, faults, clock and sids too), or take one account's state."""
        self.call("POST", "/reset" if account_sid is None else f"/accounts/{account_sid}/reset")

    def seed_ids(self, seed: int | None) -> None:
        """Start the sequence of sids again from ``seed`` (``None``: random sids)."""
        self.call("POST", "/ids", {"seed": seed})

    def status(self) -> dict[str, Any]:
        """What test mode holds: seed, clock, journal size and faults."""
        answer: dict[str, Any] = self.call("GET", "")
        return answer

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Seeding:
    def __init__(self, control: Control) -> None:
        self._control = control

    def account(
        self,
        sid: str,
        name: str | None = None,
        *,
        api_key: str | None = None,
        api_token: str | None = None,
    ) -> Credentials:
        """Create an account; with ``api_key`` and ``api_token`` those work for it."""
        body = {"sid": sid, "name": name, "api_key": api_key, "api_token": api_token}
        answer = self._control.call("POST", "/accounts", {k: v for k, v in body.items() if v})
        return Credentials(answer["account_sid"], answer["api_key"], answer["api_token"])

    def numbers(
        self,
        country: str | None = None,
        number_type: str | None = None,
        *,
        region: str | None = None,
        count: int = 1,
        numbers: builtins.list[str | dict[str, Any]] | None = None,
        seed: int | None = None,
    ) -> builtins.list[str]:
        """Put numbers up for sale; returns the new ones (E.164).

        ``numbers("IN", "Landline", region="KA", count=3)`` generates valid
        numbers (the same ones after each reset when the server has a seed);
        ``numbers(numbers=["+918023456701"])`` adds those, their type read from
        the number (Indian mobiles need a ``region``).
        """
        body = {"country": country, "number_type": number_type, "region": region,
                "count": count, "numbers": numbers, "seed": seed}  # fmt: skip
        answer = self._control.call("POST", "/numbers", {k: v for k, v in body.items()
                                                         if v is not None})  # fmt: skip
        added: builtins.list[str] = answer["numbers"]
        return added


class Journal:
    def __init__(self, control: Control) -> None:
        self._control = control

    def entries(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        account_sid: str | None = None,
        status: int | None = None,
        fault: str | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> builtins.list[JournalEntry]:
        """The requests received, oldest first; ``path`` is a glob (``*/IncomingPhoneNumbers``)."""
        query = {"method": method, "path": path, "account_sid": account_sid, "status": status,
                 "fault": fault, "since": since, "limit": limit}  # fmt: skip
        answer = self._control.call("GET", "/journal", params=query)
        return [_entry(e) for e in answer["entries"]]

    def last(self, method: str | None = None, path: str | None = None,
             **filters: Any) -> JournalEntry | None:  # fmt: skip
        """The latest request that matches, or None."""
        found = self.entries(method, path, limit=1, **filters)
        return found[0] if found else None

    def count(self, method: str | None = None, path: str | None = None, **filters: Any) -> int:
        return len(self.entries(method, path, **filters))

    def clear(self) -> None:
        self._control.call("DELETE", "/journal")


def _entry(e: dict[str, Any]) -> JournalEntry:
    return JournalEntry(
        seq=e["seq"], time=_utc(e["time"]), method=e["method"], path=e["path"],
        query=e["query"], body=e["body"], params=e["params"], headers=e["headers"],
        account_sid=e["account_sid"], api_key=e["api_key"], status=e["status"],
        fault=e["fault"], duration_ms=e["duration_ms"],
    )  # fmt: skip


class Faults:
    def __init__(self, control: Control) -> None:
        self._control = control

    def add(
        self,
        path: str = "*",
        method: str = "*",
        *,
        status: int | None = None,
        message: str | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
        drop: bool = False,
        times: int | None = 1,
        rate: float | None = None,
    ) -> Fault:
        """A fault on requests whose path matches the glob ``path``.

        It fires on the next ``times`` matching requests (``None``: all of
        them), or on a ``rate`` share of them: answers ``status`` with a
        RestException body (``message``; a 429 carries ``Retry-After``),
        answers ``delay`` seconds late, or drops the connection.
        """
        body = {"path": path, "method": method, "status": status, "message": message,
                "retry_after": retry_after, "delay": delay, "drop": drop, "times": times,
                "rate": rate}  # fmt: skip
        return Fault(**self._control.call("POST", "/faults", body))

    def fail(self, path: str, status: int = 503, *, method: str = "*", message: str | None = None,
             times: int | None = 1, rate: float | None = None) -> Fault:  # fmt: skip
        """Answer ``status`` (500, 503, 409, ...) with a RestException body."""
        return self.add(path, method, status=status, message=message, times=times, rate=rate)

    def rate_limit(self, path: str, *, method: str = "*", retry_after: int = 1,
                   times: int | None = 1, rate: float | None = None) -> Fault:  # fmt: skip
        """Answer 429 with ``Retry-After: retry_after``, as the real rate limit does."""
        return self.add(path, method, status=429, retry_after=retry_after, times=times, rate=rate)

    def delay(self, path: str, seconds: float, *, method: str = "*", times: int | None = 1,
              rate: float | None = None) -> Fault:  # fmt: skip
        """Answer for real, ``seconds`` late (beyond a client's timeout: a timeout)."""
        return self.add(path, method, delay=seconds, times=times, rate=rate)

    def drop(self, path: str, *, method: str = "*", times: int | None = 1,
             rate: float | None = None) -> Fault:  # fmt: skip
        """Close the connection without an answer."""
        return self.add(path, method, drop=True, times=times, rate=rate)

    def list(self) -> builtins.list[Fault]:
        return [Fault(**f) for f in self._control.call("GET", "/faults")["faults"]]

    def get(self, fault_id: str) -> Fault:
        return Fault(**self._control.call("GET", f"/faults/{fault_id}"))

    def remove(self, fault_id: str) -> None:
        self._control.call("DELETE", f"/faults/{fault_id}")

    def clear(self) -> None:
        self._control.call("DELETE", "/faults")


class Clock:
    def __init__(self, control: Control) -> None:
        self._control = control

    def _act(self, action: str, body: dict[str, Any] | None = None) -> ClockState:
        path = "/clock" if not action else f"/clock/{action}"
        answer = self._control.call("POST" if action else "GET", path, body)
        return ClockState(_utc(answer["now"]), answer["local"], answer["timezone"],
                          answer["frozen"])  # fmt: skip

    def state(self) -> ClockState:
        return self._act("")

    def now(self) -> datetime:
        """The server's time, UTC."""
        return self.state().now

    def freeze(self, at: At | None = None) -> datetime:
        """Stop the clock now, or at ``at``; dates of answers stay there until moved."""
        return self._act("freeze", {} if at is None else {"at": _at(at)}).now

    def set(self, at: At) -> datetime:
        """Jump to ``at``; a frozen clock stays frozen, a running one runs on from there."""
        return self._act("set", {"at": _at(at)}).now

    def advance(self, by: timedelta | float) -> datetime:
        """Move the clock by ``by`` (a timedelta or seconds; negative moves it back)."""
        seconds = by.total_seconds() if isinstance(by, timedelta) else float(by)
        return self._act("advance", {"seconds": seconds}).now

    def resume(self) -> datetime:
        """Let a frozen clock run on from where it stands."""
        return self._act("resume").now

    def reset(self) -> datetime:
        """Back to the system clock."""
        return self._act("reset").now
