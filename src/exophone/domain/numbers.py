"""Phone numbers: parsing, normalising and classifying, via the phonenumbers library."""

from __future__ import annotations

import enum

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from exophone.domain.errors import BadRequest, NotFound


class NumberType(enum.StrEnum):
    """The three ExoPhone types of the reference, spelled as on the wire."""

    LANDLINE = "Landline"
    MOBILE = "Mobile"
    TOLL_FREE = "TollFree"

    @classmethod
    def parse(cls, text: str) -> NumberType:
        """Match a type name without regard to case; unknown names are a 404 (path segment)."""
        folded = text.strip().lower()
        for member in cls:
            if member.value.lower() == folded:
                return member
        names = ", ".join(m.value for m in cls)
        raise NotFound(f"Unknown number type '{text}'; the types are {names}")

    def accepts(self, libtype: int) -> bool:
        """Whether phonenumbers' own classification of a number agrees with this type."""
        return libtype in _ACCEPTED[self]


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
