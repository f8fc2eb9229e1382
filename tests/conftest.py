"""Shared fixtures: a real SQLite store, a seeded world, and an API client that
talks to the app in-process or over real HTTP on a free port."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import psycopg
import pytest
import uvicorn

from exophone.api import create_app
from exophone.config import Settings
from exophone.domain.model import NewApiKey, NumberSpec
from exophone.domain.numbers import NumberType, national_digits
from exophone.service import accounts, inventory
from exophone.service.context import Context
from exophone.store import open_store

POSTGRES_URL = os.environ.get("EXOPHONE_TEST_POSTGRES_URL")
# Tests are not rate-limited unless they ask (the rate_limit marker, --rate-limit);
# the environment reaches `exophone serve` processes started by e2e tests.
os.environ.setdefault("EXOPHONE_RATE_LIMIT", "0")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each store: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'exophone.db'}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new PostgreSQL schema, dropped afterwards; skips without PostgreSQL."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need EXOPHONE_TEST_POSTGRES_URL (set by .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    settings = Settings(database_url=db_url, rate_limit=0)
    context = Context(store=open_store(db_url), settings=settings)
    yield context
    context.store.close()


def spec(
    ctx: Context,
    number: str,
    number_type: NumberType,
    region: str | None = None,
    *,
    sms: bool | None = None,
    vanity: bool = False,
) -> NumberSpec:
    parsed = phonenumbers.parse(number)
    assert phonenumbers.is_valid_number(parsed), number
    country = phonenumbers.region_code_for_number(parsed)
    price = ctx.catalogue.lookup(country, number_type, region)
    return NumberSpec(
        phone_number=number,
        national=national_digits(parsed),
        country=country,
        number_type=number_type,
        region=region or country,
        sms=price.sms if sms is None else sms,
        voice=price.voice,
        vanity=vanity,
        one_time_price=price.one_time_price,
        rental_price=price.rental_price,
        incoming_rate=price.incoming_rate,
        incoming_pulse=price.incoming_pulse,
        currency=price.currency,
    )


L, M, T = NumberType.LANDLINE, NumberType.MOBILE, NumberType.TOLL_FREE

# A small inventory every API test knows by heart.
INVENTORY: list[tuple[str, NumberType, str | None, dict[str, Any]]] = [
    ("+918023456701", L, "KA", {"sms": True}),
    ("+918023456702", L, "KA", {"sms": False}),
    ("+918023457777", L, "KA", {"sms": False, "vanity": True}),
    ("+911123456701", L, "DL", {"sms": True}),
    ("+911123456702", L, "DL", {"sms": False}),
    ("+912223456701", L, "MU", {}),
    ("+919876543201", M, "MH", {"sms": True}),
    ("+919876543202", M, "KA", {"sms": True}),
    ("+911800123456", T, "DL", {}),
    ("+60323856789", L, None, {}),
    ("+60323856790", L, None, {}),
]


@dataclass
class World:
    ctx: Context
    acme: NewApiKey
    other: NewApiKey
    numbers: list[str] = field(default_factory=list)


@pytest.fixture
def world(ctx: Context) -> World:
    acme = accounts.create_account(ctx, "Acme Corp", "acme")
    other = accounts.create_account(ctx, "Other Ltd", "other")
    specs = [spec(ctx, n, t, r, **kw) for n, t, r, kw in INVENTORY]
    inventory.add_numbers(ctx, specs)
    return World(ctx, acme, other, [n for n, *_ in INVENTORY])


def basic(creds: NewApiKey) -> str:
    raw = f"{creds.key}:{creds.token}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class Api:
    """A synchronous face over an httpx client, with account Acme's credentials by default."""

    def __init__(self, world: World, send: Any, base_url: str, mode: str) -> None:
        self.world = world
        self._send = send
        self.base_url = base_url
        self.mode = mode

    def path(self, rest: str = "", sid: str = "acme") -> str:
        return f"/v2_beta/Accounts/{sid}{rest}"

    def request(
        self, method: str, url: str, *, creds: NewApiKey | bool | None = True, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if creds is True:
            headers["Authorization"] = basic(self.world.acme)
        elif isinstance(creds, NewApiKey):
            headers["Authorization"] = basic(creds)
        resp: httpx.Response = self._send(method, url, headers=headers, **kw)
        return resp

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    def patch(self, url: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kw.pop("headers", {})}
        return self.request("PATCH", url, creds=False, headers=headers, **kw)

    def buy(self, number: str, **data: str) -> dict[str, Any]:
        resp = self.post(self.path("/IncomingPhoneNumbers"), data={"PhoneNumber": number, **data})
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body


class ThreadServer:
    """A real uvicorn server on a free port, in a thread of the test process."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("server failed to start")
            threading.Event().wait(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


ADMIN_TOKEN = "admin-token-0123456789"


@pytest.fixture(params=["asgi", "http"])
def api(request: pytest.FixtureRequest, world: World) -> Iterator[Api]:
    if request.node.get_closest_marker("admin"):
        world.ctx.settings = world.ctx.settings.with_(admin_token=ADMIN_TOKEN)
    if limit := request.node.get_closest_marker("rate_limit"):
        world.ctx.settings = world.ctx.settings.with_(rate_limit=limit.args[0])
    app = create_app(world.ctx)
    if request.param == "asgi":
        loop = asyncio.new_event_loop()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver")

        def send(method: str, url: str, **kw: Any) -> httpx.Response:
            return loop.run_until_complete(client.request(method, url, **kw))

        yield Api(world, send, "http://testserver", "asgi")
        loop.run_until_complete(client.aclose())
        loop.close()
    else:
        with ThreadServer(app) as base_url, httpx.Client(base_url=base_url) as client:
            yield Api(world, client.request, base_url, "http")
