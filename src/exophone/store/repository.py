"""All SQL of exophone, parameterised, written once for both engines.

Statements use ``?`` placeholders; the PostgreSQL engine rewrites them to
``%s`` once, when the repository class is prepared for it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import orjson

from exophone.domain.model import (
    Account,
    AccountStatus,
    ApiKey,
    AuthRecord,
    EventKind,
    KeyStatus,
    Number,
    NumberEvent,
    NumberLifecycle,
    NumberSpec,
    NumberStatus,
    Purchase,
    SearchQuery,
)
from exophone.domain.numbers import NumberType
from exophone.domain.patterns import BUCKETS, GRAM, Path, filter_tokens, grams_text
from exophone.store import bulk


class KeyHeld(Exception):
    """The account holds this Idempotency-Key already: the change it was recorded with
    must not stand (the transaction rolls back; a single statement made nothing)."""


@dataclass(frozen=True, slots=True)
class AnswerKey:
    """An Idempotency-Key to record with the answer to the change it came with, in the
    change's transaction: a new key (``held_since`` None), inserted after up to
    ``purge_limit`` keys created before ``purge_before`` are forgotten (KeyHeld if the
    account holds it), or the key an attempt took at ``held_since``, given its answer."""

    account_sid: str
    key: str
    fingerprint: str
    now: int
    status: int
    purge_before: int
    purge_limit: int
    held_since: int | None = None


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


NUMBER_COLUMNS = (
    "phone_number, national, country, number_type, region, sms, voice, vanity,"
    " one_time_price, rental_price, incoming_rate, incoming_pulse, currency,"
    " status, account_sid, sid, friendly_name, voice_url, sms_url, date_created, date_updated"
)
# SQLite hands a number's columns to Python as one JSON array: Python's sqlite3
# pays for every column of every row (a description tuple, a locked call per
# value), and one array of 21 values costs 40% less to read than 21 columns.
SQLITE_NUMBER_ROW = f"json_array({NUMBER_COLUMNS})"
# The expression of PostgreSQL's search index, numbers_tokens (migration 0007): a
# search must write it the same to be answered by the index.
PG_TOKENS_OF_NUMBERS = "exophone_tokens(national, number_type, country, region, sms, voice, vanity)"
# SQLite's search index holds the same tokens of a number's region and flags
# (patterns.number_filter_tokens) after its 4-grams (migration 0009): the text this
# expression gives for a row of numbers named ``n``, space first.
_PLACE = "' #' || n.country || '-' || n.number_type || '-' || n.region"
SQLITE_FILTER_TOKENS = (
    f"({_PLACE}"
    + "".join(
        f" || CASE WHEN n.{flag} THEN {_PLACE} || '+{flag}' ELSE '' END"
        for flag in ("sms", "voice", "vanity")
    )
    + ")"
)


# Enum members by value: a dictionary lookup costs a tenth of calling the Enum.
_TYPES = {t.value: t for t in NumberType}
_STATUSES = {s.value: s for s in NumberStatus}


def _prefix_end(prefix: str) -> str:
    """A bound above every number that starts with ``prefix`` and below every other
    number after it: the prefix and a letter. Digits sort before letters in every
    collation a database gives text: bytewise (SQLite's, PostgreSQL's "C") and the
    linguistic ones (a PostgreSQL database made with en_US or an ICU locale), which
    also weigh '+' and most punctuation as nothing, so the bound cannot be punctuation."""
    return prefix + "A"


def _owned_sql(row: str, column: str) -> str:
    return f"SELECT {row} FROM numbers WHERE {column} = ? AND account_sid = ?"


def _number(row: Sequence[Any]) -> Number:
    """A Number from the NUMBER_COLUMNS of a row, in their order (positional: a call
    with 21 keywords costs twice as much, for every row read)."""
    (phone_number, national, country, number_type, region, sms, voice, vanity,
     one_time_price, rental_price, incoming_rate, incoming_pulse, currency,
     status, account_sid, sid, friendly_name, voice_url, sms_url, date_created,
     date_updated) = row  # fmt: skip
    return Number(
        phone_number, national, country, _TYPES[number_type], region,
        bool(sms), bool(voice), bool(vanity),
        one_time_price, rental_price, incoming_rate, incoming_pulse, currency,
        _STATUSES[status], account_sid, sid, friendly_name, voice_url, sms_url,
        date_created, date_updated,
    )  # fmt: skip


@lru_cache(maxsize=512)
def _percent_placeholders(sql: str) -> str:
    return sql.replace("?", "%s")


class Repository:
    """SQL for accounts, keys and numbers, on one open transaction's cursor."""

    placeholder = "?"
    # What a statement selects to read whole numbers, and how a row becomes one.
    NUMBER_ROW = SQLITE_NUMBER_ROW

    @staticmethod
    def _to_number(row: Sequence[Any]) -> Number:
        return _number(orjson.loads(row[0]))

    def __init__(self, cursor: Cursor) -> None:
        self.cur = cursor

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else _percent_placeholders(sql)

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.cur.execute(self._sql(sql), params)

    def _exec_planned(self, sql: str, params: Sequence[Any]) -> Any:
        """``_exec`` for a statement whose best plan depends on its values (a search):
        planned for them each time it runs."""
        return self._exec(sql, params)

    # -- accounts and keys -------------------------------------------------

    def insert_account(self, account: Account) -> bool:
        """Insert an account; False if its SID is taken."""
        self._exec(
            "INSERT INTO accounts (sid, name, status, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (sid) DO NOTHING",
            (account.sid, account.name, account.status.value, account.created_at),
        )
        return bool(self.cur.rowcount == 1)

    def get_account(self, sid: str) -> Account | None:
        self._exec("SELECT sid, name, status, created_at FROM accounts WHERE sid = ?", (sid,))
        row = self.cur.fetchone()
        return None if row is None else Account(row[0], row[1], AccountStatus(row[2]), row[3])

    def list_accounts(self) -> list[Account]:
        self._exec("SELECT sid, name, status, created_at FROM accounts ORDER BY sid")
        return [Account(r[0], r[1], AccountStatus(r[2]), r[3]) for r in self.cur.fetchall()]

    def set_account_status(self, sid: str, status: AccountStatus) -> bool:
        self._exec("UPDATE accounts SET status = ? WHERE sid = ?", (status.value, sid))
        changed = self.cur.rowcount == 1
        if changed:
            self.bump_credentials_version()
        return changed

    def insert_api_key(
        self, key: str, account_sid: str, token_hash: str, label: str, now: int
    ) -> None:
        self._exec(
            "INSERT INTO api_keys (key, account_sid, token_hash, label, status, created_at)"
            " VALUES (?, ?, ?, ?, 'active', ?)",
            (key, account_sid, token_hash, label, now),
        )

    def list_api_keys(self, account_sid: str) -> list[ApiKey]:
        self._exec(
            "SELECT key, account_sid, label, status, created_at FROM api_keys"
            " WHERE account_sid = ? ORDER BY created_at, key",
            (account_sid,),
        )
        return [ApiKey(r[0], r[1], r[2], KeyStatus(r[3]), r[4]) for r in self.cur.fetchall()]

    def revoke_api_key(self, account_sid: str, key: str, now: int) -> bool:
        """Revoke an active key of the account; False if there is none such."""
        self._exec(
            "UPDATE api_keys SET status = 'revoked', revoked_at = ?"
            " WHERE key = ? AND account_sid = ? AND status = 'active'",
            (now, key, account_sid),
        )
        revoked = self.cur.rowcount == 1
        if revoked:
            self.bump_credentials_version()
        return revoked

    def credentials_version(self) -> int:
        """The counter that changes whenever good credentials may have turned bad."""
        self._exec("SELECT version FROM credentials_version WHERE id = 1")
        return int(self.cur.fetchone()[0])

    def bump_credentials_version(self) -> None:
        """Called by every statement that can refuse credentials that worked."""
        self._exec("UPDATE credentials_version SET version = version + 1 WHERE id = 1")

    def auth_record(self, key: str) -> AuthRecord | None:
        self._exec(
            "SELECT k.key, k.token_hash, k.status, a.sid, a.status"
            " FROM api_keys k JOIN accounts a ON a.sid = k.account_sid WHERE k.key = ?",
            (key,),
        )
        row = self.cur.fetchone()
        if row is None:
            return None
        return AuthRecord(row[0], row[1], KeyStatus(row[2]), row[3], AccountStatus(row[4]))

    # -- inventory ---------------------------------------------------------

    def insert_numbers(self, specs: Sequence[NumberSpec], now: int) -> int:
        """Add numbers for sale; numbers already known are left alone. Returns how many were new."""
        if not specs:
            return 0
        return self.insert_batch(bulk.encode_specs(specs), now)

    # The rows of a batch (exophone.store.bulk), read by the database itself.
    _BATCH_ROWS = "SELECT {} FROM json_each(?)".format(
        ", ".join(f"value ->> {i}" for i in range(len(bulk.COLUMNS)))
    )
    _INSERT_BATCH = (
        f"INSERT INTO numbers ({', '.join(bulk.COLUMNS)}, status, added_at)"
        f" SELECT *, 'available', ? FROM ({_BATCH_ROWS})"
        # WHERE true: SQLite's parser needs it before an upsert clause of INSERT ... SELECT.
        " WHERE true ON CONFLICT (phone_number) DO NOTHING"
    )

    def insert_batch(self, batch: bytes, now: int) -> int:
        """Add a batch of numbers for sale (``exophone.store.bulk``); numbers already known
        are left alone. Returns how many were new."""
        mark = self._search_mark()
        self._exec(self._INSERT_BATCH, (now, batch.decode()))
        added = int(self.cur.rowcount)
        if added:
            self._index_new_numbers(mark, batch)
        return added

    def statuses(self, phone_numbers: Sequence[str]) -> dict[str, NumberStatus]:
        """The status of each of these numbers that the inventory holds."""
        if not phone_numbers:
            return {}
        self._exec(self._STATUSES, (orjson.dumps(list(phone_numbers)).decode(),))
        return {r[0]: _STATUSES[r[1]] for r in self.cur.fetchall()}

    _STATUSES = (
        "SELECT phone_number, status FROM numbers"
        " WHERE phone_number IN (SELECT value FROM json_each(?))"
    )

    def update_for_sale(self, specs: Sequence[NumberSpec]) -> int:
        """Refresh the attributes of numbers still for sale; owned numbers are never touched."""
        if not specs:
            return 0
        return self.update_batch(bulk.encode_specs(specs))

    _UPDATE_BATCH = (
        "UPDATE numbers SET {} FROM ({}) AS j"
        " WHERE numbers.phone_number = j.phone_number AND numbers.status = 'available'"
    ).format(
        ", ".join(f"{c} = j.{c}" for c in bulk.COLUMNS[1:]),
        "SELECT {} FROM json_each(?)".format(
            ", ".join(f"value ->> {i} AS {c}" for i, c in enumerate(bulk.COLUMNS))
        ),
    )

    def update_batch(self, batch: bytes) -> int:
        """Refresh the numbers of a batch that are still for sale; returns how many."""
        text = batch.decode()
        if not self._sqlite:
            self._exec(self._UPDATE_BATCH, (text,))
            return int(self.cur.rowcount)
        # SQLite's contentless FTS5 index forgets a row only when told the tokens it
        # holds: those of the row before the update, whose region and flags may change.
        self._exec(self._REINDEX_BATCH.format("numbers_search, rowid", "'delete', "), (text,))
        self._exec(self._UPDATE_BATCH, (text,))
        updated = int(self.cur.rowcount)
        self._exec(self._REINDEX_BATCH.format("rowid", ""), (text,))
        return updated

    # The tokens of the for-sale numbers of a batch, as SQLite's search index holds them.
    _REINDEX_BATCH = (
        "INSERT INTO numbers_search ({}, grams) SELECT {}CAST(substr(n.phone_number, 2)"
        f" AS INTEGER), exophone_grams(n.national) || {SQLITE_FILTER_TOKENS} FROM numbers n"
        " WHERE n.status = 'available'"
        " AND n.phone_number IN (SELECT value ->> 0 FROM json_each(?))"
    )

    def count_numbers(self, status: NumberStatus | None = None) -> int:
        if status is None:
            self._exec("SELECT COUNT(*) FROM numbers")
        else:
            self._exec("SELECT COUNT(*) FROM numbers WHERE status = ?", (status.value,))
        return int(self.cur.fetchone()[0])

    def countries(self, status: NumberStatus | None = NumberStatus.AVAILABLE) -> list[str]:
        """Distinct countries, by a loose index scan: one index probe per country."""
        if status is None:
            self._exec(
                "WITH RECURSIVE c(country) AS ("
                " SELECT MIN(country) FROM numbers"
                " UNION ALL"
                " SELECT (SELECT MIN(n.country) FROM numbers n WHERE n.country > c.country)"
                " FROM c WHERE c.country IS NOT NULL)"
                " SELECT country FROM c WHERE country IS NOT NULL"
            )
        else:
            self._exec(
                "WITH RECURSIVE c(country) AS ("
                " SELECT MIN(country) FROM numbers WHERE status = ?"
                " UNION ALL"
                " SELECT (SELECT MIN(n.country) FROM numbers n"
                "         WHERE n.status = ? AND n.country > c.country)"
                " FROM c WHERE c.country IS NOT NULL)"
                " SELECT country FROM c WHERE country IS NOT NULL",
                (status.value, status.value),
            )
        return [r[0] for r in self.cur.fetchall()]

    def stats(self) -> list[tuple[str, str, str, str, int]]:
        """Counts of numbers by country, type, region and status."""
        self._exec(
            "SELECT country, number_type, region, status, COUNT(*) FROM numbers"
            " GROUP BY country, number_type, region, status"
            " ORDER BY country, number_type, region, status"
        )
        return [(r[0], r[1], r[2], r[3], int(r[4])) for r in self.cur.fetchall()]

    # Every status, so that the for-sale index (status, country, ...) answers with one
    # seek a status: "WHERE country = ?" alone walked it from its first entry, 5 ms
    # for India behind 50,000 British numbers, seconds for a country late in the alphabet.
    _HAS_COUNTRY = "SELECT 1 FROM numbers WHERE status IN ({}) AND country = ? LIMIT 1".format(
        ", ".join(f"'{s.value}'" for s in NumberStatus)
    )

    def has_country(self, country: str) -> bool:
        self._exec(self._HAS_COUNTRY, (country,))
        return self.cur.fetchone() is not None

    # -- search ------------------------------------------------------------
    #
    # A search follows one of three paths (exophone.domain.patterns.Path).
    # SCAN and PREFIX walk the for-sale index in number order and stop at the
    # page: numbers_for_sale(_region) carry national, sms, voice and vanity,
    # so the pattern and the flags are checked in the index and only matching
    # rows are read. INDEX looks the pattern's 4-gram tokens up, with the
    # tokens of the search's region and flags (patterns.filter_tokens), so the
    # index intersects them before any row is read: on SQLite in
    # numbers_search, a contentless FTS5 table whose rowid is the E.164 number
    # as an integer (so it answers in number order and can stop early), kept
    # in step by insert_numbers and update_for_sale, each match then checked
    # in the for-sale index before its row is read; on PostgreSQL in
    # numbers_tokens, a GIN index on exophone_tokens(...), a PL/pgSQL function
    # that computes patterns.bucketed (the tokens with a bucket letter, read a
    # few buckets at a time: _buckets) and the filter tokens. Every path
    # filters status and the other columns on the numbers table or its
    # for-sale index, so owned or aging numbers never show. A spread search
    # (q.start set) begins that far through the range of the slice's numbers
    # (SQLite's index: of the pattern's matches in the slice) and wraps around
    # to its start; on PostgreSQL's index, which answers the matches of a
    # bucket unordered, it starts at a random bucket and samples the matches.

    _SEARCH_ROW = "json_array({})".format(
        ", ".join("n." + c.strip() for c in NUMBER_COLUMNS.split(","))
    )

    @property
    def _sqlite(self) -> bool:
        return isinstance(self.cur, sqlite3.Cursor)

    def _search_mark(self) -> int:
        """Before an insert: the largest rowid of numbers (SQLite), to index what follows."""
        if not self._sqlite:
            return 0
        self._exec("SELECT COALESCE(MAX(rowid), 0) FROM numbers")
        return int(self.cur.fetchone()[0])

    def _index_new_numbers(self, mark: int, batch: bytes) -> None:
        """Add the numbers of ``batch`` inserted since ``mark`` to the SQLite search index.

        SQLite gives new rows rowids past the largest, so they are the rows
        past the mark; their 4-grams come with the batch, their region's and flags'
        tokens from their rows (``SQLITE_FILTER_TOKENS``). Inserting from a
        trigger instead makes FTS5 flush a segment per row, four times slower
        for a bulk load. PostgreSQL keeps its GIN index itself.
        """
        if not isinstance(self.cur, sqlite3.Cursor):
            return
        if mark == 0:
            # The table was empty: whatever the index holds is of numbers since deleted.
            self._exec("INSERT INTO numbers_search (numbers_search) VALUES ('delete-all')")
        self._exec(
            "INSERT INTO numbers_search (rowid, grams)"
            " SELECT CAST(substr(n.phone_number, 2) AS INTEGER), (j.value ->> ?)"
            f" || {SQLITE_FILTER_TOKENS}"
            " FROM json_each(?) j JOIN numbers n ON n.phone_number = j.value ->> 0"
            " WHERE n.rowid > ?",
            (len(bulk.COLUMNS), batch.decode(), mark),
        )

    def search(self, q: SearchQuery) -> list[Number]:
        """Numbers for sale matching every filter, at most ``q.limit``, ordered by number."""
        rows: list[Any] = []
        for sql, params in self._search_statements(q):
            self._exec_planned(sql, [*params, q.limit - len(rows)])
            rows += self.cur.fetchall()
            if len(rows) >= q.limit:
                break
        return sorted((self._to_number(r) for r in rows), key=lambda n: n.phone_number)

    def explain_search(self, q: SearchQuery) -> str:
        """The store's own plan of the first statement a search runs, one line per step."""
        # With nothing to find the search runs no page statement: explain the first one.
        sql, params = (
            self._search_statements(q)
            or [self._search_sql(q, "+0", "from", rowids=(0, _LAST_ROWID))]
        )[0]
        if self._sqlite:
            self._exec(f"EXPLAIN QUERY PLAN {sql}", [*params, q.limit])
            return "\n".join(str(r[3]) for r in self.cur.fetchall())
        self._exec(f"EXPLAIN {sql}", [*params, q.limit])
        return "\n".join(str(r[0]) for r in self.cur.fetchall())

    def _search_statements(self, q: SearchQuery) -> list[tuple[str, list[Any]]]:
        """The statements of a search, each wanting the rows still missing as a last parameter."""
        if q.plan.path is Path.INDEX and not self._sqlite:
            return [self._search_sql(q, seed, part, window) for seed, part, window in _buckets(q)]
        if q.start is None:
            return [self._search_sql(q, None, "all")]
        if q.plan.path is Path.INDEX:
            return self._sqlite_index_statements(q)
        pivot = self._search_pivot(q)
        if pivot is None:  # nothing to find: no number of the slice
            return []
        return [self._search_sql(q, pivot, "from"), self._search_sql(q, pivot, "before")]

    def _sqlite_index_statements(self, q: SearchQuery) -> list[tuple[str, list[Any]]]:
        """SQLite's index path in spread order: the pattern's matches from a pivot among
        them to the end of the query's slice, then from the slice's start to the pivot.

        FTS5 answers in rowid order, the number's digits as an integer, and seeks to a
        rowid: bounded by the slice's first and last numbers, a landline search never
        walks the matches among India's mobiles, which come after 2.5M landlines. The
        integers order like the numbers only among numbers of one length, so the walk
        is bounded only when the slice's first and last numbers are as long as each
        other; otherwise it spans the matches of every country and type."""
        low, high = self._slice_bounds(q)
        if low is None or high is None:
            return []  # no number of the slice
        ends = [int(low[1:]), int(high[1:])] if len(low) == len(high) else [0, _LAST_ROWID]
        match = _fts_match(q)
        first_or_last = (
            "SELECT rowid FROM numbers_search WHERE numbers_search MATCH ?"
            " AND rowid BETWEEN ? AND ? ORDER BY rowid{} LIMIT 1"
        )
        self._exec(
            f"SELECT ({first_or_last.format('')}), ({first_or_last.format(' DESC')})",
            [match, *ends, match, *ends],
        )
        first, last = self.cur.fetchone()
        if first is None:  # no match at all
            return []
        pivot = first + int((last - first) * (q.start or 0.0))
        return [
            self._search_sql(q, None, "from", rowids=(pivot, ends[1])),
            self._search_sql(q, None, "before", rowids=(ends[0], pivot - 1)),
        ]

    def _search_slice(self, q: SearchQuery, a: str) -> tuple[list[str], list[Any]]:
        """Conditions on numbers (alias ``a``) that choose the numbers for sale of the query."""
        where = [f"{a}status = 'available'", f"{a}country = ?", f"{a}number_type = ?"]
        params: list[Any] = [q.country, q.number_type.value]
        if q.region is not None:
            where.append(f"{a}region = ?")
            params.append(q.region)
        if q.plan.path is Path.PREFIX:
            where.append(f"{a}phone_number >= ? AND {a}phone_number < ?")
            params += [q.plan.prefix, _prefix_end(q.plan.prefix)]
        return where, params

    def _search_sql(
        self,
        q: SearchQuery,
        pivot: str | None,
        part: str,
        buckets: Sequence[str] = (),
        rowids: tuple[int, int] | None = None,
    ) -> tuple[str, list[Any]]:
        """One statement of a search: ``part`` is "all" (no pivot), "from" or "before" the
        pivot, or "shuffled" (the matches in an order that ``pivot`` seeds); ``buckets``,
        those of PostgreSQL's search index to look in; ``rowids``, the range of SQLite's
        search index to walk, in its order."""
        index = q.plan.path is Path.INDEX
        a = "n." if index and self._sqlite else ""
        where, params = self._search_slice(q, a)
        for wanted, column in (
            (q.sms_only, "sms"), (q.voice_only, "voice"), (q.vanity_only, "vanity")
        ):  # fmt: skip
            if wanted:  # the column itself, not "= ?": it chooses the partial vanity indexes
                where.append(f"{a}{column}")
        if q.plan.like is not None:
            if index and self._sqlite and q.plan.national_from:
                # Checked on the index entry (its rowid is the number's digits), before
                # the join reads the row: most entries of a pattern with more than its
                # four-digit run fail here, a row read each saved.
                where.append("substr(CAST(f.rowid AS TEXT), ?) LIKE ?")
                params += [q.plan.national_from, q.plan.like]
            else:
                where.append(f"{a}national LIKE ?")
                params.append(q.plan.like)
        if index and self._sqlite:
            # The FTS5 table answers in rowid order, the number as an integer: from the
            # pivot on, the first matches end the statement.
            where.insert(0, "numbers_search MATCH ?")
            params.insert(0, _fts_match(q))
            order = "n.phone_number"
            if rowids is not None:
                order = "f.rowid"
                where.append("f.rowid BETWEEN ? AND ?")
                params += rowids
            return (
                f"SELECT {self._SEARCH_ROW} FROM numbers_search f"
                f" CROSS JOIN numbers n INDEXED BY {_sqlite_for_sale_index(q)}"
                " ON n.phone_number = '+' || f.rowid"
                f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?",
                params,
            )
        order = "phone_number"
        if part == "shuffled":
            order = "md5(phone_number || ?)"
        elif pivot is not None:
            where.append("phone_number >= ?" if part == "from" else "phone_number < ?")
            params.append(pivot)
        if index:
            # Each token (gapped ones too), in any of the buckets, and every filter's token.
            tokens: list[list[str]] = [
                [t + b for b in buckets] for t in (*q.plan.tokens, *q.plan.gapped)
            ]
            where[:0] = [f"{PG_TOKENS_OF_NUMBERS} && ?"] * len(tokens)
            if filters := _filter_tokens(q):
                where.insert(len(tokens), f"{PG_TOKENS_OF_NUMBERS} @> ?")
                tokens.append(filters)
            params[:0] = tokens
        if part == "shuffled":
            params.append(pivot)
        condition = " AND ".join(where)
        if self._sqlite or index:
            sql = (
                f"SELECT {self.NUMBER_ROW} FROM numbers WHERE {condition} ORDER BY {order} LIMIT ?"
            )
            return sql, params
        # PostgreSQL checks INCLUDE columns in an index-only scan alone: find the
        # numbers there, then read their rows (SQLite defers the row read itself).
        return (
            f"SELECT {self.NUMBER_ROW} FROM numbers WHERE phone_number IN"
            f" (SELECT phone_number FROM numbers WHERE {condition} ORDER BY {order} LIMIT ?)",
            params,
        )

    def _search_pivot(self, q: SearchQuery) -> str | None:
        """The number ``q.start`` of the way through the range of the slice's numbers;
        None if the slice is empty."""
        low, high = self._slice_bounds(q)
        if low is None or high is None:
            return None
        return _between(low, high, q.start or 0.0)

    def _slice_bounds(self, q: SearchQuery) -> tuple[str | None, str | None]:
        """The first and the last number of the query's slice (``_search_slice``); Nones
        when it is empty."""
        if not self._sqlite:
            return self._postgres_slice_bounds(q)
        where, params = self._search_slice(q, "")
        condition = " AND ".join(where)
        self._exec(
            f"SELECT (SELECT MIN(phone_number) FROM numbers WHERE {condition}),"
            f" (SELECT MAX(phone_number) FROM numbers WHERE {condition})",
            [*params, *params],
        )
        low, high = self.cur.fetchone()
        return low, high

    def _postgres_slice_bounds(self, q: SearchQuery) -> tuple[str | None, str | None]:
        """``_slice_bounds`` on PostgreSQL, which turned MIN and MAX of the slice into a
        walk of the primary key filtered on the table (estimated a hair cheaper than the
        for-sale index when the slice is most of the table: at 10M numbers it read 2.4M
        landlines, 330 ms, before India's first mobile). Row comparisons on the for-sale
        index's leading columns, in its order, leave it the only index that answers:
        a seek at each end of the slice."""
        key = ["status", "country", "number_type"]
        values: list[Any] = ["available", q.country, q.number_type.value]
        if q.region is not None:
            key.append("region")
            values.append(q.region)
        prefix = q.plan.prefix if q.plan.path is Path.PREFIX else None
        columns, marks = ", ".join(key), ", ".join("?" * len(key))
        ends: list[str] = []
        for low_end in (True, False):
            if prefix is None:
                bound, bound_params = f"({columns}) {'>=' if low_end else '<='} ({marks})", values
            else:  # the prefix's numbers lie in between
                bound = f"({columns}, phone_number) {'>=' if low_end else '<'} ({marks}, ?)"
                bound_params = [*values, prefix if low_end else _prefix_end(prefix)]
            order = ", ".join(f"{c}{'' if low_end else ' DESC'}" for c in [*key, "phone_number"])
            self._exec(
                f"SELECT {columns}, phone_number FROM numbers WHERE {bound}"
                f" ORDER BY {order} LIMIT 1",
                bound_params,
            )
            row = self.cur.fetchone()
            phone = None if row is None or list(row[:-1]) != values else row[-1]
            if phone is None or (prefix is not None and not phone.startswith(prefix)):
                return None, None
            ends.append(phone)
        return ends[0], ends[1]

    # -- owned numbers -----------------------------------------------------

    def claim(
        self,
        purchase: Purchase,
        *,
        event: NumberEvent,
        reclaim: bool = False,
        key: AnswerKey | None = None,
        answer: Callable[[Number], str] | None = None,
    ) -> Number | None:
        """Compare-and-set purchase: succeeds only while the number is for sale, or,
        with ``reclaim``, only while it ages from this same account (a buy-back).
        A purchase made appends ``event`` to the number's audit trail and, with ``key``,
        records ``answer(number bought)`` for it (``record_answer``)."""
        update, params = self._claim_update(purchase, reclaim)
        row = self._claimed(f"{update} RETURNING {self.NUMBER_ROW}", params, event)
        if row is None:
            return None
        bought = self._to_number(row)
        if key is not None and answer is not None:
            self.record_answer(key, answer(bought))
        return bought

    @staticmethod
    def _claim_update(p: Purchase, reclaim: bool) -> tuple[str, list[Any]]:
        """``claim``'s guarded UPDATE, without RETURNING, and its parameters."""
        # A number for sale has no aging deadline; one bought back has its deadline cleared.
        if reclaim:
            clear, guard = "aging_until = NULL, ", "status = 'aging' AND last_owner = ?"
        else:
            clear, guard = "", "status = 'available'"
        return (
            f"UPDATE numbers SET status = 'owned', {clear}account_sid = ?, sid = ?,"
            " friendly_name = ?, voice_url = ?, sms_url = ?, date_created = ?, date_updated = ?"
            f" WHERE phone_number = ? AND {guard}",
            [p.account_sid, p.sid, p.friendly_name, p.voice_url, p.sms_url, p.at, p.at,
             p.phone_number, *((p.account_sid,) if reclaim else ())],
        )  # fmt: skip

    def _claimed(self, update: str, params: list[Any], event: NumberEvent) -> Any:
        """Run ``claim``'s guarded UPDATE and, if it bought, append ``event``; the row."""
        row = self._exec(update, params).fetchone()
        if row is not None:
            self.insert_events([event])
        return row

    def get_number(self, phone_number: str) -> Number | None:
        self._exec(f"SELECT {self.NUMBER_ROW} FROM numbers WHERE phone_number = ?", (phone_number,))
        row = self.cur.fetchone()
        return None if row is None else self._to_number(row)

    # Written out once: these run on every request that names an owned number.
    _OWNED_BY_SID = _owned_sql(NUMBER_ROW, "sid")
    _OWNED_BY_NUMBER = _owned_sql(NUMBER_ROW, "phone_number")

    def owned_by_sid(self, account_sid: str, sid: str) -> Number | None:
        return self._owned(self._OWNED_BY_SID, sid, account_sid)

    def owned_by_number(self, account_sid: str, phone_number: str) -> Number | None:
        return self._owned(self._OWNED_BY_NUMBER, phone_number, account_sid)

    def _owned(self, sql: str, value: str, account_sid: str) -> Number | None:
        row = self._exec(sql, (value, account_sid)).fetchone()
        return None if row is None else self._to_number(row)

    def update_owned(
        self, account_sid: str, sid: str, fields: dict[str, str | None], now: int
    ) -> Number | None:
        """Set some of friendly_name, voice_url, sms_url on a number the account owns."""
        allowed = {"friendly_name", "voice_url", "sms_url"}
        if not set(fields) <= allowed:
            raise ValueError(f"cannot update {sorted(set(fields) - allowed)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self._exec(
            f"UPDATE numbers SET {assignments}, date_updated = ?"
            f" WHERE sid = ? AND account_sid = ? RETURNING {self.NUMBER_ROW}",
            (*fields.values(), now, sid, account_sid),
        )
        row = self.cur.fetchone()
        return None if row is None else self._to_number(row)

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
        """Take a number from the account: aging until ``aging_until``, or for sale at once
        without one. False if the account does not own it. A release made appends
        ``event`` to the number's audit trail and, with ``key``, records ``answer`` for it
        (``record_answer``)."""
        update, params = self._release_update(account_sid, sid, aging_until)
        self._exec(update, params)
        if self.cur.rowcount != 1:
            return False
        if event is not None:
            self.insert_events([event])
        if key is not None and answer is not None:
            self.record_answer(key, answer)
        return True

    @staticmethod
    def _release_update(
        account_sid: str, sid: str, aging_until: int | None
    ) -> tuple[str, list[Any]]:
        """``release``'s guarded UPDATE and its parameters."""
        status = NumberStatus.AVAILABLE if aging_until is None else NumberStatus.AGING
        return (
            "UPDATE numbers SET status = ?, aging_until = ?, last_owner = account_sid,"
            " account_sid = NULL, sid = NULL, friendly_name = NULL, voice_url = NULL,"
            " sms_url = NULL, date_created = NULL, date_updated = NULL"
            " WHERE sid = ? AND account_sid = ?",
            [status.value, aging_until, sid, account_sid],
        )

    def earliest_aging(self) -> int | None:
        """The first deadline of the aging numbers, from the small partial index."""
        self._exec("SELECT MIN(aging_until) FROM numbers WHERE status = 'aging'")
        row = self.cur.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def return_due(self, now: int, limit: int) -> list[tuple[str, str | None]]:
        """Put up to ``limit`` numbers whose aging ended back on sale: (number, last owner).

        The lock on the one ``lifecycle_sweep`` row comes first, so sweeps of
        several processes run one after the other and never deadlock.
        """
        self._exec("UPDATE lifecycle_sweep SET swept_at = ? WHERE id = 1", (now,))
        self._exec(
            "UPDATE numbers SET status = 'available', aging_until = NULL"
            " WHERE phone_number IN (SELECT phone_number FROM numbers"
            "  WHERE status = 'aging' AND aging_until <= ? ORDER BY aging_until LIMIT ?)"
            " AND status = 'aging' AND aging_until <= ?"
            " RETURNING phone_number, last_owner",
            (now, limit, now),
        )
        return [(r[0], r[1]) for r in self.cur.fetchall()]

    def list_owned(self, account_sid: str, offset: int, limit: int) -> list[Number]:
        self._exec(
            f"SELECT {self.NUMBER_ROW} FROM numbers WHERE account_sid = ?"
            " ORDER BY date_created, sid LIMIT ? OFFSET ?",
            (account_sid, limit, offset),
        )
        return [self._to_number(r) for r in self.cur.fetchall()]

    # Columns the dashboard may sort an account's numbers by.
    BROWSE_ORDER = {
        "number": "phone_number",
        "name": "friendly_name",
        "country": "country",
        "type": "number_type",
        "region": "region",
        "bought": "date_created",
    }

    def browse_owned(
        self,
        account_sid: str,
        *,
        name_like: str | None,
        digits_like: str | None,
        order: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> tuple[list[Number], int]:
        """One page of an account's numbers, filtered and sorted, and how many match in all.

        ``name_like`` is a LIKE pattern over the lower-cased friendly name,
        ``digits_like`` one over the E.164 and national digits; both escape
        with a backslash. ``order`` is a key of ``BROWSE_ORDER``.
        """
        where = "account_sid = ? AND status = 'owned'"
        params: list[Any] = [account_sid]
        either = []
        if name_like is not None:
            either.append("LOWER(friendly_name) LIKE ? ESCAPE '\\'")
            params.append(name_like)
        if digits_like is not None:
            either.append("phone_number LIKE ? ESCAPE '\\' OR national LIKE ? ESCAPE '\\'")
            params += [digits_like, digits_like]
        if either:
            where += f" AND ({' OR '.join(either)})"
        self._exec(f"SELECT COUNT(*) FROM numbers WHERE {where}", params)
        total = int(self.cur.fetchone()[0])
        column = self.BROWSE_ORDER[order]
        direction = "DESC" if descending else "ASC"
        self._exec(
            f"SELECT {self.NUMBER_ROW} FROM numbers WHERE {where}"
            f" ORDER BY {column} {direction}, sid {direction} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [self._to_number(r) for r in self.cur.fetchall()], total

    def sales_by_day(self, since: int, offset: int) -> list[tuple[int, int]]:
        """(day number, numbers bought that day) for numbers still owned, bought since ``since``.

        Days are counted from the epoch after shifting times by ``offset``
        microseconds, so they are local days of the server's zone.
        """
        self._exec(
            "SELECT (date_created + ?) / 86400000000 AS day, COUNT(*) FROM numbers"
            " WHERE status = 'owned' AND date_created >= ? GROUP BY day ORDER BY day",
            (offset, since),
        )
        return [(int(r[0]), int(r[1])) for r in self.cur.fetchall()]

    # -- history -----------------------------------------------------------

    _INSERT_EVENT = (
        "INSERT INTO number_events (phone_number, at, event, account_sid, api_key,"
        " request_id, sid, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def insert_events(self, events: Sequence[NumberEvent]) -> None:
        """Append to the audit trail, in the transaction of the change itself."""
        rows = [self._event_row(e) for e in events]
        if len(rows) == 1:  # a request's one change: executemany costs psycopg a pipeline
            self._exec(self._INSERT_EVENT, rows[0])
        elif rows:
            self.cur.executemany(self._sql(self._INSERT_EVENT), rows)

    @staticmethod
    def _event_row(e: NumberEvent) -> tuple[Any, ...]:
        details = None if e.details is None else json.dumps(e.details, sort_keys=True)
        return (e.phone_number, e.at, e.event.value, e.account_sid, e.api_key, e.request_id,
                e.sid, details)  # fmt: skip

    def events(self, phone_number: str) -> list[NumberEvent]:
        """The recorded events of a number, oldest first."""
        self._exec(
            "SELECT phone_number, at, event, account_sid, api_key, request_id, sid, details"
            " FROM number_events WHERE phone_number = ? ORDER BY at, id",
            (phone_number,),
        )
        return [
            NumberEvent(r[0], int(r[1]), EventKind(r[2]), r[3], r[4], r[5], r[6],
                        None if r[7] is None else json.loads(r[7]))
            for r in self.cur.fetchall()
        ]  # fmt: skip

    def lifecycle(self, phone_number: str) -> NumberLifecycle | None:
        """Where a number stands in its lifecycle, or None if the inventory lacks it."""
        self._exec(
            "SELECT status, account_sid, sid, last_owner, aging_until, added_at FROM numbers"
            " WHERE phone_number = ?",
            (phone_number,),
        )
        r = self.cur.fetchone()
        if r is None:
            return None
        return NumberLifecycle(phone_number, NumberStatus(r[0]), r[1], r[2], r[3], r[4], r[5])

    # -- idempotency keys --------------------------------------------------
    # One row per (account, key): the request's fingerprint, when its current
    # attempt began (``locked_at``, also its lock token), and once it is done
    # the answer it gave. Used only by exophone.service.idempotency.

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
        """Forget up to ``purge_limit`` keys created before ``purge_before``, then take a new
        key, in progress; False if the account holds this key already.

        The take need not wait for the disk: lost in a crash, a retry starts afresh, and
        the request's own commit, which waits, makes it durable (the log is written in
        order). SQLite in WAL mode with synchronous=NORMAL never waits; PostgreSQL does
        it all in one statement with an asynchronous commit (``statements()``)."""
        self.purge_idempotency_keys(purge_before, purge_limit)
        return self.insert_idempotency_key(account_sid, key, fingerprint, now)

    _ANSWER_KEY = (
        "INSERT INTO idempotency_keys (account_sid, idem_key, fingerprint, created_at,"
        " locked_at, response_status, response_body) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account_sid, idem_key) DO NOTHING"
    )

    def answer_idempotency_key(
        self,
        account_sid: str,
        key: str,
        fingerprint: str,
        now: int,
        status: int,
        body: str,
        *,
        purge_before: int,
        purge_limit: int,
    ) -> bool:
        """Forget up to ``purge_limit`` keys created before ``purge_before``, then record a
        new key with its answer, in the transaction of the change it answers; False if the
        account holds this key already (the caller rolls back)."""
        self._purge_then(
            purge_before,
            purge_limit,
            self._ANSWER_KEY,
            (account_sid, key, fingerprint, now, now, status, body),
        )
        return bool(self.cur.rowcount == 1)

    def record_answer(self, key: AnswerKey, body: str) -> bool:
        """Record the answer to ``key`` in the transaction of the change it answers: a new
        key is inserted (KeyHeld if the account holds it: the caller rolls back); a held
        one is given its answer (False if another attempt took it over meanwhile)."""
        if key.held_since is not None:
            return self.finish_idempotency_key(
                key.account_sid, key.key, key.held_since, key.status, body
            )
        if not self.answer_idempotency_key(
            key.account_sid,
            key.key,
            key.fingerprint,
            key.now,
            key.status,
            body,
            purge_before=key.purge_before,
            purge_limit=key.purge_limit,
        ):
            raise KeyHeld(f"Idempotency-Key {key.key!r} is held already")
        return True

    def _purge_then(self, before: int, limit: int, sql: str, params: Sequence[Any]) -> None:
        """Forget up to ``limit`` keys created before ``before``, then run ``sql``."""
        self.purge_idempotency_keys(before, limit)
        self._exec(sql, params)

    def insert_idempotency_key(
        self, account_sid: str, key: str, fingerprint: str, now: int
    ) -> bool:
        """Take a new key, in progress; False if the account holds this key already."""
        self._exec(
            "INSERT INTO idempotency_keys (account_sid, idem_key, fingerprint, created_at,"
            " locked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_sid, idem_key) DO NOTHING",
            (account_sid, key, fingerprint, now, now),
        )
        return bool(self.cur.rowcount == 1)

    def get_idempotency_key(
        self, account_sid: str, key: str
    ) -> tuple[str, int, int | None, str | None] | None:
        """(fingerprint, locked_at, response status, response body) of a key, if held."""
        self._exec(
            "SELECT fingerprint, locked_at, response_status, response_body FROM idempotency_keys"
            " WHERE account_sid = ? AND idem_key = ?",
            (account_sid, key),
        )
        r = self.cur.fetchone()
        return None if r is None else (r[0], int(r[1]), r[2], r[3])

    def relock_idempotency_key(self, account_sid: str, key: str, locked_at: int, now: int) -> bool:
        """Take over an unfinished key whose attempt began at ``locked_at`` (compare-and-set)."""
        self._exec(
            "UPDATE idempotency_keys SET locked_at = ? WHERE account_sid = ? AND idem_key = ?"
            " AND locked_at = ? AND response_status IS NULL",
            (now, account_sid, key, locked_at),
        )
        return bool(self.cur.rowcount == 1)

    def finish_idempotency_key(
        self, account_sid: str, key: str, locked_at: int, status: int, body: str
    ) -> bool:
        """Record the answer of the attempt that holds the key; False if it lost the key."""
        self._exec(
            "UPDATE idempotency_keys SET response_status = ?, response_body = ?"
            " WHERE account_sid = ? AND idem_key = ? AND locked_at = ?"
            " AND response_status IS NULL",
            (status, body, account_sid, key, locked_at),
        )
        return bool(self.cur.rowcount == 1)

    def delete_idempotency_key(
        self, account_sid: str, key: str, *, locked_at: int | None = None, before: int | None = None
    ) -> bool:
        """Forget a key: the unfinished attempt that began at ``locked_at``, or one created
        before ``before``."""
        sql = "DELETE FROM idempotency_keys WHERE account_sid = ? AND idem_key = ?"
        params: list[Any] = [account_sid, key]
        if locked_at is not None:
            sql += " AND locked_at = ? AND response_status IS NULL"
            params.append(locked_at)
        if before is not None:
            sql += " AND created_at < ?"
            params.append(before)
        self._exec(sql, params)
        return bool(self.cur.rowcount == 1)

    def purge_idempotency_keys(self, before: int, limit: int) -> int:
        """Forget up to ``limit`` keys created before ``before``, oldest first."""
        self._exec(
            "DELETE FROM idempotency_keys WHERE (account_sid, idem_key) IN ("
            " SELECT account_sid, idem_key FROM idempotency_keys WHERE created_at < ?"
            " ORDER BY created_at LIMIT ?)",
            (before, limit),
        )
        return int(self.cur.rowcount)

    # -- rate limits and metrics -------------------------------------------

    def add_hits(self, account_sid: str, window_start: int, hits: int) -> int:
        """Add requests to an account's window of the rate limit; returns the window's total."""
        self._exec(
            "INSERT INTO rate_limits (account_sid, window_start, hits) VALUES (?, ?, ?)"
            " ON CONFLICT (account_sid, window_start)"
            " DO UPDATE SET hits = rate_limits.hits + excluded.hits RETURNING hits",
            (account_sid, window_start, hits),
        )
        return int(self.cur.fetchone()[0])

    def forget_hits_before(self, window_start: int) -> int:
        """Delete the rate-limit counters of windows that started before this one."""
        self._exec("DELETE FROM rate_limits WHERE window_start < ?", (window_start,))
        return int(self.cur.rowcount)

    def numbers_by_status(self) -> list[tuple[str, str, str, int]]:
        """(status, country, number_type, count) of the whole inventory, for /metrics."""
        self._exec(
            "SELECT status, country, number_type, COUNT(*) FROM numbers"
            " GROUP BY status, country, number_type"
        )
        return [(r[0], r[1], r[2], int(r[3])) for r in self.cur.fetchall()]


def _filter_tokens(q: SearchQuery) -> list[str]:
    """The tokens of a search's region and flags in the search index of either store
    (patterns.filter_tokens)."""
    return filter_tokens(q.country, q.number_type.value, q.region, sms=q.sms_only,
                         voice=q.voice_only, vanity=q.vanity_only)  # fmt: skip


# Past any E.164 number's digits as an integer (15 digits at most): SQLite's search
# index to its end.
_LAST_ROWID = 10**15


def _fts_match(q: SearchQuery) -> str:
    """SQLite's FTS5 query of an index search: the pattern's tokens and, in a region,
    those of the region and flags (``_filter_tokens``), all of them."""
    return " AND ".join(f'"{t}"' for t in (*q.plan.tokens, *_filter_tokens(q)))


def _sqlite_for_sale_index(q: SearchQuery) -> str:
    """The for-sale index that SQLite's index path checks each match of the pattern in.

    Its entry holds the status, region and flags, so a match that fails them costs one
    seek in a range of the index that all such searches share (a region's landlines:
    a few megabytes, soon in cache) instead of a seek in the primary key and another
    in the table; only the matches that pass read their rows.
    """
    name = "numbers_for_sale_vanity" if q.vanity_only else "numbers_for_sale"
    return name + ("_region" if q.region is not None else "")


def _buckets(q: SearchQuery) -> list[tuple[str | None, str, list[str]]]:
    """(seed, part, buckets) of each statement of a search of PostgreSQL's index.

    In sequential order one statement looks in every bucket. Spread, the
    search starts at a random bucket; four plain digits (one token, matched by
    one number in 1,400) look in one bucket, then one more, two, four and
    eight, until the page is full, so that only a few of their matches are
    read; a rarer pattern (more tokens, digits besides its token's, or a
    region's tokens) looks in all of them at once: it reads them all anyway,
    in one statement instead of five. Within a statement the matches come in
    an order the start seeds.
    """
    every = [chr(ord("A") + b) for b in range(BUCKETS)]
    if q.start is None:
        return [(None, "all", every)]
    first = int(q.start * BUCKETS) % BUCKETS
    ring = every[first:] + every[:first]
    common = (
        len(q.plan.tokens) == 1
        and q.plan.tokens[0].endswith("a")
        and sum(c.isdigit() for c in q.plan.like or "") == GRAM
        and not _filter_tokens(q)
    )
    seed = f"{q.start:.17f}"
    out: list[tuple[str | None, str, list[str]]] = []
    at = 0
    for size in (1, 1, 2, 4, 8) if common else (BUCKETS,):
        out.append((seed, "shuffled", ring[at : at + size]))
        at += size
    return out


def register_grams(conn: sqlite3.Connection) -> None:
    """Make ``exophone_grams(national)``, the search index's tokens, callable on a connection."""
    conn.create_function("exophone_grams", 1, grams_text, deterministic=True)


def _between(low: str, high: str, start: float) -> str:
    """The E.164 number ``start`` (0 to 1) of the way from ``low`` to ``high``."""
    a, b = low[1:], high[1:]
    width = max(len(a), len(b))
    first, last = int(a.ljust(width, "0")), int(b.ljust(width, "0"))
    return "+" + str(first + int((last - first) * start)).zfill(width)
