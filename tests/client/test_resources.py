"""Every resource method against a real server over HTTP, and the typed fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from exophone.api import create_app
from exophone.client import (
    AvailableNumber,
    Client,
    Country,
    IncomingNumber,
    NotFoundError,
    NumberUnavailableError,
)
from exophone.service.context import Context
from tests.conftest import ThreadServer, World

VOICE = "https://my.exotel.in/acme/exoml/start_voice/1248"
SMS = "http://my.exotel.in/acme/exoml/start_sms/2239"


def test_countries(client: Client) -> None:
    countries = client.available_phone_numbers.countries()
    assert [c.country_code for c in countries] == ["IN", "MY"]
    india = countries[0]
    assert isinstance(india, Country)
    assert india.country == "India"
    assert india.uri == "/v2_beta/Accounts/acme/AvailablePhoneNumbers/IN"
    assert india.subresource_uris == {
        t: f"/v2_beta/Accounts/acme/AvailablePhoneNumbers/IN/{t}"
        for t in ("Landline", "Mobile", "TollFree")
    }
    assert india.extra == {}
    assert india.raw["country_code"] == "IN"


def test_search_returns_typed_numbers(client: Client) -> None:
    found = client.available_phone_numbers.search("IN", "Landline", in_region="KA")
    assert [n.phone_number for n in found] == ["+918023456701", "+918023456702", "+918023457777"]
    first = found[0]
    assert isinstance(first, AvailableNumber)
    assert first.friendly_name == "+918023456701"
    assert (first.voice, first.sms) == (True, True)
    assert found[1].sms is False
    assert (first.country, first.region, first.number_type) == ("IN", "KA", "Landline")
    for price in (first.one_time_price, first.rental_price, first.incoming_rate):
        assert isinstance(price, Decimal)
    assert first.rental_price == Decimal(first.raw["rental_price"])
    assert first.incoming_pulse == 60
    assert first.currency == "INR"
    assert first.vanity_number is False and found[2].vanity_number is True
    assert first.extra == {}
    assert first.raw["capabilities"] == {"sms": True, "voice": True}


def test_search_filters(client: Client) -> None:
    search = client.available_phone_numbers.search
    assert [n.phone_number for n in search("in", "landline", contains="7777")] == ["+918023457777"]
    sms = search("IN", "Landline", incoming_sms=True)
    assert sms and all(n.sms for n in sms)
    assert len(search("IN", "Landline", incoming_sms=False)) > len(sms)
    assert len(search("IN", "Landline", page_size=2)) == 2
    assert search("IN", "TollFree", in_region="KA") == []
    assert [n.region for n in search("MY", "Landline")] == ["MY", "MY"]


def test_search_voice_and_vanity_filters(client: Client) -> None:
    """exophone's VoiceEnabled and Vanity filters: sent only when asked for."""
    search = client.available_phone_numbers.search
    vanity = search("IN", "Landline", vanity=True)
    assert [n.phone_number for n in vanity] == ["+918023457777"]
    voiced = search("IN", "Landline", voice_enabled=True)
    assert voiced and all(n.voice for n in voiced)
    assert search("IN", "Landline", vanity=True, in_region="DL") == []


def test_search_unknown_country_or_type_is_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError, match="IN, MY"):
        client.available_phone_numbers.search("US", "Landline")
    with pytest.raises(NotFoundError):
        client.available_phone_numbers.search("IN", "Satellite")


def test_buy_returns_the_typed_number(client: Client) -> None:
    before = datetime.now(UTC)
    n = client.incoming_phone_numbers.buy(
        "+918023456701", voice_url=VOICE, sms_url=SMS, friendly_name="Sales"
    )
    assert isinstance(n, IncomingNumber)
    assert len(n.sid) == 32
    assert n.account_sid == "acme"
    assert (n.phone_number, n.friendly_name) == ("+918023456701", "Sales")
    assert (n.voice_url, n.sms_url) == (VOICE, SMS)
    assert (n.voice, n.sms) == (True, True)
    assert (n.country, n.region, n.number_type, n.currency) == ("IN", "KA", "Landline", "INR")
    assert n.one_time_price == Decimal("0") and isinstance(n.rental_price, Decimal)
    assert n.incoming_pulse == 60
    assert n.vanity_number is False
    assert n.uri == f"/v2_beta/Accounts/acme/IncomingPhoneNumbers/{n.sid}"
    # Aware datetimes, read in Asia/Kolkata: the same instant as the clock here.
    assert n.date_created.tzinfo == ZoneInfo("Asia/Kolkata")
    assert before - timedelta(seconds=2) <= n.date_created <= datetime.now(UTC)
    assert n.date_updated == n.date_created
    assert n.raw["date_created"] == n.date_created.strftime("%Y-%m-%d %H:%M:%S")
    assert n.extra == {}


def test_buy_defaults(client: Client) -> None:
    n = client.incoming_phone_numbers.buy("01123456701")
    assert n.phone_number == "+911123456701"
    assert n.friendly_name == "01123456701"
    assert n.voice_url is None and n.sms_url is None


def test_get_by_sid_and_by_number(client: Client) -> None:
    bought = client.incoming_phone_numbers.buy("+918023456701")
    assert client.incoming_phone_numbers.get(bought.sid) == bought
    # The phone number, with its "+", is percent-encoded into the path.
    assert client.incoming_phone_numbers.get("+918023456701").sid == bought.sid
    assert client.incoming_phone_numbers.get("08023456701").sid == bought.sid


def test_update_sends_only_what_is_given(client: Client) -> None:
    bought = client.incoming_phone_numbers.buy("+918023456701", voice_url=VOICE)
    renamed = client.incoming_phone_numbers.update(bought.sid, friendly_name="Support")
    assert renamed.friendly_name == "Support"
    assert renamed.voice_url == VOICE and renamed.sms_url is None
    assert renamed.date_updated >= bought.date_updated
    routed = client.incoming_phone_numbers.update(bought.sid, sms_url=SMS)
    assert (routed.friendly_name, routed.voice_url, routed.sms_url) == ("Support", VOICE, SMS)
    unchanged = client.incoming_phone_numbers.update(bought.sid)
    assert unchanged == routed


def test_update_with_empty_strings_clears(client: Client) -> None:
    bought = client.incoming_phone_numbers.buy(
        "+918023456701", voice_url=VOICE, sms_url=SMS, friendly_name="Sales"
    )
    cleared = client.incoming_phone_numbers.update(
        bought.sid, voice_url="", sms_url="", friendly_name=""
    )
    assert cleared.voice_url is None and cleared.sms_url is None
    assert cleared.friendly_name == "08023456701"


def test_release(client: Client, other_client: Client) -> None:
    bought = client.incoming_phone_numbers.buy("+918023456701")
    client.incoming_phone_numbers.release(bought.sid)
    with pytest.raises(NotFoundError):
        client.incoming_phone_numbers.get(bought.sid)
    with pytest.raises(NotFoundError):
        client.incoming_phone_numbers.release(bought.sid)
    # Aging (24 hours by default): nobody else may buy it, its last owner may buy it back.
    with pytest.raises(NumberUnavailableError):
        other_client.incoming_phone_numbers.buy("+918023456701")
    again = client.incoming_phone_numbers.buy("+918023456701")
    assert again.sid != bought.sid


def test_dates_follow_the_timezone_setting(world: World) -> None:
    zone = "America/New_York"
    ctx = Context(store=world.ctx.store, settings=world.ctx.settings.with_(timezone=zone))
    with (
        ThreadServer(create_app(ctx)) as url,
        Client("acme", world.acme.key, world.acme.token, base_url=url, timezone=zone) as client,
    ):
        n = client.incoming_phone_numbers.buy("+918023456701")
    assert n.date_created.tzinfo == ZoneInfo(zone)
    assert abs(datetime.now(UTC) - n.date_created) < timedelta(seconds=5)


def test_a_given_http_client_is_used_and_left_open(world: World, server: str) -> None:
    seen: list[str] = []
    hooks = {"request": [lambda request: seen.append(request.method)]}
    with httpx.Client(event_hooks=hooks) as http:
        with Client("acme", world.acme.key, world.acme.token, base_url=server, http_client=http):
            pass
        client = Client("acme", world.acme.key, world.acme.token, base_url=server, http_client=http)
        client.available_phone_numbers.countries()
        client.close()
        assert not http.is_closed
    assert seen == ["GET"]
