"""Indexes for number search at ten million numbers (docs/api.md, "How search finds numbers").

- The two for-sale indexes also carry ``national``, ``sms``, ``voice`` and
  ``vanity``: a search that walks them in number order checks the pattern and
  the flags in the index and reads only the rows that match.
- A 4-gram search index (``exophone.domain.patterns``). On SQLite the
  contentless FTS5 table ``numbers_search``, whose rowid is the E.164 number
  as an integer; ``Repository.insert_numbers`` adds each batch's new numbers
  to it in one statement (an FTS5 insert from a trigger flushes a segment per
  row: four times slower). On PostgreSQL the GIN index ``numbers_grams`` on
  the tokens of ``exophone_grams(national)``, a PL/pgSQL function (a SQL
  function is not inlined in an index expression and costs ten times more).

SQLite calls ``patterns.grams_text`` itself (``register_grams``); the
PL/pgSQL computes ``patterns.bucketed``, the same tokens with a bucket letter
(see there), and a test checks it against the Python.
"""

from yoyo import step

from exophone.store.repository import register_grams

__depends__ = {"0001_initial"}

FLAGS = "national, sms, voice, vanity"

# patterns.bucketed: each 4-gram, with a letter counting the equal ones before it and
# the number's bucket letter (its digit sum, mod 16).
PG_GRAMS = """
CREATE FUNCTION exophone_grams(digits text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  tokens text := ' ';
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
    gram := substr(digits, i, 4);
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


def _is_sqlite(conn):  # type: ignore[no-untyped-def]
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):  # type: ignore[no-untyped-def]
    cur = conn.cursor()
    cur.execute("DROP INDEX IF EXISTS numbers_for_sale")
    cur.execute("DROP INDEX IF EXISTS numbers_for_sale_region")
    if _is_sqlite(conn):
        # SQLite reads index columns past the key before it seeks the row.
        cur.execute(
            "CREATE INDEX numbers_for_sale"
            f" ON numbers (status, country, number_type, phone_number, {FLAGS})"
        )
        cur.execute(
            "CREATE INDEX numbers_for_sale_region"
            f" ON numbers (status, country, number_type, region, phone_number, {FLAGS})"
        )
        cur.execute(
            "CREATE VIRTUAL TABLE numbers_search USING fts5("
            "grams, content='', columnsize=0, detail=none, tokenize='ascii')"
        )
        register_grams(conn)
        cur.execute(
            "INSERT INTO numbers_search (rowid, grams)"
            " SELECT CAST(substr(phone_number, 2) AS INTEGER), exophone_grams(national)"
            " FROM numbers"
        )
        return
    cur.execute(
        "CREATE INDEX numbers_for_sale"
        f" ON numbers (status, country, number_type, phone_number) INCLUDE ({FLAGS})"
    )
    cur.execute(
        "CREATE INDEX numbers_for_sale_region"
        f" ON numbers (status, country, number_type, region, phone_number) INCLUDE ({FLAGS})"
    )
    cur.execute(PG_GRAMS)
    cur.execute(
        "CREATE INDEX numbers_grams"
        " ON numbers USING gin (string_to_array(exophone_grams(national), ' '))"
    )


def rollback(conn):  # type: ignore[no-untyped-def]
    cur = conn.cursor()
    cur.execute("DROP INDEX numbers_for_sale")
    cur.execute("DROP INDEX numbers_for_sale_region")
    if _is_sqlite(conn):
        cur.execute("DROP TABLE numbers_search")
    else:
        cur.execute("DROP INDEX numbers_grams")
        cur.execute("DROP FUNCTION exophone_grams(text)")
    cur.execute(
        "CREATE INDEX numbers_for_sale ON numbers (status, country, number_type, phone_number)"
    )
    cur.execute(
        "CREATE INDEX numbers_for_sale_region"
        " ON numbers (status, country, number_type, region, phone_number)"
    )


steps = [step(apply, rollback)]
