"""All SQL of exophone, parameterised, written once for both engines.

Statements use ``?`` placeholders; the PostgreSQL engine rewrites them to
``%s`` once, when the repository class is prepared for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, Protocol

from exophone.domain.model import (
    Account,
    AccountStatus,
    ApiKey,
    AuthRecord,
    KeyStatus,
    Number,
    NumberSpec,
    NumberStatus,
    SearchQuery,
)
from exophone.domain.numbers import NumberType


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


def _number(row: Sequence[Any]) -> Number:
    return Number(
        phone_number=row[0],
        national=row[1],
        country=row[2],
        number_type=NumberType(row[3]),
        region=row[4],
        sms=bool(row[5]),
        voice=bool(row[6]),
        vanity=bool(row[7]),
        one_time_price=row[8],
        rental_price=row[9],
        incoming_rate=row[10],
        incoming_pulse=row[11],
        currency=row[12],
        status=NumberStatus(row[13]),
        account_sid=row[14],
        sid=row[15],
        friendly_name=row[16],
        voice_url=row[17],
        sms_url=row[18],
        date_created=row[19],
        date_updated=row[20],
    )


@lru_cache(maxsize=512)
def _percent_placeholders(sql: str) -> str:
    return sql.replace("?", "%s")


class Repository:
    """SQL for accounts, keys and numbers, on one open transaction's cursor."""

    placeholder = "?"

    def __init__(self, cursor: Cursor) -> None:
        self.cur = cursor

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else _percent_placeholders(sql)

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.cur.execute(self._sql(sql), params)

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
        return bool(self.cur.rowcount == 1)

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
        return bool(self.cur.rowcount == 1)

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
        self.cur.executemany(
            self._sql(
                "INSERT INTO numbers (phone_number, national, country, number_type, region,"
                " sms, voice, vanity, one_time_price, rental_price, incoming_rate,"
                " incoming_pulse, currency, status, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'available', ?)"
                " ON CONFLICT (phone_number) DO NOTHING"
            ),
            [
                (
                    s.phone_number, s.national, s.country, s.number_type.value, s.region,
                    s.sms, s.voice, s.vanity, s.one_time_price, s.rental_price,
                    s.incoming_rate, s.incoming_pulse, s.currency, now,
                )
                for s in specs
            ],
        )  # fmt: skip
        # Both drivers report the rows an executemany changed, summed.
        return int(self.cur.rowcount)

    def statuses(self, phone_numbers: Sequence[str]) -> dict[str, NumberStatus]:
        """The status of each of these numbers that the inventory holds."""
        if not phone_numbers:
            return {}
        marks = ", ".join("?" * len(phone_numbers))
        self._exec(
            f"SELECT phone_number, status FROM numbers WHERE phone_number IN ({marks})",
            phone_numbers,
        )
        return {r[0]: NumberStatus(r[1]) for r in self.cur.fetchall()}

    def update_for_sale(self, specs: Sequence[NumberSpec]) -> int:
        """Refresh the attributes of numbers still for sale; owned numbers are never touched."""
        if not specs:
            return 0
        self.cur.executemany(
            self._sql(
                "UPDATE numbers SET national = ?, country = ?, number_type = ?, region = ?,"
                " sms = ?, voice = ?, vanity = ?, one_time_price = ?, rental_price = ?,"
                " incoming_rate = ?, incoming_pulse = ?, currency = ?"
                " WHERE phone_number = ? AND status = 'available'"
            ),
            [
                (
                    s.national, s.country, s.number_type.value, s.region, s.sms, s.voice,
                    s.vanity, s.one_time_price, s.rental_price, s.incoming_rate,
                    s.incoming_pulse, s.currency, s.phone_number,
                )
                for s in specs
            ],
        )  # fmt: skip
        return int(self.cur.rowcount)

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

    def has_country(self, country: str) -> bool:
        self._exec("SELECT 1 FROM numbers WHERE country = ? LIMIT 1", (country,))
        return self.cur.fetchone() is not None

    def search(self, q: SearchQuery) -> list[Number]:
        where = ["status = 'available'", "country = ?", "number_type = ?"]
        params: list[Any] = [q.country, q.number_type.value]
        if q.region is not None:
            where.append("region = ?")
            params.append(q.region)
        if q.sms_only:
            where.append("sms = ?")
            params.append(True)
        if q.like is not None:
            where.append("national LIKE ?")
            params.append(q.like)
        params.append(q.limit)
        self._exec(
            f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE {' AND '.join(where)}"
            " ORDER BY phone_number LIMIT ?",
            params,
        )
        return [_number(r) for r in self.cur.fetchall()]

    # -- owned numbers -----------------------------------------------------

    def claim(
        self,
        phone_number: str,
        account_sid: str,
        sid: str,
        friendly_name: str,
        voice_url: str | None,
        sms_url: str | None,
        now: int,
    ) -> Number | None:
        """Compare-and-set purchase: succeeds only while the number is for sale."""
        self._exec(
            "UPDATE numbers SET status = 'owned', account_sid = ?, sid = ?, friendly_name = ?,"
            " voice_url = ?, sms_url = ?, date_created = ?, date_updated = ?"
            f" WHERE phone_number = ? AND status = 'available' RETURNING {NUMBER_COLUMNS}",
            (account_sid, sid, friendly_name, voice_url, sms_url, now, now, phone_number),
        )
        row = self.cur.fetchone()
        return None if row is None else _number(row)

    def get_number(self, phone_number: str) -> Number | None:
        self._exec(f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE phone_number = ?", (phone_number,))
        row = self.cur.fetchone()
        return None if row is None else _number(row)

    def owned_by_sid(self, account_sid: str, sid: str) -> Number | None:
        return self._owned("sid", sid, account_sid)

    def owned_by_number(self, account_sid: str, phone_number: str) -> Number | None:
        return self._owned("phone_number", phone_number, account_sid)

    def _owned(self, column: str, value: str, account_sid: str) -> Number | None:
        self._exec(
            f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE {column} = ? AND account_sid = ?",
            (value, account_sid),
        )
        row = self.cur.fetchone()
        return None if row is None else _number(row)

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
            f" WHERE sid = ? AND account_sid = ? RETURNING {NUMBER_COLUMNS}",
            (*fields.values(), now, sid, account_sid),
        )
        row = self.cur.fetchone()
        return None if row is None else _number(row)

    def release(self, account_sid: str, sid: str) -> bool:
        """Return an owned number to sale; False if the account does not own it."""
        self._exec(
            "UPDATE numbers SET status = 'available', account_sid = NULL, sid = NULL,"
            " friendly_name = NULL, voice_url = NULL, sms_url = NULL,"
            " date_created = NULL, date_updated = NULL"
            " WHERE sid = ? AND account_sid = ?",
            (sid, account_sid),
        )
        return bool(self.cur.rowcount == 1)

    def list_owned(self, account_sid: str, offset: int, limit: int) -> list[Number]:
        self._exec(
            f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE account_sid = ?"
            " ORDER BY date_created, sid LIMIT ? OFFSET ?",
            (account_sid, limit, offset),
        )
        return [_number(r) for r in self.cur.fetchall()]
