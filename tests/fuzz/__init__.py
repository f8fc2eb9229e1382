"""Property-based fuzzing of the API against its own OpenAPI document.

- ``test_schemathesis``: schemathesis over every documented operation, on a
  real HTTP server, SQLite and PostgreSQL (``EXOPHONE_FUZZ_EXAMPLES`` and
  ``EXOPHONE_FUZZ_RANDOM=1`` for longer, randomized runs).
- ``test_findings``: what it found, pinned as plain tests.
"""
