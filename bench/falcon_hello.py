"""The framework alone: one Falcon ASGI route with two path parameters."""

from __future__ import annotations

import falcon.asgi
import orjson


class Hello:
    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, sid: str, ref: str
    ) -> None:
        resp.data = orjson.dumps({"sid": sid, "ref": ref})


app = falcon.asgi.App()
app.add_route("/v2_beta/Accounts/{sid}/IncomingPhoneNumbers/{ref}", Hello())
