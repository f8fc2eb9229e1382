"""The ``Idempotency-Key`` header on purchases and releases, around their responders.

A responder that takes the header is decorated with ``@recorded``; once it
knows the account and the parameters it calls ``expect(...)``, and it runs its
change with ``await write(...)``, which hands the service call the key's claim:

    @idempotency.recorded
    async def on_post(self, req, resp, sid):
        account = await self.authenticate(req, sid)
        params = await body_params(req, ...)
        idempotency.expect(self.ctx, req, account, params)
        ...
        await idempotency.write(self.ctx, req, numbers.buy, self.ctx, ..., answer=...)

Without the header nothing changes. With it, a key that another request of this
process is running with answers 409 at once (``expect``). Otherwise the service
call records the key with its answer in its own transaction. If the key is held
already, the change rolls back and ``begin`` decides: the response becomes the
first answer to the key (``Idempotent-Replayed: true``), a 422 or a 409, or the
request runs again holding the key. ``recorded`` stores an error answer the
responder gave too, so a retry gets the same status and body. An unexpected
failure (a 5xx) is not stored: a key taken by ``begin`` is given up and a retry
runs the request anew.
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
from exophone.domain.errors import ExophoneError, InProgress
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
T = TypeVar("T")
Responder = Callable[Concatenate[R, falcon.asgi.Request, falcon.asgi.Response, P], Awaitable[None]]


def expect(
    ctx: Context, req: falcon.asgi.Request, account_sid: str, params: dict[str, str]
) -> None:
    """Note the request's key, if it has one (a 400 for an unusable one), as a new claim.

    A key that a request of this process is still running with answers 409 (with
    ``Retry-After``) at once, and is not recorded: the retry a moment later gets the
    first answer. (A retry that reaches another process waits for the first one's
    change to commit, finds the key held and replays the answer.)
    """
    header = req.get_header(HEADER)
    if header is None:
        return
    key = idempotency.check_key(header)
    running = (account_sid, key)
    if running in ctx.keys_running:
        raise InProgress(
            f"A request with Idempotency-Key '{key}' is still in progress; retry it in a moment"
        )
    ctx.keys_running.add(running)
    req.context.idempotency_running = running
    digest = idempotency.fingerprint(req.method, req.path, params)
    req.context.idempotency_claim = idempotency.new_claim(ctx, account_sid, key, digest)


async def write(
    ctx: Context, req: falcon.asgi.Request, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``ctx.store.write(fn, ...)`` with ``claim=`` the request's claim, which ``fn``
    records with its answer in its transaction (``service.idempotency.record``).

    A key found held goes through ``begin``: its first answer is replayed, or
    the call runs again holding the key.
    """
    claim = _claim(req)
    if claim is None:
        return await ctx.store.write(fn, *args, **kwargs)
    req.context.idempotency_recorded = True
    try:
        return await ctx.store.write(fn, *args, **{**kwargs, "claim": claim})  # type: ignore[arg-type]
    except idempotency.KeyHeld:
        held = await _begin(ctx, req, claim)
        return await ctx.store.write(fn, *args, **{**kwargs, "claim": held})  # type: ignore[arg-type]


class _Replayed(Exception):  # not an error: the way out of the responder
    """The response is the first answer to the request's key."""

    def __init__(self, replay: idempotency.Replay) -> None:
        self.replay = replay


async def _begin(
    ctx: Context, req: falcon.asgi.Request, claim: idempotency.Claim
) -> idempotency.Claim:
    """``begin`` for a new claim found held: raises _Replayed with the first answer, or
    the 422 or 409 ``begin`` raises; else the request holds the key from now on."""
    outcome = await ctx.store.write(
        idempotency.begin, ctx, claim.account_sid, claim.key, claim.fingerprint
    )
    if isinstance(outcome, idempotency.Replay):
        raise _Replayed(outcome)
    req.context.idempotency_claim = outcome
    return outcome


def _replay(resp: falcon.asgi.Response, replay: idempotency.Replay) -> None:
    resp.status = replay.status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = replay.body.encode()
    resp.set_header(REPLAYED_HEADER, "true")


def recorded(responder: Responder[R, P]) -> Responder[R, P]:
    """Store the answer of a responder that took an idempotency key (see the module's
    docstring), and send the first answer to a key found held."""

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
            await _respond(self, req, resp, *args, **kwargs)
        finally:
            running = getattr(req.context, "idempotency_running", None)
            if running is not None:
                self.ctx.keys_running.discard(running)

    async def _respond(
        self: R,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        try:
            await responder(self, req, resp, *args, **kwargs)
        except _Replayed as replayed:
            _replay(resp, replayed.replay)
        except ExophoneError as exc:
            if exc.status >= 500:
                await _abandon(self.ctx, req)
                raise
            try:
                await _finish(self.ctx, req, exc.status, rest_exception(exc.status, exc.message))
            except _Replayed as replayed:  # a retry of a request that failed alike
                _replay(resp, replayed.replay)
                return
            raise
        except BaseException:
            await _abandon(self.ctx, req)
            raise
        else:
            if not getattr(req.context, "idempotency_recorded", False):
                status = falcon.http_status_to_code(resp.status)
                try:
                    await _finish(self.ctx, req, status, resp.data or b"")
                except _Replayed as replayed:
                    _replay(resp, replayed.replay)

    return wrapper


async def _finish(ctx: Context, req: falcon.asgi.Request, status: int, body: bytes) -> None:
    """Record an answer given apart from the service call's transaction.

    Raises _Replayed (or the 422 or 409 of ``begin``) when a new key was held already.
    """
    claim = _claim(req)
    if claim is None:
        return
    try:
        try:
            await ctx.store.write(idempotency.finish, ctx, claim, status, body.decode())
        except idempotency.KeyHeld:
            held = await _begin(ctx, req, claim)
            await ctx.store.write(idempotency.finish, ctx, held, status, body.decode())
    except (_Replayed, ExophoneError):
        raise
    except Exception:
        # The answer still goes out; the key stays unfinished and a retry
        # after STALE_AFTER_US runs the request again.
        log.exception("could not record the answer to Idempotency-Key %r", claim.key)


async def _abandon(ctx: Context, req: falcon.asgi.Request) -> None:
    claim = _claim(req)
    if claim is None or not claim.held:  # a new key was never held: nothing to give up
        return
    try:
        # Shielded: a request cancelled mid-way still gives its key up.
        await asyncio.shield(ctx.store.write(idempotency.abandon, ctx, claim))
    except Exception:
        log.exception("could not give up Idempotency-Key %r", claim.key)


def _claim(req: falcon.asgi.Request) -> idempotency.Claim | None:
    claim: idempotency.Claim | None = getattr(req.context, "idempotency_claim", None)
    return claim
