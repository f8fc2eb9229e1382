"""Test-mode servers on either store, for the fixtures of our own suites that use the plugin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from exophone.testing import RunningServer, serve
from tests.conftest import postgres_schema

STORES = ["sqlite", "postgresql"]


@contextmanager
def serve_on(store: str, **options: Any) -> Iterator[RunningServer]:
    """``exophone.testing.serve()`` on SQLite, or on PostgreSQL in a schema of its own."""
    if store == "sqlite":
        with serve(**options) as server:
            yield server
        return
    with postgres_schema() as url, serve(database_url=url, **options) as server:
        yield server
