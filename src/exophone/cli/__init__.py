"""The ``exophone`` command line: serve the API, manage accounts and inventory."""

from __future__ import annotations

from exophone.cli.main import cli, main

__all__ = ["cli", "main"]
