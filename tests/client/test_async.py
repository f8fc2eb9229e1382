"""The async client does the same work, concurrently, against a real server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from exophone.client import (
    AsyncClient,
    AuthenticationError,
    IncomingNumber,
    NotFoundError,
    NumberUnavailableError,
    PermissionDeniedError,
    ValidationError,
)
from tests.conftest import World

pytestmark = pytest.mark.anyio

NUMBERS = ["+918023456701", "+918023456702", "+911123456701", "+912223456701", "+919876543201"]


async def test_countries_and_search(aclient: AsyncClient) -> None:
    countries, found = await asyncio.gather(
        aclient.available_phone_numbers.countries(),
        aclient.available_phone_numbers.search("IN", "Landline", in_region="KA", incoming_sms=True),
    )
    assert [c.country_code for c in countries] == ["IN", "MY"]
    assert [n.phone_number for n in found] == ["+918023456701"]
    assert found[0].sms is True and isinstance(found[0].rental_price, Decimal)


async def test_concurrent_buys_gets_updates_and_releases(aclient: AsyncClient) -> None:
    bought = await asyncio.gather(*(aclient.incoming_phone_numbers.buy(n) for n in NUMBERS))
    assert sorted(n.phone_number for n in bought) == sorted(NUMBERS)
    assert len({n.sid for n in bought}) == len(NUMBERS)
    assert all(abs(datetime.now(UTC) - n.date_created) < timedelta(seconds=10) for n in bought)

    got = await asyncio.gather(*(aclient.incoming_phone_numbers.get(n.sid) for n in bought))
    assert got == list(bought)

    renamed = await asyncio.gather(
        *(
            aclient.incoming_phone_numbers.update(n.sid, friendly_name=f"line {i}")
            for i, n in enumerate(bought)
        )
    )
    assert [n.friendly_name for n in renamed] == [f"line {i}" for i in range(len(NUMBERS))]

    page = await aclient.incoming_phone_numbers.list(page_size=2)
    assert len(page) == 2 and page.has_next
    walked = [n async for n in aclient.incoming_phone_numbers.iter(page_size=2)]
    assert sorted(n.sid for n in walked) == sorted(n.sid for n in bought)

    await asyncio.gather(*(aclient.incoming_phone_numbers.release(n.sid) for n in bought))
    assert [n async for n in aclient.incoming_phone_numbers.iter()] == []


async def test_concurrent_buyers_of_one_number_one_wins(aclient: AsyncClient) -> None:
    results = await asyncio.gather(
        *(aclient.incoming_phone_numbers.buy("+918023456701") for _ in range(4)),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, IncomingNumber)]
    lost = [r for r in results if isinstance(r, NumberUnavailableError)]
    assert (len(won), len(lost)) == (1, 3)


@pytest.mark.parametrize("size", [1, 2, 50])
async def test_iter_yields_every_owned_number_once(aclient: AsyncClient, size: int) -> None:
    bought = [await aclient.incoming_phone_numbers.buy(n) for n in NUMBERS]
    walked = [n.sid async for n in aclient.incoming_phone_numbers.iter(page_size=size)]
    assert walked == [n.sid for n in bought]


async def test_errors(world: World, server: str, aclient: AsyncClient) -> None:
    with pytest.raises(NotFoundError):
        await aclient.incoming_phone_numbers.get("08099999999")
    with pytest.raises(ValidationError):
        await aclient.incoming_phone_numbers.list(page_size=0)
    async with AsyncClient("acme", world.acme.key, "0" * 48, base_url=server) as wrong:
        with pytest.raises(AuthenticationError):
            await wrong.available_phone_numbers.countries()
    async with AsyncClient("other", world.acme.key, world.acme.token, base_url=server) as foreign:
        with pytest.raises(PermissionDeniedError):
            await foreign.available_phone_numbers.countries()
