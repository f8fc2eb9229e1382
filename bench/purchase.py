"""Purchases per second and the p99 latency of a purchase, by store and API processes.

For each store (SQLite file, PostgreSQL schema) and each number of API
processes (``exophone serve --workers N``, 1, 2 and 4 by default) one run:

1. a fresh database with three accounts and enough numbers for sale;
2. a real server on a free port (rate limit off, access log off);
3. a load generator in separate processes (asyncio + httpx, ``--concurrency``
   requests in flight in all), each request buying a different number, with
   an ``Idempotency-Key`` as the SDK sends one (``--keys off`` to leave it
   out); a warm-up second first, then ``--seconds`` measured;
4. a check in the database: every 200 answer is one owned number, owned by the
   account that bought it, and nothing else was sold (no double sale).

Run: ``.venv/bin/python -m bench.purchase`` (full size, for BENCHMARKS.md, on a
quiet machine) or ``--seconds 3 --workers 1`` for a quick look. PostgreSQL runs
need ``EXOPHONE_BENCH_POSTGRES_URL`` (else ``EXOPHONE_TEST_POSTGRES_URL``); a
fresh schema is made and dropped for each run. ``--json`` prints the results
as JSON; ``measure()`` returns them as data for other harnesses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
ACCOUNTS = 3
WARMUP_SECONDS = 1.0
# Numbers put up for sale per run: enough for this many purchases a second.
CEILING_PER_SECOND = 6_000


@dataclass(frozen=True, slots=True)
class Result:
    """One run: a store, a number of API processes, and what the load saw."""

    store: str
    processes: int
    idempotency_key: bool
    concurrency: int
    seconds: float
    purchases: int  # 200 answers in the measured window
    per_second: float
    p50_ms: float
    p99_ms: float
    failures: int  # anything but 200 in the measured window
    double_sales: int  # numbers the database and the answers disagree on


# -- the load generator: a separate process --------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadSpec:
    base_url: str
    accounts: list[tuple[str, str, str]]  # (sid, key, token)
    numbers: list[str]
    concurrency: int
    warmup: float
    seconds: float
    keys: bool


async def _load(spec: LoadSpec) -> dict[str, Any]:
    """Buy ``spec.numbers`` one by one from ``spec.concurrency`` tasks until time is up."""
    todo = iter(enumerate(spec.numbers))
    latencies: list[float] = []
    measured_failures = 0
    bought: list[tuple[str, str]] = []  # (account sid, number) of every 200, warm-up included
    failures: dict[str, int] = {}
    start = time.perf_counter()
    measure_from = start + spec.warmup
    stop_at = measure_from + spec.seconds
    limits = httpx.Limits(
        max_connections=spec.concurrency, max_keepalive_connections=spec.concurrency
    )
    async with httpx.AsyncClient(base_url=spec.base_url, limits=limits, timeout=30) as http:

        async def worker() -> None:
            nonlocal measured_failures
            for i, number in todo:
                sid, key, token = spec.accounts[i % len(spec.accounts)]
                headers = {"Idempotency-Key": str(uuid.uuid4())} if spec.keys else {}
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                try:
                    resp = await http.post(
                        f"/v2_beta/Accounts/{sid}/IncomingPhoneNumbers",
                        data={"PhoneNumber": number},
                        auth=(key, token),
                        headers=headers,
                    )
                    status = str(resp.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                done = time.perf_counter()
                if status == "200":
                    bought.append((sid, number))
                else:
                    failures[status] = failures.get(status, 0) + 1
                if sent >= measure_from and done <= stop_at:
                    if status == "200":
                        latencies.append(done - sent)
                    else:
                        measured_failures += 1

        await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
    return {
        "latencies": latencies,
        "measured_failures": measured_failures,
        "bought": bought,
        "failures": failures,
        "ran_out": time.perf_counter() < stop_at,
    }


def load_main(spec_file: str) -> None:
    """Entry point of a load process: read the spec, run, print the outcome as JSON."""
    raw = json.loads(Path(spec_file).read_text())
    spec = LoadSpec(**{**raw, "accounts": [tuple(a) for a in raw["accounts"]]})
    try:
        import uvloop

        outcome = uvloop.run(_load(spec))
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        outcome = asyncio.run(_load(spec))
    json.dump(outcome, sys.stdout)


# -- one run -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def _server(db_url: str, workers: int, log: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "EXOPHONE_RATE_LIMIT": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("EXOPHONE_DATABASE_URL", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "exophone", "serve", "--port", str(port),
             "--database-url", db_url, "--workers", str(workers), "--log-level", "warning"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text()}")
            try:
                httpx.get(f"{base_url}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def _database(store: str, tmp: Path) -> Iterator[str]:
    if store == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    import psycopg

    base = os.environ.get("EXOPHONE_BENCH_POSTGRES_URL") or os.environ.get(
        "EXOPHONE_TEST_POSTGRES_URL"
    )
    if not base:
        raise SystemExit("PostgreSQL runs need EXOPHONE_BENCH_POSTGRES_URL")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}?schema={schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _prepare(db_url: str, count: int) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Accounts and ``count`` numbers for sale; returns credentials and the numbers."""
    from exophone.config import Settings
    from exophone.service import accounts, inventory, numbers
    from exophone.service.context import Context
    from exophone.store import open_store

    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        creds = [accounts.create_account(ctx, f"Bench {i}", f"bench{i}") for i in range(ACCOUNTS)]
        inventory.generate_numbers(ctx, "IN", "Mobile", count, seed=1)
        found = numbers.search(ctx, "IN", "Mobile", limit=count)
    finally:
        ctx.store.close()
    return [(c.account_sid, c.key, c.token) for c in creds], [n.phone_number for n in found]


def _double_sales(db_url: str, bought: list[tuple[str, str]]) -> int:
    """Numbers where the database and the 200 answers disagree on the owner."""
    from exophone.config import Settings
    from exophone.domain.model import NumberStatus
    from exophone.service.context import Context
    from exophone.store import open_store

    claimed: dict[str, str] = {}
    wrong = 0
    for sid, number in bought:
        if number in claimed:  # two 200 answers for one number
            wrong += 1
        claimed[number] = sid
    ctx = Context(store=open_store(db_url), settings=Settings(database_url=db_url))
    try:
        with ctx.store.transaction() as repo:
            owned = repo.count_numbers(NumberStatus.OWNED)
            for number, sid in claimed.items():
                row = repo.get_number(number)
                if row is None or row.account_sid != sid:
                    wrong += 1
    finally:
        ctx.store.close()
    return wrong + abs(owned - len(claimed))


def _percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def run_one(
    store: str,
    processes: int,
    *,
    seconds: float,
    concurrency: int,
    loaders: int,
    keys: bool,
) -> Result:
    """One measured run on a fresh database and a fresh server."""
    wanted = int(CEILING_PER_SECOND * (seconds + WARMUP_SECONDS)) + 1_000
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        with _database(store, tmp) as db_url:
            creds, numbers = _prepare(db_url, wanted)
            with _server(db_url, processes, tmp / "server.log") as base_url:
                outcomes = _run_loaders(
                    tmp, base_url, creds, numbers, concurrency, loaders, seconds, keys
                )
            bought = [(b[0], b[1]) for o in outcomes for b in o["bought"]]
            double = _double_sales(db_url, bought)
    latencies = [x for o in outcomes for x in o["latencies"]]
    if any(o["ran_out"] for o in outcomes):
        print(f"warning: {store} x{processes} ran out of numbers", file=sys.stderr)
    for o in outcomes:
        for status, count in o["failures"].items():
            print(f"note: {store} x{processes}: {count} answers {status}", file=sys.stderr)
    return Result(
        store=store,
        processes=processes,
        idempotency_key=keys,
        concurrency=concurrency,
        seconds=seconds,
        purchases=len(latencies),
        per_second=round(len(latencies) / seconds, 1),
        p50_ms=round(_percentile(latencies, 0.50) * 1000, 2),
        p99_ms=round(_percentile(latencies, 0.99) * 1000, 2),
        failures=sum(o["measured_failures"] for o in outcomes),
        double_sales=double,
    )


def _run_loaders(
    tmp: Path,
    base_url: str,
    creds: list[tuple[str, str, str]],
    numbers: list[str],
    concurrency: int,
    loaders: int,
    seconds: float,
    keys: bool,
) -> list[dict[str, Any]]:
    procs: list[subprocess.Popen[str]] = []
    for i in range(loaders):
        spec = LoadSpec(
            base_url=base_url,
            accounts=creds,
            numbers=numbers[i::loaders],
            concurrency=max(1, concurrency // loaders),
            warmup=WARMUP_SECONDS,
            seconds=seconds,
            keys=keys,
        )
        spec_file = tmp / f"load-{i}.json"
        spec_file.write_text(json.dumps(asdict(spec)))
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.purchase", "--load", str(spec_file)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    outcomes = []
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + WARMUP_SECONDS + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed with exit code {proc.returncode}")
        outcomes.append(json.loads(out))
    return outcomes


def measure(
    stores: Sequence[str] = ("sqlite", "postgresql"),
    processes: Sequence[int] = (1, 2, 4),
    *,
    seconds: float = 10.0,
    concurrency: int = 64,
    loaders: int = 1,
    keys: bool = True,
) -> list[Result]:
    """Every (store, processes) run, in order; the results as data."""
    return [
        run_one(store, n, seconds=seconds, concurrency=concurrency, loaders=loaders, keys=keys)
        for store in stores
        for n in processes
    ]


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table, for BENCHMARKS.md."""
    lines = [
        "| store | API processes | purchases/s | p50 ms | p99 ms | failures | double sales |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.store} | {r.processes} | {r.per_second:,.0f} | {r.p50_ms} | {r.p99_ms}"
            f" | {r.failures} | {r.double_sales} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2,4", help="API processes per run, e.g. 1,2,4")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--loaders", type=int, default=1, help="load generator processes")
    parser.add_argument("--keys", choices=("on", "off"), default="on", help="Idempotency-Key")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--load", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load:
        load_main(args.load)
        return
    results = measure(
        [s.strip() for s in args.stores.split(",") if s.strip()],
        [int(w) for w in args.workers.split(",")],
        seconds=args.seconds,
        concurrency=args.concurrency,
        loaders=args.loaders,
        keys=args.keys == "on",
    )
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(
            f"{args.seconds:g} s per run, {args.concurrency} requests in flight,"
            f" Idempotency-Key {args.keys}, {os.cpu_count()} cores"
        )
        print(table(results))
    if any(r.double_sales for r in results):
        sys.exit("double sales found")


if __name__ == "__main__":
    main()
