"""Plain values that cross the layers: accounts, keys and numbers."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from exophone.domain.numbers import NumberType
from exophone.domain.patterns import NO_PATTERN, SearchPlan


class NumberStatus(enum.StrEnum):
    AVAILABLE = "available"  # for sale
    OWNED = "owned"
    AGING = "aging"  # released; back for sale when its aging period ends


class EventKind(enum.StrEnum):
    """What happened to a number, in its audit trail."""

    IMPORTED = "imported"
    BOUGHT = "bought"
    UPDATED = "updated"
    RELEASED = "released"
    AGED_OUT = "aged_out"
    RECLAIMED = "reclaimed"


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class KeyStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Account:
    sid: str
    name: str
    status: AccountStatus
    created_at: int  # microseconds since the epoch, UTC


@dataclass(frozen=True, slots=True)
class ApiKey:
    key: str
    account_sid: str
    label: str
    status: KeyStatus
    created_at: int


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A key as created: the only moment its token exists in clear."""

    key: str
    token: str
    account_sid: str


@dataclass(frozen=True, slots=True)
class AuthRecord:
    """What authentication needs to know about an API key, in one lookup."""

    key: str
    token_hash: str
    key_status: KeyStatus
    account_sid: str
    account_status: AccountStatus


# Not frozen, though never changed: built for every row of a bulk import, and a frozen
# dataclass of 13 fields takes five times as long to build.
@dataclass(slots=True)
class NumberSpec:
    """A number to add to the inventory, with everything it is sold with (read-only by
    convention)."""

    phone_number: str  # E.164
    national: str  # national significant number (digits)
    country: str
    number_type: NumberType
    region: str
    sms: bool
    voice: bool
    vanity: bool
    one_time_price: int  # micros
    rental_price: int  # micros
    incoming_rate: int  # micros
    incoming_pulse: int  # seconds
    currency: str


# Not frozen, though never changed: a frozen dataclass of 21 fields takes ten times
# as long to build (5 us against 0.5 us here), and one is built for every row read.
@dataclass(slots=True)
class Number:
    """A number of the inventory, for sale or owned by an account (read-only by convention)."""

    phone_number: str
    national: str
    country: str
    number_type: NumberType
    region: str
    sms: bool
    voice: bool
    vanity: bool
    one_time_price: int
    rental_price: int
    incoming_rate: int
    incoming_pulse: int
    currency: str
    status: NumberStatus
    account_sid: str | None
    sid: str | None
    friendly_name: str | None
    voice_url: str | None
    sms_url: str | None
    date_created: int | None  # when bought, microseconds since the epoch
    date_updated: int | None


@dataclass(frozen=True, slots=True)
class Purchase:
    """What a purchase sets on the number it takes into an account."""

    phone_number: str
    account_sid: str
    sid: str
    friendly_name: str
    voice_url: str | None
    sms_url: str | None
    at: int  # microseconds since the epoch: the number's date_created and date_updated


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asked for a change, for the audit trail: the API key and the request id."""

    api_key: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class NumberEvent:
    """One change of a number, as its audit trail records it."""

    phone_number: str
    at: int  # microseconds since the epoch, UTC
    event: EventKind
    account_sid: str | None = None
    api_key: str | None = None
    request_id: str | None = None
    sid: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class NumberLifecycle:
    """Where a number stands: its status, owner or last owner, and aging deadline."""

    phone_number: str
    status: NumberStatus
    account_sid: str | None
    sid: str | None
    last_owner: str | None  # the account that released it last, if any
    aging_until: int | None  # while aging: when it is for sale again
    added_at: int  # when it entered the inventory


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search of the numbers for sale: all filters must match (``Repository.search``)."""

    country: str
    number_type: NumberType
    region: str | None = None
    sms_only: bool = False
    plan: SearchPlan = NO_PATTERN  # the Contains pattern, and the path to its matches
    limit: int = 50
    voice_only: bool = False
    vanity_only: bool = False
    # Where in the number range of the country and type (and region) the page
    # starts, from 0 to 1, wrapping around at its end; None: from its first number.
    start: float | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    """A partial update of an owned number; ``None`` fields are left alone.

    An empty string for a URL clears it.
    """

    friendly_name: str | None = None
    voice_url: str | None = None
    sms_url: str | None = None

    def is_empty(self) -> bool:
        return self.friendly_name is None and self.voice_url is None and self.sms_url is None
