"""Get one number on exophone against the ceiling of a bare ASGI app, in one run.

Each server runs alone on core 0 (one uvicorn process, httptools, uvloop, no
access log); wrk runs on core 1 with 32 connections.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent
CONNECTIONS = 32
DURATION = os.environ.get("BENCH_DURATION", "10s")


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and os.cpu_count() != 1 else []


def serve(
    target: str, port: int, env: dict[str, str], factory: bool = False
) -> subprocess.Popen[bytes]:
    cmd = [*_pin(0), sys.executable, "-m", "uvicorn", target, "--port", str(port),
           "--no-access-log", "--log-level", "warning",
           "--loop", "uvloop", "--http", "httptools"]  # fmt: skip
    if factory:
        cmd.append("--factory")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


def wrk(url: str, header: str | None = None) -> tuple[float, str]:
    cmd = [*_pin(1), "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url]
    if header:
        cmd[-1:-1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out)
    return rps, p99.group(1) if p99 else "?"


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    from exophone.config import Settings
    from exophone.service import accounts, inventory, numbers
    from exophone.service.context import Context
    from exophone.store import open_store

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.db'}"
    ctx = Context(store=open_store(url), settings=Settings(database_url=url))
    creds = accounts.create_account(ctx, "Bench", "bench")
    inventory.generate_numbers(ctx, "IN", "Landline", 10_000, seed=1)
    with ctx.store.transaction() as repo:
        from exophone.domain.model import SearchQuery
        from exophone.domain.numbers import NumberType

        first = repo.search(SearchQuery("IN", NumberType.LANDLINE, limit=1))[0]
    bought = numbers.buy(ctx, "bench", first.phone_number)
    ctx.store.close()
    auth = (
        "Authorization: Basic " + base64.b64encode(f"{creds.key}:{creds.token}".encode()).decode()
    )
    # One account at full speed: the rate limit (200 a minute) off, as in bench/purchase.py;
    # docs/operations.md gives what the limiter and the access log cost.
    env = {**os.environ, "EXOPHONE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    env["EXOPHONE_RATE_LIMIT"] = "0"
    path = f"/v2_beta/Accounts/bench/IncomingPhoneNumbers/{bought.sid}"
    results: list[tuple[str, float, str]] = []
    for name, target, factory, header in (
        ("bare ASGI (ceiling)", "bare_asgi:app", False, None),
        ("Falcon route, no work", "falcon_hello:app", False, None),
        ("exophone GET one number", "exophone.api.asgi:create_app_from_env", True, auth),
    ):
        proc = serve(target, 8765, env, factory)
        try:
            wrk(f"http://127.0.0.1:8765{path}", header)  # warm up
            rps, p99 = wrk(f"http://127.0.0.1:8765{path}", header)
        finally:
            proc.terminate()
            proc.wait()
        results.append((name, rps, p99))
    ceiling = results[0][1]
    print(f"| server | requests/s | share of ceiling | p99 at {CONNECTIONS} connections |")
    print("|---|---:|---:|---:|")
    for name, rps, p99 in results:
        print(f"| {name} | {rps:,.0f} | {rps / ceiling:.0%} | {p99} |")


if __name__ == "__main__":
    main()
