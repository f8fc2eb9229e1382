"""Number lifecycle on both stores: aging after release, the lazy return to sale,
buy-back by the last owner, the audit trail, and the upgrade of an existing database."""

from __future__ import annotations

import threading
from importlib import resources

import pytest
from yoyo import get_backend, read_migrations

from exophone.config import DEFAULT_AGING_PERIOD, Settings, parse_duration
from exophone.domain.errors import BadRequest, NotFound, NumberUnavailable
from exophone.domain.model import Caller, Changes, EventKind, NumberStatus
from exophone.domain.numbers import NumberType
from exophone.service import accounts, inventory, lifecycle, numbers
from exophone.service.context import Context
from exophone.store import open_store
from exophone.testing.clock import ControlledClock
from tests.conftest import World, spec

NUMBER = "+911123456701"
SECOND = 1_000_000
START = 1_767_225_600_000_000  # 2026-01-01 00:00:00 UTC


@pytest.fixture
def clock(world: World) -> ControlledClock:
    """A frozen clock the test moves by hand, in the world's context."""
    c = ControlledClock()
    c.freeze(START)
    world.ctx.clock = c
    return c


def _period_us(ctx: Context) -> int:
    return ctx.settings.aging_period * SECOND


def _for_sale(ctx: Context) -> list[str]:
    return [n.phone_number for n in numbers.search(ctx, "IN", "Landline", limit=100)]


def _status(ctx: Context, number: str = NUMBER) -> NumberStatus:
    with ctx.store.transaction() as repo:
        found = repo.lifecycle(number)
    assert found is not None
    return found.status


def _counts(ctx: Context) -> dict[str, int]:
    counts = dict.fromkeys(("available", "owned", "aging"), 0)
    for *_, status, count in inventory.stats(ctx):
        counts[status] += count
    return counts


# -- the aging period -------------------------------------------------------


def test_default_aging_period_is_a_day_and_can_be_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().aging_period == DEFAULT_AGING_PERIOD == 86_400
    monkeypatch.setenv("EXOPHONE_AGING_PERIOD", "30m")
    assert Settings.from_env().aging_period == 1800
    assert Settings.from_env(aging_period=0).aging_period == 0
    monkeypatch.setenv("EXOPHONE_AGING_PERIOD", "soon")
    with pytest.raises(ValueError, match="invalid duration"):
        Settings.from_env()
    with pytest.raises(ValueError, match="aging period"):
        Settings(aging_period=-1)
    with pytest.raises(ValueError, match="aging period"):
        Settings(aging_period=3651 * 86_400)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("90", 90), ("90s", 90), ("30m", 1800), ("24h", 86_400), ("7d", 604_800),
     (" 2H ", 7200)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "-1", "1w", "1.5h", "1hh", "1 h", "9" * 13])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_released_number_ages_then_returns_to_sale(world: World, clock: ControlledClock) -> None:
    ctx = world.ctx
    numbers.buy(ctx, "acme", NUMBER)
    numbers.release(ctx, "acme", NUMBER)
    with ctx.store.transaction() as repo:
        state = repo.lifecycle(NUMBER)
    assert state is not None
    assert (state.status, state.last_owner, state.account_sid, state.sid) == (
        NumberStatus.AGING, "acme", None, None,
    )  # fmt: skip
    assert state.aging_until == START + _period_us(ctx)
    assert NUMBER not in _for_sale(ctx)

    clock.advance(_period_us(ctx) - SECOND)  # one second early: still aging
    assert NUMBER not in _for_sale(ctx)
    assert _status(ctx) is NumberStatus.AGING

    clock.advance(SECOND)  # the deadline: back on sale, without any job
    assert NUMBER in _for_sale(ctx)
    assert _status(ctx) is NumberStatus.AVAILABLE
    bought = numbers.buy(ctx, "other", NUMBER)
    assert bought.account_sid == "other"


def test_countries_and_stats_return_due_numbers_too(world: World, clock: ControlledClock) -> None:
    ctx = world.ctx
    for n in ("+60323856789", "+60323856790"):  # every Malaysian number
        numbers.buy(ctx, "acme", n)
        numbers.release(ctx, "acme", n)
    assert numbers.countries(ctx) == ["IN"]
    assert _counts(ctx) == {"available": len(world.numbers) - 2, "owned": 0, "aging": 2}
    clock.advance(_period_us(ctx))
    assert numbers.countries(ctx) == ["IN", "MY"]
    clock.advance(SECOND)
    numbers.buy(ctx, "acme", "+60323856789")
    numbers.release(ctx, "acme", "+60323856789")
    clock.advance(_period_us(ctx))
    assert _counts(ctx) == {"available": len(world.numbers), "owned": 0, "aging": 0}


def test_last_owner_may_buy_back_during_aging(world: World, clock: ControlledClock) -> None:
    ctx = world.ctx
    first = numbers.buy(ctx, "acme", NUMBER, voice_url="https://flows.example/a")
    numbers.release(ctx, "acme", NUMBER)
    clock.advance(60 * SECOND)
    again = numbers.buy(ctx, "acme", "01123456701", friendly_name="Back")
    assert again.status is NumberStatus.OWNED and again.account_sid == "acme"
    assert again.sid != first.sid
    assert (again.friendly_name, again.voice_url) == ("Back", None)  # a purchase like any other
    assert again.date_created == START + 60 * SECOND
    with ctx.store.transaction() as repo:
        state = repo.lifecycle(NUMBER)
    assert state is not None and state.aging_until is None
    events = [e.event for e in lifecycle.history(ctx, NUMBER).events]
    assert events[-1] is EventKind.RECLAIMED


def test_others_get_409_during_aging(world: World, clock: ControlledClock) -> None:
    ctx = world.ctx
    numbers.buy(ctx, "acme", NUMBER)
    numbers.release(ctx, "acme", NUMBER)
    with pytest.raises(NumberUnavailable, match="is not for sale"):
        numbers.buy(ctx, "other", NUMBER)
    clock.advance(_period_us(ctx) - SECOND)
    with pytest.raises(NumberUnavailable):
        numbers.buy(ctx, "other", NUMBER)
    clock.advance(SECOND)
    assert numbers.buy(ctx, "other", NUMBER).account_sid == "other"
    # Once aged out, the last owner has no claim left.
    numbers.release(ctx, "other", NUMBER)
    with pytest.raises(NumberUnavailable):
        numbers.buy(ctx, "acme", NUMBER)


def test_zero_aging_period_puts_a_release_on_sale_at_once(
    world: World, clock: ControlledClock
) -> None:
    ctx = world.ctx
    ctx.settings = ctx.settings.with_(aging_period=0)
    numbers.buy(ctx, "acme", NUMBER)
    numbers.release(ctx, "acme", NUMBER)
    assert _status(ctx) is NumberStatus.AVAILABLE
    assert NUMBER in _for_sale(ctx)
    assert numbers.buy(ctx, "other", NUMBER).account_sid == "other"
    released = lifecycle.history(ctx, NUMBER).events[2]
    assert released.event is EventKind.RELEASED
    assert released.details == {"aging_until": None}


def test_for_sale_owned_and_aging_add_up_to_the_inventory(
    world: World, clock: ControlledClock
) -> None:
    ctx = world.ctx
    for n in world.numbers[:6]:
        numbers.buy(ctx, "acme", n)
    for n in world.numbers[:3]:
        numbers.release(ctx, "acme", n)
    counts = _counts(ctx)
    assert counts == {"available": len(world.numbers) - 6, "owned": 3, "aging": 3}
    with ctx.store.transaction() as repo:
        assert sum(counts.values()) == repo.count_numbers()
        assert repo.count_numbers(NumberStatus.AGING) == 3


# -- the lazy return to sale ------------------------------------------------


def test_the_earliest_deadline_is_probed_at_most_once_a_second(
    world: World, clock: ControlledClock
) -> None:
    ctx = world.ctx
    ctx.settings = ctx.settings.with_(aging_period=1)
    numbers.buy(ctx, "acme", NUMBER)  # probes at START
    clock.advance(SECOND // 2)
    numbers.release(ctx, "acme", NUMBER)  # due at START + 1.5 s
    clock.advance(7 * SECOND // 10)
    assert lifecycle.return_due(ctx) == 0  # probes at START + 1.2 s: nothing due yet
    clock.advance(4 * SECOND // 10)  # due now, but the last probe was 0.4 s ago
    assert lifecycle.return_due(ctx) == 0
    assert _status(ctx) is NumberStatus.AGING
    clock.advance(6 * SECOND // 10)
    assert lifecycle.return_due(ctx) == 1
    assert _status(ctx) is NumberStatus.AVAILABLE


def test_sweeps_of_two_processes_return_each_number_once(
    world: World, clock: ControlledClock
) -> None:
    ctx = world.ctx
    for n in world.numbers:
        numbers.buy(ctx, "acme", n)
        numbers.release(ctx, "acme", n)
    clock.advance(_period_us(ctx))
    # Two stores on one database stand for two API processes.
    contexts = [
        Context(store=open_store(ctx.settings.database_url), settings=ctx.settings, clock=clock)
        for _ in range(2)
    ]
    barrier = threading.Barrier(len(contexts))
    returned: list[int] = []

    def sweep(c: Context) -> None:
        barrier.wait()
        returned.append(lifecycle.return_due(c))

    try:
        threads = [threading.Thread(target=sweep, args=(c,)) for c in contexts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for c in contexts:
            c.store.close()
    assert sum(returned) == len(world.numbers)
    assert _counts(ctx)["available"] == len(world.numbers)
    for n in world.numbers:
        aged = [e for e in lifecycle.history(ctx, n).events if e.event is EventKind.AGED_OUT]
        assert len(aged) == 1 and aged[0].account_sid == "acme"


# -- the audit trail --------------------------------------------------------


def test_history_records_every_change_with_who_and_which_request(
    world: World, clock: ControlledClock
) -> None:
    ctx = world.ctx
    caller = Caller(api_key=world.acme.key, request_id="req-1")
    bought = numbers.buy(ctx, "acme", NUMBER, caller=caller)
    clock.advance(SECOND)
    numbers.update(ctx, "acme", bought.sid or "", Changes(voice_url="https://f.example/v"),
                   Caller(world.acme.key, "req-2"))  # fmt: skip
    numbers.update(ctx, "acme", NUMBER, Changes())  # nothing changes: nothing recorded
    clock.advance(SECOND)
    numbers.release(ctx, "acme", NUMBER, Caller(world.acme.key, "req-3"))
    clock.advance(_period_us(ctx))
    numbers.buy(ctx, "other", NUMBER, caller=Caller(world.other.key, "req-4"))

    found = lifecycle.history(ctx, "01123456701")
    assert found.number.status is NumberStatus.OWNED
    assert found.number.account_sid == "other" and found.number.last_owner == "acme"
    rows = [(e.event, e.at, e.account_sid, e.api_key, e.request_id) for e in found.events]
    release_at = START + 2 * SECOND
    due = release_at + _period_us(ctx)
    assert rows == [
        (EventKind.IMPORTED, found.number.added_at, None, None, None),
        (EventKind.BOUGHT, START, "acme", world.acme.key, "req-1"),
        (EventKind.UPDATED, START + SECOND, "acme", world.acme.key, "req-2"),
        (EventKind.RELEASED, release_at, "acme", world.acme.key, "req-3"),
        (EventKind.AGED_OUT, due, "acme", None, None),
        (EventKind.BOUGHT, due, "other", world.other.key, "req-4"),
    ]
    assert found.events[1].sid == bought.sid == found.events[3].sid
    assert found.events[2].details == {"voice_url": "https://f.example/v"}
    assert found.events[3].details == {"aging_until": due}
    assert found.events[5].sid == found.number.sid != bought.sid


def test_history_of_a_number_never_sold_is_its_import(world: World) -> None:
    found = lifecycle.history(world.ctx, "+918023456701")
    assert found.number.status is NumberStatus.AVAILABLE
    assert [e.event for e in found.events] == [EventKind.IMPORTED]


def test_history_of_unknown_or_invalid_numbers(world: World) -> None:
    with pytest.raises(NotFound, match="not in the inventory"):
        lifecycle.history(world.ctx, "+918099999999")
    with pytest.raises(BadRequest):
        lifecycle.history(world.ctx, "not a number")


def test_a_failed_change_records_nothing(world: World) -> None:
    ctx = world.ctx
    numbers.buy(ctx, "acme", NUMBER)
    with pytest.raises(NumberUnavailable):
        numbers.buy(ctx, "other", NUMBER)
    with pytest.raises(NotFound):
        numbers.release(ctx, "other", NUMBER)
    assert [e.event for e in lifecycle.history(ctx, NUMBER).events] == [
        EventKind.IMPORTED, EventKind.BOUGHT,
    ]  # fmt: skip


# -- upgrading a database that predates the lifecycle -----------------------


def test_migration_keeps_every_number_of_an_existing_database(db_url: str) -> None:
    folder = str(resources.files("exophone.store") / "migrations")
    migrations = read_migrations(folder)
    store = open_store(db_url, migrate=False)
    backend = get_backend(store.yoyo_url())
    try:
        with backend.lock():
            older = migrations.filter(lambda m: m.id < "0005")
            backend.apply_migrations(backend.to_apply(older))
        ctx = Context(store=store, settings=Settings(database_url=db_url))
        accounts.create_account(ctx, "Acme Corp", "acme")
        kinds = [("+918023456701", "KA"), ("+918023456702", "KA"), ("+911123456701", "DL")]
        inventory.add_numbers(ctx, [spec(ctx, n, NumberType.LANDLINE, r) for n, r in kinds])
        with store.transaction(write=True) as repo:  # bought the way the old code did
            repo.cur.execute(  # no audit trail yet: that table comes with 0005
                repo._sql(
                    "UPDATE numbers SET status = 'owned', account_sid = ?, sid = ?,"
                    " friendly_name = 'x', date_created = 1, date_updated = 1"
                    " WHERE phone_number = ? AND status = 'available'"
                ),
                ("acme", "a" * 32, "+911123456701"),
            )
            assert repo.cur.rowcount == 1
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations))
    finally:
        backend.connection.close()
    assert _counts(ctx) == {"available": 2, "owned": 1, "aging": 0}
    assert numbers.get(ctx, "acme", "a" * 32).phone_number == "+911123456701"
    assert [n.phone_number for n in numbers.search(ctx, "IN", "Landline", region="KA")] == [
        "+918023456701", "+918023456702",
    ]  # fmt: skip
    numbers.release(ctx, "acme", "a" * 32)
    assert _status(ctx) is NumberStatus.AGING
    with pytest.raises(Exception, match=r"(?i)check"), store.transaction(write=True) as repo:
        repo._exec("UPDATE numbers SET status = 'aging', aging_until = NULL")
    store.close()
