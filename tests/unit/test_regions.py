"""India's telecom circles and the regions of other countries."""

from __future__ import annotations

import dataclasses

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from exophone.domain.regions import (
    IN_CIRCLE_CODES,
    IN_CIRCLES,
    REFERENCE_IN_REGIONS,
    STD_CITIES,
    Circle,
    region_codes,
)

NOTES_CIRCLES = [
    *("AP", "AS", "BR", "DL", "GJ", "HP", "HR", "JK", "KA", "KL", "KO"),
    *("MH", "MP", "MU", "NE", "OR", "PB", "RJ", "TN", "UE", "UW", "WB"),
]
ALL_STD = [(circle.code, std) for circle in IN_CIRCLES.values() for std in circle.std_codes]


def test_the_22_circles_of_the_notes() -> None:
    assert sorted(IN_CIRCLES) == NOTES_CIRCLES
    assert list(IN_CIRCLE_CODES) == NOTES_CIRCLES
    for code, circle in IN_CIRCLES.items():
        assert circle.code == code
        assert circle.name
        assert circle.std_codes


def test_circle_names() -> None:
    assert IN_CIRCLES["MU"].name == "Mumbai"
    assert IN_CIRCLES["KO"].name == "Kolkata"
    assert IN_CIRCLES["UE"].name == "UP East"
    assert IN_CIRCLES["NE"].name == "North East"


def test_reference_regions_are_the_ten_supported() -> None:
    assert set(REFERENCE_IN_REGIONS) == {"AP", "DL", "KA", "KL", "MH", "MP", "MU", "RJ", "TN", "WB"}
    assert len(REFERENCE_IN_REGIONS) == 10
    assert set(REFERENCE_IN_REGIONS) <= set(IN_CIRCLES)


@pytest.mark.parametrize(
    ("circle", "std"),
    [
        ("DL", "11"),
        ("MU", "22"),
        ("KO", "33"),
        ("TN", "44"),
        ("KA", "80"),
        ("AP", "40"),
        ("GJ", "79"),
        ("MH", "20"),
        ("MH", "712"),
        ("MH", "253"),
        ("RJ", "141"),
        ("UE", "522"),
    ],
)
def test_well_known_std_codes(circle: str, std: str) -> None:
    assert std in IN_CIRCLES[circle].std_codes


def test_metros_have_their_own_circles() -> None:
    assert IN_CIRCLES["MU"].std_codes[0] == "22"
    assert "22" not in IN_CIRCLES["MH"].std_codes
    assert IN_CIRCLES["KO"].std_codes == ("33",)
    assert "33" not in IN_CIRCLES["WB"].std_codes


def test_std_codes_are_well_formed_and_unique() -> None:
    stds = [std for _, std in ALL_STD]
    assert len(stds) == len(set(stds))
    for std in stds:
        assert std.isdigit()
        assert 2 <= len(std) <= 4
        assert not std.startswith("0")
        # no code is a prefix of another, so a number's STD code is unambiguous
        assert not any(other != std and other.startswith(std) for other in stds)
    assert set(STD_CITIES) == set(stds)


@pytest.mark.parametrize(("circle", "std"), ALL_STD)
def test_every_std_code_gives_valid_fixed_line_numbers(circle: str, std: str) -> None:
    rest = 10 - len(std)
    found = []
    for lead in range(20, 80):
        nsn = f"{std}{lead}{'3456789'[: rest - 2]}"
        number = phonenumbers.parse("+91" + nsn)
        if (
            phonenumbers.is_valid_number(number)
            and phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE
        ):
            found.append(nsn)
    assert found, f"no valid fixed-line number under STD {std} ({circle})"


def test_region_codes() -> None:
    assert region_codes("IN") == tuple(NOTES_CIRCLES)
    assert region_codes("in") == tuple(NOTES_CIRCLES)
    assert region_codes("MY") == ("MY",)
    assert region_codes("sg") == ("SG",)
    assert region_codes("US") == ("US",)


def test_circle_is_frozen() -> None:
    circle = IN_CIRCLES["DL"]
    assert isinstance(circle, Circle)
    with pytest.raises(dataclasses.FrozenInstanceError):
        circle.name = "Dilli"  # type: ignore[misc]
