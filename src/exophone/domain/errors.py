"""The one error hierarchy of exophone.

Every failure a user can cause or meet is one of these; the API maps them to
HTTP in one table (``exophone.api.errors``) and the SDK maps HTTP back to the
same names.

    ExophoneError                      500  unexpected failure
    ├── BadRequest                     400  malformed input
    ├── Unauthorized                   401  missing or wrong credentials
    ├── Forbidden                      403  valid credentials, no access
    ├── NotFound                       404  no such resource (for this account)
    ├── MethodNotAllowed               405  route exists, method does not
    ├── Conflict                       409  state forbids the change
    │   └── NumberUnavailable          409  number not for sale
    ├── PayloadTooLarge                413  request body over the limit
    ├── UnsupportedMediaType           415  body in a format we do not read
    ├── Unprocessable                  422  well-formed but unacceptable
    ├── RateLimited                    429  too many requests
    └── ServiceUnavailable             503  store not reachable
"""

from __future__ import annotations


class ExophoneError(Exception):
    """Base of every exophone error; ``status`` is the HTTP status it maps to, and
    ``retry_after`` (sent as ``Retry-After``) the seconds after which trying again may
    succeed, for the errors that pass."""

    status: int = 500
    retry_after: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ExophoneError):
    status = 400


class Unauthorized(ExophoneError):
    status = 401


class Forbidden(ExophoneError):
    status = 403


class NotFound(ExophoneError):
    status = 404


class MethodNotAllowed(ExophoneError):
    status = 405

    def __init__(self, message: str, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []


class Conflict(ExophoneError):
    status = 409


class NumberUnavailable(Conflict):
    pass


class InProgress(Conflict):
    """Another request with the same Idempotency-Key is running: the same request a
    moment later gets its answer."""

    retry_after = 1


class PayloadTooLarge(ExophoneError):
    status = 413


class UnsupportedMediaType(ExophoneError):
    status = 415


class Unprocessable(ExophoneError):
    status = 422


class RateLimited(ExophoneError):
    status = 429

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(ExophoneError):
    status = 503
