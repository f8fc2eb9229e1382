"""PostgreSQL engine: psycopg 3 with a connection pool, for several API processes.

Blocking calls run on a thread pool as large as the connection pool, so the
event loop never waits on the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from exophone.domain.errors import BadRequest, ServiceUnavailable
from exophone.domain.model import Number, NumberEvent, NumberStatus, Purchase
from exophone.store import bulk
from exophone.store.base import Store
from exophone.store.repository import (
    NUMBER_COLUMNS,
    AnswerKey,
    KeyHeld,
    Repository,
    _number,
    _owned_sql,
)
from exophone.store.threads import Workers

SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
P = ParamSpec("P")
T = TypeVar("T")


def _split_schema(url: str) -> tuple[str, str | None]:
    """Take yoyo's ``?schema=name`` out of a URL: libpq does not know it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    if schema is not None and not SCHEMA_NAME.fullmatch(schema):
        raise BadRequest(f"Invalid schema name {schema!r} in the database URL")
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


# Reads of a number a keyed purchase makes, each after someone else changed it, before
# it gives up with a 503.
MAX_REREADS = 20
# A batch row's values (exophone.store.bulk) as the numbers columns' types.
_CASTS = {"sms": "boolean", "voice": "boolean", "vanity": "boolean", "incoming_pulse": "integer"}
_BATCH_VALUES = tuple(
    f"(e ->> {i})::{_CASTS.get(c, 'bigint' if c.endswith(('price', 'rate')) else 'text')}"
    for i, c in enumerate(bulk.COLUMNS)
)
assert len(_BATCH_VALUES) == len(bulk.COLUMNS)


class PgRepository(Repository):
    placeholder = "%s"
    # psycopg reads columns in C: plain columns are the cheaper way here.
    NUMBER_ROW = NUMBER_COLUMNS
    _OWNED_BY_SID = _owned_sql(NUMBER_COLUMNS, "sid")
    _OWNED_BY_NUMBER = _owned_sql(NUMBER_COLUMNS, "phone_number")

    @staticmethod
    def _to_number(row: Sequence[Any]) -> Number:
        return _number(row)

    def _exec_planned(self, sql: str, params: Sequence[Any]) -> Any:
        # Never prepared: psycopg prepares a statement run five times, and PostgreSQL
        # may then reuse a generic plan made without the values. For a search of the
        # GIN index that plan read the for-sale index instead: 1.1 s, not 6 ms.
        cur = cast(psycopg.Cursor[Any], self.cur)
        return cur.execute(self._sql(sql), params, prepare=False)

    # The event of a change of a number, inserted by the statement that makes the change
    # (``changed``, which returns the number's phone_number if it made it).
    _LOGGED = (
        "logged AS (INSERT INTO number_events"
        " (phone_number, at, event, account_sid, api_key, request_id, sid, details)"
        " SELECT c.phone_number, ?, ?, ?, ?, ?, ?, ? FROM changed c)"
    )

    def _claimed(self, update: str, params: list[Any], event: NumberEvent) -> Any:
        # The purchase and its event in one statement: one round trip, not two.
        return self._changed(update, params, event, None, None, self.NUMBER_ROW)

    def claim(
        self,
        purchase: Purchase,
        *,
        event: NumberEvent,
        reclaim: bool = False,
        key: AnswerKey | None = None,
        answer: Callable[[Number], str] | None = None,
    ) -> Number | None:
        """A keyed purchase is one statement too, with its event and its key's answer,
        so that it needs no transaction (BEGIN, the purchase, the key, COMMIT: four round
        trips, against two here). The answer is made beforehand, from the number as read
        and what the purchase sets; the purchase is made only if the row is still the
        version read (its ``xmin``), else it is read again."""
        if key is None or answer is None:
            return super().claim(purchase, event=event, reclaim=reclaim)
        update, params = self._claim_update(purchase, reclaim)
        p = purchase
        status = NumberStatus.AGING if reclaim else NumberStatus.AVAILABLE
        for _ in range(MAX_REREADS):
            seen = self._exec(
                f"SELECT {self.NUMBER_ROW}, last_owner, xmin::text FROM numbers"
                " WHERE phone_number = ?",
                (p.phone_number,),
            ).fetchone()
            if seen is None:
                return None
            number, last_owner, version = self._to_number(seen[:-2]), seen[-2], seen[-1]
            if number.status != status or (reclaim and last_owner != p.account_sid):
                return None
            bought = replace(
                number, status=NumberStatus.OWNED, account_sid=p.account_sid, sid=p.sid,
                friendly_name=p.friendly_name, voice_url=p.voice_url, sms_url=p.sms_url,
                date_created=p.at, date_updated=p.at,
            )  # fmt: skip
            made = self._changed(
                f"{update} AND xmin::text = ? RETURNING phone_number",
                [*params, version], event, key, answer(bought),
            )  # fmt: skip
            if made[0]:
                return bought
        # Each read again followed a change someone else committed to the number.
        raise ServiceUnavailable(
            f"{p.phone_number} kept changing while it was being bought; try again shortly"
        )

    def release(
        self,
        account_sid: str,
        sid: str,
        aging_until: int | None = None,
        *,
        event: NumberEvent | None = None,
        key: AnswerKey | None = None,
        answer: str | None = None,
    ) -> bool:
        """A release with its event and its key's answer is one statement as well."""
        update, params = self._release_update(account_sid, sid, aging_until)
        made = self._changed(f"{update} RETURNING phone_number", params, event, key, answer)
        return bool(made[0])

    def _changed(
        self,
        update: str,
        params: list[Any],
        event: NumberEvent | None,
        key: AnswerKey | None,
        answer: str | None,
        select: str = "count(*)",
    ) -> Any:
        """Run a guarded UPDATE (its RETURNING gives at least phone_number) with the
        event it logs and, with a key, the key's answer, as one statement; the row that
        ``select`` makes of what it changed (by default, how many numbers: 0 or 1). A
        key held already fails the whole statement: KeyHeld, and nothing is changed."""
        logged, event_params = "", list[Any]()
        if event is not None:
            logged, event_params = f", {self._LOGGED}", list(self._event_row(event)[1:])
        recorded, key_params = "", list[Any]()
        if key is not None and answer is not None:
            recorded, key_params = self._answered(key, answer)
        try:
            self._exec(
                f"WITH changed AS ({update}){logged}{recorded} SELECT {select} FROM changed",
                [*params, *event_params, *key_params],
            )
        except pg_errors.UniqueViolation as exc:
            if key is None or exc.diag.constraint_name != "idempotency_keys_pkey":
                raise
            raise KeyHeld(f"Idempotency-Key {key.key!r} is held already") from None
        return self.cur.fetchone()

    def _answered(self, key: AnswerKey, body: str) -> tuple[str, list[Any]]:
        """The common table expressions (after a comma) that record ``body`` for ``key``
        if ``changed`` changed the number, and their parameters: a new key is inserted
        without ON CONFLICT (a key held already fails the statement, change and all),
        after a few expired keys are purged; a held key is given its answer (as
        ``finish_idempotency_key``)."""
        if key.held_since is not None:
            return (
                ", recorded AS (UPDATE idempotency_keys SET response_status = ?,"
                " response_body = ? WHERE account_sid = ? AND idem_key = ? AND locked_at = ?"
                " AND response_status IS NULL AND EXISTS (SELECT FROM changed))",
                [key.status, body, key.account_sid, key.key, key.held_since],
            )
        return (
            f", {self._PURGED}, recorded AS (INSERT INTO idempotency_keys (account_sid,"
            " idem_key, fingerprint, created_at, locked_at, response_status, response_body)"
            " SELECT ?, ?, ?, ?, ?, ?, ? FROM changed)",
            [key.purge_before, key.purge_limit, key.account_sid, key.key, key.fingerprint,
             key.now, key.now, key.status, body],
        )  # fmt: skip

    # Up to LIMIT keys created before a time, oldest first, forgotten. Inside a
    # purchase's transaction the purged rows stay locked until it commits: SKIP LOCKED
    # leaves those another purchase is purging to it rather than wait for them.
    _PURGED = (
        "purged AS (DELETE FROM idempotency_keys WHERE (account_sid, idem_key) IN ("
        " SELECT account_sid, idem_key FROM idempotency_keys WHERE created_at < ?"
        " ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED))"
    )

    def take_idempotency_key(
        self,
        account_sid: str,
        key: str,
        fingerprint: str,
        now: int,
        *,
        purge_before: int,
        purge_limit: int,
    ) -> bool:
        # One statement, so one round trip on an autocommit connection; set_config(...,
        # true) holds until the end of its transaction, so its commit does not wait.
        self._exec(
            f"WITH {self._PURGED}, taken AS (INSERT INTO idempotency_keys"
            "  (account_sid, idem_key, fingerprint, created_at, locked_at) VALUES (?, ?, ?, ?, ?)"
            "  ON CONFLICT (account_sid, idem_key) DO NOTHING RETURNING 1)"
            " SELECT set_config('synchronous_commit', 'off', true),"
            " (SELECT count(*) FROM taken)",
            (purge_before, purge_limit, account_sid, key, fingerprint, now, now),
        )
        return bool(self.cur.fetchone()[1] == 1)

    def _purge_then(self, before: int, limit: int, sql: str, params: Sequence[Any]) -> None:
        # One statement, in the purchase's transaction.
        self._exec(f"WITH {self._PURGED} {sql}", (before, limit, *params))

    _INSERT_BATCH = (
        f"INSERT INTO numbers ({', '.join(bulk.COLUMNS)}, status, added_at)"
        f" SELECT {', '.join(_BATCH_VALUES)}, 'available', ?"
        " FROM json_array_elements(?::json) e ON CONFLICT (phone_number) DO NOTHING"
    )
    _UPDATE_BATCH = (
        "UPDATE numbers SET {} FROM (SELECT {} FROM json_array_elements(?::json) e) AS j"
        " WHERE numbers.phone_number = j.phone_number AND numbers.status = 'available'"
    ).format(
        ", ".join(f"{c} = j.{c}" for c in bulk.COLUMNS[1:]),
        ", ".join(f"{v} AS {c}" for v, c in zip(_BATCH_VALUES, bulk.COLUMNS, strict=True)),
    )
    _STATUSES = (
        "SELECT phone_number, status FROM numbers"
        " WHERE phone_number IN (SELECT json_array_elements_text(?::json))"
    )


class PostgresStore(Store):
    dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        conninfo, schema = _split_schema(self.url)
        # Neither JIT compilation nor parallel workers: both cost milliseconds to start,
        # more than the API's statements take to run (test_search_plan.py).
        options = "-c timezone=UTC -c jit=off -c max_parallel_workers_per_gather=0"
        if schema:
            options += f" -c search_path={schema}"
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            # Autocommit: a read is its statements alone, with no BEGIN and COMMIT to
            # wait for (under READ COMMITTED each statement took its own snapshot
            # anyway); a write opens its transaction explicitly.
            kwargs={"autocommit": True, "options": options},
            open=True,
        )
        self._threads = Workers(pool_size, "exophone-pg")

    def yoyo_url(self) -> str:
        return self.url.replace("postgresql://", "postgresql+psycopg://", 1).replace(
            "postgres://", "postgresql+psycopg://", 1
        )

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Repository]:
        # Row-level guards in the SQL (UPDATE ... WHERE status = ...) make
        # writes race-safe under READ COMMITTED; no table lock is needed.
        with self.pool.connection() as conn:
            if not write:
                with conn.cursor() as cur:
                    yield PgRepository(cur)
                return
            with conn.transaction(), conn.cursor() as cur:
                yield PgRepository(cur)

    @contextmanager
    def statements(self) -> Iterator[Repository]:
        with self.pool.connection() as conn, conn.cursor() as cur:
            yield PgRepository(cur)

    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._threads.run(partial(self.retrying, partial(fn, *args, **kwargs)))

    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._threads.run(partial(self.retrying, partial(fn, *args, **kwargs)))

    def is_transient(self, exc: BaseException) -> bool:
        return isinstance(exc, pg_errors.SerializationFailure | pg_errors.DeadlockDetected)

    def ping(self) -> None:
        with self.pool.connection() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self._threads.close()
        self.pool.close()
