"""Gapped 4-grams in PostgreSQL's search index (``exophone.domain.patterns``): two
digits, two places skipped, two digits, so that a pattern whose runs give one 4-gram
alone (``12**3456``) is looked up by two tokens instead of reading the 7,000 numbers
in ten million that hold its one 4-gram.

``exophone_grams`` now gives them after the spaced 4-grams, and ``numbers_tokens``
is reindexed (its expression calls the function): minutes at ten million numbers.
SQLite's index is left as it is: its searches of that kind were within their target
already, and its tokens are the code's own (``patterns.grams_text``).
"""

from yoyo import step

__depends__ = {"0009_sqlite_search_filters"}

# patterns.bucketed: each 4-gram, each spaced 4-gram (prefixed 's'), each gapped 4-gram
# (prefixed 'g'), with a letter counting the equal ones before it and the number's
# bucket letter (its digit sum, mod 16).
_BEGIN = """
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
  FOR i IN 1 .. length(digits) - 6 LOOP
    windows := windows || ('s' || substr(digits, i, 1) || substr(digits, i + 2, 1)
      || substr(digits, i + 4, 1) || substr(digits, i + 6, 1));
  END LOOP;
"""
_GAPPED = """
  FOR i IN 1 .. length(digits) - 5 LOOP
    windows := windows || ('g' || substr(digits, i, 2) || substr(digits, i + 4, 2));
  END LOOP;
"""
_END = """
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
PG_GRAMS = _BEGIN + _GAPPED + _END
# 0008's tokens, for the way back.
PG_GRAMS_BEFORE = _BEGIN + _END


def _is_sqlite(conn):  # type: ignore[no-untyped-def]
    return type(conn).__module__.startswith("sqlite3")


def _rebuild(conn, function: str) -> None:  # type: ignore[no-untyped-def]
    if _is_sqlite(conn):
        return
    cur = conn.cursor()
    cur.execute(function)
    cur.execute("REINDEX INDEX numbers_tokens")


def apply(conn):  # type: ignore[no-untyped-def]
    _rebuild(conn, PG_GRAMS)


def rollback(conn):  # type: ignore[no-untyped-def]
    _rebuild(conn, PG_GRAMS_BEFORE)


steps = [step(apply, rollback)]
