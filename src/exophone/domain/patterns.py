"""The ``Contains`` pattern language, compiled to a SQL LIKE pattern over national digits.

- digits match themselves;
- letters stand for their telephone keypad digit (``FLOWERS`` = 3569377);
- ``*`` matches any one digit;
- a leading ``^`` anchors the match to the start of the national number,
  a trailing ``$`` to its end.

A pattern has 2 to 16 digits, letters or ``*`` besides the anchors.
"""

from __future__ import annotations

from exophone.domain.errors import BadRequest

MIN_LENGTH = 2
MAX_LENGTH = 16

_KEYPAD = {
    **dict.fromkeys("ABC", "2"),
    **dict.fromkeys("DEF", "3"),
    **dict.fromkeys("GHI", "4"),
    **dict.fromkeys("JKL", "5"),
    **dict.fromkeys("MNO", "6"),
    **dict.fromkeys("PQRS", "7"),
    **dict.fromkeys("TUV", "8"),
    **dict.fromkeys("WXYZ", "9"),
}

HELP = (
    "Contains takes 2 to 16 characters: digits, letters (keypad digits, as in FLOWERS),"
    " '*' for any one digit, optionally '^' first to match the start of the national"
    " number or '$' last to match its end"
)


def keypad_digits(pattern: str) -> str:
    """The digits (and ``*``) a pattern stands for, anchors removed."""
    return "".join(_KEYPAD.get(ch, ch) for ch in pattern.upper().strip("^$"))


def contains_to_like(pattern: str) -> str:
    """Compile a Contains pattern to a LIKE pattern; BadRequest explains a bad one."""
    text = pattern.strip()
    start = text.startswith("^")
    end = text.endswith("$") and len(text) > 1
    body = text[1 if start else 0 : len(text) - 1 if end else len(text)]
    if not body.isascii() or not MIN_LENGTH <= len(body) <= MAX_LENGTH:
        raise BadRequest(f"Invalid Contains '{_shown(pattern)}': {HELP}")
    out = []
    for ch in body.upper():
        if ch.isdigit() and ch.isascii():
            out.append(ch)
        elif ch in _KEYPAD:
            out.append(_KEYPAD[ch])
        elif ch == "*":
            out.append("_")
        else:
            raise BadRequest(f"Invalid Contains '{_shown(pattern)}': {HELP}")
    core = "".join(out)
    return ("" if start else "%") + core + ("" if end else "%")


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "..."
