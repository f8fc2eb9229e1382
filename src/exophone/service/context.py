"""What every use case needs: the store, a clock, an id source and the settings."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from exophone.config import Settings
from exophone.domain.catalogue import Catalogue
from exophone.service.authcache import CredentialCache
from exophone.store import Store


class Clock(Protocol):
    def now_us(self) -> int:
        """Microseconds since the epoch, UTC."""


class SystemClock:
    def now_us(self) -> int:
        return time.time_ns() // 1000


class Ids(Protocol):
    def sid(self) -> str:
        """A new 32-character lowercase hex identifier."""


class RandomIds:
    def sid(self) -> str:
        return uuid.uuid4().hex


@dataclass
class Context:
    store: Store
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    ids: Ids = field(default_factory=RandomIds)
    catalogue: Catalogue = field(default_factory=Catalogue.default)
    # Verified credentials of this process; not kept in test mode (its resets change them).
    credentials: CredentialCache = field(default_factory=CredentialCache)
    # The (account, Idempotency-Key) pairs of this process's requests still running.
    keys_running: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.settings.test_mode:
            self.credentials.enabled = False
