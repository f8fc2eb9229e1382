"""Test-mode servers on either store, for the fixtures of our own suites that use the plugin."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from exophone.testing import RunningServer, serve
from tests.conftest import POSTGRES_URL

STORES = ["sqlite", "postgresql"]


@contextmanager
def serve_on(store: str, **options: Any) -> Iterator[RunningServer]:
    """``exophone.testing.serve()`` on SQLite, or on PostgreSQL in a schema of its own."""
    if store == "sqlite":
        with serve(**options) as server:
            yield server
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need EXOPHONE_TEST_POSTGRES_URL (set by .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        with serve(database_url=f"{POSTGRES_URL}?schema={schema}", **options) as server:
            yield server
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
