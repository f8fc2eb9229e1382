"""The dashboard's two static files, served from memory with long-lived caching.

Only ``htmx.min.js`` (vendored from the npm package ``htmx.org``) and
``dashboard.css`` exist, so they are read once from the package and served by
a route of their own: pages link them with a content hash in the query
string, which lets browsers keep them for a year and still see a new version
at once. (Falcon's static route sends no Cache-Control, and a dashboard sink
would be matched before it.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import falcon
import falcon.asgi

FILES = {"htmx.min.js": "text/javascript", "dashboard.css": "text/css"}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


@cache
def assets() -> dict[str, Asset]:
    folder = resources.files("exophone.dashboard") / "static"
    out = {}
    for name, content_type in FILES.items():
        body = (folder / name).read_bytes()
        out[name] = Asset(body, f"{content_type}; charset=utf-8", hashlib.sha256(body).hexdigest())
    return out


def url(name: str) -> str:
    return f"/dashboard/static/{name}?v={assets()[name].etag[:12]}"


class StaticFile:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        asset = assets().get(name)
        if asset is None:
            resp.status = falcon.HTTP_404
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = "Not found"
            return
        resp.set_header("Cache-Control", "public, max-age=31536000, immutable")
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.etag = asset.etag
        wanted = req.if_none_match or ()
        if asset.etag in wanted or "*" in wanted:
            resp.status = falcon.HTTP_304
            return
        resp.content_type = asset.content_type
        resp.data = asset.body
