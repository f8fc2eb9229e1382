"""Accounts, API keys and the number inventory.

One table holds every number, for sale or owned: a purchase is a guarded
UPDATE of one row, so a number can never have two owners.
"""

from yoyo import step

__depends__: set[str] = set()


def _is_sqlite(conn):  # type: ignore[no-untyped-def]
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):  # type: ignore[no-untyped-def]
    cur = conn.cursor()
    for statement in _statements(_is_sqlite(conn)):
        cur.execute(statement)


def _statements(sqlite):  # type: ignore[no-untyped-def]
    flag = "INTEGER" if sqlite else "BOOLEAN"
    return [
        """CREATE TABLE accounts (
            sid TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
            created_at BIGINT NOT NULL
        )""",
        """CREATE TABLE api_keys (
            key TEXT PRIMARY KEY,
            account_sid TEXT NOT NULL REFERENCES accounts (sid),
            token_hash TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )""",
        "CREATE INDEX api_keys_account ON api_keys (account_sid)",
        f"""CREATE TABLE numbers (
            phone_number TEXT PRIMARY KEY,
            national TEXT NOT NULL,
            country TEXT NOT NULL,
            number_type TEXT NOT NULL CHECK (number_type IN ('Landline', 'Mobile', 'TollFree')),
            region TEXT NOT NULL,
            sms {flag} NOT NULL,
            voice {flag} NOT NULL,
            vanity {flag} NOT NULL,
            one_time_price BIGINT NOT NULL,
            rental_price BIGINT NOT NULL,
            incoming_rate BIGINT NOT NULL,
            incoming_pulse INTEGER NOT NULL,
            currency TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'owned')),
            account_sid TEXT REFERENCES accounts (sid),
            sid TEXT UNIQUE,
            friendly_name TEXT,
            voice_url TEXT,
            sms_url TEXT,
            date_created BIGINT,
            date_updated BIGINT,
            added_at BIGINT NOT NULL,
            CHECK ((status = 'owned') = (account_sid IS NOT NULL AND sid IS NOT NULL))
        )""",
        # Search walks this index in order and stops at the page size.
        "CREATE INDEX numbers_for_sale ON numbers (status, country, number_type, phone_number)",
        "CREATE INDEX numbers_for_sale_region"
        " ON numbers (status, country, number_type, region, phone_number)",
        # An account's numbers in a stable order, for paging.
        "CREATE INDEX numbers_owned ON numbers (account_sid, date_created, sid)",
    ]


steps = [step(apply)]
