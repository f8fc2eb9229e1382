"""Authentication, authorisation and the RestException envelope on every error."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator

import pytest

from exophone.domain.model import NewApiKey
from exophone.service import accounts
from tests.conftest import Api


def _envelope(resp: object, status: int) -> str:
    body = resp.json()  # type: ignore[attr-defined]
    assert list(body) == ["RestException"]
    assert body["RestException"]["Status"] == status
    message: str = body["RestException"]["Message"]
    assert message and "Traceback" not in message
    return message


ENDPOINTS = [
    ("GET", "/AvailablePhoneNumbers"),
    ("GET", "/AvailablePhoneNumbers/IN"),
    ("GET", "/AvailablePhoneNumbers/IN/Landline"),
    ("GET", "/IncomingPhoneNumbers"),
    ("POST", "/IncomingPhoneNumbers"),
    ("GET", "/IncomingPhoneNumbers/+911123456701"),
    ("PUT", "/IncomingPhoneNumbers/+911123456701"),
    ("DELETE", "/IncomingPhoneNumbers/+911123456701"),
]


@pytest.mark.parametrize(("method", "rest"), ENDPOINTS)
def test_missing_credentials_answer_401_with_challenge(api: Api, method: str, rest: str) -> None:
    resp = api.request(method, api.path(rest), creds=False)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"].startswith("Basic")
    _envelope(resp, 401)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"unknownkey:token").decode(),
        "Basic " + base64.b64encode(b":").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
    ],
)
def test_malformed_or_unknown_credentials_answer_401(api: Api, header: str) -> None:
    resp = api.get(
        api.path("/IncomingPhoneNumbers"), creds=False, headers={"Authorization": header}
    )
    assert resp.status_code == 401
    _envelope(resp, 401)


def test_wrong_token_answers_401(api: Api) -> None:
    wrong = NewApiKey(api.world.acme.key, "0" * 48, "acme")
    resp = api.get(api.path("/IncomingPhoneNumbers"), creds=wrong)
    assert resp.status_code == 401


def test_credentials_in_the_url_work(api: Api) -> None:
    if api.mode != "http":
        pytest.skip("userinfo in the URL is turned into a header by a real HTTP client")
    import httpx

    creds = api.world.acme
    host = api.base_url.removeprefix("http://")
    url = f"http://{creds.key}:{creds.token}@{host}/v2_beta/Accounts/acme/IncomingPhoneNumbers"
    assert httpx.get(url).status_code == 200


@pytest.mark.parametrize(("method", "rest"), ENDPOINTS)
def test_other_accounts_sid_answers_403(api: Api, method: str, rest: str) -> None:
    resp = api.request(method, api.path(rest, sid="other"))
    assert resp.status_code == 403
    _envelope(resp, 403)


def test_disabled_account_and_new_keys(api: Api) -> None:
    ctx = api.world.ctx
    second = accounts.create_key(ctx, "acme", "rotation")
    assert api.get(api.path("/IncomingPhoneNumbers"), creds=second).status_code == 200
    from exophone.domain.model import AccountStatus

    accounts.set_status(ctx, "acme", AccountStatus.DISABLED)
    assert api.get(api.path("/IncomingPhoneNumbers")).status_code == 401
    assert api.get(api.path("/IncomingPhoneNumbers"), creds=second).status_code == 401


def test_tokens_are_stored_only_as_hashes(api: Api) -> None:
    with api.world.ctx.store.transaction() as repo:
        repo.cur.execute("SELECT key, token_hash FROM api_keys")
        rows = repo.cur.fetchall()
    assert rows
    stored = " ".join(" ".join(r) for r in rows)
    assert api.world.acme.token not in stored
    assert api.world.other.token not in stored


def test_unknown_route_is_404_in_envelope(api: Api) -> None:
    for path in ("/nope", "/v2_beta/Accounts/acme/Calls", "/v2_beta/Accounts"):
        resp = api.get(path)
        assert resp.status_code == 404
        _envelope(resp, 404)


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    resp = api.request("PATCH", api.path("/IncomingPhoneNumbers"))
    assert resp.status_code == 405
    assert "GET" in resp.headers["allow"] and "POST" in resp.headers["allow"]
    _envelope(resp, 405)
    resp = api.request("DELETE", api.path("/AvailablePhoneNumbers"))
    assert resp.status_code == 405
    _envelope(resp, 405)


def test_unreadable_bodies_are_400(api: Api) -> None:
    path = api.path("/IncomingPhoneNumbers")
    cases = [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"PhoneNumber": true}', "application/json"),
        (b'{"PhoneNumber": {"a": 1}}', "application/json"),
        (b"PhoneNumber=%ZZ&&=", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/x-www-form-urlencoded"),
    ]
    for content, media in cases:
        resp = api.post(path, content=content, headers={"Content-Type": media})
        assert resp.status_code == 400, (content, resp.text)
        _envelope(resp, 400)


def test_unsupported_content_type_is_415(api: Api) -> None:
    resp = api.post(
        api.path("/IncomingPhoneNumbers"),
        content=b"<PhoneNumber>+911123456701</PhoneNumber>",
        headers={"Content-Type": "application/xml"},
    )
    assert resp.status_code == 415
    _envelope(resp, 415)


def test_body_too_large_is_413(api: Api) -> None:
    big = b"PhoneNumber=" + b"1" * 70_000
    resp = api.post(
        api.path("/IncomingPhoneNumbers"),
        content=big,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 413
    _envelope(resp, 413)


def test_body_too_large_without_length_is_413(api: Api) -> None:
    parts = [b"PhoneNumber=", *([b"1" * 4096] * 20)]

    def chunks() -> Iterator[bytes]:
        yield from parts

    async def achunks() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    resp = api.post(
        api.path("/IncomingPhoneNumbers"),
        content=chunks() if api.mode == "http" else achunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 413
    _envelope(resp, 413)


def test_unexpected_failure_is_500_without_details(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exophone.service import numbers

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(numbers, "countries", boom)
    resp = api.get(api.path("/AvailablePhoneNumbers"))
    assert resp.status_code == 500
    assert "secret" not in _envelope(resp, 500)


def test_openapi_and_docs_are_served(api: Api) -> None:
    spec = api.get("/openapi.json", creds=False)
    assert spec.status_code == 200
    assert "/v2_beta/Accounts/{sid}/IncomingPhoneNumbers" in spec.json()["paths"]
    docs = api.get("/docs", creds=False)
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "IncomingPhoneNumbers" in docs.text


def test_revoked_key_answers_401_at_once(api: Api) -> None:
    ctx = api.world.ctx
    spare = accounts.create_key(ctx, "acme", "spare")
    path = api.path("/IncomingPhoneNumbers")
    assert api.get(path, creds=spare).status_code == 200
    accounts.revoke_key(ctx, "acme", spare.key)
    assert api.get(path, creds=spare).status_code == 401
    assert api.get(path).status_code == 200  # the other key still works
