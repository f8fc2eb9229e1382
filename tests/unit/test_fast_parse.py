"""``parse_e164_fast`` answers only where ``phonenumbers.parse`` would give the same number."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from exophone.domain.numbers import parse_e164_fast

CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def test_agrees_with_phonenumbers_on_random_texts() -> None:
    rng = random.Random(20261130)
    compared = 0
    for _ in range(60_000):
        code = rng.choice(CODES)
        rest = rng.randrange(10 ** rng.randrange(3, 13))
        text = f"+{code}{rest}" if rng.random() < 0.9 else f"{code}{rest}"
        fast = parse_e164_fast(text)
        if fast is None:
            continue
        try:
            slow = phonenumbers.parse(text if text.startswith("+") else "+" + text, None)
        except phonenumbers.NumberParseException:
            assert not phonenumbers.is_valid_number(fast), text
            continue
        if phonenumbers.is_valid_number(fast) or phonenumbers.is_valid_number(slow):
            compared += 1
            assert (fast.country_code, fast.national_number) == (
                slow.country_code,
                slow.national_number,
            ), text
            assert not slow.italian_leading_zero
    assert compared > 1_000  # the valid numbers are the ones that matter


@pytest.mark.parametrize(
    "text",
    [
        "+919812345678",
        "919812345678",
        "+6591234567",
        "+12025550143",
        "+447911123456",
    ],
)
def test_plain_numbers_take_the_fast_path(text: str) -> None:
    fast = parse_e164_fast(text)
    assert fast is not None
    assert fast == phonenumbers.parse("+" + text.lstrip("+"))


@pytest.mark.parametrize(
    "text",
    [
        "+91 98123 45678",  # spaces: parse's job
        "+9109812345678",  # a trunk zero after the country code
        "+390612345678",  # Italy: a national number with a leading zero
        "+441800201234",  # GB's national prefix for parsing matches 180020
        "+112025550143",  # +1 then 1: the NANP national prefix
        "+80012345678",  # +800 is not a country's
        "+0123456789",
        "+12",
        "",
    ],
)
def test_anything_else_is_left_to_phonenumbers(text: str) -> None:
    assert parse_e164_fast(text) is None
