"""The ``Contains`` pattern language, the search index's tokens, and the plan a search follows.

The language, matched against the national significant number:

- digits match themselves;
- letters stand for their telephone keypad digit, in either case
  (``FLOWERS`` = 3569377);
- ``*`` matches any one digit;
- a leading ``^`` anchors the match to the start of the national number,
  a trailing ``$`` to its end.

A pattern has 2 to 16 digits, letters or ``*`` besides the anchors;
surrounding whitespace is trimmed.

The search index holds, for every number, each run of four consecutive digits
of its national number (its 4-grams), each with a letter that counts the
earlier occurrences of the same four digits in that number: ``a`` for the
first, ``b`` for the second, and so on (``97777777`` holds ``9777a 7777a
7777b 7777c 7777d``). A pattern with a literal run of four or more digits
needs, for each distinct 4-gram of its runs, the token of its highest count;
every number that matches holds those tokens, and the numbers the index
answers are then checked against the pattern itself.

It also holds the number's spaced 4-grams: four digits two apart, as at
positions 0, 2, 4 and 6, prefixed ``s`` and counted the same way
(``8023456701`` holds ``s8246a s0357a s2460a s3571a``). A pattern without a run
of four digits but with four digits every other place (``1*2*3*4``, ``9*9*9*9``)
needs those: without them it could only be scanned for, reading some 125,000
numbers for a page of fifty.

PostgreSQL's index also holds the number's gapped 4-grams: two digits, two
places skipped, two digits, as at positions 0, 1, 4 and 5, prefixed ``g``
(``8023456701`` holds ``g8045a g0256a g2367a g3470a g4501a``). A pattern
whose runs give one 4-gram alone (``12**3456``) looks those up with it: one
4-gram names 7,000 numbers in ten million, each then read to check the rest of
the pattern; with ``g1234`` beside it, a handful.

Why 4-grams and not trigrams: digits make only 1,000 trigrams, so each of
their lists names about one number in 125 (80,000 of ten million), and a rare
pattern has to walk such lists to the end; 4-gram lists are ten times
shorter, for the same number of tokens per number. The counting letter keeps
repeated digits (``7777777``) as selective as any other pattern.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from dataclasses import dataclass

from exophone.domain.errors import BadRequest

MIN_LENGTH = 2
MAX_LENGTH = 16
# Digits per index token, and the most 4-grams a national number (at most 16 digits) holds.
GRAM = 4
MAX_GRAMS = MAX_LENGTH - GRAM + 1
# Spaced 4-grams: their digits this far apart, their tokens with this prefix.
STEP = 2
SPACED = "s"
_SPAN = (GRAM - 1) * STEP  # from a spaced 4-gram's first digit to its last
# Gapped 4-grams (PostgreSQL's index only): two digits, GAP places skipped, two digits.
GAPPED = "g"
GAP = 2
_GAPPED_SPAN = GRAM + GAP  # the places a gapped 4-gram spans
# Buckets of PostgreSQL's search index (``bucket``).
BUCKETS = 16

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
_DIGITS = frozenset("0123456789")
_RUN = re.compile(r"[0-9]+")

HELP = (
    "Contains takes 2 to 16 characters: digits, letters (keypad digits, as in FLOWERS),"
    " '*' for any one digit, optionally '^' first to match the start of the national"
    " number or '$' last to match its end"
)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed ``Contains`` pattern: digits and ``*``, and its anchors."""

    body: str
    start: bool = False
    end: bool = False

    @property
    def like(self) -> str:
        """The pattern as a SQL LIKE pattern over the national digits."""
        core = self.body.replace("*", "_")
        return ("" if self.start else "%") + core + ("" if self.end else "%")

    @property
    def fixed(self) -> int:
        """How many digits the pattern fixes (its length less its wildcards)."""
        return len(self.body) - self.body.count("*")

    @property
    def runs(self) -> tuple[str, ...]:
        """The literal runs of digits between wildcards."""
        return tuple(_RUN.findall(self.body))

    @property
    def prefix(self) -> str:
        """The digits every match starts with: the first run of a ``^`` pattern, else ''."""
        if not self.start:
            return ""
        match = _RUN.match(self.body)
        return match.group() if match else ""

    @property
    def tokens(self) -> tuple[str, ...]:
        """The index tokens every matching number holds: those of its runs of four digits
        or more, else its spaced 4-grams (``1*2*3*4``); () if it has neither."""
        counts: Counter[str] = Counter()
        for run in self.runs:
            counts.update(run[i : i + GRAM] for i in range(len(run) - GRAM + 1))
        if not counts:
            counts.update(SPACED + g for g in _spaced(self.body))
        return _highest(counts)

    @property
    def gapped(self) -> tuple[str, ...]:
        """The gapped 4-gram tokens every matching number holds (PostgreSQL's index)."""
        return _highest(Counter(GAPPED + g for g in _gapped(self.body)))


def parse(pattern: str) -> Pattern:
    """Parse a Contains pattern; BadRequest explains the language for a bad one."""
    text = pattern.strip()
    start = text.startswith("^")
    end = text.endswith("$") and len(text) > 1
    body = text[1 if start else 0 : len(text) - 1 if end else len(text)]
    if not MIN_LENGTH <= len(body) <= MAX_LENGTH:
        raise _bad(pattern)
    out = []
    for ch in body:
        upper = ch.upper()
        if ch in _DIGITS or ch == "*":
            out.append(ch)
        elif upper in _KEYPAD:
            out.append(_KEYPAD[upper])
        else:
            raise _bad(pattern)
    return Pattern("".join(out), start, end)


def contains_to_like(pattern: str) -> str:
    """Compile a Contains pattern to a LIKE pattern; BadRequest explains a bad one."""
    return parse(pattern).like


def keypad_digits(pattern: str) -> str:
    """The digits (and ``*``) a pattern stands for, anchors removed."""
    return "".join(_KEYPAD.get(ch, ch) for ch in pattern.upper().strip("^$"))


def grams(national: str, *, gapped: bool = False) -> list[str]:
    """The index tokens of a national number: its 4-grams in the order of their
    positions, then its spaced 4-grams, then (``gapped``: PostgreSQL's) its gapped ones."""
    windows, spaced = _windows(national)
    out = _counted(windows) + _counted([SPACED + g for g in spaced])
    if gapped:
        out += _counted([GAPPED + g for g in _gapped(national)])
    return out


def grams_text(national: str) -> str:
    """The index tokens of a national number as one space-separated text (for FTS5)."""
    windows, spaced = _windows(national)
    if len(set(windows)) < len(windows) or len(set(spaced)) < len(spaced) or not spaced:
        return " ".join(grams(national))
    # None twice, as in most numbers: every letter "a" (a bulk load's hot path).
    return "a ".join(windows) + "a s" + "a s".join(spaced) + "a"


def _windows(national: str) -> tuple[list[str], list[str]]:
    """A national number's 4-grams and spaced 4-grams, in the order of their positions."""
    n = len(national)
    return (
        [national[i : i + GRAM] for i in range(n - GRAM + 1)],
        [national[i : i + _SPAN + 1 : STEP] for i in range(n - _SPAN)],
    )


def _spaced(body: str) -> list[str]:
    """The spaced 4-grams of a number or a pattern: four digits ``STEP`` apart, at every
    position where all four are digits."""
    out = []
    for i in range(len(body) - _SPAN):
        gram = body[i : i + _SPAN + 1 : STEP]
        if "*" not in gram:
            out.append(gram)
    return out


def _gapped(body: str) -> list[str]:
    """The gapped 4-grams of a number or a pattern: two digits, ``GAP`` places skipped,
    two digits, at every position where all four are digits."""
    out = []
    for i in range(len(body) - _GAPPED_SPAN + 1):
        gram = body[i : i + 2] + body[i + 2 + GAP : i + _GAPPED_SPAN]
        if "*" not in gram:
            out.append(gram)
    return out


def _highest(counts: Counter[str]) -> tuple[str, ...]:
    """A pattern's tokens: each gram with the letter of its count (a match holds at least
    that many)."""
    return tuple(sorted(g + _count_letter(n - 1) for g, n in counts.items()))


def _counted(parts: list[str]) -> list[str]:
    """Each token with the letter that counts its earlier copies."""
    if len(set(parts)) == len(parts):  # none twice, as in most numbers: all "a"
        return [g + "a" for g in parts]
    seen: dict[str, int] = {}
    out = []
    for gram in parts:
        earlier = seen.get(gram, 0)
        out.append(gram + _LETTERS[earlier])
        seen[gram] = earlier + 1
    return out


def bucket(national: str) -> str:
    """The bucket of a number in PostgreSQL's index, ``A`` to ``P``: its digit sum, mod 16.

    PostgreSQL's GIN index answers every match of a token before any is
    read, 7,000 for four digits in ten million numbers; with the bucket in
    each token, a search reads one sixteenth of them at a time, from a bucket
    chosen at random, until its page is full.
    """
    return chr(ord("A") + sum(map(int, national)) % BUCKETS)


def bucketed(national: str) -> str:
    """PostgreSQL's index tokens of a national number: ``grams`` with the bucket appended."""
    mark = bucket(national)
    return " ".join(g + mark for g in grams(national, gapped=True))


def filter_tokens(
    country: str,
    number_type: str,
    region: str | None,
    *,
    sms: bool = False,
    voice: bool = False,
    vanity: bool = False,
) -> list[str]:
    """The search index's tokens of a number's region and flags; of a search, those
    every number it finds holds ([] without a region: it looks the 4-grams up alone).

    Beside the 4-grams in one index (PostgreSQL's GIN index, SQLite's FTS5 table
    since migration 0009), a search's region and flags are intersected
    with its pattern there, before any row is read: a landline search for SMS numbers
    in a region learns from the index alone that there are none. Each token names a
    region of one country and type, with or without one flag (``#IN-Landline-KA``,
    ``#IN-Landline-KA+sms``), so that no token is held by millions of numbers: GIN
    reads much of such a token's list to intersect it with a few thousand others.
    """
    if region is None:
        return []
    # The region's token alone only when no flag's token names it already.
    place, *flags = number_filter_tokens(
        country, number_type, region, sms=sms, voice=voice, vanity=vanity
    )
    return flags or [place]


def number_filter_tokens(
    country: str, number_type: str, region: str, *, sms: bool, voice: bool, vanity: bool
) -> list[str]:
    """The ``filter_tokens`` a number holds: those of every search it matches."""
    where = f"#{country}-{number_type}-{region}"
    return [where] + [f"{where}+{name}" for wanted, name in ((sms, "sms"), (voice, "voice"),
                      (vanity, "vanity")) if wanted]  # fmt: skip


# The letter of the first, second, ... occurrence of a 4-gram in a number.
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _count_letter(earlier: int) -> str:
    return _LETTERS[earlier]


def _bad(pattern: str) -> BadRequest:
    shown = pattern if len(pattern) <= 40 else pattern[:40] + "..."
    return BadRequest(f"Invalid Contains '{shown}': {HELP}")


# -- plans -----------------------------------------------------------------


class Path(enum.StrEnum):
    """How a search finds its numbers."""

    # Walk the for-sale index in number order, checking the pattern, and stop
    # when the page is full: cheap when matches are common.
    SCAN = "scan"
    # The same walk over only the numbers that start with the pattern's
    # anchored first digits (a range of the same index).
    PREFIX = "prefix"
    # Look the pattern's tokens up in the search index, then check the
    # pattern and the filters on the numbers it names: for rare patterns.
    INDEX = "index"


# Digits of a typical national number, for estimating how often a pattern matches.
TYPICAL_LENGTH = 10
# A scan expected to read more index entries than this for one page takes the
# search index instead, when the pattern has a run the index can look up.
SCAN_BUDGET = 2_000


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """The path of a search, with what that path needs."""

    path: Path = Path.SCAN
    like: str | None = None  # checked on every candidate; None: no pattern
    prefix: str = ""  # PREFIX: what every matching E.164 number starts with, as "+9180"
    tokens: tuple[str, ...] = ()  # INDEX: tokens every match holds
    # INDEX with one token: the gapped tokens every match holds, which PostgreSQL's
    # index holds too (SQLite's does not).
    gapped: tuple[str, ...] = ()
    # Index entries a scan is expected to read for one page.
    scan_estimate: float = 0.0
    # INDEX: where the national number starts in the E.164 digits (1-based; the
    # calling code's length plus one), so that SQLite's index entries, keyed by
    # those digits, are checked against the pattern before their rows are read;
    # 0 when the calling code is not known.
    national_from: int = 0


# The plan of a search without a pattern: walk the index, take the first page.
NO_PATTERN = SearchPlan()


def match_chance(pattern: Pattern, *, beyond_prefix: bool = False) -> float:
    """The chance that a national number of random digits matches the pattern.

    With ``beyond_prefix``, for numbers already known to start with its prefix.
    """
    fixed = pattern.fixed - (len(pattern.prefix) if beyond_prefix else 0)
    anchored = pattern.start or pattern.end
    places = 1 if anchored else max(1, TYPICAL_LENGTH - len(pattern.body) + 1)
    return float(min(1.0, places * 10.0**-fixed))


def plan(pattern: Pattern | None, limit: int, calling_code: int = 0) -> SearchPlan:
    """Choose the path for a page of ``limit`` numbers matching ``pattern``.

    An anchored start narrows the walk to the numbers that begin with
    ``+<calling_code><prefix>`` (when the country's calling code is known); a
    pattern common enough that a page is found within ``SCAN_BUDGET`` entries
    is scanned for; a rarer one with a run of four digits goes to the search
    index; a rare one without such a run can only be scanned for.
    """
    if pattern is None:
        return NO_PATTERN
    tokens = pattern.tokens
    if pattern.prefix and calling_code > 0:
        estimate = limit / match_chance(pattern, beyond_prefix=True)
        if estimate <= SCAN_BUDGET or not tokens:
            start = f"+{calling_code}{pattern.prefix}"
            return SearchPlan(Path.PREFIX, pattern.like, start, scan_estimate=estimate)
    estimate = limit / match_chance(pattern)
    if tokens and estimate > SCAN_BUDGET:
        national_from = len(str(calling_code)) + 1 if calling_code > 0 else 0
        gapped = pattern.gapped if len(tokens) == 1 else ()
        return SearchPlan(Path.INDEX, pattern.like, tokens=tokens, gapped=gapped,
                          scan_estimate=estimate, national_from=national_from)  # fmt: skip
    return SearchPlan(Path.SCAN, pattern.like, scan_estimate=estimate)
