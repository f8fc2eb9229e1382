"""The price catalogue: what a number costs, by country, type and region.

The catalogue is a TOML file (format in ``docs/catalogue.md``); the one
shipped is ``exophone/data/catalogue.toml``. Lookups resolve, most specific
first: a region's override of its country and type, the country and type,
the country as a whole (when its table is complete by itself), and finally
the ``default`` entry. Prices are held in micros (``exophone.domain.money``).
"""

from __future__ import annotations

import functools
import importlib.resources
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers
import pycountry

from exophone.domain.money import parse_price
from exophone.domain.numbers import NumberType
from exophone.domain.regions import region_codes


@dataclass(frozen=True, slots=True)
class Pricing:
    """Prices (micros of ``currency``) and default capabilities of a number."""

    one_time_price: int
    rental_price: int
    incoming_rate: int
    incoming_pulse: int
    currency: str
    sms: bool
    voice: bool


_PRICES = ("one_time_price", "rental_price", "incoming_rate")
_FIELDS = (*_PRICES, "incoming_pulse", "currency", "sms", "voice")
_TYPES = {t.value: t for t in NumberType}
_REGIONS = "regions"

_Key = tuple[str, NumberType]


class Catalogue:
    """Prices by country, type and region; see ``default``, ``from_file`` and ``from_mapping``."""

    __slots__ = ("_by_country", "_by_region", "_by_type", "_default")

    def __init__(
        self,
        default: Pricing,
        by_type: Mapping[_Key, Pricing] | None = None,
        by_region: Mapping[tuple[str, NumberType, str], Pricing] | None = None,
        by_country: Mapping[str, Pricing] | None = None,
    ) -> None:
        self._default = default
        self._by_type = dict(by_type or {})
        self._by_region = dict(by_region or {})
        self._by_country = dict(by_country or {})

    @classmethod
    def default(cls) -> Catalogue:
        """The catalogue shipped with exophone (read once per process)."""
        return _shipped()

    @classmethod
    def from_file(cls, path: str | Path) -> Catalogue:
        """Read a catalogue TOML file; ValueError naming the offending key if it is invalid."""
        source = Path(path)
        return cls.from_toml(source.read_text(encoding="utf-8"), source=str(source))

    @classmethod
    def from_toml(cls, text: str, *, source: str = "catalogue") -> Catalogue:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{source}: not valid TOML: {exc}") from exc
        return cls.from_mapping(data, source=source)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "catalogue") -> Catalogue:
        """Build from parsed TOML; ValueError naming the offending key if it is invalid."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{source}: expected a table of countries")
        raw_default = data.get("default")
        if not isinstance(raw_default, Mapping):
            raise ValueError(f"{source}: missing the [default] table")
        default = _complete(_fields(raw_default, "default", source, ()), "default", source)
        by_type: dict[_Key, Pricing] = {}
        by_region: dict[tuple[str, NumberType, str], Pricing] = {}
        by_country: dict[str, Pricing] = {}
        for country, table in data.items():
            if country == "default":
                continue
            if country not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(
                    f"{source}: unknown key '{country}': neither 'default' nor an ISO 3166-1 "
                    "country code that phonenumbers knows (upper case, e.g. 'IN')"
                )
            if not isinstance(table, Mapping):
                raise ValueError(f"{source}: '{country}' must be a table")
            shared = _fields(table, country, source, tuple(_TYPES))
            types = [name for name in table if name in _TYPES]
            if not types or len(shared) == len(_FIELDS):
                # complete by itself: the price of the country's other types too
                by_country[country] = _complete(shared, country, source)
            for name in types:
                where = f"{country}.{name}"
                number_type = _TYPES[name]
                sub = table[name]
                merged = {**shared, **_fields(sub, where, source, (_REGIONS,))}
                by_type[(country, number_type)] = _complete(merged, where, source)
                valid = region_codes(country)
                for region, override in sub.get(_REGIONS, {}).items():
                    there = f"{where}.{_REGIONS}.{region}"
                    if region not in valid:
                        raise ValueError(
                            f"{source}: unknown region '{there}'; {country} has {', '.join(valid)}"
                        )
                    if not isinstance(override, Mapping):
                        raise ValueError(f"{source}: '{there}' must be a table")
                    changed = {**merged, **_fields(override, there, source, ())}
                    by_region[(country, number_type, region)] = _complete(changed, there, source)
        return cls(default, by_type, by_region, by_country)

    def lookup(self, country: str, number_type: NumberType, region: str | None = None) -> Pricing:
        """Pricing of a number: region override > country and type > country > default."""
        if region is not None:
            found = self._by_region.get((country, number_type, region))
            if found is not None:
                return found
        found = self._by_type.get((country, number_type))
        if found is not None:
            return found
        return self._by_country.get(country, self._default)

    def countries(self) -> tuple[str, ...]:
        """Countries the catalogue prices explicitly, in alphabetical order."""
        return tuple(sorted({c for c, _ in self._by_type} | set(self._by_country)))

    def __repr__(self) -> str:
        return f"Catalogue(countries={list(self.countries())!r})"


@functools.cache
def _shipped() -> Catalogue:
    resource = importlib.resources.files("exophone") / "data" / "catalogue.toml"
    return Catalogue.from_toml(resource.read_text(encoding="utf-8"), source="catalogue.toml")


def _fields(
    table: Mapping[str, Any], where: str, source: str, tables: tuple[str, ...]
) -> dict[str, Any]:
    """The checked field values of a table whose sub-tables may only be ``tables``."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{where}.{key}"
        if key in _FIELDS:
            values[key] = _value(key, value, path, source)
        elif key in tables:
            if not isinstance(value, Mapping):
                raise ValueError(f"{source}: '{path}' must be a table")
        else:
            allowed = ", ".join((*_FIELDS, *tables))
            raise ValueError(f"{source}: unknown key '{path}'; allowed here: {allowed}")
    return values


def _value(key: str, value: Any, path: str, source: str) -> Any:
    if key in _PRICES:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"{source}: '{path}' must be a price such as '499' or '0.60'")
        try:
            return parse_price(value)
        except ValueError as exc:
            raise ValueError(f"{source}: '{path}': {exc}") from exc
    if key == "incoming_pulse":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{source}: '{path}' must be a whole number of seconds above 0")
        return value
    if key == "currency":
        if (
            not isinstance(value, str)
            or len(value) != 3
            or not value.isupper()
            or pycountry.currencies.get(alpha_3=value) is None
        ):
            raise ValueError(f"{source}: '{path}' must be an ISO 4217 currency code such as 'INR'")
        return value
    if not isinstance(value, bool):  # sms, voice
        raise ValueError(f"{source}: '{path}' must be true or false")
    return value


def _complete(values: Mapping[str, Any], where: str, source: str) -> Pricing:
    missing = [f for f in _FIELDS if f not in values]
    if missing:
        names = ", ".join(repr(f) for f in missing)
        raise ValueError(f"{source}: '{where}' is missing {names}")
    return Pricing(
        one_time_price=values["one_time_price"],
        rental_price=values["rental_price"],
        incoming_rate=values["incoming_rate"],
        incoming_pulse=values["incoming_pulse"],
        currency=values["currency"],
        sms=values["sms"],
        voice=values["voice"],
    )
