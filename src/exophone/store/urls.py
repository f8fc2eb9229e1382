"""Database URLs: ``sqlite:///path/to/file.db`` or ``postgresql://user@host/db``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from exophone.domain.errors import BadRequest
from exophone.store.base import Store

DEFAULT_URL = "sqlite:///exophone.db"


def sqlite_path(url: str) -> Path:
    """``sqlite:///rel.db`` is relative to the working directory; ``sqlite:////abs.db`` absolute."""
    return Path(url[len("sqlite:///") :])


def open_store(
    url: str, *, migrate: bool = True, pool_size: int = 10, serving: bool = False
) -> Store:
    """Open (and by default migrate) the store a database URL names.

    ``serving``: for an API process, whose SQLite store then checkpoints its WAL in
    a thread of its own rather than in the requests that commit, and keeps a smaller
    page cache a connection.
    """
    scheme = urlsplit(url).scheme.split("+", 1)[0]
    store: Store
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise BadRequest(f"SQLite URLs look like sqlite:///path/to/file.db, not {url!r}")
        from exophone.store.sqlite import BULK_CACHE_KIB, SERVING_CACHE_KIB, SQLiteStore

        store = SQLiteStore(
            sqlite_path(url),
            checkpoint_every=0.2 if serving else None,
            cache_kib=SERVING_CACHE_KIB if serving else BULK_CACHE_KIB,
        )
    elif scheme in ("postgresql", "postgres"):
        from exophone.store.postgres import PostgresStore

        store = PostgresStore(url, pool_size=pool_size)
    else:
        raise BadRequest(f"Unsupported database URL {url!r}: use sqlite:/// or postgresql://")
    if migrate:
        store.migrate()
    return store
