"""A dashboard client: httpx against the app in-process, with a cookie jar and form helpers."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from exophone.api import create_app
from exophone.domain.model import NewApiKey
from tests.conftest import ADMIN_TOKEN, World

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Site:
    """A browser without JavaScript: GETs, form POSTs with the page's CSRF token, cookies."""

    def __init__(self, world: World, app: Any, base_url: str) -> None:
        self.world = world
        self._loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base_url)
        self.csrf = ""

    def close(self) -> None:
        self._loop.run_until_complete(self.client.aclose())
        self._loop.close()

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        resp = self._loop.run_until_complete(self.client.request(method, url, **kw))
        found = CSRF.search(resp.text) if "html" in resp.headers.get("content-type", "") else None
        if found:
            self.csrf = found.group(1)
        return resp

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, data: dict[str, str], *, csrf: str | None = None) -> httpx.Response:
        """POST a form with the CSRF token of the last page shown (or the one given)."""
        token = self.csrf if csrf is None else csrf
        return self.request("POST", url, data={"csrf_token": token, **data})

    def follow(self, resp: httpx.Response) -> httpx.Response:
        assert resp.status_code == 303, (resp.status_code, resp.text[:500])
        return self.get(resp.headers["location"])

    def sign_in(self, creds: NewApiKey | None = None) -> httpx.Response:
        creds = creds or self.world.acme
        self.get("/dashboard/signin")
        resp = self.post(
            "/dashboard/signin",
            {"account_sid": creds.account_sid, "api_key": creds.key, "api_token": creds.token},
        )
        assert resp.status_code == 303, resp.text
        return self.follow(resp)

    def sign_in_operator(self) -> httpx.Response:
        self.get("/dashboard/admin/signin")
        resp = self.post("/dashboard/admin/signin", {"admin_token": ADMIN_TOKEN})
        assert resp.status_code == 303, resp.text
        return self.follow(resp)


@pytest.fixture
def site(world: World) -> Iterator[Site]:
    """The dashboard over https (so the cookie is Secure), operator pages turned on."""
    world.ctx.settings = world.ctx.settings.with_(admin_token=ADMIN_TOKEN)
    s = Site(world, create_app(world.ctx), "https://testserver")
    yield s
    s.close()


class _Text(HTMLParser):
    """Rows of the first table body, and the text of elements with a given class."""

    def __init__(self, css_class: str | None) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.classed: list[str] = []
        self._css_class = css_class
        self._in_body = self._in_cell = False
        self._depth = 0
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag in ("td", "th"):
            self._in_cell, self._buf = True, []
        classes = (dict(attrs).get("class") or "").split()
        if self._css_class in classes and self._depth == 0:
            self._depth, self._buf = 1, []
        elif self._depth:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif self._in_cell and tag in ("td", "th"):
            self.rows[-1].append(" ".join("".join(self._buf).split()))
            self._in_cell = False
        if self._depth:
            self._depth -= 1
            if self._depth == 0:
                self.classed.append(" ".join("".join(self._buf).split()))

    def handle_data(self, data: str) -> None:
        if self._in_cell or self._depth:
            self._buf.append(data)


def table_rows(page: str) -> list[list[str]]:
    parser = _Text(None)
    parser.feed(page)
    return parser.rows


def texts(page: str, css_class: str) -> list[str]:
    """The text of every element with this class (``error``, ``flash``, ``problem``...)."""
    parser = _Text(css_class)
    parser.feed(page)
    return parser.classed


def input_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return None if found is None else html.unescape(found.group(1))


def links(page: str, pattern: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(rf'href="({pattern}[^"]*)"', page)]
