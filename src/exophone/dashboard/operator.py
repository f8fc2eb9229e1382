"""The operator's pages (admin token): inventory at a glance, accounts and their API keys.

Off unless the server has an admin token (``--admin-token`` or
``EXOPHONE_ADMIN_TOKEN``); the operator signs in with that token once and the
session cookie then carries a keyed digest of it, never the token itself.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from exophone.dashboard import charts, text
from exophone.dashboard.session import PATH, Session
from exophone.dashboard.web import Page, Redirect, Request, Response, form, safe_next
from exophone.domain.errors import BadRequest, ExophoneError
from exophone.domain.model import AccountStatus, NewApiKey
from exophone.domain.regions import country_name
from exophone.service import accounts, authcache, inventory

ADMIN = f"{PATH}/admin"
SALES_DAYS = 30


class AdminSignIn(Page):
    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        self.dash.require_operator_enabled()
        target = safe_next(req.get_param("next"), ADMIN)
        if session.operator is not None:
            raise Redirect(target)
        self.render(req, resp, session, "admin/signin.html", problem=None, next=target)

    async def post(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        token = self.dash.require_operator_enabled()
        data = form(req)
        target = safe_next(data.get("next"), ADMIN)
        given = data.get("admin_token", "").strip()
        if given and hmac.compare_digest(given.encode(), token.encode()):
            session.sign_in_operator(self.dash.codec.operator_mark(token))
            session.say("Signed in as the operator.")
            raise Redirect(target)
        problem = (
            "Enter the admin token." if not given else "That is not this server's admin token."
        )
        self.render(
            req,
            resp,
            session,
            "admin/signin.html",
            problem=problem,
            next=target,
            status=422 if not given else 401,
        )


@dataclass
class Tally:
    """Counts by status of one group (a country, a type, a region)."""

    label: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Overview:
    statuses: list[str]
    totals: dict[str, int]
    by_country: list[Tally]
    by_type: list[Tally]
    by_region: list[Tally]

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def overview(rows: list[tuple[str, str, str, str, int]]) -> Overview:
    """Counts by country, type, region and status from the inventory's groups."""
    totals: dict[str, int] = defaultdict(int)
    groups: dict[str, dict[Any, Tally]] = {"country": {}, "type": {}, "region": {}}
    for country, number_type, region, status, count in rows:
        totals[status] += count
        keys = {
            "country": (country, f"{country_name(country)} ({country})"),
            "type": (number_type, text.type_name(number_type)),
            "region": ((country, region), _region_label(country, region)),
        }
        for name, (key, label) in keys.items():
            tally = groups[name].setdefault(key, Tally(label))
            tally.counts[status] = tally.counts.get(status, 0) + count
    order = ["available", "owned", "aging"]
    statuses = [s for s in order if s in totals] + sorted(s for s in totals if s not in order)
    return Overview(
        statuses=statuses or ["available", "owned"],
        totals=dict(totals),
        by_country=sorted(groups["country"].values(), key=lambda t: t.label),
        by_type=sorted(groups["type"].values(), key=lambda t: t.label),
        by_region=sorted(groups["region"].values(), key=lambda t: (-t.total, t.label)),
    )


def _region_label(country: str, region: str) -> str:
    name = text.region_name(country, region)
    return name if region == country else f"{name} ({region})"


class Inventory(Page):
    """``/dashboard/admin``: the inventory at a glance, with two charts."""

    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        self.dash.require_operator(req, session)
        rows = await self.ctx.store.read(inventory.stats, self.ctx)
        days = await self.ctx.store.read(inventory.sales_by_day, self.ctx, SALES_DAYS)
        view = overview(rows)
        for_sale = [(t.label, t.counts.get("available", 0)) for t in view.by_region]
        for_sale = sorted((r for r in for_sale if r[1]), key=lambda r: (-r[1], r[0]))
        self.render(
            req,
            resp,
            session,
            "admin/inventory.html",
            view=view,
            for_sale=charts.horizontal(for_sale),
            sales=charts.daily(days),
            sales_total=sum(n for _, n in days),
            sales_days=SALES_DAYS,
        )


class Accounts(Page):
    """``/dashboard/admin/accounts``: every account, and a form to create one."""

    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        self.dash.require_operator(req, session)
        await self._show(req, resp, session, {"name": "", "sid": ""}, None)

    async def post(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        self.dash.require_operator(req, session)
        data = form(req)
        values = {"name": data.get("name", "").strip(), "sid": data.get("sid", "").strip()}
        try:
            created = await self.ctx.store.write(
                accounts.create_account, self.ctx, values["name"], values["sid"] or None
            )
        except ExophoneError as exc:
            await self._show(req, resp, session, values, text.humane(exc.message), exc.status)
            return
        _show_credentials(self, req, resp, session, created, "The account is ready.")

    async def _show(
        self,
        req: Request,
        resp: Response,
        session: Session,
        values: dict[str, str],
        problem: str | None,
        status: int = 200,
    ) -> None:
        rows = await self.ctx.store.read(accounts.list_accounts, self.ctx)
        self.render(
            req,
            resp,
            session,
            "admin/accounts.html",
            accounts=rows,
            values=values,
            problem=problem,
            status=status,
        )


def _show_credentials(
    page: Page, req: Request, resp: Response, session: Session, created: NewApiKey, title: str
) -> None:
    page.render(req, resp, session, "admin/credentials.html", created=created, title=title)


class AccountPage(Page):
    """``/dashboard/admin/accounts/{sid}``: an account, its keys; disable or enable it."""

    async def get(self, req: Request, resp: Response, session: Session, sid: str) -> None:
        self.dash.require_operator(req, session)
        account = await self.ctx.store.read(accounts.require_account, self.ctx, sid)
        keys = await self.ctx.store.read(accounts.list_keys, self.ctx, sid)
        self.render(req, resp, session, "admin/account.html", account=account, keys=keys)

    async def post(self, req: Request, resp: Response, session: Session, sid: str) -> None:
        self.dash.require_operator(req, session)
        try:
            status = AccountStatus(form(req).get("status", ""))
        except ValueError:
            raise BadRequest("Choose to enable or disable the account.") from None
        await self.ctx.store.write(accounts.set_status, self.ctx, sid, status)
        await authcache.settle()
        done = "enabled" if status is AccountStatus.ACTIVE else "disabled: its keys stop working"
        session.say(f"Account {sid} {done}.")
        raise Redirect(f"{ADMIN}/accounts/{sid}")


class Keys(Page):
    """``/dashboard/admin/accounts/{sid}/keys``: add a key (shown once)."""

    async def get(self, req: Request, resp: Response, session: Session, sid: str) -> None:
        raise Redirect(f"{ADMIN}/accounts/{sid}")

    async def post(self, req: Request, resp: Response, session: Session, sid: str) -> None:
        self.dash.require_operator(req, session)
        label = form(req).get("label", "").strip()[:64]
        created = await self.ctx.store.write(accounts.create_key, self.ctx, sid, label)
        _show_credentials(self, req, resp, session, created, "A new API key")


class Rotate(Page):
    """``/dashboard/admin/accounts/{sid}/keys/{key}/rotate``: confirm, then replace the key."""

    async def get(self, req: Request, resp: Response, session: Session, sid: str, key: str) -> None:
        self.dash.require_operator(req, session)
        await self.ctx.store.read(accounts.require_account, self.ctx, sid)
        self.render(req, resp, session, "admin/rotate.html", sid=sid, key=key)

    async def post(
        self, req: Request, resp: Response, session: Session, sid: str, key: str
    ) -> None:
        self.dash.require_operator(req, session)
        created = await self.ctx.store.write(accounts.rotate_key, self.ctx, sid, key)
        await authcache.settle()
        _show_credentials(self, req, resp, session, created, f"Key {key} is replaced")
