"""Reading what a request carries: credentials, query parameters and bodies.

Bodies come form-encoded (as the reference's curl lines send them), as JSON
(as existing clients send them) or as multipart form data; anything else with
a body is a 415, and a body over the limit a 413.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import parse_qsl

import falcon.asgi
import orjson
from falcon.asgi import BoundedStream
from falcon.media.multipart import MultipartFormHandler

from exophone.domain.errors import (
    BadRequest,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from exophone.service.accounts import AUTH_FAILED

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data"
MAX_PARAM_LENGTH = 4096
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")

_multipart = MultipartFormHandler()


def basic_credentials(req: falcon.asgi.Request) -> tuple[str, str]:
    """(API key, API token) from the Basic Authorization header, or a 401."""
    header = req.get_header("Authorization")
    if not header:
        raise Unauthorized("Authentication required: use HTTP Basic with your API key and token")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized(AUTH_FAILED)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized(AUTH_FAILED) from exc
    key, sep, token = decoded.partition(":")
    if not sep or not key or not token:
        raise Unauthorized(AUTH_FAILED)
    return key, token


def query(req: falcon.asgi.Request, *names: str) -> str | None:
    """The first of several accepted spellings of a query parameter that is present."""
    for name in names:
        value = req.get_param(name)
        if value is not None:
            _check_length(name, value)
            return str(value)
    return None


def int_param(
    req: falcon.asgi.Request, names: tuple[str, ...], default: int, low: int, high: int
) -> int:
    """The first given spelling's value; every spelling given is checked, not only the first."""
    found: list[int] = []
    for name in names:
        text = query(req, name)
        if text is None:
            continue
        if not WHOLE_NUMBER.fullmatch(text.strip()):
            raise BadRequest(f"{name} must be a whole number, not '{text[:20]}'")
        value = int(text.strip())
        if not low <= value <= high:
            raise BadRequest(f"{name} must be between {low} and {high}, not {value}")
        found.append(value)
    return found[0] if found else default


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def bool_param(req: falcon.asgi.Request, name: str) -> bool:
    text = query(req, name)
    if text is None:
        return False
    folded = text.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise BadRequest(f"{name} must be true or false, not '{text[:20]}'")


async def read_body(req: falcon.asgi.Request, limit: int) -> bytes:
    """The raw request body; PayloadTooLarge past ``limit`` bytes, declared or sent."""
    if req.content_length is not None and req.content_length > limit:
        raise PayloadTooLarge(f"Request body larger than {limit} bytes")
    raw: bytes = await req.stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"Request body larger than {limit} bytes")
    return raw


def media_type(req: falcon.asgi.Request) -> str:
    """The Content-Type without its parameters, lowercased ('' when absent)."""
    return (req.content_type or "").split(";", 1)[0].strip().lower()


async def body_params(req: falcon.asgi.Request, limit: int) -> dict[str, str]:
    """The request's parameters as strings; JSON null reads as the empty string."""
    raw = await read_body(req, limit)
    if not raw.strip():
        return {}
    media = media_type(req)
    if media == FORM:
        return _form(raw)
    if media == JSON or media.endswith("+json"):
        return _json(raw)
    if media == MULTIPART:
        return await _multipart_form(raw, req.content_type or "")
    raise UnsupportedMediaType(
        f"Unsupported content type '{media or 'none'}': send {FORM}, {JSON} or {MULTIPART}"
    )


def _form(raw: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("Request body is not valid form data") from exc
    return _checked(dict(pairs))


def _json(raw: bytes) -> dict[str, str]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("Request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    out: dict[str, str] = {}
    for name, value in data.items():
        out[name] = _json_value(name, value)
    return _checked(out)


def _json_value(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise BadRequest(f"{name} must be a string")


async def _multipart_form(raw: bytes, content_type: str) -> dict[str, str]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    stream = BoundedStream(receive, content_length=len(raw))
    out: dict[str, str] = {}
    try:
        form = await _multipart.deserialize_async(stream, content_type, len(raw))
        async for part in form:
            if part.name:
                out[part.name] = await part.get_text() or ""
    except falcon.HTTPError as exc:
        raise BadRequest("Request body is not valid multipart form data") from exc
    return _checked(out)


def _checked(params: dict[str, str]) -> dict[str, str]:
    for name, value in params.items():
        _check_length(name, value)
    return params


def _check_length(name: str, value: str) -> None:
    if len(value) > MAX_PARAM_LENGTH:
        raise BadRequest(f"{name[:40]} is longer than {MAX_PARAM_LENGTH} characters")
