"""Client settings from arguments, then the environment, then defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

REGIONS: Mapping[str, str] = {
    "sg": "https://api.exotel.com",
    "in": "https://api.in.exotel.com",
}
"""The two clusters of the service: Singapore (``sg``) and Mumbai (``in``)."""

DEFAULT_REGION = "sg"
DEFAULT_TIMEZONE = "Asia/Kolkata"

ENV_SID = "EXOTEL_SID"
ENV_API_KEY = "EXOTEL_API_KEY"
ENV_API_TOKEN = "EXOTEL_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
ENV_BASE_URL = "EXOTEL_BASE_URL"

Timeout = float | httpx.Timeout | None


@dataclass(frozen=True, slots=True)
class Config:
    """Everything a client needs, resolved and checked."""

    account_sid: str
    api_key: str
    api_token: str
    base_url: str
    timeout: Timeout
    max_retries: int
    backoff: float
    tz: tzinfo

    def __repr__(self) -> str:
        # Never show the token, not even in a traceback.
        return f"Config(account_sid={self.account_sid!r}, base_url={self.base_url!r})"


def resolve(
    *,
    account_sid: str | None,
    api_key: str | None,
    api_token: str | None,
    region: str | None,
    base_url: str | None,
    timeout: Timeout,
    max_retries: int,
    backoff: float,
    timezone: str | tzinfo,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Settings from the arguments, falling back to ``EXOTEL_*`` variables.

    The base URL is ``base_url`` if given, else the region's host if ``region``
    is given, else ``EXOTEL_BASE_URL``, else the Singapore cluster. A base URL
    may carry credentials (``https://key:token@host``); they are used when the
    key and token are not given otherwise, and removed from the URL.
    """
    env = os.environ if environ is None else environ
    url, url_key, url_token = _split_credentials(_base_url(region, base_url, env))
    sid = account_sid or env.get(ENV_SID)
    key = api_key or env.get(ENV_API_KEY) or url_key
    token = api_token or env.get(ENV_API_TOKEN) or url_token
    missing = [
        f"{name} (or {var})"
        for name, var, value in (
            ("account_sid", ENV_SID, sid),
            ("api_key", ENV_API_KEY, key),
            ("api_token", ENV_API_TOKEN, token),
        )
        if not value
    ]
    if missing:
        raise ValueError("exophone client: missing " + ", ".join(missing))
    assert sid and key and token
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be a whole number >= 0, not {max_retries!r}")
    if backoff < 0:
        raise ValueError(f"backoff must be >= 0, not {backoff!r}")
    return Config(
        account_sid=sid,
        api_key=key,
        api_token=token,
        base_url=url,
        timeout=timeout,
        max_retries=max_retries,
        backoff=float(backoff),
        tz=_zone(timezone),
    )


def _base_url(region: str | None, base_url: str | None, env: Mapping[str, str]) -> str:
    if base_url:
        return base_url
    if region is not None:
        host = REGIONS.get(region.strip().lower())
        if host is None:
            raise ValueError(f"unknown region {region!r}: use one of {', '.join(REGIONS)}")
        return host
    return env.get(ENV_BASE_URL) or REGIONS[DEFAULT_REGION]


def _split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """The URL without user info, and the key and token it carried."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http or https URL with a host, not {url!r}")
    key = unquote(parts.username) if parts.username else None
    token = unquote(parts.password) if parts.password else None
    netloc = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return clean, key, token


def _zone(timezone: str | tzinfo) -> tzinfo:
    if isinstance(timezone, tzinfo):
        return timezone
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {timezone!r}") from exc
