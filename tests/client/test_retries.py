"""Retry and backoff timing, with httpx.MockTransport: the exact pauses, without waiting.

Retries against a real server's injected 429/503/500, delays and dropped
connections are in examples/provisioning/test_provisioning.py (the test kit's faults).

Nothing here really sleeps: the clients' ``sleep`` records the pauses instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from exophone.client import (
    AsyncClient,
    Client,
    ConnectionError,
    NotFoundError,
    NumberUnavailableError,
    RateLimitError,
    ServerError,
    TimeoutError,
    ValidationError,
)
from exophone.client._core import MAX_BACKOFF, MAX_RETRY_AFTER

BASE = "http://exophone.test"

NUMBER = {
    "sid": "9eeafc8ab479a386dc95f854f9d7cd8a",
    "date_created": "2024-11-09 13:48:12",
    "date_updated": "2024-11-09 13:48:12",
    "account_sid": "acme",
    "friendly_name": "08023456701",
    "phone_number": "+918023456701",
    "capabilities": {"voice": True, "sms": True},
    "country": "IN",
    "region": "KA",
    "one_time_price": "0.000000",
    "rental_price": "499.000000",
    "incoming_rate": "0.000000",
    "incoming_pulse": "60",
    "currency": "INR",
    "number_type": "Landline",
    "vanity_number": False,
    "voice_url": None,
    "sms_url": None,
    "uri": "/v2_beta/Accounts/acme/IncomingPhoneNumbers/9eeafc8ab479a386dc95f854f9d7cd8a",
}


def error(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"RestException": {"Status": status, "Message": f"failure {status}"}}
    return httpx.Response(status, json=body, headers=headers)


class Script:
    """A fake service answering from a list, recording every request it gets."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def make(waits: list[float]) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(script: Script, **settings: Any) -> Client:
        http = httpx.Client(transport=httpx.MockTransport(script))
        client = Client(
            "acme", "key", "token", base_url=BASE, http_client=http, sleep=waits.append, **settings
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client._http.close()


def ok() -> httpx.Response:
    return httpx.Response(200, json=NUMBER)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@pytest.mark.parametrize("method", ["get", "update", "release", "buy"])
def test_retryable_statuses_are_retried_until_success(
    make: Callable[..., Client], waits: list[float], status: int, method: str
) -> None:
    script = Script(error(status), error(status), ok())
    numbers = make(script).incoming_phone_numbers
    calls: dict[str, Callable[[], object]] = {
        "get": lambda: numbers.get("x"),
        "update": lambda: numbers.update("x", friendly_name="n"),
        "release": lambda: numbers.release("x"),
        "buy": lambda: numbers.buy("+918023456701"),
    }
    calls[method]()
    assert len(script.requests) == 3
    assert len(waits) == 2
    assert {r.method for r in script.requests} == {
        {"get": "GET", "update": "PUT", "release": "DELETE", "buy": "POST"}[method]
    }


def test_retries_stop_after_max_retries(make: Callable[..., Client], waits: list[float]) -> None:
    script = Script(error(503))
    with pytest.raises(ServerError) as caught:
        make(script, max_retries=3).incoming_phone_numbers.get("x")
    assert caught.value.status == 503 and caught.value.message == "failure 503"
    assert len(script.requests) == 4
    assert len(waits) == 3


def test_max_retries_zero_means_one_attempt(
    make: Callable[..., Client], waits: list[float]
) -> None:
    script = Script(error(503))
    with pytest.raises(ServerError):
        make(script, max_retries=0).incoming_phone_numbers.get("x")
    assert (len(script.requests), waits) == (1, [])


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, ValidationError), (404, NotFoundError), (409, NumberUnavailableError)],
)
def test_client_errors_are_not_retried(
    make: Callable[..., Client], waits: list[float], status: int, cls: type[Exception]
) -> None:
    script = Script(error(status))
    with pytest.raises(cls):
        make(script).incoming_phone_numbers.buy("+918023456701")
    assert (len(script.requests), waits) == (1, [])


def test_a_409_with_retry_after_is_retried_with_the_same_key(
    make: Callable[..., Client], waits: list[float]
) -> None:
    """The server's answer while an earlier attempt with the same Idempotency-Key still
    runs: the retry, with the same key, gets that attempt's answer."""
    script = Script(error(409, {"Retry-After": "1"}), ok())
    bought = make(script).incoming_phone_numbers.buy("+918023456701")
    assert bought.phone_number == "+918023456701"
    assert waits == [1.0]
    keys = {r.headers["Idempotency-Key"] for r in script.requests}
    assert len(script.requests) == 2 and len(keys) == 1


def test_retry_after_is_honoured(make: Callable[..., Client], waits: list[float]) -> None:
    script = Script(error(429, {"Retry-After": "2"}), error(503, {"Retry-After": "0.25"}), ok())
    number = make(script).incoming_phone_numbers.get("x")
    assert number.sid == NUMBER["sid"]
    assert waits == [2.0, 0.25]


def test_a_retry_after_too_long_is_not_waited_for(
    make: Callable[..., Client], waits: list[float]
) -> None:
    script = Script(error(429, {"Retry-After": str(int(MAX_RETRY_AFTER) + 1)}), ok())
    with pytest.raises(RateLimitError) as caught:
        make(script).incoming_phone_numbers.get("x")
    assert caught.value.retry_after == MAX_RETRY_AFTER + 1
    assert (len(script.requests), waits) == (1, [])


def test_rate_limit_error_after_retries_carries_retry_after(
    make: Callable[..., Client], waits: list[float]
) -> None:
    script = Script(error(429, {"Retry-After": "1"}))
    with pytest.raises(RateLimitError) as caught:
        make(script, max_retries=2).incoming_phone_numbers.list()
    assert caught.value.retry_after == 1.0
    assert waits == [1.0, 1.0]


def test_backoff_is_exponential_with_full_jitter(
    make: Callable[..., Client], waits: list[float]
) -> None:
    retries, backoff, runs = 6, 0.5, 40
    client = make(Script(error(500)), max_retries=retries, backoff=backoff)
    for _ in range(runs):
        with pytest.raises(ServerError):
            client.incoming_phone_numbers.get("x")
    assert len(waits) == retries * runs
    by_attempt = [waits[i::retries] for i in range(retries)]
    for attempt, delays in enumerate(by_attempt):
        ceiling = min(MAX_BACKOFF, backoff * 2**attempt)
        assert all(0 <= d <= ceiling for d in delays), (attempt, delays)
        # Jittered: spread over the range, not a fixed value.
        assert len(set(delays)) > runs // 2
        assert max(delays) > ceiling / 2
    # Exponential: later attempts wait longer on average, up to the cap.
    means = [sum(d) / runs for d in by_attempt]
    assert means[0] < means[2] < means[4]


def test_buy_keeps_one_idempotency_key_across_retries(
    make: Callable[..., Client], waits: list[float]
) -> None:
    script = Script(error(503), httpx.ConnectError("reset"), error(429), ok())
    client = make(script)
    client.incoming_phone_numbers.buy("+918023456701", friendly_name="Sales")
    keys = [r.headers.get("Idempotency-Key") for r in script.requests]
    assert len(keys) == 4 and keys[0] and len(set(keys)) == 1
    assert all(
        r.content == b"PhoneNumber=%2B918023456701&FriendlyName=Sales" for r in script.requests
    )

    again = Script(ok())
    make(again).incoming_phone_numbers.buy("+918023456701")
    assert again.requests[0].headers["Idempotency-Key"] not in keys

    chosen = Script(error(500), ok())
    make(chosen).incoming_phone_numbers.buy("+918023456701", idempotency_key="order-42")
    assert [r.headers["Idempotency-Key"] for r in chosen.requests] == ["order-42", "order-42"]


def test_only_purchases_carry_an_idempotency_key(make: Callable[..., Client]) -> None:
    script = Script(ok())
    numbers = make(script).incoming_phone_numbers
    numbers.get("x")
    numbers.update("x", voice_url="")
    assert all("Idempotency-Key" not in r.headers for r in script.requests)
    assert script.requests[1].content == b"VoiceUrl="


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        (httpx.ConnectError("refused"), ConnectionError),
        (httpx.ReadError("reset"), ConnectionError),
        (httpx.RemoteProtocolError("garbage"), ConnectionError),
        (httpx.ConnectTimeout("slow"), TimeoutError),
        (httpx.ReadTimeout("slow"), TimeoutError),
    ],
)
def test_transport_failures_are_retried_then_raised(
    make: Callable[..., Client], waits: list[float], failure: Exception, cls: type[Exception]
) -> None:
    script = Script(failure)
    with pytest.raises(cls) as caught:
        make(script, max_retries=2).incoming_phone_numbers.buy("+918023456701")
    assert caught.value.__cause__ is failure
    assert (len(script.requests), len(waits)) == (3, 2)


def test_transport_failure_then_success(make: Callable[..., Client], waits: list[float]) -> None:
    script = Script(httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), ok())
    assert make(script).incoming_phone_numbers.get("x").phone_number == "+918023456701"
    assert len(waits) == 2


def test_requests_carry_credentials_and_timeout(make: Callable[..., Client]) -> None:
    script = Script(ok())
    make(script, timeout=4.0).incoming_phone_numbers.get("+918023456701")
    request = script.requests[0]
    assert request.url == f"{BASE}/v2_beta/Accounts/acme/IncomingPhoneNumbers/%2B918023456701"
    assert request.headers["Authorization"] == "Basic a2V5OnRva2Vu"  # key:token
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("exophone-python/")
    assert request.extensions["timeout"] == httpx.Timeout(4.0).as_dict()


def test_an_unreadable_success_is_an_exophone_error(make: Callable[..., Client]) -> None:
    from exophone.client import ExophoneError

    with pytest.raises(ExophoneError, match="Unexpected answer") as caught:
        make(Script(httpx.Response(200, text="<html>"))).incoming_phone_numbers.get("x")
    assert caught.value.status == 200
    broken = {k: v for k, v in NUMBER.items() if k != "sid"}
    with pytest.raises(ExophoneError, match="no 'sid'"):
        make(Script(httpx.Response(200, json=broken))).incoming_phone_numbers.get("x")


@pytest.mark.anyio
async def test_async_client_retries_the_same_way(anyio_backend: str) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    script = Script(error(429, {"Retry-After": "3"}), error(502), httpx.ConnectError("x"), ok())
    http = httpx.AsyncClient(transport=httpx.MockTransport(script))
    async with (
        http,
        AsyncClient("acme", "k", "t", base_url=BASE, http_client=http, sleep=sleep) as c,
    ):
        number = await c.incoming_phone_numbers.buy("+918023456701")
    assert number.sid == NUMBER["sid"]
    assert len(script.requests) == 4 and waits[0] == 3.0 and len(waits) == 3
    assert len({r.headers["Idempotency-Key"] for r in script.requests}) == 1

    failing = Script(httpx.ReadTimeout("slow"))
    http = httpx.AsyncClient(transport=httpx.MockTransport(failing))
    settings: dict[str, Any] = {"http_client": http, "sleep": sleep, "max_retries": 1}
    async with http, AsyncClient("acme", "k", "t", base_url=BASE, **settings) as c:
        with pytest.raises(TimeoutError):
            await c.incoming_phone_numbers.get("x")
    assert len(failing.requests) == 2
