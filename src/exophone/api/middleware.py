"""What happens around every request: its id, its rate limit, its metrics and its log line.

``Observe`` is the first middleware of the application, so it sees every
answer, errors and unknown paths included:

- ``X-Request-Id``: a sane incoming id (1 to 128 of ``A-Z a-z 0-9 . _ : -``)
  is kept, anything else replaced by a fresh 32-hex id; it is set on
  ``req.context.request_id`` before routing and sent back on every answer.
- The rate limit: ``admit()``, called by ``Resource.authenticate`` once the
  caller is known, counts the request and raises ``RateLimited`` (429) past
  the limit; every authenticated answer carries ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (seconds until the
  window ends).
- Metrics by route template and status (``exophone.api.ops``) and one access
  log line (``exophone.api.observability``).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Mapping
from typing import Any

import falcon.asgi

from exophone.api.observability import REQUEST_ID, access_log, flush_access_log, log_request
from exophone.api.ops import Metrics
from exophone.domain.errors import RateLimited
from exophone.service.context import Context
from exophone.service.ratelimit import RateLimiter, limiter_for

REQUEST_ID_HEADER = "X-Request-Id"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(incoming: str | None) -> str:
    """The incoming id if it is sane, else a fresh one.

    Fresh ids are 128 random bits from ``random`` (re-seeded in forked
    children), not ``secrets``: an id names a request, it guards nothing, and
    the system call behind ``secrets`` cost 1% of a request.
    """
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return f"{random.getrandbits(128):032x}"


class Observe:
    """Falcon ASGI middleware: request id, rate-limit headers, metrics and the access log."""

    def __init__(self, ctx: Context) -> None:
        self.limiter: RateLimiter | None = limiter_for(ctx)
        self.metrics = Metrics()

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        rid = request_id(req.get_header(REQUEST_ID_HEADER))
        context = req.context
        context.request_id = rid
        context.started = time.perf_counter()
        context.limiter = self.limiter
        REQUEST_ID.set(rid)

    async def process_response(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        context = req.context
        rid: str = getattr(context, "request_id", None) or request_id(None)
        resp.set_header(REQUEST_ID_HEADER, rid)
        decision = getattr(context, "rate", None)
        if decision is not None:
            resp.set_header("X-RateLimit-Limit", str(decision.limit))
            resp.set_header("X-RateLimit-Remaining", str(decision.remaining))
            resp.set_header("X-RateLimit-Reset", str(decision.reset))
        seconds = time.perf_counter() - getattr(context, "started", time.perf_counter())
        status = resp.status_code
        self.metrics.observe(req.method, req.uri_template, status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            log_request(
                request_id=rid,
                account_sid=getattr(context, "account_sid", None),
                method=req.method,
                path=req.path,
                route=req.uri_template or "",
                status=status,
                seconds=seconds,
            )

    async def process_shutdown(self, scope: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        flush_access_log()
        if self.limiter is not None:
            await self.limiter.close()


async def admit(req: falcon.asgi.Request, account_sid: str) -> None:
    """Count an authenticated request against its account's limit; 429 past it."""
    limiter: RateLimiter | None = getattr(req.context, "limiter", None)
    if limiter is None:
        return
    decision = await limiter.admit(account_sid)
    req.context.rate = decision
    if not decision.allowed:
        raise RateLimited(
            f"Too many requests: the limit is {decision.limit} a minute for this account;"
            f" retry in {decision.reset} seconds",
            retry_after=decision.reset,
        )
