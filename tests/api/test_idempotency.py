"""Idempotency-Key on POST and DELETE IncomingPhoneNumbers: replay, 422, 409, retention."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from exophone.domain.errors import Conflict, ServiceUnavailable, Unprocessable
from exophone.domain.model import NumberStatus
from exophone.service import accounts, idempotency, numbers
from exophone.service.context import Context
from exophone.store.postgres import MAX_REREADS
from tests.conftest import Api, World, basic

NUMBER = "+918023456701"
BUY = "/IncomingPhoneNumbers"


class StepClock:
    """A clock the test moves by hand."""

    def __init__(self, now_us: int = 1_700_000_000_000_000) -> None:
        self.now = now_us

    def now_us(self) -> int:
        return self.now


def keyed(key: str, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


def owned_count(ctx: Context) -> int:
    with ctx.store.transaction() as repo:
        return repo.count_numbers(NumberStatus.OWNED)


def rest_exception(resp: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = resp.json()["RestException"]
    assert body["Status"] == resp.status_code
    return body


# -- over HTTP ------------------------------------------------------------------------


def test_a_retried_purchase_replays_the_first_answer(api: Api) -> None:
    key = str(uuid.uuid4())
    first = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed(key))
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed(key))
    assert again.status_code == 200, again.text
    assert again.content == first.content  # same sid, same dates, byte for byte
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["content-type"].startswith("application/json")
    assert owned_count(api.world.ctx) == 1
    # Without the key, the same purchase is a new request and the number is taken.
    plain = api.post(api.path(BUY), data={"PhoneNumber": NUMBER})
    assert plain.status_code == 409


def test_the_body_may_come_in_another_media_type_or_order(api: Api) -> None:
    key = "order-42"
    form = {"PhoneNumber": NUMBER, "FriendlyName": "Sales"}
    first = api.post(api.path(BUY), data=form, headers=keyed(key))
    assert first.status_code == 200, first.text
    as_json = api.post(
        api.path(BUY), json={"FriendlyName": "Sales", "PhoneNumber": NUMBER}, headers=keyed(key)
    )
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["sid"] == first.json()["sid"]


def test_a_replay_does_nothing_more(api: Api) -> None:
    key = "buy-then-release"
    first = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed(key))
    sid = first.json()["sid"]
    assert api.delete(api.path(f"{BUY}/{sid}")).status_code == 202
    again = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed(key))
    assert (again.status_code, again.json()["sid"]) == (200, sid)
    assert owned_count(api.world.ctx) == 0  # not bought back
    assert api.get(api.path(f"{BUY}/{sid}")).status_code == 404


def test_same_key_with_another_body_answers_422(api: Api) -> None:
    key = "k-1"
    assert api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed(key)).is_success
    other = api.post(api.path(BUY), data={"PhoneNumber": "+918023456702"}, headers=keyed(key))
    assert other.status_code == 422
    assert "different request" in rest_exception(other)["Message"]
    renamed = api.post(
        api.path(BUY), data={"PhoneNumber": NUMBER, "FriendlyName": "x"}, headers=keyed(key)
    )
    assert renamed.status_code == 422
    assert owned_count(api.world.ctx) == 1


def test_same_key_on_another_method_or_path_answers_422(api: Api) -> None:
    key = "k-2"
    bought = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed(key))
    sid = bought.json()["sid"]
    release = api.delete(api.path(f"{BUY}/{sid}"), headers=keyed(key))
    assert release.status_code == 422
    assert owned_count(api.world.ctx) == 1  # not released, and no release logged:
    with api.world.ctx.store.transaction() as repo:  # the key failed the change whole
        assert [e.event.value for e in repo.events(NUMBER)] == ["bought"]


def test_keys_belong_to_their_account(api: Api) -> None:
    key = "shared-key"
    mine = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed(key))
    theirs = api.post(
        api.path(BUY, sid="other"),
        data={"PhoneNumber": "+918023456702"},
        headers=keyed(key),
        creds=api.world.other,
    )
    assert (mine.status_code, theirs.status_code) == (200, 200), theirs.text
    assert theirs.json()["account_sid"] == "other"
    assert owned_count(api.world.ctx) == 2


def test_error_answers_are_replayed_too(api: Api) -> None:
    api.post(
        api.path(BUY, sid="other"), data={"PhoneNumber": NUMBER}, creds=api.world.other
    ).raise_for_status()
    key = "taken"
    first = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed(key))
    assert first.status_code == 409
    again = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed(key))
    assert (again.status_code, again.content) == (409, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_retried_release_replays_202(api: Api) -> None:
    sid = api.buy(NUMBER)["sid"]
    key = "release-1"
    first = api.delete(api.path(f"{BUY}/{sid}"), headers=keyed(key))
    assert first.status_code == 202
    again = api.delete(api.path(f"{BUY}/{sid}"), headers=keyed(key))
    assert (again.status_code, again.content) == (202, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    # Without the key the number is simply not ours any more.
    assert api.delete(api.path(f"{BUY}/{sid}")).status_code == 404


def test_a_retry_while_the_first_runs_answers_409(api: Api) -> None:
    ctx = api.world.ctx
    path = api.path(BUY)
    digest = idempotency.fingerprint("POST", path, {"PhoneNumber": NUMBER})
    claim = idempotency.begin(ctx, "acme", "slow", digest)  # the first request, still running
    assert isinstance(claim, idempotency.Claim)
    busy = api.post(path, data={"PhoneNumber": NUMBER}, headers=keyed("slow"))
    assert busy.status_code == 409
    assert "still in progress" in rest_exception(busy)["Message"]
    assert busy.headers["Retry-After"] == "1"  # worth retrying, unlike a number not for sale
    assert owned_count(ctx) == 0
    assert idempotency.finish(ctx, claim, 201, '{"done": true}')
    done = api.post(path, data={"PhoneNumber": NUMBER}, headers=keyed("slow"))
    assert (done.status_code, done.json()) == (201, {"done": True})


def test_a_retry_to_the_same_process_while_the_first_runs_answers_409(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    if api.mode != "http":
        pytest.skip("holding a request mid-way needs the real HTTP server")
    store = api.world.ctx.store
    write, entered, go_on = store.write, threading.Event(), threading.Event()

    async def held_write(fn: Any, *args: Any, **kwargs: Any) -> Any:
        """The first keyed purchase waits (without blocking the server) until told."""
        if fn is numbers.buy and "claim" in kwargs and not entered.is_set():
            entered.set()
            while not go_on.is_set():
                await asyncio.sleep(0.005)
        return await write(fn, *args, **kwargs)

    monkeypatch.setattr(store, "write", held_write)
    path = api.path(BUY)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(api.post, path, data={"PhoneNumber": NUMBER}, headers=keyed("held"))
        assert entered.wait(10)
        busy = api.post(path, data={"PhoneNumber": NUMBER}, headers=keyed("held"))
        other = api.post(path, data={"PhoneNumber": "+918023456702"}, headers=keyed("held"))
        go_on.set()
        done = first.result(timeout=30)
    for refused in (busy, other):
        assert refused.status_code == 409
        assert "still in progress" in rest_exception(refused)["Message"]
        assert refused.headers["Retry-After"] == "1"
    assert done.status_code == 200, done.text
    # The 409s were not recorded: the retry now gets the first answer.
    again = api.post(path, data={"PhoneNumber": NUMBER}, headers=keyed("held"))
    assert (again.status_code, again.json()) == (200, done.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert owned_count(api.world.ctx) == 1
    assert api.world.ctx.keys_running == set()


@dataclass
class Writes:
    """The units of work a request opened for writing, and the first word of each
    statement they sent."""

    opened: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)


@pytest.fixture
def writes(api: Api, monkeypatch: pytest.MonkeyPatch) -> Writes:
    store = api.world.ctx.store
    seen = Writes()
    transaction, statements = store.transaction, store.statements

    class Recorded:
        def __init__(self, cur: Any) -> None:
            self.cur = cur

        def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
            seen.sent.append(sql.split()[0])
            return self.cur.execute(sql, *args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.cur, name)

    @contextmanager
    def recorded(kind: str, opener: Any) -> Iterator[Any]:
        seen.opened.append(kind)
        with opener() as repo:
            repo.cur = Recorded(repo.cur)
            yield repo

    def counted_transaction(*, write: bool = False) -> Any:
        if not write:
            return transaction()
        return recorded("transaction", lambda: transaction(write=True))

    monkeypatch.setattr(store, "transaction", counted_transaction)
    monkeypatch.setattr(store, "statements", lambda: recorded("statements", statements))
    return seen


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_keyed_change_commits_once(api: Api, writes: Writes, method: str) -> None:
    """A new key is recorded with its answer in the purchase's or release's own change,
    so a keyed one commits once, as one without a key does: one write transaction on
    SQLite; on PostgreSQL a read, then one statement that makes the change, logs its
    event and records the key, with no transaction to open and commit around it."""
    if method == "DELETE":
        assert api.buy(NUMBER)["phone_number"] == NUMBER
        writes.opened.clear()
        writes.sent.clear()
    path = api.path(BUY) if method == "POST" else api.path(f"{BUY}/{NUMBER}")
    data = {"PhoneNumber": NUMBER} if method == "POST" else None
    resp = api.request(method, path, data=data, headers=keyed("one-commit"))
    assert resp.status_code == (200 if method == "POST" else 202), resp.text
    store = api.world.ctx.store
    if store.dialect == "sqlite":
        assert writes.opened == ["statements", "transaction"]  # statements() is a transaction
    else:
        assert writes.opened == ["statements"]
        assert writes.sent == ["SELECT", "WITH"]
    with store.transaction() as repo:
        held = repo.get_idempotency_key("acme", "one-commit")
        events = repo.events(NUMBER)
    digest = idempotency.fingerprint(method, path, data or {})
    assert held is not None and (held[0], held[2], held[3]) == (digest, resp.status_code, resp.text)
    assert events[-1].event.value == ("bought" if method == "POST" else "released")
    if method == "POST":
        # The answer, made before the purchase on PostgreSQL, is the number as bought.
        assert api.get(api.path(f"{BUY}/{NUMBER}")).json() == resp.json()


def test_a_keyed_buy_back_records_its_answer(api: Api) -> None:
    """A number bought back while it ages from the account (a reclaim) records its key
    with the answer as a purchase of a number for sale does."""
    assert api.buy(NUMBER)["phone_number"] == NUMBER
    assert api.delete(api.path(f"{BUY}/{NUMBER}")).status_code == 202
    back = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed("back"))
    assert back.status_code == 200, back.text
    assert api.get(api.path(f"{BUY}/{NUMBER}")).json() == back.json()
    again = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed("back"))
    assert (again.status_code, again.content) == (200, back.content)
    assert again.headers["Idempotent-Replayed"] == "true"


def interfere(ctx: Context, monkeypatch: pytest.MonkeyPatch, times: int) -> list[str]:
    """Change the number from another connection right after each of the first ``times``
    reads a keyed purchase makes of it; returns those reads as they come."""
    reads: list[str] = []
    statements = ctx.store.statements

    class Interfering:
        def __init__(self, cur: Any) -> None:
            self.cur = cur

        def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
            done = self.cur.execute(sql, *args, **kwargs)
            if "xmin" in sql and sql.startswith("SELECT"):
                reads.append(sql)
                if len(reads) <= times:  # another connection changes the number
                    with ctx.store.transaction(write=True) as other:
                        other.cur.execute(
                            "UPDATE numbers SET rental_price = rental_price + 7"
                            " WHERE phone_number = %s",
                            (NUMBER,),
                        )
            return done

        def __getattr__(self, name: str) -> Any:
            return getattr(self.cur, name)

    @contextmanager
    def interfered() -> Iterator[Any]:
        with statements() as repo:
            repo.cur = Interfering(repo.cur)
            yield repo

    monkeypatch.setattr(ctx.store, "statements", interfered)
    return reads


def test_a_number_changed_after_it_was_read_is_read_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL makes a keyed purchase's answer from the number as read, and buys only
    if the row is still that version: a number changed in between (a new price from an
    import) is read again, and the answer recorded is the number as bought."""
    ctx = world.ctx
    if ctx.store.dialect != "postgresql":
        pytest.skip("SQLite reads and buys in one write transaction")
    with ctx.store.transaction() as repo:
        number = repo.get_number(NUMBER)
    assert number is not None
    reads = interfere(ctx, monkeypatch, times=1)
    claim = idempotency.new_claim(ctx, "acme", "changed", "d")
    bought = numbers.buy(
        ctx, "acme", NUMBER, claim=claim, answer=lambda n: f"{n.rental_price} {n.sid}"
    )
    assert len(reads) == 2
    assert bought.rental_price == number.rental_price + 7
    with ctx.store.transaction() as repo:
        held = repo.get_idempotency_key("acme", "changed")
        assert repo.get_number(NUMBER) == bought
    assert held is not None and held[3] == f"{number.rental_price + 7} {bought.sid}"


def test_a_number_that_keeps_changing_gives_up_with_503(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reads again are bounded: a number changed after every read (a stream of
    imports) ends the purchase with a 503 to retry, having bought and recorded nothing."""
    ctx = world.ctx
    if ctx.store.dialect != "postgresql":
        pytest.skip("SQLite reads and buys in one write transaction")
    reads = interfere(ctx, monkeypatch, times=10_000)
    claim = idempotency.new_claim(ctx, "acme", "changing", "d")
    with pytest.raises(ServiceUnavailable, match="kept changing"):
        numbers.buy(ctx, "acme", NUMBER, claim=claim, answer=lambda n: "{}")
    assert len(reads) == MAX_REREADS
    assert owned_count(ctx) == 0
    with ctx.store.transaction() as repo:
        assert repo.get_idempotency_key("acme", "changing") is None


def test_a_retry_that_could_buy_again_rolls_back_and_replays(api: Api) -> None:
    """A retry whose purchase would succeed again (the number went back on sale since)
    finds its key held when it records it: the purchase rolls back, the first answer
    is replayed, and the number stays for sale."""
    ctx = api.world.ctx
    ctx.settings = ctx.settings.with_(aging_period=0)  # released numbers are for sale at once
    first = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed("again"))
    assert first.status_code == 200, first.text
    assert api.delete(api.path(f"{BUY}/{NUMBER}")).status_code == 202
    again = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed("again"))
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert owned_count(ctx) == 0
    with ctx.store.transaction() as repo:
        number = repo.get_number(NUMBER)
    assert number is not None and number.status == NumberStatus.AVAILABLE


def test_a_failing_retry_with_another_body_answers_422(api: Api) -> None:
    """A retry that fails before its change (no PhoneNumber) still meets the key's first
    request: another body answers 422, the same body replays the first answer."""
    first = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed("k-body"))
    assert first.status_code == 200, first.text
    other = api.post(api.path(BUY), data={"FriendlyName": "x"}, headers=keyed("k-body"))
    assert other.status_code == 422
    assert "different request" in rest_exception(other)["Message"]
    failed = api.post(api.path(BUY), data={"FriendlyName": "x"}, headers=keyed("k-fail"))
    assert failed.status_code == 400
    again = api.post(api.path(BUY), data={"FriendlyName": "x"}, headers=keyed("k-fail"))
    assert (again.status_code, again.content) == (400, failed.content)
    assert again.headers["Idempotent-Replayed"] == "true"


def test_recording_a_new_key_purges_expired_ones(world: World, clock: StepClock) -> None:
    ctx = world.ctx
    for i in range(3):
        claim = idempotency.new_claim(ctx, "acme", f"old-{i}", "d")
        assert idempotency.finish(ctx, claim, 200, "{}")
    clock.now += idempotency.RETENTION_US + 1
    claim = idempotency.new_claim(ctx, "other", "new", "d")
    with ctx.store.transaction(write=True) as repo:
        assert idempotency.record(repo, claim, 200, "{}")
    with ctx.store.transaction() as repo:
        held = [k for k in ("old-0", "old-1", "old-2") if repo.get_idempotency_key("acme", k)]
        assert held == []
        assert repo.get_idempotency_key("other", "new") is not None
    with pytest.raises(idempotency.KeyHeld), ctx.store.transaction(write=True) as repo:
        idempotency.record(repo, claim, 201, "[]")  # held now: the caller rolls back


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "naïve".encode()])
def test_unusable_keys_answer_400(api: Api, key: str | bytes) -> None:
    resp = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers={"Idempotency-Key": key})
    assert resp.status_code == 400
    assert "Idempotency-Key" in rest_exception(resp)["Message"]
    assert owned_count(api.world.ctx) == 0


def test_a_key_needs_valid_credentials_first(api: Api) -> None:
    resp = api.post(
        api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed("k"), creds=api.world.other
    )
    assert resp.status_code == 403
    with api.world.ctx.store.transaction() as repo:
        assert repo.get_idempotency_key("acme", "k") is None
        assert repo.get_idempotency_key("other", "k") is None


def test_an_unexpected_failure_gives_the_key_up(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from exophone.service import numbers

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    with monkeypatch.context() as patch:
        patch.setattr(numbers, "buy", broken)
        failed = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed("k-500"))
    assert failed.status_code == 500
    retried = api.post(api.path(BUY), data={"PhoneNumber": NUMBER}, headers=keyed("k-500"))
    assert retried.status_code == 200, retried.text
    assert owned_count(api.world.ctx) == 1


def test_concurrent_retries_buy_once(api: Api) -> None:
    if api.mode != "http":
        pytest.skip("concurrency needs the real HTTP server")
    headers = {"Authorization": basic(api.world.acme), **keyed("burst")}

    def attempt(_: int) -> httpx.Response:
        return httpx.post(
            f"{api.base_url}{api.path(BUY)}",
            data={"PhoneNumber": NUMBER},
            headers=headers,
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(attempt, range(32)))
    assert {r.status_code for r in answers} <= {200, 409}
    sids = {r.json()["sid"] for r in answers if r.status_code == 200}
    assert len(sids) == 1  # every 200 is the one purchase, replayed
    busy = [r for r in answers if r.status_code == 409]
    assert all("still in progress" in rest_exception(r)["Message"] for r in busy)
    assert owned_count(api.world.ctx) == 1


# -- the service: retention and abandoned attempts ----------------------------------------


@pytest.fixture
def clock(world: World) -> StepClock:
    step = StepClock()
    world.ctx.clock = step
    return step


def test_keys_are_kept_24_hours_then_forgotten(world: World, clock: StepClock) -> None:
    ctx = world.ctx
    claim = idempotency.begin(ctx, "acme", "day", "digest-1")
    assert isinstance(claim, idempotency.Claim)
    idempotency.finish(ctx, claim, 200, "{}")
    clock.now += idempotency.RETENTION_US - 1
    with pytest.raises(Unprocessable):
        idempotency.begin(ctx, "acme", "day", "digest-2")
    assert idempotency.begin(ctx, "acme", "day", "digest-1") == idempotency.Replay(200, "{}")
    clock.now += 2
    fresh = idempotency.begin(ctx, "acme", "day", "digest-2")
    assert isinstance(fresh, idempotency.Claim)


def test_an_expired_key_the_purge_missed_starts_afresh(
    world: World, clock: StepClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = world.ctx
    monkeypatch.setattr(idempotency, "PURGE_BATCH", 0)  # the purge reaches nothing
    claim = idempotency.begin(ctx, "acme", "old", "digest-1")
    assert isinstance(claim, idempotency.Claim)
    idempotency.finish(ctx, claim, 200, "{}")
    clock.now += idempotency.RETENTION_US + 1
    fresh = idempotency.begin(ctx, "acme", "old", "digest-2")
    assert isinstance(fresh, idempotency.Claim) and fresh.locked_at == clock.now
    assert idempotency.finish(ctx, fresh, 201, "[]")
    assert idempotency.begin(ctx, "acme", "old", "digest-2") == idempotency.Replay(201, "[]")


def test_taking_a_key_purges_expired_ones(world: World, clock: StepClock) -> None:
    ctx = world.ctx
    for i in range(5):
        claim = idempotency.begin(ctx, "acme", f"old-{i}", "d")
        assert isinstance(claim, idempotency.Claim)
        idempotency.finish(ctx, claim, 200, "{}")
    clock.now += idempotency.RETENTION_US + 1
    idempotency.begin(ctx, "other", "new", "d")
    with ctx.store.transaction() as repo:
        assert all(repo.get_idempotency_key("acme", f"old-{i}") is None for i in range(5))
        assert repo.get_idempotency_key("other", "new") is not None


def test_purge_forgets_only_expired_keys(world: World, clock: StepClock) -> None:
    ctx = world.ctx
    for i in range(7):
        idempotency.begin(ctx, "acme", f"k{i}", "d")
    clock.now += idempotency.RETENTION_US + 1
    idempotency.begin(ctx, "acme", "young", "d")
    # begin() purged them already; purge() finds what is left: nothing old.
    assert idempotency.purge(ctx, batch=3) == 0
    clock.now += idempotency.RETENTION_US + 1
    assert idempotency.purge(ctx, batch=3) == 1


def test_an_abandoned_attempt_is_taken_over_once_stale(world: World, clock: StepClock) -> None:
    ctx = world.ctx
    first = idempotency.begin(ctx, "acme", "crash", "d")  # its process dies here
    assert isinstance(first, idempotency.Claim)
    clock.now += idempotency.STALE_AFTER_US
    with pytest.raises(Conflict):
        idempotency.begin(ctx, "acme", "crash", "d")
    clock.now += 1
    second = idempotency.begin(ctx, "acme", "crash", "d")
    assert isinstance(second, idempotency.Claim) and second.locked_at > first.locked_at
    # The dead attempt can no longer record an answer; the live one can.
    assert not idempotency.finish(ctx, first, 200, "old")
    assert idempotency.finish(ctx, second, 200, "new")
    assert idempotency.begin(ctx, "acme", "crash", "d") == idempotency.Replay(200, "new")


def test_abandon_lets_the_next_attempt_run(world: World) -> None:
    ctx = world.ctx
    claim = idempotency.begin(ctx, "acme", "oops", "d")
    assert isinstance(claim, idempotency.Claim)
    idempotency.abandon(ctx, claim)
    assert isinstance(idempotency.begin(ctx, "acme", "oops", "d"), idempotency.Claim)


def test_fingerprints_ignore_parameter_order_only() -> None:
    a = idempotency.fingerprint("post", "/p", {"A": "1", "B": "2"})
    assert a == idempotency.fingerprint("POST", "/p", {"B": "2", "A": "1"})
    assert a != idempotency.fingerprint("POST", "/p", {"A": "1", "B": "3"})
    assert a != idempotency.fingerprint("POST", "/q", {"A": "1", "B": "2"})
    assert a != idempotency.fingerprint("DELETE", "/p", {"A": "1", "B": "2"})


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_the_answer_is_recorded_in_the_changes_own_transaction(
    api: Api, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """A purchase or release and the answer to its key commit together: no separate
    write is left to fail (or to be lost in a crash) between the change and its answer."""
    if method == "DELETE":
        assert api.buy(NUMBER)["phone_number"] == NUMBER

    def no_separate_write(*args: object, **kwargs: object) -> bool:
        raise AssertionError("the answer was recorded apart from the change")

    key = str(uuid.uuid4())
    path = api.path(BUY) if method == "POST" else api.path(f"{BUY}/{NUMBER}")
    data = {"PhoneNumber": NUMBER} if method == "POST" else None
    with monkeypatch.context() as patch:
        patch.setattr(idempotency, "finish", no_separate_write)
        patch.setattr(idempotency, "begin", no_separate_write)
        first = api.request(method, path, data=data, headers=keyed(key))
    assert first.status_code in (200, 202), first.text
    with api.world.ctx.store.transaction() as repo:
        held = repo.get_idempotency_key("acme", key)
    assert held is not None
    assert (held[2], held[3]) == (first.status_code, first.text)
    again = api.request(method, path, data=data, headers=keyed(key))
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_request_takes_over_the_key_of_an_attempt_that_died(api: Api, clock: StepClock) -> None:
    """A key held without an answer (its process died mid-request) is found held by the
    retry; once the attempt is stale the retry takes the key over, buys, and its answer
    is the one replayed from then on."""
    ctx = api.world.ctx
    path = api.path(BUY)
    digest = idempotency.fingerprint("POST", path, {"PhoneNumber": NUMBER})
    assert isinstance(idempotency.begin(ctx, "acme", "died", digest), idempotency.Claim)
    busy = api.post(path, data={"PhoneNumber": NUMBER}, headers=keyed("died"))
    assert busy.status_code == 409
    clock.now += idempotency.STALE_AFTER_US + 1
    first = api.post(path, data={"PhoneNumber": NUMBER}, headers=keyed("died"))
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = api.post(path, data={"PhoneNumber": NUMBER}, headers=keyed("died"))
    assert (again.status_code, again.content) == (200, first.content)
    assert owned_count(ctx) == 1


def test_the_claim_commits_without_waiting_for_the_log(ctx: Context) -> None:
    """Taking a key in a commit of its own (``begin``, for a key a request found held)
    need not wait for the disk (lost in a crash, a retry starts afresh; the purchase's
    own commit makes it durable, the log being written in order). PostgreSQL:
    asynchronous commit for the take's transaction only; SQLite: WAL with
    synchronous=NORMAL, no commit waits."""
    accounts.create_account(ctx, "Acme", "acme")
    now = ctx.clock.now_us()
    with ctx.store.transaction(write=True) as repo:  # the take's own, made visible
        assert repo.take_idempotency_key(
            "acme", "key-1", "digest", now, purge_before=0, purge_limit=10
        )
        assert not repo.take_idempotency_key(
            "acme", "key-1", "digest", now, purge_before=0, purge_limit=10
        )
        if ctx.store.dialect == "postgresql":
            repo.cur.execute("SHOW synchronous_commit")
            assert repo.cur.fetchone()[0] == "off"
        else:
            repo.cur.execute("PRAGMA synchronous")
            assert repo.cur.fetchone()[0] == 1
    with ctx.store.transaction(write=True) as repo:  # the next transaction waits again
        if ctx.store.dialect == "postgresql":
            repo.cur.execute("SHOW synchronous_commit")
            assert repo.cur.fetchone()[0] == "on"


def test_taking_a_key_is_one_statement_that_purges_expired_keys(ctx: Context) -> None:
    """The common case of ``begin``: a new key is taken by one statement (one round trip
    on PostgreSQL, without BEGIN and COMMIT), which forgets a few expired keys too."""
    accounts.create_account(ctx, "Acme", "acme")
    now = ctx.clock.now_us()
    with ctx.store.statements() as repo:
        for i in range(3):
            assert repo.take_idempotency_key(
                "acme", f"old-{i}", "digest", now - 10 + i, purge_before=0, purge_limit=10
            )
    with ctx.store.statements() as repo:
        assert repo.take_idempotency_key(
            "acme", "new", "digest", now, purge_before=now - 5, purge_limit=2
        )
    with ctx.store.transaction() as repo:
        held = sorted(k for k in ("old-0", "old-1", "old-2", "new")
                      if repo.get_idempotency_key("acme", k) is not None)  # fmt: skip
    assert held == ["new", "old-2"]  # the two oldest went, the new one is held
    with pytest.raises(Conflict, match="still in progress"):
        idempotency.begin(ctx, "acme", "new", "digest")
