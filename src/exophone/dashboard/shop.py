"""Shopping for numbers: search what is for sale, then buy after seeing the price.

``/dashboard/find`` searches like ``AvailablePhoneNumbers`` (Contains takes
vanity letters); ``/dashboard/buy`` states the one-time price and the monthly
rental before anything is bought, and buys through ``service.numbers.buy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from exophone.dashboard import text
from exophone.dashboard.account import NUMBERS, check
from exophone.dashboard.session import PATH, Session
from exophone.dashboard.web import Page, Redirect, Request, Response, caller, form, safe_next
from exophone.domain.errors import BadRequest, ExophoneError
from exophone.domain.model import Number
from exophone.domain.numbers import NumberType
from exophone.domain.patterns import contains_to_like, keypad_digits
from exophone.domain.regions import IN_CIRCLES, region_codes
from exophone.domain.validation import friendly_name
from exophone.service import numbers


@dataclass(frozen=True, slots=True)
class Search:
    country: str
    number_type: str
    region: str
    contains: str
    sms: bool

    def link(self) -> str:
        params = {
            "country": self.country,
            "type": self.number_type,
            "region": self.region,
            "pattern": self.contains,
            "sms": "on" if self.sms else "",
        }
        return f"{PATH}/find?{urlencode({k: v for k, v in params.items() if v})}"


def region_choices(country: str) -> list[tuple[str, str]]:
    """(code, label) of the regions numbers of a country can be in."""
    return [
        (code, f"{IN_CIRCLES[code].name} ({code})" if code in IN_CIRCLES else code)
        for code in region_codes(country)
    ]


class Find(Page):
    """``/dashboard/find``: search the numbers for sale; results once the form is sent."""

    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        self.dash.require_account(req, session)
        countries = await self.ctx.store.read(numbers.countries, self.ctx)
        default = "IN" if "IN" in countries or not countries else countries[0]
        search = Search(
            country=(req.get_param("country") or default).strip().upper()[:2],
            number_type=req.get_param("type") or "",
            region=(req.get_param("region") or "").strip().upper()[:3],
            contains=(req.get_param("pattern") or "").strip()[:32],
            sms=req.get_param("sms") in ("on", "true", "1"),
        )
        errors: dict[str, str] = {}
        problem = None
        results: list[Number] | None = None
        digits = ""
        if search.number_type:
            if search.contains:
                try:
                    contains_to_like(search.contains)
                    digits = keypad_digits(search.contains)
                except BadRequest as exc:
                    errors["pattern"] = text.humane(exc.message)
            if not errors:
                try:
                    results = await self.ctx.store.read(
                        numbers.search,
                        self.ctx,
                        search.country,
                        search.number_type,
                        region=search.region or None,
                        sms_only=search.sms,
                        contains=search.contains or None,
                        limit=self.ctx.settings.page_size,
                    )
                except ExophoneError as exc:
                    problem = text.humane(exc.message)
        self.render(
            req,
            resp,
            session,
            "find.html",
            search=search,
            countries=countries,
            types=[t.value for t in NumberType],
            regions=region_choices(search.country),
            results=results,
            errors=errors,
            problem=problem,
            digits=digits,
            limit=self.ctx.settings.page_size,
            status=422 if errors or problem else 200,
        )


class Regions(Page):
    """``/dashboard/find/regions?country=XX``: the region menu of a country, for htmx."""

    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        self.dash.require_account(req, session)
        country = (req.get_param("country") or "IN").strip().upper()[:2]
        self.dash.fragment(resp, "find_regions.html", regions=region_choices(country), selected="")


class Buy(Page):
    """``/dashboard/buy?number=...``: the price, stated before anything is bought."""

    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        self.dash.require_account(req, session)
        wanted = req.get_param("number") or ""
        if not wanted:
            raise Redirect(f"{PATH}/find")
        number = await self.ctx.store.read(numbers.for_sale, self.ctx, wanted)
        back = safe_next(req.get_param("back"), f"{PATH}/find")
        self.render(
            req,
            resp,
            session,
            "buy.html",
            number=number,
            back=back,
            values={"friendly_name": ""},
            errors={},
        )

    async def post(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        account = self.dash.require_account(req, session)
        data = form(req)
        wanted = data.get("number", "")
        back = safe_next(data.get("back"), f"{PATH}/find")
        values = {"friendly_name": data.get("friendly_name", "")}
        errors: dict[str, str] = {}
        name = check(errors, "friendly_name", lambda: friendly_name(values["friendly_name"]))
        if errors:
            number = await self.ctx.store.read(numbers.for_sale, self.ctx, wanted)
            self.render(
                req,
                resp,
                session,
                "buy.html",
                number=number,
                back=back,
                values=values,
                errors=errors,
                status=422,
            )
            return
        bought = await self.ctx.store.write(
            numbers.buy, self.ctx, account, wanted, friendly_name=name, caller=caller(req, session)
        )
        session.say(
            f"You bought {text.phone(bought.phone_number)}: "
            f"{text.money(bought.one_time_price, bought.currency)} once and "
            f"{text.money(bought.rental_price, bought.currency)} a month."
        )
        raise Redirect(f"{NUMBERS}/{bought.sid}")
