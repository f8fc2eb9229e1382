"""Account B can neither read, change, release nor learn of account A's numbers.

Every endpoint that takes a number (the API's ``{ref}`` in every form it
accepts, purchases, listings, searches, and the dashboard's pages) is tried by
B against a number A owns, and B's answer is compared with its answer for a
number nobody owns: they must be the same, so B cannot even tell that A's
number is taken by someone rather than absent or aging. A is then checked to
own its number unchanged. Runs in-process and over real HTTP, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import phonenumbers
import pytest

from exophone.api import create_app
from exophone.domain.model import NewApiKey
from exophone.service import numbers
from tests.conftest import Api, World
from tests.dashboard.conftest import Site, texts

THEIRS = "+918023456701"  # bought by A (acme) in every test
NOBODYS = "+918023456702"  # for sale
ABSENT = "+918023456703"  # a valid number the inventory does not hold
NO_SID = "0123456789abcdef0123456789abcdef"


def id_forms(number: str, sid: str | None) -> list[str]:
    """Every spelling of a number the API's ``{ref}`` accepts, URL-encoded for a path."""
    parsed = phonenumbers.parse(number)
    national = "0" + phonenumbers.national_significant_number(parsed)
    spaced = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    forms = [
        number,  # a literal '+' in a path
        quote(number, safe=""),  # %2B...
        number.lstrip("+"),
        national,
        quote(spaced, safe=""),
        quote(international, safe=""),
        "00" + number.lstrip("+"),
        f"%20{quote(number, safe='')}%20",
    ]
    if sid is not None:
        forms += [sid, sid.upper(), quote(f" {sid} ", safe="")]
    return forms


def masked(resp: httpx.Response) -> tuple[int, Any]:
    """Status and body with digits and hex letters masked, to compare two numbers' answers."""
    body = resp.json() if resp.content else None
    text = re.sub(r"[0-9a-fA-F]", "#", str(body))
    return resp.status_code, text


@pytest.fixture
def theirs(api: Api) -> dict[str, Any]:
    """A's number, with flows and a name set."""
    return api.buy(THEIRS, FriendlyName="A's sales line", VoiceUrl="https://a.example/voice")


def b_request(api: Api, method: str, rest: str, **kw: Any) -> httpx.Response:
    return api.request(method, api.path(rest, sid="other"), creds=api.world.other, **kw)


CHANGE = {"FriendlyName": "B was here", "VoiceUrl": "https://b.example/", "SMSUrl": ""}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_b_cannot_reach_a_number_by_any_id_form(
    api: Api, theirs: dict[str, Any], method: str
) -> None:
    kw = {"data": CHANGE} if method == "PUT" else {}
    for mine, nobodys in zip(
        id_forms(THEIRS, theirs["sid"]), id_forms(NOBODYS, NO_SID), strict=True
    ):
        resp = b_request(api, method, f"/IncomingPhoneNumbers/{mine}", **kw)
        control = b_request(api, method, f"/IncomingPhoneNumbers/{nobodys}", **kw)
        assert resp.status_code == 404, (mine, resp.text)
        assert masked(resp) == masked(control), mine
        # The answer echoes what B sent, never anything of A's.
        assert "acme" not in resp.text and "sales" not in resp.text
        if theirs["sid"] not in mine.lower():
            assert theirs["sid"] not in resp.text.lower()
    assert_a_still_owns(api, theirs)


def test_b_cannot_buy_a_number_or_tell_it_from_an_absent_one(
    api: Api, theirs: dict[str, Any]
) -> None:
    bought_by_a = b_request(api, "POST", "/IncomingPhoneNumbers", data={"PhoneNumber": THEIRS})
    absent = b_request(api, "POST", "/IncomingPhoneNumbers", data={"PhoneNumber": ABSENT})
    assert bought_by_a.status_code == absent.status_code == 409
    assert masked(bought_by_a) == masked(absent)
    # Released by A, the number ages: B still cannot buy it, nor tell why.
    assert api.delete(api.path(f"/IncomingPhoneNumbers/{theirs['sid']}")).status_code == 202
    aging = b_request(api, "POST", "/IncomingPhoneNumbers", data={"PhoneNumber": THEIRS})
    assert aging.status_code == 409
    assert masked(aging) == masked(absent)


def test_b_does_not_see_a_numbers_in_lists_or_searches(api: Api, theirs: dict[str, Any]) -> None:
    b_request(api, "POST", "/IncomingPhoneNumbers", data={"PhoneNumber": "+911123456701"})
    for rest in (
        "/IncomingPhoneNumbers?PageSize=1000",
        "/IncomingPhoneNumbers?page=0&page_size=1000",
        "/AvailablePhoneNumbers",
        "/AvailablePhoneNumbers/IN",
        "/AvailablePhoneNumbers/IN/Landline?PageSize=1000",
        "/AvailablePhoneNumbers/IN/Landline?Contains=23456701",
    ):
        resp = b_request(api, "GET", rest)
        assert resp.status_code == 200, (rest, resp.text)
        assert THEIRS not in resp.text and theirs["sid"] not in resp.text, rest
        assert "acme" not in resp.text, rest
    own = b_request(api, "GET", "/IncomingPhoneNumbers").json()["incoming_phone_numbers"]
    assert [n["phone_number"] for n in own] == ["+911123456701"]


def test_unauthenticated_endpoints_name_no_account_or_number(
    api: Api, theirs: dict[str, Any]
) -> None:
    """Health, readiness and metrics are open to all: they show no account's data.

    (/openapi.json and /docs are open too, but are static files.)
    """
    api.get(api.path(f"/IncomingPhoneNumbers/{THEIRS}"))  # requests the metrics count
    for path in ("/healthz", "/readyz", "/metrics"):
        resp = api.get(path, creds=False)
        assert resp.status_code == 200, path
        for secret in ("acme", THEIRS, THEIRS.lstrip("+"), theirs["sid"], "sales line"):
            assert secret not in resp.text, (path, secret)


ENDPOINTS = [
    ("GET", "/AvailablePhoneNumbers"),
    ("GET", "/AvailablePhoneNumbers/IN"),
    ("GET", "/AvailablePhoneNumbers/IN/Landline"),
    ("GET", "/IncomingPhoneNumbers"),
    ("POST", "/IncomingPhoneNumbers"),
    ("GET", f"/IncomingPhoneNumbers/{THEIRS}"),
    ("PUT", f"/IncomingPhoneNumbers/{THEIRS}"),
    ("DELETE", f"/IncomingPhoneNumbers/{THEIRS}"),
]


@pytest.mark.parametrize(("method", "rest"), ENDPOINTS)
def test_b_credentials_on_a_account_path_are_refused_alike(
    api: Api, theirs: dict[str, Any], method: str, rest: str
) -> None:
    """B's key on A's SID is a 403, worded as for an account that does not exist."""
    data = {"PhoneNumber": NOBODYS, **CHANGE} if method in ("POST", "PUT") else None
    on_a = api.request(method, api.path(rest, sid="acme"), creds=api.world.other, data=data)
    on_none = api.request(method, api.path(rest, sid="nosuch"), creds=api.world.other, data=data)
    assert on_a.status_code == on_none.status_code == 403
    assert on_a.json()["RestException"]["Message"].replace("acme", "X") == on_none.json()[
        "RestException"
    ]["Message"].replace("nosuch", "X")
    assert THEIRS not in on_a.text
    assert_a_still_owns(api, theirs)
    assert api.get(api.path("/IncomingPhoneNumbers")).json()["incoming_phone_numbers"] == [
        api.get(api.path(f"/IncomingPhoneNumbers/{theirs['sid']}")).json()
    ]


def test_an_idempotency_key_of_a_replays_nothing_to_b(api: Api) -> None:
    """Keys belong to one account: B reusing A's key gets its own answer, not A's."""
    key = "shared-key-0001"
    first = api.post(
        api.path("/IncomingPhoneNumbers"),
        data={"PhoneNumber": THEIRS},
        headers={"Idempotency-Key": key},
    )
    assert first.status_code == 200
    sid = first.json()["sid"]
    replay = b_request(
        api,
        "POST",
        "/IncomingPhoneNumbers",
        data={"PhoneNumber": THEIRS},
        headers={"Idempotency-Key": key},
    )
    assert replay.status_code == 409, replay.text
    assert "idempotent-replayed" not in replay.headers
    assert sid not in replay.text
    release_key = "shared-key-0002"
    gone = api.delete(
        api.path(f"/IncomingPhoneNumbers/{sid}"), headers={"Idempotency-Key": release_key}
    )
    assert gone.status_code == 202
    again = b_request(
        api, "DELETE", f"/IncomingPhoneNumbers/{sid}", headers={"Idempotency-Key": release_key}
    )
    assert again.status_code == 404
    assert "idempotent-replayed" not in again.headers


def assert_a_still_owns(api: Api, theirs: dict[str, Any]) -> None:
    now = api.get(api.path(f"/IncomingPhoneNumbers/{theirs['sid']}"))
    assert now.status_code == 200
    assert now.json() == theirs  # not a field changed, date_updated included


# -- the dashboard ------------------------------------------------------------------


@pytest.fixture
def b_site(world: World) -> Iterator[Site]:
    site = Site(world, create_app(world.ctx), "https://testserver")
    site.sign_in(world.other)
    yield site
    site.close()


def test_b_cannot_reach_a_number_through_the_dashboard(world: World, b_site: Site) -> None:
    ctx = world.ctx
    mine = numbers.buy(ctx, "acme", THEIRS, friendly_name="A's sales line")
    assert mine.sid is not None

    def forms(number: str, sid: str) -> list[str]:
        return [sid, quote(number, safe=""), number.lstrip("+"), "0" + number[3:]]

    for ref, control in zip(forms(THEIRS, mine.sid), forms(NOBODYS, NO_SID), strict=True):
        for page in ("", "/release"):
            resp = b_site.get(f"/dashboard/numbers/{ref}{page}")
            same = b_site.get(f"/dashboard/numbers/{control}{page}")
            assert resp.status_code == same.status_code == 404, (ref, resp.status_code)
            assert problem(resp) == problem(same)
            assert "sales line" not in resp.text
        b_site.get("/dashboard/numbers")  # a page with a fresh CSRF token
        changed = b_site.post(f"/dashboard/numbers/{ref}", {"friendly_name": "B was here"})
        released = b_site.post(f"/dashboard/numbers/{ref}/release", {})
        assert (changed.status_code, released.status_code) == (404, 404), ref
    listing = b_site.get("/dashboard/numbers")
    assert listing.status_code == 200
    assert mine.sid not in listing.text and "2345 6701" not in listing.text
    still = numbers.get(ctx, "acme", mine.sid)
    assert (still.sid, still.friendly_name) == (mine.sid, "A's sales line")


def problem(resp: httpx.Response) -> list[str]:
    """The error text of a dashboard page, digits and hex letters masked."""
    return [re.sub(r"[0-9a-fA-F]", "#", t) for t in texts(resp.text, "problem")]


def test_b_sign_in_with_a_sid_is_refused(world: World) -> None:
    site = Site(world, create_app(world.ctx), "https://testserver")
    try:
        site.get("/dashboard/signin")
        other: NewApiKey = world.other
        resp = site.post(
            "/dashboard/signin",
            {"account_sid": "acme", "api_key": other.key, "api_token": other.token},
        )
        assert resp.status_code != 303
        assert site.get("/dashboard/numbers").status_code in (303, 401, 403)
    finally:
        site.close()
