"""The ``Idempotency-Key`` header on purchases and releases, around their responders.

A responder that takes the header is decorated with ``@recorded`` and, once
it knows the account and the parameters, asks ``await replayed(...)``:

    @idempotency.recorded
    async def on_post(self, req, resp, sid):
        account = await self.authenticate(req, sid)
        params = await body_params(req, ...)
        if await idempotency.replayed(self.ctx, req, resp, account, params):
            return
        ...

Without the header nothing changes. With it, ``replayed`` either fills the
response with the first answer to this key (and the responder returns) or
takes the key for this request; ``recorded`` then stores the answer the
responder gave, success or error alike, so a retry gets the same status and
body. An unexpected failure (a 5xx) is not stored: the key is given up and a
retry runs the request anew.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import falcon
import falcon.asgi

from exophone.api.errors import rest_exception
from exophone.domain.errors import ExophoneError
from exophone.service import idempotency
from exophone.service.context import Context

HEADER = "Idempotency-Key"
# Set on an answer that repeats the first answer to its key (as Stripe does).
REPLAYED_HEADER = "Idempotent-Replayed"

log = logging.getLogger("exophone.api")


class HasContext(Protocol):
    ctx: Context


P = ParamSpec("P")
R = TypeVar("R", bound=HasContext)
Responder = Callable[Concatenate[R, falcon.asgi.Request, falcon.asgi.Response, P], Awaitable[None]]


async def replayed(
    ctx: Context,
    req: falcon.asgi.Request,
    resp: falcon.asgi.Response,
    account_sid: str,
    params: dict[str, str],
) -> bool:
    """True when ``resp`` now holds the first answer to the request's key.

    Otherwise the request goes ahead (holding its key, if it has one).
    """
    header = req.get_header(HEADER)
    if header is None:
        return False
    key = idempotency.check_key(header)
    digest = idempotency.fingerprint(req.method, req.path, params)
    outcome = await ctx.store.write(idempotency.begin, ctx, account_sid, key, digest)
    if isinstance(outcome, idempotency.Replay):
        resp.status = outcome.status
        resp.content_type = falcon.MEDIA_JSON
        resp.data = outcome.body.encode()
        resp.set_header(REPLAYED_HEADER, "true")
        return True
    req.context.idempotency_claim = outcome
    return False


def recorded(responder: Responder[R, P]) -> Responder[R, P]:
    """Store the answer of a responder that took an idempotency key (see ``replayed``)."""

    @functools.wraps(responder)
    async def wrapper(
        self: R,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        try:
            await responder(self, req, resp, *args, **kwargs)
        except ExophoneError as exc:
            if exc.status < 500:
                await _finish(self.ctx, req, exc.status, rest_exception(exc.status, exc.message))
            else:
                await _abandon(self.ctx, req)
            raise
        except BaseException:
            await _abandon(self.ctx, req)
            raise
        else:
            if not getattr(req.context, "idempotency_recorded", False):
                status = falcon.http_status_to_code(resp.status)
                await _finish(self.ctx, req, status, resp.data or b"")

    return wrapper


def claim_of(req: falcon.asgi.Request) -> idempotency.Claim | None:
    """The key this request holds, for a service to record its answer in its own
    transaction; the request then counts as recorded."""
    claim = _claim(req)
    if claim is not None:
        req.context.idempotency_recorded = True
    return claim


async def _finish(ctx: Context, req: falcon.asgi.Request, status: int, body: bytes) -> None:
    claim = _claim(req)
    if claim is None:
        return
    try:
        await ctx.store.write(idempotency.finish, ctx, claim, status, body.decode())
    except Exception:
        # The answer still goes out; the key stays unfinished and a retry
        # after STALE_AFTER_US runs the request again.
        log.exception("could not record the answer to Idempotency-Key %r", claim.key)


async def _abandon(ctx: Context, req: falcon.asgi.Request) -> None:
    claim = _claim(req)
    if claim is None:
        return
    try:
        # Shielded: a request cancelled mid-way still gives its key up.
        await asyncio.shield(ctx.store.write(idempotency.abandon, ctx, claim))
    except Exception:
        log.exception("could not give up Idempotency-Key %r", claim.key)


def _claim(req: falcon.asgi.Request) -> idempotency.Claim | None:
    claim: idempotency.Claim | None = getattr(req.context, "idempotency_claim", None)
    return claim
