"""The mock servers people use today, installed from npm and fed the same data as exophone.

Prism serves our own OpenAPI document (its examples, validating requests and
their Basic credentials); json-server 0.17 serves a ``db.json`` holding the
same numbers in our wire shapes, with routes that map our URLs onto its
collections, so the very same requests go to each. Both are pinned in
``bench/peers/package-lock.json`` and installed with ``npm ci`` on first use.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import BENCH, ROOT, SERVER_CORE, BenchError, pinned

PEERS = BENCH / "peers"
BIN = PEERS / "node_modules" / ".bin"
OPENAPI = ROOT / "src" / "exophone" / "data" / "openapi.json"
PREFIX = "/v2_beta/Accounts/:sid"
# Our URLs onto json-server's collections, in order: the first rule that matches wins.
ROUTES = {
    f"{PREFIX}/AvailablePhoneNumbers": "/countries",
    f"{PREFIX}/AvailablePhoneNumbers/:country/:type\\?Contains=:contains": (
        "/available?country=:country&number_type=:type&phone_number_like=:contains&_limit=50"
    ),
    f"{PREFIX}/AvailablePhoneNumbers/:country/:type": (
        "/available?country=:country&number_type=:type&_limit=50"
    ),
    f"{PREFIX}/IncomingPhoneNumbers\\?Page=:page&PageSize=:size": (
        "/numbers?account_sid=:sid&_page=:page&_limit=:size"
    ),
    f"{PREFIX}/IncomingPhoneNumbers": "/numbers",
    f"{PREFIX}/IncomingPhoneNumbers/:ref": "/numbers/:ref",
}


def install() -> None:
    """``npm ci`` the pinned peers once; a clear error where npm is missing."""
    if (BIN / "prism").exists() and (BIN / "json-server").exists():
        return
    if not shutil.which("npm"):
        raise BenchError("npm is not installed (the peers come from npm): apt-get install npm")
    subprocess.run(
        ["npm", "ci", "--prefix", str(PEERS), "--no-audit", "--no-fund", "--loglevel=error"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def versions() -> dict[str, str]:
    found = {}
    for label, package in (("Prism", "@stoplight/prism-cli"), ("json-server", "json-server")):
        manifest = PEERS / "node_modules" / package / "package.json"
        found[label] = json.loads(manifest.read_text())["version"] if manifest.exists() else "-"
    return found


def prism(port: int) -> list[str]:
    """Prism as its documentation starts it: static examples, default logging."""
    return [
        *pinned(SERVER_CORE),
        str(BIN / "prism"),
        "mock",
        str(OPENAPI),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def json_server(folder: Path, port: int) -> list[str]:
    """json-server as its documentation starts it, on the files :func:`write_db` wrote."""
    return [
        *pinned(SERVER_CORE),
        str(BIN / "json-server"),
        str(folder / "db.json"),
        "--routes",
        str(folder / "routes.json"),
        "--id",
        "sid",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def write_db(
    folder: Path,
    countries: dict[str, Any],
    owned: Sequence[dict[str, Any]],
    available: Sequence[dict[str, Any]],
) -> None:
    """json-server's ``db.json`` (our wire shapes) and ``routes.json`` (our URLs) in ``folder``.

    json-server rewrites ``db.json`` on every write, as its users see it do.
    """
    folder.mkdir(parents=True, exist_ok=True)
    db = {"countries": countries, "numbers": list(owned), "available": list(available)}
    (folder / "db.json").write_text(json.dumps(db))
    (folder / "routes.json").write_text(json.dumps(ROUTES, indent=2))
