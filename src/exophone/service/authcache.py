"""Verified credentials, remembered per process, exact about revocation.

Reading an API key and its account on every request cost a quarter of a
request's time on SQLite, and a network round trip on PostgreSQL. Each API
process instead remembers the credentials it verified, keyed by a SHA-256
digest of the ``Authorization`` header (no token is kept in clear), with the
*credentials version* they were verified under.

Every change that can refuse credentials that worked (a key revoked or
rotated, an account's status changed, a reset) bumps ``credentials_version``
in its own transaction. A process trusts a remembered entry only while

- it read the version less than ``MAX_AGE`` ago (under load it reads it again,
  one tiny read, at most once per ``MAX_AGE``: the requests that find it stale
  while a read is on its way wait for that read, ``refresh``), and
- the entry was verified under that version (a new version forgets them all).

The change that bumps the version is not reported done until ``SETTLE``
(more than ``MAX_AGE``) has passed since its commit (``settle()``): by then
every process, on any host, has either read the new version or stopped
trusting what it remembers. So once ``exophone keys revoke`` returns or the
admin API answers, the key answers 401 everywhere, as without the cache.
Test mode (``exophone serve --test-mode``) does not remember credentials:
its resets change them between every test.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MAX_AGE = 0.1
SETTLE = 0.15
# Entries kept at most; past it they are all forgotten (a burst of keys is rare).
CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class Verified:
    """Credentials that passed: the API key and the account it acts for."""

    key: str
    account_sid: str
    version: int


class CredentialCache:
    """One process's verified credentials; see the module's docstring for the rules."""

    def __init__(self, enabled: bool = True, max_age: float = MAX_AGE) -> None:
        self.enabled = enabled
        self.max_age = max_age
        self.version = -1
        self._read_at = float("-inf")
        self._entries: dict[bytes, Verified] = {}
        self._reading: asyncio.Future[None] | None = None

    def fresh(self) -> bool:
        """Whether the version was read recently enough to trust what is remembered."""
        return time.monotonic() - self._read_at < self.max_age

    def observe(self, version: int, started: float) -> None:
        """Take a version read that began at ``started`` (``time.monotonic()``).

        A read that began before the last one taken is ignored: the later
        one saw a state at least as new.
        """
        if started < self._read_at:
            return
        if version != self.version:
            self._entries.clear()
            self.version = version
        self._read_at = started

    async def refresh(self, read: Callable[[], Awaitable[int]]) -> None:
        """Read the version again (``read()``), once for every request that finds it
        stale while the read is on its way: on PostgreSQL, where a read is a thread
        hand-off and a round trip, a third of the purchases under load read it, dozens
        at a time each time it went stale. A request that waited trusts what the read
        found only while it is fresh, timed from the read's start (``observe``)."""
        reading = self._reading
        if reading is not None:
            await asyncio.shield(reading)  # a cancelled waiter leaves the read alone
            return
        reading = self._reading = asyncio.get_running_loop().create_future()
        started = time.monotonic()
        try:
            self.observe(await read(), started)
        finally:
            # Waiters go on even if the read failed: they find the version stale and
            # verify their credentials in the database.
            self._reading = None
            reading.set_result(None)

    def lookup(self, header: str) -> Verified | None:
        """The verified credentials of this header, if they may be trusted now."""
        if not self.enabled or not self.fresh():
            return None
        found = self._entries.get(_digest(header))
        return found if found is not None and found.version == self.version else None

    def remember(self, header: str, key: str, account_sid: str, version: int) -> None:
        """Remember credentials verified by a read that began under ``version``."""
        if not self.enabled or version != self.version:
            return
        if len(self._entries) >= CAPACITY:
            self._entries.clear()
        self._entries[_digest(header)] = Verified(key, account_sid, version)

    def forget(self) -> None:
        """Forget everything at once: this process made a change that bumps the version."""
        self._entries.clear()
        self._read_at = float("-inf")


def _digest(header: str) -> bytes:
    return hashlib.sha256(header.encode("utf-8", "surrogatepass")).digest()


def settle_sync() -> None:
    """Wait until every process has stopped trusting credentials of an older version."""
    time.sleep(SETTLE)


async def settle() -> None:
    """``settle_sync`` for async callers."""
    await asyncio.sleep(SETTLE)
