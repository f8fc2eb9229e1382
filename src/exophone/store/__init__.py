"""The only layer with SQL: schema migrations, the repository, and engines for
SQLite (embedded default) and PostgreSQL.

``open_store(url)`` picks the engine from the URL scheme.
"""

from __future__ import annotations

from exophone.store.base import Store
from exophone.store.repository import AnswerKey, KeyHeld, Repository
from exophone.store.urls import open_store

__all__ = ["AnswerKey", "KeyHeld", "Repository", "Store", "open_store"]
