"""Generating numbers for the pool: valid, of the asked type, distinct and reproducible.

Every number is classified by phonenumbers before it is yielded: it is valid,
its phonenumbers type is one ``NumberType.accepts``, and it belongs to the
asked country (``region_code_for_number``). Nothing here hand-writes numbering
rules except India's STD codes (``exophone.domain.regions``) and the facts
that Indian mobiles start with 6-9 and Indian toll-free numbers with 1800.

How numbers are drawn. For each (country, type), and for India each circle,
the phonenumbers metadata is surveyed once (cached): every three-digit prefix
(one digit past a fixed root such as an STD code) is tried with ten
completions at each length the type allows, one per next digit and the rest
random; a partly valid prefix is refined by one more digit; the prefixes that
gave valid numbers are kept, weighted by the estimated count of valid numbers
under them, each allowed length taking an equal share of the draws (so
Germany's 15-digit landlines do not crowd out its 8-digit ones). A number is
then a weighted prefix plus random digits, kept only if phonenumbers agrees:
one classification per candidate. Where a country tells fixed lines and
mobiles apart, only numbers phonenumbers calls plainly FIXED_LINE (or MOBILE)
are drawn; where it cannot (the US: one pattern for both), the
FIXED_LINE_OR_MOBILE numbers are, so there US Landline and Mobile numbers
come from one space.

Vanity numbers end in an easy pattern (``is_vanity``): a repeated digit
(7777), a run up or down (1234, 9876), a repeated pair (1212) or a round
ending (5000); patterns of five or six digits occur too. Ordinary numbers
never end in such a pattern, so the ``vanity`` flag and the digits agree.
"""

from __future__ import annotations

import functools
import random
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberDesc, PhoneNumberType

from exophone.domain.errors import BadRequest
from exophone.domain.numbers import LIB_TYPE, NumberType
from exophone.domain.regions import IN_CIRCLE_CODES, IN_CIRCLES, INDIA, region_codes


@dataclass(frozen=True, slots=True)
class GeneratedNumber:
    """One generated number.

    ``national`` is the national significant number (digits, no trunk
    prefix); ``region`` is an Indian circle code or the country code.
    """

    e164: str
    national: str
    country: str
    number_type: NumberType
    region: str
    vanity: bool


def generate(
    country: str,
    number_type: NumberType,
    count: int,
    *,
    rng: random.Random,
    region: str | None = None,
    vanity_share: float = 0.05,
) -> Iterator[GeneratedNumber]:
    """Yield ``count`` distinct valid numbers of ``country`` and ``number_type``.

    ``region`` restricts Indian numbers to one circle (any circle when None);
    elsewhere it may only be the country code itself. About ``vanity_share`` of
    the numbers are vanity numbers. The same ``rng`` state gives the same
    numbers. Arguments are checked at once: BadRequest for an unknown country,
    a type the country has no numbers of, a region not of the country, a
    negative count or a share outside 0..1. Should the country run out of
    distinct numbers before ``count``, iteration raises BadRequest.
    """
    plan, code, circle = _checked(country, number_type, count, region, vanity_share)
    return _draw(plan, code, number_type, count, rng, vanity_share, circle)


def generate_in_order(
    country: str,
    number_type: NumberType,
    count: int,
    *,
    rng: random.Random,
    region: str | None = None,
    vanity_share: float = 0.05,
) -> Iterator[GeneratedNumber]:
    """``generate``, but the numbers come in ascending order, for bulk loads.

    Inserted in key order, a batch of numbers touches each page of the
    database's indexes once instead of once per number: a bulk load of
    millions goes several times as fast. Numbers are drawn prefix by prefix
    (``_draw_in_order``), so any count streams in bounded memory. Where a
    country's numbers have several lengths the order is ascending within
    each prefix and nearly so overall. Same arguments, checks and guarantees
    as ``generate``; the numbers differ from ``generate``'s for the same seed.
    """
    plan, code, circle = _checked(country, number_type, count, region, vanity_share)
    return _draw_in_order(plan, code, number_type, count, rng, vanity_share, circle)


def _checked(
    country: str, number_type: NumberType, count: int, region: str | None, vanity_share: float
) -> tuple[_Plan, str, str | None]:
    """The plan, the country code and the circle of a request to generate; BadRequest if bad."""
    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise BadRequest(f"'{country}' is not a country phonenumbers has numbering data for")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise BadRequest(f"count must be a whole number of at least 0, not {count!r}")
    if not 0.0 <= vanity_share <= 1.0:
        raise BadRequest(f"vanity_share must be between 0 and 1, not {vanity_share!r}")
    circle: str | None = None
    if region is not None:
        circle = region.strip().upper()
        valid = region_codes(code)
        if circle not in valid:
            raise BadRequest(
                f"'{region}' is not a region of {code}; the regions are {', '.join(valid)}"
            )
        if code != INDIA:
            circle = None  # the only region is the country itself
    # Only Indian landlines differ by circle (their STD codes); other numbers
    # are drawn alike and given the circle asked for, or a random one.
    by_circle = code == INDIA and number_type is NumberType.LANDLINE
    plan = _plan(code, number_type, circle if by_circle else None)
    if not plan.entries:
        raise BadRequest(f"{code} has no {number_type.value} numbers in phonenumbers' metadata")
    return plan, code, circle


def is_vanity(digits: str) -> bool:
    """Whether a number's last four digits are a vanity pattern (7777, 1234, 1212, 5000...)."""
    tail = digits[-4:]
    return len(tail) == 4 and tail.isdigit() and bool(_VANITY_TAIL[int(tail)])


# ---------------------------------------------------------------------------
# vanity patterns

_DIGITS = "0123456789"


def _patterns(length: int) -> tuple[tuple[str, ...], ...]:
    """The kinds of vanity pattern of a length, each kind a tuple of patterns."""
    down = _DIGITS[::-1]
    kinds = [
        tuple(d * length for d in _DIGITS),
        tuple(_DIGITS[s : s + length] for s in range(11 - length)),
        tuple(down[s : s + length] for s in range(11 - length)),
        tuple(d + "0" * (length - 1) for d in _DIGITS[1:]),
    ]
    if length % 2 == 0:
        pairs = tuple((a + b) * (length // 2) for a in _DIGITS for b in _DIGITS if a != b)
        kinds.append(pairs)
    return tuple(kinds)


_VANITY_PATTERNS: dict[int, tuple[tuple[str, ...], ...]] = {n: _patterns(n) for n in (4, 5, 6)}
_VANITY_LENGTHS = (4, 4, 4, 5, 6)  # draws: mostly four-digit patterns
_VANITY_TAIL = bytearray(10_000)
for _kind in _VANITY_PATTERNS[4]:
    for _pattern in _kind:
        _VANITY_TAIL[int(_pattern)] = 1

# ---------------------------------------------------------------------------
# survey of the metadata

_SAMPLES = len(_DIGITS)  # completions tried per prefix
_MAX_MISSES = 100_000  # consecutive failed draws before giving up (space exhausted)
_VANITY_MISSES = 2_000  # failed vanity draws before a slot takes an ordinary number


@dataclass(frozen=True, slots=True)
class _Prefix:
    """Numbers ``prefix`` + ``rem`` random digits; ``region`` None: a random circle."""

    base: int
    rem: int
    scale: int
    width: int
    zeros: bool
    region: str | None


# How to be sure a number is of the asked country, by the calling code's regions:
_SOLE = 0  # the only region of its calling code (+91 IN, +65 SG)
_MAIN = 1  # first of several, tried first by phonenumbers (+1 US, +44 GB)
_SHARED = 2  # any other region of a shared calling code (+1 CA, +44 JE)


@dataclass(frozen=True, slots=True)
class _Plan:
    calling_code: int
    wanted: frozenset[int]
    check: int  # _SOLE, _MAIN or _SHARED
    entries: tuple[_Prefix, ...]
    cumulative: tuple[float, ...]


def _phone(calling_code: int, digits: str) -> PhoneNumber:
    """A PhoneNumber for a national significant number, leading zeros kept as parse does."""
    if digits[0] != "0":
        return PhoneNumber(country_code=calling_code, national_number=int(digits))
    zeros = 1
    while zeros < len(digits) - 1 and digits[zeros] == "0":
        zeros += 1
    return PhoneNumber(
        country_code=calling_code,
        national_number=int(digits),
        italian_leading_zero=True,
        number_of_leading_zeros=zeros,
    )


def _region_check(country: str, calling_code: int, metadata: PhoneMetadata) -> int:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(calling_code, ())
    if len(regions) <= 1:
        return _SOLE
    if regions[0] == country and metadata.leading_digits is None:
        return _MAIN
    return _SHARED


def _accepted(num: PhoneNumber, country: str, wanted: frozenset[int], check: int) -> bool:
    """phonenumbers' verdict: valid, of a wanted type, and of ``country``.

    ``number_type`` is UNKNOWN exactly when ``is_valid_number`` is false, so
    one classification settles validity and type. ``region_code_for_number``
    tries the regions of a calling code in order and returns the first the
    number is valid for (leading digits decide for regions that have them),
    so for the first region, valid for it means of it.
    """
    if check != _SOLE:
        # the cheap test first: one region's metadata, not every region of the code
        if not phonenumbers.is_valid_number_for_region(num, country):
            return False
        if check == _SHARED and phonenumbers.region_code_for_number(num) != country:
            return False
    return phonenumbers.number_type(num) in wanted


@functools.cache
def _survey(
    country: str,
    calling_code: int,
    wanted: frozenset[int],
    check: int,
    root: str,
    length: int,
) -> tuple[tuple[str, float], ...]:
    """Prefixes under ``root`` giving valid numbers of ``length`` digits, with weights.

    A weight estimates how many valid numbers the prefix holds. Cached apart
    from the plans: US landlines and mobiles, say, are one survey.
    """
    sampler = random.Random(f"{country}/{sorted(wanted)}/{root}/{length}")
    first_cut = max(len(root) + 1, 3)  # prefixes this long are sampled, not enumerated
    last_cut = first_cut + 1  # partly valid prefixes are refined up to this length
    found: list[tuple[str, float]] = []

    def valid(digits: str) -> bool:
        return _accepted(_phone(calling_code, digits), country, wanted, check)

    def explore(prefix: str) -> None:
        rem = length - len(prefix)
        if rem <= 2:  # few enough to try them all
            hits = sum(valid(prefix + _completion(i, rem)) for i in range(10**rem))
            if hits:
                found.append((prefix, float(hits)))
            return
        if len(prefix) < first_cut:
            for digit in _DIGITS:
                explore(prefix + digit)
            return
        # One sample per next digit, the rest random: a range that opens one
        # digit further down (1800 under 180) is not missed by bad luck.
        tail = rem - 1
        hits = sum(
            valid(prefix + digit + _completion(sampler.randrange(10**tail), tail))
            for digit in _DIGITS
        )
        if hits == _SAMPLES or (hits and len(prefix) >= last_cut):
            found.append((prefix, 10**rem * hits / _SAMPLES))
        elif hits:
            for digit in _DIGITS:
                explore(prefix + digit)

    if len(root) <= length:
        explore(root)
    return tuple(found)


def _completion(value: int, width: int) -> str:
    return f"{value:0{width}d}" if width else ""


def _type_desc(metadata: PhoneMetadata, number_type: NumberType) -> PhoneNumberDesc | None:
    if number_type is NumberType.LANDLINE:
        return metadata.fixed_line
    if number_type is NumberType.MOBILE:
        return metadata.mobile
    return metadata.toll_free


def _lengths(metadata: PhoneMetadata, desc: PhoneNumberDesc) -> tuple[int, ...]:
    general = metadata.general_desc
    lengths = desc.possible_length or (general.possible_length if general else ())
    return tuple(n for n in lengths if n > 0)


def _accepted_types(number_type: NumberType) -> frozenset[int]:
    return frozenset(t for t in PhoneNumberType.values() if number_type.accepts(t))


_IN_ROOTS: dict[NumberType, tuple[tuple[str, ...], tuple[int, ...]]] = {
    NumberType.MOBILE: (("6", "7", "8", "9"), (10,)),
    NumberType.TOLL_FREE: (("1800",), (10, 11)),
}


@functools.cache
def _plan(country: str, number_type: NumberType, circle: str | None) -> _Plan:
    """Where to draw numbers of a country and type from; empty when there are none.

    ``circle`` matters only to Indian landlines: the circle's STD codes.
    """
    calling_code = phonenumbers.country_code_for_region(country)
    metadata = PhoneMetadata.metadata_for_region(country)
    desc = _type_desc(metadata, number_type) if metadata else None
    if metadata is None or desc is None or desc.national_number_pattern is None:
        return _Plan(calling_code, frozenset(), _SHARED, (), ())
    check = _region_check(country, calling_code, metadata)
    strict = frozenset({LIB_TYPE[number_type]})
    weighted: list[tuple[_Prefix, float]] = []

    def add(
        found: Sequence[tuple[str, float]], length: int, region: str | None, share: float
    ) -> None:
        """Keep surveyed prefixes, their weights scaled to sum to ``share`` of all draws."""
        total = sum(w for _, w in found) or 1.0
        for prefix, weight in found:
            rem = length - len(prefix)
            entry = _Prefix(int(prefix), rem, 10**rem, length, prefix[0] == "0", region)
            weighted.append((entry, weight * share / total))

    if country == INDIA:
        wanted = strict  # plainly FIXED_LINE / MOBILE / TOLL_FREE, never ambiguous
        if number_type is NumberType.LANDLINE:
            circles = (circle,) if circle else IN_CIRCLE_CODES
            for code in circles:
                stds = IN_CIRCLES[code].std_codes
                for std in stds:
                    surveyed = _survey(country, calling_code, wanted, check, std, 10)
                    add(surveyed, 10, code, 1.0 / (len(circles) * len(stds)))
        else:
            roots, lengths = _IN_ROOTS[number_type]
            for length in lengths:
                found = [
                    hit
                    for root in roots
                    for hit in _survey(country, calling_code, wanted, check, root, length)
                ]
                add(found, length, None, 1.0 / len(lengths))
    else:
        lengths = _lengths(metadata, desc)
        candidates = [strict, _accepted_types(number_type)]
        if number_type is not NumberType.TOLL_FREE and metadata.same_mobile_and_fixed_line_pattern:
            # one pattern for fixed lines and mobiles: phonenumbers calls them all this
            candidates = [frozenset({PhoneNumberType.FIXED_LINE_OR_MOBILE})]
        wanted = candidates[-1]
        for wanted in candidates:
            for length in lengths:
                surveyed = _survey(country, calling_code, wanted, check, "", length)
                add(surveyed, length, country, 1.0 / len(lengths))
            if weighted:
                break
    cumulative: list[float] = []
    running = 0.0
    for _, weight in weighted:
        running += weight
        cumulative.append(running)
    entries = tuple(entry for entry, _ in weighted)
    return _Plan(calling_code, wanted, check, entries, tuple(cumulative))


# ---------------------------------------------------------------------------
# drawing


def _draw(
    plan: _Plan,
    country: str,
    number_type: NumberType,
    count: int,
    rng: random.Random,
    vanity_share: float,
    circle: str | None,
) -> Iterator[GeneratedNumber]:
    seen: set[int] = set()
    entries = plan.entries
    cumulative = plan.cumulative
    total = cumulative[-1]
    last = len(entries) - 1
    plus = f"+{plan.calling_code}"
    uniform = rng.random
    produced = 0
    while produced < count:
        vanity = vanity_share > 0.0 and uniform() < vanity_share
        misses = 0
        while True:
            entry = entries[min(bisect_right(cumulative, uniform() * total), last)]
            nsn = _pick(plan, country, entry, vanity, rng, seen)
            if nsn >= 0:
                break
            misses += 1
            if vanity and misses >= _VANITY_MISSES:
                vanity = False
                misses = 0
            elif misses >= _MAX_MISSES:
                raise _exhausted(produced, number_type, country, count)
        digits = f"{nsn:0{entry.width}d}"
        region = circle or entry.region or IN_CIRCLE_CODES[rng.randrange(len(IN_CIRCLE_CODES))]
        yield GeneratedNumber(plus + digits, digits, country, number_type, region, vanity)
        produced += 1


def _pick(
    plan: _Plan, country: str, entry: _Prefix, vanity: bool, rng: random.Random, seen: set[int]
) -> int:
    """One candidate under ``entry``: its national number if valid and not in ``seen``
    (where it is then added), else -1."""
    if vanity:
        nsn = _vanity_candidate(entry, rng)
    else:
        nsn = entry.base * entry.scale + rng.randrange(entry.scale)
        if entry.width >= 4 and _VANITY_TAIL[nsn % 10_000]:
            return -1  # looks like a vanity number: not an ordinary one
    key = nsn if not entry.zeros else ~(nsn * 32 + entry.width)
    if nsn < 0 or key in seen:
        return -1
    if entry.zeros:
        num = _phone(plan.calling_code, f"{nsn:0{entry.width}d}")
    else:
        num = PhoneNumber(country_code=plan.calling_code, national_number=nsn)
    if plan.check == _SOLE:
        if phonenumbers.number_type(num) not in plan.wanted:
            return -1
    elif not _accepted(num, country, plan.wanted, plan.check):
        return -1
    seen.add(key)
    return nsn


def _exhausted(produced: int, number_type: NumberType, country: str, count: int) -> BadRequest:
    return BadRequest(
        f"Only {produced} distinct {number_type.value} numbers could be "
        f"generated for {country}, not {count}"
    )


# Numbers drawn under one prefix at once at most: a larger share is split by the next digit.
_MOST_AT_ONCE = 50_000
# Failed draws in a row after which a prefix counts as used up (its share goes to the next).
_PREFIX_MISSES = 2_000


def _draw_in_order(
    plan: _Plan,
    country: str,
    number_type: NumberType,
    count: int,
    rng: random.Random,
    vanity_share: float,
    circle: str | None,
) -> Iterator[GeneratedNumber]:
    """Each prefix its share of ``count`` (rounded at random), its numbers sorted, the
    prefixes in order; what a used-up prefix cannot give passes to the next, and what
    is still missing after the last is drawn in a second, shorter round."""
    weights = [b - a for a, b in zip((0.0, *plan.cumulative), plan.cumulative, strict=False)]
    order = sorted(range(len(plan.entries)), key=lambda i: _prefix_text(plan.entries[i]))
    plus = f"+{plan.calling_code}"
    produced = 0
    missing = count
    for _ in range(2):
        left_weight = sum(weights)
        carry = 0
        for i in order:
            share = weights[i] / left_weight if left_weight > 0 else 1.0
            left_weight -= weights[i]
            wanted = _rounded(missing * share, rng) if i != order[-1] else missing
            wanted = min(wanted, missing)
            missing -= wanted
            for entry, nsn, vanity in _from_prefix(
                plan, country, plan.entries[i], wanted + carry, rng, vanity_share
            ):
                digits = f"{nsn:0{entry.width}d}"
                region = (
                    circle or entry.region or IN_CIRCLE_CODES[rng.randrange(len(IN_CIRCLE_CODES))]
                )
                yield GeneratedNumber(plus + digits, digits, country, number_type, region, vanity)
                produced += 1
            carry = count - produced - missing
        missing += carry
        if missing == 0:
            return
    raise _exhausted(produced, number_type, country, count)


def _prefix_text(entry: _Prefix) -> str:
    return f"{entry.base:0{entry.width - entry.rem}d}"


def _rounded(value: float, rng: random.Random) -> int:
    """``value`` rounded down or up at random, up with the chance of its fraction."""
    whole = int(value)
    return whole + (rng.random() < value - whole)


def _from_prefix(
    plan: _Plan, country: str, entry: _Prefix, count: int, rng: random.Random, vanity_share: float
) -> Iterator[tuple[_Prefix, int, bool]]:
    """Up to ``count`` distinct valid numbers under ``entry``, ascending, with their vanity
    flags; fewer only when the prefix is used up."""
    if count <= 0:
        return
    if count > _MOST_AT_ONCE and entry.rem > 1:
        # Ten sub-prefixes by the next digit, an equal share each, in order.
        scale = entry.scale // 10
        left = count
        for digit in range(10):
            part = _rounded(left / (10 - digit), rng) if digit < 9 else left
            left -= part
            child = _Prefix(entry.base * 10 + digit, entry.rem - 1, scale, entry.width,
                            entry.zeros, entry.region)  # fmt: skip
            taken = 0
            for found in _from_prefix(plan, country, child, part, rng, vanity_share):
                taken += 1
                yield found
            left += part - taken  # a used-up sub-prefix passes its share on
        return
    seen: set[int] = set()
    got: list[tuple[int, bool]] = []
    uniform = rng.random
    for _ in range(count):
        vanity = vanity_share > 0.0 and uniform() < vanity_share
        misses = 0
        while (nsn := _pick(plan, country, entry, vanity, rng, seen)) < 0:
            misses += 1
            if vanity and misses >= _VANITY_MISSES:
                vanity = False
                misses = 0
            elif misses >= _PREFIX_MISSES:
                break
        else:
            got.append((nsn, vanity))
            continue
        break  # used up
    got.sort()
    for nsn, vanity in got:
        yield entry, nsn, vanity


def _vanity_candidate(entry: _Prefix, rng: random.Random) -> int:
    """Prefix, random digits, then a vanity pattern; -1 when the prefix leaves no room."""
    if entry.rem < 4:
        return -1
    length = min(rng.choice(_VANITY_LENGTHS), entry.rem)
    kinds = _VANITY_PATTERNS[length]
    pattern = rng.choice(kinds[rng.randrange(len(kinds))])
    head = entry.rem - length
    scale: int = 10**head
    middle = rng.randrange(scale) if head else 0
    shift: int = 10**length
    return (entry.base * scale + middle) * shift + int(pattern)
