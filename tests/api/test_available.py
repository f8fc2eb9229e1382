"""AvailablePhoneNumbers: countries, search, filters, bounds and errors."""

from __future__ import annotations

import re

from tests.conftest import Api

PRICE = re.compile(r"^\d+\.\d{6}$")
AVAILABLE_FIELDS = [
    "friendly_name", "phone_number", "capabilities", "country", "region", "one_time_price",
    "rental_price", "incoming_rate", "incoming_pulse", "number_type", "vanity_number", "currency",
]  # fmt: skip


def test_countries_lists_each_country_with_numbers_for_sale(api: Api) -> None:
    resp = api.get(api.path("/AvailablePhoneNumbers"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert list(body) == ["uri", "countries"]
    assert body["uri"] == "/v2_beta/Accounts/acme/AvailablePhoneNumbers"
    by_code = {c["country_code"]: c for c in body["countries"]}
    assert set(by_code) == {"IN", "MY"}
    india = by_code["IN"]
    assert list(india) == ["country_code", "country", "uri", "subresource_uris"]
    assert india["country"] == "India"
    assert by_code["MY"]["country"] == "Malaysia"
    assert india["uri"] == "/v2_beta/Accounts/acme/AvailablePhoneNumbers/IN"
    assert india["subresource_uris"] == {
        "Landline": "/v2_beta/Accounts/acme/AvailablePhoneNumbers/IN/Landline",
        "Mobile": "/v2_beta/Accounts/acme/AvailablePhoneNumbers/IN/Mobile",
        "TollFree": "/v2_beta/Accounts/acme/AvailablePhoneNumbers/IN/TollFree",
    }


def test_every_country_uri_resolves(api: Api) -> None:
    for country in api.get(api.path("/AvailablePhoneNumbers")).json()["countries"]:
        assert api.get(country["uri"]).status_code == 200
        for uri in country["subresource_uris"].values():
            resp = api.get(uri)
            assert resp.status_code == 200, uri
            assert isinstance(resp.json(), list)


def test_country_without_numbers_for_sale_is_not_listed(api: Api) -> None:
    for number in ("+60323856789", "+60323856790"):
        api.buy(number)
    body = api.get(api.path("/AvailablePhoneNumbers")).json()
    assert [c["country_code"] for c in body["countries"]] == ["IN"]


def test_search_returns_bare_array_with_reference_fields_and_types(api: Api) -> None:
    resp = api.get(api.path("/AvailablePhoneNumbers/IN/Landline"))
    assert resp.status_code == 200
    items = resp.json()
    assert isinstance(items, list)
    assert [i["phone_number"] for i in items] == [
        "+911123456701", "+911123456702", "+912223456701",
        "+918023456701", "+918023456702", "+918023457777",
    ]  # fmt: skip
    first = items[0]
    assert list(first) == AVAILABLE_FIELDS
    assert first["friendly_name"] == "+911123456701"
    assert first["capabilities"] == {"sms": True, "voice": True}
    assert list(first["capabilities"]) == ["sms", "voice"]
    assert first["country"] == "IN"
    assert first["region"] == "DL"
    for price in ("one_time_price", "rental_price", "incoming_rate"):
        assert PRICE.match(first[price]), first[price]
    assert isinstance(first["incoming_pulse"], str) and first["incoming_pulse"].isdigit()
    assert first["number_type"] == "Landline"
    assert first["vanity_number"] is False
    assert first["currency"] == "INR"
    vanity = next(i for i in items if i["phone_number"] == "+918023457777")
    assert vanity["vanity_number"] is True


def test_search_matches_country_and_type_without_case(api: Api) -> None:
    upper = api.get(api.path("/AvailablePhoneNumbers/IN/TollFree")).json()
    lower = api.get(api.path("/AvailablePhoneNumbers/in/tollfree")).json()
    assert upper == lower
    assert [i["phone_number"] for i in upper] == ["+911800123456"]
    assert upper[0]["number_type"] == "TollFree"


def test_other_country_region_is_the_country(api: Api) -> None:
    items = api.get(api.path("/AvailablePhoneNumbers/MY/Landline")).json()
    assert {i["region"] for i in items} == {"MY"}
    assert {i["country"] for i in items} == {"MY"}


def test_in_region_filter(api: Api) -> None:
    items = api.get(api.path("/AvailablePhoneNumbers/IN/Landline"), params={"InRegion": "ka"})
    assert items.status_code == 200
    assert {i["region"] for i in items.json()} == {"KA"}
    assert len(items.json()) == 3


def test_incoming_sms_filter(api: Api) -> None:
    items = api.get(
        api.path("/AvailablePhoneNumbers/IN/Landline"), params={"IncomingSMS": "true"}
    ).json()
    assert [i["phone_number"] for i in items] == ["+911123456701", "+918023456701"]
    assert all(i["capabilities"]["sms"] for i in items)
    everything = api.get(
        api.path("/AvailablePhoneNumbers/IN/Landline"), params={"IncomingSMS": "false"}
    ).json()
    assert len(everything) == 6


def test_contains_filter_and_combinations(api: Api) -> None:
    path = api.path("/AvailablePhoneNumbers/IN/Landline")
    assert [i["phone_number"] for i in api.get(path, params={"Contains": "7777"}).json()] == [
        "+918023457777"
    ]
    hits = api.get(path, params={"Contains": "456701"}).json()
    assert [i["phone_number"] for i in hits] == [
        "+911123456701", "+912223456701", "+918023456701",
    ]  # fmt: skip
    combined = api.get(
        path, params={"Contains": "456701", "InRegion": "KA", "IncomingSMS": "true"}
    ).json()
    assert [i["phone_number"] for i in combined] == ["+918023456701"]


def test_no_match_is_an_empty_array(api: Api) -> None:
    resp = api.get(api.path("/AvailablePhoneNumbers/IN/Landline"), params={"Contains": "99999"})
    assert resp.status_code == 200
    assert resp.json() == []


def test_page_size_bounds_the_answer(api: Api) -> None:
    path = api.path("/AvailablePhoneNumbers/IN/Landline")
    assert len(api.get(path, params={"PageSize": "2"}).json()) == 2
    for bad in ("0", "1001", "-1", "ten", "1.5"):
        resp = api.get(path, params={"PageSize": bad})
        assert resp.status_code == 400, bad
        assert "PageSize" in resp.json()["RestException"]["Message"]


def test_bought_numbers_are_not_for_sale(api: Api) -> None:
    api.buy("+918023456701")
    items = api.get(api.path("/AvailablePhoneNumbers/IN/Landline")).json()
    assert "+918023456701" not in [i["phone_number"] for i in items]


def test_unknown_country_and_type_answer_404_naming_what_exists(api: Api) -> None:
    resp = api.get(api.path("/AvailablePhoneNumbers/ZZ/Landline"))
    assert resp.status_code == 404
    message = resp.json()["RestException"]["Message"]
    assert "IN" in message and "MY" in message
    resp = api.get(api.path("/AvailablePhoneNumbers/IN/Premium"))
    assert resp.status_code == 404
    message = resp.json()["RestException"]["Message"]
    assert all(t in message for t in ("Landline", "Mobile", "TollFree"))
    assert api.get(api.path("/AvailablePhoneNumbers/ZZ")).status_code == 404


def test_malformed_filters_answer_400(api: Api) -> None:
    path = api.path("/AvailablePhoneNumbers/IN/Landline")
    for params in (
        {"InRegion": "XX"},
        {"InRegion": "K4"},
        {"IncomingSMS": "maybe"},
        {"Contains": "1"},
        {"Contains": "12345678901234567"},
        {"Contains": "12-34"},
    ):
        resp = api.get(path, params=params)
        assert resp.status_code == 400, params
        body = resp.json()
        assert body["RestException"]["Status"] == 400
        assert body["RestException"]["Message"]


def test_contains_pattern_language(api: Api) -> None:
    path = api.path("/AvailablePhoneNumbers/IN/Landline")

    def numbers(pattern: str) -> list[str]:
        return [i["phone_number"] for i in api.get(path, params={"Contains": pattern}).json()]

    assert numbers("PRSS") == ["+918023457777"]  # keypad letters: P R S S = 7 7 7 7
    assert numbers("^80") == ["+918023456701", "+918023456702", "+918023457777"]
    assert numbers("02$") == ["+911123456702", "+918023456702"]
    assert numbers("4567*1") == ["+911123456701", "+912223456701", "+918023456701"]
