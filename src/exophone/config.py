"""Server settings, from defaults, the environment (``EXOPHONE_*``) and flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exophone.store.urls import DEFAULT_URL

DEFAULT_TIMEZONE = "Asia/Kolkata"
SEARCH_ORDERS = ("spread", "sequential")
# A released number ages this long before it is for sale again (its last owner
# may buy it back meanwhile). Carriers quarantine numbers for about 90 days;
# an emulator wants the behaviour, not the wait: one day lets an accidental
# release be undone the next working day and still refills a test inventory
# daily. ``0`` turns aging off.
DEFAULT_AGING_PERIOD = 24 * 3600
MAX_AGING_PERIOD = 3650 * 86400
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds in ``90``, ``90s``, ``30m``, ``24h`` or ``7d``; ValueError otherwise."""
    value = text.strip().lower()
    digits = value.rstrip("smhd")
    unit = value[len(digits) :]
    if not digits.isdigit() or len(digits) > 12 or unit not in _UNITS:
        raise ValueError(f"invalid duration {text!r}: use seconds or a number with s, m, h or d")
    return int(digits) * _UNITS[unit]


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_URL
    # Dates on the wire are local times in this zone, without an offset.
    timezone: str = DEFAULT_TIMEZONE
    # National-form numbers (``080...``) are read as numbers of this country.
    home_region: str = "IN"
    # Paging of searches and of an account's numbers.
    page_size: int = 50
    max_page_size: int = 1000
    max_page: int = 1_000_000
    # Request bodies larger than this answer 413.
    max_body_bytes: int = 64 * 1024
    pool_size: int = 10
    # The admin API (/admin) is off unless a token is set.
    admin_token: str | None = None
    # Requests a minute per account (0: no limit), counted across API processes in
    # the database, or in Redis when a URL is set. See docs/operations.md.
    rate_limit: int = 200
    redis_url: str | None = None
    # Seconds a released number ages before it is for sale again.
    aging_period: int = DEFAULT_AGING_PERIOD
    # Signs the dashboard's session cookies. None: a random key per process,
    # so sessions end on restart and do not carry across worker processes.
    secret_key: str | None = field(default=None, repr=False)
    # Test mode (``exophone serve --test-mode``, docs/testing.md): the control API at
    # /_exophone behind this bearer token, a clock tests set, sids from ``test_seed``.
    test_mode: bool = False
    test_token: str | None = field(default=None, repr=False)
    test_seed: int | None = None
    # Which numbers a search answers first (docs/api.md): "spread" starts each
    # search at a random point of the matching numbers, so two users searching
    # alike get different numbers; "sequential" answers the first matches in
    # number order, the same every time. None: sequential in test mode, else spread.
    search_order: str | None = None
    tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ValueError("the admin token must be at least 16 characters")
        if self.rate_limit < 0:
            raise ValueError("the rate limit must be 0 (off) or a positive number")
        if self.secret_key is not None and len(self.secret_key) < 16:
            raise ValueError("the secret key must be at least 16 characters")
        if not 0 <= self.aging_period <= MAX_AGING_PERIOD:
            raise ValueError("the aging period must be from 0 to 3650 days")
        if self.test_mode and len(self.test_token or "") < 16:
            raise ValueError("test mode needs a test token of at least 16 characters")
        if self.search_order not in (None, *SEARCH_ORDERS):
            raise ValueError(f"the search order must be one of {', '.join(SEARCH_ORDERS)}")
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        object.__setattr__(self, "tz", zone)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        env: dict[str, Any] = {}
        if url := os.environ.get("EXOPHONE_DATABASE_URL"):
            env["database_url"] = url
        if tz := os.environ.get("EXOPHONE_TIMEZONE"):
            env["timezone"] = tz
        if region := os.environ.get("EXOPHONE_HOME_REGION"):
            env["home_region"] = region.upper()
        if admin := os.environ.get("EXOPHONE_ADMIN_TOKEN"):
            env["admin_token"] = admin
        if secret := os.environ.get("EXOPHONE_SECRET_KEY"):
            env["secret_key"] = secret
        if pool := os.environ.get("EXOPHONE_POOL_SIZE"):
            env["pool_size"] = int(pool)
        if limit := os.environ.get("EXOPHONE_RATE_LIMIT"):
            env["rate_limit"] = int(limit)
        if redis_url := os.environ.get("EXOPHONE_REDIS_URL"):
            env["redis_url"] = redis_url
        if aging := os.environ.get("EXOPHONE_AGING_PERIOD"):
            env["aging_period"] = parse_duration(aging)
        if os.environ.get("EXOPHONE_TEST_MODE") == "1":
            env["test_mode"] = True
        if test_token := os.environ.get("EXOPHONE_TEST_TOKEN"):
            env["test_token"] = test_token
        if test_seed := os.environ.get("EXOPHONE_TEST_SEED"):
            env["test_seed"] = int(test_seed)
        if order := os.environ.get("EXOPHONE_SEARCH_ORDER"):
            env["search_order"] = order.strip().lower()
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def spread_search(self) -> bool:
        """Whether searches start at a random point (see ``search_order``)."""
        return (self.search_order or ("sequential" if self.test_mode else "spread")) == "spread"
