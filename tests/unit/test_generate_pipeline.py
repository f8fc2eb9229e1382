"""``generate_numbers`` above one chunk: a worker process draws while this one writes."""

from __future__ import annotations

import phonenumbers
import pytest

from exophone.domain.errors import BadRequest
from exophone.domain.model import NumberStatus
from exophone.service import inventory
from exophone.service.context import Context


def _numbers(ctx: Context) -> set[str]:
    with ctx.store.transaction() as repo:
        repo.cur.execute("SELECT phone_number FROM numbers")
        return {r[0] for r in repo.cur.fetchall()}


def test_pipelined_generation_adds_exactly_count_valid_distinct_numbers(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory, "CHUNK", 1_000)
    added = inventory.generate_numbers(ctx, "IN", "Mobile", 3_500, seed=5)
    assert added == 3_500
    numbers = _numbers(ctx)
    assert len(numbers) == 3_500
    for n in numbers:
        parsed = phonenumbers.parse(n)
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.region_code_for_number(parsed) == "IN"
    with ctx.store.transaction() as repo:
        assert repo.count_numbers(NumberStatus.AVAILABLE) == 3_500


def test_pipelined_generation_is_reproducible_and_grows_by_count(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory, "CHUNK", 1_000)
    inventory.generate_numbers(ctx, "SG", "Mobile", 2_500, seed=9)
    first = _numbers(ctx)
    # The same seed draws the same numbers again: all are known, so fresh
    # ones replace them and the inventory still grows by the count.
    assert inventory.generate_numbers(ctx, "SG", "Mobile", 2_500, seed=9) == 2_500
    both = _numbers(ctx)
    assert first < both
    assert len(both) == 5_000


def test_bad_arguments_fail_at_once_before_any_worker_starts(ctx: Context) -> None:
    with pytest.raises(BadRequest, match="not a region of IN"):
        inventory.generate_numbers(ctx, "IN", "Landline", 500_000, region="ZZ")
    assert _numbers(ctx) == set()
