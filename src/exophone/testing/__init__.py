"""The test kit: exophone as the emulator teams test their Exotel integration against.

- ``serve()``: a real exophone server in a background thread on a free port,
  on a throwaway SQLite database, in test mode; usable without pytest.
- A pytest plugin (``exophone.testing.plugin``, registered by the ``pytest11``
  entry point): the fixtures ``exophone_server``, ``exophone_account``,
  ``exophone_client`` and ``exophone_seed``, the marker
  ``exophone_seed(...)``, and a reset before every test.
- Test mode of the server (``exophone serve --test-mode``): the control API
  under ``/_exophone`` (``routes``) to reset and seed state, read the journal
  of requests (``journal``), inject faults (``faults``), drive the clock
  (``clock``) and draw sids from a seed (``ids``); ``harness`` ties them to the
  application.
- ``Control``: Python helpers over that HTTP API, for any test-mode server.

The guide is docs/testing.md. Importing this package is cheap: the pytest
plugin loads in every test run of an environment where exophone is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exophone.testing.control import Control, Credentials, JournalEntry
    from exophone.testing.server import RunningServer, serve

__all__ = ["Control", "Credentials", "JournalEntry", "RunningServer", "serve"]

_HOMES = {
    "Control": "exophone.testing.control",
    "Credentials": "exophone.testing.control",
    "JournalEntry": "exophone.testing.control",
    "RunningServer": "exophone.testing.server",
    "serve": "exophone.testing.server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'exophone.testing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
