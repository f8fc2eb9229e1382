"""Validation of inventory rows from a carrier's file, one row at a time.

A row is a mapping of column to text (CSV) or JSON value (JSON Lines). Only
``phone_number`` and ``number_type`` are required; every other column falls
back to the price catalogue, and ``region`` to what the number itself says.
A row either becomes a complete NumberSpec or is rejected with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType

from exophone.domain.catalogue import Catalogue
from exophone.domain.errors import NotFound
from exophone.domain.model import NumberSpec
from exophone.domain.money import parse_price
from exophone.domain.numbers import (
    NumberType,
    e164,
    national_digits,
    parse_e164_fast,
    region_code,
)
from exophone.domain.regions import INDIA, circle_of_landline, region_codes

COLUMNS = (
    "phone_number", "number_type", "country", "region", "sms", "voice", "vanity",
    "one_time_price", "rental_price", "incoming_rate", "incoming_pulse", "currency",
)  # fmt: skip
CURRENCY = re.compile(r"[A-Z]{3}")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


class RowError(ValueError):
    """Why a row was rejected, in words for the person who made the file."""


def parse_row(row: Mapping[str, Any], catalogue: Catalogue) -> NumberSpec:
    """A complete NumberSpec from one row, or RowError saying what is wrong with it."""
    text = _text(row, "phone_number")
    if not text:
        raise RowError("phone_number is missing")
    # The plain E.164 form most files hold is read without phonenumbers' parser,
    # and one classification tells both validity and type (number_type is
    # UNKNOWN exactly when is_valid_number is false): a bulk import's most
    # frequent cost, halved.
    parsed = parse_e164_fast(text)
    lib_type = phonenumbers.number_type(parsed) if parsed is not None else None
    if lib_type is None or lib_type == PhoneNumberType.UNKNOWN:
        try:
            parsed = phonenumbers.parse(text if text.startswith("+") else "+" + text, None)
        except phonenumbers.NumberParseException as exc:
            raise RowError(f"'{text[:32]}' is not a phone number in E.164 form") from exc
        if not phonenumbers.is_valid_number(parsed):
            raise RowError(f"'{text[:32]}' is not a valid phone number")
        lib_type = phonenumbers.number_type(parsed)
    assert parsed is not None
    number = e164(parsed)
    country = region_code(parsed)
    given_country = _text(row, "country").upper()
    if given_country and given_country != country:
        raise RowError(f"{number} is a number of {country}, not {given_country}")
    type_text = _text(row, "number_type")
    if not type_text:
        raise RowError("number_type is missing")
    try:
        kind = NumberType.parse(type_text)
    except NotFound as exc:
        raise RowError(exc.message) from exc
    if not kind.accepts(lib_type):
        raise RowError(f"{number} is not a {kind.value} number")
    national = national_digits(parsed)
    region = _region(row, country, kind, national)
    price = catalogue.lookup(country, kind, region)
    currency = _text(row, "currency").upper() or price.currency
    if not CURRENCY.fullmatch(currency):
        raise RowError(f"currency '{currency[:10]}' is not an ISO 4217 code")
    return NumberSpec(
        phone_number=number,
        national=national,
        country=country,
        number_type=kind,
        region=region,
        sms=_flag(row, "sms", price.sms),
        voice=_flag(row, "voice", price.voice),
        vanity=_flag(row, "vanity", False),
        one_time_price=_price(row, "one_time_price", price.one_time_price),
        rental_price=_price(row, "rental_price", price.rental_price),
        incoming_rate=_price(row, "incoming_rate", price.incoming_rate),
        incoming_pulse=_pulse(row, price.incoming_pulse),
        currency=currency,
    )


def _region(row: Mapping[str, Any], country: str, kind: NumberType, national: str) -> str:
    given = _text(row, "region").upper()
    valid = region_codes(country)
    if given:
        if given not in valid:
            raise RowError(f"region '{given[:10]}' is not one of {country}'s: {', '.join(valid)}")
        return given
    if country != INDIA:
        return country
    if kind is NumberType.LANDLINE:
        circle = circle_of_landline(national)
        if circle is not None:
            return circle
    raise RowError(f"region is missing: give the telecom circle of this {kind.value} number")


def _text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    if type(value) is str:  # nearly always (CSV): the quick way
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowError(f"{column} must be text, not {type(value).__name__}")
    return str(value).strip()


def _flag(row: Mapping[str, Any], column: str, default: bool) -> bool:
    value = row.get(column)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    folded = str(value).strip().lower()
    if folded == "":
        return default
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise RowError(f"{column} must be true or false, not '{str(value)[:10]}'")


def _price(row: Mapping[str, Any], column: str, default: int) -> int:
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        raise RowError(f"{column} must be a price, not {value}")
    try:
        return parse_price(value)
    except ValueError as exc:
        raise RowError(f"{column}: {exc}") from exc


def _pulse(row: Mapping[str, Any], default: int) -> int:
    text = _text(row, "incoming_pulse")
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 3600:
        raise RowError(f"incoming_pulse must be whole seconds from 1 to 3600, not '{text[:10]}'")
    return int(text)
