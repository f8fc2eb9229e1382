"""The Contains pattern language, the search index's tokens, and how a search is planned."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from exophone.domain.errors import BadRequest
from exophone.domain.patterns import (
    HELP,
    MAX_LENGTH,
    NO_PATTERN,
    SCAN_BUDGET,
    Path,
    Pattern,
    bucket,
    bucketed,
    filter_tokens,
    grams,
    grams_text,
    match_chance,
    number_filter_tokens,
    parse,
    plan,
)

KEYPAD = {
    "2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL",
    "6": "MNO", "7": "PQRS", "8": "TUV", "9": "WXYZ",
}  # fmt: skip


# -- the language ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "body", "start", "end", "like"),
    [
        ("12", "12", False, False, "%12%"),
        ("2345", "2345", False, False, "%2345%"),
        ("FLOWERS", "3569377", False, False, "%3569377%"),
        ("flowers", "3569377", False, False, "%3569377%"),
        ("FloWers", "3569377", False, False, "%3569377%"),
        ("80*3", "80*3", False, False, "%80_3%"),
        ("**77", "**77", False, False, "%__77%"),
        ("^80", "80", True, False, "80%"),
        ("01$", "01", False, True, "%01"),
        ("^8023456701$", "8023456701", True, True, "8023456701"),
        ("^8*$", "8*", True, True, "8_"),
        ("  77  ", "77", False, False, "%77%"),
        ("CALL*NOW", "2255*669", False, False, "%2255_669%"),
        ("1234567890123456", "1234567890123456", False, False, "%1234567890123456%"),
        ("^1234567890123456$", "1234567890123456", True, True, "1234567890123456"),
    ],
)
def test_patterns_parse_to_digits_wildcards_and_anchors(
    text: str, body: str, start: bool, end: bool, like: str
) -> None:
    pattern = parse(text)
    assert pattern == Pattern(body, start, end)
    assert pattern.like == like


def test_every_letter_stands_for_its_keypad_digit() -> None:
    for digit, letters in KEYPAD.items():
        for letter in letters:
            assert parse(letter * 2).body == digit * 2
            assert parse(letter.lower() * 2).body == digit * 2


def test_length_counts_digits_letters_and_stars_but_not_anchors() -> None:
    assert parse("^12$").body == "12"
    assert parse("*" * MAX_LENGTH).body == "*" * MAX_LENGTH
    assert parse("^" + "9" * MAX_LENGTH + "$").fixed == MAX_LENGTH
    for too_short in ("1", "^1", "1$", "^1$", "*"):
        with pytest.raises(BadRequest):
            parse(too_short)
    for too_long in ("1" * (MAX_LENGTH + 1), "^" + "A" * (MAX_LENGTH + 1) + "$"):
        with pytest.raises(BadRequest):
            parse(too_long)


@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "^", "$", "^$", "1", "12-3", "1 2", "+9180", "80%", "8_0", "1.2", "(80)",
        "\u0663\u0663", "\uff11\uff12", "ßß", "éé", "^^12", "12$$", "1^2", "$12", "12^",
        "1$2", "12?", "\x0012",
    ],
)  # fmt: skip
def test_bad_patterns_answer_an_explanation_of_the_language(text: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse(text)
    message = info.value.message
    assert message.startswith("Invalid Contains")
    assert HELP in message
    for part in ("2 to 16 characters", "digits", "letters", "keypad", "'*'", "'^'", "'$'"):
        assert part in message


def test_a_long_bad_pattern_is_cut_short_in_the_message() -> None:
    with pytest.raises(BadRequest) as info:
        parse("x" * 500)
    assert len(info.value.message) < len(HELP) + 80


def test_fixed_runs_and_prefix() -> None:
    p = parse("^80*3456**7")
    assert (p.fixed, p.runs, p.prefix) == (7, ("80", "3456", "7"), "80")
    assert parse("80*3").prefix == ""  # not anchored
    assert parse("^*803").prefix == ""  # anchored on a wildcard
    assert parse("**").runs == ()


# -- index tokens ------------------------------------------------------------------------------


def test_grams_are_the_4_digit_windows_counted_by_letter() -> None:
    assert grams("8023456701") == [
        "8023a", "0234a", "2345a", "3456a", "4567a", "5670a", "6701a",
        "s8246a", "s0357a", "s2460a", "s3571a",  # spaced: digits 0, 2, 4, 6; 1, 3, 5, 7 ...
    ]  # fmt: skip
    assert grams("97777777") == [
        "9777a", "7777a", "7777b", "7777c", "7777d", "s9777a", "s7777a",
    ]  # fmt: skip
    assert grams("12121212") == [
        "1212a", "2121a", "1212b", "2121b", "1212c", "s1111a", "s2222a",
    ]  # fmt: skip
    assert grams("123") == []
    assert grams("1234") == ["1234a"]  # too short for a spaced 4-gram (seven digits)
    assert grams("1234567") == ["1234a", "2345a", "3456a", "4567a", "s1357a"]
    assert grams_text("97777777") == "9777a 7777a 7777b 7777c 7777d s9777a s7777a"
    assert len(grams("1" * MAX_LENGTH)) == (MAX_LENGTH - 3) + (MAX_LENGTH - 6)
    assert grams("1" * MAX_LENGTH)[MAX_LENGTH - 4] == "1111m"
    assert grams("1" * MAX_LENGTH)[-1] == "s1111j"


def test_postgresql_holds_gapped_4_grams_too() -> None:
    """Two digits, two places skipped, two digits: positions 0, 1, 4, 5; 1, 2, 5, 6 ..."""
    assert grams("8023456701", gapped=True)[-5:] == [
        "g8045a", "g0256a", "g2367a", "g3470a", "g4501a",
    ]  # fmt: skip
    assert grams("8023456701", gapped=True)[:-5] == grams("8023456701")
    assert grams("12345", gapped=True) == grams("12345")  # too short: six digits
    assert grams("777777", gapped=True)[-1] == "g7777a"
    assert grams("7777777", gapped=True)[-2:] == ["g7777a", "g7777b"]


@pytest.mark.parametrize(
    ("text", "gapped"),
    [
        ("12**3456", ("g1234a",)),
        ("12**34", ("g1234a",)),
        ("12*4567", ("g1256a",)),  # digits 0, 1, 4, 5 of the pattern
        ("123456", ("g1256a",)),
        ("7777777", ("g7777b",)),
        ("1*2*3*4", ()),
    ],
)
def test_a_pattern_needs_the_gapped_tokens_of_its_pairs(text: str, gapped: tuple[str, ...]) -> None:
    assert parse(text).gapped == gapped


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("12", ()),
        ("123", ()),
        ("1*2*3*4", ("s1234a",)),  # no run of four: its spaced 4-gram
        ("123*567", ("s1357a",)),
        ("1*2*3*4*5", ("s1234a", "s2345a")),
        ("9*9*9*9*9", ("s9999b",)),
        ("1*2*3**4", ()),  # neither
        ("1234", ("1234a",)),
        ("^1234$", ("1234a",)),
        ("12345", ("1234a", "2345a")),
        ("77777", ("7777b",)),
        ("7777777", ("7777d",)),
        ("1234*1234", ("1234b",)),
        ("12*4567", ("4567a",)),
        ("FLOWERS", ("3569a", "5693a", "6937a", "9377a")),
    ],
)
def test_a_pattern_needs_the_tokens_of_its_long_runs(text: str, tokens: tuple[str, ...]) -> None:
    assert parse(text).tokens == tokens


def test_every_number_a_pattern_matches_holds_the_patterns_tokens() -> None:
    """The index's promise: it can only answer too many numbers, never too few."""
    rng = random.Random(4)
    for _ in range(3000):
        # Few distinct digits, so repeated 4-grams are common.
        alphabet = rng.choice(["0123456789", "17", "7", "120"])
        national = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 16)))
        held = set(grams(national))
        width = rng.randint(2, len(national))
        at = rng.randint(0, len(national) - width)
        body = "".join("*" if rng.random() < 0.2 else ch for ch in national[at : at + width])
        if body.count("*") == len(body):
            continue
        pattern = parse(("^" if at == 0 and rng.random() < 0.5 else "") + body)
        assert re.fullmatch(pattern.like.replace("%", ".*").replace("_", "."), national)
        assert set(pattern.tokens) <= held, (national, pattern)
        assert set(pattern.gapped) <= set(grams(national, gapped=True)), (national, pattern)


# -- plans -------------------------------------------------------------------------------------


def test_no_pattern_walks_the_for_sale_index() -> None:
    assert plan(None, 50) is NO_PATTERN
    assert NO_PATTERN.path is Path.SCAN
    assert NO_PATTERN.like is None


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("12", Path.SCAN),  # a page within a few hundred entries
        ("123", Path.SCAN),  # no 4-digit run for the index
        ("1*2*3*4", Path.INDEX),  # its spaced 4-gram
        ("1*2*3**4", Path.SCAN),  # rare, but nothing for the index to look up
        ("01$", Path.SCAN),
        ("1234", Path.INDEX),  # 1 in 1,400 numbers: the index
        ("7777", Path.INDEX),
        ("12345678", Path.INDEX),
        ("FLOWERS", Path.INDEX),
        ("98**7654", Path.INDEX),
        ("7777$", Path.INDEX),
        ("^80", Path.PREFIX),  # a range of the for-sale index
        ("^8023456701", Path.PREFIX),  # the whole number: a range of one
        ("^80**1", Path.PREFIX),
        ("^8*******1234567", Path.INDEX),  # a short range, then a rare rest
        ("^*123", Path.SCAN),  # anchored on a wildcard: no range
    ],
)
def test_the_plan_follows_the_patterns_literal_runs(text: str, path: Path) -> None:
    chosen = plan(parse(text), 50, calling_code=91)
    assert chosen.path is path
    assert chosen.like == parse(text).like
    if path is Path.INDEX:
        assert chosen.tokens == parse(text).tokens
    if path is Path.PREFIX:
        assert chosen.prefix == "+91" + parse(text).prefix


def test_the_scan_estimate_is_a_page_over_the_chance_of_a_match() -> None:
    assert match_chance(parse("12")) == pytest.approx(9 / 100)
    assert match_chance(parse("^12")) == pytest.approx(1 / 100)
    assert match_chance(parse("12$")) == pytest.approx(1 / 100)
    assert match_chance(parse("^80**1"), beyond_prefix=True) == pytest.approx(1 / 10)
    assert match_chance(parse("**")) == 1.0
    two = plan(parse("12"), 50)
    assert two.scan_estimate == pytest.approx(50 / 0.09)
    assert two.scan_estimate <= SCAN_BUDGET
    assert plan(parse("1234"), 50).scan_estimate > SCAN_BUDGET


def test_a_prefix_needs_the_countrys_calling_code() -> None:
    assert plan(parse("^80"), 50).path is Path.SCAN  # no calling code known
    assert plan(parse("^80"), 50, calling_code=1).prefix == "+180"


def test_a_larger_page_makes_the_scan_dearer() -> None:
    """Four digits are scanned for when one number is wanted, looked up for a page of 50."""
    assert plan(parse("1234"), 1, 91).path is Path.SCAN
    assert plan(parse("1234"), 50, 91).path is Path.INDEX
    assert plan(parse("12"), 1000, 91).path is Path.SCAN  # no run to look up, whatever the page


def test_postgresql_tokens_carry_the_numbers_bucket() -> None:
    assert bucket("8023456701") == "E"  # digits sum to 36; 36 mod 16 = 4
    assert bucketed("97777777") == (  # 58 mod 16 = 10; with the gapped 4-grams
        "9777aK 7777aK 7777bK 7777cK 7777dK s9777aK s7777aK g9777aK g7777aK g7777bK"
    )
    assert {bucket(str(n)) for n in range(10_000, 10_200)} == set("ABCDEFGHIJKLMNOP")


def test_a_number_holds_the_filter_tokens_of_exactly_the_searches_it_matches() -> None:
    """PostgreSQL's index answers a search's region and flags by its tokens alone: a
    number holds every token of a search if and only if it passes that search's filters
    (within its country and type); a search without a region asks for none."""
    both = (False, True)
    for sms, voice, vanity, region in itertools.product(both, both, both, ("KA", "DL")):
        held = set(number_filter_tokens("IN", "Mobile", region, sms=sms, voice=voice,
                                        vanity=vanity))  # fmt: skip
        for want_sms, want_voice, want_vanity in itertools.product(both, both, both):
            wanted = filter_tokens("IN", "Mobile", "KA", sms=want_sms, voice=want_voice,
                                   vanity=want_vanity)  # fmt: skip
            matches = region == "KA" and all(
                has or not want
                for has, want in ((sms, want_sms), (voice, want_voice), (vanity, want_vanity))
            )
            assert set(wanted) <= held if matches else not set(wanted) <= held
            assert wanted  # a search in a region always asks for something
            assert filter_tokens("IN", "Mobile", None, sms=want_sms) == []
