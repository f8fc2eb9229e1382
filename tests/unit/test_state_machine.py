"""A stateful property test: buy, update, list, get and release across accounts.

Hypothesis drives random sequences of use cases through the service layer on
a real store (SQLite and PostgreSQL) and, after every step, compares the
database with a model of who owns what. Each example gets its own accounts
and its own numbers from a shared, growing inventory, so one database serves
every example and the whole inventory must still add up.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from exophone.domain.errors import NotFound, NumberUnavailable
from exophone.domain.generate import GeneratedNumber, generate
from exophone.domain.model import Changes
from exophone.domain.numbers import NumberType
from exophone.service import accounts, inventory, numbers
from exophone.service.context import Context

ACCOUNTS = 3
NUMBERS = 5
STATUSES = {"available", "owned", "aging"}
NAMES = st.text(alphabet="abcdefghij", min_size=1, max_size=8)


@dataclass
class Slot:
    """What the model knows of one number."""

    phone_number: str
    owner: str | None = None
    sid: str | None = None
    name: str | None = None
    last_owner: str | None = None
    aging: bool = False


class Inventory:
    """Fresh numbers for each example, drawn from one seeded generator."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rng = random.Random(7)
        self.used: set[str] = set()

    def take(self, count: int) -> list[str]:
        """``count`` numbers never used before, added for sale."""
        fresh: list[GeneratedNumber] = []
        while len(fresh) < count:
            for g in generate("IN", NumberType.LANDLINE, count, rng=self.rng, region="KA"):
                if g.e164 not in self.used and len(fresh) < count:
                    self.used.add(g.e164)
                    fresh.append(g)
        assert inventory.add_numbers(self.ctx, inventory.priced(self.ctx, fresh)) == count
        return [g.e164 for g in fresh]


def default_name(phone_number: str) -> str:
    return "0" + phone_number[3:]


def machine(ctx: Context, stock: Inventory) -> type[RuleBasedStateMachine]:
    examples = itertools.count()

    class Market(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(examples)
            self.accounts = [f"sm{n}x{i}" for i in range(ACCOUNTS)]
            for sid in self.accounts:
                accounts.create_account(ctx, sid, sid)
            self.slots = [Slot(p) for p in stock.take(NUMBERS)]
            self.aging = ctx.settings.aging_period > 0

        @rule(
            a=st.integers(0, ACCOUNTS - 1),
            i=st.integers(0, NUMBERS - 1),
            name=st.none() | NAMES,
        )
        def buy(self, a: int, i: int, name: str | None) -> None:
            account, slot = self.accounts[a], self.slots[i]
            may = slot.owner is None and (not slot.aging or slot.last_owner == account)
            refused: str | None = None
            try:
                got = numbers.buy(ctx, account, slot.phone_number, friendly_name=name)
            except NumberUnavailable as exc:
                refused = exc.message
            if refused is not None:
                assert not may, f"{account} could not buy {slot}: {refused}"
                if slot.owner == account:
                    assert "already belongs to your account" in refused
                return
            assert may, f"{account} bought {slot}"
            assert (got.account_sid, got.phone_number) == (account, slot.phone_number)
            assert got.friendly_name == (name or default_name(slot.phone_number))
            assert got.sid is not None and got.sid != slot.sid
            slot.owner, slot.sid, slot.name, slot.aging = account, got.sid, got.friendly_name, False

        @rule(
            a=st.integers(0, ACCOUNTS - 1),
            i=st.integers(0, NUMBERS - 1),
            name=st.just("") | NAMES,
            by_sid=st.booleans(),
        )
        def update(self, a: int, i: int, name: str, by_sid: bool) -> None:
            account, slot = self.accounts[a], self.slots[i]
            ref = slot.sid if by_sid and slot.sid else slot.phone_number
            try:
                got = numbers.update(ctx, account, ref, Changes(friendly_name=name))
            except NotFound:
                assert slot.owner != account
                return
            assert slot.owner == account
            assert got.sid == slot.sid
            assert got.friendly_name == (name or default_name(slot.phone_number))
            slot.name = got.friendly_name

        @rule(a=st.integers(0, ACCOUNTS - 1), i=st.integers(0, NUMBERS - 1), by_sid=st.booleans())
        def release(self, a: int, i: int, by_sid: bool) -> None:
            account, slot = self.accounts[a], self.slots[i]
            ref = slot.sid if by_sid and slot.sid else slot.phone_number
            try:
                numbers.release(ctx, account, ref)
            except NotFound:
                assert slot.owner != account
                return
            assert slot.owner == account
            slot.owner = slot.sid = slot.name = None
            slot.last_owner, slot.aging = account, self.aging

        @rule(a=st.integers(0, ACCOUNTS - 1), size=st.integers(1, 3))
        def list_all(self, a: int, size: int) -> None:
            account = self.accounts[a]
            seen: dict[str, str | None] = {}
            for page in itertools.count():
                rows, more = numbers.list_owned(ctx, account, page, size)
                assert len(rows) <= size
                for row in rows:
                    assert row.phone_number not in seen
                    seen[row.phone_number] = row.sid
                if not more:
                    break
            assert seen == {s.phone_number: s.sid for s in self.slots if s.owner == account}

        @rule(a=st.integers(0, ACCOUNTS - 1), i=st.integers(0, NUMBERS - 1))
        def get(self, a: int, i: int) -> None:
            account, slot = self.accounts[a], self.slots[i]
            try:
                got = numbers.get(ctx, account, slot.phone_number)
            except NotFound:
                assert slot.owner != account
                return
            assert (got.account_sid, got.sid, got.friendly_name) == (account, slot.sid, slot.name)

        @invariant()
        def database_agrees(self) -> None:
            with ctx.store.transaction() as repo:
                for slot in self.slots:
                    row = repo.get_number(slot.phone_number)
                    assert row is not None
                    status = row.status.value
                    if slot.owner is not None:
                        assert status == "owned"
                        assert (row.account_sid, row.sid) == (slot.owner, slot.sid)
                        assert row.friendly_name == slot.name
                    else:
                        assert status == ("aging" if slot.aging else "available"), slot
                        assert row.account_sid is None and row.sid is None

        @invariant()
        def inventory_adds_up(self) -> None:
            with ctx.store.transaction() as repo:
                by_status: Counter[str] = Counter()
                for *_, status, count in repo.stats():
                    by_status[status] += count
                total = repo.count_numbers()
            assert set(by_status) <= STATUSES
            assert by_status["available"] + by_status["owned"] + by_status["aging"] == total
            sids = [s.sid for s in self.slots if s.sid is not None]
            assert len(sids) == len(set(sids))

    return Market


@pytest.mark.parametrize("aging_period", [0, 86400], ids=["resale-at-once", "aging"])
def test_market_state_machine(ctx: Context, aging_period: int) -> None:
    ctx.settings = ctx.settings.with_(aging_period=aging_period)
    run_state_machine_as_test(
        machine(ctx, Inventory(ctx)),
        settings=settings(
            max_examples=12,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
