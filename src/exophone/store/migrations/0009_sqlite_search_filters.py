"""SQLite's search index also holds the tokens of each number's region and flags, as
PostgreSQL's has since 0007 (docs/api.md, "How search finds numbers").

The FTS5 table ``numbers_search`` is made again with a tokenizer that keeps
``#``, ``-`` and ``+`` inside a token, and filled with each number's 4-grams
followed by ``#IN-Landline-KA`` and that token with each of its flags
(``repository.SQLITE_FILTER_TOKENS``, ``patterns.number_filter_tokens``). A
search in a region asks FTS5 for the numbers holding its 4-grams and its
region's tokens together: at ten million numbers a landline search for SMS
numbers in Maharashtra, whose numbers are spread over most of the landlines,
checked some 2,000 matches of its 4-grams one by one to find none. Two minutes
at ten million numbers. PostgreSQL has nothing to do.
"""

from yoyo import step

from exophone.store.repository import SQLITE_FILTER_TOKENS, register_grams

__depends__ = {"0008_spaced_grams"}

TABLE = (
    "CREATE VIRTUAL TABLE numbers_search USING fts5("
    "grams, content='', columnsize=0, detail=none, tokenize={})"
)


def _is_sqlite(conn):  # type: ignore[no-untyped-def]
    return type(conn).__module__.startswith("sqlite3")


def _rebuild(conn, tokenize: str, tokens: str) -> None:  # type: ignore[no-untyped-def]
    if not _is_sqlite(conn):
        return
    register_grams(conn)
    cur = conn.cursor()
    cur.execute("DROP TABLE numbers_search")
    cur.execute(TABLE.format(tokenize))
    cur.execute(
        "INSERT INTO numbers_search (rowid, grams)"
        f" SELECT CAST(substr(n.phone_number, 2) AS INTEGER), {tokens} FROM numbers n"
    )


def apply(conn):  # type: ignore[no-untyped-def]
    _rebuild(
        conn,
        "\"ascii tokenchars '#+-'\"",
        f"exophone_grams(n.national) || {SQLITE_FILTER_TOKENS}",
    )


def rollback(conn):  # type: ignore[no-untyped-def]
    _rebuild(conn, "'ascii'", "exophone_grams(n.national)")


steps = [step(apply, rollback)]
