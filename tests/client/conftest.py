"""Fixtures of the SDK tests: a real server on a free port and clients of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from exophone.api import create_app
from exophone.client import AsyncClient, Client
from tests.conftest import ThreadServer, World


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server(world: World) -> Iterator[str]:
    """The base URL of a real uvicorn server over the seeded world."""
    with ThreadServer(create_app(world.ctx)) as base_url:
        yield base_url


@pytest.fixture
def client(world: World, server: str) -> Iterator[Client]:
    """Account Acme's synchronous client."""
    with Client("acme", world.acme.key, world.acme.token, base_url=server) as c:
        yield c


@pytest.fixture
def other_client(world: World, server: str) -> Iterator[Client]:
    """Account Other's synchronous client."""
    with Client("other", world.other.key, world.other.token, base_url=server) as c:
        yield c


@pytest.fixture
async def aclient(world: World, server: str) -> AsyncIterator[AsyncClient]:
    """Account Acme's asynchronous client."""
    async with AsyncClient("acme", world.acme.key, world.acme.token, base_url=server) as c:
        yield c
