"""The control API over plain HTTP (no SDK), on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import httpx
import pytest

from exophone.api import create_app
from exophone.service.context import Context
from tests.conftest import ThreadServer
from tests.testing.conftest import TOKEN, Mode

ROUTES = [
    ("GET", ""),
    ("POST", "/reset"),
    ("POST", "/accounts"),
    ("POST", "/accounts/acme/reset"),
    ("POST", "/numbers"),
    ("GET", "/journal"),
    ("DELETE", "/journal"),
    ("GET", "/faults"),
    ("POST", "/faults"),
    ("DELETE", "/faults"),
    ("GET", "/faults/f1"),
    ("DELETE", "/faults/f1"),
    ("GET", "/clock"),
    ("POST", "/clock/freeze"),
    ("POST", "/ids"),
]
KA = ["+918023456701", "+918023456702"]


def envelope(resp: httpx.Response, status: int) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert list(body) == ["RestException"] and body["RestException"]["Status"] == status
    message: str = body["RestException"]["Message"]
    return message


def test_the_control_api_is_absent_without_test_mode(ctx: Context) -> None:
    with ThreadServer(create_app(ctx)) as url:
        for method, path in ROUTES:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            resp = httpx.request(method, f"{url}/_exophone{path}", headers=headers)
            envelope(resp, 404)


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}"])
def test_every_control_request_needs_the_token(mode: Mode, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in ROUTES:
        resp = mode.http.request(method, f"/_exophone{path}", headers=headers)
        assert "Bearer" in envelope(resp, 401), (method, path)


def test_status(mode: Mode) -> None:
    body = mode.ok("GET")
    assert body["test_mode"] is True and body["seed"] == 0
    assert body["faults"] == [] and body["journal"] == 0
    assert body["clock"]["timezone"] == "Asia/Kolkata" and body["clock"]["frozen"] is False


def test_seeded_accounts_use_their_chosen_credentials(mode: Mode) -> None:
    creds = mode.account("acme")
    assert mode.api("GET", "acme", "/IncomingPhoneNumbers", creds).status_code == 200
    generated = mode.ok("POST", "/accounts", 201, json={"sid": "other", "name": "Other Ltd"})
    assert generated["account_sid"] == "other" and len(generated["api_token"]) == 48
    other = (generated["api_key"], generated["api_token"])
    assert mode.api("GET", "other", "/IncomingPhoneNumbers", other).status_code == 200
    # Form data works too, for curl.
    form = {"sid": "third", "api_key": "third-key-01", "api_token": "third-token-01"}
    assert mode.ok("POST", "/accounts", 201, data=form)["api_key"] == "third-key-01"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"sid": "acme"}, 409),  # taken
        ({"sid": "new", "api_key": "acme-key-0001", "api_token": "x" * 16}, 409),  # key taken
        ({"sid": "new", "api_key": "only-a-key-01"}, 400),
        ({"sid": "new", "api_key": "short", "api_token": "x" * 16}, 400),
        ({"sid": "new", "api_key": "has:colon-01", "api_token": "x" * 16}, 400),
        ({"sid": "!"}, 400),
        ({"sid": 5}, 400),
        ({}, 400),
        ({"sid": "new", "colour": "red"}, 400),
    ],
)
def test_bad_accounts_are_refused(mode: Mode, body: dict[str, object], status: int) -> None:
    mode.account("acme")
    envelope(mode.control("POST", "/accounts", json=body), status)


def test_generated_numbers_are_the_same_after_every_reset(mode: Mode) -> None:
    body = {"country": "IN", "number_type": "Landline", "region": "KA", "count": 3}
    first = mode.ok("POST", "/numbers", 201, json=body)
    assert first["added"] == 3 and len(set(first["numbers"])) == 3
    creds = mode.account("acme")
    found = mode.api("GET", "acme", "/AvailablePhoneNumbers/IN/Landline", creds,
                     params={"InRegion": "KA"}).json()  # fmt: skip
    assert sorted(n["phone_number"] for n in found) == sorted(first["numbers"])
    second = mode.ok("POST", "/numbers", 201, json=body)["numbers"]
    assert not set(second) & set(first["numbers"])
    mode.ok("POST", "/reset")
    assert mode.ok("POST", "/numbers", 201, json=body)["numbers"] == first["numbers"]
    seeded = mode.ok("POST", "/numbers", 201, json={**body, "seed": 42})["numbers"]
    mode.ok("POST", "/reset")
    assert mode.ok("POST", "/numbers", 201, json={**body, "seed": 42})["numbers"] == seeded


def test_explicit_numbers_read_their_type_from_the_number(mode: Mode) -> None:
    creds = mode.account("acme")
    numbers = ["+918023456701", "+60323856789"]
    added = mode.ok("POST", "/numbers", 201, json={"numbers": numbers})
    assert added == {"added": 2, "numbers": numbers}
    # Outside landlines, Indian numbers need their circle.
    assert mode.ok("POST", "/numbers", 201,
                   json={"numbers": ["+911800123456"], "region": "DL"})["added"] == 1  # fmt: skip
    rows = [{"phone_number": "+919876543201", "number_type": "Mobile", "region": "MH",
             "sms": True, "rental_price": "99"}]  # fmt: skip
    assert mode.ok("POST", "/numbers", 201, json={"numbers": rows})["numbers"] == ["+919876543201"]
    # Known numbers are not added twice.
    assert mode.ok("POST", "/numbers", 201, json={"numbers": numbers[:1]})["added"] == 0
    mobiles = mode.api("GET", "acme", "/AvailablePhoneNumbers/IN/Mobile", creds).json()
    assert [(n["phone_number"], n["region"], n["rental_price"]) for n in mobiles] == [
        ("+919876543201", "MH", "99.000000")
    ]
    tollfree = mode.api("GET", "acme", "/AvailablePhoneNumbers/IN/TollFree", creds).json()
    assert [n["phone_number"] for n in tollfree] == ["+911800123456"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"numbers": ["+918023456701", "+91123"]}, 400),  # one bad number: none added
        ({"numbers": ["+919876543201"]}, 400),  # an Indian mobile needs its circle
        ({"numbers": ["+918023456701"], "number_type": "Mobile"}, 400),
        ({"numbers": [5]}, 400),
        ({"numbers": []}, 400),
        ({"numbers": ["+918023456701"], "country": "IN"}, 400),
        ({"country": "IN"}, 400),
        ({"country": "ZZ", "number_type": "Landline"}, 400),
        ({"country": "IN", "number_type": "Fax"}, 404),
        ({"country": "IN", "number_type": "Landline", "region": "ZZ"}, 400),
        ({"country": "IN", "number_type": "Landline", "count": 0}, 400),
        ({"country": "IN", "number_type": "Landline", "count": 10_001}, 400),
        ({"country": "IN", "number_type": "Landline", "count": "many"}, 400),
        ({"country": "IN", "number_type": "Landline", "count": True}, 400),
    ],
)
def test_bad_seeds_are_refused(mode: Mode, body: dict[str, object], status: int) -> None:
    envelope(mode.control("POST", "/numbers", json=body), status)
    assert mode.ok("POST", "/numbers", 201, json={"numbers": KA[:1]})["added"] == 1


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"x" * 70_000, "application/json", 413),
        (b"%zz=1&&", "application/x-www-form-urlencoded", 400),
        (b"\xff\xfe", "application/x-www-form-urlencoded", 400),
    ],
)
def test_bad_bodies_are_refused(mode: Mode, content: bytes, content_type: str, status: int) -> None:
    resp = mode.control("POST", "/faults", content=content,
                        headers={"Content-Type": content_type})  # fmt: skip
    envelope(resp, status)


def test_reset_empties_everything_and_restarts_sids_and_clock(mode: Mode) -> None:
    creds = mode.account("acme")
    mode.ok("POST", "/numbers", 201, json={"numbers": KA})
    first = mode.api("POST", "acme", "/IncomingPhoneNumbers", creds, data={"PhoneNumber": KA[0]})
    mode.ok("POST", "/faults", 201, json={"path": "/nowhere", "status": 500})
    mode.ok("POST", "/clock/freeze", json={"at": "2030-01-01 00:00:00"})
    took = mode.ok("POST", "/reset")
    assert took["reset"] == "all" and took["took_ms"] < 5000
    status = mode.ok("GET")
    assert status["journal"] == 0 and status["faults"] == [] and not status["clock"]["frozen"]
    assert mode.api("GET", "acme", "/IncomingPhoneNumbers", creds).status_code == 401  # gone
    creds = mode.account("acme")
    mode.ok("POST", "/numbers", 201, json={"numbers": KA})
    again = mode.api("POST", "acme", "/IncomingPhoneNumbers", creds, data={"PhoneNumber": KA[1]})
    assert again.json()["sid"] == first.json()["sid"]  # the same first sid after a reset


def test_reset_of_one_account(mode: Mode) -> None:
    acme, other = mode.account("acme"), mode.account("other")
    mode.ok("POST", "/numbers", 201, json={"numbers": [*KA, "+911123456701"]})
    for sid, creds, number in (("acme", acme, KA[0]), ("acme", acme, KA[1]),
                               ("other", other, "+911123456701")):  # fmt: skip
        resp = mode.api("POST", sid, "/IncomingPhoneNumbers", creds, data={"PhoneNumber": number})
        assert resp.status_code == 200, resp.text
    assert mode.ok("POST", "/accounts/acme/reset") == {"reset": "account", "account_sid": "acme"}
    # The journal forgot Acme's requests, not Other's.
    entries = mode.ok("GET", "/journal")["entries"]
    assert {e["account_sid"] for e in entries} == {"other"}
    assert (
        mode.api("GET", "acme", "/IncomingPhoneNumbers", acme).json()["incoming_phone_numbers"]
        == []
    )
    owned = mode.api("GET", "other", "/IncomingPhoneNumbers", other).json()
    assert [n["phone_number"] for n in owned["incoming_phone_numbers"]] == ["+911123456701"]
    # Acme's numbers are for sale again, to anyone.
    resp = mode.api("POST", "other", "/IncomingPhoneNumbers", other, data={"PhoneNumber": KA[0]})
    assert resp.status_code == 200
    envelope(mode.control("POST", "/accounts/nobody/reset"), 404)


def test_the_journal_records_what_was_sent(mode: Mode) -> None:
    creds = mode.account("acme")
    mode.ok("POST", "/numbers", 201, json={"numbers": KA})
    mode.api("GET", "acme", "/AvailablePhoneNumbers/IN/Landline", creds,
             params={"InRegion": "KA", "Contains": "01"})  # fmt: skip
    form = mode.api("POST", "acme", "/IncomingPhoneNumbers", creds,
                    data={"PhoneNumber": KA[0], "FriendlyName": "Sales"},
                    headers={"Idempotency-Key": "order-1"})  # fmt: skip
    assert form.status_code == 200, form.text
    flow = "https://x.example/flow"
    json_buy = mode.api("POST", "acme", "/IncomingPhoneNumbers", creds,
                        json={"PhoneNumber": KA[1], "VoiceUrl": flow})  # fmt: skip
    assert json_buy.status_code == 200 and json_buy.json()["voice_url"] == flow
    mode.api("GET", "acme", "/IncomingPhoneNumbers/nope", creds)
    mode.api("GET", "acme", "/IncomingPhoneNumbers", ("acme-key-0001", "wrong-token"))
    entries = mode.ok("GET", "/journal")["entries"]
    assert [(e["seq"], e["method"], e["status"]) for e in entries] == [
        (1, "GET", 200), (2, "POST", 200), (3, "POST", 200), (4, "GET", 404), (5, "GET", 401)
    ]  # fmt: skip
    search, buy, as_json = entries[0], entries[1], entries[2]
    assert search["path"] == "/v2_beta/Accounts/acme/AvailablePhoneNumbers/IN/Landline"
    assert search["query"] == {"InRegion": "KA", "Contains": "01"}
    assert search["account_sid"] == "acme" and search["api_key"] == "acme-key-0001"
    assert buy["params"] == {"PhoneNumber": KA[0], "FriendlyName": "Sales"}
    assert buy["body"] == "PhoneNumber=%2B918023456701&FriendlyName=Sales"
    assert buy["headers"]["idempotency-key"] == "order-1"
    assert "authorization" not in buy["headers"]
    assert all("acme-token" not in str(e) for e in entries)
    assert as_json["params"] == {"PhoneNumber": KA[1], "VoiceUrl": flow}
    assert buy["fault"] is None and buy["duration_ms"] >= 0 and buy["time"].endswith("Z")
    # Control requests are not recorded.
    assert len(mode.ok("GET", "/journal")["entries"]) == 5

    def seqs(**query: object) -> list[int]:
        return [e["seq"] for e in mode.ok("GET", "/journal", params=query)["entries"]]

    assert seqs(method="post") == [2, 3]
    assert seqs(path="*/IncomingPhoneNumbers") == [2, 3, 5]
    assert seqs(path="/v2_beta/Accounts/*/IncomingPhoneNumbers/*") == [4]
    assert seqs(status=404) == [4]
    assert seqs(since=3) == [4, 5]
    assert seqs(limit=2) == [4, 5]
    assert seqs(account_sid="other") == []
    envelope(mode.control("GET", "/journal", params={"limit": 0}), 400)
    envelope(mode.control("GET", "/journal", params={"status": "x"}), 400)
    envelope(mode.control("GET", "/journal", params={"colour": "red"}), 400)
    assert mode.ok("DELETE", "/journal") == {"entries": []}
    assert seqs() == []


def test_status_faults_answer_a_rest_exception(mode: Mode) -> None:
    creds = mode.account("acme")
    path = "/v2_beta/Accounts/acme/IncomingPhoneNumbers"
    rule = mode.ok("POST", "/faults", 201,
                   json={"path": path, "method": "GET", "status": 503, "times": 2})  # fmt: skip
    assert rule == {"id": "f1", "method": "GET", "path": path, "status": 503, "message": None,
                    "retry_after": None, "delay": None, "drop": False, "times": 2,
                    "remaining": 2, "rate": None, "hits": 0}  # fmt: skip
    # Other methods and paths are untouched.
    assert mode.api("POST", "acme", "/IncomingPhoneNumbers", creds).status_code == 400
    assert mode.api("GET", "acme", "/AvailablePhoneNumbers", creds).status_code == 200
    for _ in range(2):
        resp = mode.api("GET", "acme", "/IncomingPhoneNumbers", creds)
        assert envelope(resp, 503) == "Service Unavailable"
        assert "Retry-After" not in resp.headers and resp.headers["X-Request-Id"]
    assert mode.api("GET", "acme", "/IncomingPhoneNumbers", creds).status_code == 200
    assert mode.ok("GET", "/faults/f1")["hits"] == 2
    assert mode.ok("GET", "/faults/f1")["remaining"] == 0
    faulted = mode.ok("GET", "/journal", params={"fault": "status"})["entries"]
    assert [(e["status"], e["fault"]) for e in faulted] == [(503, "status")] * 2


def test_a_rate_limit_fault_carries_retry_after(mode: Mode) -> None:
    creds = mode.account("acme")
    mode.ok("POST", "/faults", 201, json={"path": "*", "status": 429})
    resp = mode.api("GET", "acme", "/IncomingPhoneNumbers", creds)
    assert "Retry-After" in envelope(resp, 429) and resp.headers["Retry-After"] == "1"
    mode.ok("POST", "/faults", 201, json={"path": "*", "status": 429, "retry_after": 30,
                                          "message": "Slow down"})  # fmt: skip
    resp = mode.api("GET", "acme", "/IncomingPhoneNumbers", creds)
    assert envelope(resp, 429) == "Slow down" and resp.headers["Retry-After"] == "30"


def test_faults_never_touch_the_control_api(mode: Mode) -> None:
    mode.ok("POST", "/faults", 201, json={"status": 500, "times": None})
    mode.ok("POST", "/faults", 201, json={"drop": True, "times": None})
    assert mode.ok("GET", "/faults")["faults"][0]["hits"] == 0
    envelope(mode.http.get("/openapi.json"), 500)


def test_a_share_of_requests_faults_the_same_way_after_every_reset(mode: Mode) -> None:
    def pattern() -> list[int]:
        mode.ok("POST", "/faults", 201, json={"path": "/openapi.json", "status": 500,
                                              "times": None, "rate": 0.5})  # fmt: skip
        return [mode.http.get("/openapi.json").status_code for _ in range(40)]

    first = pattern()
    assert 8 <= first.count(500) <= 32 and set(first) == {200, 500}
    mode.ok("POST", "/reset")
    assert pattern() == first


def test_faults_are_listed_removed_and_cleared(mode: Mode) -> None:
    for status in (500, 502, 503):
        mode.ok("POST", "/faults", 201, json={"path": "/openapi.json", "status": status})
    assert [f["id"] for f in mode.ok("GET", "/faults")["faults"]] == ["f1", "f2", "f3"]
    assert mode.ok("DELETE", "/faults/f1", 202) == {"Status": 202, "Message": "Accepted"}
    envelope(mode.control("DELETE", "/faults/f1"), 404)
    envelope(mode.control("GET", "/faults/f9"), 404)
    # The first rule in force wins.
    assert mode.http.get("/openapi.json").status_code == 502
    assert mode.ok("DELETE", "/faults") == {"faults": []}
    assert mode.http.get("/openapi.json").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": 200},
        {"status": 600},
        {"status": "bad"},
        {"status": 500, "drop": True},
        {"delay": 0},
        {"delay": 301},
        {"delay": "nan"},
        {"status": 500, "times": 0},
        {"status": 500, "rate": 0},
        {"status": 500, "rate": 1.5},
        {"status": 429, "retry_after": -1},
        {"status": 500, "method": "BREW"},
        {"status": 500, "path": "relative"},
        {"status": 500, "drop": "maybe"},
        {"status": 500, "when": "now"},
    ],
)
def test_bad_faults_are_refused(mode: Mode, body: dict[str, object]) -> None:
    envelope(mode.control("POST", "/faults", json=body), 400)
    assert mode.ok("GET", "/faults")["faults"] == []


def test_a_delay_fault_answers_late_and_for_real(mode: Mode) -> None:
    creds = mode.account("acme")
    mode.ok("POST", "/numbers", 201, json={"numbers": KA})
    mode.ok("POST", "/faults", 201, json={"path": "*/IncomingPhoneNumbers", "delay": 0.5})
    started = time.perf_counter()
    resp = mode.api("POST", "acme", "/IncomingPhoneNumbers", creds, data={"PhoneNumber": KA[0]})
    assert time.perf_counter() - started >= 0.5
    assert resp.status_code == 200 and resp.json()["phone_number"] == KA[0]
    entry = mode.ok("GET", "/journal")["entries"][-1]
    assert (entry["fault"], entry["status"]) == ("delay", 200) and entry["duration_ms"] >= 500
    # A delay then a status.
    mode.ok("POST", "/faults", 201, json={"path": "*", "delay": 0.2, "status": 504})
    started = time.perf_counter()
    envelope(mode.api("GET", "acme", "/IncomingPhoneNumbers", creds), 504)
    assert time.perf_counter() - started >= 0.2


def test_a_drop_fault_closes_the_connection_without_an_answer(mode: Mode) -> None:
    creds = mode.account("acme")
    mode.ok("POST", "/faults", 201, json={"path": "*/IncomingPhoneNumbers", "drop": True})
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        mode.api("GET", "acme", "/IncomingPhoneNumbers", creds)
    assert mode.api("GET", "acme", "/IncomingPhoneNumbers", creds).status_code == 200
    entries = mode.ok("GET", "/journal")["entries"]
    assert [(e["fault"], e["status"]) for e in entries] == [("drop", None), (None, 200)]


def test_a_delayed_request_that_outlives_a_reset_is_dropped_and_forgotten(mode: Mode) -> None:
    creds = mode.account("acme")
    mode.ok("POST", "/numbers", 201, json={"numbers": KA})
    mode.ok("POST", "/faults", 201, json={"path": "*/IncomingPhoneNumbers", "delay": 30})
    with (
        httpx.Client(base_url=mode.base_url, timeout=0.3) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.post("/v2_beta/Accounts/acme/IncomingPhoneNumbers",
                       data={"PhoneNumber": KA[0]}, auth=creds)  # fmt: skip
    started = time.perf_counter()
    mode.ok("POST", "/reset")
    time.sleep(0.2)
    assert time.perf_counter() - started < 5
    creds = mode.account("acme")
    mode.ok("POST", "/numbers", 201, json={"numbers": KA})
    # The purchase of the test before did not happen in this one.
    resp = mode.api("POST", "acme", "/IncomingPhoneNumbers", creds, data={"PhoneNumber": KA[0]})
    assert resp.status_code == 200
    assert [e["method"] for e in mode.ok("GET", "/journal")["entries"]] == ["POST"]


def test_dates_follow_the_clock(mode: Mode) -> None:
    creds = mode.account("acme")
    mode.ok("POST", "/numbers", 201, json={"numbers": KA})
    frozen = mode.ok("POST", "/clock/freeze", json={"at": "2025-03-01 09:30:00"})
    assert frozen["local"] == "2025-03-01 09:30:00" and frozen["frozen"] is True
    assert frozen["now"] == "2025-03-01T04:00:00Z"
    bought = mode.api("POST", "acme", "/IncomingPhoneNumbers", creds, data={"PhoneNumber": KA[0]})
    assert bought.json()["date_created"] == "2025-03-01 09:30:00"
    assert mode.ok("GET", "/journal")["entries"][-1]["time"] == "2025-03-01T04:00:00Z"
    moved = mode.ok("POST", "/clock/advance", json={"seconds": 3600.5})
    assert moved["local"] == "2025-03-01 10:30:00"
    sid = bought.json()["sid"]
    updated = mode.api("PUT", "acme", f"/IncomingPhoneNumbers/{sid}", creds,
                       data={"FriendlyName": "Sales"}).json()  # fmt: skip
    assert (updated["date_created"], updated["date_updated"]) == (
        "2025-03-01 09:30:00", "2025-03-01 10:30:00"
    )  # fmt: skip
    assert mode.ok("POST", "/clock/set", json={"at": "2025-06-01T00:00:00Z"})["local"] == (
        "2025-06-01 05:30:00"
    )
    assert mode.ok("POST", "/clock/set", json={"at": 0})["now"] == "1970-01-01T00:00:00Z"
    resumed = mode.ok("POST", "/clock/resume")
    assert resumed["frozen"] is False and resumed["now"].startswith("1970-01-01T00:00:0")
    # A running clock set to a time runs on from there.
    running = mode.ok("POST", "/clock/set", json={"at": "2040-01-01T00:00:00+00:00"})
    assert running["frozen"] is False and running["now"].startswith("2040-01-01T00:00:0")
    real = mode.ok("POST", "/clock/reset")
    assert real["frozen"] is False and real["now"][:4] not in ("1970", "2040")


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/clock/set", {}, 400),
        ("/clock/set", {"at": "yesterday"}, 400),
        ("/clock/set", {"at": 1e30}, 400),
        ("/clock/advance", {}, 400),
        ("/clock/advance", {"seconds": "soon"}, 400),
        ("/clock/advance", {"seconds": 1e12}, 400),
        ("/clock/freeze", {"when": 1}, 400),
        ("/clock/rewind", {}, 404),
    ],
)
def test_bad_clock_requests_are_refused(
    mode: Mode, path: str, body: dict[str, object], status: int
) -> None:
    envelope(mode.control("POST", path, json=body), status)
    assert mode.ok("GET", "/clock")["frozen"] is False


def test_sids_come_from_the_seed(mode: Mode) -> None:
    creds = mode.account("acme")
    mode.ok("POST", "/numbers", 201, json={"numbers": [*KA, "+911123456701"]})

    def buy_and_release(number: str) -> str:
        resp = mode.api("POST", "acme", "/IncomingPhoneNumbers", creds,
                        data={"PhoneNumber": number})  # fmt: skip
        sid: str = resp.json()["sid"]
        assert len(sid) == 32 and int(sid, 16) >= 0
        mode.api("DELETE", "acme", f"/IncomingPhoneNumbers/{sid}", creds)
        return sid

    assert mode.ok("POST", "/ids", json={"seed": 7}) == {"seed": 7}
    first = buy_and_release(KA[0])
    mode.ok("POST", "/ids", json={"seed": 7})
    assert buy_and_release(KA[1]) == first
    assert mode.ok("POST", "/ids", json={"seed": None}) == {"seed": None}
    assert buy_and_release("+911123456701") != first
    envelope(mode.control("POST", "/ids", json={"seed": "x"}), 400)
