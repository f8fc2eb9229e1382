"""Server settings, from defaults, the environment (``EXOPHONE_*``) and flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exophone.store.urls import DEFAULT_URL

DEFAULT_TIMEZONE = "Asia/Kolkata"


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
    tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ValueError("the admin token must be at least 16 characters")
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
        if pool := os.environ.get("EXOPHONE_POOL_SIZE"):
            env["pool_size"] = int(pool)
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)
