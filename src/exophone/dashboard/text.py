"""Words for people: prices, numbers, dates, places and error messages as pages show them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers

from exophone.domain.money import MICROS
from exophone.domain.regions import IN_CIRCLES, INDIA, country_name

STATUS_NAMES = {"available": "For sale", "owned": "Owned", "aging": "Aging"}
TYPE_NAMES = {"Landline": "Landline", "Mobile": "Mobile", "TollFree": "Toll-free"}

# API parameter names as the dashboard's labels call them.
_FIELD_NAMES = {
    "FriendlyName": "Friendly name",
    "VoiceUrl": "Voice URL",
    "SMSUrl": "SMS URL",
    "InRegion": "Region",
    "PhoneNumber": "Phone number",
    "PageSize": "Page size",
}
_FIELD_PATTERN = re.compile(r"\b(" + "|".join(_FIELD_NAMES) + r")\b")


def humane(message: str) -> str:
    """An API error message with the API's parameter names replaced by the page's labels."""
    return _FIELD_PATTERN.sub(lambda m: _FIELD_NAMES[m.group(1)], message)


def money(micros: int, currency: str) -> str:
    """``499_000_000, "INR"`` -> ``"INR 499.00"``; more decimals only when the price has them."""
    value = Decimal(micros) / MICROS
    text = f"{value:.2f}" if value == round(value, 2) else f"{value.normalize():f}"
    return f"{currency} {text}"


@lru_cache(maxsize=4096)
def phone(e164: str) -> str:
    """A number in international format with spaces, as people read it."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def when(micros: int | None, tz: ZoneInfo) -> str:
    if micros is None:
        return ""
    moment = datetime.fromtimestamp(micros / 1_000_000, UTC).astimezone(tz)
    return moment.strftime("%Y-%m-%d %H:%M")


def region_name(country: str, region: str) -> str:
    """A telecom circle's name for India, the country's name elsewhere."""
    if country == INDIA and region in IN_CIRCLES:
        return IN_CIRCLES[region].name
    if region == country:
        return country_name(country)
    return region


def status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status.capitalize())


def type_name(number_type: str) -> str:
    return TYPE_NAMES.get(number_type, number_type)


def duration(seconds: int) -> str:
    """``86400`` -> ``"1 day"``, ``5400`` -> ``"90 minutes"``; ``0`` -> ``""``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return ""
