"""``serve()``: a real exophone server for a test, in a background thread, without pytest.

::

    from exophone import Client
    from exophone.testing import serve

    with serve() as server:
        number = server.seed.numbers("IN", "Landline", region="KA")[0]
        with server.client() as client:
            client.incoming_phone_numbers.buy(number)
        assert server.journal.last(method="POST").status == 200
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from exophone.api import create_app
from exophone.client import Client
from exophone.config import Settings
from exophone.service.context import Context
from exophone.store import open_store
from exophone.testing.control import Control, Credentials

DEFAULT_ACCOUNT = "test"
START_TIMEOUT = 30.0


class RunningServer(Control):
    """A test-mode server in this process: where it is, an account on it, and the controls.

    Attributes:
        base_url: ``http://127.0.0.1:<port>``, the base URL for the SDK.
        token: the control API's bearer token.
        account: the SID, API key and API token of the account every reset recreates.
        context: the server's ``Context`` (store, settings, clock), for white-box tests.
    """

    def __init__(self, base_url: str, token: str, account: Credentials, context: Context) -> None:
        super().__init__(base_url, token)
        self.account = account
        self.context = context

    def reset(self, account_sid: str | None = None) -> None:
        """Empty the server and recreate ``account`` with the same credentials.

        With ``account_sid``, only that account's numbers and records go.
        """
        super().reset(account_sid)
        if account_sid is None:
            a = self.account
            self.seed.account(a.sid, a.sid, api_key=a.api_key, api_token=a.api_token)

    def client(self, **settings: Any) -> Client:
        """An SDK client of ``account`` on this server; ``settings`` go to ``Client``."""
        a = self.account
        return Client(a.sid, a.api_key, a.api_token, base_url=self.base_url, **settings)


@contextmanager
def serve(
    *,
    database_url: str | None = None,
    seed: int | None = 0,
    account_sid: str = DEFAULT_ACCOUNT,
    token: str | None = None,
    log_level: str = "warning",
    **settings: Any,
) -> Iterator[RunningServer]:
    """Start a test-mode server on a free port of 127.0.0.1; stop it on leaving the block.

    The database is a throwaway SQLite file in a temporary folder unless
    ``database_url`` names another, which is emptied. The server starts empty but
    for ``account_sid``, with fresh credentials that every ``reset()`` keeps.

    Args:
        database_url: the database; it is emptied at start.
        seed: sids and generated numbers come from this seed, the same after
            every reset (``None``: random).
        account_sid: the SID of the account the server keeps.
        token: the control API's token (default: a fresh random one).
        log_level: uvicorn's log level.
        settings: other ``Settings`` fields (``timezone``, ``rate_limit``,
            ``aging_period``, ...); the rate limit is off unless given.
    """
    with tempfile.TemporaryDirectory(prefix="exophone-test-") as folder:
        url = database_url or f"sqlite:///{folder}/exophone.db"
        config = Settings(
            database_url=url, test_mode=True, test_token=token or secrets.token_urlsafe(24),
            test_seed=seed, **{"rate_limit": 0, **settings},
        )  # fmt: skip
        assert config.test_token is not None
        context = Context(store=open_store(url, pool_size=config.pool_size), settings=config)
        try:
            app = create_app(context)
            with _Thread(app, log_level) as base_url:
                account = Credentials(account_sid, secrets.token_hex(16), secrets.token_hex(24))
                server = RunningServer(base_url, config.test_token, account, context)
                try:
                    server.reset()
                    yield server
                finally:
                    server.close()
        finally:
            context.store.close()


class _Thread:
    """uvicorn on port 0 in a daemon thread; the base URL once it listens."""

    def __init__(self, app: Any, log_level: str) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level=log_level, lifespan="off",
            access_log=False, server_header=False, timeout_graceful_shutdown=2,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="exophone-test", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        waited = 0.0
        while not self.server.started:
            if not self.thread.is_alive() or waited > START_TIMEOUT:
                self.__exit__()
                raise RuntimeError("the exophone test server did not start")
            threading.Event().wait(0.01)
            waited += 0.01
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
