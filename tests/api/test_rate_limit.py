"""The per-account rate limit: 429 with Retry-After, X-RateLimit-* headers, shared across
processes through the database or Redis."""

from __future__ import annotations

import asyncio
import random
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exophone.config import Settings
from exophone.domain.model import NewApiKey
from exophone.service import accounts
from exophone.service.context import Context
from exophone.service.ratelimit import (
    WINDOW_SECONDS,
    Counters,
    RateLimiter,
    RedisCounters,
    StoreCounters,
    limiter_for,
)
from exophone.store import open_store
from tests.conftest import Api
from tests.e2e.conftest import ServerProcess, start_server, stop

REDIS_URL = "redis://127.0.0.1:6379/0"
MINUTE_US = WINDOW_SECONDS * 1_000_000


def fresh_window(budget: float) -> None:
    """Wait, if need be, so the next ``budget`` seconds fall in one clock minute."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < budget:
        time.sleep(left + 0.05)


def redis_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


needs_redis = pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379")


class SetClock:
    """A clock the test moves by hand (microseconds since the epoch)."""

    def __init__(self, now_us: int) -> None:
        self.now = now_us

    def now_us(self) -> int:
        return self.now


def limits(resp: httpx.Response) -> tuple[int, int, int]:
    h = resp.headers
    return int(h["X-RateLimit-Limit"]), int(h["X-RateLimit-Remaining"]), int(h["X-RateLimit-Reset"])


# -- through the API, in-process and over real HTTP -------------------------------------


@pytest.mark.rate_limit(5)
def test_the_limit_answers_429_with_retry_after_and_headers(api: Api) -> None:
    fresh_window(10)
    path = api.path("/IncomingPhoneNumbers")
    seen = []
    for _ in range(5):
        resp = api.get(path)
        assert resp.status_code == 200
        limit, remaining, reset = limits(resp)
        assert limit == 5 and 1 <= reset <= WINDOW_SECONDS
        seen.append(remaining)
    assert seen == [4, 3, 2, 1, 0]
    refused = api.get(path)
    assert refused.status_code == 429
    body = refused.json()
    assert body["RestException"]["Status"] == 429
    assert "5 a minute" in body["RestException"]["Message"]
    limit, remaining, reset = limits(refused)
    assert (limit, remaining) == (5, 0)
    assert refused.headers["Retry-After"] == str(reset)
    assert refused.headers["X-Request-Id"]
    # Every endpoint of the account is refused; another account has its own count.
    assert api.get(api.path("/AvailablePhoneNumbers")).status_code == 429
    other = api.get(api.path("/IncomingPhoneNumbers", sid="other"), creds=api.world.other)
    assert other.status_code == 200 and limits(other)[1] == 4


@pytest.mark.rate_limit(3)
def test_authenticated_errors_count_and_carry_the_headers(api: Api) -> None:
    fresh_window(10)
    missing = api.get(api.path("/IncomingPhoneNumbers/08099999999"))
    assert missing.status_code == 404 and limits(missing)[:2] == (3, 2)
    bad = api.post(api.path("/IncomingPhoneNumbers"), data={})
    assert bad.status_code == 400 and limits(bad)[:2] == (3, 1)


@pytest.mark.rate_limit(2)
def test_unauthenticated_requests_are_neither_counted_nor_labelled(api: Api) -> None:
    fresh_window(10)
    for _ in range(4):
        resp = api.get(api.path("/IncomingPhoneNumbers"), creds=False)
        assert resp.status_code == 401
        assert "X-RateLimit-Limit" not in resp.headers
    wrong_account = api.get(api.path("/IncomingPhoneNumbers", sid="other"))
    assert wrong_account.status_code == 403 and "X-RateLimit-Limit" not in wrong_account.headers
    for path in ("/openapi.json", "/healthz", "/nowhere"):
        assert "X-RateLimit-Limit" not in api.get(path).headers
    assert limits(api.get(api.path("/IncomingPhoneNumbers")))[:2] == (2, 1)


def test_no_limit_when_it_is_0(api: Api) -> None:
    assert api.world.ctx.settings.rate_limit == 0  # the tests' default
    for _ in range(30):
        resp = api.get(api.path("/IncomingPhoneNumbers"))
        assert resp.status_code == 200
        assert "X-RateLimit-Limit" not in resp.headers


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXOPHONE_RATE_LIMIT", raising=False)
    assert Settings.from_env().rate_limit == 200
    monkeypatch.setenv("EXOPHONE_RATE_LIMIT", "30")
    monkeypatch.setenv("EXOPHONE_REDIS_URL", REDIS_URL)
    settings = Settings.from_env()
    assert (settings.rate_limit, settings.redis_url) == (30, REDIS_URL)
    with pytest.raises(ValueError):
        Settings(rate_limit=-1)


# -- the limiter itself, on the real stores ---------------------------------------------


def _account(ctx: Context) -> str:
    return accounts.create_account(ctx, "Acme", f"a{uuid.uuid4().hex[:12]}").account_sid


def _run(limiters: list[RateLimiter], sid: str, n: int) -> list[bool]:
    """n requests of one account, spread in turn over the limiters ("processes")."""

    async def go() -> list[bool]:
        out = []
        for i in range(n):
            out.append((await limiters[i % len(limiters)].admit(sid)).allowed)
        for limiter in limiters:
            await limiter.close()
        return out

    return asyncio.run(go())


def test_the_window_restarts_each_minute_and_old_rows_go(ctx: Context) -> None:
    sid = _account(ctx)
    clock = SetClock(1_700_000_000 * 1_000_000 // MINUTE_US * MINUTE_US + 10_000_000)
    limiter = RateLimiter(3, StoreCounters(ctx.store), clock)

    async def go() -> list[tuple[bool, int, int]]:
        out = []
        for step in (0, 0, 0, 0, 49_500_000, MINUTE_US, 0, 0, 0, 2 * MINUTE_US):
            clock.now += step
            d = await limiter.admit(sid)
            out.append((d.allowed, d.remaining, d.reset))
        return out

    decisions = asyncio.run(go())
    assert decisions[:4] == [(True, 2, 50), (True, 1, 50), (True, 0, 50), (False, 0, 50)]
    assert decisions[4] == (False, 0, 1)  # half a second left: Reset rounds up
    assert decisions[5:9] == [(True, 2, 1), (True, 1, 1), (True, 0, 1), (False, 0, 1)]
    assert decisions[9][:2] == (True, 2)
    with ctx.store.transaction() as repo:
        repo.cur.execute("SELECT COUNT(*) FROM rate_limits")
        assert repo.cur.fetchone()[0] == 1  # older windows were swept


@pytest.mark.parametrize("limit", [1, 20, 99])
def test_two_processes_share_an_exact_limit_below_100(ctx: Context, limit: int) -> None:
    sid = _account(ctx)
    clock = SetClock(1_700_000_000 * 1_000_000 // MINUTE_US * MINUTE_US)
    pair = [RateLimiter(limit, StoreCounters(ctx.store), clock) for _ in range(2)]
    assert pair[0].batch == 1
    admitted = _run(pair, sid, limit + 10)
    assert admitted == [True] * limit + [False] * 10


def test_two_processes_at_200_stay_within_the_documented_tolerance(ctx: Context) -> None:
    sid = _account(ctx)
    clock = SetClock(1_700_000_000 * 1_000_000 // MINUTE_US * MINUTE_US)
    pair = [RateLimiter(200, StoreCounters(ctx.store), clock) for _ in range(2)]
    batch = pair[0].batch
    assert batch == 4
    admitted = _run(pair, sid, 260)
    assert admitted[:200] == [True] * 200  # never refused under the limit
    assert 200 <= sum(admitted) <= 200 + 2 * batch
    assert admitted[-20:] == [False] * 20
    with ctx.store.transaction() as repo:
        repo.cur.execute(f"SELECT hits FROM rate_limits WHERE account_sid = '{sid}'")
        assert repo.cur.fetchone()[0] >= sum(admitted) - 2 * batch


async def _spread(
    limiters: list[RateLimiter], sid: str, n: int, stay: float, rnd: random.Random
) -> list[bool]:
    """n requests, each on the process of the one before with chance ``stay``, else another."""
    out, current = [], 0
    for _ in range(n):
        if rnd.random() >= stay:
            current = rnd.randrange(len(limiters))
        out.append((await limiters[current].admit(sid)).allowed)
    return out


def test_the_tolerance_holds_whatever_the_spread(ctx: Context) -> None:
    """Random spreads of one account's requests over 2 to 5 processes: nobody refused under
    the limit, and at most processes x (batch - 1) admitted past it (module docstring)."""
    rnd = random.Random(8)
    clock = SetClock(1_700_000_000 * 1_000_000 // MINUTE_US * MINUTE_US)
    for _ in range(12):
        processes, limit = rnd.choice([2, 3, 5]), rnd.choice([20, 100, 200])
        limiters = [RateLimiter(limit, StoreCounters(ctx.store), clock) for _ in range(processes)]
        stay = rnd.choice([0.0, 0.7, 0.95])
        admitted = asyncio.run(_spread(limiters, _account(ctx), 2 * limit, stay, rnd))
        assert admitted[:limit] == [True] * limit  # never refused under the limit
        over = sum(admitted) - limit
        assert 0 <= over <= processes * (limiters[0].batch - 1), (processes, limit, stay)


def test_limiter_for_follows_the_settings(ctx: Context) -> None:
    assert limiter_for(ctx) is None  # rate_limit=0 in the tests' settings
    ctx.settings = ctx.settings.with_(rate_limit=200)
    limiter = limiter_for(ctx)
    assert limiter is not None and isinstance(limiter.counters, StoreCounters)
    ctx.settings = ctx.settings.with_(redis_url=REDIS_URL)
    limiter = limiter_for(ctx)
    assert limiter is not None and isinstance(limiter.counters, RedisCounters)


@needs_redis
def test_two_processes_share_the_limit_through_redis() -> None:
    sid = f"acct{uuid.uuid4().hex}"
    clock = SetClock(int(time.time()) * 1_000_000)
    pair = [RateLimiter(10, RedisCounters(REDIS_URL), clock) for _ in range(2)]
    assert _run(pair, sid, 15) == [True] * 10 + [False] * 5


def test_unreachable_counters_fail_open_but_still_count_locally() -> None:
    """Redis down (nothing listens on the port): requests pass, up to the limit per process."""
    counters: Counters = RedisCounters("redis://127.0.0.1:9/0")
    limiter = RateLimiter(5, counters, SetClock(int(time.time()) * 1_000_000))
    started = time.monotonic()
    assert _run([limiter], "acme", 8) == [True] * 5 + [False] * 3
    assert time.monotonic() - started < 5


# -- across two real server processes ----------------------------------------------------


@pytest.fixture
def two_servers(tmp_path: Path, db_url: str, request: pytest.FixtureRequest) -> Iterator[object]:
    started: list[ServerProcess] = []

    def _start(*args: str) -> tuple[list[ServerProcess], NewApiKey, NewApiKey]:
        ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
        acme = accounts.create_account(ctx, "Acme", f"acme{uuid.uuid4().hex[:8]}")
        other = accounts.create_account(ctx, "Other", f"other{uuid.uuid4().hex[:8]}")
        ctx.store.close()
        for _ in range(2):
            started.append(start_server(tmp_path, db_url, *args))
        return started, acme, other

    yield _start
    for server in started:
        stop(server)


def _list(server: ServerProcess, creds: NewApiKey) -> httpx.Response:
    url = f"{server.base_url}/v2_beta/Accounts/{creds.account_sid}/IncomingPhoneNumbers"
    return httpx.get(url, auth=(creds.key, creds.token), timeout=30)


@pytest.mark.e2e
@pytest.mark.parametrize("counters", ["database", "redis"])
def test_two_server_processes_share_one_limit(two_servers: object, counters: str) -> None:
    if counters == "redis" and not redis_available():
        pytest.skip("no Redis on 127.0.0.1:6379")
    args = ["--rate-limit", "20"]
    if counters == "redis":
        args += ["--redis-url", REDIS_URL]
    servers, acme, other = two_servers(*args)  # type: ignore[operator]
    fresh_window(8)
    answers = [_list(servers[i % 2], acme) for i in range(26)]
    assert [a.status_code for a in answers] == [200] * 20 + [429] * 6
    assert [limits(a)[1] for a in answers[:20]] == list(range(19, -1, -1))
    assert {int(a.headers["Retry-After"]) == limits(a)[2] for a in answers[20:]} == {True}
    assert _list(servers[1], other).status_code == 200
    if counters == "redis":  # the counts really went through Redis
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = client.keys(f"exophone:ratelimit:{acme.account_sid}:*")
        # 20 admitted, and the 21st, counted before it learnt the window was used up.
        assert len(keys) == 1 and int(client.get(keys[0])) == 21
        client.close()


@pytest.mark.e2e
def test_the_default_200_across_two_processes(two_servers: object) -> None:
    """Batched reconciliation: nobody refused under 200, at most 2 x 4 let past it."""
    servers, acme, _ = two_servers("--rate-limit", "200")  # type: ignore[operator]
    fresh_window(30)
    with httpx.Client(timeout=30) as a, httpx.Client(timeout=30) as b:
        statuses = []
        for i in range(230):
            client, server = (a, servers[0]) if i % 2 else (b, servers[1])
            url = f"{server.base_url}/v2_beta/Accounts/{acme.account_sid}/IncomingPhoneNumbers"
            statuses.append(client.get(url, auth=(acme.key, acme.token)).status_code)
    assert statuses[:200] == [200] * 200
    assert 200 <= statuses.count(200) <= 208
    assert statuses[-20:] == [429] * 20
