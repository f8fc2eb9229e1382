"""Spaced 4-grams in the search index (``exophone.domain.patterns``): four digits two
apart, so that ``1*2*3*4`` is looked up instead of scanned for.

``exophone_grams`` (PostgreSQL's PL/pgSQL, SQLite's ``patterns.grams_text``) now
gives them after the 4-grams. The index is built again from every number held:
on PostgreSQL ``numbers_tokens`` is reindexed (its expression calls the
function), on SQLite the FTS5 table ``numbers_search`` is emptied and filled.
A few minutes at ten million numbers.
"""

from yoyo import step

from exophone.store.repository import register_grams

__depends__ = {"0007_search_filters"}

# patterns.bucketed: each 4-gram, then each spaced 4-gram (prefixed 's'), with a letter
# counting the equal ones before it and the number's bucket letter (its digit sum, mod 16).
_HEAD = """
CREATE OR REPLACE FUNCTION exophone_grams(digits text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  tokens text := ' ';
  windows text[] := '{}';
  gram text;
  earlier int;
  total int := 0;
  bucket text;
BEGIN
  FOR i IN 1 .. length(digits) LOOP
    total := total + ascii(substr(digits, i, 1)) - 48;
  END LOOP;
  bucket := chr(65 + total % 16);
  FOR i IN 1 .. length(digits) - 3 LOOP
    windows := windows || substr(digits, i, 4);
  END LOOP;
"""
_SPACED = """
  FOR i IN 1 .. length(digits) - 6 LOOP
    windows := windows || ('s' || substr(digits, i, 1) || substr(digits, i + 2, 1)
      || substr(digits, i + 4, 1) || substr(digits, i + 6, 1));
  END LOOP;
"""
_COUNTED = """
  FOREACH gram IN ARRAY windows LOOP
    earlier := 0;
    WHILE position(' ' || gram || chr(97 + earlier) || bucket || ' ' IN tokens) > 0 LOOP
      earlier := earlier + 1;
    END LOOP;
    tokens := tokens || gram || chr(97 + earlier) || bucket || ' ';
  END LOOP;
  RETURN btrim(tokens);
END
$$
"""
PG_GRAMS = _HEAD + _SPACED + _COUNTED
# 0004's tokens, for the way back.
PG_GRAMS_BEFORE = _HEAD + _COUNTED


def _is_sqlite(conn):  # type: ignore[no-untyped-def]
    return type(conn).__module__.startswith("sqlite3")


def _rebuild(conn, function: str) -> None:  # type: ignore[no-untyped-def]
    cur = conn.cursor()
    if _is_sqlite(conn):
        register_grams(conn)  # the current patterns.grams_text
        cur.execute("INSERT INTO numbers_search (numbers_search) VALUES ('delete-all')")
        cur.execute(
            "INSERT INTO numbers_search (rowid, grams)"
            " SELECT CAST(substr(phone_number, 2) AS INTEGER), exophone_grams(national)"
            " FROM numbers"
        )
        return
    cur.execute(function)
    cur.execute("REINDEX INDEX numbers_tokens")


def apply(conn):  # type: ignore[no-untyped-def]
    _rebuild(conn, PG_GRAMS)


def rollback(conn):  # type: ignore[no-untyped-def]
    # SQLite's function is the code's own: going back to 0007 leaves the spaced tokens
    # in its index, which only answers more candidates, each checked against the pattern.
    if not _is_sqlite(conn):
        _rebuild(conn, PG_GRAMS_BEFORE)


steps = [step(apply, rollback)]
