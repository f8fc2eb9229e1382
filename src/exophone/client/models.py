"""Typed results: frozen dataclasses read from the API's JSON.

Field names are the JSON keys of the reference, with three translations:
``capabilities`` becomes the booleans ``voice`` and ``sms``; prices become
:class:`~decimal.Decimal`; ``date_created`` and ``date_updated`` become
time-zone-aware :class:`~datetime.datetime` values (the wire carries local time
without an offset, in the client's ``timezone`` setting). ``incoming_pulse``
is an ``int`` (seconds).

Every result also keeps:

- ``extra``: the fields this version of the SDK does not know, as sent (a new
  key inside ``capabilities`` appears as ``extra["capabilities"]``), so a
  newer server loses nothing;
- ``raw``: the whole JSON object as received.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["AvailableNumber", "Country", "IncomingNumber", "Page"]


def _extra() -> Any:
    return field(default_factory=dict, hash=False)


def _raw() -> Any:
    return field(default_factory=dict, hash=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Country:
    """A country with numbers for sale, from ``available_phone_numbers.countries()``.

    Attributes:
        country_code: ISO 3166-1 alpha-2 code (``"IN"``).
        country: the country's name (``"India"``).
        uri: the country's relative URI.
        subresource_uris: search URI per number type (``Landline``, ``Mobile``, ``TollFree``).
    """

    country_code: str
    country: str
    uri: str | None = None
    subresource_uris: Mapping[str, str] = field(default_factory=dict, hash=False)
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True, slots=True)
class AvailableNumber:
    """A number for sale, from ``available_phone_numbers.search()``.

    Attributes:
        phone_number: E.164 (``"+918023456701"``); what ``buy()`` takes.
        friendly_name: the service's display name (the number itself).
        voice: incoming calls are supported.
        sms: incoming SMS is supported.
        country: ISO 3166-1 alpha-2 code.
        region: telecom circle (``"KA"``) for India, the country code elsewhere.
        one_time_price: purchase price, in ``currency``.
        rental_price: monthly rental, in ``currency``.
        incoming_rate: price of one pulse of an incoming call.
        incoming_pulse: length of one pulse, in seconds.
        number_type: ``"Landline"``, ``"Mobile"`` or ``"TollFree"``.
        vanity_number: an easy-to-remember number.
        currency: ISO 4217 code (``"INR"``); ``None`` when the service omits it.
    """

    phone_number: str
    friendly_name: str | None
    voice: bool
    sms: bool
    country: str
    region: str | None
    one_time_price: Decimal
    rental_price: Decimal
    incoming_rate: Decimal
    incoming_pulse: int
    number_type: str
    vanity_number: bool
    currency: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True, slots=True)
class IncomingNumber:
    """A number the account owns, from ``incoming_phone_numbers`` calls.

    Attributes:
        sid: the number's identifier; ``get``, ``update`` and ``release`` take it.
        date_created: when it was bought (time-zone aware).
        date_updated: when it was last changed (time-zone aware).
        account_sid: the owning account.
        friendly_name: a name to recognise the number by.
        phone_number: E.164.
        voice: incoming calls are supported.
        sms: incoming SMS is supported.
        country: ISO 3166-1 alpha-2 code.
        region: telecom circle for India, the country code elsewhere.
        one_time_price: purchase price, in ``currency``.
        rental_price: monthly rental, in ``currency``.
        incoming_rate: price of one pulse of an incoming call.
        incoming_pulse: length of one pulse, in seconds.
        currency: ISO 4217 code.
        number_type: ``"Landline"``, ``"Mobile"`` or ``"TollFree"``.
        vanity_number: an easy-to-remember number.
        voice_url: the flow incoming calls go to, or ``None``.
        sms_url: the flow incoming SMS go to, or ``None``.
        uri: the number's relative URI.
    """

    sid: str
    date_created: datetime
    date_updated: datetime
    account_sid: str
    friendly_name: str | None
    phone_number: str
    voice: bool
    sms: bool
    country: str
    region: str | None
    one_time_price: Decimal
    rental_price: Decimal
    incoming_rate: Decimal
    incoming_pulse: int
    currency: str | None
    number_type: str
    vanity_number: bool
    voice_url: str | None
    sms_url: str | None
    uri: str | None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the account's numbers, from ``incoming_phone_numbers.list()``.

    Iterating a page iterates its ``items``; ``len(page)`` is their count.

    Attributes:
        items: the numbers on this page, oldest purchase first.
        page: this page's index, from 0.
        page_size: the page size in effect.
        uri: this page's URL.
        first_page_uri: the first page's URL.
        next_page_uri: the next page's URL, ``None`` on the last page.
        previous_page_uri: the previous page's URL, ``None`` on the first page.
    """

    items: tuple[IncomingNumber, ...]
    page: int
    page_size: int
    uri: str | None = None
    first_page_uri: str | None = None
    next_page_uri: str | None = None
    previous_page_uri: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()

    @property
    def has_next(self) -> bool:
        """Whether a page follows this one."""
        return self.next_page_uri is not None

    def __iter__(self) -> Iterator[IncomingNumber]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class _Reader:
    """Reads the fields of one JSON object and remembers which were read.

    What was not read is, by definition, what the SDK does not know: ``extra``.
    A required field that is missing or of the wrong form raises ``ValueError``.
    """

    def __init__(self, data: Any, what: str) -> None:
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a JSON object for {what}, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self.what = what
        self.seen: set[str] = set()

    def value(self, key: str, required: bool = False) -> Any:
        """A field as sent; ``None`` when absent and not required."""
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise ValueError(f"{self.what} has no '{key}'")
            return None
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.value(key, True)
        if value is None:
            raise ValueError(f"{self.what}.{key} is null")
        return str(value)

    def optional_text(self, key: str) -> str | None:
        value = self.value(key, False)
        return None if value is None else str(value)

    def decimal(self, key: str) -> Decimal:
        value = self.value(key, True)
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"{self.what}.{key} is not a number: {value!r}") from exc
        if not number.is_finite():
            raise ValueError(f"{self.what}.{key} is not a number: {value!r}")
        return number

    def integer(self, key: str) -> int:
        number = self.decimal(key)
        if number != number.to_integral_value():
            raise ValueError(f"{self.what}.{key} is not a whole number: {number}")
        return int(number)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.value(key, False)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if isinstance(value, int):
            return value != 0
        raise ValueError(f"{self.what}.{key} is not a boolean: {value!r}")

    def date(self, key: str, tz: tzinfo) -> datetime:
        value = self.text(key)
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ValueError(f"{self.what}.{key} is not a date: {value!r}") from exc
        # The wire has local time without an offset; an offset, if ever sent, wins.
        return when if when.tzinfo is not None else when.replace(tzinfo=tz)

    def nested(self, key: str) -> _Reader:
        value = self.value(key, False)
        return _Reader({} if value is None else value, f"{self.what}.{key}")

    def unknown(self, **nested: _Reader) -> dict[str, Any]:
        out = {k: v for k, v in self.data.items() if k not in self.seen}
        for key, reader in nested.items():
            rest = reader.unknown()
            if rest:
                out[key] = rest
        return out


def parse_country(data: Any) -> Country:
    """A :class:`Country` from one entry of ``countries``."""
    r = _Reader(data, "country")
    subs = r.value("subresource_uris", False) or {}
    if not isinstance(subs, Mapping):
        raise ValueError("country.subresource_uris is not an object")
    return Country(
        country_code=r.text("country_code"),
        country=r.text("country"),
        uri=r.optional_text("uri"),
        subresource_uris={str(k): str(v) for k, v in subs.items()},
        extra=r.unknown(),
        raw=dict(r.data),
    )


def parse_countries(data: Any) -> list[Country]:
    """The countries of a ``GET AvailablePhoneNumbers`` answer."""
    r = _Reader(data, "countries answer")
    entries = r.value("countries", True)
    if not isinstance(entries, list):
        raise ValueError("'countries' is not a list")
    return [parse_country(entry) for entry in entries]


def parse_available_number(data: Any) -> AvailableNumber:
    """An :class:`AvailableNumber` from one entry of a search answer."""
    r = _Reader(data, "available number")
    caps = r.nested("capabilities")
    return AvailableNumber(
        phone_number=r.text("phone_number"),
        friendly_name=r.optional_text("friendly_name"),
        voice=caps.flag("voice"),
        sms=caps.flag("sms"),
        country=r.text("country"),
        region=r.optional_text("region"),
        one_time_price=r.decimal("one_time_price"),
        rental_price=r.decimal("rental_price"),
        incoming_rate=r.decimal("incoming_rate"),
        incoming_pulse=r.integer("incoming_pulse"),
        number_type=r.text("number_type"),
        vanity_number=r.flag("vanity_number"),
        currency=r.optional_text("currency"),
        extra=r.unknown(capabilities=caps),
        raw=dict(r.data),
    )


def parse_available_numbers(data: Any) -> list[AvailableNumber]:
    """The numbers of a search answer (a JSON array)."""
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON array of numbers, got {type(data).__name__}")
    return [parse_available_number(entry) for entry in data]


def parse_incoming_number(data: Any, tz: tzinfo) -> IncomingNumber:
    """An :class:`IncomingNumber`, reading dates as local times in ``tz``."""
    r = _Reader(data, "incoming number")
    caps = r.nested("capabilities")
    return IncomingNumber(
        sid=r.text("sid"),
        date_created=r.date("date_created", tz),
        date_updated=r.date("date_updated", tz),
        account_sid=r.text("account_sid"),
        friendly_name=r.optional_text("friendly_name"),
        phone_number=r.text("phone_number"),
        voice=caps.flag("voice"),
        sms=caps.flag("sms"),
        country=r.text("country"),
        region=r.optional_text("region"),
        one_time_price=r.decimal("one_time_price"),
        rental_price=r.decimal("rental_price"),
        incoming_rate=r.decimal("incoming_rate"),
        incoming_pulse=r.integer("incoming_pulse"),
        currency=r.optional_text("currency"),
        number_type=r.text("number_type"),
        vanity_number=r.flag("vanity_number"),
        voice_url=r.optional_text("voice_url"),
        sms_url=r.optional_text("sms_url"),
        uri=r.optional_text("uri"),
        extra=r.unknown(capabilities=caps),
        raw=dict(r.data),
    )


def parse_page(data: Any, tz: tzinfo) -> Page:
    """A :class:`Page` from a ``GET IncomingPhoneNumbers`` answer."""
    r = _Reader(data, "page")
    entries = r.value("incoming_phone_numbers", True)
    if not isinstance(entries, list):
        raise ValueError("'incoming_phone_numbers' is not a list")
    return Page(
        items=tuple(parse_incoming_number(entry, tz) for entry in entries),
        page=r.integer("page"),
        page_size=r.integer("page_size"),
        uri=r.optional_text("uri"),
        first_page_uri=r.optional_text("first_page_uri"),
        next_page_uri=r.optional_text("next_page_uri"),
        previous_page_uri=r.optional_text("previous_page_uri"),
        extra=r.unknown(),
        raw=dict(r.data),
    )
