"""Idempotency keys: the first answer to a keyed purchase or release, per account.

A row is written when a keyed request begins (``response_status`` NULL while
it runs) and completed with the answer it gave; retries with the same key
replay that answer. Rows older than the retention period are purged lazily.
"""

from yoyo import step

__depends__ = {"0001_initial"}


def apply(conn):  # type: ignore[no-untyped-def]
    cur = conn.cursor()
    for statement in _statements():
        cur.execute(statement)


def _statements():  # type: ignore[no-untyped-def]
    return [
        """CREATE TABLE idempotency_keys (
            account_sid TEXT NOT NULL REFERENCES accounts (sid),
            idem_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            locked_at BIGINT NOT NULL,
            response_status INTEGER,
            response_body TEXT,
            PRIMARY KEY (account_sid, idem_key)
        )""",
        # The lazy purge walks the oldest keys first.
        "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
    ]


def rollback(conn):  # type: ignore[no-untyped-def]
    conn.cursor().execute("DROP TABLE idempotency_keys")


steps = [step(apply, rollback)]
