"""Real ``exophone serve`` processes for the security tests (see tests/e2e/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ServerProcess, start_server, stop


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start servers on a database; each is stopped (SIGTERM) when the test ends."""
    started: list[ServerProcess] = []

    def _serve(db_url: str, *args: str) -> ServerProcess:
        server = start_server(tmp_path, db_url, *args)
        started.append(server)
        return server

    yield _serve
    for server in started:
        stop(server)
