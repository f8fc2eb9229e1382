"""Schemathesis over every operation of our OpenAPI document, against a real HTTP server.

For each operation schemathesis sends the document's examples, then requests it
generates from the schemas: valid ones (positive) and ones that break a
documented rule (negative), authenticated as an account that owns numbers. Every
answer must be documented: no 5xx, a documented status code, content type,
headers and body schema. Besides those, schemathesis checks that

- data the document calls valid is accepted and data it calls invalid is
  refused (where JSON Schema can say what is valid; see ``ALSO_ACCEPTED``),
- a request without credentials is refused (``ignored_auth``),
- methods the document does not list answer 405 with ``Allow``
  (``unsupported_method``).

The server is uvicorn on a free port in this process, over the per-test
database of ``db_url`` (SQLite, and PostgreSQL when configured), without a
rate limit so that the fuzzing reaches the handlers.

``EXOPHONE_FUZZ_EXAMPLES`` (default 25) sets the examples per operation;
``EXOPHONE_FUZZ_RANDOM=1`` draws new inputs each run instead of the fixed,
derandomized ones CI uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib import resources
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from exophone.api import create_app
from exophone.domain.credentials import hash_token
from exophone.service import numbers
from tests.conftest import INVENTORY, ThreadServer, World

# The fuzzed account's credentials must be known when the tests are collected:
# schemathesis builds its example and coverage cases then.
FUZZ_KEY = "fuzz" + "0" * 28
FUZZ_TOKEN = "fuzz-token-" + "1" * 37
MAX_EXAMPLES = int(os.environ.get("EXOPHONE_FUZZ_EXAMPLES", "25"))
DERANDOMIZE = os.environ.get("EXOPHONE_FUZZ_RANDOM", "") != "1"

DOCUMENT: dict[str, Any] = orjson.loads(
    (resources.files("exophone") / "data" / "openapi.json").read_bytes()
)
STOCK = [number for number, *_ in INVENTORY]
# Numbers the fuzzed account owns before the first request, so reads, updates
# and releases by number reach owned numbers and not only 404s.
OWNED = STOCK[:6]
# `{ref}` spellings of those numbers (E.164 with and without '+').
REFS = [form for number in OWNED for form in (number, number.lstrip("+"))]

# What a schema-valid request may answer. Some valid inputs JSON Schema cannot
# fully state, so a schema-valid request may rightly answer 400 (documented in
# each operation): a phone number must be a real number (phonenumbers'
# metadata), InRegion a region of the country in the path, FriendlyName
# printable, a flow URL's host well formed. And an Idempotency-Key the
# generator repeats with other parameters is rightly refused with 422.
ACCEPTED = ["2xx", "401", "403", "404", "409"]
ALSO_ACCEPTED = {
    "buyNumber": ["400", "422"],
    "updateIncomingNumber": ["400"],
    "searchAvailableNumbers": ["400"],
    "releaseIncomingNumber": ["422"],
}

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": DERANDOMIZE,
            "database": "none",
        },
        "auth": {"basic": {"username": FUZZ_KEY, "password": FUZZ_TOKEN}},
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
        "operations": [
            {
                "include-operation-id": operation,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + more}},
            }
            for operation, more in ALSO_ACCEPTED.items()
        ],
        # Mostly the fuzzed account's own SID and numbers; generated values otherwise.
        "dictionaries": {"sids": {"values": ["acme"]}, "refs": {"values": REFS}},
        "parameters": {
            "path.sid": {"dictionary": "sids", "probability": 0.9},
            "path.ref": {"dictionary": "refs", "probability": 0.5},
        },
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@pytest.fixture
def server(world: World) -> Iterator[str]:
    """A real server for account ``acme``, which owns ``OWNED``; its base URL."""
    ctx = world.ctx
    ctx.settings = ctx.settings.with_(rate_limit=0)
    with ctx.store.transaction(write=True) as repo:
        repo.insert_api_key(FUZZ_KEY, "acme", hash_token(FUZZ_TOKEN), "fuzz", ctx.clock.now_us())
    for number in OWNED:
        numbers.buy(ctx, "acme", number)
    with ThreadServer(create_app(world.ctx)) as base_url:
        yield base_url


def test_document_is_the_one_served(server: str) -> None:
    """What is fuzzed here is what /openapi.json serves."""
    served = httpx.get(f"{server}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_answer_is_documented(case: schemathesis.Case, server: str) -> None:
    case.call_and_validate(base_url=server)
