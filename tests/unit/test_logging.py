"""Structured logs: one JSON line per request with its fields, and never a credential."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import logging.config
import re
import time
from typing import Any

import falcon.asgi
import httpx
import orjson
import pytest

from exophone.api import create_app
from exophone.api.observability import (
    ACCESS_LOGGER,
    AccessLogHandler,
    JsonFormatter,
    log_config,
    log_request,
    redact,
    utc_time,
)
from tests.conftest import World, basic

FIELDS = {
    "time",
    "level",
    "logger",
    "message",
    "request_id",
    "account_sid",
    "method",
    "path",
    "route",
    "status",
    "latency_ms",
}


class Boom:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise RuntimeError("database said no to postgresql://app:hunter2@db/x")


def serve(world: World, *requests: tuple[str, str, dict[str, str]]) -> list[httpx.Response]:
    app = create_app(world.ctx)
    app.add_route("/boom", Boom())

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [await client.request(m, url, headers=h) for m, url, h in requests]

    return asyncio.run(run())


def capture(world: World, *requests: tuple[str, str, dict[str, str]]) -> tuple[Any, str]:
    """Send the requests; return the answers and everything the exophone loggers wrote."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("exophone")
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        answers = serve(world, *requests)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
    return answers, out.getvalue()


def parse(text: str) -> list[dict[str, Any]]:
    rows = [orjson.loads(line) for line in text.splitlines()]
    assert all(isinstance(r, dict) for r in rows)
    return rows


def test_one_line_per_request_with_its_fields(world: World) -> None:
    path = "/v2_beta/Accounts/acme/IncomingPhoneNumbers"
    answers, text = capture(
        world,
        ("GET", path, {"Authorization": basic(world.acme), "X-Request-Id": "abc-1"}),
        ("GET", "/nowhere", {}),
    )
    rows = parse(text)
    assert len(rows) == 2
    ok, missing = rows
    assert set(ok) == FIELDS
    assert ok["logger"] == "exophone.access" and ok["level"] == "INFO"
    assert ok["request_id"] == "abc-1" == answers[0].headers["X-Request-Id"]
    assert ok["account_sid"] == "acme"
    assert (ok["method"], ok["path"], ok["status"]) == ("GET", path, 200)
    assert ok["route"] == "/v2_beta/Accounts/{sid}/IncomingPhoneNumbers"
    assert isinstance(ok["latency_ms"], float) and 0 < ok["latency_ms"] < 10_000
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ok["time"])
    assert missing["request_id"] == answers[1].headers["X-Request-Id"]
    assert (missing["account_sid"], missing["status"], missing["route"]) == (None, 404, "")


def test_no_token_or_authorization_even_when_basic_auth_fails(world: World) -> None:
    key, token = world.acme.key, world.acme.token
    wrong = "Basic " + base64.b64encode(f"{key}:wrong-token-value".encode()).decode()
    good = basic(world.acme)
    path = "/v2_beta/Accounts/acme/IncomingPhoneNumbers"
    answers, text = capture(
        world,
        ("GET", path, {"Authorization": wrong}),
        ("GET", f"{path}?token={token}&api_key={key}", {"Authorization": good}),
        ("GET", "/v2_beta/Accounts/other/IncomingPhoneNumbers", {"Authorization": good}),
        ("POST", path, {"Authorization": "Bearer " + token}),
    )
    assert [a.status_code for a in answers] == [401, 200, 403, 401]
    rows = parse(text)
    assert [r["status"] for r in rows] == [401, 200, 403, 401]
    assert [r["account_sid"] for r in rows] == [None, "acme", None, None]
    for secret in (token, "wrong-token-value", good.split()[1], wrong.split()[1], "token="):
        assert secret not in text
    assert "authorization" not in text.lower()
    assert rows[1]["path"] == path  # no query string


def test_an_error_that_became_500_is_logged_with_its_traceback(world: World) -> None:
    answers, text = capture(world, ("GET", "/boom", {"X-Request-Id": "boom-1"}))
    assert answers[0].status_code == 500
    body = answers[0].json()
    assert body == {"RestException": {"Status": 500, "Message": "Internal server error"}}
    assert "Traceback" not in answers[0].text
    error, access = parse(text)
    assert error["level"] == "ERROR" and error["request_id"] == "boom-1"
    assert "Traceback" in error["exc_info"] and "RuntimeError" in error["exc_info"]
    assert "hunter2" not in text and "postgresql://app:[redacted]@db/x" in error["exc_info"]
    assert (access["status"], access["request_id"]) == (500, "boom-1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [redacted]"),
        ("authorization: bearer abc.def-ghi", "authorization: bearer [redacted]"),
        ("postgresql://app:s3cret@db:5432/x", "postgresql://app:[redacted]@db:5432/x"),
        ("redis://:pw@127.0.0.1:6379/0", "redis://:[redacted]@127.0.0.1:6379/0"),
        ("http://127.0.0.1:8000/a@b", "http://127.0.0.1:8000/a@b"),
        ("nothing to hide", "nothing to hide"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_utc_time() -> None:
    assert utc_time(1_700_000_000.0) == "2023-11-14T22:13:20.000Z"
    assert utc_time(1_700_000_000.9996) == "2023-11-14T22:13:20.999Z"
    assert utc_time(1_700_000_061.25) == "2023-11-14T22:14:21.250Z"


def test_formatter_outside_a_request_and_with_arguments() -> None:
    record = logging.LogRecord("exophone.x", logging.WARNING, __file__, 1, "a %s b", ("c",), None)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = orjson.loads(line)
    assert entry["message"] == "a c b" and entry["level"] == "WARNING"
    assert "request_id" not in entry


def test_log_config_is_a_valid_dict_config() -> None:
    config = log_config("warning")
    assert config["loggers"]["exophone"]["level"] == "WARNING"
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    configurator = logging.config.DictConfigurator(config)
    formatter = configurator.configure_formatter(config["formatters"]["json"])
    assert isinstance(formatter, JsonFormatter)


ACCESS = {
    "request_id": "rid-1",
    "account_sid": "acme",
    "method": "GET",
    "path": "/v2_beta/Accounts/acme/IncomingPhoneNumbers",
    "route": "/v2_beta/Accounts/{sid}/IncomingPhoneNumbers",
    "status": 200,
    "seconds": 0.0012345,
}


@pytest.fixture
def access_handler() -> Any:
    """exophone's own access-log set-up (log_config) on a StringIO, undone afterwards."""
    out = io.StringIO()
    handler = AccessLogHandler(out, buffer_bytes=1 << 20, interval=3600)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield handler, out
    handler.close()
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def test_access_lines_are_buffered_until_flushed(access_handler: Any) -> None:
    handler, out = access_handler
    for _ in range(3):
        log_request(**ACCESS)
    assert out.getvalue() == ""
    handler.flush()
    rows = parse(out.getvalue())
    assert len(rows) == 3
    assert set(rows[0]) == FIELDS
    assert rows[0]["latency_ms"] == 1.234 and rows[0]["logger"] == ACCESS_LOGGER


def test_the_buffer_is_written_when_full(access_handler: Any) -> None:
    handler, out = access_handler
    handler.buffer_bytes = 500
    for _ in range(4):
        log_request(**ACCESS)
    assert len(parse(out.getvalue())) >= 2  # written without a flush


def test_quiet_periods_are_flushed_by_the_handler_itself(access_handler: Any) -> None:
    handler, out = access_handler
    handler.interval = 0.05
    log_request(**ACCESS)
    deadline = time.monotonic() + 5
    while not out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(parse(out.getvalue())) == 1


def test_closing_writes_what_is_waiting(access_handler: Any) -> None:
    handler, out = access_handler
    log_request(**ACCESS)
    handler.close()
    assert len(parse(out.getvalue())) == 1


def test_the_direct_line_matches_the_formatted_record(access_handler: Any) -> None:
    """log_request skips the LogRecord for exophone's own handler: same line either way."""
    handler, out = access_handler
    log_request(**ACCESS)
    handler.flush()
    direct = orjson.loads(out.getvalue())
    other = logging.StreamHandler(io.StringIO())  # any other handler gets the record
    other.setFormatter(JsonFormatter())
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.handlers[:] = [other]
    log_request(**ACCESS)
    formatted = orjson.loads(other.stream.getvalue())
    direct.pop("time"), formatted.pop("time")
    assert direct == formatted


def test_log_config_buffers_the_access_log() -> None:
    config = log_config("info")
    access = config["loggers"][ACCESS_LOGGER]
    assert access["propagate"] is False
    assert config["handlers"][access["handlers"][0]]["class"].endswith("AccessLogHandler")


def test_the_application_shutdown_writes_what_is_waiting(world: World, access_handler: Any) -> None:
    """uvicorn re-raises SIGTERM after shutdown, so no exit handler runs: the lifespan flushes."""
    _, out = access_handler
    serve(world, ("GET", "/openapi.json", {}))
    assert out.getvalue() == ""
    app = create_app(world.ctx)
    events = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return events.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert [row["path"] for row in parse(out.getvalue())] == ["/openapi.json"]
