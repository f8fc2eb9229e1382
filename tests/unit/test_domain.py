"""Pure domain rules: number parsing, patterns, prices, validation, credentials."""

from __future__ import annotations

import pytest

from exophone.domain import credentials
from exophone.domain.errors import BadRequest, NotFound
from exophone.domain.money import format_micros, parse_price
from exophone.domain.numbers import (
    NumberType,
    e164,
    national_compact,
    national_digits,
    parse_number,
)
from exophone.domain.patterns import contains_to_like, keypad_digits
from exophone.domain.validation import flow_url, friendly_name


@pytest.mark.parametrize(
    "text", ["+918041234567", "918041234567", "08041234567", "+91 80 4123 4567", "8041234567"]
)
def test_parse_number_forms(text: str) -> None:
    assert e164(parse_number(text, "IN")) == "+918041234567"


def test_parse_number_in_another_home_region() -> None:
    assert e164(parse_number("03-2385 6789", "MY")) == "+60323856789"


@pytest.mark.parametrize("text", ["", "abc", "+91", "+9180", "1" * 40, "+1 555"])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_number(text, "IN")


def test_national_forms() -> None:
    n = parse_number("+911123456789", "IN")
    assert national_compact(n) == "01123456789"
    assert national_digits(n) == "1123456789"
    assert national_compact(parse_number("+12015550123", "US")) == "2015550123"


def test_number_type_parse() -> None:
    assert NumberType.parse("tollfree") is NumberType.TOLL_FREE
    assert NumberType.parse("LANDLINE") is NumberType.LANDLINE
    with pytest.raises(NotFound):
        NumberType.parse("Premium")


@pytest.mark.parametrize(
    ("pattern", "like"),
    [
        ("12", "%12%"),
        ("FLOWERS", "%3569377%"),
        ("flowers", "%3569377%"),
        ("9*9", "%9_9%"),
        ("^80", "80%"),
        ("77$", "%77"),
        ("^8*$", "8_"),
        ("1234567890123456", "%1234567890123456%"),
    ],
)
def test_contains_compiles(pattern: str, like: str) -> None:
    assert contains_to_like(pattern) == like


@pytest.mark.parametrize(
    "pattern", ["1", "", "^", "$", "^1$", "12345678901234567", "12-3", "1 2", "٣٣", "%1", "_1"]
)
def test_contains_rejects_with_an_explanation(pattern: str) -> None:
    with pytest.raises(BadRequest) as info:
        contains_to_like(pattern)
    assert "keypad" in info.value.message


def test_keypad() -> None:
    assert keypad_digits("^STORM$") == "78676"


def test_prices() -> None:
    assert format_micros(499_000_000) == "499.000000"
    assert format_micros(600_000) == "0.600000"
    assert format_micros(0) == "0.000000"
    assert parse_price("499") == 499_000_000
    assert parse_price("0.6") == 600_000
    for bad in ("-1", "abc", "0.0000001", "nan", "inf"):
        with pytest.raises(ValueError):
            parse_price(bad)


def test_flow_url() -> None:
    assert flow_url("VoiceUrl", " https://x.example/a?b=1 ") == "https://x.example/a?b=1"
    assert flow_url("VoiceUrl", "") is None
    for bad in (
        "ftp://x",
        "http://",
        "x",
        "https://a b.com",
        "http://x:99999/",
        "https://" + "a" * 2050,
    ):
        with pytest.raises(BadRequest):
            flow_url("VoiceUrl", bad)


def test_friendly_name() -> None:
    assert friendly_name(" Sales ") == "Sales"
    assert friendly_name("") is None
    for bad in ("x" * 65, "a\nb", "a\x00"):
        with pytest.raises(BadRequest):
            friendly_name(bad)


def test_credentials() -> None:
    token = credentials.new_token()
    digest = credentials.hash_token(token)
    assert token not in digest and len(token) == 48
    assert credentials.token_matches(token, digest)
    assert not credentials.token_matches(token + "x", digest)
    assert credentials.new_key() != credentials.new_key()
