"""What every store engine offers the service layer."""

from __future__ import annotations

import abc
import logging
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from importlib import resources
from typing import ParamSpec, TypeVar

from yoyo import get_backend, read_migrations

from exophone.domain.errors import ServiceUnavailable
from exophone.store.repository import Repository

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("exophone.store")

# A unit of work that meets a transient conflict (a busy SQLite file, a
# PostgreSQL deadlock or serialization failure) was rolled back whole, so it
# is run again after a short, growing, jittered pause; after this many
# attempts the caller gets a 503, never a 500.
RETRY_ATTEMPTS = 6
RETRY_FIRST_PAUSE = 0.01
RETRY_LONGEST_PAUSE = 0.5


class Store(abc.ABC):
    """A database engine: connections, transactions, migrations.

    ``transaction()`` is the unit of work: it yields a Repository bound to one
    transaction, committed when the block ends and rolled back on error.
    ``read``/``write`` run a blocking service call from async code in the way
    that suits the engine.
    """

    dialect: str

    @abc.abstractmethod
    def transaction(self, *, write: bool = False) -> AbstractContextManager[Repository]:
        """A unit of work; ``write=True`` takes the write lock up front where that matters."""

    def statements(self) -> AbstractContextManager[Repository]:
        """A repository whose every statement is a transaction of its own, for writes
        each of which one statement makes (a purchase, a release, taking a key): on
        PostgreSQL it saves the round trips of BEGIN and COMMIT. Engines that gain
        nothing give a write transaction, which the whole block shares."""
        return self.transaction(write=True)

    @abc.abstractmethod
    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read-only service call."""

    @abc.abstractmethod
    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a service call that writes, briefly (a request's unit of work)."""

    async def write_bulk(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a service call that writes at length (a bulk load, a reset)."""
        return await self.write(fn, *args, **kwargs)

    @abc.abstractmethod
    def yoyo_url(self) -> str:
        """The URL yoyo-migrations connects with."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise if the database cannot be reached."""

    def close(self) -> None:  # noqa: B027 - engines without resources need nothing
        """Release connections and threads."""

    def is_transient(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a conflict that goes away if the unit of work runs again."""
        return False

    def retrying(self, call: Callable[[], T]) -> T:
        """Run a blocking service call, again after a pause when it meets a transient conflict.

        The call must open its own transactions (as every service function
        does), so a conflict has rolled back everything it wrote.
        """
        attempt = 1
        while True:
            try:
                return call()
            except Exception as exc:
                if not self.is_transient(exc):
                    raise
                if attempt == RETRY_ATTEMPTS:
                    log.warning("transient conflict persists after %d attempts: %s", attempt, exc)
                    raise ServiceUnavailable(
                        "The database is busy with conflicting changes; try again shortly"
                    ) from exc
                pause = min(RETRY_LONGEST_PAUSE, RETRY_FIRST_PAUSE * 2 ** (attempt - 1))
                log.info("transient conflict (attempt %d), retrying: %s", attempt, exc)
                time.sleep(pause * random.uniform(0.5, 1.0))
                attempt += 1

    def migrate(self) -> None:
        """Create or upgrade the schema; safe to run from several processes at once."""
        with resources.as_file(resources.files("exophone.store") / "migrations") as folder:
            migrations = read_migrations(str(folder))
            backend = get_backend(self.yoyo_url())
            try:
                with backend.lock():
                    backend.apply_migrations(backend.to_apply(migrations))
            finally:
                backend.connection.close()

    def reset(self, account_sid: str | None = None) -> None:
        """Empty every table but yoyo's, or take one account's state away (test mode).

        See ``exophone.store.reset``; one transaction, milliseconds on a small database.
        """
        from exophone.store.reset import reset

        with self.transaction(write=True) as repo:
            reset(repo, self.dialect, account_sid)
