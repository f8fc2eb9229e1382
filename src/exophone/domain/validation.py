"""Rules for what an account may set on its numbers."""

from __future__ import annotations

from urllib.parse import urlsplit

from exophone.domain.errors import BadRequest

MAX_URL_LENGTH = 2048
MAX_FRIENDLY_NAME_LENGTH = 64


def flow_url(param: str, value: str) -> str | None:
    """An http(s) URL of sane length; the empty string clears the URL (None)."""
    text = value.strip()
    if text == "":
        return None
    if len(text) > MAX_URL_LENGTH:
        raise BadRequest(f"{param} is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise BadRequest(f"{param} must be an http or https URL, not '{_shown(text)}'") from exc
    if parts.scheme not in ("http", "https") or not host or _has_bad_chars(text):
        raise BadRequest(f"{param} must be an http or https URL, not '{_shown(text)}'")
    return text


def friendly_name(value: str) -> str | None:
    """A printable name of at most 64 characters; the empty string restores the default (None)."""
    text = value.strip()
    if text == "":
        return None
    if len(text) > MAX_FRIENDLY_NAME_LENGTH:
        raise BadRequest(f"FriendlyName is longer than {MAX_FRIENDLY_NAME_LENGTH} characters")
    if not text.isprintable():
        raise BadRequest("FriendlyName must not contain control characters")
    return text


def _has_bad_chars(text: str) -> bool:
    return any(ch.isspace() or not ch.isprintable() for ch in text)


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:60] + "..."
