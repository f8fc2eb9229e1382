"""IncomingPhoneNumbers: buy, get, update, list with paging, release."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from tests.conftest import Api

DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
INCOMING_FIELDS = [
    "sid", "date_created", "date_updated", "account_sid", "friendly_name", "phone_number",
    "capabilities", "country", "region", "one_time_price", "rental_price", "incoming_rate",
    "incoming_pulse", "currency", "number_type", "vanity_number", "voice_url", "sms_url", "uri",
]  # fmt: skip


def test_buy_answers_the_whole_incoming_object(api: Api) -> None:
    resp = api.post(
        api.path("/IncomingPhoneNumbers"),
        data={
            "PhoneNumber": "+918023456701",
            "VoiceUrl": "https://my.exotel.in/acme/exoml/start_voice/1248",
            "SMSUrl": "http://my.exotel.in/acme/exoml/start_sms/2239",
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert list(body) == INCOMING_FIELDS
    assert re.fullmatch(r"[0-9a-f]{32}", body["sid"])
    assert DATE.match(body["date_created"]) and DATE.match(body["date_updated"])
    assert body["account_sid"] == "acme"
    assert body["friendly_name"] == "08023456701"
    assert body["phone_number"] == "+918023456701"
    assert body["capabilities"] == {"voice": True, "sms": True}
    assert list(body["capabilities"]) == ["voice", "sms"]
    assert (body["country"], body["region"]) == ("IN", "KA")
    assert body["one_time_price"] == "0.000000"
    assert re.fullmatch(r"\d+\.\d{6}", body["rental_price"])
    assert body["incoming_pulse"] == "60"
    assert body["currency"] == "INR"
    assert body["number_type"] == "Landline"
    assert body["vanity_number"] is False
    assert body["voice_url"] == "https://my.exotel.in/acme/exoml/start_voice/1248"
    assert body["sms_url"] == "http://my.exotel.in/acme/exoml/start_sms/2239"
    assert body["uri"] == f"/v2_beta/Accounts/acme/IncomingPhoneNumbers/{body['sid']}"


def test_unset_urls_are_null_and_friendly_name_can_be_given(api: Api) -> None:
    body = api.buy("+911123456701", FriendlyName="Sales")
    assert body["voice_url"] is None and body["sms_url"] is None
    assert body["friendly_name"] == "Sales"


@pytest.mark.parametrize(
    "given", ["+911123456701", "911123456701", "01123456701", " +91 11 2345 6701 "]
)
def test_buy_accepts_e164_with_or_without_plus_and_national_form(api: Api, given: str) -> None:
    assert api.buy(given)["phone_number"] == "+911123456701"


def test_buy_accepts_json_bodies(api: Api) -> None:
    resp = api.post(
        api.path("/IncomingPhoneNumbers"),
        content=orjson.dumps({"PhoneNumber": "+911123456702", "FriendlyName": "Support"}),
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["friendly_name"] == "Support"


def test_buy_accepts_multipart_bodies(api: Api) -> None:
    resp = api.post(
        api.path("/IncomingPhoneNumbers"),
        files={"PhoneNumber": (None, "+911123456702")},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["phone_number"] == "+911123456702"


def test_buy_rejects_bad_input(api: Api) -> None:
    path = api.path("/IncomingPhoneNumbers")
    for data in (
        {},
        {"PhoneNumber": ""},
        {"PhoneNumber": "not-a-number"},
        {"PhoneNumber": "+9112"},
        {"PhoneNumber": "+918023456701", "VoiceUrl": "ftp://example.com/x"},
        {"PhoneNumber": "+918023456701", "SMSUrl": "not a url"},
        {"PhoneNumber": "+918023456701", "FriendlyName": "x" * 65},
    ):
        resp = api.post(path, data=data)
        assert resp.status_code == 400, (data, resp.text)
        assert resp.json()["RestException"]["Status"] == 400
    # Nothing was sold by the failed attempts.
    assert api.get(api.path("/IncomingPhoneNumbers")).json()["incoming_phone_numbers"] == []


def test_buying_what_is_not_for_sale_is_409(api: Api) -> None:
    path = api.path("/IncomingPhoneNumbers")
    unknown = api.post(path, data={"PhoneNumber": "+918099999999"})
    assert unknown.status_code == 409
    assert "not for sale" in unknown.json()["RestException"]["Message"]
    api.buy("+918023456701")
    again = api.post(path, data={"PhoneNumber": "+918023456701"})
    assert again.status_code == 409
    assert "already belongs to your account" in again.json()["RestException"]["Message"]
    theirs = api.post(path, data={"PhoneNumber": "+918023456701"}, creds=api.world.other,
                      ).status_code  # fmt: skip
    assert theirs == 403  # Acme's SID with Other's credentials
    other = api.post(
        api.path("/IncomingPhoneNumbers", sid="other"),
        data={"PhoneNumber": "+918023456701"},
        creds=api.world.other,
    )
    assert other.status_code == 409
    assert "not for sale" in other.json()["RestException"]["Message"]


def test_get_by_sid_and_by_number(api: Api) -> None:
    bought = api.buy("+911123456701")
    for ref in (bought["sid"], "+911123456701", "911123456701", "01123456701", "%2B911123456701"):
        resp = api.get(api.path(f"/IncomingPhoneNumbers/{ref}"))
        assert resp.status_code == 200, ref
        assert resp.json() == bought


def test_get_unknown_or_foreign_number_is_404(api: Api) -> None:
    bought = api.buy("+911123456701")
    other = api.path("", sid="other")
    for ref in (bought["sid"], "+911123456701", "01123456701"):
        resp = api.get(f"{other}/IncomingPhoneNumbers/{ref}", creds=api.world.other)
        assert resp.status_code == 404
        assert resp.json()["RestException"]["Status"] == 404
    for ref in ("0" * 32, "+918023456702", "garbage"):
        assert api.get(api.path(f"/IncomingPhoneNumbers/{ref}")).status_code == 404


def test_update_is_partial_and_moves_date_updated(api: Api) -> None:
    bought = api.buy("+911123456701", VoiceUrl="https://example.com/voice")
    api.world.ctx.clock = _Later(api.world.ctx.clock, seconds=5)
    path = api.path(f"/IncomingPhoneNumbers/{bought['sid']}")
    resp = api.put(path, data={"FriendlyName": "Sales"})
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == INCOMING_FIELDS
    assert body["friendly_name"] == "Sales"
    assert body["voice_url"] == "https://example.com/voice"
    assert body["date_created"] == bought["date_created"]
    assert body["date_updated"] > bought["date_updated"]
    body = api.put(path, data={"SMSUrl": "https://example.com/sms", "VoiceUrl": ""}).json()
    assert body["sms_url"] == "https://example.com/sms"
    assert body["voice_url"] is None
    assert body["friendly_name"] == "Sales"
    body = api.put(path, data={"FriendlyName": ""}).json()
    assert body["friendly_name"] == "01123456701"
    assert api.get(path).json() == body


def test_update_by_number_and_with_json(api: Api) -> None:
    api.buy("+911123456701")
    resp = api.put(
        api.path("/IncomingPhoneNumbers/+911123456701"),
        json={"VoiceUrl": "https://example.com/v", "SMSUrl": None},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["voice_url"] == "https://example.com/v"
    assert resp.json()["sms_url"] is None


def test_update_rejects_bad_values_and_changes_nothing(api: Api) -> None:
    bought = api.buy("+911123456701", FriendlyName="Keep")
    path = api.path(f"/IncomingPhoneNumbers/{bought['sid']}")
    for data in (
        {"VoiceUrl": "javascript:alert(1)"},
        {"VoiceUrl": "https://" + "a" * 2050 + ".com"},
        {"SMSUrl": "http://"},
        {"FriendlyName": "y" * 65},
        {"FriendlyName": "bad\x00name"},
        {"FriendlyName": "Good", "VoiceUrl": "nope"},
    ):
        resp = api.put(path, data=data)
        assert resp.status_code == 400, data
    assert api.get(path).json() == bought


def test_update_unknown_number_is_404(api: Api) -> None:
    resp = api.put(api.path(f"/IncomingPhoneNumbers/{'a' * 32}"), data={"FriendlyName": "x"})
    assert resp.status_code == 404


def test_list_envelope_and_paging(api: Api) -> None:
    bought = [api.buy(n)["sid"] for n in api.world.numbers[:5]]
    resp = api.get(api.path("/IncomingPhoneNumbers"), params={"PageSize": "2"})
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == [
        "page", "page_size", "uri", "first_page_uri", "next_page_uri", "previous_page_uri",
        "incoming_phone_numbers",
    ]  # fmt: skip
    assert (body["page"], body["page_size"]) == (0, 2)
    base = f"{api.base_url}/v2_beta/Accounts/acme/IncomingPhoneNumbers"
    assert body["uri"] == f"{base}?Page=0&PageSize=2"
    assert body["first_page_uri"] == f"{base}?Page=0&PageSize=2"
    assert body["next_page_uri"] == f"{base}?Page=1&PageSize=2"
    assert body["previous_page_uri"] is None
    seen = [n["sid"] for n in body["incoming_phone_numbers"]]
    # Follow the links as a client would, to the end.
    while body["next_page_uri"]:
        link = urlsplit(body["next_page_uri"])
        body = api.get(f"{link.path}?{link.query}").json()
        assert body["previous_page_uri"] == f"{base}?Page={body['page'] - 1}&PageSize=2"
        seen += [n["sid"] for n in body["incoming_phone_numbers"]]
    assert body["page"] == 2
    assert len(body["incoming_phone_numbers"]) == 1
    assert seen == bought  # every number once, in purchase order


def test_list_defaults_and_following_uri_reproduces_the_page(api: Api) -> None:
    api.buy("+911123456701")
    body = api.get(api.path("/IncomingPhoneNumbers")).json()
    assert (body["page"], body["page_size"]) == (0, 50)
    assert body["next_page_uri"] is None and body["previous_page_uri"] is None
    link = urlsplit(body["uri"])
    assert api.get(f"{link.path}?{link.query}").json() == body


def test_list_beyond_the_end_is_empty(api: Api) -> None:
    api.buy("+911123456701")
    body = api.get(api.path("/IncomingPhoneNumbers"), params={"Page": "3"}).json()
    assert body["incoming_phone_numbers"] == []
    assert body["next_page_uri"] is None
    assert body["previous_page_uri"].endswith("Page=2&PageSize=50")


@pytest.mark.parametrize(
    "params",
    [{"Page": "-1"}, {"Page": "x"}, {"Page": "1000001"}, {"PageSize": "0"},
     {"PageSize": "5000"}, {"PageSize": "abc"}],
)  # fmt: skip
def test_list_rejects_bad_paging(api: Api, params: dict[str, str]) -> None:
    resp = api.get(api.path("/IncomingPhoneNumbers"), params=params)
    assert resp.status_code == 400
    assert resp.json()["RestException"]["Status"] == 400


def test_list_shows_only_own_numbers(api: Api) -> None:
    api.buy("+911123456701")
    resp = api.get(api.path("/IncomingPhoneNumbers", sid="other"), creds=api.world.other)
    assert resp.json()["incoming_phone_numbers"] == []


def test_release_answers_202_and_the_number_ages_before_it_is_for_sale(api: Api) -> None:
    clock = _Fixed(1_767_225_600_000_000)
    api.world.ctx.clock = clock
    bought = api.buy("+911123456701")
    path = api.path(f"/IncomingPhoneNumbers/{bought['sid']}")
    resp = api.delete(path)
    assert resp.status_code == 202
    assert resp.json() == {"Status": 202, "Message": "Accepted"}
    assert api.get(path).status_code == 404
    assert api.get(api.path("/IncomingPhoneNumbers")).json()["incoming_phone_numbers"] == []
    assert api.delete(path).status_code == 404

    def for_sale() -> list[str]:
        found = api.get(api.path("/AvailablePhoneNumbers/IN/Landline")).json()
        return [i["phone_number"] for i in found]

    def other_buys() -> httpx.Response:
        return api.post(
            api.path("/IncomingPhoneNumbers", sid="other"),
            data={"PhoneNumber": "+911123456701"},
            creds=api.world.other,
        )

    # Aging (24 hours by default): not for sale, and nobody else may buy it.
    assert "+911123456701" not in for_sale()
    assert other_buys().status_code == 409
    clock.micros += api.world.ctx.settings.aging_period * 1_000_000
    assert "+911123456701" in for_sale()
    again = other_buys()
    assert again.status_code == 200
    assert again.json()["sid"] != bought["sid"]


def test_release_by_number_and_foreign_release_is_404(api: Api) -> None:
    api.buy("+911123456701")
    foreign = api.delete(
        api.path("/IncomingPhoneNumbers/+911123456701", sid="other"), creds=api.world.other
    )
    assert foreign.status_code == 404
    assert api.delete(api.path("/IncomingPhoneNumbers/01123456701")).status_code == 202


class _Later:
    """A clock some seconds ahead of another."""

    def __init__(self, clock: object, seconds: int) -> None:
        self.clock = clock
        self.offset = seconds * 1_000_000

    def now_us(self) -> int:
        return self.clock.now_us() + self.offset  # type: ignore[attr-defined, no-any-return]


class _Fixed:
    def __init__(self, micros: int) -> None:
        self.micros = micros

    def now_us(self) -> int:
        return self.micros


def test_dates_are_in_the_server_time_zone(api: Api) -> None:
    # 2026-01-01 00:00:00 UTC
    api.world.ctx.clock = _Fixed(1_767_225_600_000_000)
    bought = api.buy("+911123456701")
    assert bought["date_created"] == "2026-01-01 05:30:00"  # Asia/Kolkata by default
    assert bought["date_updated"] == "2026-01-01 05:30:00"
    api.world.ctx.settings = api.world.ctx.settings.with_(timezone="UTC")
    again = api.get(api.path(f"/IncomingPhoneNumbers/{bought['sid']}")).json()
    assert again["date_created"] == "2026-01-01 00:00:00"
