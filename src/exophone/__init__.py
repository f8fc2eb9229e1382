"""exophone: a self-hostable phone-number service speaking Exotel's ExoPhone API (v2_beta)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from exophone.client import AsyncClient, Client

__all__ = ["AsyncClient", "Client", "__version__"]

_LAZY = frozenset({"Client", "AsyncClient"})


def __getattr__(name: str) -> Any:
    # The SDK is imported on first use, so `import exophone` (the server, the
    # command line) does not pay for httpx.
    if name in _LAZY:
        from exophone import client

        return getattr(client, name)
    raise AttributeError(f"module 'exophone' has no attribute {name!r}")
