"""Plain values that cross the layers: accounts, keys and numbers."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from exophone.domain.numbers import NumberType


class NumberStatus(enum.StrEnum):
    AVAILABLE = "available"  # for sale
    OWNED = "owned"


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


@dataclass(frozen=True, slots=True)
class NumberSpec:
    """A number to add to the inventory, with everything it is sold with."""

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


@dataclass(frozen=True, slots=True)
class Number:
    """A number of the inventory, for sale or owned by an account."""

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
class SearchQuery:
    country: str
    number_type: NumberType
    region: str | None = None
    sms_only: bool = False
    like: str | None = None  # a SQL LIKE pattern over the national digits
    limit: int = 50


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
