"""The thin HTTP layer: parse, authenticate, call a service, render the wire shape.

``create_app(ctx)`` builds the Falcon ASGI application; ``exophone.api.asgi``
builds one from the environment for uvicorn.
"""

from __future__ import annotations

from exophone.api.app import create_app

__all__ = ["create_app"]
