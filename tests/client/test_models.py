"""Reading the wire into typed results: unknown fields are kept, not dropped."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from exophone.client.models import (
    parse_available_number,
    parse_countries,
    parse_incoming_number,
    parse_page,
)
from tests.client.test_retries import NUMBER

KOLKATA = ZoneInfo("Asia/Kolkata")


def test_unknown_fields_are_kept_in_extra() -> None:
    wire = {
        **NUMBER,
        "capabilities": {"voice": True, "sms": False, "mms": True},
        "emergency_address": None,
        "bundle_sid": "BU123",
    }
    n = parse_incoming_number(wire, KOLKATA)
    assert n.extra == {
        "emergency_address": None,
        "bundle_sid": "BU123",
        "capabilities": {"mms": True},
    }
    assert (n.voice, n.sms) == (True, False)
    assert n.raw == wire


def test_types() -> None:
    n = parse_incoming_number(NUMBER, KOLKATA)
    assert n.rental_price == Decimal("499.000000") and str(n.rental_price) == "499.000000"
    assert n.incoming_pulse == 60
    assert n.date_created == datetime(2024, 11, 9, 13, 48, 12, tzinfo=KOLKATA)
    assert n.date_created.utcoffset() == timedelta(hours=5, minutes=30)
    assert n.extra == {}


def test_results_are_frozen_and_hashable() -> None:
    n = parse_incoming_number(NUMBER, KOLKATA)
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.friendly_name = "x"  # type: ignore[misc]
    assert hash(n) == hash(parse_incoming_number(dict(NUMBER), KOLKATA))


def test_an_offset_on_the_wire_wins_over_the_setting() -> None:
    n = parse_incoming_number({**NUMBER, "date_created": "2024-11-09T08:18:12+00:00"}, KOLKATA)
    assert n.date_created.tzinfo == UTC
    assert n.date_created == datetime(2024, 11, 9, 13, 48, 12, tzinfo=KOLKATA)


def test_lenient_where_the_wire_varies() -> None:
    wire = {
        "friendly_name": "+60XXXXXXX1",
        "phone_number": "+60323856789",
        "capabilities": {"sms": "false", "voice": "true"},
        "country": "MY",
        "region": "MY",
        "one_time_price": "0.000000",
        "rental_price": "0.000000",
        "incoming_rate": "0.000000",
        "incoming_pulse": 60,
        "number_type": "Landline",
        "vanity_number": False,
    }
    n = parse_available_number(wire)
    assert (n.sms, n.voice, n.incoming_pulse, n.currency) == (False, True, 60, None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rental_price": "lots"}, "rental_price is not a number"),
        ({"rental_price": "NaN"}, "rental_price is not a number"),
        ({"incoming_pulse": "1.5"}, "not a whole number"),
        ({"date_created": "yesterday"}, "not a date"),
        ({"vanity_number": "maybe"}, "not a boolean"),
    ],
)
def test_malformed_fields_are_reported(change: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_incoming_number({**NUMBER, **change}, KOLKATA)


def test_countries_and_page() -> None:
    (country,) = parse_countries(
        {"uri": "/x", "countries": [{"country_code": "IN", "country": "India", "new": 1}]}
    )
    assert (country.country_code, country.country, country.extra) == ("IN", "India", {"new": 1})
    page = parse_page(
        {
            "page": 0,
            "page_size": 50,
            "next_page_uri": None,
            "incoming_phone_numbers": [NUMBER],
            "total": 1,
        },
        KOLKATA,
    )
    assert (len(page), page.has_next, page.extra) == (1, False, {"total": 1})
    assert next(iter(page)).sid == NUMBER["sid"]
