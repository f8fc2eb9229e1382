"""API tokens are never stored in clear and never logged.

Storage: tokens are made every way the product makes them (service, command
line, admin API, test-mode seeding with a chosen token), used, and then every
value of every table (and, for SQLite, the raw bytes of the file and its
journal) is searched for them; the key's row holds the SHA-256 of its token.

Logs: a real ``exophone serve`` process at its most verbose log level answers
good and failed authentications, admin calls (one of which answers a new
token), credentials in the URL, and an unexpected failure; its whole output
is then searched for every token and every Authorization header value sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from exophone.api import create_app
from exophone.cli import cli
from exophone.config import Settings
from exophone.domain.model import NewApiKey
from exophone.service import accounts
from exophone.service.context import Context
from exophone.store import open_store
from tests.conftest import ThreadServer
from tests.e2e.conftest import ServerProcess
from tests.security.database import every_value, raw_bytes, table_missing

ADMIN = "admin-token-secrets-0123"
CONTROL = "control-token-secrets-0123"


@pytest.fixture
def context(db_url: str) -> Iterator[Context]:
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url, rate_limit=0))
    yield ctx
    ctx.store.close()


def made_every_way(ctx: Context, db_url: str) -> list[NewApiKey]:
    """Credentials from the service, the command line and the admin API."""
    made = [accounts.create_account(ctx, "Service Made", "svc")]
    made.append(accounts.create_key(ctx, "svc", "second"))
    run = CliRunner().invoke(
        cli, ["accounts", "create", "Cli Made", "--sid", "cli", "--json", "--database-url", db_url]
    )
    assert run.exit_code == 0, run.output
    cli_made = json.loads(run.output)
    made.append(NewApiKey(cli_made["api_key"], cli_made["api_token"], "cli"))
    run = CliRunner().invoke(cli, ["keys", "create", "cli", "--database-url", db_url])
    assert run.exit_code == 0, run.output
    token = next(w for w in run.output.split() if len(w) == 48)
    key = next(w for w in run.output.split() if len(w) == 32)
    made.append(NewApiKey(key, token, "cli"))
    return made


def test_tokens_are_stored_only_as_their_sha256(context: Context, db_url: str) -> None:
    made = made_every_way(context, db_url)
    context.settings = context.settings.with_(admin_token=ADMIN)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with ThreadServer(create_app(context)) as base, httpx.Client(base_url=base) as http:
        created = http.post("/admin/accounts", data={"name": "Admin Made"}, headers=admin)
        assert created.status_code == 201
        body = created.json()
        made.append(NewApiKey(body["api_key"], body["api_token"], body["account_sid"]))
        rotated = http.post(f"/admin/accounts/{body['account_sid']}/keys", headers=admin)
        assert rotated.status_code == 201
        made.append(NewApiKey(rotated.json()["api_key"], rotated.json()["api_token"], "adminmade"))
        # Use every token, well and badly, with and without an Idempotency-Key.
        for creds in made:
            url = f"/v2_beta/Accounts/{creds.account_sid}/IncomingPhoneNumbers"
            assert http.get(url, auth=(creds.key, creds.token)).status_code == 200
            assert http.get(url, auth=(creds.key, creds.token[:-1])).status_code == 401
            http.post(
                url,
                data={"PhoneNumber": "+918023456701"},
                auth=(creds.key, creds.token),
                headers={"Idempotency-Key": f"k-{creds.key}"},
            )
    assert_not_stored(db_url, made)


def test_tokens_chosen_through_the_control_api_are_stored_hashed(
    context: Context, db_url: str
) -> None:
    try:
        settings = context.settings.with_(test_mode=True, test_token=CONTROL)
    except TypeError:
        pytest.skip("test mode (issue 7) is not in this build: Settings has no test_mode")
    context.settings = settings
    chosen = NewApiKey("chosen-key-0001", "chosen-token-secret-0001", "seeded")
    control = {"Authorization": f"Bearer {CONTROL}"}
    with ThreadServer(create_app(context)) as base, httpx.Client(base_url=base) as http:
        seeded = http.post(
            "/_exophone/accounts",
            json={"sid": "seeded", "name": "Seeded", "api_key": chosen.key,
                  "api_token": chosen.token},
            headers=control,
        )  # fmt: skip
        assert seeded.status_code == 201, seeded.text
        url = "/v2_beta/Accounts/seeded/IncomingPhoneNumbers"
        assert http.get(url, auth=(chosen.key, chosen.token)).status_code == 200
        journal = http.get("/_exophone/journal", headers=control)
        assert journal.status_code == 200
        # The journal of requests shows what was sent, but not the credentials.
        assert chosen.token not in journal.text
        assert basic_value(chosen) not in journal.text
    assert_not_stored(db_url, [chosen])


def basic_value(creds: NewApiKey) -> str:
    return base64.b64encode(f"{creds.key}:{creds.token}".encode()).decode()


def assert_not_stored(db_url: str, made: list[NewApiKey]) -> None:
    values = every_value(db_url)
    text = "\n".join(v for rows in values.values() for v in rows)
    raw = raw_bytes(db_url)
    for creds in made:
        assert creds.token not in text, f"token of {creds.key} stored in clear"
        assert basic_value(creds) not in text
        assert creds.token.encode() not in raw
        digest = hashlib.sha256(creds.token.encode()).hexdigest()
        rows = [r for r in values["api_keys"] if creds.key in r]
        assert len(rows) == 1 and digest in rows[0], f"key {creds.key} is not stored hashed"


@pytest.mark.e2e
def test_no_token_or_authorization_value_is_ever_logged(
    db_url: str, serve: Callable[..., ServerProcess]
) -> None:
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        good = accounts.create_account(ctx, "Logged", "logged")
    finally:
        ctx.store.close()
    server = serve(db_url, "--admin-token", ADMIN, "--log-level", "trace")
    base = server.base_url
    api = f"{base}/v2_beta/Accounts/logged/IncomingPhoneNumbers"
    sent: list[str] = [good.token, ADMIN]
    headers: list[str] = []

    def call(method: str, url: str, header: str | None = None, **kw: object) -> httpx.Response:
        if header is not None:
            headers.append(header)
        extra = {"Authorization": header} if header is not None else {}
        return httpx.request(method, url, headers=extra, timeout=30, **kw)  # type: ignore[arg-type]

    good_basic = "Basic " + basic_value(good)
    assert call("GET", api, good_basic).status_code == 200
    wrong = NewApiKey(good.key, "f" * 48, "logged")
    sent.append(wrong.token)
    assert call("GET", api, "Basic " + basic_value(wrong)).status_code == 401
    assert call("GET", api, "Basic !!" + good.token).status_code == 401
    assert call("GET", api, f"Bearer {good.token}").status_code == 401
    assert (
        call("GET", f"{base}/v2_beta/Accounts/other/IncomingPhoneNumbers", good_basic).status_code
        == 403
    )
    assert call("POST", api, good_basic, data={"PhoneNumber": "+918023456701"}).status_code == 409
    # Credentials in the URL's userinfo (clients turn them into a header), and a 400.
    host = base.removeprefix("http://")
    url_creds = (
        f"http://{good.key}:{good.token}@{host}/v2_beta/Accounts/logged/IncomingPhoneNumbers"
    )
    assert httpx.get(url_creds, timeout=30).status_code == 200
    assert call("GET", f"{api}?Page=x", good_basic).status_code == 400
    # The admin API, which answers a new token once.
    assert call("GET", f"{base}/admin/accounts", f"Bearer {ADMIN}x").status_code == 401
    made = call("POST", f"{base}/admin/accounts", f"Bearer {ADMIN}", data={"name": "New One"})
    assert made.status_code == 201
    sent.append(made.json()["api_token"])
    # An unexpected failure, whose traceback is logged.
    with table_missing(db_url, "numbers"):
        broken = call("GET", api, good_basic)
    assert broken.status_code >= 500
    assert call("GET", api, good_basic).status_code == 200

    log = server.output()
    assert "Traceback" in log or broken.status_code == 503  # the failure was logged in full
    for secret in sent + headers:
        assert secret not in log, f"{secret[:12]}... found in the server log"
    assert basic_value(good) not in log
    assert any(line.startswith("{") for line in log.splitlines()), "expected JSON log lines"


def test_the_raw_bytes_check_sees_what_sqlite_writes(tmp_path: Path) -> None:
    """Guards the raw-bytes search above: it does find a value the store wrote."""
    url = f"sqlite:///{tmp_path / 'canary.db'}"
    ctx = Context(store=open_store(url), settings=Settings(database_url=url))
    try:
        accounts.create_account(ctx, "canary-value-123", "canary")
    finally:
        ctx.store.close()
    assert b"canary-value-123" in raw_bytes(url)
