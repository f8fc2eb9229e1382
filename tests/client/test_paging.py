"""Paging of the account's numbers: list() one page, iter() every number exactly once."""

from __future__ import annotations

import httpx
import pytest

from exophone.client import Client, IncomingNumber
from tests.conftest import World

OWNED = [
    "+918023456701",
    "+918023456702",
    "+911123456701",
    "+912223456701",
    "+919876543201",
    "+911800123456",
    "+60323856789",
]


@pytest.fixture
def owned(client: Client, other_client: Client) -> list[IncomingNumber]:
    """Acme owns seven numbers, bought in this order; Other owns two more."""
    bought = [client.incoming_phone_numbers.buy(n) for n in OWNED]
    other_client.incoming_phone_numbers.buy("+911123456702")
    other_client.incoming_phone_numbers.buy("+60323856790")
    return bought


@pytest.mark.parametrize("size", [1, 2, 50])
def test_list_pages(client: Client, owned: list[IncomingNumber], size: int) -> None:
    sids = [n.sid for n in owned]
    pages = -(-len(sids) // size)
    for index in range(pages):
        page = client.incoming_phone_numbers.list(page=index, page_size=size)
        assert (page.page, page.page_size) == (index, size)
        assert [n.sid for n in page] == sids[index * size : (index + 1) * size]
        assert len(page) == len(page.items)
        assert page.uri and page.uri.endswith(f"?Page={index}&PageSize={size}")
        assert page.first_page_uri and page.first_page_uri.endswith(f"?Page=0&PageSize={size}")
        assert page.has_next == (index < pages - 1)
        if index < pages - 1:
            assert page.next_page_uri and page.next_page_uri.endswith(
                f"?Page={index + 1}&PageSize={size}"
            )
        else:
            assert page.next_page_uri is None
        if index == 0:
            assert page.previous_page_uri is None
        else:
            assert page.previous_page_uri and page.previous_page_uri.endswith(
                f"?Page={index - 1}&PageSize={size}"
            )
        assert page.extra == {}
    past = client.incoming_phone_numbers.list(page=pages, page_size=size)
    assert past.items == () and past.next_page_uri is None


def test_list_defaults(client: Client, owned: list[IncomingNumber]) -> None:
    page = client.incoming_phone_numbers.list()
    assert (page.page, page.page_size, len(page)) == (0, 50, len(OWNED))
    assert all(isinstance(n, IncomingNumber) for n in page)


@pytest.mark.parametrize("size", [1, 2, 50])
def test_iter_yields_every_owned_number_once(
    world: World, server: str, owned: list[IncomingNumber], size: int
) -> None:
    requests: list[httpx.URL] = []
    hooks = {"request": [lambda request: requests.append(request.url)]}
    with (
        httpx.Client(event_hooks=hooks) as http,
        Client("acme", world.acme.key, world.acme.token, base_url=server, http_client=http) as c,
    ):
        numbers = list(c.incoming_phone_numbers.iter(page_size=size))
    assert [n.sid for n in numbers] == [n.sid for n in owned]
    assert len({n.sid for n in numbers}) == len(OWNED)
    # One request per page, following next_page_uri until it is null.
    assert len(requests) == -(-len(OWNED) // size)
    assert [u.params["Page"] for u in requests] == [str(i) for i in range(len(requests))]


def test_iter_is_lazy(world: World, server: str, owned: list[IncomingNumber]) -> None:
    requests: list[httpx.URL] = []
    hooks = {"request": [lambda request: requests.append(request.url)]}
    with (
        httpx.Client(event_hooks=hooks) as http,
        Client("acme", world.acme.key, world.acme.token, base_url=server, http_client=http) as c,
    ):
        walk = c.incoming_phone_numbers.iter(page_size=2)
        assert requests == []
        first = next(walk)
        assert first.sid == owned[0].sid
        assert len(requests) == 1
        next(walk), next(walk)
        assert len(requests) == 2


def test_iter_with_no_numbers(client: Client) -> None:
    assert list(client.incoming_phone_numbers.iter()) == []


def test_paging_links_are_rebased_onto_the_clients_base_url() -> None:
    client = Client("acme", "k", "t", base_url="https://api.exotel.com")
    link = "http://twilix.exotel.com/v2_beta/Accounts/acme/IncomingPhoneNumbers?Page=1&PageSize=50"
    assert client._follow(link) == (
        "https://api.exotel.com/v2_beta/Accounts/acme/IncomingPhoneNumbers?Page=1&PageSize=50"
    )
    relative = "/v2_beta/Accounts/acme/IncomingPhoneNumbers?Page=2&PageSize=5"
    assert client._follow(relative) == "https://api.exotel.com" + relative
    client.close()
