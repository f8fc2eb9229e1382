"""Two buyers, one number: exactly one wins, over real HTTP, on a multi-process server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from exophone.config import Settings
from exophone.domain.model import NumberStatus
from exophone.domain.numbers import NumberType
from exophone.service import accounts
from exophone.service.context import Context
from exophone.store import open_store
from tests.conftest import spec

pytestmark = pytest.mark.e2e

NUMBERS = ["+918023456701", "+918023456702", "+911123456701", "+911123456702", "+912223456701"]


def test_concurrent_buyers_exactly_one_wins(tmp_path: Path, serve: Any) -> None:
    db = f"sqlite:///{tmp_path / 'race.db'}"
    ctx = Context(store=open_store(db), settings=Settings(database_url=db))
    buyers = [accounts.create_account(ctx, f"Buyer {i}", f"buyer{i}") for i in range(3)]
    from exophone.service import inventory

    inventory.add_numbers(ctx, [spec(ctx, n, NumberType.LANDLINE, "KA") for n in NUMBERS])
    server = serve(db, "--workers", "2")

    def attempt(i: int) -> tuple[str, str, int]:
        creds = buyers[i % len(buyers)]
        number = NUMBERS[i % len(NUMBERS)]
        resp = httpx.post(
            f"{server.base_url}/v2_beta/Accounts/{creds.account_sid}/IncomingPhoneNumbers",
            data={"PhoneNumber": number},
            auth=(creds.key, creds.token),
            timeout=30,
        )
        return creds.account_sid, number, resp.status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(attempt, range(200)))

    statuses = sorted({status for *_, status in results})
    assert statuses == [200, 409], results
    winners = [(sid, number) for sid, number, status in results if status == 200]
    assert sorted(n for _, n in winners) == sorted(NUMBERS)  # each number sold exactly once
    with ctx.store.transaction() as repo:
        for sid, number in winners:
            row = repo.get_number(number)
            assert row is not None and row.status is NumberStatus.OWNED
            assert row.account_sid == sid
        assert repo.count_numbers(NumberStatus.OWNED) == len(NUMBERS)
        assert repo.count_numbers() == len(NUMBERS)
    ctx.store.close()
