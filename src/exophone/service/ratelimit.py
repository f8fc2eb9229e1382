"""Per-account rate limit: N requests a minute, counted across API processes.

Fixed one-minute windows (aligned on the clock's minutes) and one shared
counter per account and window, in the database (table ``rate_limits``) or
in Redis when ``EXOPHONE_REDIS_URL`` is set.

A shared write on every request would cost more than the request itself, so
each process counts locally and reconciles in batches. A process admits a
request while the account's last known shared total plus the requests it has
admitted itself since stays under the limit. When an account has ``batch``
such unreported requests in a process (``batch = max(1, limit // 50)``: 4 at
the default 200, 1 under 100), that request waits while the process adds what
it has admitted, for every account at once in one round trip, and reads back
the totals every process has added; if the account's total is now past the
limit, that request is refused.

The tolerance that buys, per account and window:

- a request is never refused while the account is truly under its limit: the
  known total never exceeds what was really admitted;
- a process admits at most ``batch - 1`` requests without hearing from the
  others, so at most ``processes * (batch - 1)`` requests go past the limit
  (1.5% of it per process at 200). With ``batch == 1`` the limit is exact;
- ``X-RateLimit-Remaining`` may show up to that many more requests than are
  really left.

If the shared counters cannot be reached the limiter fails open: it logs a
warning, keeps counting locally (so one process still stops an account at the
limit) and tries again a second later.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from exophone.service.context import Clock, Context
from exophone.store import Store

log = logging.getLogger("exophone.ratelimit")

WINDOW_SECONDS = 60
# An account's requests a process admits between reconciliations: this share of the limit.
BATCH_SHARE = 50
# After a failed reconciliation, count locally for this long before retrying.
RETRY_SECONDS = 1.0
REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(slots=True)
class Decision:
    """What the limiter said about one request; the X-RateLimit-* headers show it."""

    allowed: bool
    limit: int
    remaining: int
    # Whole seconds until the window ends and the count starts again (at least 1).
    reset: int


class Counters(Protocol):
    """The shared counters: per account and window, summed over every process."""

    async def add(self, window_start: int, hits: dict[str, int]) -> dict[str, int]:
        """Add each account's hits to its counter of the window; return the new totals."""

    async def ping(self) -> None:
        """Raise if the counters cannot be reached."""

    async def close(self) -> None:
        """Release connections."""


def _add_hits(store: Store, window_start: int, hits: dict[str, int], sweep: bool) -> dict[str, int]:
    with store.transaction(write=True) as repo:
        if sweep:
            repo.forget_hits_before(window_start - WINDOW_SECONDS)
        # In one order everywhere, so two processes' transactions cannot deadlock.
        return {sid: repo.add_hits(sid, window_start, hits[sid]) for sid in sorted(hits)}


class StoreCounters:
    """Counters in the database's ``rate_limits`` table, one row per account and window."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._swept = 0

    async def add(self, window_start: int, hits: dict[str, int]) -> dict[str, int]:
        # The first reconciliation of a window in each process deletes old windows.
        sweep = window_start > self._swept
        totals = await self.store.write(_add_hits, self.store, window_start, hits, sweep)
        self._swept = max(self._swept, window_start)
        return totals

    async def ping(self) -> None:
        await self.store.read(self.store.ping)

    async def close(self) -> None:
        """The store belongs to the application; nothing to release."""


class RedisCounters:
    """Counters in Redis: ``exophone:ratelimit:{account}:{window}``, expiring after two windows."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None

    def _redis(self) -> Any:
        # Created on first use, inside the event loop that will use it.
        if self._client is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(
                self.url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        return self._client

    async def add(self, window_start: int, hits: dict[str, int]) -> dict[str, int]:
        accounts = list(hits)
        async with self._redis().pipeline(transaction=False) as pipe:
            for sid in accounts:
                key = f"exophone:ratelimit:{sid}:{window_start}"
                pipe.incrby(key, hits[sid])
                pipe.expire(key, 2 * WINDOW_SECONDS)
            replies = await pipe.execute()
        return {sid: int(replies[2 * i]) for i, sid in enumerate(accounts)}

    async def ping(self) -> None:
        await self._redis().ping()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


@dataclass(slots=True)
class _Slot:
    """One account's count in this process for the current window."""

    known: int = 0  # the shared total as last read back
    pending: int = 0  # admitted here, not yet added to the shared total


class RateLimiter:
    """Admits or refuses an authenticated account's requests; one per API process."""

    def __init__(
        self, limit: int, counters: Counters, clock: Clock, *, window: int = WINDOW_SECONDS
    ) -> None:
        if limit < 1:
            raise ValueError("a rate limiter needs a limit of at least 1")
        self.limit = limit
        self.batch = max(1, limit // BATCH_SHARE)
        self.counters = counters
        self.clock = clock
        self.window = window
        self._window_start = -1
        self._slots: dict[str, _Slot] = {}
        self._retry_at = 0.0

    async def admit(self, account_sid: str) -> Decision:
        now_us = self.clock.now_us()
        window_start = now_us // 1_000_000 // self.window * self.window
        reset = max(1, -(-((window_start + self.window) * 1_000_000 - now_us) // 1_000_000))
        if window_start != self._window_start:
            self._window_start = window_start
            self._slots = {}
        slot = self._slots.get(account_sid)
        if slot is None:
            slot = self._slots[account_sid] = _Slot()
        if slot.known + slot.pending >= self.limit:
            return Decision(False, self.limit, 0, reset)
        slot.pending += 1
        if slot.pending >= self.batch and time.monotonic() >= self._retry_at:
            await self._reconcile(window_start)
            if slot.known > self.limit:
                # Counted, but the others had used the window up: refuse this one.
                return Decision(False, self.limit, 0, reset)
        return Decision(True, self.limit, max(0, self.limit - slot.known - slot.pending), reset)

    async def _reconcile(self, window_start: int) -> None:
        """Add every account's unreported requests to the shared counters, in one round trip."""
        slots = self._slots
        hits = {sid: slot.pending for sid, slot in slots.items() if slot.pending}
        for sid in hits:
            slots[sid].pending = 0
        try:
            totals = await self.counters.add(window_start, hits)
        except Exception:
            for sid, n in hits.items():
                slots[sid].pending += n
            self._retry_at = time.monotonic() + RETRY_SECONDS
            log.warning("rate limit: shared counters unreachable; counting locally", exc_info=True)
            return
        for sid, total in totals.items():
            # Concurrent reconciliations may answer out of order; totals only grow.
            slots[sid].known = max(slots[sid].known, total)

    async def ping(self) -> None:
        await self.counters.ping()

    async def close(self) -> None:
        await self.counters.close()


def limiter_for(ctx: Context) -> RateLimiter | None:
    """The limiter the settings ask for, or None when the limit is 0 (off)."""
    settings = ctx.settings
    if settings.rate_limit == 0:
        return None
    counters: Counters = (
        RedisCounters(settings.redis_url) if settings.redis_url else StoreCounters(ctx.store)
    )
    return RateLimiter(settings.rate_limit, counters, ctx.clock)
