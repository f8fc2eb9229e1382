"""What every dashboard page shares: templates, the session, CSRF, redirects and error pages.

Each page is a ``Page`` with ``get`` and/or ``post``; ``Dashboard.run`` wraps
them: it reads and re-checks the session, refuses a POST whose CSRF token
does not match the session's, turns any exophone error into a page that says
what went wrong in words, and writes the session cookie and the security
headers on the way out.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any
from urllib.parse import urlencode

import falcon
import falcon.asgi
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context as JinjaContext

from exophone.api.params import body_params
from exophone.dashboard import static, text
from exophone.dashboard.session import COOKIE, LIFETIME, PATH, Session, SessionCodec
from exophone.domain.errors import ExophoneError, Forbidden, MethodNotAllowed, NotFound
from exophone.domain.model import Caller
from exophone.domain.regions import country_name
from exophone.service import accounts
from exophone.service.context import Context

Request = falcon.asgi.Request
Response = falcon.asgi.Response
Handler = Callable[..., Awaitable[None]]

CSRF_REFUSED = (
    "This form was sent without the page's security token, or from another site, so"
    " nothing was changed. Reload the page and try again."
)
SESSION_ENDED = (
    "Your session has ended: the API key was revoked or the account disabled. Sign in again."
)
log = logging.getLogger("exophone.dashboard")

UNEXPECTED = "Something went wrong on our side. It has been logged; try again in a moment."

TITLES = {
    400: "That did not work",
    401: "Sign-in failed",
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    409: "Not possible right now",
    413: "Too much data",
    415: "Unexpected form",
    429: "Too many requests",
    503: "The database is not reachable",
}
# No script or style from anywhere but this server, and no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Redirect(Exception):
    """Answer ``303 See Other`` to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@cache
def environment() -> Environment:
    """The templates, compiled once per process, whichever app renders them."""
    env = Environment(
        loader=PackageLoader("exophone.dashboard", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        money=text.money,
        phone=text.phone,
        when=_when,
        country_name=country_name,
        region_name=text.region_name,
        status_name=text.status_name,
        type_name=text.type_name,
    )
    env.globals.update(static=static.url, query=urlencode)
    return env


@pass_context
def _when(context: JinjaContext, micros: int | None) -> str:
    """A time in the server's zone (``tz`` of the page's values)."""
    return text.when(micros, context["tz"])


class Dashboard:
    """The dashboard's shared parts, bound to the service context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.codec = SessionCodec(ctx.settings.secret_key)
        self.templates = environment()

    @property
    def operator_enabled(self) -> bool:
        return self.ctx.settings.admin_token is not None

    # -- the life of a request ---------------------------------------------

    async def run(self, handler: Handler, req: Request, resp: Response, params: Any) -> None:
        started = time.perf_counter()
        values = req.get_cookie_values(COOKIE)
        session = self.codec.load(values[0] if values else None)
        try:
            await self._recheck(session)
            if req.method == "POST":
                form = await body_params(req, self.ctx.settings.max_body_bytes)
                if not session.csrf_ok(form.get("csrf_token")):
                    raise Forbidden(CSRF_REFUSED)
                req.context.form = form
            await handler(req, resp, session, **params)
        except Redirect as redirect:
            resp.status = falcon.HTTP_303
            resp.location = redirect.location
        except ExophoneError as exc:
            self.render(
                req,
                resp,
                session,
                "error.html",
                status=exc.status,
                title=TITLES.get(exc.status, "Something went wrong"),
                message=text.humane(exc.message),
            )
        except falcon.HTTPError:
            raise  # the framework's own answers (none of the pages raise one today)
        except Exception:
            # A page, not the API's JSON envelope; the details go to the log only.
            log.exception("unexpected error on %s %s", req.method, req.path)
            self.render(
                req,
                resp,
                session,
                "error.html",
                status=500,
                title="Something went wrong",
                message=UNEXPECTED,
            )
        self._finish(req, resp, session, started)

    async def _recheck(self, session: Session) -> None:
        """End the parts of a session whose key, account or admin token no longer hold."""
        if session.account_sid is not None and session.api_key is not None:
            active = await self.ctx.store.read(
                accounts.key_active, self.ctx, session.api_key, session.account_sid
            )
            if not active:
                session.drop_account()
                session.say(SESSION_ENDED)
        if session.operator is not None:
            token = self.ctx.settings.admin_token
            if token is None or not _same(self.codec.operator_mark(token), session.operator):
                session.drop_operator()

    def _finish(self, req: Request, resp: Response, session: Session, started: float) -> None:
        if session.changed or session.fresh:
            resp.set_cookie(
                COOKIE,
                self.codec.dump(session),
                max_age=LIFETIME,
                path=PATH,
                secure=req.forwarded_scheme == "https",
                http_only=True,
                same_site="Lax",
            )
        resp.set_headers(SECURITY_HEADERS)
        elapsed = (time.perf_counter() - started) * 1000
        resp.set_header("Server-Timing", f"app;dur={elapsed:.1f}")

    # -- answers -----------------------------------------------------------

    def render(
        self,
        req: Request,
        resp: Response,
        session: Session,
        template: str,
        *,
        status: int = 200,
        **values: Any,
    ) -> None:
        page = self.templates.get_template(template)
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        resp.text = page.render(
            session=session,
            csrf=session.csrf,
            flash=session.take_flash(),
            path=req.path,
            operator_enabled=self.operator_enabled,
            tz=self.ctx.settings.tz,
            **values,
        )

    def fragment(self, resp: Response, template: str, **values: Any) -> None:
        """A piece of a page, for htmx to swap in (no session, no layout)."""
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.templates.get_template(template).render(**values)

    def require_account(self, req: Request, session: Session) -> str:
        """The signed-in account's SID, or a redirect to the sign-in page."""
        if session.account_sid is None or session.api_key is None:
            raise Redirect(f"{PATH}/signin?{urlencode({'next': req.relative_uri})}")
        return session.account_sid

    def require_operator_enabled(self) -> str:
        """The admin token, or a 404 page saying how to turn the operator pages on."""
        token = self.ctx.settings.admin_token
        if token is None:
            raise NotFound(
                "The operator pages are off: start the server with --admin-token"
                " (or EXOPHONE_ADMIN_TOKEN) to turn them on."
            )
        return token

    def require_operator(self, req: Request, session: Session) -> None:
        self.require_operator_enabled()
        if session.operator is None:
            raise Redirect(f"{PATH}/admin/signin?{urlencode({'next': req.relative_uri})}")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def caller(req: Request, session: Session) -> Caller:
    """Who makes a change, for the number's audit trail: the session's key and the request id."""
    return Caller(session.api_key, getattr(req.context, "request_id", None))


def form(req: Request) -> dict[str, str]:
    """The POSTed form of this request (read and CSRF-checked by ``Dashboard.run``)."""
    data: dict[str, str] = req.context.form
    return data


def safe_next(target: str | None, default: str) -> str:
    """A place to go after signing in: only a path of the dashboard, never another site."""
    if target and target.startswith(PATH) and not target.startswith("//") and "\\" not in target:
        return target
    return default


class Page:
    """A dashboard resource: subclasses define ``get`` and/or ``post``.

    They take ``(req, resp, session, **route_params)``; a method a page does
    not define answers a 405 page.
    """

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash
        self.ctx = dash.ctx

    async def on_get(self, req: Request, resp: Response, **params: Any) -> None:
        await self.dash.run(self._handler("get"), req, resp, params)

    async def on_post(self, req: Request, resp: Response, **params: Any) -> None:
        await self.dash.run(self._handler("post"), req, resp, params)

    def _handler(self, method: str) -> Handler:
        handler: Handler | None = getattr(self, method, None)
        if handler is not None:
            return handler

        async def refuse(req: Request, resp: Response, session: Session, **_: Any) -> None:
            raise MethodNotAllowed(f"{req.path} takes no {method.upper()} requests")

        return refuse

    def render(
        self, req: Request, resp: Response, session: Session, template: str, **values: Any
    ) -> None:
        self.dash.render(req, resp, session, template, **values)
