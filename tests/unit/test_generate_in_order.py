"""``generate_in_order``: the bulk loader's numbers, as valid as ``generate``'s, ascending."""

from __future__ import annotations

import random

import pytest

from exophone.domain import generate as generate_module
from exophone.domain.errors import BadRequest
from exophone.domain.generate import GeneratedNumber, generate_in_order
from exophone.domain.numbers import NumberType
from exophone.domain.regions import IN_CIRCLES
from tests.unit.test_generate import check

LANDLINE, MOBILE, TOLL_FREE = NumberType.LANDLINE, NumberType.MOBILE, NumberType.TOLL_FREE


def in_order(
    country: str, number_type: NumberType, count: int, seed: int = 7, **kwargs: object
) -> list[GeneratedNumber]:
    rng = random.Random(seed)
    return list(generate_in_order(country, number_type, count, rng=rng, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("country", "number_type"),
    [
        ("IN", MOBILE),
        ("IN", LANDLINE),
        ("IN", TOLL_FREE),
        ("SG", MOBILE),
        ("MY", MOBILE),
        ("US", LANDLINE),
        ("GB", MOBILE),
    ],
)
def test_every_number_is_valid_distinct_and_in_ascending_order(
    country: str, number_type: NumberType
) -> None:
    got = in_order(country, number_type, 3_000)
    assert len(got) == 3_000
    assert len({n.e164 for n in got}) == 3_000
    for length in {len(n.e164) for n in got}:  # IN toll-free, MY mobiles: two lengths
        same = [n.e164 for n in got if len(n.e164) == length]
        assert same == sorted(same)
    for n in got:
        check(n, country, number_type)
    if country in ("IN", "SG", "US", "GB") and number_type is not TOLL_FREE:
        assert [n.e164 for n in got] == sorted(n.e164 for n in got)  # one length: all sorted


def test_indian_landlines_carry_their_circles_std_codes() -> None:
    for n in in_order("IN", LANDLINE, 2_000):
        check(n, "IN", LANDLINE)
        assert n.national.startswith(IN_CIRCLES[n.region].std_codes), n
    for n in in_order("IN", LANDLINE, 300, region="KA"):
        assert n.region == "KA" and n.national.startswith(IN_CIRCLES["KA"].std_codes)


def test_a_large_share_is_split_by_the_next_digit_and_stays_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(generate_module, "_MOST_AT_ONCE", 50)
    got = in_order("SG", MOBILE, 5_000, seed=3)
    assert len({n.e164 for n in got}) == 5_000
    assert [n.e164 for n in got] == sorted(n.e164 for n in got)


def test_mixed_lengths_are_all_valid() -> None:
    got = in_order("DE", LANDLINE, 2_000)
    assert len({n.e164 for n in got}) == 2_000
    for n in got:
        check(n, "DE", LANDLINE)


def test_vanity_share_and_flags() -> None:
    got = in_order("IN", MOBILE, 6_000, seed=11)
    assert 0.035 <= sum(n.vanity for n in got) / len(got) <= 0.065
    assert not any(n.vanity for n in in_order("IN", MOBILE, 500, vanity_share=0.0))


def test_seeded_and_reproducible() -> None:
    assert in_order("IN", MOBILE, 1_000, seed=5) == in_order("IN", MOBILE, 1_000, seed=5)
    assert in_order("IN", MOBILE, 1_000, seed=5) != in_order("IN", MOBILE, 1_000, seed=6)


def test_a_used_up_space_passes_its_share_on_then_says_so() -> None:
    got = in_order("NU", LANDLINE, 1_500)  # a few thousand numbers in all
    assert len({n.e164 for n in got}) == 1_500
    with pytest.raises(BadRequest, match="distinct"):
        in_order("NU", LANDLINE, 100_000)


def test_arguments_are_checked_as_generate_does() -> None:
    with pytest.raises(BadRequest, match="not a region of IN"):
        generate_in_order("IN", LANDLINE, 5, rng=random.Random(1), region="ZZ")
    with pytest.raises(BadRequest, match="count"):
        generate_in_order("IN", LANDLINE, -1, rng=random.Random(1))
    assert in_order("IN", LANDLINE, 0) == []
