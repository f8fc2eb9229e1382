"""The errors of the exophone SDK: one hierarchy, one function from HTTP status to class.

Every failure of a call raises a subclass of :class:`ExophoneError`. Errors
answered by the server carry its HTTP ``status``, the ``message`` of its
``RestException`` envelope and the ``X-Request-Id`` header as ``request_id``
(``None`` when the server sends none). Transport failures have no status.

    ExophoneError                  any failure; other statuses (405, 413, 415, ...)
    ├── AuthenticationError        401  missing or wrong API key / token
    ├── PermissionDeniedError      403  valid credentials, another account's SID
    ├── NotFoundError              404  no such country, type or number in this account
    ├── NumberUnavailableError     409  the number is not for sale
    ├── ValidationError            400, 422  malformed or unacceptable input
    ├── RateLimitError             429  too many requests; ``retry_after`` seconds
    ├── ServerError                5xx  the service failed
    ├── ConnectionError            no answer: connection refused, reset, protocol error
    └── TimeoutError               no answer in time

The server (``exophone.domain.errors``) names the same failures ``Unauthorized``,
``Forbidden``, ``NotFound``, ``NumberUnavailable``, ``BadRequest`` /
``Unprocessable``, ``RateLimited`` and ``ServiceUnavailable``; the SDK keeps the
root name ``ExophoneError`` and uses the ``...Error`` names of popular Python API
clients for the rest. ``ConnectionError`` and ``TimeoutError`` are not the
built-in exceptions of the same names: import them from ``exophone.client``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

__all__ = [
    "AuthenticationError",
    "ConnectionError",
    "ExophoneError",
    "NotFoundError",
    "NumberUnavailableError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "TimeoutError",
    "ValidationError",
    "error_for_status",
    "error_from_response",
]


class ExophoneError(Exception):
    """Base of every SDK error.

    Attributes:
        message: what went wrong; for an HTTP error, the server's
            ``RestException.Message``.
        status: the HTTP status, or ``None`` when no answer arrived.
        request_id: the ``X-Request-Id`` header of the answer, if any.
        body: the decoded JSON body of the answer, if it had one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, message={self.message!r}, "
            f"request_id={self.request_id!r})"
        )


class AuthenticationError(ExophoneError):
    """401: no credentials, or an API key and token that do not authenticate."""


class PermissionDeniedError(ExophoneError):
    """403: valid credentials used with an account SID they do not belong to."""


class NotFoundError(ExophoneError):
    """404: an unknown country or number type, or a number this account does not own."""


class NumberUnavailableError(ExophoneError):
    """409: the number asked for is not for sale (someone owns it, or it does not exist)."""


class ValidationError(ExophoneError):
    """400 or 422: a parameter out of bounds, of the wrong form, or missing."""


class RateLimitError(ExophoneError):
    """429: too many requests.

    Attributes:
        retry_after: seconds the server asked to wait (its ``Retry-After``
            header), or ``None`` when it did not say.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id, body=body)
        self.retry_after = retry_after


class ServerError(ExophoneError):
    """5xx: the service failed to answer the request."""


class ConnectionError(ExophoneError):  # shadows the built-in on purpose
    """No answer: the connection was refused or broken, or the answer was not HTTP."""


class TimeoutError(ExophoneError):  # shadows the built-in on purpose
    """No answer within the client's ``timeout``."""


_BY_STATUS: Mapping[int, type[ExophoneError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: NumberUnavailableError,
    422: ValidationError,
    429: RateLimitError,
}


def error_for_status(status: int) -> type[ExophoneError]:
    """The error class an HTTP ``status`` maps to; ``ExophoneError`` for unlisted ones."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ExophoneError)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def error_from_response(response: httpx.Response) -> ExophoneError:
    """The error an unsuccessful answer stands for, with the server's message."""
    status = response.status_code
    body: Any = None
    message: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        envelope = body.get("RestException")
        if isinstance(envelope, Mapping) and envelope.get("Message") is not None:
            message = str(envelope["Message"])
        elif body.get("Message") is not None:
            message = str(body["Message"])
    if message is None:
        text = response.text.strip()
        message = text[:200] if text else (response.reason_phrase or f"HTTP {status}")
    request_id = response.headers.get("X-Request-Id")
    cls = error_for_status(status)
    if cls is RateLimitError:
        return RateLimitError(
            message,
            status=status,
            request_id=request_id,
            body=body,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    return cls(message, status=status, request_id=request_id, body=body)
