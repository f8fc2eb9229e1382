"""Real `exophone` server processes on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text()


def start_server(tmp_path: Path, db_url: str, *args: str) -> ServerProcess:
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("EXOPHONE_DATABASE_URL", None)
    handle = log.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "exophone", "serve", "--port", str(port),
         "--database-url", db_url, *args],
        stdout=handle, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=1)
            return ServerProcess(proc, base_url, log)
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start:\n{log.read_text()}")


def stop(server: ServerProcess) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    started: list[ServerProcess] = []

    def _serve(db_url: str, *args: str) -> ServerProcess:
        server = start_server(tmp_path, db_url, *args)
        started.append(server)
        return server

    yield _serve
    for server in started:
        stop(server)
