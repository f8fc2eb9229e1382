"""The OpenAPI document of the wire shapes, and human-readable API docs made from it.

Both are served without authentication and without any external asset, so
the docs work offline.
"""

from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources
from typing import Any

import falcon
import falcon.asgi
import orjson


@lru_cache(maxsize=1)
def openapi_bytes() -> bytes:
    return (resources.files("exophone") / "data" / "openapi.json").read_bytes()


def openapi() -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(openapi_bytes())
    return doc


class OpenAPIDocument:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = openapi_bytes()


class DocsPage:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = docs_html()


_METHODS = ("get", "post", "put", "delete")


@lru_cache(maxsize=1)
def docs_html() -> bytes:
    doc = openapi()
    info = doc.get("info", {})
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(info.get('title', 'API'))}</title>",
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#1a1a1a}code,pre{font:14px ui-monospace,monospace;"
        "background:#f4f4f4}pre{padding:.75rem;overflow:auto}h2{border-top:1px solid #ddd;"
        "padding-top:1rem}.m{font-weight:bold;text-transform:uppercase;margin-right:.5rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;"
        "text-align:left;vertical-align:top}</style></head><body>",
        f"<h1>{_e(info.get('title', 'API'))} <small>{_e(info.get('version', ''))}</small></h1>",
        f"<p>{_e(info.get('description', ''))}</p>",
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a></p>",
    ]
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            parts.append(f"<h2><span class='m'>{method}</span><code>{_e(path)}</code></h2>")
            parts.append(f"<p>{_e(op.get('summary', ''))}</p>")
            if op.get("description"):
                parts.append(f"<p>{_e(op['description'])}</p>")
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            if params:
                parts.append("<table><tr><th>Parameter</th><th>In</th><th>Description</th></tr>")
                for p in params:
                    p = _deref(doc, p)
                    parts.append(
                        f"<tr><td><code>{_e(p.get('name', ''))}</code></td>"
                        f"<td>{_e(p.get('in', ''))}</td>"
                        f"<td>{_e(p.get('description', ''))}</td></tr>"
                    )
                parts.append("</table>")
            parts.append("<p>Responses:</p><ul>")
            for status, response in op.get("responses", {}).items():
                response = _deref(doc, response)
                parts.append(
                    f"<li><code>{_e(status)}</code> {_e(response.get('description', ''))}</li>"
                )
            parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts).encode()


def _deref(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = doc
    for key in ref[2:].split("/"):
        target = target[key]
    return dict(target)


def _e(text: object) -> str:
    return html.escape(str(text))
