"""PostgreSQL's search index holds the numbers for sale alone.

``numbers_tokens`` becomes a partial index (``WHERE status = 'available'``), which
every search's own condition implies. A purchase changes the number's status, so
PostgreSQL writes a new version of the row and an entry in each index whose
condition the new version meets: before, that included the GIN index, after a
call of the PL/pgSQL ``exophone_tokens`` and some forty tokens for each number
bought. A number back on sale after its release is indexed again. The index is
rebuilt: minutes at ten million numbers. SQLite's search table is apart from the
numbers table, written when numbers are added or their tokens change, never by a
purchase: it is left as it is.
"""

from yoyo import step

__depends__ = {"0010_gapped_grams"}

# The expression of repository.PG_TOKENS_OF_NUMBERS, as migration 0007 made it.
_TOKENS = "exophone_tokens(national, number_type, country, region, sms, voice, vanity)"


def _is_sqlite(conn):  # type: ignore[no-untyped-def]
    return type(conn).__module__.startswith("sqlite3")


def _rebuild(conn, condition: str) -> None:  # type: ignore[no-untyped-def]
    if _is_sqlite(conn):
        return
    cur = conn.cursor()
    cur.execute("DROP INDEX numbers_tokens")
    cur.execute(f"CREATE INDEX numbers_tokens ON numbers USING gin ({_TOKENS}){condition}")


def apply(conn):  # type: ignore[no-untyped-def]
    _rebuild(conn, " WHERE status = 'available'")


def rollback(conn):  # type: ignore[no-untyped-def]
    _rebuild(conn, "")


steps = [step(apply, rollback)]
