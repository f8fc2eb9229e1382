"""What the sync and async clients share: building requests, retrying, reading answers.

A call is described once, as data (:class:`Call`). :meth:`BaseClient._exchange`
runs it as a generator that yields what to do next, ``Send(request)`` or
``Sleep(seconds)``, and is sent back what happened; it holds the whole retry
policy and turns the final answer into a result or an error. The sync and async
clients only drive that generator with their own transport and sleep, so both
behave the same by construction.
"""

from __future__ import annotations

import base64
import logging
import random
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpx

from exophone import __version__
from exophone.client._config import Config
from exophone.client.errors import (
    ConnectionError,
    ExophoneError,
    TimeoutError,
    error_from_response,
    retry_after_seconds,
)

log = logging.getLogger("exophone.client")

T = TypeVar("T")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)

MAX_BACKOFF = 8.0
"""The longest pause between two attempts, in seconds, when the server names none."""

MAX_RETRY_AFTER = 60.0
"""A ``Retry-After`` longer than this is not waited for: the error is raised at once."""

RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
# A 409 with Retry-After: an earlier attempt with the same Idempotency-Key is still
# running (a 409 without it, such as a number not for sale, is final).
BUSY = 409
# Failures where the request may not have reached the server, or its answer was
# lost: worth another try. Others (a bad URL, an unsupported scheme) are not.
RETRY_TRANSPORT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
SAFE_METHODS = frozenset({"GET", "PUT", "DELETE"})
IDEMPOTENCY_KEY = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API call: where it goes, what it carries, how its answer is read."""

    method: str
    url: str
    parse: Callable[[Any], T]
    params: Mapping[str, str] | None = None
    data: Mapping[str, str] | None = None
    idempotency_key: str | None = None

    @property
    def retryable(self) -> bool:
        """GET, PUT and DELETE are idempotent; a POST is when it carries a key."""
        return self.method in SAFE_METHODS or self.idempotency_key is not None


@dataclass(frozen=True, slots=True)
class Send:
    """Step: send this request and report the answer or the transport error."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    """Step: wait this many seconds before the next attempt."""

    seconds: float


Step = Send | Sleep
Outcome = httpx.Response | httpx.RequestError | None
Exchange = Generator[Step, Outcome, T]


class BaseClient(Generic[HttpT]):
    """Settings, URLs, request building and the retry policy of both clients."""

    def __init__(self, config: Config, http: HttpT, *, owns_http: bool) -> None:
        self._config = config
        self._http: HttpT = http
        self._owns_http = owns_http
        self._random = random.Random()
        credentials = f"{config.api_key}:{config.api_token}".encode()
        self._headers = {
            "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
            "Accept": "application/json",
            "User-Agent": f"exophone-python/{__version__} httpx/{httpx.__version__}",
        }
        self._account_url = f"{config.base_url}/v2_beta/Accounts/{quote(config.account_sid, '')}"

    @property
    def account_sid(self) -> str:
        """The account SID every call goes to."""
        return self._config.account_sid

    @property
    def base_url(self) -> str:
        """The service's base URL, without credentials."""
        return self._config.base_url

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt of a call."""
        return self._config.max_retries

    @property
    def timeout(self) -> float | httpx.Timeout | None:
        """The timeout of each attempt, in seconds (or an ``httpx.Timeout``)."""
        return self._config.timeout

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(account_sid={self.account_sid!r}, base_url={self.base_url!r})"
        )

    # -- URLs ---------------------------------------------------------------

    def _url(self, *segments: str) -> str:
        """An account URL; each segment is percent-encoded (``+91...`` -> ``%2B91...``)."""
        return "/".join([self._account_url, *(quote(s, safe="") for s in segments)])

    def _follow(self, link: str) -> str:
        """A paging link, rebased onto our base URL.

        The service builds paging links from the host it saw, which need not be
        the one we called (the reference shows an internal host); keep its path
        and query, never send the credentials elsewhere.
        """
        base = urlsplit(self._config.base_url)
        target = urlsplit(urljoin(self._config.base_url + "/", link))
        return urlunsplit((base.scheme, base.netloc, target.path, target.query, ""))

    # -- one call -----------------------------------------------------------

    def _request(self, call: Call[Any]) -> httpx.Request:
        headers = dict(self._headers)
        if call.idempotency_key is not None:
            headers[IDEMPOTENCY_KEY] = call.idempotency_key
        return self._http.build_request(
            call.method,
            call.url,
            params=dict(call.params) if call.params is not None else None,
            data=dict(call.data) if call.data is not None else None,
            headers=headers,
            timeout=self._config.timeout,
        )

    def _exchange(self, call: Call[T]) -> Exchange[T]:
        """Run ``call`` with retries; see the module docstring."""
        attempt = 0
        while True:
            outcome = yield Send(self._request(call))
            delay = self._retry_delay(call, attempt, outcome)
            if delay is None:
                return self._result(call, outcome)
            attempt += 1
            log.info(
                "exophone: %s %s failed (%s); attempt %d of %d in %.2fs",
                call.method,
                call.url,
                _describe(outcome),
                attempt + 1,
                self._config.max_retries + 1,
                delay,
            )
            yield Sleep(delay)

    def _retry_delay(self, call: Call[Any], attempt: int, outcome: Outcome) -> float | None:
        """Seconds to wait before retrying, or ``None`` to stop here."""
        if attempt >= self._config.max_retries or not call.retryable:
            return None
        if isinstance(outcome, httpx.Response):
            wait = retry_after_seconds(outcome.headers.get("Retry-After"))
            if outcome.status_code not in RETRY_STATUSES and not (
                outcome.status_code == BUSY and wait is not None
            ):
                return None
            if wait is not None:
                return wait if wait <= MAX_RETRY_AFTER else None
            return self._backoff(attempt)
        if isinstance(outcome, RETRY_TRANSPORT_ERRORS):
            return self._backoff(attempt)
        return None

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, backoff * 2**attempt]."""
        ceiling = min(MAX_BACKOFF, self._config.backoff * (2**attempt))
        return self._random.uniform(0.0, ceiling)

    def _result(self, call: Call[T], outcome: Outcome) -> T:
        if isinstance(outcome, httpx.TimeoutException):
            raise TimeoutError(f"{call.method} {call.url} timed out: {outcome}") from outcome
        if isinstance(outcome, httpx.RequestError):
            raise ConnectionError(f"{call.method} {call.url} failed: {outcome!r}") from outcome
        if outcome is None:  # pragma: no cover - a driver bug
            raise RuntimeError("no outcome to read")
        if not outcome.is_success:
            raise error_from_response(outcome)
        return _parse(call, outcome)


def _parse(call: Call[T], response: httpx.Response) -> T:
    try:
        body = response.json() if response.content.strip() else None
        return call.parse(body)
    except (ValueError, TypeError, KeyError) as exc:
        raise ExophoneError(
            f"Unexpected answer to {call.method} {call.url}: {exc}",
            status=response.status_code,
            request_id=response.headers.get("X-Request-Id"),
        ) from exc


def _describe(outcome: Outcome) -> str:
    if isinstance(outcome, httpx.Response):
        return f"HTTP {outcome.status_code}"
    return type(outcome).__name__


def new_idempotency_key() -> str:
    """A fresh key for one purchase; all retries of that purchase send the same."""
    return str(uuid.uuid4())
