"""Exactly once under load: real multi-process servers on SQLite and PostgreSQL.

A server with two API processes (``exophone serve --workers 2``) takes
hundreds of concurrent requests from several accounts over HTTP; afterwards
every answer and the database must agree: no number sold twice, no release
counted twice, and every number of the inventory is for sale, owned or aging.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from exophone.config import Settings
from exophone.domain.model import NewApiKey
from exophone.domain.numbers import NumberType
from exophone.service import accounts, inventory
from exophone.service.context import Context
from exophone.store import open_store
from tests.conftest import spec
from tests.e2e.conftest import ServerProcess

pytestmark = pytest.mark.e2e

# Twenty valid Karnataka landlines.
NUMBERS = [f"+9180234567{i:02d}" for i in range(1, 21)]
ACCOUNTS = 4
PURCHASES = 240
# Statuses a number may be in; "aging" exists where released numbers rest before resale.
STATUSES = {"available", "owned", "aging"}


@dataclass
class Stage:
    ctx: Context
    server: ServerProcess
    buyers: list[NewApiKey]


@contextmanager
def staged(db_url: str, serve: Any) -> Iterator[Stage]:
    """Four accounts, twenty numbers for sale, and a server with two API processes."""
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        buyers = [accounts.create_account(ctx, f"Buyer {i}", f"buyer{i}") for i in range(ACCOUNTS)]
        inventory.add_numbers(ctx, [spec(ctx, n, NumberType.LANDLINE, "KA") for n in NUMBERS])
        yield Stage(ctx, serve(db_url, "--workers", "2"), buyers)
    finally:
        ctx.store.close()


@pytest.fixture
def stage(db_url: str, serve: Any) -> Iterator[Stage]:
    with staged(db_url, serve) as ready:
        yield ready


def client(stage: Stage) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stage.server.base_url,
        timeout=60,
        limits=httpx.Limits(max_connections=PURCHASES, max_keepalive_connections=PURCHASES),
    )


def incoming(buyer: NewApiKey, rest: str = "") -> str:
    return f"/v2_beta/Accounts/{buyer.account_sid}/IncomingPhoneNumbers{rest}"


def database(ctx: Context) -> tuple[Counter[str], dict[str, tuple[str, str]]]:
    """(count of numbers by status, number -> (owner, sid) for every owned number)."""
    by_status: Counter[str] = Counter()
    owners: dict[str, tuple[str, str]] = {}
    with ctx.store.transaction() as repo:
        for *_, status, count in repo.stats():
            by_status[status] += count
        for number in NUMBERS:
            row = repo.get_number(number)
            assert row is not None
            if row.status.value == "owned":
                assert row.account_sid is not None and row.sid is not None
                owners[number] = (row.account_sid, row.sid)
            else:
                assert row.account_sid is None and row.sid is None, row
    return by_status, owners


def assert_inventory_adds_up(by_status: Counter[str], owned: int) -> None:
    assert set(by_status) <= STATUSES, by_status
    assert sum(by_status.values()) == len(NUMBERS)
    assert by_status["owned"] == owned
    assert by_status["available"] + by_status["owned"] + by_status["aging"] == len(NUMBERS)


async def listed(http: httpx.AsyncClient, buyer: NewApiKey) -> dict[str, str]:
    """number -> sid of every number the account lists, all pages."""
    found: dict[str, str] = {}
    page = 0
    while True:
        resp = await http.get(
            incoming(buyer),
            params={"Page": page, "PageSize": 7},
            auth=(buyer.key, buyer.token),
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        for item in body["incoming_phone_numbers"]:
            assert item["phone_number"] not in found  # paging is exact
            found[item["phone_number"]] = item["sid"]
        if not body.get("next_page_uri"):
            return found
        page += 1


# -- many buyers, few numbers -------------------------------------------------------------


def test_concurrent_purchases_sell_each_number_once(stage: Stage) -> None:
    async def run() -> list[tuple[str, str, httpx.Response]]:
        async with client(stage) as http:

            async def buy(i: int) -> tuple[str, str, httpx.Response]:
                buyer = stage.buyers[i % ACCOUNTS]
                number = NUMBERS[(i * 7) % len(NUMBERS)]
                resp = await http.post(
                    incoming(buyer), data={"PhoneNumber": number}, auth=(buyer.key, buyer.token)
                )
                return buyer.account_sid, number, resp

            return await asyncio.gather(*(buy(i) for i in range(PURCHASES)))

    results = asyncio.run(run())
    statuses = Counter(resp.status_code for *_, resp in results)
    assert statuses == {200: len(NUMBERS), 409: PURCHASES - len(NUMBERS)}, statuses
    winners = {number: (sid, resp.json()) for sid, number, resp in results if resp.is_success}
    assert sorted(winners) == sorted(NUMBERS)  # each number exactly once
    by_status, owners = database(stage.ctx)
    for number, (account, body) in winners.items():
        assert body["account_sid"] == account and body["phone_number"] == number
        assert owners[number] == (account, body["sid"])
    assert len({body["sid"] for _, body in winners.values()}) == len(NUMBERS)
    assert_inventory_adds_up(by_status, owned=len(NUMBERS))
    losers = [resp for *_, resp in results if resp.status_code == 409]
    assert all(r.json()["RestException"]["Status"] == 409 for r in losers)


# -- a storm of buys, updates and releases ---------------------------------------------------


@dataclass
class Log:
    """Every answer of the storm, by kind."""

    buys: list[tuple[str, str, int, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[str, str, str, int, dict[str, Any]]] = field(default_factory=list)
    releases: list[tuple[str, str, int]] = field(default_factory=list)


ACTORS_PER_ACCOUNT = 6
STEPS_PER_ACTOR = 20


async def storm(stage: Stage, seed: int) -> Log:
    log = Log()
    # sids each account believes it holds; shared by its actors, who race each other too.
    held: dict[str, list[str]] = defaultdict(list)

    async with client(stage) as http:

        async def actor(buyer: NewApiKey, rng: random.Random) -> None:
            auth = (buyer.key, buyer.token)
            mine = held[buyer.account_sid]
            for _ in range(STEPS_PER_ACTOR):
                roll = rng.random()
                if roll < 0.45 or not mine:
                    number = rng.choice(NUMBERS)
                    resp = await http.post(incoming(buyer), data={"PhoneNumber": number}, auth=auth)
                    assert resp.status_code in (200, 409), resp.text
                    body = resp.json()
                    log.buys.append((buyer.account_sid, number, resp.status_code, body))
                    if resp.status_code == 200:
                        mine.append(body["sid"])
                elif roll < 0.75:
                    sid = rng.choice(mine)
                    name = f"n{rng.randrange(10**6)}"
                    resp = await http.put(
                        incoming(buyer, f"/{sid}"), data={"FriendlyName": name}, auth=auth
                    )
                    assert resp.status_code in (200, 404), resp.text
                    log.updates.append(
                        (buyer.account_sid, sid, name, resp.status_code, resp.json())
                    )
                else:
                    sid = rng.choice(mine)
                    resp = await http.delete(incoming(buyer, f"/{sid}"), auth=auth)
                    assert resp.status_code in (202, 404), resp.text
                    log.releases.append((buyer.account_sid, sid, resp.status_code))
                    if resp.status_code == 202 and sid in mine:
                        mine.remove(sid)

        await asyncio.gather(
            *(
                actor(buyer, random.Random(f"{seed}-{buyer.account_sid}-{j}"))
                for buyer in stage.buyers
                for j in range(ACTORS_PER_ACCOUNT)
            )
        )
    return log


@pytest.mark.parametrize("aging", ["0", "1d"], ids=["resale-at-once", "aging"])
def test_storm_of_buys_updates_and_releases(
    db_url: str, serve: Any, monkeypatch: pytest.MonkeyPatch, aging: str
) -> None:
    # Without aging a released number is for sale to everyone at once; with it,
    # only its last owner can buy it back until the period ends.
    monkeypatch.setenv("EXOPHONE_AGING_PERIOD", aging)
    with staged(db_url, serve) as stage:
        log = asyncio.run(storm(stage, seed=5))
        check_storm(stage, log)


def check_storm(stage: Stage, log: Log) -> None:
    bought = [(acct, number, body) for acct, number, status, body in log.buys if status == 200]
    sold_sids = [body["sid"] for *_, body in bought]
    assert len(sold_sids) == len(set(sold_sids))  # a sid is never handed out twice
    sid_of = {body["sid"]: (acct, number) for acct, number, body in bought}
    for acct, number, body in bought:
        assert (body["account_sid"], body["phone_number"]) == (acct, number)

    released = Counter(sid for _, sid, status in log.releases if status == 202)
    assert all(count == 1 for count in released.values()), released  # released at most once
    for acct, sid, status in log.releases:
        if status == 202:
            assert sid_of[sid][0] == acct

    by_status, owners = database(stage.ctx)
    # Per number: successful purchases minus successful releases is 1 if owned, else 0.
    balance: Counter[str] = Counter()
    for _, number, _ in bought:
        balance[number] += 1
    for sid in released:
        balance[sid_of[sid][1]] -= 1
    for number in NUMBERS:
        assert balance[number] == (1 if number in owners else 0), number
    for number, (owner, sid) in owners.items():
        assert sid_of[sid] == (owner, number)  # the owner is the buyer of that sid
        assert sid not in released

    for acct, sid, name, status, body in log.updates:
        if status == 200:
            assert (body["sid"], body["friendly_name"], body["account_sid"]) == (sid, name, acct)
    names: defaultdict[str, set[str]] = defaultdict(set)
    for _, sid, name, status, _ in log.updates:
        if status == 200:
            names[sid].add(name)
    with stage.ctx.store.transaction() as repo:
        for number, (_, sid) in owners.items():
            row = repo.get_number(number)
            assert row is not None
            assert row.friendly_name in names[sid] | {"0" + number[3:]}

    assert_inventory_adds_up(by_status, owned=len(owners))
    assert len(log.buys) + len(log.updates) + len(log.releases) == (
        ACCOUNTS * ACTORS_PER_ACCOUNT * STEPS_PER_ACTOR
    )

    async def lists() -> None:
        async with client(stage) as http:
            for buyer in stage.buyers:
                expected = {n: s for n, (o, s) in owners.items() if o == buyer.account_sid}
                assert await listed(http, buyer) == expected

    asyncio.run(lists())


# -- one key, many retries at once -----------------------------------------------------------


def test_concurrent_retries_with_one_key_buy_once(stage: Stage) -> None:
    buyer = stage.buyers[0]
    key = str(uuid.uuid4())

    async def run() -> list[httpx.Response]:
        async with client(stage) as http:
            return await asyncio.gather(
                *(
                    http.post(
                        incoming(buyer),
                        data={"PhoneNumber": NUMBERS[0]},
                        auth=(buyer.key, buyer.token),
                        headers={"Idempotency-Key": key},
                    )
                    for _ in range(40)
                )
            )

    answers = asyncio.run(run())
    assert {r.status_code for r in answers} <= {200, 409}
    sids = {r.json()["sid"] for r in answers if r.status_code == 200}
    assert len(sids) == 1
    for r in answers:
        if r.status_code == 409:
            assert "still in progress" in r.json()["RestException"]["Message"]
    by_status, owners = database(stage.ctx)
    assert owners == {NUMBERS[0]: (buyer.account_sid, sids.pop())}
    assert_inventory_adds_up(by_status, owned=1)
    # Once the first answer is recorded, every retry gets it.
    late = httpx.post(
        f"{stage.server.base_url}{incoming(buyer)}",
        data={"PhoneNumber": NUMBERS[0]},
        auth=(buyer.key, buyer.token),
        headers={"Idempotency-Key": key},
        timeout=30,
    )
    assert late.status_code == 200 and late.headers["Idempotent-Replayed"] == "true"
