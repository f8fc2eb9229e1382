"""Fixtures of the SDK tests, on the test kit's pytest plugin (``exophone.testing.plugin``).

One test-mode server per store and xdist worker (``exophone_server``, SQLite
and PostgreSQL), reset by the plugin before every test; ``world`` then seeds
account Other and the shared inventory of ``tests.conftest.INVENTORY`` next to
the server's own account, Acme.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from exophone.client import AsyncClient, Client
from exophone.domain.model import NewApiKey
from exophone.testing import RunningServer
from exophone.testing.plugin import Seeder
from tests.conftest import INVENTORY, World
from tests.testing.servers import STORES, serve_on


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=STORES)
def exophone_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """The plugin's server with account Acme, once per store: these tests run on both."""
    with serve_on(request.param, account_sid="acme") as server:
        yield server


@pytest.fixture
def world(exophone_server: RunningServer, exophone_seed: Seeder) -> World:
    """Acme (the server's account), Other, and the inventory every test knows by heart."""
    acme = exophone_server.account
    other = exophone_server.seed.account("other", "Other Ltd")
    rows = [
        {"phone_number": n, "number_type": t.value, "region": r, **kw} for n, t, r, kw in INVENTORY
    ]
    numbers = exophone_seed(numbers=rows)
    assert numbers == [n for n, *_ in INVENTORY]
    return World(
        exophone_server.context,
        NewApiKey(acme.api_key, acme.api_token, acme.sid),
        NewApiKey(other.api_key, other.api_token, other.sid),
        numbers,
    )


@pytest.fixture
def server(world: World, exophone_server: RunningServer) -> str:
    """The base URL of the real uvicorn server over the seeded world."""
    return exophone_server.base_url


@pytest.fixture
def client(world: World, exophone_client: Client) -> Client:
    """Account Acme's synchronous client."""
    return exophone_client


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
