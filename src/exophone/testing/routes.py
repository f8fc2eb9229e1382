"""The control API of a test-mode server, under ``/_exophone``.

Every request carries ``Authorization: Bearer <test token>``; errors answer
in the RestException envelope like the ExoPhone API. Bodies are JSON (or
form data, for curl). The guide is docs/testing.md.

    GET    /_exophone                       what test mode holds now
    POST   /_exophone/reset                 empty everything; clock and sids restart
    POST   /_exophone/accounts              {sid, name, api_key, api_token}
    POST   /_exophone/accounts/{sid}/reset  its numbers back on sale, its other rows gone
    POST   /_exophone/numbers               {country, number_type, region, count} or {numbers}
    GET    /_exophone/journal               ?method path account_sid status fault since limit
    DELETE /_exophone/journal
    GET    /_exophone/faults
    POST   /_exophone/faults                {method, path, status, message, retry_after,
                                             delay, drop, times, rate}
    DELETE /_exophone/faults, DELETE /_exophone/faults/{id}
    GET    /_exophone/clock
    POST   /_exophone/clock/{action}        freeze {at}, set {at}, advance {seconds}, resume, reset
    POST   /_exophone/ids                   {seed}: sids start again from this seed
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import falcon
import falcon.asgi
import orjson

from exophone.api import params
from exophone.api.wire import format_date
from exophone.domain.errors import BadRequest, NotFound, Unauthorized
from exophone.service import accounts
from exophone.testing.harness import PREFIX, Harness
from exophone.testing.journal import Filter
from exophone.testing.seeding import seed_account, seed_numbers

FAULT_FIELDS = ("method", "path", "status", "message", "retry_after", "delay", "drop", "times",
                "rate")  # fmt: skip
MAX_SECONDS = 100 * 366 * 86_400


class Fields:
    """Typed reading of a JSON (or form) body; unknown fields are a 400, not ignored."""

    def __init__(self, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise BadRequest(
                f"Unknown field(s) {', '.join(unknown)[:200]}; allowed: {', '.join(allowed)}"
            )
        self.data = data

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str, default: str | None = None, max_length: int = 500) -> str | None:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, str) or len(value) > max_length:
            raise BadRequest(f"{name} must be a string of at most {max_length} characters")
        return value

    def whole(self, name: str, default: int | None = None) -> int | None:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**53:
            raise BadRequest(f"{name} must be a whole number")
        return value

    def number(self, name: str, default: float | None = None) -> float | None:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise BadRequest(f"{name} must be a number") from None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise BadRequest(f"{name} must be a number")
        return float(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if not isinstance(value, bool):
            raise BadRequest(f"{name} must be true or false")
        return value

    def items(self, name: str) -> list[Any] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise BadRequest(f"{name} must be a list")
        return value


async def read_body(req: falcon.asgi.Request, limit: int) -> dict[str, Any]:
    """A control request's body: a JSON object (values keep their types), or form data."""
    raw = await params.read_body(req, limit)
    if not raw.strip():
        return {}
    if params.media_type(req) == params.FORM:
        try:
            pairs = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest("Request body is not valid form data") from exc
        return {k: v[0] if len(v) == 1 else v for k, v in pairs.items()}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("Request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    return data


class ControlResource:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.ctx = harness.ctx
        self._token = harness.token.encode()

    def check(self, req: falcon.asgi.Request) -> None:
        scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self._token
        ):
            raise Unauthorized("Control API: send Authorization: Bearer <test token>")

    async def body(self, req: falcon.asgi.Request, *allowed: str) -> Fields:
        self.check(req)
        return Fields(await read_body(req, self.ctx.settings.max_body_bytes), allowed)

    def answer(self, resp: falcon.asgi.Response, body: Any, status: int = 200) -> None:
        resp.status = status
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(body)

    def clock_view(self) -> dict[str, Any]:
        now = self.harness.clock.now_us()
        return {
            "now": _iso(now),
            "now_us": now,
            "local": format_date(now, self.ctx.settings.tz),
            "timezone": self.ctx.settings.timezone,
            "frozen": self.harness.clock.frozen,
        }


def _iso(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1_000_000, UTC).isoformat().replace("+00:00", "Z")


class Root(ControlResource):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.check(req)
        self.answer(resp, {
            "test_mode": True,
            "seed": self.harness.seed,
            "ids_seed": self.harness.ids.seed,
            "clock": self.clock_view(),
            "journal": len(self.harness.journal),
            "faults": [r.view() for r in self.harness.faults.rules()],
        })  # fmt: skip


class Reset(ControlResource):
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self.body(req)
        started = time.perf_counter()
        await self.ctx.store.write_bulk(self.ctx.store.reset)
        self.harness.reset()
        took = (time.perf_counter() - started) * 1000
        self.answer(resp, {"reset": "all", "took_ms": round(took, 3)})


class AccountReset(ControlResource):
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str) -> None:
        await self.body(req)
        await self.ctx.store.read(accounts.require_account, self.ctx, sid)
        await self.ctx.store.write_bulk(self.ctx.store.reset, sid)
        self.harness.journal.clear(sid)
        self.answer(resp, {"reset": "account", "account_sid": sid})


class Accounts(ControlResource):
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        f = await self.body(req, "sid", "name", "api_key", "api_token")
        created = await self.ctx.store.write_bulk(
            seed_account, self.ctx, f.text("sid", max_length=64), f.text("name", max_length=200),
            api_key=f.text("api_key"), api_token=f.text("api_token"),
        )  # fmt: skip
        self.answer(resp, {"account_sid": created.account_sid, "api_key": created.key,
                           "api_token": created.token}, status=201)  # fmt: skip


class Numbers(ControlResource):
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        f = await self.body(req, "country", "number_type", "region", "count", "numbers", "seed")
        seed: int | str | None = f.whole("seed")
        if seed is None:
            seed = self.harness.generation_seed()
        added = await self.ctx.store.write_bulk(
            seed_numbers, self.ctx, f.text("country", max_length=8),
            f.text("number_type", max_length=16), region=f.text("region", max_length=8),
            count=f.whole("count", 1) or 0, numbers=f.items("numbers"), seed=seed,
        )  # fmt: skip
        self.answer(resp, {"added": len(added), "numbers": added}, status=201)


class JournalEntries(ControlResource):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.check(req)
        f = Fields(dict(req.params), ("method", "path", "account_sid",
                   "status", "fault", "since", "limit"))  # fmt: skip
        where = Filter(
            method=f.text("method", max_length=10),
            path=f.text("path"),
            account_sid=f.text("account_sid", max_length=64),
            status=f.whole("status"),
            fault=f.text("fault", max_length=10),
            since=f.whole("since"),
            limit=f.whole("limit"),
        )
        if where.limit is not None and where.limit < 1:
            raise BadRequest("limit must be at least 1")
        entries = self.harness.journal.entries(where)
        self.answer(resp, {"entries": [e.view() for e in entries]})

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.check(req)
        self.harness.journal.clear()
        self.answer(resp, {"entries": []})


class FaultList(ControlResource):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.check(req)
        self.answer(resp, {"faults": [r.view() for r in self.harness.faults.rules()]})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        f = await self.body(req, *FAULT_FIELDS)
        rule = self.harness.faults.add(
            method=f.text("method", "*", max_length=10) or "*",
            path=f.text("path", "*", max_length=500) or "*",
            status=f.whole("status"),
            message=f.text("message"),
            retry_after=f.whole("retry_after"),
            delay=f.number("delay"),
            drop=f.flag("drop"),
            times=f.whole("times") if "times" in f.data else 1,
            rate=f.number("rate"),
        )
        self.answer(resp, rule.view(), status=201)

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.check(req)
        self.harness.faults.clear()
        self.answer(resp, {"faults": []})


class FaultItem(ControlResource):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, id: str) -> None:
        self.check(req)
        rule = self.harness.faults.get(id)
        if rule is None:
            raise NotFound(f"No fault {id!r}")
        self.answer(resp, rule.view())

    async def on_delete(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, id: str
    ) -> None:
        self.check(req)
        if not self.harness.faults.remove(id):
            raise NotFound(f"No fault {id!r}")
        self.answer(resp, {"Status": 202, "Message": "Accepted"}, status=202)


class Clock(ControlResource):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.check(req)
        self.answer(resp, self.clock_view())


class ClockAction(ControlResource):
    ACTIONS = ("freeze", "set", "advance", "resume", "reset")

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, action: str
    ) -> None:
        self.check(req)
        if action not in self.ACTIONS:
            raise NotFound(f"No clock action {action!r}; actions: {', '.join(self.ACTIONS)}")
        clock = self.harness.clock
        if action == "freeze":
            f = await self.body(req, "at")
            clock.freeze(self._instant(f) if f.has("at") else None)
        elif action == "set":
            f = await self.body(req, "at")
            if not f.has("at"):
                raise BadRequest("at is mandatory: an ISO 8601 time or seconds since the epoch")
            clock.set(self._instant(f))
        elif action == "advance":
            f = await self.body(req, "seconds")
            seconds = f.number("seconds")
            if seconds is None or abs(seconds) > MAX_SECONDS:
                raise BadRequest("seconds is mandatory: a number of seconds within 100 years")
            clock.advance(round(seconds * 1_000_000))
        else:
            await self.body(req)
            if action == "resume":
                clock.resume()
            else:
                clock.reset()
        self.answer(resp, self.clock_view())

    def _instant(self, f: Fields) -> int:
        """``at`` in microseconds: ISO 8601 (no offset: the server's zone) or epoch seconds."""
        value = f.data["at"]
        if isinstance(value, str) and not _is_number(value):
            try:
                when = datetime.fromisoformat(value.strip())
            except ValueError:
                raise BadRequest(f"at is not an ISO 8601 time: {value[:40]!r}") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=self.ctx.settings.tz)
            seconds = when.timestamp()
        else:
            seconds = f.number("at") or 0.0
        if abs(seconds) > MAX_SECONDS:
            raise BadRequest("at must lie within 100 years of 1970")
        return round(seconds * 1_000_000)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class Ids(ControlResource):
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        f = await self.body(req, "seed")
        self.harness.ids.reseed(f.whole("seed"))
        self.answer(resp, {"seed": self.harness.ids.seed})


def install(app: falcon.asgi.App[Any, Any], harness: Harness) -> None:
    app.add_route(PREFIX, Root(harness))
    app.add_route(f"{PREFIX}/reset", Reset(harness))
    app.add_route(f"{PREFIX}/accounts", Accounts(harness))
    app.add_route(f"{PREFIX}/accounts/{{sid}}/reset", AccountReset(harness))
    app.add_route(f"{PREFIX}/numbers", Numbers(harness))
    app.add_route(f"{PREFIX}/journal", JournalEntries(harness))
    app.add_route(f"{PREFIX}/faults", FaultList(harness))
    app.add_route(f"{PREFIX}/faults/{{id}}", FaultItem(harness))
    app.add_route(f"{PREFIX}/clock", Clock(harness))
    app.add_route(f"{PREFIX}/clock/{{action}}", ClockAction(harness))
    app.add_route(f"{PREFIX}/ids", Ids(harness))
