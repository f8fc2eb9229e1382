"""The per-process cache of verified credentials: trusted only while provably current."""

from __future__ import annotations

import asyncio
import time

import pytest

from exophone.service import authcache
from exophone.service.authcache import CredentialCache

HEADER = "Basic a2V5OnRva2Vu"


def fresh_cache(version: int = 7) -> CredentialCache:
    cache = CredentialCache()
    cache.observe(version, time.monotonic())
    return cache


def test_nothing_is_trusted_before_the_version_was_read() -> None:
    cache = CredentialCache()
    assert not cache.fresh()
    cache.remember(HEADER, "key", "acme", cache.version)
    assert cache.lookup(HEADER) is None


def test_remembered_credentials_are_found_while_the_version_is_fresh() -> None:
    cache = fresh_cache()
    cache.remember(HEADER, "key", "acme", 7)
    hit = cache.lookup(HEADER)
    assert hit is not None and (hit.key, hit.account_sid) == ("key", "acme")
    assert cache.lookup("Basic b3RoZXI6b25l") is None


def test_a_stale_version_read_trusts_nothing() -> None:
    cache = CredentialCache(max_age=0.05)
    cache.observe(7, time.monotonic())
    cache.remember(HEADER, "key", "acme", 7)
    time.sleep(0.06)
    assert not cache.fresh()
    assert cache.lookup(HEADER) is None


def test_a_new_version_forgets_everything() -> None:
    cache = fresh_cache(7)
    cache.remember(HEADER, "key", "acme", 7)
    cache.observe(8, time.monotonic())
    assert cache.lookup(HEADER) is None


def test_credentials_verified_under_an_older_version_are_not_remembered() -> None:
    cache = fresh_cache(7)
    cache.observe(8, time.monotonic())  # the version moved while the lookup ran
    cache.remember(HEADER, "key", "acme", 7)
    assert cache.lookup(HEADER) is None


def test_a_read_that_began_earlier_cannot_roll_the_version_back() -> None:
    cache = CredentialCache()
    earlier = time.monotonic()
    later = earlier + 0.001
    cache.observe(8, later)
    cache.remember(HEADER, "key", "acme", 8)
    cache.observe(7, earlier)  # finished last, but saw an older state
    assert cache.version == 8
    assert cache.lookup(HEADER) is not None


def test_forget_drops_every_entry_and_asks_for_a_new_read() -> None:
    cache = fresh_cache()
    cache.remember(HEADER, "key", "acme", 7)
    cache.forget()
    assert cache.lookup(HEADER) is None
    assert not cache.fresh()


def test_a_disabled_cache_keeps_nothing() -> None:
    cache = CredentialCache(enabled=False)
    cache.observe(7, time.monotonic())
    cache.remember(HEADER, "key", "acme", 7)
    assert cache.lookup(HEADER) is None


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authcache, "CAPACITY", 3)
    cache = fresh_cache()
    for i in range(4):
        cache.remember(f"Basic {i}", f"key{i}", "acme", 7)
    assert cache.lookup("Basic 3") is not None
    assert sum(cache.lookup(f"Basic {i}") is not None for i in range(4)) <= 3


def test_no_token_is_kept_in_clear() -> None:
    cache = fresh_cache()
    cache.remember(HEADER, "key", "acme", 7)
    assert all(HEADER.encode() not in k for k in cache._entries)


def test_settling_outlasts_the_longest_trust() -> None:
    assert authcache.SETTLE > authcache.MAX_AGE


class VersionReads:
    """A version read that takes ``seconds`` and counts its calls; ``fail`` makes it raise."""

    def __init__(self, version: int = 7, seconds: float = 0.01, fail: bool = False) -> None:
        self.version, self.seconds, self.fail = version, seconds, fail
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.seconds)
        if self.fail:
            raise ConnectionError("database gone")
        return self.version


def test_requests_that_find_the_version_stale_together_read_it_once() -> None:
    cache, read = CredentialCache(), VersionReads(version=9)

    async def many() -> None:
        await asyncio.gather(*(cache.refresh(read) for _ in range(50)))

    asyncio.run(many())
    assert read.calls == 1
    assert cache.fresh() and cache.version == 9
    asyncio.run(cache.refresh(read))  # refresh always reads: callers ask when it is stale
    assert read.calls == 2


def test_a_failed_read_lets_its_waiters_go_on_stale() -> None:
    cache, read = CredentialCache(), VersionReads(fail=True)

    async def first_and_waiters() -> list[object]:
        return await asyncio.gather(
            *(cache.refresh(read) for _ in range(5)), return_exceptions=True
        )

    outcomes = asyncio.run(first_and_waiters())
    assert read.calls == 1
    assert isinstance(outcomes[0], ConnectionError) and outcomes[1:] == [None] * 4
    assert not cache.fresh()  # the waiters verify their credentials in the database
    read.fail = False
    asyncio.run(cache.refresh(read))
    assert read.calls == 2 and cache.fresh()


def test_a_cancelled_waiter_leaves_the_read_to_finish() -> None:
    cache, read = CredentialCache(), VersionReads(version=3, seconds=0.05)

    async def cancel_one() -> None:
        first = asyncio.ensure_future(cache.refresh(read))
        await asyncio.sleep(0)
        waiter = asyncio.ensure_future(cache.refresh(read))
        await asyncio.sleep(0.01)
        waiter.cancel()
        await first

    asyncio.run(cancel_one())
    assert read.calls == 1 and cache.version == 3 and cache.fresh()


def test_a_slow_read_is_trusted_only_from_its_start() -> None:
    """What a read found is as old as its start: waiters of a read slower than
    MAX_AGE do not trust the cache when it ends."""
    cache, read = CredentialCache(max_age=0.02), VersionReads(seconds=0.05)
    asyncio.run(cache.refresh(read))
    assert cache.version == 7 and not cache.fresh()
