"""SQLite engine: one file in WAL mode, the embedded default.

Reads run inline on the calling thread (they take microseconds and never
block in WAL mode). A write (``write``) runs inline too when the file's write
lock is free: ``BEGIN IMMEDIATE`` on a connection without a busy timeout
either takes the lock at once or fails at once. Only then, when another
process is writing, does it go to this process's writer thread, which waits
for the lock, so writers from several processes queue on the file lock
instead of failing. It asks again every ``BUSY_POLL_SECONDS`` rather than
through SQLite's busy handler, whose sleeps grow to 25 ms and more: a lock
another process held for a fraction of a millisecond went unseen for tens
of them (purchases with two processes had a p99 over a second). Handing every
write to a thread cost two thread switches, and under load the event loop
held the GIL for up to its 5 ms switch interval while the writer waited.
Long writes (bulk loads, resets: ``write_bulk``) always go to the writer
thread, so the event loop never waits on them.

A serving store (``checkpoint_every``) moves WAL checkpoints off the request
path: its connections do not checkpoint when they commit (SQLite's default
makes every thousandth page's committer copy the WAL into the database and
wait for two fsyncs: two fifths of a purchase's time); a thread of its own
runs a passive checkpoint, which never blocks readers or writers, a few
times a second, without the GIL while it copies.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from functools import partial
from pathlib import Path
from typing import ParamSpec, TypeVar

from exophone.store.base import Store
from exophone.store.repository import Repository, register_grams
from exophone.store.threads import Workers

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("exophone.store")

BUSY_TIMEOUT_MS = 10_000
# How often a writer waiting for another process's write lock asks for it again.
BUSY_POLL_SECONDS = 0.0005
# Page cache a connection, in KiB. Bulk loads keep large B-trees in 64 MiB; an API
# process reads a few pages a request, which the operating system's file cache holds
# as well: with 64 MiB its RSS grew from 52 to 119 MB on a 10M-number inventory.
BULK_CACHE_KIB = 64 * 1024
SERVING_CACHE_KIB = 16 * 1024
# The write connections of a serving store: SQLite's default.
WRITE_CACHE_KIB = 2 * 1024
# A WAL this long (in pages: 16 MiB) starts over at the next checkpoint (``_checkpoint``).
RESTART_FRAMES = 4096
# The longest a restarting checkpoint holds writers off waiting for the lock and readers.
RESTART_WAIT_SECONDS = 0.01


class SQLiteStore(Store):
    dialect = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        checkpoint_every: float | None = None,
        cache_kib: int = BULK_CACHE_KIB,
    ) -> None:
        self.path = path
        self.cache_kib = cache_kib
        self.busy_timeout_ms = busy_timeout_ms
        self.checkpoint_every = checkpoint_every
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer = Workers(1, "exophone-sqlite-w")
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if checkpoint_every is not None:
            self._checkpointer = threading.Thread(
                target=self._checkpoint, name="exophone-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def yoyo_url(self) -> str:
        return f"sqlite:///{self.path}"

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection for reads, which waits out a busy file (rare in WAL
        mode). The first one puts the file in WAL mode."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open(self.busy_timeout_ms)
            conn.execute("PRAGMA journal_mode = WAL")
            self._local.conn = conn
        return conn

    def _write_connection(self) -> sqlite3.Connection:
        """This thread's connection for writes, without a busy timeout: ``BEGIN IMMEDIATE``
        takes the write lock or fails at once, and a write that waits asks again
        (``_begin_waiting``)."""
        conn: sqlite3.Connection | None = getattr(self._local, "write_conn", None)
        if conn is None:
            self._connection()  # WAL mode first
            # A serving store writes a few pages a request: SQLite's default cache holds
            # them, and an API process's memory stays that of its reads.
            cache = self.cache_kib if self.checkpoint_every is None else WRITE_CACHE_KIB
            conn = self._local.write_conn = self._open(0, cache)
        return conn

    def _open(self, busy_timeout_ms: int, cache_kib: int | None = None) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=busy_timeout_ms / 1000,
        )
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        register_grams(conn)
        conn.execute(f"PRAGMA cache_size = -{int(cache_kib or self.cache_kib)}")
        self._checkpoint_apart(conn)
        with self._lock:
            self._connections.append(conn)
        return conn

    def _checkpoint_apart(self, conn: sqlite3.Connection) -> None:
        if self.checkpoint_every is not None:
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpoint thread does it

    def _checkpoint(self) -> None:
        """The checkpoint thread: a passive checkpoint every ``checkpoint_every`` seconds,
        and a restart of the WAL once it holds ``RESTART_FRAMES``.
        A fresh connection each time (a fraction of a millisecond): one opened before
        the file was in WAL mode would never see its WAL.

        A passive checkpoint never blocks a writer, but under steady writes it never
        catches up with them either, and the WAL only starts over from its first frame
        when it has: it grew to 1.1 GB in ten seconds of purchases on a 31 MB
        database, each commit extending the file and each read searching a wal-index
        that long. So once the WAL is that large, the thread also runs a restarting
        checkpoint: it holds writers off while it copies the few frames the passive
        one left and waits for readers to leave the WAL, and the WAL starts over.
        Purchases ran 10-20% faster with it. It waits ``RESTART_WAIT_SECONDS`` at most
        (SQLite's busy handler): a long read (a scan of ten million rows) would
        otherwise hold every writer off until it ends; it tries again next time.

        Never at once again: SQLite counts the frames checkpointed since the WAL last
        started over, not those of this checkpoint, and under 1,000 purchases a second
        (14 frames each) a rule that ran again after 2,000 checkpointed frames kept
        this thread checkpointing without pause, 30% of the process's core; purchases
        ran 15-35% faster without it."""
        while not self._stop.wait(self.checkpoint_every):
            try:
                with closing(
                    sqlite3.connect(self.path, isolation_level=None, timeout=RESTART_WAIT_SECONDS)
                ) as conn:
                    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames >= RESTART_FRAMES:
                        conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            except sqlite3.Error as exc:  # a locked or vanished file: next time
                log.debug("checkpoint skipped: %s", exc)

    def transaction(self, *, write: bool = False) -> AbstractContextManager[Repository]:
        if write:
            return self._write_transaction(inline=getattr(self._local, "inline", False))
        # Reads run in autocommit mode: each statement sees a consistent
        # snapshot on its own, and skipping BEGIN/COMMIT halves their cost.
        return _Read(self._connection().cursor())

    @contextmanager
    def _write_transaction(self, *, inline: bool) -> Iterator[Repository]:
        conn = self._write_connection()
        cur = conn.cursor()
        if inline:
            cur.execute("BEGIN IMMEDIATE")  # "database is locked" at once if it is
        else:
            _begin_waiting(cur, self.busy_timeout_ms / 1000)
        try:
            yield Repository(cur)
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cur.close()

    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return fn(*args, **kwargs)

    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        call = partial(fn, *args, **kwargs)
        if not getattr(self._local, "inline", False):
            self._local.inline = True
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                # Another process holds the write lock: wait for it on the writer thread.
                # The call's transactions that hit the lock were rolled back whole.
            finally:
                self._local.inline = False
        return await self._writer.run(partial(self.retrying, call))

    async def write_bulk(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._writer.run(partial(self.retrying, partial(fn, *args, **kwargs)))

    def is_transient(self, exc: BaseException) -> bool:
        # SQLITE_BUSY ("database is locked") outlived the busy timeout.
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def ping(self) -> None:
        self._connection().execute("SELECT 1").fetchone()

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        self._writer.close()
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


class _Read:
    """A read's unit of work: a repository on a fresh cursor, closed at the end.

    A class rather than a generator-based context manager: reads are most
    requests, and this costs a third as much.
    """

    __slots__ = ("cur",)

    def __init__(self, cur: sqlite3.Cursor) -> None:
        self.cur = cur

    def __enter__(self) -> Repository:
        return Repository(self.cur)

    def __exit__(self, *exc: object) -> None:
        self.cur.close()


def _begin_waiting(cur: sqlite3.Cursor, timeout: float) -> None:
    """``BEGIN IMMEDIATE`` on a connection without a busy timeout, asked again every
    ``BUSY_POLL_SECONDS`` until ``timeout`` seconds have passed ("database is locked")."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cur.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(BUSY_POLL_SECONDS)
