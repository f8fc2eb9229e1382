"""``exophone serve --test-mode``: the control API from the command line, and only there."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from exophone.cli.main import cli
from exophone.client import Client
from exophone.testing import Control
from tests.e2e.conftest import ServerProcess, start_server, stop

pytestmark = pytest.mark.e2e


@pytest.fixture
def exophone_cli(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Starts ``exophone serve`` processes on free ports; stops them after the test."""
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        started.append(start_server(tmp_path, f"sqlite:///{tmp_path / 'test.db'}", *args))
        return started[-1]

    yield start
    for server in started:
        stop(server)


def test_test_mode_prints_its_token_and_serves_the_control_api(
    exophone_cli: Callable[..., ServerProcess],
) -> None:
    server = exophone_cli("--test-mode", "--seed", "3")
    output = server.output()
    assert f"control API: {server.base_url}/_exophone" in output
    match = re.search(r"test token:  (\S+)", output)
    assert match, output
    token = match.group(1)
    assert f'curl -H "Authorization: Bearer {token}" {server.base_url}/_exophone' in output
    with Control(server.base_url, token) as control:
        assert control.status()["seed"] == 3
        creds = control.seed.account("acme", api_key="acme-key-0001", api_token="acme-token-01")
        number = control.seed.numbers("IN", "Landline", region="KA")[0]
        control.faults.rate_limit("*/IncomingPhoneNumbers", method="POST", retry_after=0)
        with Client(creds.sid, creds.api_key, creds.api_token, base_url=server.base_url) as c:
            bought = c.incoming_phone_numbers.buy(number)
        assert [e.status for e in control.journal.entries(method="POST")] == [429, 200]
        control.reset()
        control.seed.account("acme", api_key="acme-key-0001", api_token="acme-token-01")
        control.seed.numbers("IN", "Landline", region="KA")
        with Client(creds.sid, creds.api_key, creds.api_token, base_url=server.base_url) as c:
            # --seed: the same numbers and sids after every reset, and on every run.
            assert c.incoming_phone_numbers.buy(number).sid == bought.sid


def test_a_token_may_be_given(exophone_cli: Callable[..., ServerProcess]) -> None:
    token = "chosen-token-0123456789"
    server = exophone_cli("--test-mode", "--test-token", token)
    assert "seed:        random" in server.output()
    response = httpx.get(
        f"{server.base_url}/_exophone", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200 and response.json()["seed"] is None


def test_a_normal_serve_has_no_control_api(
    exophone_cli: Callable[..., ServerProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Even with test mode asked for in the environment, only the flag turns it on.
    monkeypatch.setenv("EXOPHONE_TEST_MODE", "1")
    monkeypatch.setenv("EXOPHONE_TEST_TOKEN", "chosen-token-0123456789")
    server = exophone_cli()
    response = httpx.get(
        f"{server.base_url}/_exophone",
        headers={"Authorization": "Bearer chosen-token-0123456789"},
    )
    assert response.status_code == 404
    assert response.json()["RestException"]["Status"] == 404
    assert "test token" not in server.output()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "2"], "use --workers 1"),
        (["--test-token", "short"], "at least 16 characters"),
    ],
)
def test_bad_test_mode_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    # `serve` writes its settings into os.environ for its workers: setting each
    # variable first makes monkeypatch restore (or remove) it after the test.
    for name in ("DATABASE_URL", "TEST_MODE", "TEST_TOKEN", "TEST_SEED", "RATE_LIMIT"):
        monkeypatch.setenv(f"EXOPHONE_{name}", "")
        monkeypatch.delenv(f"EXOPHONE_{name}")
    url = f"sqlite:///{tmp_path / 'test.db'}"
    result = CliRunner().invoke(cli, ["serve", "--test-mode", "--database-url", url, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
