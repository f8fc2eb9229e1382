"""Fixtures of the test kit's tests: test-mode servers over real HTTP, on both stores.

These tests use the kit's own plugin: ``exophone_server`` is overridden to run on
SQLite and PostgreSQL, and the plugin resets it before every test."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from exophone.service.context import Context
from exophone.testing import RunningServer
from tests.testing.servers import STORES, serve_on

TOKEN = "control-token-0123456789"


@dataclass
class Mode:
    """A test-mode server: its context, and raw HTTP to its control API and its ExoPhone API."""

    ctx: Context
    base_url: str
    http: httpx.Client

    def control(self, method: str, path: str = "", **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {TOKEN}", **kw.pop("headers", {})}
        return self.http.request(method, f"/_exophone{path}", headers=headers, **kw)

    def ok(self, method: str, path: str = "", status: int = 200, **kw: Any) -> Any:
        resp = self.control(method, path, **kw)
        assert resp.status_code == status, resp.text
        return resp.json()

    def account(self, sid: str) -> tuple[str, str]:
        key, token = f"{sid}-key-0001", f"{sid}-token-0001"
        self.ok("POST", "/accounts", 201, json={"sid": sid, "api_key": key, "api_token": token})
        return key, token

    def api(
        self, method: str, sid: str, rest: str, creds: tuple[str, str], **kw: Any
    ) -> httpx.Response:
        raw = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        headers = {"Authorization": f"Basic {raw}", **kw.pop("headers", {})}
        return self.http.request(method, f"/v2_beta/Accounts/{sid}{rest}", headers=headers, **kw)


def in_test_mode(ctx: Context, **settings: Any) -> Context:
    """A context like ``ctx`` in test mode, for an app built on a fresh database."""
    changed = ctx.settings.with_(test_mode=True, test_token=TOKEN, test_seed=0, **settings)
    return Context(store=ctx.store, settings=changed)


@pytest.fixture(scope="session", params=STORES)
def exophone_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """The plugin's server, once per store, reset by the plugin before every test."""
    with serve_on(request.param, token=TOKEN) as server:
        yield server


@pytest.fixture
def mode(exophone_server: RunningServer) -> Iterator[Mode]:
    """Raw HTTP to the (just reset) test-mode server, on SQLite and PostgreSQL."""
    server = exophone_server
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield Mode(server.context, server.base_url, http)
