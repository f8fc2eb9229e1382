"""Every error the server can answer, as the SDK raises it; and the status map."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from exophone.client import (
    AuthenticationError,
    Client,
    ConnectionError,
    ExophoneError,
    NotFoundError,
    NumberUnavailableError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TimeoutError,
    ValidationError,
    error_for_status,
)
from exophone.client.errors import error_from_response, retry_after_seconds
from tests.conftest import World


def test_wrong_token_is_authentication_error(world: World, server: str) -> None:
    with (
        Client("acme", world.acme.key, "0" * 48, base_url=server) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.incoming_phone_numbers.list()
    err = caught.value
    assert err.status == 401
    assert err.message and err.message == str(err)
    assert err.body == {"RestException": {"Status": 401, "Message": err.message}}
    assert err.request_id is not None and len(err.request_id) == 32  # the X-Request-Id header


def test_another_accounts_sid_is_permission_denied(world: World, server: str) -> None:
    with (
        Client("other", world.acme.key, world.acme.token, base_url=server) as client,
        pytest.raises(PermissionDeniedError) as caught,
    ):
        client.available_phone_numbers.countries()
    assert caught.value.status == 403


def test_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.incoming_phone_numbers.get("08099999999")
    assert caught.value.status == 404
    assert caught.value.message == "No ExoPhone '08099999999' in this account"


def test_taken_number_is_number_unavailable(client: Client, other_client: Client) -> None:
    other_client.incoming_phone_numbers.buy("+918023456701")
    with pytest.raises(NumberUnavailableError) as caught:
        client.incoming_phone_numbers.buy("+918023456701")
    assert caught.value.status == 409


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.incoming_phone_numbers.list(page_size=0), "PageSize must be between"),
        (lambda c: c.incoming_phone_numbers.list(page=-1), "Page must be between"),
        (lambda c: c.available_phone_numbers.search("IN", "Landline", contains="x"), "Contains"),
        (lambda c: c.available_phone_numbers.search("IN", "Landline", in_region="ZZ"), "ZZ"),
        (lambda c: c.incoming_phone_numbers.buy(""), "PhoneNumber is mandatory"),
        (lambda c: c.incoming_phone_numbers.buy("+918023456701", voice_url="ftp://x"), "VoiceUrl"),
    ],
)
def test_bad_input_is_validation_error(client: Client, call: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        call(client)  # type: ignore[operator]
    assert caught.value.status == 400


def test_bad_update_changes_nothing(client: Client) -> None:
    bought = client.incoming_phone_numbers.buy("+918023456701", friendly_name="Sales")
    with pytest.raises(ValidationError):
        client.incoming_phone_numbers.update(bought.sid, friendly_name="ok", sms_url="nope")
    assert client.incoming_phone_numbers.get(bought.sid).friendly_name == "Sales"


def test_every_error_is_an_exophone_error() -> None:
    for cls in (
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        NumberUnavailableError,
        ValidationError,
        RateLimitError,
        ServerError,
        ConnectionError,
        TimeoutError,
    ):
        assert issubclass(cls, ExophoneError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (402, ExophoneError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (405, ExophoneError),
        (409, NumberUnavailableError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (599, ServerError),
    ],
)
def test_error_for_status(status: int, cls: type[ExophoneError]) -> None:
    assert error_for_status(status) is cls


def test_error_from_response_reads_envelope_request_id_and_retry_after() -> None:
    response = httpx.Response(
        429,
        json={"RestException": {"Status": 429, "Message": "Slow down"}},
        headers={"X-Request-Id": "req-123", "Retry-After": "7"},
    )
    err = error_from_response(response)
    assert isinstance(err, RateLimitError)
    assert (err.status, err.message, err.request_id, err.retry_after) == (
        429,
        "Slow down",
        "req-123",
        7.0,
    )


def test_error_from_a_non_json_answer_keeps_its_text() -> None:
    err = error_from_response(httpx.Response(502, text="<html>Bad gateway</html>"))
    assert isinstance(err, ServerError)
    assert err.message == "<html>Bad gateway</html>"
    assert error_from_response(httpx.Response(503)).message == "Service Unavailable"


def test_retry_after_takes_seconds_or_a_date() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


@pytest.fixture
def dead_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def test_refused_connection_is_connection_error_after_retries(dead_port: int) -> None:
    waits: list[float] = []
    with (
        Client(
            "acme",
            "k",
            "t",
            base_url=f"http://127.0.0.1:{dead_port}",
            max_retries=2,
            sleep=waits.append,
        ) as client,
        pytest.raises(ConnectionError) as caught,
    ):
        client.available_phone_numbers.countries()
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(waits) == 2


def test_no_answer_in_time_is_timeout_error(silent_server: str) -> None:
    waits: list[float] = []
    with (
        Client(
            "acme", "k", "t", base_url=silent_server, timeout=0.2, max_retries=1, sleep=waits.append
        ) as client,
        pytest.raises(TimeoutError),
    ):
        client.incoming_phone_numbers.get("x")
    assert len(waits) == 1
