"""The ASGI entry point uvicorn imports: ``exophone.api.asgi:create_app_from_env``.

Each API process builds its own store and application from ``EXOPHONE_*``
environment variables, which ``exophone serve`` sets from its flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exophone.api.app import create_app
from exophone.api.errors import App
from exophone.config import Settings
from exophone.service.context import Context
from exophone.store import Store, open_store


class _CloseStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def process_shutdown(self, scope: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        self.store.close()


def create_app_from_env() -> App:
    settings = Settings.from_env()
    store = open_store(settings.database_url, pool_size=settings.pool_size, serving=True)
    app = create_app(Context(store=store, settings=settings))
    app.add_middleware(_CloseStore(store))
    return app
