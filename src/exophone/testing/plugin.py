"""The pytest plugin of exophone's test kit, registered by the ``pytest11`` entry point.

Fixtures:

- ``exophone_server`` (session): a test-mode server (``exophone.testing.serve``),
  one per pytest-xdist worker; override ``exophone_server_options`` to pass
  ``serve()`` arguments (a seed, a time zone, a database URL, ...).
- ``exophone_account``: the SID, API key and API token of the server's account.
- ``exophone_client``: an ``exophone.Client`` for that account.
- ``exophone_seed``: puts numbers for sale in one line and remembers them,
  ``exophone_seed("IN", "Landline", region="KA", count=3)`` or
  ``exophone_seed(numbers=["+918023456701"])``; ``exophone_seed.numbers``
  lists what this test seeded, by the marker too.

Marker ``@pytest.mark.exophone_seed(...)`` (same arguments) seeds before the
test. The server is reset before each test that uses it, in a few
milliseconds; ``@pytest.mark.exophone_keep_state``, ``--exophone-keep-state``
or the ini option ``exophone_reset = false`` keep one state instead.

Nothing starts unless a test asks for these fixtures (or the marker), and
this module imports nothing heavy: it loads in every pytest run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from exophone.client import Client
    from exophone.testing.control import Credentials
    from exophone.testing.server import RunningServer

SEED_MARK = "exophone_seed"
KEEP_MARK = "exophone_keep_state"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "exophone_reset",
        type="bool",
        default=True,
        help="exophone: reset the test server before each test that uses it (default true)",
    )
    parser.getgroup("exophone").addoption(
        "--exophone-keep-state",
        action="store_true",
        default=False,
        help="exophone: keep one server state for the whole session (no reset between tests)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SEED_MARK}(country=None, number_type=None, *, region=None, count=1, numbers=None):"
        " put numbers for sale on the exophone test server before the test",
    )
    config.addinivalue_line(
        "markers", f"{KEEP_MARK}: do not reset the exophone test server before this test"
    )


class Seeder:
    """Seeds numbers on the test server; ``numbers`` lists all this test seeded."""

    def __init__(self, server: RunningServer) -> None:
        self._server = server
        self.numbers: list[str] = []

    def __call__(
        self,
        country: str | None = None,
        number_type: str | None = None,
        *,
        region: str | None = None,
        count: int = 1,
        numbers: list[str | dict[str, Any]] | None = None,
        seed: int | None = None,
    ) -> list[str]:
        """Put numbers up for sale; returns the new ones (E.164)."""
        added = self._server.seed.numbers(
            country, number_type, region=region, count=count, numbers=numbers, seed=seed
        )
        self.numbers += added
        return added


_SEEDER = pytest.StashKey[Seeder]()


@pytest.fixture(scope="session")
def exophone_server_options() -> dict[str, Any]:
    """Keyword arguments of ``exophone.testing.serve()``; override this to change them."""
    return {}


@pytest.fixture(scope="session")
def exophone_server(exophone_server_options: dict[str, Any]) -> Iterator[RunningServer]:
    """A test-mode exophone server for the session (each xdist worker has its own)."""
    from exophone.testing.server import serve

    with serve(**exophone_server_options) as server:
        yield server


def _resets(request: pytest.FixtureRequest) -> bool:
    config = request.config
    return (
        bool(config.getini("exophone_reset"))
        and not config.getoption("--exophone-keep-state")
        and request.node.get_closest_marker(KEEP_MARK) is None
    )


@pytest.fixture(autouse=True)
def _exophone_state(request: pytest.FixtureRequest) -> None:
    """Before a test that uses the server: reset it, then seed what its markers ask for."""
    marks = list(request.node.iter_markers(SEED_MARK))
    if "exophone_server" not in request.fixturenames and not marks:
        return
    server: RunningServer = request.getfixturevalue("exophone_server")
    if _resets(request):
        server.reset()
    seeder = request.node.stash[_SEEDER] = Seeder(server)
    for mark in reversed(marks):  # the module's and class's marks first
        seeder(*mark.args, **mark.kwargs)


@pytest.fixture
def exophone_seed(request: pytest.FixtureRequest, exophone_server: RunningServer) -> Seeder:
    """Seed numbers in one line: ``exophone_seed("IN", "Landline", region="KA", count=3)``."""
    return request.node.stash.get(_SEEDER, None) or Seeder(exophone_server)


@pytest.fixture
def exophone_account(exophone_server: RunningServer) -> Credentials:
    """The server's account: ``sid``, ``api_key`` and ``api_token``."""
    return exophone_server.account


@pytest.fixture
def exophone_client(exophone_server: RunningServer) -> Iterator[Client]:
    """An SDK client (``exophone.Client``) of the server's account, with default settings."""
    with exophone_server.client() as client:
        yield client
