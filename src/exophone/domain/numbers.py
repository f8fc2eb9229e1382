"""Phone numbers: parsing, normalising and classifying, via the phonenumbers library."""

from __future__ import annotations

import enum
import functools
import re

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType

from exophone.domain.errors import BadRequest, NotFound

# Keep phonenumbers' compiled metadata patterns (its own documented switch) instead
# of asking re.compile's cache for each of the ten or so a classification tries:
# a third of the time of drawing or checking a number in bulk.
phonenumbers.enable_pattern_cache()


class NumberType(enum.StrEnum):
    """The three ExoPhone types of the reference, spelled as on the wire."""

    LANDLINE = "Landline"
    MOBILE = "Mobile"
    TOLL_FREE = "TollFree"

    @classmethod
    def parse(cls, text: str) -> NumberType:
        """Match a type name without regard to case; unknown names are a 404 (path segment)."""
        found = _TYPE_NAMES.get(text.strip().lower())
        if found is None:
            names = ", ".join(m.value for m in cls)
            raise NotFound(f"Unknown number type '{text}'; the types are {names}")
        return found

    def accepts(self, libtype: int) -> bool:
        """Whether phonenumbers' own classification of a number agrees with this type."""
        return libtype in _ACCEPTED[self]


_TYPE_NAMES = {t.value.lower(): t for t in NumberType}

_ACCEPTED: dict[NumberType, frozenset[int]] = {
    NumberType.LANDLINE: frozenset(
        {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
    ),
    NumberType.MOBILE: frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}),
    NumberType.TOLL_FREE: frozenset({PhoneNumberType.TOLL_FREE}),
}

LIB_TYPE: dict[NumberType, int] = {
    NumberType.LANDLINE: PhoneNumberType.FIXED_LINE,
    NumberType.MOBILE: PhoneNumberType.MOBILE,
    NumberType.TOLL_FREE: PhoneNumberType.TOLL_FREE,
}

MAX_NUMBER_INPUT = 32


def parse_number(text: str, default_region: str) -> phonenumbers.PhoneNumber:
    """Parse a number given as E.164 (with or without ``+``) or in national form.

    National form is read in ``default_region`` (the server's home country), so
    ``08041234567`` and ``918041234567`` and ``+918041234567`` are one number.
    Raises BadRequest when the text is not a valid phone number.
    """
    raw = text.strip()
    if not raw or len(raw) > MAX_NUMBER_INPUT:
        raise BadRequest(f"'{_shown(text)}' is not a valid phone number")
    if raw.startswith("+"):
        fast = parse_e164_fast(raw)  # the plain E.164 of most API calls
        if fast is not None and phonenumbers.is_valid_number(fast):
            return fast
    candidates: list[tuple[str, str | None]]
    if raw.startswith("+"):
        candidates = [(raw, None)]
    elif raw.startswith("0"):
        candidates = [(raw, default_region)]
    else:
        # Digits without '+': an E.164 number missing its plus, or a national
        # number without its trunk prefix. Prefer the international reading.
        candidates = [("+" + raw, None), (raw, default_region)]
    for candidate, region in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return parsed
    raise BadRequest(f"'{_shown(text)}' is not a valid phone number")


_E164_DIGITS = re.compile(r"\+?([1-9][0-9]{6,14})")


def parse_e164_fast(text: str) -> phonenumbers.PhoneNumber | None:
    """``phonenumbers.parse`` of a plain E.164 text, without its general machinery.

    Bulk imports parse millions of numbers, and ``parse`` spent a third of a
    row's time on what a plain ``+<country code><national number>`` does not
    need. None (use ``parse``) for anything else: other characters, a
    national number with a leading zero, or one that starts with what the
    country's national prefix for parsing matches (``parse`` might strip it).
    Where this answers, ``parse`` gives the same country code and national number.
    """
    match = _E164_DIGITS.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1)
    for size in (1, 2, 3):  # calling codes are a prefix code: at most one matches
        strip = _national_prefix(int(digits[:size]))
        if strip is None:
            continue
        national = digits[size:]
        if national[:1] in ("", "0") or strip.match(national):
            return None
        return phonenumbers.PhoneNumber(
            country_code=int(digits[:size]), national_number=int(national)
        )
    return None


_NEVER = re.compile(r"(?!)")


@functools.cache
def _national_prefix(calling_code: int) -> re.Pattern[str] | None:
    """The national prefix for parsing of a calling code's main region (a pattern that
    never matches when it has none); None if the code is unknown or not a country's."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(calling_code)
    if not regions or regions[0] == "001":
        return None
    metadata = PhoneMetadata.metadata_for_region(regions[0])
    if metadata is None:
        return None
    pattern = metadata.national_prefix_for_parsing
    return re.compile(pattern) if pattern else _NEVER


def _shown(text: str) -> str:
    return text if len(text) <= MAX_NUMBER_INPUT else text[:MAX_NUMBER_INPUT] + "..."


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def national_digits(number: phonenumbers.PhoneNumber) -> str:
    """The national significant number: the digits that Contains searches."""
    return phonenumbers.national_significant_number(number)


def national_compact(number: phonenumbers.PhoneNumber) -> str:
    """National form without spaces or punctuation, the reference's default friendly name.

    ``+911123456789`` becomes ``01123456789``, as in the reference's examples.
    """
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in formatted if ch.isdigit())


def region_code(number: phonenumbers.PhoneNumber) -> str:
    """ISO 3166-1 alpha-2 code of the country a number belongs to."""
    code = phonenumbers.region_code_for_number(number)
    return code or "ZZ"
