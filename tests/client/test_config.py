"""Configuration: arguments, environment variables, regions, and the lazy exports."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC

import pytest

import exophone
from exophone.client import REGIONS, AsyncClient, Client
from tests.conftest import World

ENV = ("EXOTEL_SID", "EXOTEL_API_KEY", "EXOTEL_API_TOKEN", "EXOTEL_BASE_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_environment_configures_a_client(
    world: World, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXOTEL_SID", "acme")
    monkeypatch.setenv("EXOTEL_API_KEY", world.acme.key)
    monkeypatch.setenv("EXOTEL_API_TOKEN", world.acme.token)
    monkeypatch.setenv("EXOTEL_BASE_URL", server + "/")
    with Client() as client:
        assert (client.account_sid, client.base_url) == ("acme", server)
        bought = client.incoming_phone_numbers.buy("+918023456701")
        assert client.incoming_phone_numbers.get(bought.sid).account_sid == "acme"


@pytest.mark.anyio
async def test_environment_configures_an_async_client(
    world: World, server: str, monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    monkeypatch.setenv("EXOTEL_SID", "acme")
    monkeypatch.setenv("EXOTEL_API_KEY", world.acme.key)
    monkeypatch.setenv("EXOTEL_API_TOKEN", world.acme.token)
    monkeypatch.setenv("EXOTEL_BASE_URL", server)
    async with AsyncClient() as client:
        assert [c.country_code for c in await client.available_phone_numbers.countries()] == [
            "IN",
            "MY",
        ]


def test_credentials_in_the_base_url(world: World, server: str) -> None:
    host = server.removeprefix("http://")
    url = f"http://{world.acme.key}:{world.acme.token}@{host}"
    with Client("acme", base_url=url) as client:
        assert client.base_url == server
        assert world.acme.token not in repr(client)
        assert client.available_phone_numbers.countries()


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXOTEL_SID", "env-sid")
    monkeypatch.setenv("EXOTEL_API_KEY", "env-key")
    monkeypatch.setenv("EXOTEL_API_TOKEN", "env-token")
    monkeypatch.setenv("EXOTEL_BASE_URL", "http://env.example")
    with Client("arg-sid") as client:
        assert (client.account_sid, client.base_url) == ("arg-sid", "http://env.example")
    with Client(region="in") as client:
        assert client.base_url == "https://api.in.exotel.com"
    with Client(region="in", base_url="http://mine.example/") as client:
        assert client.base_url == "http://mine.example"


def test_regions_and_default() -> None:
    assert REGIONS == {"sg": "https://api.exotel.com", "in": "https://api.in.exotel.com"}
    with Client("s", "k", "t") as client:
        assert client.base_url == "https://api.exotel.com"
    with Client("s", "k", "t", region="SG") as client:
        assert client.base_url == "https://api.exotel.com"
    with pytest.raises(ValueError, match="unknown region"):
        Client("s", "k", "t", region="us")


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(ValueError, match="api_key \\(or EXOTEL_API_KEY\\)"):
        Client("sid", api_token="t")
    with pytest.raises(ValueError, match="EXOTEL_SID"):
        AsyncClient()


def test_settings_are_checked_and_kept() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        Client("s", "k", "t", max_retries=-1)
    with pytest.raises(ValueError, match="backoff"):
        Client("s", "k", "t", backoff=-1)
    with pytest.raises(ValueError, match="time zone"):
        Client("s", "k", "t", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="http or https"):
        Client("s", "k", "t", base_url="ftp://x")
    with Client("s", "k", "t", timeout=3.0, max_retries=0, timezone=UTC) as client:
        assert (client.timeout, client.max_retries) == (3.0, 0)


def test_repr_hides_the_token() -> None:
    with Client("s", "k", "secret-token") as client:
        assert "secret-token" not in repr(client)
        assert "secret-token" not in repr(client._config)


def test_lazy_exports() -> None:
    assert exophone.Client is Client
    assert exophone.AsyncClient is AsyncClient
    with pytest.raises(AttributeError):
        exophone.Nope  # noqa: B018
    code = (
        "import sys, exophone\n"
        "assert 'httpx' not in sys.modules and 'exophone.client' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
