"""The credentials version: a counter every change that can refuse good credentials bumps.

Revoking or rotating a key, changing an account's status and a reset bump it
in the same transaction. API processes keep the credentials they verified in
memory (``exophone.service.credentials``) and trust them only while the
version they last read, less than a moment ago, is the one they were
verified under.
"""

from yoyo import step

__depends__ = {"0001_initial"}

steps = [
    step(
        "CREATE TABLE credentials_version ("
        " id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
        "DROP TABLE credentials_version",
    ),
    step("INSERT INTO credentials_version (id, version) VALUES (1, 0)"),
]
