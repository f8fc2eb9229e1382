"""Generated numbers: valid by phonenumbers, of the asked type and region, distinct, seeded."""

from __future__ import annotations

import dataclasses
import random
import re

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from exophone.domain import generate as generate_module
from exophone.domain.errors import BadRequest
from exophone.domain.generate import GeneratedNumber, generate, is_vanity
from exophone.domain.numbers import NumberType
from exophone.domain.regions import IN_CIRCLES

LANDLINE, MOBILE, TOLL_FREE = NumberType.LANDLINE, NumberType.MOBILE, NumberType.TOLL_FREE

# What a vanity ending looks like, written independently of the generator.
VANITY_ENDING = re.compile(
    r"(\d)\1\1\1$"  # 7777
    r"|(?:0123|1234|2345|3456|4567|5678|6789)$"  # runs up
    r"|(?:9876|8765|7654|6543|5432|4321|3210)$"  # runs down
    r"|(\d)(\d)\2\3$"  # 1212
    r"|[1-9]000$"  # 5000
)


def numbers(
    country: str,
    number_type: NumberType,
    count: int,
    seed: int = 7,
    **kwargs: object,
) -> list[GeneratedNumber]:
    return list(generate(country, number_type, count, rng=random.Random(seed), **kwargs))  # type: ignore[arg-type]


def check(n: GeneratedNumber, country: str, number_type: NumberType) -> phonenumbers.PhoneNumber:
    """The generated number is what phonenumbers, parsing it afresh, says it is."""
    parsed = phonenumbers.parse(n.e164)
    assert phonenumbers.is_valid_number(parsed), n
    assert number_type.accepts(phonenumbers.number_type(parsed)), n
    assert phonenumbers.region_code_for_number(parsed) == country, n
    assert phonenumbers.format_number(parsed, PhoneNumberFormat.E164) == n.e164
    assert phonenumbers.national_significant_number(parsed) == n.national
    assert n.country == country
    assert n.number_type is number_type
    assert n.vanity == bool(VANITY_ENDING.search(n.national)), n
    return parsed


# --- India -----------------------------------------------------------------


@pytest.mark.parametrize("circle", sorted(IN_CIRCLES))
def test_india_landlines_of_each_circle_carry_its_std_codes(circle: str) -> None:
    got = numbers("IN", LANDLINE, 8, region=circle)
    assert len(got) == 8
    stds = IN_CIRCLES[circle].std_codes
    for n in got:
        parsed = check(n, "IN", LANDLINE)
        assert phonenumbers.number_type(parsed) == PhoneNumberType.FIXED_LINE
        assert n.region == circle
        assert len(n.national) == 10
        assert n.national.startswith(stds), n


@pytest.mark.parametrize("circle", sorted(IN_CIRCLES))
def test_india_mobiles_and_toll_free_of_each_circle(circle: str) -> None:
    for n in numbers("IN", MOBILE, 5, region=circle):
        parsed = check(n, "IN", MOBILE)
        assert phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE
        assert n.region == circle
        assert len(n.national) == 10
        assert n.national[0] in "6789"
    for n in numbers("IN", TOLL_FREE, 5, region=circle):
        check(n, "IN", TOLL_FREE)
        assert n.region == circle
        assert n.national.startswith("1800")


def test_india_without_region_spreads_over_circles() -> None:
    landlines = numbers("IN", LANDLINE, 600)
    for n in landlines:
        check(n, "IN", LANDLINE)
        assert n.national.startswith(IN_CIRCLES[n.region].std_codes), n
    assert len({n.region for n in landlines}) >= 20
    assert len({n.national[:3] for n in landlines}) > 50  # many cities, not only metros
    mobiles = numbers("IN", MOBILE, 600)
    for n in mobiles:
        check(n, "IN", MOBILE)
    assert len({n.region for n in mobiles}) >= 20
    assert {n.national[0] for n in mobiles} == set("6789")


def test_india_toll_free_numbers_start_1800() -> None:
    got = numbers("IN", TOLL_FREE, 300)
    for n in got:
        check(n, "IN", TOLL_FREE)
        assert n.national.startswith("1800")
        assert n.region in IN_CIRCLES
    assert {len(n.national) for n in got} == {10, 11}


def test_region_is_case_insensitive() -> None:
    assert {n.region for n in numbers("IN", LANDLINE, 5, region="mu")} == {"MU"}


# --- other countries ---------------------------------------------------------


@pytest.mark.parametrize("country", ["SG", "MY", "US", "GB"])
@pytest.mark.parametrize("number_type", list(NumberType))
def test_other_countries_all_types(country: str, number_type: NumberType) -> None:
    got = numbers(country, number_type, 300)
    assert len(got) == 300
    for n in got:
        check(n, country, number_type)
        assert n.region == country
    assert len({n.national[:3] for n in got}) > 1 or number_type is TOLL_FREE


def test_countries_that_tell_fixed_and_mobile_apart_get_plain_types() -> None:
    for n in numbers("GB", LANDLINE, 50):
        assert phonenumbers.number_type(phonenumbers.parse(n.e164)) == PhoneNumberType.FIXED_LINE
    for n in numbers("SG", MOBILE, 50):
        assert phonenumbers.number_type(phonenumbers.parse(n.e164)) == PhoneNumberType.MOBILE


def test_us_landlines_are_fixed_line_or_mobile() -> None:
    # phonenumbers has one pattern for US fixed lines and mobiles
    for n in numbers("US", LANDLINE, 50):
        parsed = phonenumbers.parse(n.e164)
        assert phonenumbers.number_type(parsed) == PhoneNumberType.FIXED_LINE_OR_MOBILE


@pytest.mark.parametrize(
    ("country", "number_type"),
    [
        ("CA", LANDLINE),  # shares +1 with the US
        ("KZ", MOBILE),  # shares +7 with Russia
        ("JE", MOBILE),  # shares +44 with the UK
        ("IT", LANDLINE),  # national numbers with a leading 0
        ("AU", MOBILE),
        ("DE", MOBILE),
        ("JP", TOLL_FREE),
    ],
)
def test_any_country_works(country: str, number_type: NumberType) -> None:
    got = numbers(country, number_type, 100)
    for n in got:
        check(n, country, number_type)
        assert n.region == country


def test_italian_landlines_keep_their_leading_zero() -> None:
    got = numbers("IT", LANDLINE, 50)
    assert all(n.national.startswith("0") for n in got)
    assert all(n.e164.startswith("+390") for n in got)


@pytest.mark.parametrize(
    ("country", "number_type"),
    [("CA", TOLL_FREE), ("JE", TOLL_FREE), ("KZ", TOLL_FREE), ("TA", MOBILE)],
)
def test_type_missing_from_metadata_is_bad_request(country: str, number_type: NumberType) -> None:
    # North American toll-free numbers are all filed under the US; Tristan da
    # Cunha has no mobiles
    with pytest.raises(BadRequest, match=f"{country} has no {number_type.value} numbers"):
        generate(country, number_type, 1, rng=random.Random(1))


# --- arguments ---------------------------------------------------------------


@pytest.mark.parametrize("country", ["XX", "ZZ", "", "IND", "001"])
def test_unknown_country_is_bad_request(country: str) -> None:
    with pytest.raises(BadRequest, match="not a country"):
        generate(country, MOBILE, 1, rng=random.Random(1))


@pytest.mark.parametrize(
    ("country", "region"),
    [("IN", "ZZ"), ("IN", "IN"), ("IN", "Delhi"), ("SG", "DL"), ("MY", "SG")],
)
def test_region_not_of_the_country_is_bad_request(country: str, region: str) -> None:
    with pytest.raises(BadRequest, match="not a region of"):
        generate(country, LANDLINE, 1, rng=random.Random(1), region=region)


def test_country_itself_is_its_only_region() -> None:
    got = numbers("MY", LANDLINE, 5, region="MY")
    assert {n.region for n in got} == {"MY"}


def test_count_zero_and_negative() -> None:
    assert numbers("IN", MOBILE, 0) == []
    with pytest.raises(BadRequest, match="count"):
        generate("IN", MOBILE, -1, rng=random.Random(1))


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_vanity_share_out_of_range(share: float) -> None:
    with pytest.raises(BadRequest, match="vanity_share"):
        generate("IN", MOBILE, 1, rng=random.Random(1), vanity_share=share)


def test_lower_case_country() -> None:
    got = numbers("sg", MOBILE, 3)
    assert all(n.country == "SG" for n in got)


# --- distinctness and determinism ---------------------------------------------


def test_numbers_are_distinct() -> None:
    got = numbers("IN", TOLL_FREE, 20_000)
    assert len({n.e164 for n in got}) == 20_000


def test_distinct_in_a_small_space_then_exhausted() -> None:
    # Niue's landlines are a few thousand four-digit numbers
    got = numbers("NU", LANDLINE, 1_500)
    assert len({n.e164 for n in got}) == 1_500
    for n in got[:100]:
        check(n, "NU", LANDLINE)
    with pytest.raises(BadRequest, match="distinct"):
        numbers("NU", LANDLINE, 100_000)


def test_same_seed_same_numbers() -> None:
    first = numbers("IN", LANDLINE, 500, seed=42)
    # a fresh process surveys the metadata anew
    generate_module._plan.cache_clear()
    generate_module._survey.cache_clear()
    second = numbers("IN", LANDLINE, 500, seed=42)
    assert first == second
    assert numbers("GB", MOBILE, 200, seed=3) == numbers("GB", MOBILE, 200, seed=3)
    assert numbers("IN", LANDLINE, 500, seed=43) != first


# --- vanity numbers ---------------------------------------------------------


def test_vanity_share_is_roughly_honoured() -> None:
    got = numbers("IN", MOBILE, 4_000, seed=11)
    share = sum(n.vanity for n in got) / len(got)
    assert 0.035 <= share <= 0.065
    for n in got:
        assert is_vanity(n.national) == n.vanity
        assert bool(VANITY_ENDING.search(n.national)) == n.vanity


def test_vanity_numbers_are_patterned_and_valid() -> None:
    got = numbers("IN", MOBILE, 500, vanity_share=1.0)
    assert all(n.vanity for n in got)
    for n in got:
        check(n, "IN", MOBILE)
        assert VANITY_ENDING.search(n.national), n
    endings = {n.national[-4:] for n in got}
    assert len(endings) > 50  # all kinds of patterns, not one
    longer = re.compile(r"(\d)\1{4}$|[1-9]0000$|01234$|12345$|(\d)(\d)\2\3\2\3$")
    assert any(longer.search(n.national) for n in got)  # five and six digits too


@pytest.mark.parametrize(
    ("country", "number_type"), [("GB", MOBILE), ("SG", LANDLINE), ("US", TOLL_FREE)]
)
def test_vanity_numbers_elsewhere(country: str, number_type: NumberType) -> None:
    got = numbers(country, number_type, 100, vanity_share=1.0)
    for n in got:
        check(n, country, number_type)
        assert n.vanity


def test_no_vanity_when_share_is_zero() -> None:
    got = numbers("IN", LANDLINE, 2_000, vanity_share=0.0)
    assert not any(n.vanity for n in got)
    assert not any(VANITY_ENDING.search(n.national) for n in got)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("9876547777", True),
        ("9876541234", True),
        ("9876549876", True),
        ("9876541212", True),
        ("9876545000", True),
        ("9876540000", True),
        ("9876545001", False),
        ("9876541243", False),
        ("9876541122", False),
        ("777", False),
        ("", False),
    ],
)
def test_is_vanity(digits: str, expected: bool) -> None:
    assert is_vanity(digits) is expected


def test_generated_number_is_frozen() -> None:
    n = numbers("IN", MOBILE, 1)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.region = "DL"  # type: ignore[misc]
