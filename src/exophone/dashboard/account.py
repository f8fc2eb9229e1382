"""An account's pages: sign in and out, my numbers, a number's settings, release.

Every page calls the service layer directly (``exophone.service``), the same
functions the API calls, so the rules and error messages are the API's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from exophone.dashboard import history, text
from exophone.dashboard.session import PATH, Session
from exophone.dashboard.web import Page, Redirect, Request, Response, caller, form, safe_next
from exophone.domain.errors import BadRequest, ExophoneError
from exophone.domain.model import Changes, Number
from exophone.domain.validation import flow_url, friendly_name
from exophone.service import accounts, numbers

PAGE_SIZES = (25, 50, 100)
SORT_LABELS = {
    "number": "Number",
    "name": "Friendly name",
    "country": "Country",
    "type": "Type",
    "region": "Region",
    "bought": "Bought",
}
NUMBERS = f"{PATH}/numbers"


class Home(Page):
    """``/dashboard``: wherever the session belongs."""

    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        if session.signed_in:
            raise Redirect(NUMBERS)
        if session.operator is not None:
            raise Redirect(f"{PATH}/admin")
        raise Redirect(f"{PATH}/signin")


class SignIn(Page):
    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        target = safe_next(req.get_param("next"), NUMBERS)
        if session.signed_in:
            raise Redirect(target)
        self.render(
            req, resp, session, "signin.html", values={}, errors={}, problem=None, next=target
        )

    async def post(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        data = form(req)
        values = {k: data.get(k, "").strip() for k in ("account_sid", "api_key")}
        token = data.get("api_token", "").strip()
        target = safe_next(data.get("next"), NUMBERS)
        errors = {}
        if not values["account_sid"]:
            errors["account_sid"] = "Enter your account SID."
        if not values["api_key"]:
            errors["api_key"] = "Enter your API key."
        if not token:
            errors["api_token"] = "Enter your API token."  # noqa: S105 - a message
        problem = None
        if not errors:
            try:
                await self.ctx.store.read(
                    accounts.authenticate, self.ctx, values["api_key"], token, values["account_sid"]
                )
            except ExophoneError as exc:
                problem, status = _sign_in_problem(exc), exc.status
            else:
                session.sign_in(values["account_sid"], values["api_key"])
                session.say(f"Signed in to account {values['account_sid']}.")
                raise Redirect(target)
        # The token is never written back into the page.
        self.render(
            req,
            resp,
            session,
            "signin.html",
            values=values,
            errors=errors,
            problem=problem,
            next=target,
            status=422 if errors else status,
        )


def _sign_in_problem(exc: ExophoneError) -> str:
    if exc.status == 401:
        return (
            "Sign-in failed: the API key and token do not match an active key of an active"
            " account. Check them (the token is shown only when a key is created) and try again."
        )
    if exc.status == 403:
        return "That API key belongs to another account: check the account SID."
    return text.humane(exc.message)


class SignOut(Page):
    async def post(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        session.sign_out()
        session.say("Signed out.")
        raise Redirect(f"{PATH}/signin")


@dataclass(frozen=True, slots=True)
class Listing:
    """What the numbers table shows and how to ask for another view of it."""

    q: str
    sort: str
    descending: bool
    page: int  # 1-based, as people count
    size: int

    def link(self, **changes: Any) -> str:
        params = {
            "q": self.q,
            "sort": self.sort,
            "dir": "desc" if self.descending else "asc",
            "page": self.page,
            "size": self.size,
        }
        params.update(changes)
        if not params["q"]:
            del params["q"]
        return f"{NUMBERS}?{urlencode(params)}"

    def sort_link(self, column: str) -> str:
        descending = not self.descending if column == self.sort else column == "bought"
        return self.link(sort=column, dir="desc" if descending else "asc", page=1)


def _listing(req: Request) -> Listing:
    """The table's view from the query string; anything odd falls back to the default."""
    sort = req.get_param("sort") or "bought"
    if sort not in SORT_LABELS:
        sort = "bought"
    size = _whole(req.get_param("size"), 50)
    return Listing(
        q=(req.get_param("q") or "").strip()[:64],
        sort=sort,
        descending=(req.get_param("dir") or "asc") == "desc",
        page=max(1, min(_whole(req.get_param("page"), 1), 1_000_000)),
        size=size if size in PAGE_SIZES else 50,
    )


def _whole(value: str | None, default: int) -> int:
    return int(value) if value is not None and value.isdigit() and len(value) < 9 else default


class Numbers(Page):
    """``/dashboard/numbers``: the account's numbers, paged, sorted and filtered."""

    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        account = self.dash.require_account(req, session)
        view = _listing(req)
        rows, total = await self.ctx.store.read(
            numbers.browse,
            self.ctx,
            account,
            text=view.q,
            order=view.sort,
            descending=view.descending,
            page=view.page - 1,
            page_size=view.size,
        )
        pages = max(1, -(-total // view.size))
        if view.page > pages and total:
            raise Redirect(view.link(page=pages))
        self.render(
            req,
            resp,
            session,
            "numbers.html",
            rows=rows,
            total=total,
            view=view,
            pages=pages,
            columns=SORT_LABELS,
            sizes=PAGE_SIZES,
        )


class NumberPage(Page):
    """``/dashboard/numbers/{sid}``: a number's details and settings."""

    async def get(self, req: Request, resp: Response, session: Session, sid: str) -> None:
        account = self.dash.require_account(req, session)
        number = await self.ctx.store.read(numbers.get, self.ctx, account, sid)
        await self._show(req, resp, session, number, _settings(number), {})

    async def post(self, req: Request, resp: Response, session: Session, sid: str) -> None:
        account = self.dash.require_account(req, session)
        data = form(req)
        values = {k: data.get(k, "") for k in ("friendly_name", "voice_url", "sms_url")}
        errors: dict[str, str] = {}
        name = check(errors, "friendly_name", lambda: friendly_name(values["friendly_name"]))
        voice = check(errors, "voice_url", lambda: flow_url("Voice URL", values["voice_url"]))
        sms = check(errors, "sms_url", lambda: flow_url("SMS URL", values["sms_url"]))
        if errors:
            number = await self.ctx.store.read(numbers.get, self.ctx, account, sid)
            await self._show(req, resp, session, number, values, errors, status=422)
            return
        # Empty fields clear a URL and give the friendly name back its default, as in the API.
        changes = Changes(friendly_name=name or "", voice_url=voice or "", sms_url=sms or "")
        updated = await self.ctx.store.write(
            numbers.update, self.ctx, account, sid, changes, caller(req, session)
        )
        session.say(f"Saved the settings of {text.phone(updated.phone_number)}.")
        raise Redirect(f"{NUMBERS}/{sid}")

    async def _show(
        self,
        req: Request,
        resp: Response,
        session: Session,
        number: Number,
        values: dict[str, str],
        errors: dict[str, str],
        status: int = 200,
    ) -> None:
        events = await history.of_number(self.ctx, number)
        self.render(
            req,
            resp,
            session,
            "number.html",
            number=number,
            values=values,
            errors=errors,
            events=events,
            status=status,
        )


def _settings(number: Number) -> dict[str, str]:
    return {
        "friendly_name": number.friendly_name or "",
        "voice_url": number.voice_url or "",
        "sms_url": number.sms_url or "",
    }


def check(errors: dict[str, str], field: str, check: Any) -> str | None:
    try:
        value: str | None = check()
    except BadRequest as exc:
        errors[field] = text.humane(exc.message)
        return None
    return value


class Release(Page):
    """``/dashboard/numbers/{sid}/release``: confirm, then give the number back."""

    async def get(self, req: Request, resp: Response, session: Session, sid: str) -> None:
        account = self.dash.require_account(req, session)
        number = await self.ctx.store.read(numbers.get, self.ctx, account, sid)
        aging = text.duration(self.ctx.settings.aging_period)
        self.render(req, resp, session, "release.html", number=number, aging=aging)

    async def post(self, req: Request, resp: Response, session: Session, sid: str) -> None:
        account = self.dash.require_account(req, session)
        number = await self.ctx.store.read(numbers.get, self.ctx, account, sid)
        await self.ctx.store.write(numbers.release, self.ctx, account, sid, caller(req, session))
        session.say(f"Released {text.phone(number.phone_number)}. It is no longer yours.")
        raise Redirect(NUMBERS)
