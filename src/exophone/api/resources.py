"""One Falcon resource per path of the reference; each responder is parse, call, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import falcon
import falcon.asgi
import orjson

from exophone.api import idempotency, wire
from exophone.api.middleware import admit
from exophone.api.params import basic_credentials, body_params, bool_param, int_param, query
from exophone.domain.errors import BadRequest
from exophone.domain.model import Caller, Changes, Number
from exophone.domain.regions import country_name
from exophone.domain.validation import flow_url, friendly_name
from exophone.service import accounts, numbers
from exophone.service.context import Context


class Resource:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def authenticate(self, req: falcon.asgi.Request, account_sid: str) -> str:
        """Check Basic credentials against the account in the path.

        Credentials this process verified recently are taken from its cache
        (``exophone.service.authcache``: exact about revocation), others are
        read from the database. On success ``req.context.account_sid`` and
        ``req.context.api_key`` name the caller, for logs, limits and the audit trail.
        """
        ctx = self.ctx
        cache = ctx.credentials
        header = req.get_header("Authorization") or ""
        if cache.enabled and not cache.fresh():
            await cache.refresh(partial(ctx.store.read, accounts.credentials_version, ctx))
        hit = cache.lookup(header)
        if hit is not None:
            key, sid = hit.key, hit.account_sid
            accounts.check_account(sid, account_sid)
        else:
            version = cache.version
            key, token = basic_credentials(req)
            sid = await ctx.store.read(accounts.authenticate, ctx, key, token, account_sid)
            cache.remember(header, key, sid, version)
        req.context.account_sid = sid
        req.context.api_key = key
        await admit(req, sid)
        return sid

    def caller(self, req: falcon.asgi.Request) -> Caller:
        """The API key and request id of an authenticated request, for the audit trail."""
        ctx = req.context
        return Caller(getattr(ctx, "api_key", None), getattr(ctx, "request_id", None))

    def page_size(self, req: falcon.asgi.Request) -> int:
        s = self.ctx.settings
        return int_param(req, ("PageSize", "page_size"), s.page_size, 1, s.max_page_size)


def _json(resp: falcon.asgi.Response, body: object, status: int = 200) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps(body)


class Countries(Resource):
    """GET /v2_beta/Accounts/{sid}/AvailablePhoneNumbers"""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str) -> None:
        await self.authenticate(req, sid)
        codes = await self.ctx.store.read(numbers.countries, self.ctx)
        _json(
            resp,
            {
                "uri": f"{wire.accounts_path(sid)}/AvailablePhoneNumbers",
                "countries": [wire.country_entry(sid, c, country_name(c)) for c in codes],
            },
        )


class Country(Resource):
    """GET /v2_beta/Accounts/{sid}/AvailablePhoneNumbers/{country}: one country's entry."""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str, country: str
    ) -> None:
        await self.authenticate(req, sid)
        code = await self.ctx.store.read(numbers.known_country, self.ctx, country)
        _json(resp, wire.country_entry(sid, code, country_name(code)))


class AvailableNumbers(Resource):
    """GET /v2_beta/Accounts/{sid}/AvailablePhoneNumbers/{country}/{type}"""

    async def on_get(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        sid: str,
        country: str,
        number_type: str,
    ) -> None:
        await self.authenticate(req, sid)
        found = await self.ctx.store.read(
            numbers.search,
            self.ctx,
            country,
            number_type,
            region=query(req, "InRegion"),
            sms_only=bool_param(req, "IncomingSMS"),
            voice_only=bool_param(req, "VoiceEnabled"),
            vanity_only=bool_param(req, "Vanity"),
            contains=query(req, "Contains"),
            limit=self.page_size(req),
        )
        _json(resp, [wire.available_number(n) for n in found])


class IncomingNumbers(Resource):
    """GET and POST /v2_beta/Accounts/{sid}/IncomingPhoneNumbers"""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str) -> None:
        account = await self.authenticate(req, sid)
        page = int_param(req, ("Page", "page"), 0, 0, self.ctx.settings.max_page)
        size = self.page_size(req)
        rows, more = await self.ctx.store.read(numbers.list_owned, self.ctx, account, page, size)
        _json(
            resp,
            wire.page_envelope(
                prefix=req.prefix,
                account_sid=sid,
                page=page,
                page_size=size,
                has_more=more,
                numbers=rows,
                tz=self.ctx.settings.tz,
            ),
        )

    @idempotency.recorded
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str) -> None:
        account = await self.authenticate(req, sid)
        params = await body_params(req, self.ctx.settings.max_body_bytes)
        idempotency.expect(self.ctx, req, account, params)
        phone = params.get("PhoneNumber", "").strip()
        if not phone:
            raise BadRequest("PhoneNumber is mandatory")
        changes = _changes(params)
        answered: list[bytes] = []

        def answer(number: Number) -> str:
            """The response body, recorded for the Idempotency-Key and then sent."""
            answered.append(orjson.dumps(wire.incoming_number(number, self.ctx.settings.tz)))
            return answered[-1].decode()

        bought = await idempotency.write(
            self.ctx,
            req,
            numbers.buy,
            self.ctx,
            account,
            phone,
            voice_url=changes.voice_url or None,
            sms_url=changes.sms_url or None,
            friendly_name=changes.friendly_name or None,
            caller=self.caller(req),
            answer=answer,
        )
        if answered:  # a retried transaction answers with its last attempt's body
            resp.content_type = falcon.MEDIA_JSON
            resp.data = answered[-1]
        else:
            _json(resp, wire.incoming_number(bought, self.ctx.settings.tz))


class IncomingNumber(Resource):
    """GET, PUT and DELETE /v2_beta/Accounts/{sid}/IncomingPhoneNumbers/{ref}"""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str, ref: str
    ) -> None:
        account = await self.authenticate(req, sid)
        found = await self.ctx.store.read(numbers.get, self.ctx, account, ref)
        _json(resp, wire.incoming_number(found, self.ctx.settings.tz))

    async def on_put(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str, ref: str
    ) -> None:
        account = await self.authenticate(req, sid)
        params = await body_params(req, self.ctx.settings.max_body_bytes)
        updated = await self.ctx.store.write(
            numbers.update, self.ctx, account, ref, _changes(params), self.caller(req)
        )
        _json(resp, wire.incoming_number(updated, self.ctx.settings.tz))

    @idempotency.recorded
    async def on_delete(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str, ref: str
    ) -> None:
        account = await self.authenticate(req, sid)
        idempotency.expect(self.ctx, req, account, {})
        await idempotency.write(
            self.ctx, req, numbers.release, self.ctx, account, ref, self.caller(req),
            answer=ACCEPTED_BODY,
        )  # fmt: skip
        _json(resp, wire.ACCEPTED, status=202)


ACCEPTED_BODY = orjson.dumps(wire.ACCEPTED).decode()


def _changes(params: dict[str, str]) -> Changes:
    """Validated VoiceUrl, SMSUrl and FriendlyName.

    An absent parameter is None (left alone); an empty one is "" (a URL is
    cleared, the friendly name goes back to its default).
    """
    voice = params.get("VoiceUrl")
    sms = params.get("SMSUrl")
    name = params.get("FriendlyName")
    return Changes(
        voice_url=_given(voice, lambda v: flow_url("VoiceUrl", v)),
        sms_url=_given(sms, lambda v: flow_url("SMSUrl", v)),
        friendly_name=_given(name, friendly_name),
    )


def _given(value: str | None, check: Callable[[str], str | None]) -> str | None:
    if value is None:
        return None
    return check(value) or ""
