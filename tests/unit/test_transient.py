"""Transient conflicts are retried inside the store, never answered as a 500.

Each test provokes a real conflict: a second SQLite connection holding the
write lock past the busy timeout, a PostgreSQL deadlock, a PostgreSQL
serialization failure.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from exophone.api import create_app
from exophone.config import Settings
from exophone.domain.errors import ServiceUnavailable
from exophone.domain.model import NumberStatus
from exophone.domain.numbers import NumberType
from exophone.service import accounts, inventory, numbers
from exophone.service.context import Context
from exophone.store import base, open_store
from exophone.store import sqlite as sqlite_engine
from exophone.store.sqlite import (
    BULK_CACHE_KIB,
    SERVING_CACHE_KIB,
    WRITE_CACHE_KIB,
    SQLiteStore,
)
from tests.conftest import POSTGRES_URL, ThreadServer, basic, spec

NUMBER = "+918023456701"
OTHER = "+918023456702"
# Short enough that the locks below outlive it.
BUSY_MS = 50


@pytest.fixture
def busy_sqlite(tmp_path: Path) -> Iterator[Context]:
    """A SQLite store with a 50 ms busy timeout, an account and two numbers."""
    path = tmp_path / "busy.db"
    open_store(f"sqlite:///{path}").close()  # migrated
    ctx = Context(
        store=SQLiteStore(path, busy_timeout_ms=BUSY_MS),
        # From the environment: the test suite turns the rate limiter off there.
        settings=Settings.from_env(database_url=f"sqlite:///{path}"),
    )
    accounts.create_account(ctx, "Acme", "acme")
    inventory.add_numbers(ctx, [spec(ctx, n, NumberType.LANDLINE, "KA") for n in (NUMBER, OTHER)])
    yield ctx
    ctx.store.close()


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another connection takes SQLite's write lock now and keeps it ``seconds``."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")

    def release() -> None:
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return thread


def sqlite_path(ctx: Context) -> Path:
    assert isinstance(ctx.store, SQLiteStore)
    return ctx.store.path


def test_the_conflict_is_real_without_the_retry(busy_sqlite: Context) -> None:
    holder = hold_write_lock(sqlite_path(busy_sqlite), 1.5)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        numbers.buy(busy_sqlite, "acme", NUMBER)  # called directly: no retry around it
    holder.join()


def test_sqlite_busy_is_retried(busy_sqlite: Context, caplog: pytest.LogCaptureFixture) -> None:
    # Held past the first attempt's busy timeout, not past every attempt and pause
    # between them (at least 0.45 s in all: RETRY_ATTEMPTS of BUSY_MS, and the pauses).
    holder = hold_write_lock(sqlite_path(busy_sqlite), 0.25)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="exophone.store"):
        bought = asyncio.run(busy_sqlite.store.write(numbers.buy, busy_sqlite, "acme", NUMBER))
    assert time.monotonic() - started >= 0.2  # it waited the lock out
    assert bought.account_sid == "acme"
    assert any("transient conflict" in r.getMessage() for r in caplog.records)
    holder.join()


def test_a_write_runs_on_the_event_loop_thread_while_the_lock_is_free(
    busy_sqlite: Context,
) -> None:
    seen: list[int] = []

    def buy() -> str:
        seen.append(threading.get_ident())
        return numbers.buy(busy_sqlite, "acme", NUMBER).phone_number

    async def run() -> str:
        return await busy_sqlite.store.write(buy)

    assert asyncio.run(run()) == NUMBER
    assert seen == [threading.get_ident()]  # inline: no hop to the writer thread


def test_a_write_that_finds_the_lock_taken_waits_off_the_event_loop(
    busy_sqlite: Context,
) -> None:
    """Another process holds the write lock: the write waits on the writer thread and
    the event loop goes on serving meanwhile."""
    holder = hold_write_lock(sqlite_path(busy_sqlite), 0.25)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def run() -> str:
        ticker = asyncio.create_task(tick())
        try:
            bought = await busy_sqlite.store.write(numbers.buy, busy_sqlite, "acme", NUMBER)
        finally:
            ticker.cancel()
        return bought.phone_number

    assert asyncio.run(run()) == NUMBER
    assert ticks >= 15  # the loop ran throughout the quarter-second wait
    holder.join()


def test_over_http_a_busy_database_is_not_a_500(busy_sqlite: Context) -> None:
    creds = accounts.create_key(busy_sqlite, "acme")
    with ThreadServer(create_app(busy_sqlite)) as url:
        holder = hold_write_lock(sqlite_path(busy_sqlite), 0.25)
        resp = httpx.post(
            f"{url}/v2_beta/Accounts/acme/IncomingPhoneNumbers",
            data={"PhoneNumber": NUMBER},
            headers={"Authorization": basic(creds)},
            timeout=30,
        )
        holder.join()
    assert resp.status_code == 200, resp.text


def test_a_conflict_that_outlasts_the_retries_answers_503(
    busy_sqlite: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "RETRY_ATTEMPTS", 2)
    creds = accounts.create_key(busy_sqlite, "acme")
    with ThreadServer(create_app(busy_sqlite)) as url:
        holder = hold_write_lock(sqlite_path(busy_sqlite), 1.5)
        resp = httpx.post(
            f"{url}/v2_beta/Accounts/acme/IncomingPhoneNumbers",
            data={"PhoneNumber": NUMBER},
            headers={"Authorization": basic(creds)},
            timeout=30,
        )
        holder.join()
    assert resp.status_code == 503
    assert resp.json()["RestException"]["Status"] == 503
    with busy_sqlite.store.transaction() as repo:
        assert repo.count_numbers(NumberStatus.OWNED) == 0


# -- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
def pg(db_url: str) -> Iterator[Context]:
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    accounts.create_account(ctx, "Acme", "acme")
    inventory.add_numbers(ctx, [spec(ctx, n, NumberType.LANDLINE, "KA") for n in (NUMBER, OTHER)])
    yield ctx
    ctx.store.close()


def _other_connection(db_url: str) -> psycopg.Connection[tuple[object, ...]]:
    assert POSTGRES_URL is not None
    schema = db_url.rsplit("schema=", 1)[1]
    return psycopg.connect(POSTGRES_URL, options=f"-c search_path={schema}")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_deadlock_is_retried(pg: Context, db_url: str) -> None:
    """Our unit of work locks A then B; another transaction locks B then A."""
    a_locked, b_locked = threading.Event(), threading.Event()
    attempts = 0

    def touch_a_then_b(ctx: Context) -> int:
        nonlocal attempts
        attempts += 1
        with ctx.store.transaction(write=True) as repo:
            # This side notices the deadlock first, so it is the one rolled back.
            repo.cur.execute("SET LOCAL deadlock_timeout = '50ms'")
            repo.cur.execute(
                "UPDATE numbers SET vanity = vanity WHERE phone_number = %s", (NUMBER,)
            )
            if attempts == 1:
                a_locked.set()
                assert b_locked.wait(10)
            repo.cur.execute("UPDATE numbers SET vanity = vanity WHERE phone_number = %s", (OTHER,))
        return attempts

    def other() -> None:
        with _other_connection(db_url) as conn:
            conn.execute("SET deadlock_timeout = '10s'")
            assert a_locked.wait(10)
            conn.execute("UPDATE numbers SET vanity = vanity WHERE phone_number = %s", (OTHER,))
            b_locked.set()
            conn.execute("UPDATE numbers SET vanity = vanity WHERE phone_number = %s", (NUMBER,))
            conn.commit()

    thread = threading.Thread(target=other)
    thread.start()
    with pytest.raises(psycopg.errors.DeadlockDetected):
        touch_a_then_b(pg)  # the same work without the retry fails
    a_locked.clear()
    b_locked.clear()
    thread.join()
    attempts = 0
    thread = threading.Thread(target=other)
    thread.start()
    assert asyncio.run(pg.store.write(touch_a_then_b, pg)) == 2
    thread.join()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_serialization_failure_is_retried(pg: Context, db_url: str) -> None:
    """A repeatable-read transaction whose row another one changed after its snapshot."""
    attempts = 0

    def rename(ctx: Context) -> None:
        nonlocal attempts
        attempts += 1
        with ctx.store.transaction(write=True) as repo:
            repo.cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            repo.cur.execute("SELECT region FROM numbers WHERE phone_number = %s", (NUMBER,))
            if attempts == 1:
                with _other_connection(db_url) as conn:
                    conn.execute(
                        "UPDATE numbers SET region = 'KA' WHERE phone_number = %s", (NUMBER,)
                    )
            repo.cur.execute("UPDATE numbers SET region = 'KA' WHERE phone_number = %s", (NUMBER,))

    asyncio.run(pg.store.write(rename, pg))
    assert attempts == 2


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_gives_up_with_503(
    pg: Context, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "RETRY_ATTEMPTS", 3)
    attempts = 0

    def always_conflicting(ctx: Context) -> None:
        nonlocal attempts
        attempts += 1
        with ctx.store.transaction(write=True) as repo:
            repo.cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            repo.cur.execute("SELECT region FROM numbers WHERE phone_number = %s", (NUMBER,))
            with _other_connection(db_url) as conn:
                conn.execute("UPDATE numbers SET region = 'KA' WHERE phone_number = %s", (NUMBER,))
            repo.cur.execute("UPDATE numbers SET region = 'KA' WHERE phone_number = %s", (NUMBER,))

    with pytest.raises(ServiceUnavailable):
        asyncio.run(pg.store.write(always_conflicting, pg))
    assert attempts == 3


def wal_copied(path: Path) -> bool:
    """Whether every frame of the WAL was copied into the database, read from the
    wal-index (the -shm file: mxFrame at byte 16, nBackfill at 96; sqlite.org/walformat)
    so that looking does not checkpoint."""
    shm = Path(f"{path}-shm").read_bytes()
    last_frame, copied = struct.unpack_from("=I", shm, 16)[0], struct.unpack_from("=I", shm, 96)[0]
    return last_frame > 0 and copied == last_frame


def test_a_serving_store_checkpoints_in_its_own_thread(tmp_path: Path) -> None:
    """Requests that commit never copy the WAL back (no fsync on the request path); the
    store's checkpoint thread does, within moments."""
    path = tmp_path / "serving.db"
    store = SQLiteStore(path, checkpoint_every=0.05)
    store.migrate()
    ctx = Context(store=store, settings=Settings(database_url=f"sqlite:///{path}"))
    try:
        with store.transaction(write=True) as repo:
            repo.cur.execute("PRAGMA wal_autocheckpoint")
            assert repo.cur.fetchone()[0] == 0  # committers leave the WAL alone
        accounts.create_account(ctx, "Acme", "acme")
        inventory.add_numbers(ctx, [spec(ctx, NUMBER, NumberType.LANDLINE, "KA")])
        deadline = time.monotonic() + 5
        while not wal_copied(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert wal_copied(path)  # everything committed is in the database file
    finally:
        store.close()
    assert store._checkpointer is not None and not store._checkpointer.is_alive()


def checkpointing_store(path: Path) -> SQLiteStore:
    """A migrated store that checkpoints every 20 ms, with the account "acme"."""
    store = SQLiteStore(path, checkpoint_every=0.02)
    store.migrate()
    accounts.create_account(Context(store=store, settings=Settings()), "Acme", "acme")
    return store


def test_the_wal_starts_over_under_steady_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A passive checkpoint never catches up with steady writes, and the WAL starts over
    only when one has: without a restarting checkpoint it grew by every commit (1.1 GB
    in ten seconds of purchases). The checkpoint thread restarts it once it is long."""
    monkeypatch.setattr(sqlite_engine, "RESTART_FRAMES", 128)
    path = tmp_path / "steady.db"
    store = checkpointing_store(path)
    largest, commits = 0, 0
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            with store.transaction(write=True) as repo:
                repo.add_hits("acme", commits, 1)  # a row and its index: a few pages
            commits += 1
            time.sleep(0.0002)  # as between requests: the checkpoint can take the lock
            if commits % 100 == 0:
                largest = max(largest, Path(f"{path}-wal").stat().st_size)
    finally:
        store.close()
    assert commits > 1_000
    # Without restarts the WAL holds about two pages a commit (9,000 after 4,300).
    assert largest < 4096 * commits // 3, f"{largest // 4096} pages after {commits} commits"


def test_a_long_read_does_not_hold_writers_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restarting checkpoint holds writers off while it waits for readers to leave
    the WAL: it gives up after RESTART_WAIT_SECONDS rather than wait out a long read."""
    monkeypatch.setattr(sqlite_engine, "RESTART_FRAMES", 16)
    path = tmp_path / "reader.db"
    store = checkpointing_store(path)
    for window in range(50):  # more than RESTART_FRAMES pages in the WAL
        with store.transaction(write=True) as repo:
            repo.add_hits("acme", window, 1)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM rate_limits").fetchone()  # a snapshot in the WAL
    slowest, window = 0.0, 50
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            started = time.monotonic()
            with store.transaction(write=True) as repo:
                repo.add_hits("acme", window, 1)
            slowest = max(slowest, time.monotonic() - started)
            window += 1
            time.sleep(0.002)
    finally:
        reader.execute("COMMIT")
        reader.close()
        store.close()
    assert slowest < 0.5, f"a write waited {slowest:.2f} s"


def test_a_serving_store_keeps_a_smaller_page_cache(tmp_path: Path) -> None:
    """An API process's RSS must not grow with the inventory: 16 MiB of page cache a
    connection when serving, 64 MiB for the bulk loads of the command line."""
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    for serving, kib, write_kib in (
        (True, SERVING_CACHE_KIB, WRITE_CACHE_KIB),  # a request writes a few pages
        (False, BULK_CACHE_KIB, BULK_CACHE_KIB),
    ):
        store = open_store(url, serving=serving)
        try:
            with store.transaction() as repo:
                repo.cur.execute("PRAGMA cache_size")
                assert repo.cur.fetchone()[0] == -kib
            with store.transaction(write=True) as repo:
                repo.cur.execute("PRAGMA cache_size")
                assert repo.cur.fetchone()[0] == -write_kib
        finally:
            store.close()
    assert WRITE_CACHE_KIB < SERVING_CACHE_KIB < BULK_CACHE_KIB
