"""The web dashboard, served by the API process at ``/dashboard``.

Server-rendered pages (Jinja2 templates in ``templates/``) enhanced by htmx
(``static/htmx.min.js``, vendored from the npm package ``htmx.org``, 0BSD
licence) and one hand-written stylesheet: no build step, no CDN, works
offline. Every page also works without JavaScript.

- ``account``: sign in with account SID, API key and token; my numbers;
  configure and release a number. ``shop``: find and buy numbers.
- ``operator``: the inventory at a glance and accounts and keys, behind the
  admin token.
- ``web``: what pages share (session, CSRF, errors, rendering); ``session``:
  the signed cookie; ``charts``: inline SVG bar charts; ``text``: words for
  people; ``static``: the two static files.
"""

from __future__ import annotations

from typing import Any

from exophone.dashboard import account, operator, shop
from exophone.dashboard.session import PATH, Session
from exophone.dashboard.static import StaticFile
from exophone.dashboard.web import Dashboard, Page, Request, Response
from exophone.domain.errors import NotFound
from exophone.service.context import Context


class _Missing(Page):
    """Unknown dashboard paths answer a page, not the API's JSON envelope."""

    async def get(self, req: Request, resp: Response, session: Session, **_: Any) -> None:
        raise NotFound(f"There is no page at {req.path}.")


def install(app: Any, ctx: Context) -> None:
    """Add the dashboard's routes to the Falcon app."""
    dash = Dashboard(ctx)
    routes: dict[str, Page] = {
        "": account.Home(dash),
        "/signin": account.SignIn(dash),
        "/signout": account.SignOut(dash),
        "/numbers": account.Numbers(dash),
        "/numbers/{sid}": account.NumberPage(dash),
        "/numbers/{sid}/release": account.Release(dash),
        "/find": shop.Find(dash),
        "/find/regions": shop.Regions(dash),
        "/buy": shop.Buy(dash),
        "/admin": operator.Inventory(dash),
        "/admin/signin": operator.AdminSignIn(dash),
        "/admin/accounts": operator.Accounts(dash),
        "/admin/accounts/{sid}": operator.AccountPage(dash),
        "/admin/accounts/{sid}/keys": operator.Keys(dash),
        "/admin/accounts/{sid}/keys/{key}/rotate": operator.Rotate(dash),
    }
    for path, page in routes.items():
        app.add_route(PATH + path, page)
    app.add_route(f"{PATH}/static/{{name}}", StaticFile())
    missing = _Missing(dash)

    async def sink(req: Request, resp: Response, **params: Any) -> None:
        await dash.run(missing.get, req, resp, {})

    app.add_sink(sink, prefix=f"{PATH}/")
