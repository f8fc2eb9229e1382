"""Prices: held as integer millionths (micros), shown as strings with six decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

MICROS = 1_000_000


@lru_cache(maxsize=4096)  # a few prices recur on every number: the catalogue's
def format_micros(micros: int) -> str:
    """``499_000_000`` -> ``"499.000000"``, the reference's price format."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS)
    return f"{sign}{whole}.{frac:06d}"


def parse_price(text: str | int | float | Decimal) -> int:
    """Read a price (``"499"``, ``"0.5"``, ``499.0``) into micros; ValueError if it is not one."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise ValueError(f"'{text}' is not a price") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"'{text}' is not a price")
    micros = value * MICROS
    if micros != micros.to_integral_value():
        raise ValueError(f"'{text}' has more than six decimals")
    return int(micros)
