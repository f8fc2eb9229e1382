"""Search filters answered by indexes (docs/api.md, "How search finds numbers").

- PostgreSQL's GIN search index now holds, beside each number's bucketed
  4-grams (``exophone_grams``), tokens of its region (of its country and
  type) alone and with each of its SMS, voice and vanity flags
  (``patterns.filter_tokens``), computed by ``exophone_tokens``. A search in
  a region intersects its filters with its pattern in the index, before any
  row is read: at ten million numbers a landline search for SMS numbers in
  one region read 7,000 rows to find none. ``numbers_tokens`` replaces
  ``numbers_grams``.
- On both stores, partial for-sale indexes of the numbers flagged vanity (5%
  of them in the generated mix): a vanity search walks those alone instead of
  skipping twenty others for each.
"""

from yoyo import step

__depends__ = {"0004_search", "0006_credentials_version"}

PG_TOKENS = """
CREATE OR REPLACE FUNCTION exophone_tokens(
  digits text, kind text, country text, region text, sms boolean, voice boolean,
  vanity boolean
) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  place text := '#' || country || '-' || kind || '-' || region;
BEGIN
  RETURN string_to_array(exophone_grams(digits), ' ') || ARRAY[place]
    || CASE WHEN sms THEN ARRAY[place || '+sms'] ELSE '{}'::text[] END
    || CASE WHEN voice THEN ARRAY[place || '+voice'] ELSE '{}'::text[] END
    || CASE WHEN vanity THEN ARRAY[place || '+vanity'] ELSE '{}'::text[] END;
END
$$
"""
# The index expression; Repository.search writes the same one.
PG_TOKENS_OF_NUMBERS = "exophone_tokens(national, number_type, country, region, sms, voice, vanity)"


def _is_sqlite(conn):  # type: ignore[no-untyped-def]
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):  # type: ignore[no-untyped-def]
    cur = conn.cursor()
    if _is_sqlite(conn):
        # As in 0004: SQLite reads index columns past the key before it seeks the row.
        cur.execute(
            "CREATE INDEX numbers_for_sale_vanity ON numbers"
            " (status, country, number_type, phone_number, region, national, sms, voice)"
            " WHERE vanity"
        )
        cur.execute(
            "CREATE INDEX numbers_for_sale_vanity_region ON numbers"
            " (status, country, number_type, region, phone_number, national, sms, voice)"
            " WHERE vanity"
        )
        return
    cur.execute(
        "CREATE INDEX numbers_for_sale_vanity ON numbers"
        " (status, country, number_type, phone_number) INCLUDE (region, national, sms, voice)"
        " WHERE vanity"
    )
    cur.execute(
        "CREATE INDEX numbers_for_sale_vanity_region ON numbers"
        " (status, country, number_type, region, phone_number) INCLUDE (national, sms, voice)"
        " WHERE vanity"
    )
    cur.execute(PG_TOKENS)
    cur.execute(
        f"CREATE INDEX IF NOT EXISTS numbers_tokens ON numbers USING gin ({PG_TOKENS_OF_NUMBERS})"
    )
    cur.execute("DROP INDEX numbers_grams")


def rollback(conn):  # type: ignore[no-untyped-def]
    cur = conn.cursor()
    cur.execute("DROP INDEX numbers_for_sale_vanity")
    cur.execute("DROP INDEX numbers_for_sale_vanity_region")
    if _is_sqlite(conn):
        return
    cur.execute(
        "CREATE INDEX numbers_grams"
        " ON numbers USING gin (string_to_array(exophone_grams(national), ' '))"
    )
    cur.execute("DROP INDEX numbers_tokens")
    cur.execute("DROP FUNCTION exophone_tokens(text, text, text, text, boolean, boolean, boolean)")


steps = [step(apply, rollback)]
