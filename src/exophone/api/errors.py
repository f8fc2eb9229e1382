"""Every error answers in Exotel's RestException envelope, in one place.

``{"RestException": {"Status": 404, "Message": "..."}}`` with ``Status`` equal
to the HTTP status: our own errors, the framework's (unknown route, wrong
method, bad query string) and any unexpected failure, which is logged and
answered as a bare 500 without details.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon
import falcon.asgi
import orjson

from exophone.domain.errors import ExophoneError, MethodNotAllowed, Unauthorized

App = falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response]

log = logging.getLogger("exophone.api")

WWW_AUTHENTICATE = 'Basic realm="exophone"'


def rest_exception(status: int, message: str) -> bytes:
    return orjson.dumps({"RestException": {"Status": status, "Message": message}})


def _answer(resp: falcon.asgi.Response, status: int, message: str) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = rest_exception(status, message)


async def handle_exophone_error(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, ex: ExophoneError, params: Any
) -> None:
    _answer(resp, ex.status, ex.message)
    if isinstance(ex, Unauthorized):
        resp.set_header("WWW-Authenticate", WWW_AUTHENTICATE)
    elif isinstance(ex, MethodNotAllowed) and ex.allowed:
        resp.set_header("Allow", ", ".join(ex.allowed))
    if ex.retry_after is not None:
        resp.set_header("Retry-After", str(ex.retry_after))


_HTTP_MESSAGES = {
    404: "The requested resource was not found",
    405: "Method not allowed on this resource",
    413: "Request body too large",
    415: "Unsupported content type",
}


async def handle_http_error(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, ex: falcon.HTTPError, params: Any
) -> None:
    """Falcon's own errors (routing, query strings, methods) in our envelope."""
    status = ex.status_code
    message = _HTTP_MESSAGES.get(status) or ex.description or ex.title or "Error"
    if status == 405:
        message = f"Method {req.method} not allowed on {req.path}"
    elif status == 404:
        message = f"No resource at {req.path}"
    elif ex.description:
        message = ex.description
    _answer(resp, status, message)
    for name, value in dict(ex.headers or {}).items():
        if name.lower() in ("allow", "retry-after", "www-authenticate"):
            resp.set_header(name, value)


async def handle_unexpected(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, ex: Exception, params: Any
) -> None:
    log.exception("unexpected error on %s %s", req.method, req.path, exc_info=ex)
    _answer(resp, 500, "Internal server error")


def install(app: App) -> None:
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(ExophoneError, handle_exophone_error)
