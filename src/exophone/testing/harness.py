"""Test mode: the state a test-mode server keeps besides its database.

``create_app`` builds one :class:`Harness` when ``Settings.test_mode`` is on.
It gives the context a controllable clock and seeded sids, supplies the
journal and fault middleware, and mounts the control API (``/_exophone``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from exophone.service.context import Context
from exophone.testing.clock import ControlledClock
from exophone.testing.faults import FaultMiddleware, Faults
from exophone.testing.ids import SeededIds
from exophone.testing.journal import Journal, JournalMiddleware

PREFIX = "/_exophone"


class Harness:
    """Clock, sids, journal and faults of one test-mode server process."""

    def __init__(self, ctx: Context) -> None:
        token = ctx.settings.test_token
        if not token:
            raise ValueError("test mode needs a control token (Settings.test_token)")
        self.ctx = ctx
        self.token = token
        self.seed = ctx.settings.test_seed
        self.clock = ControlledClock()
        self.ids = SeededIds(self.seed)
        ctx.clock = self.clock
        ctx.ids = self.ids
        self.journal = Journal()
        self.faults = Faults(self.seed)
        # Bumped by every reset: requests and waits that started before it are stale.
        self.generation = 0
        self._seedings = 0
        self._wake: asyncio.Event | None = None

    def middleware(self) -> list[Any]:
        """The journal first, so that it records what the faults did."""
        return [JournalMiddleware(self), FaultMiddleware(self)]

    def install(self, app: Any) -> None:
        from exophone.testing import routes

        routes.install(app, self)

    @staticmethod
    def is_control(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    def reset(self) -> None:
        """Forget journal and faults; clock, sids and seeding start again as at start-up."""
        self.generation += 1
        if self._wake is not None:
            self._wake.set()
            self._wake = None
        self.journal.clear()
        self.faults.clear()
        self.clock.reset()
        self.ids.reseed(self.seed)
        self._seedings = 0

    def generation_seed(self) -> str | None:
        """A seed for the next batch of generated numbers: the same batches after each reset."""
        self._seedings += 1
        return None if self.seed is None else f"{self.seed}:{self._seedings}"

    async def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``, or less if a reset comes first; True if one came."""
        generation = self.generation
        if self._wake is None:
            self._wake = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        return self.generation != generation
