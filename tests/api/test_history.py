"""A number's audit trail through the admin API: who changed it, with which key and request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, Api

NUMBER = "+911123456701"
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

pytestmark = pytest.mark.admin


def _history(api: Api, ref: str = NUMBER) -> dict[str, Any]:
    resp = api.get(f"/admin/numbers/{ref}/history", creds=False, headers=BEARER)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_history_names_the_account_key_and_request_of_every_change(api: Api) -> None:
    key = api.world.acme.key
    bought = api.post(api.path("/IncomingPhoneNumbers"), data={"PhoneNumber": NUMBER},
                      headers={"X-Request-Id": "buy-1"})  # fmt: skip
    assert bought.status_code == 200
    sid = bought.json()["sid"]
    item = api.path(f"/IncomingPhoneNumbers/{sid}")
    updated = api.put(item, data={"VoiceUrl": "https://flows.example/v"},
                      headers={"X-Request-Id": "update-1"})  # fmt: skip
    assert updated.status_code == 200
    released = api.delete(item)  # no id sent: the server makes one and answers with it
    assert released.status_code == 202
    made_up = released.headers["X-Request-Id"]

    body = _history(api)
    assert {k: body[k] for k in ("phone_number", "status", "account_sid", "sid", "last_owner")} == {
        "phone_number": NUMBER, "status": "aging", "account_sid": None, "sid": None,
        "last_owner": "acme",
    }  # fmt: skip
    assert body["aging_until"] is not None
    events = body["events"]
    fields = ("event", "account_sid", "api_key", "request_id", "sid")
    assert [tuple(e[f] for f in fields) for e in events] == [
        ("imported", None, None, None, None),
        ("bought", "acme", key, "buy-1", sid),
        ("updated", "acme", key, "update-1", sid),
        ("released", "acme", key, made_up, sid),
    ]  # fmt: skip
    assert events[2]["details"] == {"voice_url": "https://flows.example/v"}
    assert events[3]["details"] == {"aging_until": body["aging_until"]}
    assert [e["at_us"] for e in events] == sorted(e["at_us"] for e in events)
    assert all(len(e["at"]) == len("2026-01-01 05:30:00") for e in events)
    assert api.world.acme.token not in str(body)


def test_other_accounts_get_409_while_the_last_owner_buys_back(api: Api) -> None:
    sid = api.buy(NUMBER)["sid"]
    assert api.delete(api.path(f"/IncomingPhoneNumbers/{sid}")).status_code == 202
    taken = api.post(api.path("/IncomingPhoneNumbers", sid="other"), creds=api.world.other,
                     data={"PhoneNumber": NUMBER})  # fmt: skip
    assert taken.status_code == 409
    assert taken.json()["RestException"]["Status"] == 409
    back = api.post(api.path("/IncomingPhoneNumbers"), data={"PhoneNumber": NUMBER},
                    headers={"X-Request-Id": "reclaim-1"})  # fmt: skip
    assert back.status_code == 200
    assert back.json()["sid"] != sid
    body = _history(api)
    assert body["status"] == "owned" and body["sid"] == back.json()["sid"]
    last = body["events"][-1]
    assert (last["event"], last["account_sid"], last["request_id"]) == (
        "reclaimed", "acme", "reclaim-1",
    )  # fmt: skip


def test_aging_numbers_show_in_the_inventory_stats(api: Api) -> None:
    sid = api.buy(NUMBER)["sid"]
    api.delete(api.path(f"/IncomingPhoneNumbers/{sid}"))
    groups = api.get("/admin/inventory/stats", creds=False, headers=BEARER).json()["groups"]
    delhi = {g["status"]: g["count"] for g in groups if (g["country"], g["region"]) == ("IN", "DL")
             and g["number_type"] == "Landline"}  # fmt: skip
    assert delhi == {"aging": 1, "available": 1}


@pytest.mark.parametrize("ref", ["01123456701", "911123456701", "%2B911123456701"])
def test_history_takes_every_form_of_the_number(api: Api, ref: str) -> None:
    assert _history(api, ref)["phone_number"] == NUMBER


@pytest.mark.parametrize(
    ("ref", "status"),
    [("+918099999999", 404), ("not-a-number", 400), ("1" * 300, 400)],
)
def test_history_of_unknown_or_invalid_numbers(api: Api, ref: str, status: int) -> None:
    resp = api.get(f"/admin/numbers/{ref}/history", creds=False, headers=BEARER)
    assert resp.status_code == status
    assert resp.json()["RestException"]["Status"] == status


def test_history_needs_the_admin_token(api: Api) -> None:
    path = f"/admin/numbers/{NUMBER}/history"
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
        resp = api.get(path, creds=False, headers=headers)
        assert resp.status_code == 401
    assert api.get(path).status_code == 401  # an account's Basic credentials are not enough
