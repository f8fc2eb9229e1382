"""What every store engine offers the service layer."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from importlib import resources
from typing import ParamSpec, TypeVar

from yoyo import get_backend, read_migrations

from exophone.store.repository import Repository

P = ParamSpec("P")
T = TypeVar("T")


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

    @abc.abstractmethod
    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read-only service call."""

    @abc.abstractmethod
    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a service call that writes."""

    @abc.abstractmethod
    def yoyo_url(self) -> str:
        """The URL yoyo-migrations connects with."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise if the database cannot be reached."""

    def close(self) -> None:  # noqa: B027 - engines without resources need nothing
        """Release connections and threads."""

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


async def in_executor(
    loop_executor: object | None, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run ``fn`` on an executor of the running loop (``None``: the default one)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(loop_executor, lambda: fn(*args, **kwargs))  # type: ignore[arg-type]
