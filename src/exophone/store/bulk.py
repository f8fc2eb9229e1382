"""Numbers for sale in bulk: a batch is one JSON text, written by one statement.

Python's sqlite3 binds every parameter of every row of an ``executemany``
through a locked call; a batch of 50,000 numbers handed over as one JSON
array, read back by the database itself (``json_each`` on SQLite,
``json_array_elements`` on PostgreSQL), went in 1.8 times as fast. The
encoding needs no database, so the processes that draw or validate numbers
(``exophone.service.bulkload``) encode their batches themselves, and the
process that writes only runs the statements.

A row is a JSON array of ``FIELDS``, in that order; ``grams`` is the text
of the number's search-index tokens (``exophone.domain.patterns.grams_text``),
which SQLite's FTS5 index takes as it is (PostgreSQL's index computes its own).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from exophone.domain.model import NumberSpec
from exophone.domain.patterns import grams_text

FIELDS = (
    "phone_number", "national", "country", "number_type", "region", "sms", "voice", "vanity",
    "one_time_price", "rental_price", "incoming_rate", "incoming_pulse", "currency", "grams",
)  # fmt: skip
# The numbers columns the rows fill, in FIELDS' order (all but grams).
COLUMNS = FIELDS[:-1]


def row(spec: NumberSpec) -> tuple[Any, ...]:
    """A number to add, as a row of a batch."""
    return (
        spec.phone_number, spec.national, spec.country, spec.number_type.value, spec.region,
        spec.sms, spec.voice, spec.vanity, spec.one_time_price, spec.rental_price,
        spec.incoming_rate, spec.incoming_pulse, spec.currency, grams_text(spec.national),
    )  # fmt: skip


def encode(rows: Iterable[tuple[Any, ...]]) -> bytes:
    """A batch: the rows as one JSON array."""
    return orjson.dumps(list(rows))


def encode_specs(specs: Iterable[NumberSpec]) -> bytes:
    return encode(row(s) for s in specs)
