"""``exophone serve`` flags that reach every API process through the environment."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from exophone.config import Settings
from exophone.service import accounts, inventory
from exophone.service.context import Context
from exophone.store import open_store
from tests.e2e.conftest import ServerProcess

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("order", ["sequential", "spread"])
def test_search_order(db_url: str, serve: Callable[..., ServerProcess], order: str) -> None:
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        creds = accounts.create_account(ctx, "Order", "order")
        inventory.generate_numbers(ctx, "IN", "Landline", 400, seed=4)
    finally:
        ctx.store.close()
    server = serve(db_url, "--search-order", order)
    url = f"{server.base_url}/v2_beta/Accounts/order/AvailablePhoneNumbers/IN/Landline"
    pages = [
        [n["phone_number"] for n in httpx.get(url, auth=(creds.key, creds.token),
                                              params={"PageSize": "5"}, timeout=30).json()]
        for _ in range(6)
    ]  # fmt: skip
    if order == "sequential":
        assert all(page == pages[0] for page in pages)  # the first five, every time
    else:
        assert len({tuple(page) for page in pages}) > 1  # each search starts elsewhere
