"""The wire shapes of the reference, field for field and in its order."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from exophone.domain.model import Account, ApiKey, Number, NumberEvent, NumberLifecycle
from exophone.domain.money import format_micros

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
NUMBER_TYPES = ("Landline", "Mobile", "TollFree")


def format_date(micros: int | None, tz: ZoneInfo) -> str | None:
    """``YYYY-MM-DD HH:mm:ss`` in the server's zone, without an offset, as Exotel shows it."""
    if micros is None:
        return None
    return _format_second(micros // 1_000_000, tz)


@lru_cache(maxsize=8192)
def _format_second(seconds: int, tz: ZoneInfo) -> str:
    # Numbers are read far more often than changed: the same dates recur.
    return datetime.fromtimestamp(seconds, UTC).astimezone(tz).strftime(DATE_FORMAT)


def accounts_path(account_sid: str) -> str:
    return f"/v2_beta/Accounts/{account_sid}"


def country_entry(account_sid: str, code: str, name: str) -> dict[str, Any]:
    base = f"{accounts_path(account_sid)}/AvailablePhoneNumbers/{code}"
    return {
        "country_code": code,
        "country": name,
        "uri": base,
        "subresource_uris": {t: f"{base}/{t}" for t in NUMBER_TYPES},
    }


# Both shapes share country, region and the prices, in the reference's order; they
# are written out in each (not merged from a helper's dict): these run for every
# number answered.


def available_number(n: Number) -> dict[str, Any]:
    return {
        "friendly_name": n.phone_number,
        "phone_number": n.phone_number,
        "capabilities": {"sms": n.sms, "voice": n.voice},
        "country": n.country,
        "region": n.region,
        "one_time_price": format_micros(n.one_time_price),
        "rental_price": format_micros(n.rental_price),
        "incoming_rate": format_micros(n.incoming_rate),
        "incoming_pulse": str(n.incoming_pulse),
        "number_type": n.number_type.value,
        "vanity_number": n.vanity,
        "currency": n.currency,
    }


def incoming_number(n: Number, tz: ZoneInfo) -> dict[str, Any]:
    assert n.account_sid is not None and n.sid is not None
    return {
        "sid": n.sid,
        "date_created": format_date(n.date_created, tz),
        "date_updated": format_date(n.date_updated, tz),
        "account_sid": n.account_sid,
        "friendly_name": n.friendly_name,
        "phone_number": n.phone_number,
        "capabilities": {"voice": n.voice, "sms": n.sms},
        "country": n.country,
        "region": n.region,
        "one_time_price": format_micros(n.one_time_price),
        "rental_price": format_micros(n.rental_price),
        "incoming_rate": format_micros(n.incoming_rate),
        "incoming_pulse": str(n.incoming_pulse),
        "currency": n.currency,
        "number_type": n.number_type.value,
        "vanity_number": n.vanity,
        "voice_url": n.voice_url,
        "sms_url": n.sms_url,
        "uri": f"{accounts_path(n.account_sid)}/IncomingPhoneNumbers/{n.sid}",
    }


def page_envelope(
    *,
    prefix: str,
    account_sid: str,
    page: int,
    page_size: int,
    has_more: bool,
    numbers: list[Number],
    tz: ZoneInfo,
) -> dict[str, Any]:
    """The paging envelope of IncomingPhoneNumbers, with absolute links."""
    base = f"{prefix}{accounts_path(account_sid)}/IncomingPhoneNumbers"

    def link(p: int) -> str:
        return f"{base}?Page={p}&PageSize={page_size}"

    return {
        "page": page,
        "page_size": page_size,
        "uri": link(page),
        "first_page_uri": link(0),
        "next_page_uri": link(page + 1) if has_more else None,
        "previous_page_uri": link(page - 1) if page > 0 else None,
        "incoming_phone_numbers": [incoming_number(n, tz) for n in numbers],
    }


ACCEPTED = {"Status": 202, "Message": "Accepted"}


def account_view(account: Account, tz: ZoneInfo) -> dict[str, Any]:
    """An account as the admin API and ``exophone accounts --json`` show it."""
    return {
        "sid": account.sid,
        "name": account.name,
        "status": account.status.value,
        "created_at": format_date(account.created_at, tz),
    }


def key_view(key: ApiKey, tz: ZoneInfo) -> dict[str, Any]:
    """An API key without its token, which is never stored."""
    return {
        "key": key.key,
        "label": key.label,
        "status": key.status.value,
        "created_at": format_date(key.created_at, tz),
    }


def event_view(event: NumberEvent, tz: ZoneInfo) -> dict[str, Any]:
    """One change of a number's audit trail, as the admin API and the command line show it."""
    details = dict(event.details or {})
    if "aging_until" in details:
        details["aging_until"] = format_date(details["aging_until"], tz)
    return {
        "at": format_date(event.at, tz),
        "at_us": event.at,
        "event": event.event.value,
        "account_sid": event.account_sid,
        "api_key": event.api_key,
        "request_id": event.request_id,
        "sid": event.sid,
        "details": details or None,
    }


def history_view(
    number: NumberLifecycle, events: list[NumberEvent], tz: ZoneInfo
) -> dict[str, Any]:
    """A number's lifecycle state and its audit trail, oldest event first."""
    return {
        "phone_number": number.phone_number,
        "status": number.status.value,
        "account_sid": number.account_sid,
        "sid": number.sid,
        "last_owner": number.last_owner,
        "aging_until": format_date(number.aging_until, tz),
        "events": [event_view(e, tz) for e in events],
    }
