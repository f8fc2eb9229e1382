"""No error answer carries a stack trace, a file path or the internals of a failure.

Every kind of error the API can be pushed into is provoked, in-process and
over real HTTP on SQLite and PostgreSQL: routing, methods, malformed bodies
and encodings, limits, bad credentials, bad parameters, and the unexpected
path (a database table disappears under the running server). Each answer must
be the bare RestException envelope whose message reads as English, not as a
Python exception. The dashboard's error pages are held to the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from exophone.api import create_app
from tests.conftest import ADMIN_TOKEN, Api, World
from tests.dashboard.conftest import Site
from tests.security.database import table_missing

# What a leaked exception looks like: a traceback, a frame, a module path, a
# driver's or Python's own exception name, an object address, SQL.
LEAKS = re.compile(
    r"Traceback|File \"|\.py\b|line \d+|exophone\.|sqlite3|psycopg|"
    r"(Operational|Integrity|Programming|Attribute|Key|Type|Value|Index|Lookup)Error|"
    r"Exception\b|0x[0-9a-f]{6,}|\bSELECT\b|\bINSERT\b|\bUPDATE\b.*\bSET\b",
)

ACCOUNT = "/v2_beta/Accounts/acme"
BIG = 64 * 1024 + 1

# (method, url, request keyword arguments): each must answer a 4xx.
PROVOCATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/nowhere", {}),
    ("GET", f"{ACCOUNT}/Nothing/Here/At/All", {}),
    ("PATCH", f"{ACCOUNT}/IncomingPhoneNumbers", {}),
    ("HEAD", f"{ACCOUNT}/IncomingPhoneNumbers", {}),
    ("GET", f"{ACCOUNT}/AvailablePhoneNumbers/XX", {}),
    ("GET", f"{ACCOUNT}/AvailablePhoneNumbers/%F0%9F%92%A9/Landline", {}),
    ("GET", f"{ACCOUNT}/AvailablePhoneNumbers/IN/Satellite", {}),
    ("GET", f"{ACCOUNT}/AvailablePhoneNumbers/IN/Landline?Contains=%F0%9F", {}),
    ("GET", f"{ACCOUNT}/AvailablePhoneNumbers/IN/Landline?Contains=%ff%fe", {}),
    ("GET", f"{ACCOUNT}/AvailablePhoneNumbers/IN/Landline?InRegion=ZZZ", {}),
    ("GET", f"{ACCOUNT}/AvailablePhoneNumbers/IN/Landline?IncomingSMS=maybe", {}),
    ("GET", f"{ACCOUNT}/AvailablePhoneNumbers/IN/Landline?PageSize=1e9", {}),
    ("GET", f"{ACCOUNT}/IncomingPhoneNumbers?Page=-1", {}),
    ("GET", f"{ACCOUNT}/IncomingPhoneNumbers?Page=99999999999999999999", {}),
    ("GET", f"{ACCOUNT}/IncomingPhoneNumbers/%00", {}),
    ("GET", f"{ACCOUNT}/IncomingPhoneNumbers/%ff%fe", {}),
    ("GET", f"{ACCOUNT}/IncomingPhoneNumbers/{'9' * 5000}", {}),
    ("DELETE", f"{ACCOUNT}/IncomingPhoneNumbers/not-a-number", {}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"content": b"{not json",
                                                  "headers": {"Content-Type": "application/json"}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"content": b"[1, 2]",
                                                  "headers": {"Content-Type": "application/json"}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"json": {"PhoneNumber": {"nested": [1]}}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"content": b'{"PhoneNumber": 1e400}',
                                                  "headers": {"Content-Type": "application/json"}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"content": b"PhoneNumber=%ff%fe",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"content": b"--x\r\nbroken",
        "headers": {"Content-Type": "multipart/form-data; boundary=x"}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"content": b"<xml/>",
        "headers": {"Content-Type": "application/xml"}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"content": b"P=" + b"9" * BIG,
        "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"data": {"PhoneNumber": "+91802345670\x00"}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"data": {"PhoneNumber": "+918023456701",
                                                           "VoiceUrl": "javascript:alert(1)"}}),
    ("POST", f"{ACCOUNT}/IncomingPhoneNumbers", {"data": {"PhoneNumber": "+918023456701"},
                                                  "headers": {"Idempotency-Key": "k" * 300}}),
    ("PUT", f"{ACCOUNT}/IncomingPhoneNumbers/+918023456701", {"data": {"FriendlyName": "\x01"}}),
]  # fmt: skip

# Broken credentials: each must answer 401.
BAD_AUTH = [
    "Basic",
    "Basic !!!",
    "Basic " + "A" * 10_000,
    "Basic AAECAwQFBgcICQ==",  # bytes that are not UTF-8
    "Basic Og==",  # ":"
    "Digest username=x",
    "Bearer " + "x" * 300,
]


def assert_bare_envelope(resp: httpx.Response, expected: int | None = None) -> None:
    status = resp.status_code
    assert status >= 400 and (expected is None or status == expected), (status, resp.text)
    if resp.request.method == "HEAD":
        assert resp.content == b""
        return
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert list(body) == ["RestException"] and list(body["RestException"]) == [
        "Status",
        "Message",
    ]
    assert body["RestException"]["Status"] == status
    message = body["RestException"]["Message"]
    assert isinstance(message, str) and 0 < len(message) <= 600, message
    assert not LEAKS.search(message), message


@pytest.mark.parametrize(("method", "url", "kw"), PROVOCATIONS)
def test_bad_requests_answer_a_bare_envelope(
    api: Api, method: str, url: str, kw: dict[str, Any]
) -> None:
    resp = api.request(method, url, **kw)
    assert resp.status_code < 500
    assert_bare_envelope(resp)


@pytest.mark.parametrize("header", BAD_AUTH)
def test_broken_credentials_answer_a_bare_401(api: Api, header: str) -> None:
    resp = api.get(
        f"{ACCOUNT}/IncomingPhoneNumbers", creds=False, headers={"Authorization": header}
    )
    assert_bare_envelope(resp, 401)


def test_an_unexpected_failure_answers_500_without_details(api: Api) -> None:
    api.buy("+918023456701")
    with table_missing(api.world.ctx.settings.database_url, "numbers"):
        for method, rest in (
            ("GET", "/IncomingPhoneNumbers"),
            ("GET", "/IncomingPhoneNumbers/+918023456701"),
            ("POST", "/IncomingPhoneNumbers"),
            ("DELETE", "/IncomingPhoneNumbers/+918023456701"),
            ("GET", "/AvailablePhoneNumbers/IN/Landline"),
        ):
            data = {"PhoneNumber": "+918023456702"} if method == "POST" else None
            resp = api.request(method, api.path(rest), data=data)
            assert resp.status_code in (500, 503), (rest, resp.status_code, resp.text)
            assert_bare_envelope(resp)
            if resp.status_code == 500:
                assert resp.json()["RestException"]["Message"] == "Internal server error"
    assert api.get(api.path("/IncomingPhoneNumbers/+918023456701")).status_code == 200


@pytest.mark.admin
def test_admin_errors_answer_a_bare_envelope(api: Api) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for method, url, kw in (
        ("GET", "/admin/accounts/nosuch", {}),
        ("POST", "/admin/accounts", {"content": b"{",
                                     "headers": {"Content-Type": "application/json"}}),
        ("POST", "/admin/accounts", {"data": {"name": ""}}),
        ("PATCH", "/admin/accounts/acme", {"data": {"status": "sideways"}}),
        ("DELETE", "/admin/accounts/acme/keys/nosuch", {}),
        ("POST", "/admin/inventory/generate", {"data": {"count": "-1"}}),
        ("POST", "/admin/inventory/generate", {"data": {"count": "5", "country": "ZZ",
                                                        "number_type": "Landline"}}),
        ("GET", "/admin/numbers/%ff/history", {}),
    ):  # fmt: skip
        headers = {**admin, **kw.pop("headers", {})}
        resp = api.request(method, url, creds=False, headers=headers, **kw)
        assert resp.status_code < 500, (url, resp.text)
        assert_bare_envelope(resp)


# -- the dashboard ------------------------------------------------------------------


@pytest.fixture
def site(world: World) -> Iterator[Site]:
    s = Site(world, create_app(world.ctx), "https://testserver")
    yield s
    s.close()


def test_dashboard_error_pages_carry_no_trace(world: World, site: Site) -> None:
    site.sign_in()
    pages = [site.get("/dashboard/nowhere"), site.get("/dashboard/numbers/%ff%fe")]
    pages.append(site.post("/dashboard/numbers", {}, csrf="forged"))
    with table_missing(world.ctx.settings.database_url, "numbers"):
        failed = site.get("/dashboard/numbers")
        assert failed.status_code in (500, 503)
        pages.append(failed)
    for page in pages:
        assert page.status_code >= 400, page.url
    # A bad search is explained inline on a 200 page; with no trace either.
    pages.append(site.get("/dashboard/find?country=IN&number_type=Landline&contains=%F0%9F"))
    for page in pages:
        text = page.text.replace("htmx.min.js", "").replace("RestException", "")
        assert not LEAKS.search(text), (page.url, page.text[:2000])
