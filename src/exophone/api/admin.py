"""The admin HTTP API: accounts, keys and inventory, for scripts and the dashboard.

Mounted under ``/admin`` only when an admin token is configured
(``EXOPHONE_ADMIN_TOKEN`` or ``exophone serve --admin-token``); every request
carries it as ``Authorization: Bearer <token>``. Errors use the same
RestException envelope as the ExoPhone API.
"""

from __future__ import annotations

import hmac
from typing import Any

import falcon
import falcon.asgi
import orjson

from exophone.api.params import body_params
from exophone.api.wire import account_view, history_view, key_view
from exophone.domain.errors import BadRequest, Unauthorized
from exophone.domain.model import Account, AccountStatus, ApiKey, NewApiKey
from exophone.service import accounts, authcache, inventory, lifecycle
from exophone.service.context import Context

PREFIX = "/admin"


class AdminResource:
    def __init__(self, ctx: Context, token: str) -> None:
        self.ctx = ctx
        self._token = token.encode()

    def check(self, req: falcon.asgi.Request) -> None:
        scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self._token
        ):
            raise Unauthorized("Admin API: send Authorization: Bearer <admin token>")

    def answer(self, resp: falcon.asgi.Response, body: Any, status: int = 200) -> None:
        resp.status = status
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(body)

    def account(self, account: Account) -> dict[str, Any]:
        return account_view(account, self.ctx.settings.tz)

    def key(self, key: ApiKey) -> dict[str, Any]:
        return key_view(key, self.ctx.settings.tz)


def _credentials(created: NewApiKey) -> dict[str, str]:
    return {"account_sid": created.account_sid, "api_key": created.key, "api_token": created.token}


class Accounts(AdminResource):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.check(req)
        rows = await self.ctx.store.read(accounts.list_accounts, self.ctx)
        self.answer(resp, {"accounts": [self.account(a) for a in rows]})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.check(req)
        params = await body_params(req, self.ctx.settings.max_body_bytes)
        name = params.get("name", "")
        created = await self.ctx.store.write(
            accounts.create_account, self.ctx, name, params.get("sid") or None
        )
        self.answer(resp, _credentials(created), status=201)


class AccountItem(AdminResource):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str) -> None:
        self.check(req)
        account = await self.ctx.store.read(accounts.require_account, self.ctx, sid)
        keys = await self.ctx.store.read(accounts.list_keys, self.ctx, sid)
        self.answer(resp, {**self.account(account), "keys": [self.key(k) for k in keys]})

    async def on_patch(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str
    ) -> None:
        """Set ``status`` to ``active`` or ``disabled``."""
        self.check(req)
        params = await body_params(req, self.ctx.settings.max_body_bytes)
        try:
            status = AccountStatus(params.get("status", ""))
        except ValueError:
            raise BadRequest("status must be active or disabled") from None
        account = await self.ctx.store.write(accounts.set_status, self.ctx, sid, status)
        await authcache.settle()  # answered once every process obeys it
        self.answer(resp, self.account(account))


class Keys(AdminResource):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str) -> None:
        self.check(req)
        keys = await self.ctx.store.read(accounts.list_keys, self.ctx, sid)
        self.answer(resp, {"keys": [self.key(k) for k in keys]})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str) -> None:
        self.check(req)
        params = await body_params(req, self.ctx.settings.max_body_bytes)
        created = await self.ctx.store.write(
            accounts.create_key, self.ctx, sid, params.get("label", "")[:64]
        )
        self.answer(resp, _credentials(created), status=201)


class KeyItem(AdminResource):
    async def on_delete(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str, key: str
    ) -> None:
        self.check(req)
        await self.ctx.store.write(accounts.revoke_key, self.ctx, sid, key)
        await authcache.settle()  # answered once every process refuses the key
        self.answer(resp, {"Status": 202, "Message": "Accepted"}, status=202)


class Stats(AdminResource):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.check(req)
        rows = await self.ctx.store.read(inventory.stats, self.ctx)
        keys = ("country", "number_type", "region", "status", "count")
        self.answer(resp, {"groups": [dict(zip(keys, r, strict=True)) for r in rows]})


class Generate(AdminResource):
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Add ``count`` (1 to 100,000 a request) generated numbers for sale."""
        self.check(req)
        params = await body_params(req, self.ctx.settings.max_body_bytes)
        count = params.get("count", "")
        if not count.isdigit() or not 1 <= int(count) <= 100_000:
            raise BadRequest("count must be a whole number from 1 to 100000")
        region = params.get("region") or None
        added = await self.ctx.store.write_bulk(
            inventory.generate_numbers,
            self.ctx,
            params.get("country", "").upper(),
            params.get("number_type", ""),
            int(count),
            region=region.upper() if region else None,
        )
        self.answer(resp, {"added": added}, status=201)


class NumberHistory(AdminResource):
    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """A number's status and audit trail (E.164 or national form), oldest event first."""
        self.check(req)
        found = await self.ctx.store.read(lifecycle.history, self.ctx, number)
        self.answer(resp, history_view(found.number, found.events, self.ctx.settings.tz))


def install(app: falcon.asgi.App[Any, Any], ctx: Context, token: str) -> None:
    app.add_route(f"{PREFIX}/accounts", Accounts(ctx, token))
    app.add_route(f"{PREFIX}/accounts/{{sid}}", AccountItem(ctx, token))
    app.add_route(f"{PREFIX}/accounts/{{sid}}/keys", Keys(ctx, token))
    app.add_route(f"{PREFIX}/accounts/{{sid}}/keys/{{key}}", KeyItem(ctx, token))
    app.add_route(f"{PREFIX}/inventory/stats", Stats(ctx, token))
    app.add_route(f"{PREFIX}/inventory/generate", Generate(ctx, token))
    app.add_route(f"{PREFIX}/numbers/{{number}}/history", NumberHistory(ctx, token))
