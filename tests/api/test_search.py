"""Searching numbers for sale over the API: the Contains language, every filter and their
combinations, bad input, empty answers, and which numbers a page holds (spread or
sequential), on both stores, in-process and over real HTTP."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from typing import Any

import pytest

from exophone.domain import patterns
from exophone.service import inventory
from tests.conftest import Api, L, M, spec

LANDLINES = "/AvailablePhoneNumbers/IN/Landline"
# Numbers beyond the shared world, for the filters and the pattern language.
EXTRA: list[tuple[str, Any, str, dict[str, Any]]] = [
    ("+918035693770", L, "KA", {"sms": True}),  # FLOWERS = 3569377
    ("+912235693771", L, "MU", {"sms": False}),  # FLOWERS too
    ("+918022557669", L, "KA", {"sms": True}),  # CALL*NOW = 2255*669
    ("+911123457777", L, "DL", {"sms": True, "vanity": True}),
    ("+918023456703", L, "KA", {"sms": True, "voice": False}),
    ("+919876543203", M, "MH", {"sms": True, "voice": False}),
]


@pytest.fixture
def extra(api: Api) -> Api:
    ctx = api.world.ctx
    specs = []
    for number, kind, region, kw in EXTRA:
        flags = dict(kw)
        voice = flags.pop("voice", None)
        made = spec(ctx, number, kind, region, **flags)
        specs.append(made if voice is None else replace(made, voice=voice))
    inventory.add_numbers(ctx, specs)
    return api


def _search(api: Api, path: str = LANDLINES, **params: str) -> list[dict[str, Any]]:
    resp = api.get(api.path(path), params=params)
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()
    return items


def _numbers(api: Api, path: str = LANDLINES, **params: str) -> list[str]:
    return [i["phone_number"] for i in _search(api, path, **params)]


def _bad(api: Api, **params: str) -> str:
    resp = api.get(api.path(LANDLINES), params=params)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["RestException"]["Status"] == 400
    message: str = body["RestException"]["Message"]
    return message


# -- filters -----------------------------------------------------------------------------------


def test_voice_enabled_keeps_the_numbers_that_take_calls(extra: Api) -> None:
    everything = _numbers(extra)
    assert "+918023456703" in everything
    voiced = _search(extra, VoiceEnabled="true")
    assert [i["phone_number"] for i in voiced] == [n for n in everything if n != "+918023456703"]
    assert all(i["capabilities"]["voice"] for i in voiced)
    assert _numbers(extra, VoiceEnabled="false") == everything
    mobiles = _numbers(extra, "/AvailablePhoneNumbers/IN/Mobile", VoiceEnabled="yes")
    assert mobiles == ["+919876543201", "+919876543202"]


def test_vanity_keeps_the_vanity_numbers_only(extra: Api) -> None:
    found = _search(extra, Vanity="true")
    assert [i["phone_number"] for i in found] == ["+911123457777", "+918023457777"]
    assert all(i["vanity_number"] for i in found)
    assert _numbers(extra, Vanity="false") == _numbers(extra)
    assert _numbers(extra, "/AvailablePhoneNumbers/IN/Mobile", Vanity="true") == []


@pytest.mark.parametrize("name", ["VoiceEnabled", "Vanity"])
def test_filter_values_other_than_true_or_false_answer_400(api: Api, name: str) -> None:
    for value in ("maybe", "2", "ja"):
        assert _bad(api, **{name: value}) == f"{name} must be true or false, not '{value}'"


CONTAINS = [None, "23", "^80", "3456", "FLOWERS", "7777$", "80*3", "01$"]


def test_every_combination_of_filters(extra: Api) -> None:
    """InRegion, IncomingSMS, VoiceEnabled, Vanity and Contains, each on or off: the answer
    is exactly the numbers of the unfiltered list that match them all, in number order."""
    everything = _search(extra, PageSize="1000")
    for region, sms, voice, vanity, contains in itertools.product(
        [None, "KA"], [False, True], [False, True], [False, True], CONTAINS
    ):
        params = {"InRegion": region, "Contains": contains}
        params |= {
            "IncomingSMS": "true" if sms else None,
            "VoiceEnabled": "true" if voice else None,
        }
        params |= {"Vanity": "true" if vanity else None}
        regex = re.compile(".*" if contains is None else _regex(contains))
        expected = [
            i["phone_number"]
            for i in everything
            if (region is None or i["region"] == region)
            and (i["capabilities"]["sms"] or not sms)
            and (i["capabilities"]["voice"] or not voice)
            and (i["vanity_number"] or not vanity)
            and regex.fullmatch(i["phone_number"][3:])
        ]
        sent = {k: v for k, v in params.items() if v is not None}
        assert _numbers(extra, **sent) == expected, sent


def _regex(contains: str) -> str:
    return patterns.parse(contains).like.replace("%", ".*").replace("_", ".")


# -- the pattern language --------------------------------------------------------------------


@pytest.mark.parametrize("word", ["FLOWERS", "flowers", "FloWerS", "356*377", "35693*7"])
def test_letters_stand_for_their_keypad_digits(extra: Api, word: str) -> None:
    assert _numbers(extra, Contains=word) == ["+912235693771", "+918035693770"]


def test_a_star_matches_any_one_digit(extra: Api) -> None:
    assert _numbers(extra, Contains="CALL*NOW") == ["+918022557669"]
    assert _numbers(extra, Contains="8023*567*1") == ["+918023456701"]
    assert _numbers(extra, Contains="**") == _numbers(extra)
    assert _numbers(extra, Contains="******7777") == ["+911123457777", "+918023457777"]


def test_anchors_hold_the_pattern_to_the_start_or_the_end(extra: Api) -> None:
    assert _numbers(extra, Contains="^22") == ["+912223456701", "+912235693771"]
    assert _numbers(extra, Contains="^1123") == ["+911123456701", "+911123456702", "+911123457777"]
    assert _numbers(extra, Contains="701$") == [
        "+911123456701", "+912223456701", "+918023456701",
    ]  # fmt: skip
    assert _numbers(extra, Contains="^8023456701$") == ["+918023456701"]
    assert _numbers(extra, Contains="^023") == []  # 023 is inside, not at the start
    assert _numbers(extra, Contains="8023$") == []
    # ^ sent as it is in a URL, percent-encoded.
    resp = extra.get(extra.path(LANDLINES) + "?Contains=%5E1123&InRegion=DL&PageSize=2")
    found = [i["phone_number"] for i in resp.json()]
    assert len(found) == 2
    assert set(found) <= {"+911123456701", "+911123456702", "+911123457777"}


def test_patterns_of_2_to_16_characters(extra: Api) -> None:
    assert len(_numbers(extra, Contains="80")) == 6
    assert _numbers(extra, Contains="1234567890123456") == []
    assert _numbers(extra, Contains="^1234567890123456$") == []
    assert _numbers(extra, Contains="****************") == []  # no number has 16 digits
    for text in ("1", "^1$", "*", "12345678901234567", "^" + "A" * 17):
        assert _bad(extra, Contains=text).startswith(f"Invalid Contains '{text}'")


@pytest.mark.parametrize(
    "text", ["12-3", "+9180", "80%", "8_0", "1 2", "^^12", "12$$", "1^2", "(80)", "\u0663\u0663"]
)
def test_bad_patterns_answer_400_explaining_the_language(api: Api, text: str) -> None:
    message = _bad(api, Contains=text)
    assert message.startswith("Invalid Contains")
    for part in ("2 to 16 characters", "digits", "keypad", "FLOWERS", "'*'", "'^'", "'$'"):
        assert part in message


def test_an_empty_contains_is_no_filter(api: Api) -> None:
    assert _numbers(api, Contains="") == _numbers(api)


@pytest.mark.parametrize("text", ["00000000", "^00", "1*1*1*1*1*1", "99$", "QQQQQ"])
def test_no_match_is_an_empty_array(extra: Api, text: str) -> None:
    for params in ({}, {"InRegion": "KA"}, {"IncomingSMS": "true", "Vanity": "true"}):
        assert _search(extra, Contains=text, **params) == []
        assert _search(extra, "/AvailablePhoneNumbers/MY/Landline", Contains=text) == []


def test_sold_numbers_are_not_found(extra: Api) -> None:
    extra.buy("+918035693770")
    assert _numbers(extra, Contains="FLOWERS") == ["+912235693771"]
    assert _numbers(extra, Contains="^8035693770") == []


# -- which numbers a page holds ----------------------------------------------------------------


@pytest.fixture
def many(api: Api) -> Api:
    """Three hundred more Indian landlines, so a page is a small part of the matches."""
    inventory.generate_numbers(api.world.ctx, "IN", L, 300, seed=21)
    return api


def test_page_size_bounds_a_spread_search(many: Api) -> None:
    for size in (1, 7, 50):
        found = _numbers(many, PageSize=str(size))
        assert len(found) == size
        assert found == sorted(set(found))


def test_two_users_searching_alike_get_different_numbers(many: Api) -> None:
    assert many.world.ctx.settings.search_order is None  # the default: spread
    pages = [tuple(_numbers(many, PageSize="5")) for _ in range(20)]
    assert len(set(pages)) > 10
    assert all(list(p) == sorted(p) for p in pages)
    contains = [tuple(_numbers(many, Contains="5*", PageSize="2")) for _ in range(20)]
    assert len(set(contains)) > 10


def test_sequential_order_answers_the_first_matches_every_time(many: Api) -> None:
    ctx = many.world.ctx
    ctx.settings = ctx.settings.with_(search_order="sequential")
    everything = _numbers(many, PageSize="1000")
    assert everything == sorted(everything)
    for params in ({}, {"Contains": "55"}, {"Contains": "^11"}, {"InRegion": "KA"}):
        first = _numbers(many, PageSize="5", **params)
        assert len(first) == 5
        assert [_numbers(many, PageSize="5", **params) for _ in range(3)] == [first] * 3
    assert _numbers(many, PageSize="5") == everything[:5]
