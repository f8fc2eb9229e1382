"""The synchronous client: :class:`Client` and its resources."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import tzinfo
from types import TracebackType
from typing import Self, TypeVar

import httpx

from exophone.client._config import DEFAULT_TIMEZONE, Timeout, resolve
from exophone.client._core import BaseClient, Call, Outcome, Sleep
from exophone.client._resources import (
    DEFAULT_PAGE_SIZE,
    AvailablePhoneNumbersCalls,
    IncomingPhoneNumbersCalls,
)
from exophone.client.models import AvailableNumber, Country, IncomingNumber, Page

T = TypeVar("T")


class Client(BaseClient[httpx.Client]):
    """A synchronous client of the ExoPhone API (v2_beta), on Exotel or an exophone server.

    ::

        from exophone import Client

        with Client("acme", "KEY", "TOKEN", base_url="http://127.0.0.1:8000") as client:
            for number in client.incoming_phone_numbers.iter():
                print(number.phone_number, number.friendly_name)

    Args:
        account_sid: the account SID; default ``EXOTEL_SID``.
        api_key: the API key; default ``EXOTEL_API_KEY``.
        api_token: the API token; default ``EXOTEL_API_TOKEN``.
        region: ``"sg"`` (``https://api.exotel.com``) or ``"in"``
            (``https://api.in.exotel.com``).
        base_url: the service's URL; overrides ``region``. With neither,
            ``EXOTEL_BASE_URL``, else the ``sg`` cluster.
        timeout: seconds each attempt may take (or an ``httpx.Timeout``; ``None``
            waits for ever).
        max_retries: retries after the first attempt, on 429, 5xx, connection
            errors and timeouts; ``0`` turns retrying off.
        backoff: the first retry waits up to this many seconds, each later one up
            to twice as long as the one before (full jitter, at most 8 s); a
            ``Retry-After`` header is honoured instead when the server sends one.
        timezone: the zone the service's dates are in (an IANA name or a
            ``tzinfo``); Exotel and exophone use ``Asia/Kolkata``.
        http_client: an ``httpx.Client`` to send through (proxies, TLS, event
            hooks); the caller closes it. By default the client makes its own.
        sleep: how to wait between attempts; ``time.sleep`` unless replaced (tests).

    Raises:
        ValueError: a credential is missing, or a setting is out of range.
    """

    def __init__(
        self,
        account_sid: str | None = None,
        api_key: str | None = None,
        api_token: str | None = None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        timeout: Timeout = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        timezone: str | tzinfo = DEFAULT_TIMEZONE,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        config = resolve(
            account_sid=account_sid,
            api_key=api_key,
            api_token=api_token,
            region=region,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            timezone=timezone,
        )
        http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        super().__init__(config, http, owns_http=http_client is None)
        self._sleep = sleep
        self.available_phone_numbers = AvailablePhoneNumbers(self)
        """Countries and numbers for sale."""
        self.incoming_phone_numbers = IncomingPhoneNumbers(self)
        """The account's own numbers."""

    def _run(self, call: Call[T]) -> T:
        """Drive one call's exchange with this client's transport and sleep."""
        exchange = self._exchange(call)
        step = next(exchange)
        while True:
            outcome: Outcome = None
            if isinstance(step, Sleep):
                self._sleep(step.seconds)
            else:
                try:
                    outcome = self._http.send(step.request)
                except httpx.RequestError as exc:
                    outcome = exc
            try:
                step = exchange.send(outcome)
            except StopIteration as done:
                result: T = done.value
                return result

    def close(self) -> None:
        """Close the connections, unless the ``http_client`` was given (its owner closes it)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AvailablePhoneNumbers(AvailablePhoneNumbersCalls):
    """``client.available_phone_numbers``: countries and numbers for sale."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self._client = client

    def countries(self) -> list[Country]:
        """The countries with numbers for sale (``GET /AvailablePhoneNumbers``)."""
        return self._client._run(self._countries_call())

    def search(
        self,
        country: str,
        number_type: str,
        *,
        contains: str | None = None,
        in_region: str | None = None,
        incoming_sms: bool | None = None,
        page_size: int | None = None,
        voice_enabled: bool | None = None,
        vanity: bool | None = None,
    ) -> list[AvailableNumber]:
        """Numbers for sale (``GET /AvailablePhoneNumbers/<country>/<type>``).

        Args:
            country: ISO 3166-1 alpha-2 code, any case (``"IN"``).
            number_type: ``"Landline"``, ``"Mobile"`` or ``"TollFree"``, any case.
            contains: a pattern the number must contain (``"2345"``; exophone also
                reads keypad letters, ``*`` for one digit and ``^``/``$`` anchors).
            in_region: a telecom circle (``"KA"``).
            incoming_sms: ``True`` keeps only numbers that receive SMS.
            page_size: at most this many numbers (the service's default is 50).
            voice_enabled: ``True`` keeps only numbers that take calls (exophone's
                ``VoiceEnabled``; Exotel ignores it).
            vanity: ``True`` keeps only vanity numbers (exophone's ``Vanity``;
                Exotel ignores it).

        Raises:
            NotFoundError: unknown country or number type.
            ValidationError: a filter of the wrong form.
        """
        call = self._search_call(
            country,
            number_type,
            contains=contains,
            in_region=in_region,
            incoming_sms=incoming_sms,
            page_size=page_size,
            voice_enabled=voice_enabled,
            vanity=vanity,
        )
        return self._client._run(call)


class IncomingPhoneNumbers(IncomingPhoneNumbersCalls):
    """``client.incoming_phone_numbers``: buy, read, change, list and release numbers."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self._client = client

    def buy(
        self,
        phone_number: str,
        *,
        voice_url: str | None = None,
        sms_url: str | None = None,
        friendly_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> IncomingNumber:
        """Buy a number for sale (``POST /IncomingPhoneNumbers``).

        The request carries an ``Idempotency-Key`` header (a new UUID unless
        ``idempotency_key`` is given), the same on every retry of this call.

        Args:
            phone_number: the number, as ``AvailableNumber.phone_number`` shows it.
            voice_url: the flow incoming calls go to.
            sms_url: the flow incoming SMS go to.
            friendly_name: a name to recognise the number by.
            idempotency_key: the key to send instead of a new one.

        Raises:
            NumberUnavailableError: the number is not for sale.
            ValidationError: a parameter of the wrong form.
        """
        call = self._buy_call(
            phone_number,
            voice_url=voice_url,
            sms_url=sms_url,
            friendly_name=friendly_name,
            idempotency_key=idempotency_key,
        )
        return self._client._run(call)

    def get(self, id: str) -> IncomingNumber:
        """One of the account's numbers, by sid (exophone also takes the phone number).

        Raises:
            NotFoundError: the account does not own such a number.
        """
        return self._client._run(self._get_call(id))

    def update(
        self,
        id: str,
        *,
        voice_url: str | None = None,
        sms_url: str | None = None,
        friendly_name: str | None = None,
    ) -> IncomingNumber:
        """Change a number's flows or name (``PUT /IncomingPhoneNumbers/<id>``).

        Only the arguments given are sent. ``""`` clears ``voice_url`` or
        ``sms_url``; on exophone it restores the default ``friendly_name``.

        Raises:
            NotFoundError: the account does not own such a number.
            ValidationError: a parameter of the wrong form (nothing is changed).
        """
        call = self._update_call(
            id, voice_url=voice_url, sms_url=sms_url, friendly_name=friendly_name
        )
        return self._client._run(call)

    def release(self, id: str) -> None:
        """Release a number from the account (``DELETE /IncomingPhoneNumbers/<id>``).

        Raises:
            NotFoundError: the account does not own such a number.
        """
        self._client._run(self._release_call(id))

    def list(self, page: int = 0, page_size: int = DEFAULT_PAGE_SIZE) -> Page:
        """One page of the account's numbers, oldest purchase first; pages count from 0.

        Raises:
            ValidationError: ``page`` or ``page_size`` out of bounds.
        """
        return self._client._run(self._list_call(page, page_size))

    def iter(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[IncomingNumber]:
        """Every number of the account, fetching pages lazily by following ``next_page_uri``."""
        call: Call[Page] | None = self._list_call(0, page_size)
        while call is not None:
            page = self._client._run(call)
            yield from page.items
            call = self._next_call(page)
