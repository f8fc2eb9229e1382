"""The API's calls as data, shared by the sync and async resources.

Each ``_x_call`` method says which request a resource method makes and how its
answer is read; the sync and async resources only run the call.
"""

from __future__ import annotations

from typing import Any

from exophone.client._core import BaseClient, Call, new_idempotency_key
from exophone.client.models import (
    AvailableNumber,
    Country,
    IncomingNumber,
    Page,
    parse_available_numbers,
    parse_countries,
    parse_incoming_number,
    parse_page,
)

AVAILABLE = "AvailablePhoneNumbers"
INCOMING = "IncomingPhoneNumbers"
DEFAULT_PAGE_SIZE = 50


def _given(**params: str | None) -> dict[str, str]:
    """The parameters that were given; ``""`` is given (it clears a URL)."""
    return {name: value for name, value in params.items() if value is not None}


class AvailablePhoneNumbersCalls:
    """Calls of ``/AvailablePhoneNumbers``: countries, and numbers for sale."""

    def __init__(self, core: BaseClient[Any]) -> None:
        self._core = core

    def _countries_call(self) -> Call[list[Country]]:
        return Call("GET", self._core._url(AVAILABLE), parse_countries)

    def _search_call(
        self,
        country: str,
        number_type: str,
        *,
        contains: str | None,
        in_region: str | None,
        incoming_sms: bool | None,
        page_size: int | None,
        voice_enabled: bool | None = None,
        vanity: bool | None = None,
    ) -> Call[list[AvailableNumber]]:
        params = _given(
            Contains=contains,
            InRegion=in_region,
            IncomingSMS=_flag(incoming_sms),
            VoiceEnabled=_flag(voice_enabled),
            Vanity=_flag(vanity),
            PageSize=None if page_size is None else str(page_size),
        )
        url = self._core._url(AVAILABLE, country, number_type)
        return Call("GET", url, parse_available_numbers, params=params)


def _flag(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


class IncomingPhoneNumbersCalls:
    """Calls of ``/IncomingPhoneNumbers``: buy, get, update, release, list."""

    def __init__(self, core: BaseClient[Any]) -> None:
        self._core = core

    def _parse_number(self, body: Any) -> IncomingNumber:
        return parse_incoming_number(body, self._core._config.tz)

    def _parse_page(self, body: Any) -> Page:
        return parse_page(body, self._core._config.tz)

    def _buy_call(
        self,
        phone_number: str,
        *,
        voice_url: str | None,
        sms_url: str | None,
        friendly_name: str | None,
        idempotency_key: str | None,
    ) -> Call[IncomingNumber]:
        data = {
            "PhoneNumber": phone_number,
            **_given(VoiceUrl=voice_url, SMSUrl=sms_url, FriendlyName=friendly_name),
        }
        return Call(
            "POST",
            self._core._url(INCOMING),
            self._parse_number,
            data=data,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )

    def _get_call(self, id: str) -> Call[IncomingNumber]:
        return Call("GET", self._core._url(INCOMING, id), self._parse_number)

    def _update_call(
        self,
        id: str,
        *,
        voice_url: str | None,
        sms_url: str | None,
        friendly_name: str | None,
    ) -> Call[IncomingNumber]:
        data = _given(VoiceUrl=voice_url, SMSUrl=sms_url, FriendlyName=friendly_name)
        return Call("PUT", self._core._url(INCOMING, id), self._parse_number, data=data or None)

    def _release_call(self, id: str) -> Call[None]:
        return Call("DELETE", self._core._url(INCOMING, id), _ignore)

    def _list_call(self, page: int, page_size: int) -> Call[Page]:
        params = {"Page": str(page), "PageSize": str(page_size)}
        return Call("GET", self._core._url(INCOMING), self._parse_page, params=params)

    def _next_call(self, page: Page) -> Call[Page] | None:
        """The call for the page after ``page``, following its ``next_page_uri``.

        An empty page ends the walk too, so a server that kept offering a next
        page past the end could not make the walk endless.
        """
        if page.next_page_uri is None or not page.items:
            return None
        return Call("GET", self._core._follow(page.next_page_uri), self._parse_page)


def _ignore(body: Any) -> None:
    """DELETE answers ``{"Status": 202, "Message": "Accepted"}``: nothing to return."""
