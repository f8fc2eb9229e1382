"""``exophone.testing.serve()`` without pytest's help, and the Python helpers over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from exophone.client import (
    AuthenticationError,
    Client,
    NotFoundError,
    RateLimitError,
    ValidationError,
)
from exophone.service import accounts
from exophone.testing import Control, serve


def test_serve_gives_a_server_an_account_and_the_controls() -> None:
    with serve() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.account.sid == "test" and len(server.account.api_token) == 48
        assert server.context.settings.test_mode and server.context.settings.rate_limit == 0
        number = server.seed.numbers("IN", "Landline", region="KA")[0]
        with server.client() as client:
            bought = client.incoming_phone_numbers.buy(number)
            assert bought.account_sid == "test"
        entry = server.journal.last(method="POST")
        assert entry is not None and entry.params == {"PhoneNumber": number}
        assert entry.status == 200 and entry.api_key == server.account.api_key
        # A reset keeps the account's credentials working, and nothing else.
        server.reset()
        with server.client() as client:
            assert client.incoming_phone_numbers.list().items == ()
            with pytest.raises(NotFoundError):
                client.available_phone_numbers.search("IN", "Landline")
        assert [e.seq for e in server.journal.entries()] == [1, 2]  # counted afresh
        url = server.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/openapi.json", timeout=2)


def test_serve_takes_settings_a_seed_a_token_and_an_account() -> None:
    with serve(seed=None, token="my-own-token-0123456789", account_sid="acme",
               timezone="UTC", rate_limit=2) as server:  # fmt: skip
        assert server.token == "my-own-token-0123456789" and server.account.sid == "acme"
        numbers = server.seed.numbers("IN", "Mobile", region="MH", count=2)
        server.reset()
        numbers_after = server.seed.numbers("IN", "Mobile", region="MH", count=2)
        assert numbers_after != numbers  # no seed: other numbers each time
        at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
        server.clock.freeze(at)
        with server.client(timezone="UTC", max_retries=0) as client:
            bought = client.incoming_phone_numbers.buy(numbers_after[0])
            assert bought.date_created == at
            client.incoming_phone_numbers.list()
            with pytest.raises(RateLimitError) as limited:
                client.incoming_phone_numbers.list()
            assert limited.value.retry_after is not None and limited.value.retry_after <= 60
            # The limit's window follows the clock too.
            server.clock.advance(timedelta(minutes=1))
            assert len(client.incoming_phone_numbers.list()) == 1


def test_a_given_database_is_emptied(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    with serve(database_url=url) as server:
        server.seed.account("old")
    with serve(database_url=url) as server:
        assert accounts.get_account(server.context, "old") is None
        assert accounts.get_account(server.context, "test") is not None


def test_control_helpers_work_against_any_test_mode_server() -> None:
    with serve() as server, Control(server.base_url, server.token) as control:
        creds = control.seed.account("acme", api_key="acme-key-0001", api_token="acme-token-01")
        assert (creds.sid, creds.api_key, creds.api_token) == ("acme", "acme-key-0001",
                                                               "acme-token-01")  # fmt: skip
        added = control.seed.numbers(numbers=["+918023456701"])
        assert added == ["+918023456701"]
        fault = control.faults.fail("*/IncomingPhoneNumbers", 500, method="GET")
        assert control.faults.get(fault.id).status == 500
        assert [f.id for f in control.faults.list()] == [fault.id]
        control.faults.remove(fault.id)
        control.faults.rate_limit("*", retry_after=3, times=None)
        control.faults.clear()
        control.faults.delay("/openapi.json", 0.1)
        control.faults.drop("/docs", rate=1.0)
        assert len(control.status()["faults"]) == 2
        state = control.clock.state()
        assert not state.frozen and state.timezone == "Asia/Kolkata"
        frozen = control.clock.freeze("2025-01-01 10:00:00")  # naive: the server's zone
        assert frozen == datetime(2025, 1, 1, 4, 30, tzinfo=UTC)
        assert control.clock.advance(90) == frozen + timedelta(seconds=90)
        assert control.clock.set(0) == datetime(1970, 1, 1, tzinfo=UTC)
        assert control.clock.resume() >= datetime(1970, 1, 1, tzinfo=UTC)
        assert control.clock.reset() > frozen
        assert abs(control.clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
        control.seed_ids(5)
        with Client("acme", creds.api_key, creds.api_token, base_url=server.base_url) as client:
            sid = client.incoming_phone_numbers.buy(added[0]).sid
        assert control.journal.count() == 1 and control.journal.count(method="GET") == 0
        control.journal.clear()
        assert control.journal.last() is None
        control.reset("acme")
        control.seed_ids(5)
        with Client("acme", creds.api_key, creds.api_token, base_url=server.base_url) as client:
            assert client.incoming_phone_numbers.buy(added[0]).sid == sid
        # Mistakes raise the SDK's errors.
        with pytest.raises(ValidationError):
            control.faults.add("*")
        with pytest.raises(NotFoundError):
            control.faults.get("f99")
        with pytest.raises(AuthenticationError), Control(server.base_url, "x" * 20) as wrong:
            wrong.status()
