"""Shared request counters of the per-account rate limit.

One row per account and fixed one-minute window; each API process adds the
requests it admitted in small batches (``exophone.service.ratelimit``), and
old windows are deleted as new ones start. Not used when Redis holds the
counters.
"""

from yoyo import step

__depends__ = {"0001_initial"}

steps = [
    step(
        """CREATE TABLE rate_limits (
            account_sid TEXT NOT NULL,
            window_start BIGINT NOT NULL,
            hits BIGINT NOT NULL,
            PRIMARY KEY (account_sid, window_start)
        )""",
        "DROP TABLE rate_limits",
    )
]
