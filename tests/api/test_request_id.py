"""X-Request-Id on every answer: echoed when sane, fresh otherwise, and on req.context."""

from __future__ import annotations

import logging
import re

import pytest

from exophone.api.middleware import request_id
from exophone.client import Client, NotFoundError
from tests.conftest import ADMIN_TOKEN, Api

FRESH = re.compile(r"[0-9a-f]{32}")


def _fresh(resp: object) -> str:
    rid: str = resp.headers["X-Request-Id"]  # type: ignore[attr-defined]
    assert FRESH.fullmatch(rid), rid
    return rid


ANSWERS = [
    ("GET", "/v2_beta/Accounts/acme/IncomingPhoneNumbers", 200),
    ("GET", "/v2_beta/Accounts/acme/IncomingPhoneNumbers/08099999999", 404),
    ("POST", "/v2_beta/Accounts/acme/IncomingPhoneNumbers", 400),
    ("GET", "/v2_beta/Accounts/other/IncomingPhoneNumbers", 403),
    ("PATCH", "/v2_beta/Accounts/acme/IncomingPhoneNumbers", 405),
    ("OPTIONS", "/v2_beta/Accounts/acme/IncomingPhoneNumbers", 200),
    ("GET", "/no/such/route", 404),
    ("GET", "/openapi.json", 200),
    ("GET", "/docs", 200),
    ("GET", "/healthz", 200),
    ("GET", "/readyz", 200),
    ("GET", "/metrics", 200),
]


def test_every_answer_carries_a_fresh_request_id(api: Api) -> None:
    """Answers of every kind: success, errors, unknown routes, OPTIONS, docs and operations."""
    for method, path, status in ANSWERS:
        first = api.request(method, path)
        second = api.request(method, path)
        assert first.status_code == second.status_code == status, (path, first.text)
        assert _fresh(first) != _fresh(second)


def test_unauthenticated_answers_carry_one_too(api: Api) -> None:
    resp = api.get(api.path("/IncomingPhoneNumbers"), creds=False)
    assert resp.status_code == 401
    _fresh(resp)


@pytest.mark.admin
def test_admin_answers_carry_one(api: Api) -> None:
    ok = api.get("/admin/accounts", creds=False, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    refused = api.get("/admin/accounts", creds=False)
    assert (ok.status_code, refused.status_code) == (200, 401)
    _fresh(ok)
    _fresh(refused)


SANE = ["abc", "req-42", "f" * 128, "A.b_c:d-e", "0", "3fa85f64-5717-4562-b3fc-2c963f66afa6"]
INSANE: list[str | bytes] = [
    "f" * 129,
    "has space",
    "semi;colon",
    "slash/es",
    "quote'",
    "<script>",
    "é".encode(),
    "a,b",
]


def test_a_sane_incoming_id_is_echoed(api: Api) -> None:
    for incoming in SANE:
        for path in (api.path("/IncomingPhoneNumbers"), "/nowhere"):
            resp = api.get(path, headers={"X-Request-Id": incoming})
            assert resp.headers["X-Request-Id"] == incoming


def test_anything_else_is_replaced(api: Api) -> None:
    for incoming in INSANE:
        resp = api.get(api.path("/IncomingPhoneNumbers"), headers={"X-Request-Id": incoming})
        assert resp.status_code == 200
        assert _fresh(resp) != incoming


def test_request_id_rule() -> None:
    assert request_id("abc") == "abc"
    assert request_id(None) != request_id(None)
    assert request_id("") != ""
    assert FRESH.fullmatch(request_id("x" * 129))


def test_request_id_is_on_the_context_before_routing(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """The access line reads ``req.context.request_id``, even when no route matched."""
    with caplog.at_level(logging.INFO, logger="exophone.access"):
        resp = api.get("/no/such/route", headers={"X-Request-Id": "trace-1"})
        authed = api.get(api.path("/IncomingPhoneNumbers"))
    lines = [r for r in caplog.records if r.name == "exophone.access"]
    assert [getattr(r, "request_id", None) for r in lines] == [
        "trace-1",
        authed.headers["X-Request-Id"],
    ]
    assert resp.status_code == 404
    assert isinstance(lines[1].request_id, str)


def test_sdk_errors_carry_the_request_id(api: Api) -> None:
    if api.mode != "http":
        pytest.skip("the SDK talks real HTTP")
    world = api.world
    with (
        Client("acme", world.acme.key, world.acme.token, base_url=api.base_url) as client,
        pytest.raises(NotFoundError) as caught,
    ):
        client.incoming_phone_numbers.get("08099999999")
    assert caught.value.request_id is not None
    assert FRESH.fullmatch(caught.value.request_id)
