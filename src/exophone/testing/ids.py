"""Sids from a seed, so that answers (and snapshots of them) are the same on every run.

It is the ``Context.ids`` of a test-mode server. With a seed, the n-th sid
after a reset is always the same; without one, sids are random as in a
normal server.
"""

from __future__ import annotations

import random
import threading
import uuid


class SeededIds:
    """32-character lowercase hex sids drawn from ``random.Random(seed)``."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self.seed = seed
        self._rng = random.Random(seed)

    def sid(self) -> str:
        if self.seed is None:
            return uuid.uuid4().hex
        with self._lock:
            return f"{self._rng.getrandbits(128):032x}"

    def reseed(self, seed: int | None) -> None:
        """Start the sequence again from ``seed`` (``None``: random sids)."""
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def reset(self) -> None:
        """Start the sequence again from the current seed."""
        self.reseed(self.seed)
