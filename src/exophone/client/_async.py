"""The asynchronous client: :class:`AsyncClient` and its resources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import tzinfo
from types import TracebackType
from typing import Self, TypeVar

import anyio
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


class AsyncClient(BaseClient[httpx.AsyncClient]):
    """An asynchronous client of the ExoPhone API (v2_beta); the async twin of ``Client``.

    Every method is a coroutine and ``iter()`` an async iterator; the arguments,
    results, errors and retries are those of :class:`~exophone.client.Client`.
    ::

        from exophone import AsyncClient

        async with AsyncClient("acme", "KEY", "TOKEN", base_url="http://127.0.0.1:8000") as c:
            async for number in c.incoming_phone_numbers.iter():
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
        http_client: an ``httpx.AsyncClient`` to send through (proxies, TLS, event
            hooks); the caller closes it. By default the client makes its own.
        sleep: how to wait between attempts; ``anyio.sleep`` unless replaced (tests).

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
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[object]] = anyio.sleep,
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
        http = http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)
        super().__init__(config, http, owns_http=http_client is None)
        self._sleep = sleep
        self.available_phone_numbers = AsyncAvailablePhoneNumbers(self)
        """Countries and numbers for sale."""
        self.incoming_phone_numbers = AsyncIncomingPhoneNumbers(self)
        """The account's own numbers."""

    async def _run(self, call: Call[T]) -> T:
        """Drive one call's exchange with this client's transport and sleep."""
        exchange = self._exchange(call)
        step = next(exchange)
        while True:
            outcome: Outcome = None
            if isinstance(step, Sleep):
                await self._sleep(step.seconds)
            else:
                try:
                    outcome = await self._http.send(step.request)
                except httpx.RequestError as exc:
                    outcome = exc
            try:
                step = exchange.send(outcome)
            except StopIteration as done:
                result: T = done.value
                return result

    async def aclose(self) -> None:
        """Close the connections, unless the ``http_client`` was given (its owner closes it)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncAvailablePhoneNumbers(AvailablePhoneNumbersCalls):
    """``client.available_phone_numbers``: countries and numbers for sale."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self._client = client

    async def countries(self) -> list[Country]:
        """The countries with numbers for sale (``GET /AvailablePhoneNumbers``)."""
        return await self._client._run(self._countries_call())

    async def search(
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
        return await self._client._run(call)


class AsyncIncomingPhoneNumbers(IncomingPhoneNumbersCalls):
    """``client.incoming_phone_numbers``: buy, read, change, list and release numbers."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self._client = client

    async def buy(
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
        return await self._client._run(call)

    async def get(self, id: str) -> IncomingNumber:
        """One of the account's numbers, by sid (exophone also takes the phone number).

        Raises:
            NotFoundError: the account does not own such a number.
        """
        return await self._client._run(self._get_call(id))

    async def update(
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
        return await self._client._run(call)

    async def release(self, id: str) -> None:
        """Release a number from the account (``DELETE /IncomingPhoneNumbers/<id>``).

        Raises:
            NotFoundError: the account does not own such a number.
        """
        await self._client._run(self._release_call(id))

    async def list(self, page: int = 0, page_size: int = DEFAULT_PAGE_SIZE) -> Page:
        """One page of the account's numbers, oldest purchase first; pages count from 0.

        Raises:
            ValidationError: ``page`` or ``page_size`` out of bounds.
        """
        return await self._client._run(self._list_call(page, page_size))

    async def iter(self, page_size: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[IncomingNumber]:
        """Every number of the account, fetching pages lazily by following ``next_page_uri``.

        An async iterator: ``async for number in client.incoming_phone_numbers.iter(): ...``
        """
        call: Call[Page] | None = self._list_call(0, page_size)
        while call is not None:
            page = await self._client._run(call)
            for number in page.items:
                yield number
            call = self._next_call(page)
