"""Demo data: an account and a few thousand numbers, so a newcomer has something to buy."""

from __future__ import annotations

from dataclasses import dataclass

from exophone.domain.model import NewApiKey
from exophone.service import accounts
from exophone.service.context import Context
from exophone.service.inventory import generate_numbers

DEMO_SID = "demo"
DEMO_NAME = "Demo account"

# (country, type, region or None, count): India in depth, a few others beside it.
DEMO_INVENTORY: tuple[tuple[str, str, str | None, int], ...] = (
    *(("IN", "Landline", circle, 150) for circle in
       ("AP", "DL", "KA", "KL", "MH", "MP", "MU", "RJ", "TN", "WB")),
    ("IN", "Mobile", None, 1000),
    ("IN", "TollFree", None, 200),
    ("SG", "Landline", None, 100),
    ("SG", "Mobile", None, 100),
    ("MY", "Landline", None, 100),
    ("MY", "Mobile", None, 100),
    ("US", "Landline", None, 100),
    ("US", "TollFree", None, 50),
    ("GB", "Landline", None, 100),
    ("GB", "Mobile", None, 100),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoData:
    credentials: NewApiKey
    numbers_added: int


def seed_demo(ctx: Context) -> DemoData:
    """Create the demo account (or a fresh key for it) and fill an empty inventory.

    Tokens are stored only as hashes, so every run issues a new key for the
    demo account; keys printed by earlier runs keep working.
    """
    if accounts.get_account(ctx, DEMO_SID) is None:
        creds = accounts.create_account(ctx, DEMO_NAME, DEMO_SID)
    else:
        creds = accounts.create_key(ctx, DEMO_SID, label="demo")
    added = 0
    with ctx.store.transaction() as repo:
        empty = repo.count_numbers() == 0
    if empty:
        for seed, (country, kind, region, count) in enumerate(DEMO_INVENTORY):
            added += generate_numbers(ctx, country, kind, count, region=region, seed=seed)
    return DemoData(credentials=creds, numbers_added=added)
