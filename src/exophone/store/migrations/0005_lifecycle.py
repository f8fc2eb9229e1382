"""Number lifecycle: a third status, ``aging``, and the audit trail of every number.

A released number ages for a while (``numbers.aging_until``) before it is for
sale again; meanwhile its last owner (``numbers.last_owner``) may buy it back.
``number_events`` records every change of a number with who made it; the
``imported`` event is not stored per number but derived from
``numbers.added_at``, so bulk loads of millions of numbers cost nothing more.
``lifecycle_sweep`` is one row whose lock serialises the sweeps that return
aged numbers to sale, so two processes never sweep (and deadlock) at once.

SQLite cannot change a CHECK constraint in place: the numbers table is rebuilt
by SQLite's documented procedure (create the new table, copy, drop, rename,
re-create the indexes), from its own stored definition so that columns other
migrations may have added survive. It runs once, on upgrade: about 20 s for
500,000 numbers on a busy 2-core machine, most of it re-creating the indexes.
"""

from yoyo import step

__depends__ = {"0001_initial"}

OLD_STATUS = "CHECK (status IN ('available', 'owned'))"
NEW_STATUS = "CHECK (status IN ('available', 'owned', 'aging'))"
AGING_CHECK = "CHECK ((status = 'aging') = (aging_until IS NOT NULL))"
EVENTS = "('imported', 'bought', 'updated', 'released', 'aged_out', 'reclaimed')"


def _is_sqlite(conn):  # type: ignore[no-untyped-def]
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):  # type: ignore[no-untyped-def]
    cur = conn.cursor()
    if _is_sqlite(conn):
        _sqlite_numbers(cur)
        identity = "INTEGER PRIMARY KEY"
    else:
        _postgres_numbers(cur)
        identity = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    cur.execute(
        f"""CREATE TABLE number_events (
            id {identity},
            phone_number TEXT NOT NULL,
            at BIGINT NOT NULL,
            event TEXT NOT NULL CHECK (event IN {EVENTS}),
            account_sid TEXT,
            api_key TEXT,
            request_id TEXT,
            sid TEXT,
            details TEXT
        )"""
    )
    cur.execute("CREATE INDEX number_events_number ON number_events (phone_number, at, id)")
    cur.execute(
        "CREATE TABLE lifecycle_sweep ("
        " id INTEGER PRIMARY KEY CHECK (id = 1), swept_at BIGINT NOT NULL)"
    )
    cur.execute("INSERT INTO lifecycle_sweep (id, swept_at) VALUES (1, 0)")
    # The sweep's "earliest deadline" probe reads this small index only.
    cur.execute("CREATE INDEX numbers_aging ON numbers (aging_until) WHERE status = 'aging'")


def _postgres_numbers(cur):  # type: ignore[no-untyped-def]
    cur.execute(
        "ALTER TABLE numbers ADD COLUMN aging_until BIGINT,"
        " ADD COLUMN last_owner TEXT REFERENCES accounts (sid)"
    )
    cur.execute("ALTER TABLE numbers DROP CONSTRAINT numbers_status_check")
    cur.execute(f"ALTER TABLE numbers ADD CONSTRAINT numbers_status_check {NEW_STATUS}")
    cur.execute(f"ALTER TABLE numbers ADD CONSTRAINT numbers_aging_check {AGING_CHECK}")


def _sqlite_numbers(cur):  # type: ignore[no-untyped-def]
    # ADD COLUMN places the new columns after the last column, before the
    # table constraints, so the stored definition stays valid to re-run.
    cur.execute("ALTER TABLE numbers ADD COLUMN aging_until BIGINT")
    cur.execute("ALTER TABLE numbers ADD COLUMN last_owner TEXT REFERENCES accounts (sid)")
    cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'numbers'")
    table = cur.fetchone()[0]
    if OLD_STATUS not in table:
        raise RuntimeError("0005_lifecycle: unexpected definition of the numbers table")
    table = table.replace(OLD_STATUS, NEW_STATUS, 1).rstrip()
    table = table[: table.rindex(")")] + f",\n            {AGING_CHECK}\n        )"
    table = table.replace("CREATE TABLE numbers", "CREATE TABLE numbers_new", 1)
    cur.execute(
        "SELECT sql FROM sqlite_master"
        " WHERE type = 'index' AND tbl_name = 'numbers' AND sql IS NOT NULL"
    )
    indexes = [row[0] for row in cur.fetchall()]
    cur.execute(table)
    # A large page cache: re-creating the indexes sorts every row.
    cur.execute("PRAGMA cache_size = -262144")
    cur.execute("INSERT INTO numbers_new SELECT * FROM numbers")
    cur.execute("DROP TABLE numbers")
    cur.execute("ALTER TABLE numbers_new RENAME TO numbers")
    for index in indexes:
        cur.execute(index)


steps = [step(apply)]
