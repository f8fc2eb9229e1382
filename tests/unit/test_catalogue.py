"""The price catalogue: the shipped file, lookups, overrides and refused files."""

from __future__ import annotations

import copy
import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from exophone.domain.catalogue import Catalogue, Pricing
from exophone.domain.money import format_micros
from exophone.domain.numbers import NumberType

LANDLINE, MOBILE, TOLL_FREE = NumberType.LANDLINE, NumberType.MOBILE, NumberType.TOLL_FREE
DOCS = Path(__file__).resolve().parents[2] / "docs" / "catalogue.md"

DEFAULT = {
    "currency": "USD",
    "one_time_price": "0",
    "rental_price": "2",
    "incoming_rate": "0.01",
    "incoming_pulse": 60,
    "sms": False,
    "voice": True,
}


def small() -> dict[str, Any]:
    """A valid catalogue to break in tests."""
    return {
        "default": dict(DEFAULT),
        "IN": {
            "currency": "INR",
            "one_time_price": "0",
            "incoming_pulse": 60,
            "voice": True,
            "Landline": {
                "rental_price": "499",
                "incoming_rate": "0",
                "sms": False,
                "regions": {"MU": {"rental_price": "599", "sms": True}},
            },
            "Mobile": {"rental_price": "999", "incoming_rate": "0", "sms": True},
        },
    }


# --- the shipped catalogue ------------------------------------------------------


def test_shipped_india_prices() -> None:
    cat = Catalogue.default()
    landline = cat.lookup("IN", LANDLINE, "WB")
    assert landline == Pricing(
        one_time_price=0,
        rental_price=499_000_000,
        incoming_rate=0,
        incoming_pulse=60,
        currency="INR",
        sms=False,
        voice=True,
    )
    assert cat.lookup("IN", LANDLINE) == landline
    mobile = cat.lookup("IN", MOBILE, "DL")
    assert (mobile.rental_price, mobile.sms, mobile.voice) == (999_000_000, True, True)
    toll_free = cat.lookup("IN", TOLL_FREE)
    assert format_micros(toll_free.rental_price) == "2999.000000"
    assert format_micros(toll_free.incoming_rate) == "0.600000"
    assert (toll_free.sms, toll_free.voice, toll_free.currency) == (False, True, "INR")


@pytest.mark.parametrize(
    ("country", "currency"),
    [("IN", "INR"), ("SG", "SGD"), ("MY", "MYR"), ("US", "USD"), ("GB", "GBP")],
)
def test_shipped_countries_price_every_type_in_their_currency(country: str, currency: str) -> None:
    cat = Catalogue.default()
    for number_type in NumberType:
        pricing = cat.lookup(country, number_type)
        assert pricing.currency == currency
        assert pricing.incoming_pulse > 0
        assert pricing.voice
        assert pricing.rental_price > 0
    assert cat.lookup(country, MOBILE).sms
    assert not cat.lookup(country, LANDLINE).sms


def test_shipped_default_for_other_countries() -> None:
    cat = Catalogue.default()
    pricing = cat.lookup("ZA", MOBILE)
    assert pricing.currency == "USD"
    assert pricing == cat.lookup("NZ", TOLL_FREE, "NZ")
    assert cat.countries() == ("GB", "IN", "MY", "SG", "US")


def test_default_is_read_once() -> None:
    assert Catalogue.default() is Catalogue.default()


def test_pricing_is_frozen() -> None:
    pricing = Catalogue.default().lookup("IN", MOBILE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pricing.rental_price = 0  # type: ignore[misc]


# --- lookups ----------------------------------------------------------------


def test_region_override_changes_only_its_fields() -> None:
    cat = Catalogue.from_mapping(small())
    mumbai = cat.lookup("IN", LANDLINE, "MU")
    assert (mumbai.rental_price, mumbai.sms) == (599_000_000, True)
    assert (mumbai.currency, mumbai.incoming_pulse, mumbai.voice) == ("INR", 60, True)
    delhi = cat.lookup("IN", LANDLINE, "DL")
    assert (delhi.rental_price, delhi.sms) == (499_000_000, False)
    assert cat.lookup("IN", LANDLINE) == delhi
    assert cat.lookup("IN", MOBILE, "MU").rental_price == 999_000_000  # override is per type


def test_type_without_a_table_takes_the_default() -> None:
    cat = Catalogue.from_mapping(small())
    pricing = cat.lookup("IN", TOLL_FREE)
    assert pricing.currency == "USD"
    assert pricing.rental_price == 2_000_000


def test_complete_country_table_prices_its_other_types() -> None:
    data = small()
    data["IN"]["rental_price"] = "1500"
    data["IN"]["incoming_rate"] = "0.5"
    data["IN"]["sms"] = False
    data["NZ"] = {**DEFAULT, "currency": "NZD", "rental_price": "10"}
    cat = Catalogue.from_mapping(data)
    assert cat.lookup("IN", TOLL_FREE).rental_price == 1_500_000_000
    assert cat.lookup("IN", TOLL_FREE).currency == "INR"
    assert cat.lookup("IN", MOBILE).rental_price == 999_000_000
    for number_type in NumberType:
        assert cat.lookup("NZ", number_type).currency == "NZD"
    assert cat.countries() == ("IN", "NZ")


def test_prices_may_be_numbers() -> None:
    data = small()
    data["IN"]["Mobile"]["rental_price"] = 999.5
    data["IN"]["Mobile"]["incoming_rate"] = 0
    cat = Catalogue.from_mapping(data)
    assert cat.lookup("IN", MOBILE).rental_price == 999_500_000


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        """
[default]
currency = "EUR"
one_time_price = "1"
rental_price = "3.5"
incoming_rate = "0.015"
incoming_pulse = 30
sms = true
voice = true

[DE.Mobile]
currency = "EUR"
one_time_price = "0"
rental_price = "4"
incoming_rate = "0"
incoming_pulse = 1
sms = true
voice = false
""",
        encoding="utf-8",
    )
    cat = Catalogue.from_file(path)
    assert cat.lookup("DE", MOBILE).incoming_pulse == 1
    assert not cat.lookup("DE", MOBILE).voice
    assert cat.lookup("DE", LANDLINE).rental_price == 3_500_000
    assert cat.lookup("DE", LANDLINE).incoming_rate == 15_000
    assert Catalogue.from_file(str(path)).lookup("FR", MOBILE).currency == "EUR"


def test_the_example_in_the_docs_loads() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert block
    cat = Catalogue.from_mapping(tomllib.loads(block.group(1)))
    assert cat.lookup("IN", LANDLINE, "MU").rental_price == 599_000_000
    assert cat.lookup("IN", LANDLINE, "DL").rental_price == 499_000_000
    assert cat.lookup("IN", MOBILE).currency == "USD"  # as the docs say: no [IN.Mobile]


# --- refused files ------------------------------------------------------------


def broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(small())
    match change:
        case "no default":
            del data["default"]
        case "default incomplete":
            del data["default"]["voice"]
        case "unknown country":
            data["XX"] = dict(DEFAULT)
        case "lower-case country":
            data["sg"] = dict(DEFAULT)
        case "unknown type":
            data["IN"]["Landlines"] = {"rental_price": "1"}
        case "unknown field":
            data["IN"]["Landline"]["rental"] = "1"
        case "unknown field in default":
            data["default"]["price"] = "1"
        case "type incomplete":
            del data["IN"]["Mobile"]["rental_price"]
        case "country incomplete without types":
            data["SG"] = {"currency": "SGD"}
        case "unknown region":
            data["IN"]["Landline"]["regions"]["ZZ"] = {"rental_price": "1"}
        case "region of another country":
            data["SG"] = {**DEFAULT, "Mobile": {"regions": {"MY": {"sms": True}}}}
        case "bad price":
            data["IN"]["Mobile"]["rental_price"] = "abc"
        case "negative price":
            data["IN"]["Mobile"]["rental_price"] = "-1"
        case "seven decimals":
            data["IN"]["Mobile"]["incoming_rate"] = "0.0000001"
        case "boolean price":
            data["IN"]["Mobile"]["rental_price"] = True
        case "zero pulse":
            data["IN"]["incoming_pulse"] = 0
        case "text pulse":
            data["IN"]["incoming_pulse"] = "60"
        case "fractional pulse":
            data["IN"]["incoming_pulse"] = 1.5
        case "lower-case currency":
            data["IN"]["currency"] = "inr"
        case "unknown currency":
            data["IN"]["currency"] = "XYZ"
        case "text sms":
            data["IN"]["Mobile"]["sms"] = "yes"
        case "type not a table":
            data["IN"]["Mobile"] = "999"
        case "regions not a table":
            data["IN"]["Landline"]["regions"] = "MU"
        case "region not a table":
            data["IN"]["Landline"]["regions"]["MU"] = "599"
        case "country not a table":
            data["SG"] = "SGD"
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no default", r"missing the \[default\] table"),
        ("default incomplete", r"'default' is missing 'voice'"),
        ("unknown country", r"unknown key 'XX'"),
        ("lower-case country", r"unknown key 'sg'"),
        ("unknown type", r"unknown key 'IN\.Landlines'"),
        ("unknown field", r"unknown key 'IN\.Landline\.rental'"),
        ("unknown field in default", r"unknown key 'default\.price'"),
        ("type incomplete", r"'IN\.Mobile' is missing 'rental_price'"),
        ("country incomplete without types", r"'SG' is missing"),
        ("unknown region", r"unknown region 'IN\.Landline\.regions\.ZZ'"),
        ("region of another country", r"unknown region 'SG\.Mobile\.regions\.MY'"),
        ("bad price", r"'IN\.Mobile\.rental_price'"),
        ("negative price", r"'IN\.Mobile\.rental_price'"),
        ("seven decimals", r"'IN\.Mobile\.incoming_rate'.*six decimals"),
        ("boolean price", r"'IN\.Mobile\.rental_price' must be a price"),
        ("zero pulse", r"'IN\.incoming_pulse' must be a whole number"),
        ("text pulse", r"'IN\.incoming_pulse'"),
        ("fractional pulse", r"'IN\.incoming_pulse'"),
        ("lower-case currency", r"'IN\.currency' must be an ISO 4217"),
        ("unknown currency", r"'IN\.currency' must be an ISO 4217"),
        ("text sms", r"'IN\.Mobile\.sms' must be true or false"),
        ("type not a table", r"'IN\.Mobile' must be a table"),
        ("regions not a table", r"'IN\.Landline\.regions' must be a table"),
        ("region not a table", r"'IN\.Landline\.regions\.MU' must be a table"),
        ("country not a table", r"'SG' must be a table"),
    ],
)
def test_invalid_catalogue_names_the_key(change: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Catalogue.from_mapping(broken(change))


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[default\ncurrency = 'USD'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.toml: not valid TOML"):
        Catalogue.from_file(path)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text('[default]\ncurrency = "USD"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"prices\.toml: 'default' is missing"):
        Catalogue.from_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Catalogue.from_file(tmp_path / "nowhere.toml")
