"""Revoked keys and disabled accounts are refused at once, by every server process.

Servers remember credentials they verified (``exophone.service.authcache``),
but a revocation or a disabled account is not reported done (by the CLI, the
admin API or the dashboard) until every process has stopped trusting what it
remembers: the first request after that answers 401, whichever process it
reaches. The 401 reads exactly as for a wrong token, so it tells nothing
about which it was.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from exophone.config import Settings
from exophone.domain.model import AccountStatus, NewApiKey
from exophone.service import accounts, authcache
from exophone.service.context import Context
from exophone.store import open_store
from tests.conftest import Api
from tests.e2e.conftest import ServerProcess

LIST = "/IncomingPhoneNumbers"


def status_with(api: Api, creds: NewApiKey) -> int:
    return api.get(api.path(LIST, sid=creds.account_sid), creds=creds).status_code


def test_a_revoked_key_is_refused_at_once_and_the_others_keep_working(api: Api) -> None:
    ctx = api.world.ctx
    second = accounts.create_key(ctx, "acme", "rotation")
    assert status_with(api, second) == 200
    accounts.revoke_key(ctx, "acme", second.key)
    refused = api.get(api.path(LIST), creds=second)
    assert refused.status_code == 401
    wrong = api.get(api.path(LIST), creds=NewApiKey(second.key, "0" * 48, "acme"))
    assert refused.json() == wrong.json()  # revoked reads as wrong token
    assert status_with(api, api.world.acme) == 200


def test_a_disabled_account_is_refused_at_once_with_every_key(api: Api) -> None:
    ctx = api.world.ctx
    second = accounts.create_key(ctx, "acme")
    assert api.buy("+918023456701")["account_sid"] == "acme"
    accounts.set_status(ctx, "acme", AccountStatus.DISABLED)
    for creds in (api.world.acme, second):
        for method, rest in (("GET", LIST), ("DELETE", f"{LIST}/+918023456701")):
            assert api.request(method, api.path(rest), creds=creds).status_code == 401
    assert status_with(api, api.world.other) == 200  # other accounts are untouched
    accounts.set_status(ctx, "acme", AccountStatus.ACTIVE)
    assert status_with(api, api.world.acme) == status_with(api, second) == 200
    # Nothing was released while the account was disabled.
    assert api.get(api.path(f"{LIST}/+918023456701")).status_code == 200


ADMIN = "admin-token-for-two-processes"


@pytest.mark.e2e
def test_revocation_and_disabling_reach_every_server_process_at_once(
    db_url: str, serve: Callable[..., ServerProcess]
) -> None:
    """Two `exophone serve` processes on one database: a change made through one is
    obeyed by the other on its very next request."""
    # The database exists (migrated, with the account) before either server starts.
    from exophone.config import Settings
    from exophone.service.context import Context
    from exophone.store import open_store

    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        first = accounts.create_account(ctx, "Two Servers", "twoserv")
        second = accounts.create_key(ctx, "twoserv")
    finally:
        ctx.store.close()
    one = serve(db_url, "--admin-token", ADMIN)
    two = serve(db_url)
    admin = {"Authorization": f"Bearer {ADMIN}"}

    def answer(server: ServerProcess, creds: NewApiKey) -> int:
        url = f"{server.base_url}/v2_beta/Accounts/twoserv{LIST}"
        return httpx.get(url, auth=(creds.key, creds.token), timeout=30).status_code

    for server in (one, two):  # both have served both keys (nothing to cache, but try)
        assert answer(server, first) == answer(server, second) == 200

    revoked = httpx.delete(
        f"{one.base_url}/admin/accounts/twoserv/keys/{second.key}", headers=admin, timeout=30
    )
    assert revoked.status_code == 202
    assert answer(two, second) == 401
    assert answer(one, second) == 401
    assert answer(two, first) == 200

    disabled = httpx.patch(
        f"{one.base_url}/admin/accounts/twoserv", data={"status": "disabled"}, headers=admin
    )
    assert disabled.status_code == 200
    assert answer(two, first) == 401
    assert answer(one, first) == 401

    enabled = httpx.patch(
        f"{one.base_url}/admin/accounts/twoserv", data={"status": "active"}, headers=admin
    )
    assert enabled.status_code == 200
    assert answer(two, first) == answer(one, first) == 200
    assert answer(two, second) == 401  # re-enabling the account does not revive a revoked key


def _exophone(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "exophone", *args], check=True, capture_output=True)


@pytest.mark.e2e
def test_remembered_credentials_are_refused_once_the_command_line_returns(
    db_url: str, serve: Callable[..., ServerProcess]
) -> None:
    """The server has verified (and remembers) both keys; `exophone keys revoke` and
    `exophone accounts disable`, other processes, return only once it refuses them."""
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        first = accounts.create_account(ctx, "Remembered", "remembered")
        second = accounts.create_key(ctx, "remembered")
    finally:
        ctx.store.close()
    server = serve(db_url)

    def answer(creds: NewApiKey) -> int:
        url = f"{server.base_url}/v2_beta/Accounts/remembered{LIST}"
        return httpx.get(url, auth=(creds.key, creds.token), timeout=30).status_code

    for _ in range(20):
        assert answer(first) == answer(second) == 200
    _exophone("keys", "revoke", "remembered", second.key, "--database-url", db_url)
    assert answer(second) == 401
    assert answer(first) == 200
    _exophone("accounts", "disable", "remembered", "--database-url", db_url)
    assert answer(first) == 401
    _exophone("accounts", "enable", "remembered", "--database-url", db_url)
    assert answer(first) == 200


@pytest.mark.e2e
def test_a_change_made_elsewhere_is_obeyed_within_the_settling_time(
    db_url: str, serve: Callable[..., ServerProcess]
) -> None:
    """A revocation written by another process through the service layer, without
    waiting: the server stops trusting what it remembers within ``authcache.SETTLE``."""
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        first = accounts.create_account(ctx, "Elsewhere", "elsewhere")
        server = serve(db_url)
        url = f"{server.base_url}/v2_beta/Accounts/elsewhere{LIST}"
        auth = (first.key, first.token)
        for _ in range(20):
            assert httpx.get(url, auth=auth, timeout=30).status_code == 200
        accounts.revoke_key(ctx, "elsewhere", first.key)
        authcache.settle_sync()
        assert httpx.get(url, auth=auth, timeout=30).status_code == 401
    finally:
        ctx.store.close()
