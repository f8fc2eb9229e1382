"""Tests of the provisioning example, on exophone's test kit: one test per feature.

Installing exophone installs its pytest plugin, so these tests need no
conftest: ``exophone_server``, ``exophone_client``, ``exophone_account``,
``exophone_seed`` and the ``exophone_seed`` marker come with it, and the
server is reset before every test. Run them with ``pytest examples/``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from provisioning import FLOW_URL, Customer, NoNumberAvailable, Provisioner, TryLater, connect

from exophone.client import (
    Client,
    ConnectionError,
    ExophoneError,
    RateLimitError,
    ServerError,
    TimeoutError,
)
from exophone.testing import RunningServer, serve
from exophone.testing.plugin import Seeder

ACME = Customer("cust-1", "Acme Corp", "KA")
INITECH = Customer("cust-2", "Initech", "KA")
KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.fixture
def provisioner(exophone_client: Client) -> Provisioner:
    """The program under test, on the plugin's client of the server's account."""
    return Provisioner(exophone_client)


# -- seeding, the client, the journal -------------------------------------------------


@pytest.mark.exophone_seed("IN", "Landline", region="KA", count=3)
@pytest.mark.exophone_seed("IN", "Landline", region="DL", count=3)
def test_a_new_customer_gets_a_number_in_their_circle(
    provisioner: Provisioner, exophone_server: RunningServer, exophone_seed: Seeder
) -> None:
    done = provisioner.provision(ACME)
    assert done.phone_number in exophone_seed.numbers[:3]  # a KA one
    number = provisioner.number_of(ACME)
    assert number is not None and number.region == "KA"
    assert number.friendly_name == "cust-1" and number.voice_url == FLOW_URL.format(
        customer="cust-1"
    )
    # The journal shows what the program sent.
    search = exophone_server.journal.last(path="*/AvailablePhoneNumbers/IN/Landline")
    assert search is not None and search.query == {"InRegion": "KA"}
    buy = exophone_server.journal.last(method="POST")
    assert buy is not None and buy.status == 200
    assert buy.params == {
        "PhoneNumber": done.phone_number,
        "VoiceUrl": FLOW_URL.format(customer="cust-1"),
        "FriendlyName": "cust-1",
    }
    assert buy.headers["idempotency-key"]  # the SDK makes purchases safe to retry


@pytest.mark.exophone_seed("IN", "Landline", region="KA", count=2)
def test_provisioning_twice_gives_the_same_number(
    provisioner: Provisioner, exophone_server: RunningServer
) -> None:
    assert provisioner.provision(ACME) == provisioner.provision(ACME)
    assert exophone_server.journal.count(method="POST") == 1


@pytest.mark.exophone_seed("IN", "Landline", region="DL", count=2)
def test_no_number_in_the_customers_circle(provisioner: Provisioner) -> None:
    with pytest.raises(NoNumberAvailable, match="KA"):
        provisioner.provision(ACME)


def test_every_test_starts_from_an_empty_server(exophone_client: Client) -> None:
    # The tests above bought numbers; the plugin's reset took them away.
    assert exophone_client.available_phone_numbers.countries() == []
    assert exophone_client.incoming_phone_numbers.list().items == ()


# -- faults ---------------------------------------------------------------------------


def test_a_number_taken_between_search_and_purchase_is_skipped(
    provisioner: Provisioner, exophone_server: RunningServer, exophone_seed: Seeder
) -> None:
    numbers = sorted(exophone_seed(numbers=["+918023456701", "+918023456702"]))
    # As if another company bought the first number a moment after our search.
    exophone_server.faults.fail(
        "*/IncomingPhoneNumbers", 409, method="POST", message=f"{numbers[0]} is not for sale"
    )
    assert provisioner.provision(ACME).phone_number == numbers[1]
    attempts = exophone_server.journal.entries(method="POST")
    assert [(a.params["PhoneNumber"], a.status) for a in attempts] == [
        (numbers[0], 409),
        (numbers[1], 200),
    ]


@pytest.mark.exophone_seed("IN", "Landline", region="KA")
def test_a_rate_limited_purchase_is_retried_after_retry_after(
    exophone_server: RunningServer,
) -> None:
    exophone_server.faults.rate_limit("*/IncomingPhoneNumbers", method="POST", retry_after=2)
    waits: list[float] = []
    with exophone_server.client(sleep=waits.append) as client:  # records the pauses
        Provisioner(client).provision(ACME)
    assert waits == [2.0]  # as long as Retry-After said
    attempts = exophone_server.journal.entries(method="POST")
    assert [a.status for a in attempts] == [429, 200]
    assert len({a.headers["idempotency-key"] for a in attempts}) == 1  # one purchase


@pytest.mark.exophone_seed("IN", "Landline", region="KA")
def test_a_lasting_rate_limit_asks_to_try_later(exophone_server: RunningServer) -> None:
    exophone_server.faults.rate_limit("*/IncomingPhoneNumbers", retry_after=30, times=None)
    with exophone_server.client(sleep=lambda _: None) as client, pytest.raises(TryLater) as later:
        Provisioner(client).provision(ACME)
    assert later.value.retry_after == 30
    assert exophone_server.faults.list()[0].hits == 4  # the first try and 3 retries


@pytest.mark.exophone_seed("IN", "Landline", region="KA", count=5)
def test_a_flaky_service_is_weathered_by_the_sdks_retries(
    exophone_server: RunningServer,
) -> None:
    # Half of all requests fail with a 503, drawn from the server's seed: the same each run.
    exophone_server.faults.fail("*", 503, times=None, rate=0.5)
    with exophone_server.client(sleep=lambda _: None, max_retries=6) as client:
        provisioner = Provisioner(client)
        for customer in (ACME, INITECH):
            assert provisioner.provision(customer).customer == customer
    assert exophone_server.journal.count(status=503) > 0


FAULTS = [
    pytest.param({"status": 429, "retry_after": 7}, RateLimitError, id="429"),
    pytest.param({"status": 503}, ServerError, id="503"),
    pytest.param({"status": 500}, ServerError, id="500"),
    pytest.param({"delay": 2.0}, TimeoutError, id="delay-beyond-the-timeout"),
    pytest.param({"drop": True}, ConnectionError, id="dropped-connection"),
]


@pytest.mark.parametrize(("fault", "error"), FAULTS)
@pytest.mark.parametrize("retries", [0, 2])
def test_each_fault_is_the_matching_sdk_error(
    exophone_server: RunningServer, fault: dict[str, Any], error: type[ExophoneError], retries: int
) -> None:
    rule = exophone_server.faults.add("*/IncomingPhoneNumbers", "GET", times=None, **fault)
    waits: list[float] = []
    settings = {"timeout": 0.5, "max_retries": retries, "sleep": waits.append}
    with exophone_server.client(**settings) as client, pytest.raises(error) as caught:
        client.incoming_phone_numbers.list()
    assert exophone_server.faults.get(rule.id).hits == retries + 1
    if "status" in fault:
        assert caught.value.status == fault["status"]
        assert caught.value.body == {
            "RestException": {"Status": fault["status"], "Message": caught.value.message}
        }
    else:
        assert caught.value.status is None  # no answer at all
    if fault.get("status") == 429:
        assert isinstance(caught.value, RateLimitError) and caught.value.retry_after == 7
        assert waits == [7.0] * retries


# -- cancelling, and the clock --------------------------------------------------------


@pytest.mark.exophone_seed("IN", "Landline", region="KA")
def test_cancel_releases_the_number_once(
    provisioner: Provisioner, exophone_server: RunningServer
) -> None:
    done = provisioner.provision(ACME)
    assert provisioner.cancel(ACME) is True
    assert provisioner.cancel(ACME) is False
    assert provisioner.number_of(ACME) is None
    release = exophone_server.journal.last(method="DELETE")
    assert release is not None and release.path.endswith(f"/IncomingPhoneNumbers/{done.sid}")
    assert release.status == 202


@pytest.mark.exophone_seed("IN", "Landline", region="KA")
def test_a_released_number_ages_a_day_before_it_is_sold_again(
    provisioner: Provisioner, exophone_server: RunningServer
) -> None:
    done = provisioner.provision(ACME)
    provisioner.cancel(ACME)
    with pytest.raises(NoNumberAvailable):
        provisioner.provision(INITECH)  # the only number is aging
    exophone_server.clock.advance(timedelta(days=1, seconds=1))
    assert provisioner.provision(INITECH).phone_number == done.phone_number


@pytest.mark.exophone_seed("IN", "Landline", region="KA")
def test_the_purchase_date_follows_the_frozen_clock(
    provisioner: Provisioner, exophone_server: RunningServer
) -> None:
    exophone_server.clock.freeze(datetime(2025, 3, 1, 9, 30, tzinfo=KOLKATA))
    done = provisioner.provision(ACME)
    assert done.since == datetime(2025, 3, 1, 9, 30, tzinfo=KOLKATA)


# -- deterministic sids, resets, explicit numbers -------------------------------------


def test_sids_are_the_same_on_every_run(
    provisioner: Provisioner, exophone_server: RunningServer, exophone_seed: Seeder
) -> None:
    exophone_seed("IN", "Landline", region="KA")
    first = provisioner.provision(ACME)
    # With the plugin's default seed (0), the first sid after a reset is always this one.
    assert first.sid == "e3e70682c2094cac629f6fbed82c07cd"
    exophone_server.reset()
    exophone_seed("IN", "Landline", region="KA")  # the same number as before
    again = provisioner.provision(ACME)
    assert (again.sid, again.phone_number) == (first.sid, first.phone_number)


def test_one_accounts_state_can_be_reset(
    provisioner: Provisioner,
    exophone_server: RunningServer,
    exophone_seed: Seeder,
    exophone_account: Any,
) -> None:
    exophone_seed(numbers=["+918023456701"])  # the type and circle come from the number
    provisioner.provision(ACME)
    exophone_server.reset(exophone_account.sid)
    assert provisioner.number_of(ACME) is None  # the account's numbers are back on sale
    assert provisioner.provision(INITECH).phone_number == "+918023456701"


# -- without the fixtures, and against `exophone serve --test-mode` -------------------


def test_serve_works_without_pytest_fixtures() -> None:
    with serve(seed=1, timezone="UTC") as server, server.client(timezone="UTC") as client:
        server.seed.numbers("IN", "Landline", region="KA")
        server.clock.freeze("2025-01-01 00:00:00")  # the server's zone: UTC here
        done = Provisioner(client).provision(ACME)
        assert done.since == datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def cli_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``exophone serve --test-mode --seed 1`` in a process of its own: (base URL, token)."""
    port, log = _free_port(), tmp_path / "server.log"
    with log.open("w") as out:
        database = f"sqlite:///{tmp_path / 'x.db'}"
        command = [sys.executable, "-m", "exophone", "serve", "--test-mode", "--seed", "1",
                   "--port", str(port), "--database-url", database]  # fmt: skip
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        token = next(
            line.split()[-1] for line in log.read_text().splitlines() if "test token:" in line
        )
        yield base_url, token
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_against_a_test_mode_server_from_the_command_line(
    cli_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, token = cli_server
    # The control API is plain HTTP: any language or tool can drive it.
    control = httpx.Client(base_url=f"{base_url}/_exophone",
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    with control:
        account = {"sid": "helpdesk", "api_key": "helpdesk-key-01", "api_token": "helpdesk-token"}
        assert control.post("/accounts", json=account).status_code == 201
        seeded = control.post("/numbers", json={"country": "IN", "number_type": "Landline",
                                                "region": "KA", "count": 2})  # fmt: skip
        assert seeded.json()["added"] == 2
        # The program as it runs in production: configured by EXOTEL_* variables.
        monkeypatch.setenv("EXOTEL_SID", "helpdesk")
        monkeypatch.setenv("EXOTEL_API_KEY", "helpdesk-key-01")
        monkeypatch.setenv("EXOTEL_API_TOKEN", "helpdesk-token")
        monkeypatch.setenv("EXOTEL_BASE_URL", base_url)
        with connect() as client:
            done = Provisioner(client).provision(ACME)
        entries = control.get("/journal", params={"method": "POST"}).json()["entries"]
        assert [(e["params"]["PhoneNumber"], e["status"]) for e in entries] == [
            (done.phone_number, 200)
        ]
        assert control.post("/reset").status_code == 200
