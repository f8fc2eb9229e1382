"""Looking at a test database from outside the application: every stored value, and breakage.

Works on both kinds of ``db_url`` the tests use: a SQLite file, or a
PostgreSQL schema named by ``?schema=`` (the ``db_url`` fixture's form).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg


def _split(db_url: str) -> tuple[str, str]:
    parts = urlsplit(db_url)
    schema = parse_qs(parts.query)["schema"][0]
    return urlunsplit(parts._replace(query="")), schema


def sqlite_file(db_url: str) -> Path | None:
    return Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite:") else None


@contextmanager
def _cursor(db_url: str) -> Iterator[tuple[Any, str | None]]:
    path = sqlite_file(db_url)
    if path is not None:
        lite = sqlite3.connect(path, isolation_level=None)
        try:
            yield lite.cursor(), None
        finally:
            lite.close()
        return
    url, schema = _split(db_url)
    with psycopg.connect(url, autocommit=True) as pg:
        yield pg.cursor(), schema


def every_value(db_url: str) -> dict[str, list[str]]:
    """Every row of every table, as text, by table name."""
    out: dict[str, list[str]] = {}
    with _cursor(db_url) as (cur, schema):
        if schema is None:
            # Virtual tables (full-text indexes) keep their rows in shadow tables, read here.
            cur.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND upper(sql) NOT LIKE 'CREATE VIRTUAL TABLE%'"
            )
            tables = [r[0] for r in cur.fetchall()]
            for table in tables:
                cur.execute(f'SELECT * FROM "{table}"')
                out[table] = [repr(row) for row in cur.fetchall()]
        else:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
            tables = [r[0] for r in cur.fetchall()]
            for table in tables:
                cur.execute(f'SELECT t::text FROM "{schema}"."{table}" t')
                out[table] = [row[0] for row in cur.fetchall()]
    return out


def raw_bytes(db_url: str) -> bytes:
    """The SQLite file with its journal files, as stored on disk (empty for PostgreSQL)."""
    path = sqlite_file(db_url)
    if path is None:
        return b""
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def rename_table(db_url: str, old: str, new: str) -> None:
    """Rename a table under a running server, to make its queries fail unexpectedly."""
    with _cursor(db_url) as (cur, schema):
        if schema is None:
            cur.execute(f'ALTER TABLE "{old}" RENAME TO "{new}"')
        else:
            cur.execute(f'ALTER TABLE "{schema}"."{old}" RENAME TO "{new}"')


@contextmanager
def table_missing(db_url: str, table: str) -> Iterator[None]:
    """The table is gone while the block runs, and back afterwards."""
    rename_table(db_url, table, f"{table}_away")
    try:
        yield
    finally:
        rename_table(db_url, f"{table}_away", table)
