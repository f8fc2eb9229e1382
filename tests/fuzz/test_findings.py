"""What the fuzzing found, pinned as plain tests so each stays fixed without fuzzing luck."""

from __future__ import annotations

import pytest

from exophone.api.docs import openapi
from tests.conftest import Api


@pytest.mark.parametrize(
    "query",
    ["Page=1&page=false", "page=0&Page=1&page_size=0", "PageSize=5&page_size=x",
     "PageSize=5&page_size=1001"],
)  # fmt: skip
def test_every_spelling_of_a_paging_parameter_is_checked(api: Api, query: str) -> None:
    """``?page=false&Page=52063`` answered 200: the second spelling went unread (and
    unchecked), against the documented integer schema of ``page``."""
    resp = api.get(api.path(f"/IncomingPhoneNumbers?{query}"))
    assert resp.status_code == 400, resp.text


def test_the_first_spelling_still_wins_when_both_are_valid(api: Api) -> None:
    body = api.get(api.path("/IncomingPhoneNumbers?Page=2&page=1&PageSize=3&page_size=4")).json()
    assert (body["page"], body["page_size"]) == (2, 3)


@pytest.mark.parametrize(
    "query", ["Contains=", "InRegion=", "Contains=%20%5E80%20", "InRegion=%20ka"]
)
def test_empty_and_padded_filters_are_accepted_as_documented(api: Api, query: str) -> None:
    """An empty value counts as absent, and surrounding whitespace is trimmed: the
    document's patterns now say so (they refused both)."""
    resp = api.get(api.path(f"/AvailablePhoneNumbers/IN/Landline?{query}"))
    assert resp.status_code == 200, resp.text


def test_a_malformed_idempotency_key_on_a_release_is_a_documented_400(api: Api) -> None:
    """DELETE answered 400 for a bad Idempotency-Key, which its responses did not list."""
    resp = api.delete(
        api.path("/IncomingPhoneNumbers/+918023456701"), headers={"Idempotency-Key": "k" * 256}
    )
    assert resp.status_code == 400
    release = openapi()["paths"]["/v2_beta/Accounts/{sid}/IncomingPhoneNumbers/{ref}"]["delete"]
    assert "400" in release["responses"]
